/* Probing the target (see probe.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>

#include "error.h"
#include "probe.h"

/* ---- interpreting the attributes ------------------------------------ */

static bool
read_u64 (const struct fact_reader *reader, const char *path, uint64_t *value)
{
  char buf[64], *end;

  if (reader->read_attr (reader->opaque, path, buf, sizeof buf) == -1)
    return false;
  errno = 0;
  *value = strtoull (buf, &end, 10);
  return errno == 0 && end != buf;
}

static void
read_string (const struct fact_reader *reader, const char *path,
             char *out, size_t size)
{
  if (reader->read_attr (reader->opaque, path, out, size) == -1)
    out[0] = '\0';
}

static bool
has_attr (const struct fact_reader *reader, const char *path)
{
  char buf[FACT_STRING_MAX];

  return reader->read_attr (reader->opaque, path, buf, sizeof buf) == 0;
}

/* Returns whether the two limits every block device shows were read. */
static bool
read_queue_limits (const struct fact_reader *reader, struct device_facts *f)
{
  uint64_t rotational;
  bool complete;

  read_u64 (reader, "queue/discard_granularity", &f->discard_granularity);
  complete = read_u64 (reader, "queue/discard_max_bytes",
                       &f->discard_max_bytes);
  complete &= read_u64 (reader, "queue/write_zeroes_max_bytes",
                        &f->write_zeroes_max_bytes);
  f->has_write_zeroes_unmap =
    read_u64 (reader, "queue/write_zeroes_unmap_max_bytes",
              &f->write_zeroes_unmap_max_bytes);
  f->rotational = read_u64 (reader, "queue/rotational", &rotational)
    ? (int) (rotational != 0) : -1;
  return complete;
}

/* A thin target's parameters are "POOL DEV_ID [EXTERNAL_ORIGIN]". */
static bool
thin_has_external_origin (const char *params)
{
  char pool[128], dev_id[32], origin[128];

  return sscanf (params, "%127s %31s %127s", pool, dev_id, origin) == 3;
}

/* Record the target type (or "mixed") and whether any thin target reads
 * unmapped chunks from an external origin.
 */
static void
parse_dm_table (const char *table, struct device_facts *f)
{
  const char *line = table;
  char type[FACT_STRING_MAX];
  int params_at;

  f->dm_target[0] = '\0';
  while (*line) {
    const char *eol = strchrnul (line, '\n');
    char text[1024];

    snprintf (text, sizeof text, "%.*s", (int) (eol - line), line);
    if (sscanf (text, "%*u %*u %63s %n", type, &params_at) == 1) {
      if (f->dm_target[0] == '\0')
        snprintf (f->dm_target, sizeof f->dm_target, "%s", type);
      else if (strcmp (f->dm_target, type) != 0)
        snprintf (f->dm_target, sizeof f->dm_target, "mixed");
      if (strcmp (type, "thin") == 0
          && thin_has_external_origin (text + params_at))
        f->thin_external_origin = true;
    }
    line = *eol ? eol + 1 : eol;
  }
  if (f->dm_target[0] == '\0')
    snprintf (f->dm_target, sizeof f->dm_target, "none");
}

static void
read_dm_facts (const struct fact_reader *reader, struct device_facts *f)
{
  char table[16384];

  if (reader->dm_table (reader->opaque, table, sizeof table) == -1)
    snprintf (f->dm_target, sizeof f->dm_target, "unreadable");
  else
    parse_dm_table (table, f);
}

/* krbd's "parent" attribute is empty, or "(no parent image)", unless the
 * image is a clone.
 */
static void
read_rbd_facts (const struct fact_reader *reader, struct device_facts *f)
{
  char parent[256];

  if (reader->read_attr (reader->opaque, "device/parent", parent,
                         sizeof parent) == -1) {
    f->rbd_clone = true;        /* unknown: assume the worse */
    return;
  }
  f->rbd_clone = parent[0] != '\0' && strstr (parent, "no parent") == NULL;
}

int
probe_disk_facts (const struct fact_reader *reader, const char *name,
                  struct device_facts *f)
{
  snprintf (f->name, sizeof f->name, "%s", name);
  read_queue_limits (reader, f);

