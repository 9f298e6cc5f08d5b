/* The file endpoint: a regular file or a block device (see target.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "error.h"
#include "full-io.h"
#include "probe.h"
#include "rounding.h"
#include "target.h"

struct file_target {
  struct target t;              /* first: the ops get &t */
  int fd;
  bool direct;                  /* opened O_DIRECT */
};

static const struct target_ops file_ops;

static struct file_target *
file_of (struct target *t)
{
  return (struct file_target *) t;
}

static int
open_block_device (struct file_target *f, const struct target_options *o)
{
  const char *path = f->t.path;
  int flags = O_CLOEXEC;

  flags |= o->dry_run ? O_RDONLY : O_RDWR;
  if (!o->force)
    flags |= O_EXCL;            /* refused if mounted or held exclusively */
  f->direct = o->cache != CACHE_WRITEBACK;
  if (f->direct)
    flags |= O_DIRECT;
  f->fd = open (path, flags);
  if (f->fd == -1 && errno == EBUSY) {
    report_error ("%s: the device is in use (mounted, or held by another "
                  "program); --force to write to it anyway", path);
    errno = EBUSY;
    return -1;
  }
  if (f->fd == -1) {
    report_error ("%s: open: %m", path);
    return -1;
  }
  return 0;
}

/* Regular files are always written through the page cache: O_DIRECT
 * would need the file system's alignment for the last, partial block.
 */
static int
open_new_file (struct file_target *f, const struct target_options *o)
{
  const char *path = f->t.path;

  if (o->dry_run) {
    f->t.would_create = true;
    f->t.reads_zero = true;
    return 0;
  }
  f->fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f->fd == -1) {
    report_error ("%s: create: %m", path);
    return -1;
  }
  f->t.reads_zero = true;
  if (ftruncate (f->fd, o->source_size) == -1) {
    report_error ("%s: cannot set the size to %" PRIu64 ": %m", path,
                  o->source_size);
    return -1;
  }
  return 0;
}

