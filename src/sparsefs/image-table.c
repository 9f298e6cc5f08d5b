/* The table of open images (see image-table.h).
 *
 * The table is a short list: it holds only the images some process has
 * open right now.  One mutex guards it, and is held across image_open() so
 * that two concurrent opens of the same version share one engine image
 * instead of racing to open two.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "image-table.h"
#include "sparsefs.h"

/* A file replaced while we open it is opened again, this many times. */
#define OPEN_ATTEMPTS 3

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_image *table;

static bool
same_text (const char *a, const char *b)
{
  return a == NULL || b == NULL ? a == b : strcmp (a, b) == 0;
}

static bool
same_layer (const struct open_image *entry, const struct view_choice *choice)
{
  return same_text (entry->snapshot, choice->snapshot)
    && (choice->snapshot == NULL || entry->snapshot_key == choice->snapshot_key)
    && same_text (entry->disk, choice->disk);
}

static struct open_image *
find_locked (const struct file_version *version,
             const struct view_choice *choice)
{
  struct open_image *entry;

  for (entry = table; entry; entry = entry->next)
    if (file_version_equal (&entry->version, version)
        && same_layer (entry, choice))
      return entry;
  return NULL;
}

static struct image *
open_engine_image (const struct open_image *entry)
{
  const struct image_options options = {
    .format = IMAGE_FORMAT_AUTO,
    .cache = settings.cache,
    .allowed_dirs = settings.allowed_dirs,
    .snapshot = entry->snapshot,
    .snapshot_key = entry->snapshot_key,
    .disk = entry->disk,
  };

  return image_open (entry->path, &options);
}

static void
close_entry (struct open_image *entry)
{
  if (entry->image)
    image_close (entry->image);
  free ((char *) entry->path);
  free (entry->snapshot);
  free (entry->disk);
  free (entry);
}

/* Open PATH and make sure the image we got is the version stat() saw
 * before: otherwise a replacement racing with the open could file new
 * contents under the old version.
 */
static struct open_image *
open_new_locked (const char *path, const struct view_choice *choice,
                 const struct file_version *version)
{
  struct open_image *entry;
  struct file_version after;
  struct stat st;

  entry = calloc (1, sizeof *entry);
  if (entry == NULL || (entry->path = strdup (path)) == NULL
      || (choice->snapshot
          && (entry->snapshot = strdup (choice->snapshot)) == NULL)
      || (choice->disk && (entry->disk = strdup (choice->disk)) == NULL)) {
    report_error ("%s: %m", path);
    if (entry)
      close_entry (entry);
    return NULL;
  }
  entry->snapshot_key = choice->snapshot_key;
  entry->image = open_engine_image (entry);
  if (entry->image == NULL || image_file_stat (entry->image, &st) == -1) {
    close_entry (entry);
    return NULL;
  }
  after = file_version_of (&st);
  if (!file_version_equal (&after, version)) {
    close_entry (entry);
    errno = EAGAIN;
    return NULL;
  }
  entry->version = *version;
  entry->references = 1;
  entry->next = table;
  table = entry;
  return entry;
}

bool
image_table_changed (const struct open_image *open_image)
{
  struct file_version now;
  struct stat st;

  if (image_file_stat (open_image->image, &st) == -1)
    return true;
  now = file_version_of (&st);
  if (file_version_equal (&now, &open_image->version))
    return false;
  report_error ("%s: changed while open (rewritten or truncated): earlier "
                "opens read EIO, new opens read the new file", open_image->path);
  return true;
}

struct open_image *
image_table_acquire (const char *path, const struct view_choice *choice)
{
  struct open_image *entry = NULL;
  struct file_version version;
  struct stat st;
  int attempt;

  pthread_mutex_lock (&table_lock);
  for (attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
    if (stat (path, &st) == -1) {
      report_error ("%s: stat: %m", path);
      break;
    }
    version = file_version_of (&st);
    entry = find_locked (&version, choice);
    if (entry) {
      entry->references++;
      break;
    }
    entry = open_new_locked (path, choice, &version);
    if (entry || errno != EAGAIN)
      break;
  }
  if (entry == NULL && attempt == OPEN_ATTEMPTS)
    report_error ("%s: changed while being opened %d times", path, OPEN_ATTEMPTS);
  pthread_mutex_unlock (&table_lock);
  return entry;
}

void
image_table_release (struct open_image *open_image)
{
  struct open_image **link;
  bool last;

  pthread_mutex_lock (&table_lock);
  last = --open_image->references == 0;
  if (last) {
    for (link = &table; *link != open_image; link = &(*link)->next)
      ;
    *link = open_image->next;
  }
  pthread_mutex_unlock (&table_lock);

  if (last)
    close_entry (open_image);
}
