/* The mounted tree (see namespace.h).
 *
 * A lookup needs the listing of the parent source folder: names depend on
 * the whole folder (collisions).  Reading it costs one fstatat() per entry
 * (the probe of each file is cached per version by file-info.c), and `ls
 * -l` in a folder of N images makes N lookups: N^2 stats, 7 s for 1,000
 * images.  So a listing is used again for LISTING_TTL_NS after it was read,
 * while the folder itself is unchanged: adding, removing or renaming an
 * entry changes the folder's mtime, and shows at once.  Only a file that
 * turns into an image in place (a copy in progress starts as an empty
 * file) or stops being one shows late, by up to the TTL, as attributes do
 * in the kernel's own cache (attr_timeout, 1 s).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file-info.h"
#include "file-version.h"
#include "namespace.h"
#include "sparsefs.h"

static const char *const image_suffixes[] = {
  ".qcow2", ".img", ".vdi", ".vhd", ".vpc",
};
static const char raw_suffix[] = ".raw";

#define LISTING_TTL_NS 1000000000
#define KEPT_LISTINGS 16

/* One entry of a source folder that may be shown. */
struct entry {
  char *name;                   /* in the source folder */
  bool is_folder;
  char *short_name, *full_name; /* images: NAME.raw, FILENAME.raw */
  const char *shown;            /* name, short_name, full_name or NULL */
};

struct listing {
  struct entry *entries;
  size_t count, allocated;
};

/* ---- names ---------------------------------------------------------- */

static char *
with_raw_suffix (const char *name, size_t length)
{
  char *shown = malloc (length + sizeof raw_suffix);

  if (shown) {
    memcpy (shown, name, length);
    memcpy (shown + length, raw_suffix, sizeof raw_suffix);
  }
  return shown;
}

/* FILENAME without a known image suffix (if something is left), + .raw */
static char *
short_name_of (const char *name)
{
  size_t length = strlen (name), i, suffix;

  for (i = 0; i < sizeof image_suffixes / sizeof image_suffixes[0]; i++) {
    suffix = strlen (image_suffixes[i]);
    if (length > suffix && strcmp (name + length - suffix, image_suffixes[i]) == 0)
      return with_raw_suffix (name, length - suffix);
  }
  return with_raw_suffix (name, length);
}

static int
compare_shown (const void *a, const void *b)
{
  const struct entry *const *x = a, *const *y = b;

  return strcmp ((*x)->shown, (*y)->shown);
}

/* Apply FIX to every entry whose shown name another entry shows too.
 * Returns whether FIX changed anything, or -ENOMEM.
 */
static int
fix_collisions (struct listing *listing, bool (*fix) (struct entry *))
{
  struct entry **sorted;
  size_t n = 0, i, j, k;
  bool changed = false;

  sorted = malloc ((listing->count + 1) * sizeof *sorted);
  if (sorted == NULL)
    return -ENOMEM;
  for (i = 0; i < listing->count; i++)
    if (listing->entries[i].shown)
      sorted[n++] = &listing->entries[i];
  qsort (sorted, n, sizeof *sorted, compare_shown);
  for (i = 0; i < n; i = j) {
    for (j = i + 1; j < n && strcmp (sorted[i]->shown, sorted[j]->shown) == 0; j++)
      ;
    for (k = i; j - i > 1 && k < j; k++)
      changed |= fix (sorted[k]);
  }
  free (sorted);
  return changed;
}

static bool
use_full_name (struct entry *entry)
{
  if (entry->is_folder || entry->shown == entry->full_name)
    return false;
  entry->shown = entry->full_name;
  return true;
}

static bool
hide_image (struct entry *entry)
{
  if (entry->is_folder)
    return false;
  entry->shown = NULL;
  return true;
}

/* Folders keep their names; images take their short names, then their
 * full names where they collide, until nothing changes.  Images still
 * colliding (with a folder) are hidden.
 */
