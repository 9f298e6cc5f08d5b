/* The mounted tree (see namespace.h).
 *
 * A lookup needs the listing of the parent source folder: names depend on
 * the whole folder (collisions).  Reading it costs one fstatat() per entry
 * plus a probe of each file not seen before, and `ls -l` in a folder of N
 * images makes N lookups.  So a listing is used again for LISTING_TTL_NS
 * after it was read, while the folder itself is unchanged: adding,
 * removing or renaming an entry changes the folder's mtime, and shows at
 * once.  Only a file that turns into an image in place (a copy in progress
 * starts as an empty file) or stops being one shows late, by up to the
 * TTL, as attributes do in the kernel's own cache (attr_timeout, 1 s).
 *
 * A listing finds an entry by its shown name through a hash index, and
 * remembers each image's measure (size, data bytes) with the version it
 * belongs to.  A folder read again takes over the facts of its previous
 * listing for files whose version is the same, so that only new or changed
 * files are probed and measured: listing a folder costs one fstatat() per
 * entry once its images are known.  Every listing counts the bytes it
 * holds; kept listings together hold at most LISTINGS_MAX_BYTES.
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

#include "archive-folder.h"
#include "escaped-name.h"
#include "file-info.h"
#include "file-version.h"
#include "image-table.h"
#include "namespace.h"
#include "sparsefs.h"

static const char *const image_suffixes[] = {
  ".qcow2", ".img", ".vdi", ".vhd", ".vhdx", ".vmdk", ".vpc",
};
static const char raw_suffix[] = ".raw";

#define LISTING_TTL_NS 1000000000
#define KEPT_LISTINGS 16
/* About 300,000 entries with names of 20 characters.  A listing larger
 * than this is used for the request that read it, and not kept.
 */
#define LISTINGS_MAX_BYTES (64 * 1024 * 1024)

/* One entry of a source folder that may be shown. */
struct entry {
  char *name;                   /* in the source folder; images: followed by */
  const char *short_name, *full_name;   /* NAME.raw, FILENAME.raw */
  const char *shown;            /* name, short_name, full_name or NULL */
  bool is_folder;
  bool is_archive;              /* a folder that is an OVA archive */
  bool has_snapshots;           /* images: the header counts snapshots */
  bool extent_files_read;       /* under kept_lock: see extent_files */
  /* Snapshot entries (NAME@SNAPSHOT.raw): the snapshot as image_options
   * takes it; their name is the image's file name, short_name and
   * full_name their shown name.  NULL for images and folders.
   */
  const char *snapshot;
  enum image_snapshot_key snapshot_key;
  /* Images: the extent files this one names when it is a VMDK text
   * descriptor (NUL-separated, an empty name last), or NULL, as read at
   * the listing's version of it (see hide_extent_files): extent_files_read
   * is cleared when the entry moves to another version.
   */
  char *extent_files;
  /* Images, under kept_lock: the version last seen, and its measure. */
  struct file_version version;
  bool measured;
  struct raw_view_size size;
};

struct listing {
  struct entry *entries;
  size_t count, allocated;
  uint32_t *index;              /* by shown name: entry number + 1, 0 empty */
  size_t index_slots;           /* a power of two, over twice the entries */
  size_t bytes;                 /* of memory this listing holds */
  struct file_version folder;   /* of the folder when it was read */
  int64_t read_at;              /* monotonic ns, before reading */
  unsigned references;          /* under kept_lock */
};

/* ---- names ---------------------------------------------------------- */

/* The length of FILENAME without a known image suffix (if something is
 * left).
 */
static size_t
short_length (const char *name, size_t length)
{
  size_t i, suffix;

  for (i = 0; i < sizeof image_suffixes / sizeof image_suffixes[0]; i++) {
    suffix = strlen (image_suffixes[i]);
    if (length > suffix && strcmp (name + length - suffix, image_suffixes[i]) == 0)
      return length - suffix;
  }
  return length;
}

/* NAME[0..LENGTH) + .raw at TO; returns the byte after its NUL. */
static char *
put_with_raw_suffix (char *to, const char *name, size_t length)
{
  memcpy (to, name, length);
  memcpy (to + length, raw_suffix, sizeof raw_suffix);
  return to + length + sizeof raw_suffix;
}

/* FILENAME without a known image suffix, + .raw, malloc'd. */
static char *
short_name_of (const char *name)
{
  size_t length = strlen (name), shortened = short_length (name, length);
  char *shown = malloc (shortened + sizeof raw_suffix);

  if (shown)
    put_with_raw_suffix (shown, name, shortened);
  return shown;
}

/* By shown name, then in table order. */
static int
compare_shown (const void *a, const void *b)
{
  const struct entry *const *x = a, *const *y = b;
  int r = strcmp ((*x)->shown, (*y)->shown);

  return r ? r : (*x > *y) - (*x < *y);
}

/* Apply FIX to every group of entries (in table order) that show under
 * one name.  Returns whether FIX changed anything, or -ENOMEM.
 */
static int
fix_collisions (struct listing *listing,
                bool (*fix) (struct entry **group, size_t count))
{
  struct entry **sorted;
  size_t n = 0, i, j;
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
    if (j - i > 1)
      changed |= fix (sorted + i, j - i);
  }
  free (sorted);
  return changed;
}

