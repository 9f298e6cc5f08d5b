/* The per-version cache of file facts (see file-info.h).
 *
 * A direct-mapped table: each version hashes to one slot, and a version
 * that lands on a taken slot simply replaces what was there.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file-info.h"
#include "file-version.h"
#include "image-table.h"
#include "image.h"

#define SLOTS 4096

struct slot {
  bool used;
  struct file_version version;
  bool probed, is_image;
  bool measured;
  struct raw_view_size size;
  int open_errno;               /* the image can't be opened: why */
  char *error;
};

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];

/* The slot of VERSION, emptied first if it held another version. */
static struct slot *
slot_for_locked (const struct file_version *version)
{
  struct slot *slot = &slots[file_version_hash (version) % SLOTS];

  if (!slot->used || !file_version_equal (&slot->version, version)) {
    free (slot->error);
    *slot = (struct slot) { .used = true, .version = *version };
  }
  return slot;
}

/* Whether the engine would open NAME as an image format other than raw. */
static bool
probes_as_image (int dirfd, const char *name)
{
  enum image_format format;
  int fd, r;

  /* O_NONBLOCK: a FIFO swapped in after the stat must not block us. */
  fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd == -1)
    return false;
  r = image_probe_fd (fd, &format);
  close (fd);
  return r == 0 && format != IMAGE_FORMAT_RAW;
}

bool
file_info_is_image (int dirfd, const char *name, const struct stat *st)
{
  struct file_version version = file_version_of (st);
  struct slot *slot;
  bool is_image, known;

  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  known = slot->probed;
  is_image = slot->is_image;
  pthread_mutex_unlock (&slots_lock);
  if (known)
    return is_image;

  is_image = probes_as_image (dirfd, name);
  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  slot->probed = true;
  slot->is_image = is_image;
  pthread_mutex_unlock (&slots_lock);
  return is_image;
}

/* Failures that belong to the image (damage, refused features or backing
 * files) are remembered until the file changes; others (no memory, too
 * many open files) are tried again next time.
 */
static bool
is_image_failure (int err)
{
  return err == EINVAL || err == ENOTSUP || err == EACCES || err == ELOOP
    || err == EIO;
}

/* Keep the engine's last message for VERSION, and OPEN_ERRNO if it is
 * why the image could not be opened (0: opened, but not mapped).
 */
static void
remember_failure (const struct file_version *version, int open_errno)
{
  struct slot *slot;

  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (version);
  slot->open_errno = open_errno;
  free (slot->error);
  slot->error = strdup (last_error ());
  pthread_mutex_unlock (&slots_lock);
}

/* A damaged map still leaves the size known: the raw file shows, and
 * reads of the damaged part fail.
 */
static int
measure_open_image (const char *path, struct raw_view_size *size,
                    struct file_version *version)
{
  struct open_image *open_image;

  open_image = image_table_acquire (path);
  if (open_image == NULL)
    return -1;
  *version = open_image->version;
  size->virtual_size = image_size (open_image->image);
  size->data_bytes_known =
    image_data_bytes (open_image->image, &size->data_bytes) == 0;
  if (!size->data_bytes_known)
    remember_failure (version, 0);
  image_table_release (open_image);
  return 0;
}

int
file_info_measure (const char *path, const struct stat *st,
                   struct raw_view_size *size)
{
  struct file_version version = file_version_of (st);
  struct slot *slot;
  int err = 0;
  bool known;

  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  known = slot->measured;
  *size = slot->size;
  err = slot->open_errno;
  pthread_mutex_unlock (&slots_lock);
  if (known)
    return 0;
  if (err) {
    errno = err;
    return -1;
  }

  if (measure_open_image (path, size, &version) == -1) {
    err = errno;
    if (is_image_failure (err))
      remember_failure (&version, err);
    errno = err;
    return -1;
  }
  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  slot->measured = true;
  slot->size = *size;
  pthread_mutex_unlock (&slots_lock);
  return 0;
}

bool
file_info_error (const struct stat *st, char *buf, size_t size)
{
  struct file_version version = file_version_of (st);
  struct slot *slot = &slots[file_version_hash (&version) % SLOTS];
  bool known;

  pthread_mutex_lock (&slots_lock);
  known = slot->used && file_version_equal (&slot->version, &version)
    && slot->error != NULL;
  if (known)
    snprintf (buf, size, "%s", slot->error);
  pthread_mutex_unlock (&slots_lock);
  return known;
}