  if (has_attr (reader, "dm/name")) {
    f->driver = DRIVER_DM;
    read_dm_facts (reader, f);
  }
  else if (has_attr (reader, "loop/backing_file"))
    f->driver = DRIVER_LOOP;
  else if (strncmp (name, "rbd", 3) == 0) {
    f->driver = DRIVER_RBD;
    read_rbd_facts (reader, f);
  }
  else if (strncmp (name, "nvme", 4) == 0)
    f->driver = DRIVER_NVME;
  else if (has_attr (reader, "device/scsi_disk/*/zeroing_mode")) {
    f->driver = DRIVER_SD;
    read_string (reader, "device/scsi_disk/*/zeroing_mode",
                 f->scsi_zeroing_mode, sizeof f->scsi_zeroing_mode);
    read_string (reader, "device/scsi_disk/*/provisioning_mode",
                 f->scsi_provisioning_mode, sizeof f->scsi_provisioning_mode);
  }
  else
    f->driver = DRIVER_UNKNOWN;
  return 0;
}

/* ---- the real reader: /sys/dev/block/MAJ:MIN and /dev/mapper/control --- */

struct sysfs_disk {
  char dir[PATH_MAX];           /* the whole disk's folder */
  dev_t devno;                  /* of the disk itself */
};

static int
sysfs_read_attr (void *opaque, const char *path, char *buf, size_t size)
{
  struct sysfs_disk *disk = opaque;
  char pattern[PATH_MAX + 256];
  glob_t g;
  FILE *fp;
  size_t n;

  snprintf (pattern, sizeof pattern, "%s/%s", disk->dir, path);
  if (glob (pattern, 0, NULL, &g) != 0) {
    errno = ENOENT;
    return -1;
  }
  fp = fopen (g.gl_pathv[0], "r");
  globfree (&g);
  if (fp == NULL)
    return -1;
  n = fread (buf, 1, size - 1, fp);
  fclose (fp);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return 0;
}