static int
assign_names (struct listing *listing)
{
  int r;

  do
    r = fix_collisions (listing, use_full_name);
  while (r > 0);
  if (r == 0)
    r = fix_collisions (listing, hide_image);
  return r < 0 ? r : 0;
}

/* ---- reading a source folder ---------------------------------------- */

static void
free_listing (struct listing *listing)
{
  size_t i;

  for (i = 0; i < listing->count; i++) {
    free (listing->entries[i].name);
    free (listing->entries[i].short_name);
    free (listing->entries[i].full_name);
  }
  free (listing->entries);
}

static struct entry *
new_entry (struct listing *listing)
{
  struct entry *entries;
  size_t allocated;

  if (listing->count == listing->allocated) {
    allocated = listing->allocated ? 2 * listing->allocated : 64;
    entries = realloc (listing->entries, allocated * sizeof *entries);
    if (entries == NULL)
      return NULL;
    listing->entries = entries;
    listing->allocated = allocated;
  }
  entries = &listing->entries[listing->count++];
  *entries = (struct entry) { 0 };
  return entries;
}

/* What entry NAME of folder DIRFD is: 1 folder, 2 image, 0 neither. */
static int
classify (int dirfd, const char *name)
{
  struct stat st;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
    return 0;
  if (S_ISDIR (st.st_mode))
    return 1;
  if (S_ISLNK (st.st_mode) && fstatat (dirfd, name, &st, 0) == -1)
    return 0;
  return S_ISREG (st.st_mode) && file_info_is_image (dirfd, name, &st) ? 2 : 0;
}

static int
add_entry (struct listing *listing, int dirfd, const char *name)
{
  int kind = classify (dirfd, name);
  struct entry *entry;

  if (kind == 0)
    return 0;
  entry = new_entry (listing);
  if (entry == NULL)
    return -ENOMEM;
  entry->name = strdup (name);
  entry->is_folder = kind == 1;
  if (entry->is_folder) {
    entry->shown = entry->name;
    return entry->name ? 0 : -ENOMEM;
  }
  entry->short_name = short_name_of (name);
  entry->full_name = with_raw_suffix (name, strlen (name));
  entry->shown = entry->short_name;
  return entry->name && entry->short_name && entry->full_name ? 0 : -ENOMEM;
}

/* List folder DIRFD (consumed) with its shown names. */
static int
read_folder (int dirfd, struct listing *listing)
{
  struct dirent *d;
  DIR *dir;
  int r = 0;

  *listing = (struct listing) { 0 };
  dir = fdopendir (dirfd);
  if (dir == NULL) {
    r = -errno;
    close (dirfd);
    return r;
  }
  while (r == 0 && (errno = 0, d = readdir (dir)) != NULL)
    if (strcmp (d->d_name, ".") != 0 && strcmp (d->d_name, "..") != 0)
      r = add_entry (listing, dirfd, d->d_name);
  if (r == 0 && errno != 0)
    r = -errno;
  closedir (dir);
  if (r == 0)
    r = assign_names (listing);
  if (r < 0)
    free_listing (listing);
  return r;
}

/* ---- listings kept for a while -------------------------------------- */

struct kept_listing {
  struct file_version folder;   /* of the folder when it was read */
  int64_t read_at;              /* monotonic ns, before reading; 0: unused */
  struct listing listing;
};

/* Kept listings are used and replaced under the lock; folders are read
 * outside it.
 */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept_listing kept[KEPT_LISTINGS];

static int64_t
monotonic_ns (void)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

/* The listing kept for FOLDER, if still good at time NOW.  Under the lock. */
static const struct listing *
find_kept (const struct file_version *folder, int64_t now)
{
  size_t i;

  for (i = 0; i < KEPT_LISTINGS; i++)
    if (kept[i].read_at && now - kept[i].read_at < LISTING_TTL_NS
        && file_version_equal (&kept[i].folder, folder))
      return &kept[i].listing;
  return NULL;
}

/* Keep LISTING (taken over) of FOLDER, read from READ_AT on, in place of
 * the same folder's or else the oldest.  Under the lock.
 */