static int
open_existing_file (struct file_target *f, const struct target_options *o,
                    const struct stat *st)
{
  const char *path = f->t.path;

  f->fd = open (path, (o->dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (f->fd == -1) {
    report_error ("%s: open: %m", path);
    return -1;
  }
  if (!o->dry_run && (uint64_t) st->st_size < o->source_size
      && ftruncate (f->fd, o->source_size) == -1) {
    report_error ("%s: cannot grow the file to %" PRIu64 ": %m", path,
                  o->source_size);
    return -1;
  }
  return 0;
}

static int
open_by_type (struct file_target *f, const struct target_options *o)
{
  const char *path = f->t.path;
  struct stat st;

  if (stat (path, &st) == -1) {
    if (errno == ENOENT && !o->no_create)
      return open_new_file (f, o);
    report_error ("%s: %m%s", path,
                  errno == ENOENT ? " (and --no-create)" : "");
    return -1;
  }
  if (S_ISBLK (st.st_mode))
    return open_block_device (f, o);
  if (S_ISREG (st.st_mode))
    return open_existing_file (f, o, &st);
  report_error ("%s: not a block device or a regular file", path);
  errno = EINVAL;
  return -1;
}

static int
open_and_probe (struct file_target *f, const struct target_options *o)
{
  struct device_facts *facts = &f->t.facts;

  if (open_by_type (f, o) == -1)
    return -1;
  if (f->t.would_create) {
    facts->kind = TARGET_REGULAR_FILE;
    facts->logical_block_size = 1;
    facts->rotational = -1;
  }
  else if (probe_target (f->t.path, f->fd, facts) == -1)
    return -1;
  if (facts->kind == TARGET_REGULAR_FILE && facts->size < o->source_size)
    facts->size = o->source_size;       /* --dry-run: it would be grown */
  return target_check_size (&f->t, o->source_size);
}

struct target *
target_file_open (const char *path, const struct target_options *o)
{
  struct file_target *f = calloc (1, sizeof *f);

  if (f == NULL) {
    report_error ("%s: %m", path);
    return NULL;
  }
  f->t.ops = &file_ops;
  f->t.path = path;
  f->fd = -1;
  if (open_and_probe (f, o) == -1) {
    int saved = errno;

    target_close (&f->t);
    errno = saved;
    return NULL;
  }
  return &f->t;
}

/* O_DIRECT and a count ending off a block: read the last block, lay the
 * new bytes over it, write it back.  Happens once, at the end of a source
 * whose size is not a multiple of the logical block.
 */
static int
write_partial_block (struct file_target *f, const void *buf, size_t count,
                     uint64_t offset)
{
  uint32_t lbs = f->t.facts.logical_block_size;
  char *block = alloc_io_buffer (lbs);
  int r = -1;

  if (block == NULL)
    return -1;
  if (full_pread (f->fd, block, lbs, offset) == 0) {
    memcpy (block, buf, count);
    r = full_pwrite (f->fd, block, lbs, offset);
  }
  free (block);
  return r;
}

static int
file_pwrite (struct target *t, const void *buf, size_t count,
             uint64_t offset)
{
  struct file_target *f = file_of (t);
  size_t aligned = count;
  int r;

  if (f->direct)
    aligned = round_down (count, t->facts.logical_block_size);
  r = full_pwrite (f->fd, buf, aligned, offset);
  if (r == 0 && aligned < count)
    r = write_partial_block (f, (const char *) buf + aligned, count - aligned,
                             offset + aligned);
  if (r == -1)
    report_error ("%s: write failed at offset %" PRIu64 ": %m", t->path,
                  offset);
  return r;
}

static int
file_pread (struct target *t, void *buf, size_t count, uint64_t offset)
{
  struct file_target *f = file_of (t);
  uint32_t lbs = t->facts.logical_block_size;
  size_t aligned = f->direct ? round_down (count, lbs) : count;
  char *block = NULL;
  int r = full_pread (f->fd, buf, aligned, offset);

  if (r == 0 && aligned < count) {
    block = alloc_io_buffer (lbs);
    r = block ? full_pread (f->fd, block, lbs, offset + aligned) : -1;
    if (r == 0)
      memcpy ((char *) buf + aligned, block, count - aligned);
    free (block);
  }
  if (r == -1)
    report_error ("%s: read failed at offset %" PRIu64 ": %m", t->path,
                  offset);
  return r;
}

/* Buffered block device: write out dirty pages around the range first,
 * since the zeroing call drops them even if it fails.
 */
static int
flush_around (struct file_target *f, uint64_t offset, uint64_t length)
{
  long page = sysconf (_SC_PAGESIZE);
  uint64_t start = round_down (offset, page);
  uint64_t end = round_up (offset + length, page);

  if (f->direct || f->t.facts.kind != TARGET_BLOCK_DEVICE)
    return 0;
  return sync_file_range (f->fd, start, end - start,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                          | SYNC_FILE_RANGE_WAIT_AFTER);
}

static int
file_punch (struct target *t, uint64_t offset, uint64_t length)
{
  struct file_target *f = file_of (t);

  if (flush_around (f, offset, length) == -1)
    return -1;
  return fallocate (f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    offset, length);
}

static int
range_ioctl (struct file_target *f, unsigned long request, uint64_t offset,
             uint64_t length)
{
  uint64_t range[2] = { offset, length };

  if (f->t.facts.kind != TARGET_BLOCK_DEVICE) {
    errno = EOPNOTSUPP;
    return -1;
  }
  if (flush_around (f, offset, length) == -1)
    return -1;
  return ioctl (f->fd, request, range);
}

static int
file_discard (struct target *t, uint64_t offset, uint64_t length)
{
  return range_ioctl (file_of (t), BLKDISCARD, offset, length);
}

static int
file_zeroout (struct target *t, uint64_t offset, uint64_t length)
{
  return range_ioctl (file_of (t), BLKZEROOUT, offset, length);
}

static int
file_raw_write (struct target *t, const void *buf, size_t count,
                uint64_t offset)
{
  return full_pwrite (file_of (t)->fd, buf, count, offset);
}

static int
file_write_zeros (struct target *t, uint64_t offset, uint64_t length)
{
  return target_write_zero_buffers (t, offset, length, file_raw_write);
}

static int
file_flush (struct target *t)
{
  struct file_target *f = file_of (t);

  if (f->fd == -1)
    return 0;
  if (fdatasync (f->fd) == -1) {
    report_error ("%s: flush (fdatasync) failed: %m", t->path);
    return -1;
  }
  return 0;
}

static int
file_refresh_facts (struct target *t)
{
  return probe_refresh_limits (&t->facts);
}

/* A raw stream's size is known at its end: a regular file grows to it (its
 * last blocks may have been holes, never written).  A block device has the
 * size it has.
 */
static int
file_grow (struct target *t, uint64_t size)
{
  struct file_target *f = file_of (t);
  struct stat st;

  if (t->facts.kind != TARGET_REGULAR_FILE || fstat (f->fd, &st) == -1
      || (uint64_t) st.st_size >= size)
    return 0;
  if (ftruncate (f->fd, size) == -1) {
    report_error ("%s: cannot grow the file to %" PRIu64 ": %m", t->path,
                  size);
    return -1;
  }
  return 0;
}

static int
file_close (struct target *t)
{
  struct file_target *f = file_of (t);
  int r = 0;

  if (f->fd != -1 && close (f->fd) == -1) {
    report_error ("%s: close: %m", t->path);
    r = -1;
  }
  free (f);
  return r;
}

static const struct target_ops file_ops = {
  .name = "file",
  .pwrite = file_pwrite,
  .pread = file_pread,
  .punch = file_punch,
  .discard = file_discard,
  .zeroout = file_zeroout,
  .write_zeros = file_write_zeros,
  .flush = file_flush,
  .refresh_facts = file_refresh_facts,
  .grow = file_grow,
  .close = file_close,
};