static bool
use_full_names (struct entry **group, size_t count)
{
  bool changed = false;
  size_t i;

  for (i = 0; i < count; i++)
    if (!group[i]->is_folder && group[i]->shown != group[i]->full_name) {
      group[i]->shown = group[i]->full_name;
      changed = true;
    }
  return changed;
}

static bool
hide_images (struct entry **group, size_t count)
{
  bool changed = false;
  size_t i;

  for (i = 0; i < count; i++)
    if (!group[i]->is_folder) {
      group[i]->shown = NULL;
      changed = true;
    }
  return changed;
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
    r = fix_collisions (listing, use_full_names);
  while (r > 0);
  if (r == 0)
    r = fix_collisions (listing, hide_images);
  return r < 0 ? r : 0;
}

/* ---- the index by shown name ---------------------------------------- */

static size_t
name_hash (const char *name)
{
  size_t h = 5381;              /* Bernstein's, xor variant */

  while (*name)
    h = (h * 33) ^ (unsigned char) *name++;
  return h;
}

static int
build_index (struct listing *listing)
{
  size_t slots = 16, i, at;

  if (listing->count > UINT32_MAX / 4)
    return -ENOMEM;
  while (slots <= 2 * listing->count)
    slots *= 2;
  listing->index = calloc (slots, sizeof *listing->index);
  if (listing->index == NULL)
    return -ENOMEM;
  listing->index_slots = slots;
  listing->bytes += slots * sizeof *listing->index;
  for (i = 0; i < listing->count; i++) {
    if (listing->entries[i].shown == NULL)
      continue;
    at = name_hash (listing->entries[i].shown) & (slots - 1);
    while (listing->index[at])
      at = (at + 1) & (slots - 1);
    listing->index[at] = i + 1;
  }
  return 0;
}

static struct entry *
find_shown (const struct listing *listing, const char *name)
{
  size_t at = name_hash (name) & (listing->index_slots - 1);
  struct entry *entry;

  for (; listing->index[at]; at = (at + 1) & (listing->index_slots - 1)) {
    entry = &listing->entries[listing->index[at] - 1];
    if (strcmp (entry->shown, name) == 0)
      return entry;
  }
  return NULL;
}

/* ---- reading a source folder ---------------------------------------- */

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static void
free_listing (struct listing *listing)
{
  size_t i;

  for (i = 0; i < listing->count; i++) {
    free (listing->entries[i].name);
    free (listing->entries[i].extent_files);
  }
  free (listing->entries);
  free (listing->index);
  free (listing);
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
    listing->bytes += (allocated - listing->allocated) * sizeof *entries;
    listing->entries = entries;
    listing->allocated = allocated;
  }
  entries = &listing->entries[listing->count++];
  *entries = (struct entry) { 0 };
  return entries;
}

/* The image entry NAME of the previous listing PREVIOUS (may be NULL). */
static const struct entry *
previous_image (const struct listing *previous, const struct entry *entry)
{
  const struct entry *found;

  if (previous == NULL)
    return NULL;
  found = find_shown (previous, entry->short_name);
  if (found == NULL || strcmp (found->name, entry->name) != 0)
    found = find_shown (previous, entry->full_name);
  if (found == NULL || found->is_folder || found->snapshot
      || strcmp (found->name, entry->name) != 0)
    return NULL;
  return found;
}

/* Take over what PREVIOUS knew of ENTRY's file at version VERSION.
 * Returns whether it was known as an image.
 */
static bool
take_over (const struct listing *previous, struct entry *entry,
           const struct file_version *version)
{
  const struct entry *known = previous_image (previous, entry);
  bool same = false;

  entry->version = *version;
  if (known == NULL)
    return false;
  pthread_mutex_lock (&kept_lock);
  same = file_version_equal (&known->version, version);
  if (same) {
    entry->measured = known->measured;
    entry->size = known->size;
  }
  pthread_mutex_unlock (&kept_lock);
  return same;
}

/* NAME with its two shown names after it, in one allocation.  Returns
 * the bytes it takes, or -ENOMEM.
 */
static int
name_image (struct listing *listing, struct entry *entry, const char *name)
{
  size_t length = strlen (name), shortened = short_length (name, length);
  size_t bytes = (length + 1) + (shortened + sizeof raw_suffix)
    + (length + sizeof raw_suffix);
  char *next;

  entry->name = malloc (bytes);
  if (entry->name == NULL)
    return -ENOMEM;
  listing->bytes += bytes;
  memcpy (entry->name, name, length + 1);
  entry->short_name = entry->name + length + 1;
  next = put_with_raw_suffix ((char *) entry->short_name, name, shortened);
  entry->full_name = next;
  put_with_raw_suffix (next, name, length);
  entry->shown = entry->short_name;
  return bytes;
}

/* A folder, or an OVA archive (ARCHIVE) shown as one, under its name. */
static int
add_folder (struct listing *listing, const char *name, bool archive)
{
  struct entry *entry = new_entry (listing);

  if (entry == NULL || (entry->name = strdup (name)) == NULL)
    return -ENOMEM;
  listing->bytes += strlen (name) + 1;
  entry->is_folder = true;
  entry->is_archive = archive;
  entry->shown = entry->name;
  return 0;
}