static void
keep (const struct file_version *folder, int64_t read_at, struct listing *listing)
{
  struct kept_listing *slot = &kept[0];
  size_t i;

  for (i = 0; i < KEPT_LISTINGS; i++) {
    if (kept[i].read_at && kept[i].folder.dev == folder->dev
        && kept[i].folder.ino == folder->ino) {
      slot = &kept[i];
      break;
    }
    if (kept[i].read_at < slot->read_at)
      slot = &kept[i];
  }
  if (slot->read_at)
    free_listing (&slot->listing);
  *slot = (struct kept_listing) { *folder, read_at, *listing };
}

/* Call USE, under the lock, with the listing of folder DIRFD (consumed):
 * a kept one, or one read now and kept.  Returns what USE returns, or
 * -errno.
 */
static int
with_listing (int dirfd, int (*use) (const struct listing *, void *), void *opaque)
{
  struct file_version folder;
  const struct listing *found;
  struct listing fresh;
  int64_t now = monotonic_ns ();
  struct stat st;
  int r;

  if (fstat (dirfd, &st) == -1) {
    r = -errno;
    close (dirfd);
    return r;
  }
  folder = file_version_of (&st);
  pthread_mutex_lock (&kept_lock);
  found = find_kept (&folder, now);
  if (found) {
    r = use (found, opaque);
    pthread_mutex_unlock (&kept_lock);
    close (dirfd);
    return r;
  }
  pthread_mutex_unlock (&kept_lock);
  /* A change while reading leaves the folder newer than FOLDER: the next
   * call reads it again.
   */
  r = read_folder (dirfd, &fresh);
  if (r < 0)
    return r;
  pthread_mutex_lock (&kept_lock);
  r = use (&fresh, opaque);
  keep (&folder, now, &fresh);
  pthread_mutex_unlock (&kept_lock);
  return r;
}

/* ---- paths ---------------------------------------------------------- */

static int
set_node (struct node *node, enum node_kind kind, const char *source)
{
  if (snprintf (node->source, sizeof node->source, "%s", source)
      >= (int) sizeof node->source)
    return -ENAMETOOLONG;
  if (stat (node->source, &node->st) == -1)
    return -errno;
  node->kind = kind;
  if (kind == NODE_FOLDER ? !S_ISDIR (node->st.st_mode) : !S_ISREG (node->st.st_mode))
    return -ENOENT;
  return 0;
}

/* Open the source folder of FUSE folder path PATH[0..LENGTH) (a real
 * folder at every step: no symlinks, no "." or ".."), for reading.
 */
