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

#include "archive-folder.h"
#include "error.h"
#include "file-info.h"
#include "file-version.h"
#include "image-table.h"
#include "image.h"

#define SLOTS 4096

/* The measure of one disk of an OVA archive, by its name. */
struct disk_measure {
  char *disk;
  struct raw_view_size size;
};

struct slot {
  bool used;
  struct file_version version;
  bool probed, is_image;
  bool archive_probed, is_archive;
  bool has_snapshots;           /* a qcow2 header counting snapshots */
  bool measured;
  struct raw_view_size size;
  int open_errno;               /* the image can't be opened: why */
  char *error;
  /* An OVA archive's disks measured at this version: at most its disk
   * list (OVF_MAX_REFERENCES names).
   */
  struct disk_measure *disks;
  size_t n_disks;
};

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];

/* The slot of VERSION, emptied first if it held another version. */
static struct slot *
slot_for_locked (const struct file_version *version)
{
  struct slot *slot = &slots[file_version_hash (version) % SLOTS];
  size_t i;

  if (!slot->used || !file_version_equal (&slot->version, version)) {
    free (slot->error);
    for (i = 0; i < slot->n_disks; i++)
      free (slot->disks[i].disk);
    free (slot->disks);
    *slot = (struct slot) { .used = true, .version = *version };
  }
  return slot;
}

/* Whether the qcow2 header of FD counts snapshots: nb_snapshots is the
 * big-endian 32-bit field at byte 60 of versions 2 and 3.
 */
static bool
header_counts_snapshots (int fd)
{
  unsigned char field[4];

  return pread (fd, field, sizeof field, 60) == (ssize_t) sizeof field
    && (field[0] | field[1] | field[2] | field[3]) != 0;
}

/* Whether the engine would open NAME as an image format other than raw;
 * if it would, *HAS_SNAPSHOTS says whether its header counts snapshots.
 */
static bool
probes_as_image (int dirfd, const char *name, bool *has_snapshots)
{
  enum image_format format;
  int fd, r;

  *has_snapshots = false;
  /* O_NONBLOCK: a FIFO swapped in after the stat must not block us. */
  fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd == -1)
    return false;
  r = image_probe_fd (fd, &format);
  *has_snapshots = r == 0 && format == IMAGE_FORMAT_QCOW2
    && header_counts_snapshots (fd);
  close (fd);
  return r == 0 && format != IMAGE_FORMAT_RAW;
}

/* Whether NAME (whose stat is ST) is an image, and *HAS_SNAPSHOTS, probed
 * once per version.
 */
static bool
probe (int dirfd, const char *name, const struct stat *st, bool *has_snapshots)
{
  struct file_version version = file_version_of (st);
  struct slot *slot;
  bool is_image, known;

  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  known = slot->probed;
  is_image = slot->is_image;
  *has_snapshots = slot->has_snapshots;
  pthread_mutex_unlock (&slots_lock);
  if (known)
    return is_image;

  is_image = probes_as_image (dirfd, name, has_snapshots);
  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  slot->probed = true;
  slot->is_image = is_image;
  slot->has_snapshots = *has_snapshots;
  pthread_mutex_unlock (&slots_lock);
  return is_image;
}

bool
file_info_is_image (int dirfd, const char *name, const struct stat *st)
{
  bool has_snapshots;

  return probe (dirfd, name, st, &has_snapshots);
}

bool
file_info_is_archive (const char *path, const struct stat *st)
{
  struct file_version version = file_version_of (st);
  struct slot *slot;
  bool known, is_archive;

  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  known = slot->archive_probed;
  is_archive = slot->is_archive;
  pthread_mutex_unlock (&slots_lock);
  if (known)
    return is_archive;

  is_archive = archive_is_ova (path);
  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (&version);
  slot->archive_probed = true;
  slot->is_archive = is_archive;
  pthread_mutex_unlock (&slots_lock);
  return is_archive;
}

bool
file_info_has_snapshots (int dirfd, const char *name, const struct stat *st)
{
  bool has_snapshots;

  probe (dirfd, name, st, &has_snapshots);
  return has_snapshots;
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
measure_open_image (const char *path, const struct view_choice *choice,
                    struct raw_view_size *size, struct file_version *version)
{
  struct open_image *open_image;

  open_image = image_table_acquire (path, choice);
  if (open_image == NULL)
    return -1;
  *version = open_image->version;
  size->virtual_size = image_size (open_image->image);
  size->data_bytes_known =
    image_data_bytes (open_image->image, &size->data_bytes) == 0;
  if (!size->data_bytes_known && choice->snapshot == NULL
      && choice->disk == NULL)
    remember_failure (version, 0);
  image_table_release (open_image);
  return 0;
}

/* The measure of DISK kept in SLOT, or NULL. */
static const struct disk_measure *
find_disk_locked (const struct slot *slot, const char *disk)
{
  size_t i;

  for (i = 0; i < slot->n_disks; i++)
    if (strcmp (slot->disks[i].disk, disk) == 0)
      return &slot->disks[i];
  return NULL;
}

/* Keep SIZE as DISK's measure in SLOT.  Out of memory, it is just measured
 * again next time.
 */
static void
keep_disk_locked (struct slot *slot, const char *disk,
                  const struct raw_view_size *size)
{
  struct disk_measure *grown;
  char *name;

  if (find_disk_locked (slot, disk) != NULL)
    return;
  grown = realloc (slot->disks, (slot->n_disks + 1) * sizeof *grown);
  if (grown == NULL)
    return;
  slot->disks = grown;
  name = strdup (disk);
  if (name != NULL)
    slot->disks[slot->n_disks++] = (struct disk_measure) { name, *size };
}

/* Measure disk CHOICE->disk of the OVA archive PATH (at *VERSION), once
 * per version of the archive: walking a large disk's map takes long, and
 * every getattr and listing of the archive's folder asks for it.
 */
static int
measure_disk (const char *path, const struct view_choice *choice,
              struct raw_view_size *size, struct file_version *version)
{
  const struct disk_measure *known;
  struct slot *slot;

  pthread_mutex_lock (&slots_lock);
  known = find_disk_locked (slot_for_locked (version), choice->disk);
  if (known != NULL)
    *size = known->size;
  pthread_mutex_unlock (&slots_lock);
  if (known != NULL)
    return 0;

  if (measure_open_image (path, choice, size, version) == -1)
    return -1;
  pthread_mutex_lock (&slots_lock);
  slot = slot_for_locked (version);
  keep_disk_locked (slot, choice->disk, size);
  pthread_mutex_unlock (&slots_lock);
  return 0;
}

int
file_info_measure (const char *path, const struct stat *st,
                   const struct view_choice *choice,
                   struct raw_view_size *size)
{
  struct file_version version = file_version_of (st);
  struct slot *slot;
  int err = 0;
  bool known;

  if (choice->snapshot)
    return measure_open_image (path, choice, size, &version);
  if (choice->disk)
    return measure_disk (path, choice, size, &version);

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

  if (measure_open_image (path, choice, size, &version) == -1) {
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