/* Whether file NAME of source folder FOLDER (ending with '/'), whose stat
 * is ST, is an OVA.
 */
static bool
is_archive_in (const char *folder, const char *name, const struct stat *st)
{
  char path[PATH_MAX];

  return snprintf (path, sizeof path, "%s%s", folder, name) < (int) sizeof path
    && file_info_is_archive (path, st);
}

/* Add NAME of folder DIRFD (source folder FOLDER) if it is a folder, an
 * image or an OVA archive.  Images known to PREVIOUS at the same version
 * are not probed again.
 */
static int
add_entry (struct listing *listing, const struct listing *previous, int dirfd,
           const char *folder, const char *name)
{
  struct file_version version;
  struct entry *entry;
  struct stat st;
  int r;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
    return 0;
  if (S_ISDIR (st.st_mode))
    return add_folder (listing, name, false);
  if (S_ISLNK (st.st_mode) && fstatat (dirfd, name, &st, 0) == -1)
    return 0;
  if (!S_ISREG (st.st_mode))
    return 0;
  entry = new_entry (listing);
  if (entry == NULL)
    return -ENOMEM;
  r = name_image (listing, entry, name);
  if (r < 0)
    return r;
  version = file_version_of (&st);
  if (!take_over (previous, entry, &version)
      && !file_info_is_image (dirfd, name, &st)) {
    free (entry->name);
    listing->bytes -= r;
    listing->count--;
    return is_archive_in (folder, name, &st) ? add_folder (listing, name, true)
                                              : 0;
  }
  entry->has_snapshots = file_info_has_snapshots (dirfd, name, &st);
  return 0;
}

/* ---- VMDK extent files ---------------------------------------------- */

/* A split VMDK (twoGbMaxExtentSparse/Flat) is a descriptor and its extent
 * files: the disk shows once, as its descriptor.  Its extent files, named
 * by a descriptor in the same folder, are hidden (from listings and
 * lookups alike).  A listing reads the first 512 bytes of each image file
 * the previous listing did not show at the same version (a hidden extent
 * file is read again: it is never shown); only a VMDK text descriptor is
 * read further.
 */

struct extent_names {
  char *names;                  /* NUL-separated, an empty name last */
  size_t length;                /* bytes before the last NUL */
};

/* An image_name_fn: keep NAME if it names a file of the same folder. */
static int
add_extent_name (const char *name, void *opaque)
{
  struct extent_names *list = opaque;
  size_t n;
  char *grown;

  while (strncmp (name, "./", 2) == 0)
    name += 2;
  if (*name == '\0' || strchr (name, '/') != NULL)
    return 0;
  n = strlen (name) + 1;
  grown = realloc (list->names, list->length + n + 1);
  if (grown == NULL)
    return -ENOMEM;
  memcpy (grown + list->length, name, n);
  list->length += n;
  grown[list->length] = '\0';
  list->names = grown;
  return 0;
}

/* The bytes of NAMES (NUL-separated, an empty name last), its last NUL
 * included.
 */
static size_t
names_bytes (const char *names)
{
  const char *p = names;

  while (*p)
    p += strlen (p) + 1;
  return p - names + 1;
}

/* The extent files ENTRY's file names: what PREVIOUS knew of the same
 * version, else read.  A descriptor that can't be read or parsed names
 * none (opening its disk says why).  Returns 0 or -ENOMEM.
 */
static int
read_extent_files (struct listing *listing, const struct listing *previous,
                   int dirfd, struct entry *entry)
{
  const struct entry *known = previous_image (previous, entry);
  struct extent_names list = { NULL, 0 };
  bool same = false;
  int fd, r = 0;

  entry->extent_files_read = true;
  if (known != NULL) {
    pthread_mutex_lock (&kept_lock);
    same = known->extent_files_read
      && file_version_equal (&known->version, &entry->version);
    pthread_mutex_unlock (&kept_lock);
  }
  if (same) {
    if (known->extent_files == NULL)
      return 0;
    list.length = names_bytes (known->extent_files) - 1;
    list.names = malloc (list.length + 1);
    if (list.names == NULL)
      return -ENOMEM;
    memcpy (list.names, known->extent_files, list.length + 1);
  }
  else {
    fd = openat (dirfd, entry->name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd != -1) {
      r = image_vmdk_extent_files (entry->name, fd, add_extent_name, &list);
      close (fd);
    }
    if (r == -ENOMEM) {
      free (list.names);
      return r;
    }
  }
  entry->extent_files = list.names;
  if (list.names)
    listing->bytes += list.length + 1;
  return 0;
}

static int
compare_names (const void *a, const void *b)
{
  const struct entry *const *x = a, *const *y = b;

  return strcmp ((*x)->name, (*y)->name);
}

/* Hide the image entries (sorted by file name in SORTED[0..N)) that
 * DESCRIPTOR names as its extents, but itself.
 */
static void
hide_named (struct entry **sorted, size_t n, const struct entry *descriptor)
{
  const char *name = descriptor->extent_files;
  struct entry key, *keyp = &key, **found;

  for (; *name; name += strlen (name) + 1) {
    key.name = (char *) name;
    found = bsearch (&keyp, sorted, n, sizeof *sorted, compare_names);
    if (found != NULL && *found != descriptor)
      (*found)->shown = NULL;
  }
}