static int
open_source_folder (const char *path, size_t length)
{
  char component[NAME_MAX + 1];
  const char *p = path, *slash, *end = path + length;
  int fd, next, err;

  fd = open (settings.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1)
    return -errno;
  while (p < end) {
    while (p < end && *p == '/')
      p++;
    if (p == end)
      break;
    slash = memchr (p, '/', end - p);
    if (slash == NULL)
      slash = end;
    if ((size_t) (slash - p) > NAME_MAX) {
      close (fd);
      return -ENAMETOOLONG;
    }
    memcpy (component, p, slash - p);
    component[slash - p] = '\0';
    if (strcmp (component, ".") == 0 || strcmp (component, "..") == 0) {
      close (fd);
      return -ENOENT;
    }
    next = openat (fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* A file or a symlink is not a folder here: ENOENT. */
    err = errno == ENOTDIR || errno == ELOOP ? ENOENT : errno;
    close (fd);
    if (next == -1)
      return -err;
    fd = next;
    p = slash;
  }
  return fd;
}

static const struct entry *
find_shown (const struct listing *listing, const char *name)
{
  size_t i;

  for (i = 0; i < listing->count; i++)
    if (listing->entries[i].shown && strcmp (listing->entries[i].shown, name) == 0)
      return &listing->entries[i];
  return NULL;
}

/* The source of entry NAME in the folder of FUSE path PARENT[0..LENGTH). */
static int
source_path (char *buf, const char *parent, size_t length, const char *name)
{
  if (snprintf (buf, PATH_MAX, "%s%.*s%s", settings.source, (int) length, parent,
                name) >= PATH_MAX)
    return -ENAMETOOLONG;
  return 0;
}

/* What resolve_in_folder looks for, and finds, in a listing. */
struct wanted_entry {
  const char *shown;
  char name[NAME_MAX + 1];
  bool is_folder;
};

static int
find_wanted (const struct listing *listing, void *opaque)
{
  struct wanted_entry *wanted = opaque;
  const struct entry *entry = find_shown (listing, wanted->shown);

  if (entry == NULL)
    return -ENOENT;
  snprintf (wanted->name, sizeof wanted->name, "%s", entry->name);
  wanted->is_folder = entry->is_folder;
  return 0;
}

/* PATH is "/" or "/PARENT.../NAME" in a source folder. */
static int
resolve_in_folder (const char *path, struct node *node)
{
  struct wanted_entry wanted = { .shown = strrchr (path, '/') + 1 };
  size_t parent_length = wanted.shown - path;
  char source[PATH_MAX];
  int dirfd, r;

  dirfd = open_source_folder (path, parent_length);
  if (dirfd < 0)
    return dirfd;
  if (*wanted.shown == '\0') {
    close (dirfd);
    return set_node (node, NODE_FOLDER, settings.source);
  }
  r = with_listing (dirfd, find_wanted, &wanted);
  if (r == 0)
    r = source_path (source, path, parent_length, wanted.name);
  if (r == 0)
    r = set_node (node, wanted.is_folder ? NODE_FOLDER : NODE_IMAGE, source);
  return r;
}

/* The one name a single image shows under when mounted on a folder. */
static int
single_image_name (char **name)
{
  char *copy = strdup (settings.source);

  *name = copy ? short_name_of (basename (copy)) : NULL;
  free (copy);
  return *name ? 0 : -ENOMEM;
}

static int
resolve_single_image (const char *path, struct node *node)
{
  char *copy, *name;
  int r;

  if (settings.kind == SOURCE_IMAGE_ON_FILE)
    return strcmp (path, "/") == 0 ? set_node (node, NODE_IMAGE, settings.source)
      : -ENOENT;
  if (strcmp (path, "/") == 0) {
    copy = strdup (settings.source);
    r = copy ? set_node (node, NODE_FOLDER, dirname (copy)) : -ENOMEM;
    free (copy);
    return r;
  }
  r = single_image_name (&name);
  if (r == 0) {
    r = strcmp (path + 1, name) == 0 ? set_node (node, NODE_IMAGE, settings.source)
      : -ENOENT;
    free (name);
  }
  return r;
}

int
namespace_resolve (const char *path, struct node *node)
{
  if (path[0] != '/')
    return -ENOENT;
  if (settings.kind == SOURCE_FOLDER)
    return resolve_in_folder (path, node);
  return resolve_single_image (path, node);
}

struct emitter {
  int (*emit) (void *opaque, const char *name);
  void *opaque;
};

static int
emit_shown (const struct listing *listing, void *opaque)
{
  struct emitter *emitter = opaque;
  size_t i;

  for (i = 0; i < listing->count; i++)
    if (listing->entries[i].shown
        && emitter->emit (emitter->opaque, listing->entries[i].shown))
      break;
  return 0;
}

int
namespace_list (const char *path,
                int (*emit) (void *opaque, const char *name), void *opaque)
{
  struct emitter emitter = { emit, opaque };
  char *name;
  int dirfd, r;

  if (settings.kind != SOURCE_FOLDER) {
    r = single_image_name (&name);
    if (r == 0) {
      emit (opaque, name);
      free (name);
    }
    return r;
  }
  dirfd = open_source_folder (path, strlen (path));
  if (dirfd < 0)
    return dirfd;
  return with_listing (dirfd, emit_shown, &emitter);
}