static int
dm_ioctl_table (void *opaque, char *buf, size_t size)
{
  struct sysfs_disk *disk = opaque;
  union {
    struct dm_ioctl dmi;
    char bytes[16384];
  } u;
  const struct dm_target_spec *spec;
  size_t used = 0;
  uint32_t i;
  int fd, r;

  memset (&u, 0, sizeof u);
  u.dmi.version[0] = DM_VERSION_MAJOR;
  u.dmi.data_size = sizeof u;
  u.dmi.data_start = sizeof u.dmi;
  u.dmi.flags = DM_STATUS_TABLE_FLAG;
  u.dmi.dev = disk->devno;

  fd = open ("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  if (fd == -1)
    return -1;
  r = ioctl (fd, DM_TABLE_STATUS, &u.dmi);
  close (fd);
  if (r == -1)
    return -1;
  if (u.dmi.flags & DM_BUFFER_FULL_FLAG) {
    errno = E2BIG;
    return -1;
  }

  /* Each spec's "next" counts from the first spec (DM_TABLE_STATUS). */
  buf[0] = '\0';
  for (i = 0, spec = (void *) (u.bytes + u.dmi.data_start);
       i < u.dmi.target_count;
       i++, spec = (void *) (u.bytes + u.dmi.data_start + spec->next)) {
    if ((const char *) (spec + 1) > u.bytes + sizeof u)
      break;
    used += snprintf (buf + used, size - used, "%llu %llu %.16s %s\n",
                      (unsigned long long) spec->sector_start,
                      (unsigned long long) spec->length,
                      spec->target_type, (const char *) (spec + 1));
    if (used >= size)
      break;
  }
  return 0;
}

static int
read_whole_number (const char *path, uint64_t *value)
{
  char buf[64];
  FILE *fp = fopen (path, "r");

  if (fp == NULL)
    return -1;
  if (fgets (buf, sizeof buf, fp) == NULL) {
    fclose (fp);
    errno = EIO;
    return -1;
  }
  fclose (fp);
  *value = strtoull (buf, NULL, 10);
  return 0;
}

/* Find the whole disk's folder for the device RDEV, and the partition's
 * offset if RDEV is a partition (its "start" is in 512-byte sectors).
 */
static int
find_sysfs_disk (const char *path, dev_t rdev, struct sysfs_disk *disk,
                 struct device_facts *f)
{
  char link[128], resolved[PATH_MAX], attr[PATH_MAX + 16];
  uint64_t start, disk_devno_major, disk_devno_minor;
  char devno[32];
  FILE *fp;

  snprintf (link, sizeof link, "/sys/dev/block/%u:%u", major (rdev),
            minor (rdev));
  if (realpath (link, resolved) == NULL) {
    report_error ("%s: %s: %m", path, link);
    return -1;
  }
  snprintf (attr, sizeof attr, "%s/partition", resolved);
  f->is_partition = access (attr, F_OK) == 0;
  if (f->is_partition) {
    snprintf (attr, sizeof attr, "%s/start", resolved);
    if (read_whole_number (attr, &start) == -1) {
      report_error ("%s: %s: %m", path, attr);
      return -1;
    }
    f->partition_offset = start * 512;
    *strrchr (resolved, '/') = '\0';
  }
  snprintf (disk->dir, sizeof disk->dir, "%s", resolved);

  snprintf (attr, sizeof attr, "%s/dev", disk->dir);
  fp = fopen (attr, "r");
  if (fp == NULL || fgets (devno, sizeof devno, fp) == NULL
      || sscanf (devno, "%" SCNu64 ":%" SCNu64, &disk_devno_major,
                 &disk_devno_minor) != 2) {
    report_error ("%s: cannot read %s", path, attr);
    if (fp)
      fclose (fp);
    errno = EIO;
    return -1;
  }
  fclose (fp);
  f->disk_major = disk_devno_major;
  f->disk_minor = disk_devno_minor;
  disk->devno = makedev (f->disk_major, f->disk_minor);
  return 0;
}

static int
probe_block_device (const char *path, int fd, dev_t rdev,
                    struct device_facts *f)
{
  struct sysfs_disk disk;
  struct fact_reader reader = { sysfs_read_attr, dm_ioctl_table, &disk };
  int lbs;
  unsigned pbs;
  char name[PATH_MAX];

  f->kind = TARGET_BLOCK_DEVICE;
  if (ioctl (fd, BLKGETSIZE64, &f->size) == -1) {
    report_error ("%s: BLKGETSIZE64: %m", path);
    return -1;
  }
  if (ioctl (fd, BLKSSZGET, &lbs) == -1 || ioctl (fd, BLKPBSZGET, &pbs) == -1) {
    report_error ("%s: BLKSSZGET/BLKPBSZGET: %m", path);
    return -1;
  }
  f->logical_block_size = lbs;
  f->physical_block_size = pbs;

  if (find_sysfs_disk (path, rdev, &disk, f) == -1)
    return -1;
  snprintf (name, sizeof name, "%s", disk.dir);
  return probe_disk_facts (&reader, basename (name), f);
}

int
probe_target (const char *path, int fd, struct device_facts *facts)
{
  struct stat st;

  memset (facts, 0, sizeof *facts);
  facts->rotational = -1;
  if (fstat (fd, &st) == -1) {
    report_error ("%s: stat: %m", path);
    return -1;
  }
  if (S_ISBLK (st.st_mode))
    return probe_block_device (path, fd, st.st_rdev, facts);
  if (!S_ISREG (st.st_mode)) {
    report_error ("%s: not a block device or a regular file", path);
    errno = EINVAL;
    return -1;
  }
  facts->kind = TARGET_REGULAR_FILE;
  facts->size = st.st_size;
  facts->logical_block_size = 1;
  facts->physical_block_size = st.st_blksize;
  return 0;
}

int
probe_refresh_limits (struct device_facts *facts)
{
  struct sysfs_disk disk;
  struct fact_reader reader = { sysfs_read_attr, dm_ioctl_table, &disk };

  if (facts->kind != TARGET_BLOCK_DEVICE)
    return 0;
  snprintf (disk.dir, sizeof disk.dir, "/sys/dev/block/%u:%u",
            facts->disk_major, facts->disk_minor);
  disk.devno = makedev (facts->disk_major, facts->disk_minor);
  if (!read_queue_limits (&reader, facts)) {
    if (errno == 0)
      errno = EIO;
    return -1;
  }
  return 0;
}