/* Hide the files that a VMDK descriptor of folder DIRFD names as its
 * extents (before names are assigned: they take no name).
 */
static int
hide_extent_files (struct listing *listing, const struct listing *previous,
                   int dirfd)
{
  struct entry **sorted;
  size_t i, n = 0;
  bool any = false;
  int r;

  for (i = 0; i < listing->count; i++) {
    if (listing->entries[i].is_folder)
      continue;
    r = read_extent_files (listing, previous, dirfd, &listing->entries[i]);
    if (r < 0)
      return r;
    any |= listing->entries[i].extent_files != NULL;
  }
  if (!any)
    return 0;
  sorted = malloc (listing->count * sizeof *sorted);
  if (sorted == NULL)
    return -ENOMEM;
  for (i = 0; i < listing->count; i++)
    if (!listing->entries[i].is_folder)
      sorted[n++] = &listing->entries[i];
  qsort (sorted, n, sizeof *sorted, compare_names);
  for (i = 0; i < n; i++)
    if (sorted[i]->extent_files)
      hide_named (sorted, n, sorted[i]);
  free (sorted);
  return 0;
}

/* ---- internal snapshots --------------------------------------------- */

struct snapshot_walk {
  struct listing *listing;
  const char *image_name;       /* the image's entry: its file name */
  const char *image_shown;      /* and its shown name */
  const struct listing *previous;
  struct file_version version;
  int error;                    /* -ENOMEM */
};

/* Take over what PREVIOUS knew of snapshot ENTRY at version VERSION. */
static void
take_over_snapshot (const struct listing *previous, struct entry *entry,
                    const struct file_version *version)
{
  const struct entry *known = previous ? find_shown (previous, entry->shown) : NULL;

  entry->version = *version;
  if (known == NULL || known->snapshot == NULL
      || strcmp (known->name, entry->name) != 0
      || strcmp (known->snapshot, entry->snapshot) != 0
      || known->snapshot_key != entry->snapshot_key)
    return;
  pthread_mutex_lock (&kept_lock);
  if (file_version_equal (&known->version, version)) {
    entry->measured = known->measured;
    entry->size = known->size;
  }
  pthread_mutex_unlock (&kept_lock);
}

/* Add SNAPSHOT of the image WALK is at as an entry, shown by its name (by
 * its ID if the name is empty), unless that shown name is too long.
 */
static int
add_snapshot (const struct image_snapshot *snapshot, void *opaque)
{
  struct snapshot_walk *walk = opaque;
  bool by_name = snapshot->name[0] != '\0';
  const char *text = by_name ? snapshot->name : snapshot->id;
  size_t prefix = strlen (walk->image_shown) - strlen (raw_suffix);
  size_t name_length = strlen (walk->image_name), text_length = strlen (text);
  size_t shown_length = prefix + 1 + escaped_length (text) + strlen (raw_suffix);
  size_t bytes = name_length + 1 + shown_length + 1 + text_length + 1;
  struct entry *entry;
  char *at, *end;

  if (text_length == 0 || shown_length > NAME_MAX)
    return 0;
  entry = new_entry (walk->listing);
  if (entry == NULL || (entry->name = malloc (bytes)) == NULL) {
    walk->error = -ENOMEM;
    return 1;
  }
  walk->listing->bytes += bytes;
  memcpy (entry->name, walk->image_name, name_length + 1);
  at = entry->name + name_length + 1;
  entry->shown = entry->short_name = entry->full_name = at;
  memcpy (at, walk->image_shown, prefix);
  at[prefix] = '@';
  end = put_escaped (at + prefix + 1, text);
  memcpy (end, raw_suffix, sizeof raw_suffix);
  at = end + sizeof raw_suffix;
  entry->snapshot = memcpy (at, text, text_length + 1);
  entry->snapshot_key = by_name ? IMAGE_SNAPSHOT_NAME : IMAGE_SNAPSHOT_ID;
  take_over_snapshot (walk->previous, entry, &walk->version);
  return 0;
}

/* Add the snapshots of image entry NUMBER of LISTING, in source folder
 * FOLDER (absolute, ending with '/').  An image that can't be opened
 * shows no snapshots (its own file shows why).
 */
static int
add_snapshots_of (struct listing *listing, const struct listing *previous,
                  const char *folder, size_t number)
{
  const struct entry *image = &listing->entries[number];
  struct snapshot_walk walk = {
    .listing = listing, .previous = previous,
    .image_name = image->name, .image_shown = image->shown,
  };
  struct open_image *open_image;
  char path[PATH_MAX];

  if (snprintf (path, sizeof path, "%s%s", folder, image->name) >= (int) sizeof path)
    return 0;
  open_image = image_table_acquire (path, &(struct view_choice) { 0 });
  if (open_image == NULL)
    return errno == ENOMEM ? -ENOMEM : 0;
  walk.version = open_image->version;
  image_snapshots (open_image->image, add_snapshot, &walk);
  image_table_release (open_image);
  return walk.error;
}

/* Whether the entries SORTED[0..COUNT), which show under one name, are
 * all snapshots of one image: then the first in table order shows.
 */
