/* The mounted tree (see namespace.h).
 *
 * A lookup lists the parent source folder and names its entries afresh
 * every time: names depend on the whole folder (collisions), and caching
 * the listing would hide files that become images after they were created
 * (a copy in progress starts as an empty file).  The cost is one fstatat()
 * per entry; the probe of each file is cached per version by file-info.c.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file-info.h"
#include "namespace.h"
#include "sparsefs.h"

static const char *const image_suffixes[] = { ".qcow2", ".img" };
static const char raw_suffix[] = ".raw";

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
  return S_ISREG (st.st_mode) && file_info_is_qcow2 (dirfd, name, &st) ? 2 : 0;
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

/* PATH is "/" or "/PARENT.../NAME" in a source folder. */
static int
resolve_in_folder (const char *path, struct node *node)
{
  const char *name = strrchr (path, '/') + 1;
  size_t parent_length = name - path;
  char source[PATH_MAX];
  const struct entry *entry;
  struct listing listing;
  int dirfd, r;

  dirfd = open_source_folder (path, parent_length);
  if (dirfd < 0)
    return dirfd;
  if (*name == '\0') {
    close (dirfd);
    return set_node (node, NODE_FOLDER, settings.source);
  }
  r = read_folder (dirfd, &listing);
  if (r < 0)
    return r;
  entry = find_shown (&listing, name);
  if (entry == NULL)
    r = -ENOENT;
  else
    r = source_path (source, path, parent_length, entry->name);
  if (r == 0)
    r = set_node (node, entry->is_folder ? NODE_FOLDER : NODE_IMAGE, source);
  free_listing (&listing);
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

int
namespace_list (const char *path,
                int (*emit) (void *opaque, const char *name), void *opaque)
{
  struct listing listing;
  char *name;
  size_t i;
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
  r = read_folder (dirfd, &listing);
  if (r < 0)
    return r;
  for (i = 0; i < listing.count; i++)
    if (listing.entries[i].shown && emit (opaque, listing.entries[i].shown))
      break;
  free_listing (&listing);
  return 0;
}