static bool
snapshots_of_one_image (struct entry **sorted, size_t count)
{
  size_t i;

  for (i = 0; i < count; i++)
    if (sorted[i]->snapshot == NULL || strcmp (sorted[i]->name, sorted[0]->name) != 0)
      return false;
  return true;
}

/* Hide the snapshot entries of GROUP (which show under one name), but
 * the first when all are snapshots of one image.
 */
static bool
hide_snapshots (struct entry **group, size_t count)
{
  size_t i = snapshots_of_one_image (group, count) ? 1 : 0;
  bool changed = false;

  for (; i < count; i++)
    if (group[i]->snapshot) {
      group[i]->shown = NULL;
      changed = true;
    }
  return changed;
}

/* Add the snapshots of every shown image whose header counts some, once
 * the images' names are settled.
 */
static int
add_snapshots (struct listing *listing, const struct listing *previous,
               const char *folder)
{
  size_t i, images = listing->count;
  int r = 0;

  for (i = 0; r == 0 && i < images; i++)
    if (listing->entries[i].has_snapshots && listing->entries[i].shown)
      r = add_snapshots_of (listing, previous, folder, i);
  if (r == 0 && listing->count > images)
    r = fix_collisions (listing, hide_snapshots);
  return r < 0 ? r : 0;
}

/* Give back the room the entries grew into but did not use. */
static void
trim_entries (struct listing *listing)
{
  struct entry *entries;

  if (listing->count == 0 || listing->count == listing->allocated)
    return;
  entries = realloc (listing->entries, listing->count * sizeof *entries);
  if (entries == NULL)
    return;
  listing->bytes -= (listing->allocated - listing->count) * sizeof *entries;
  listing->entries = entries;
  listing->allocated = listing->count;
}

/* List folder DIRFD (consumed), source folder FOLDER (absolute, ending
 * with '/'), with its shown names, taking over what PREVIOUS (an older
 * listing of it, or NULL) knew.
 */
static int
read_folder (int dirfd, const char *folder, const struct listing *previous,
             struct listing **out)
{
  struct listing *listing = calloc (1, sizeof *listing);
  struct dirent *d;
  DIR *dir;
  int r = 0;

  dir = listing ? fdopendir (dirfd) : NULL;
  if (dir == NULL) {
    r = listing ? -errno : -ENOMEM;
    free (listing);
    close (dirfd);
    return r;
  }
  listing->bytes = sizeof *listing;
  while (r == 0 && (errno = 0, d = readdir (dir)) != NULL)
    if (strcmp (d->d_name, ".") != 0 && strcmp (d->d_name, "..") != 0)
      r = add_entry (listing, previous, dirfd, folder, d->d_name);
  if (r == 0 && errno != 0)
    r = -errno;
  if (r == 0)
    r = hide_extent_files (listing, previous, dirfd);
  closedir (dir);
  if (r == 0)
    r = assign_names (listing);
  if (r == 0)
    r = add_snapshots (listing, previous, folder);
  trim_entries (listing);
  if (r == 0)
    r = build_index (listing);
  if (r < 0) {
    free_listing (listing);
    return r;
  }
  listing->references = 1;
  *out = listing;
  return 0;
}

/* ---- listings kept for a while -------------------------------------- */

/* The lock guards the kept listings, every listing's references and its
 * entries' facts (version, measure).  Folders are read, and images
 * measured, outside it.
 */
static struct listing *kept[KEPT_LISTINGS];
static size_t kept_bytes;

static int64_t
monotonic_ns (void)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static bool
same_folder (const struct listing *listing, const struct file_version *folder)
{
  return listing->folder.dev == folder->dev && listing->folder.ino == folder->ino;
}

/* The kept listing of FOLDER at any version, or NULL.  Under the lock. */
static struct listing *
find_kept (const struct file_version *folder)
{
  size_t i;

  for (i = 0; i < KEPT_LISTINGS; i++)
    if (kept[i] && same_folder (kept[i], folder))
      return kept[i];
  return NULL;
}

/* Drop a reference; returns LISTING if it was the last (to be freed
 * outside the lock), else NULL.  Under the lock.
 */
static struct listing *
unreference_locked (struct listing *listing)
{
  return --listing->references == 0 ? listing : NULL;
}

static void
release_listing (struct listing *listing)
{
  pthread_mutex_lock (&kept_lock);
  listing = unreference_locked (listing);
  pthread_mutex_unlock (&kept_lock);
  if (listing)
    free_listing (listing);
}

/* Stop keeping kept[SLOT]; what must be freed goes to *UNUSED.  Under the
 * lock.
 */
static void
unkeep_locked (size_t slot, struct listing **unused)
{
  kept_bytes -= kept[slot]->bytes;
  *unused = unreference_locked (kept[slot]);
  kept[slot] = NULL;
}

/* The slot of FOLDER's kept listing, or else a free one, or else none
 * (KEPT_LISTINGS).  Under the lock.
 */
static size_t
slot_for (const struct file_version *folder)
{
  size_t slot, free_slot = KEPT_LISTINGS;

  for (slot = 0; slot < KEPT_LISTINGS; slot++) {
    if (kept[slot] && same_folder (kept[slot], folder))
      return slot;
    if (kept[slot] == NULL && free_slot == KEPT_LISTINGS)
      free_slot = slot;
  }
  return free_slot;
}

/* The slot of the oldest kept listing (there is one).  Under the lock. */
static size_t
oldest_slot (void)
{
  size_t slot, oldest = KEPT_LISTINGS;

  for (slot = 0; slot < KEPT_LISTINGS; slot++)
    if (kept[slot] && (oldest == KEPT_LISTINGS
                       || kept[slot]->read_at < kept[oldest]->read_at))
      oldest = slot;
  return oldest;
}

/* Keep LISTING in place of the same folder's, else in a free slot, else
 * in the oldest's, evicting the oldest until all fit in
 * LISTINGS_MAX_BYTES.  UNUSED (room for KEPT_LISTINGS) receives the
 * listings to free.  Under the lock.
 */
static void
keep_locked (struct listing *listing, struct listing **unused)
{
  size_t slot, n = 0;

  if (listing->bytes > LISTINGS_MAX_BYTES)
    return;
  slot = slot_for (&listing->folder);
  if (slot < KEPT_LISTINGS && kept[slot])
    unkeep_locked (slot, &unused[n++]);
  while (slot == KEPT_LISTINGS || kept_bytes + listing->bytes > LISTINGS_MAX_BYTES) {
    slot = oldest_slot ();
    unkeep_locked (slot, &unused[n++]);
  }
  listing->references++;
  kept[slot] = listing;
  kept_bytes += listing->bytes;
}

static void
free_unused (struct listing **unused, size_t count)
{
  size_t i;

  for (i = 0; i < count; i++)
    if (unused[i])
      free_listing (unused[i]);
}

/* A listing of folder DIRFD, source folder FOLDER (absolute, ending with
 * '/'), with a reference for the caller: the kept one, or one read now and
 * kept.  Returns 0 or -errno.
 */
static int
acquire_listing (int dirfd, const char *folder_path, struct listing **out)
{
  struct listing *found, *unused[KEPT_LISTINGS + 1] = { NULL };
  struct file_version folder;
  int64_t now = monotonic_ns ();
  struct stat st;
  int copy, r;

  if (fstat (dirfd, &st) == -1)
    return -errno;
  folder = file_version_of (&st);
  pthread_mutex_lock (&kept_lock);
  found = find_kept (&folder);
  if (found) {
    found->references++;
    if (now - found->read_at < LISTING_TTL_NS
        && file_version_equal (&found->folder, &folder)) {
      pthread_mutex_unlock (&kept_lock);
      *out = found;
      return 0;
    }
  }
  pthread_mutex_unlock (&kept_lock);
  /* A change while reading leaves the folder newer than FOLDER: the next
   * call reads it again.
   */
  copy = fcntl (dirfd, F_DUPFD_CLOEXEC, 0);
  r = copy == -1 ? -errno : read_folder (copy, folder_path, found, out);
  pthread_mutex_lock (&kept_lock);
  if (found)
    unused[KEPT_LISTINGS] = unreference_locked (found);
  if (r == 0) {
    (*out)->folder = folder;
    (*out)->read_at = now;
    keep_locked (*out, unused);
  }
  pthread_mutex_unlock (&kept_lock);
  free_unused (unused, KEPT_LISTINGS + 1);
  return r;
}

/* ---- measuring images ----------------------------------------------- */

static void
measure_node (struct node *node)
{
  struct view_choice choice = node_choice (node);

  node->measure_failed =
    file_info_measure (node->source, &node->st, &choice, &node->size) == -1;
  if (node->measure_failed)
    node->size = (struct raw_view_size) { 0 };
}

/* Measure image NODE, shown by ENTRY: from what ENTRY remembers, or now,
 * remembering it.
 */
static void
measure_entry (struct entry *entry, struct node *node)
{
  struct file_version version = file_version_of (&node->st);
  bool known;

  pthread_mutex_lock (&kept_lock);
  known = entry->measured && file_version_equal (&entry->version, &version);
  if (known)
    node->size = entry->size;
  pthread_mutex_unlock (&kept_lock);
  node->measure_failed = false;
  if (known)
    return;
  measure_node (node);
  if (node->measure_failed)
    return;
  pthread_mutex_lock (&kept_lock);
  /* Its extent files were read at the version it had. */
  if (!file_version_equal (&entry->version, &version))
    entry->extent_files_read = false;
  entry->version = version;
  entry->measured = true;
  entry->size = node->size;
  pthread_mutex_unlock (&kept_lock);
}

/* ---- paths ---------------------------------------------------------- */

/* A folder shown as one must still be one, an image or an OVA archive
 * (ARCHIVE) a regular file.
 */
static bool
still_is (const struct stat *st, enum node_kind kind, bool archive)
{
  return kind == NODE_FOLDER && !archive ? S_ISDIR (st->st_mode)
                                         : S_ISREG (st->st_mode);
}

static int
set_node (struct node *node, enum node_kind kind, const char *source,
          bool archive)
{
  if (snprintf (node->source, sizeof node->source, "%s", source)
      >= (int) sizeof node->source)
    return -ENAMETOOLONG;
  if (stat (node->source, &node->st) == -1)
    return -errno;
  node->kind = kind;
  node->snapshot[0] = '\0';
  node->archive = archive;
  node->disk[0] = '\0';
  if (!still_is (&node->st, kind, archive))
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

/* The source of entry NAME in the folder of FUSE path PARENT[0..LENGTH). */
static int
source_path (char *buf, const char *parent, size_t length, const char *name)
{
  if (snprintf (buf, PATH_MAX, "%s%.*s%s", settings.source, (int) length, parent,
                name) >= PATH_MAX)
    return -ENAMETOOLONG;
  return 0;
}

/* NODE shows the snapshot ENTRY shows, if any. */
static void
take_entry_snapshot (struct node *node, const struct entry *entry)
{
  snprintf (node->snapshot, sizeof node->snapshot, "%s",
            entry->snapshot ? entry->snapshot : "");
  node->snapshot_key = entry->snapshot_key;
}

static int resolve_in_folder (const char *path, struct node *node,
                              bool measure);

/* The OVA archive shown as folder PATH[0..LENGTH) into *NODE.  Returns 0,
 * or -ENOENT when that is no archive.
 */
static int
resolve_archive (const char *path, size_t length, struct node *node)
{
  char archive[PATH_MAX];
  int r;

  if (length >= sizeof archive)
    return -ENAMETOOLONG;
  memcpy (archive, path, length);
  archive[length] = '\0';
  r = resolve_in_folder (archive, node, false);
  return r == 0 && !node->archive ? -ENOENT : r;
}

/* PATH is "/ARCHIVE.../NAME": disk NAME of an OVA shown as a folder, the
 * archive PATH[0..PARENT_LENGTH - 1).
 */
static int
resolve_in_archive (const char *path, size_t parent_length, struct node *node,
                    bool measure)
{
  struct archive_folder folder;
  const struct archive_entry *entry;
  int r;

  r = resolve_archive (path, parent_length - 1, node);
  if (r == 0)
    r = archive_folder_read (node->source, &folder);
  if (r < 0)
    return r;
  entry = archive_folder_find (&folder, path + parent_length);
  if (entry != NULL) {
    node->kind = NODE_IMAGE;
    node->archive = false;
    snprintf (node->disk, sizeof node->disk, "%s", entry->disk);
  }
  archive_folder_free (&folder);
  if (entry == NULL)
    return -ENOENT;
  if (measure)
    measure_node (node);
  return 0;
}

/* PATH is "/" or "/PARENT.../NAME" in a source folder. */
static int
resolve_in_folder (const char *path, struct node *node, bool measure)
{
  const char *shown = strrchr (path, '/') + 1;
  size_t parent_length = shown - path;
  struct listing *listing;
  struct entry *entry;
  char source[PATH_MAX], folder[PATH_MAX];
  int dirfd, r;

  dirfd = open_source_folder (path, parent_length);
  if (dirfd == -ENOENT && parent_length > 1)
    return resolve_in_archive (path, parent_length, node, measure);
  if (dirfd < 0)
    return dirfd;
  if (*shown == '\0') {
    close (dirfd);
    return set_node (node, NODE_FOLDER, settings.source, false);
  }
  r = source_path (folder, path, parent_length, "");
  if (r == 0)
    r = acquire_listing (dirfd, folder, &listing);
  close (dirfd);
  if (r < 0)
    return r;
  entry = find_shown (listing, shown);
  r = entry ? source_path (source, path, parent_length, entry->name) : -ENOENT;
  if (r == 0)
    r = set_node (node, entry->is_folder ? NODE_FOLDER : NODE_IMAGE, source,
                  entry->is_archive);
  if (r == 0)
    take_entry_snapshot (node, entry);
  if (r == 0 && measure && node->kind == NODE_IMAGE)
    measure_entry (entry, node);
  release_listing (listing);
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
    return strcmp (path, "/") == 0
      ? set_node (node, NODE_IMAGE, settings.source, false) : -ENOENT;
  if (strcmp (path, "/") == 0) {
    copy = strdup (settings.source);
    r = copy ? set_node (node, NODE_FOLDER, dirname (copy), false) : -ENOMEM;
    free (copy);
    return r;
  }
  r = single_image_name (&name);
  if (r == 0) {
    r = strcmp (path + 1, name) == 0
      ? set_node (node, NODE_IMAGE, settings.source, false) : -ENOENT;
    free (name);
  }
  return r;
}

static int
resolve (const char *path, struct node *node, bool measure)
{
  int r;

  if (path[0] != '/')
    return -ENOENT;
  if (settings.kind == SOURCE_FOLDER)
    return resolve_in_folder (path, node, measure);
  r = resolve_single_image (path, node);
  if (r == 0 && measure && node->kind == NODE_IMAGE)
    measure_node (node);
  return r;
}

int
namespace_resolve (const char *path, struct node *node)
{
  return resolve (path, node, false);
}

int
namespace_resolve_measured (const char *path, struct node *node)
{
  return resolve (path, node, true);
}

struct open_folder {
  char *path;                   /* FUSE path */
  int dirfd;                    /* the source folder; -1: a single image
                                   or an OVA archive */
  struct listing *listing;
  struct node archive;          /* an OVA archive's folder: its node */
  struct archive_folder disks;  /* and its disks */
};

/* FUSE folder PATH that is no source folder: an OVA archive's. */
static int
open_archive_folder (struct open_folder *folder)
{
  int r = resolve_archive (folder->path, strlen (folder->path),
                           &folder->archive);

  return r < 0 ? r : archive_folder_read (folder->archive.source,
                                          &folder->disks);
}

int
namespace_open_folder (const char *path, struct open_folder **out)
{
  struct open_folder *folder = calloc (1, sizeof *folder);
  char source[PATH_MAX];
  int r = 0;

  if (folder == NULL || (folder->path = strdup (path)) == NULL) {
    free (folder);
    return -ENOMEM;
  }
  folder->dirfd = -1;
  if (settings.kind == SOURCE_FOLDER) {
    folder->dirfd = open_source_folder (path, strlen (path));
    r = folder->dirfd < 0 ? folder->dirfd
      : source_path (source, path, strlen (path), path[strlen (path) - 1] == '/' ? "" : "/");
    if (r == 0)
      r = acquire_listing (folder->dirfd, source, &folder->listing);
    if (r == -ENOENT && folder->dirfd < 0)
      r = open_archive_folder (folder);
  }
  if (r < 0) {
    folder->listing = NULL;
    namespace_close_folder (folder);
    return r;
  }
  *out = folder;
  return 0;
}

void
namespace_close_folder (struct open_folder *folder)
{
  if (folder->listing)
    release_listing (folder->listing);
  archive_folder_free (&folder->disks);
  if (folder->dirfd >= 0)
    close (folder->dirfd);
  free (folder->path);
  free (folder);
}

/* The node of ENTRY of FOLDER, as it is now.  Returns 0, or -errno if it
 * vanished or changed kind.
 */
static int
entry_node (const struct open_folder *folder, struct entry *entry, struct node *node)
{
  const char *path = folder->path;
  const char *slash = path[strlen (path) - 1] == '/' ? "" : "/";

  if (snprintf (node->source, sizeof node->source, "%s%s%s%s", settings.source,
                path, slash, entry->name) >= (int) sizeof node->source)
    return -ENAMETOOLONG;
  if (fstatat (folder->dirfd, entry->name, &node->st, 0) == -1)
    return -errno;
  node->kind = entry->is_folder ? NODE_FOLDER : NODE_IMAGE;
  node->archive = entry->is_archive;
  node->disk[0] = '\0';
  take_entry_snapshot (node, entry);
  if (!still_is (&node->st, node->kind, entry->is_archive))
    return -ENOENT;
  if (!entry->is_folder)
    measure_entry (entry, node);
  return 0;
}

/* The one image in a folder of its own (SOURCE_IMAGE_IN_FOLDER). */
static void
list_single_image (bool with_nodes,
                   int (*emit) (void *, const char *, size_t, const struct node *),
                   void *opaque)
{
  char path[PATH_MAX], *name;
  struct node node;

  if (single_image_name (&name) < 0)
    return;
  snprintf (path, sizeof path, "/%s", name);
  emit (opaque, name, 0,
        with_nodes && resolve (path, &node, true) == 0 ? &node : NULL);
  free (name);
}

/* The disks of an OVA archive's folder. */
static void
list_archive (struct open_folder *folder, size_t from, bool with_nodes,
              int (*emit) (void *, const char *, size_t, const struct node *),
              void *opaque)
{
  struct node node;
  size_t i;

  for (i = from; i < folder->disks.count; i++) {
    const struct archive_entry *entry = &folder->disks.entries[i];

    node = folder->archive;
    node.kind = NODE_IMAGE;
    node.archive = false;
    snprintf (node.disk, sizeof node.disk, "%s", entry->disk);
    if (with_nodes)
      measure_node (&node);
    if (emit (opaque, entry->shown, i, with_nodes ? &node : NULL))
      break;
  }
}

void
namespace_list (struct open_folder *folder, size_t from, bool with_nodes,
                int (*emit) (void *, const char *, size_t, const struct node *),
                void *opaque)
{
  struct entry *entry;
  struct node node;
  size_t i;

  if (folder->disks.entries != NULL) {
    list_archive (folder, from, with_nodes, emit, opaque);
    return;
  }
  if (folder->listing == NULL) {
    if (from == 0)
      list_single_image (with_nodes, emit, opaque);
    return;
  }
  for (i = from; i < folder->listing->count; i++) {
    entry = &folder->listing->entries[i];
    if (entry->shown == NULL)
      continue;
    if (emit (opaque, entry->shown, i,
              with_nodes && entry_node (folder, entry, &node) == 0 ? &node : NULL))
      break;
  }
}

int
namespace_listing_memory (const struct node *folder, size_t *entries,
                          size_t *bytes)
{
  struct listing *listing;
  char source[PATH_MAX];
  size_t i;
  int dirfd, r;

  if (settings.kind != SOURCE_FOLDER || folder->archive)
    return -ENODATA;
  if (snprintf (source, sizeof source, "%s/", folder->source) >= (int) sizeof source)
    return -ENAMETOOLONG;
  dirfd = open (folder->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd == -1)
    return -errno;
  r = acquire_listing (dirfd, source, &listing);
  close (dirfd);
  if (r < 0)
    return r;
  *entries = 0;
  for (i = 0; i < listing->count; i++)
    *entries += listing->entries[i].shown != NULL;
  *bytes = listing->bytes;
  release_listing (listing);
  return 0;
}
