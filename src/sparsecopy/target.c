/* The target endpoint (see target.h). */
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

#define ZERO_BUFFER_SIZE (1024 * 1024)

static void *zero_buffer;

void *
alloc_io_buffer (size_t size)
{
  void *buf;
  int r = posix_memalign (&buf, TARGET_BUFFER_ALIGN, size);

  if (r != 0) {
    errno = r;
    report_error ("cannot allocate a %zu-byte I/O buffer: %m", size);
    return NULL;
  }
  return buf;
}

static int
open_block_device (struct target *t, const struct target_options *o)
{
  int flags = O_CLOEXEC;

  flags |= o->dry_run ? O_RDONLY : O_RDWR;
  if (!o->force)
    flags |= O_EXCL;            /* refused if mounted or held exclusively */
  t->direct = o->cache != CACHE_WRITEBACK;
  if (t->direct)
    flags |= O_DIRECT;
  t->fd = open (t->path, flags);
  if (t->fd == -1 && errno == EBUSY) {
    report_error ("%s: the device is in use (mounted, or held by another "
                  "program); --force to write to it anyway", t->path);
    errno = EBUSY;
    return -1;
  }
  if (t->fd == -1) {
    report_error ("%s: open: %m", t->path);
    return -1;
  }
  return 0;
}

/* Regular files are always written through the page cache: O_DIRECT
 * would need the file system's alignment for the last, partial block.
 */
static int
open_new_file (struct target *t, const struct target_options *o)
{
  if (o->dry_run) {
    t->would_create = true;
    return 0;
  }
  t->fd = open (t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (t->fd == -1) {
    report_error ("%s: create: %m", t->path);
    return -1;
  }
  t->created = true;
  if (ftruncate (t->fd, o->source_size) == -1) {
    report_error ("%s: cannot set the size to %" PRIu64 ": %m", t->path,
                  o->source_size);
    return -1;
  }
  return 0;
}

static int
open_existing_file (struct target *t, const struct target_options *o,
                    const struct stat *st)
{
  t->fd = open (t->path, (o->dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (t->fd == -1) {
    report_error ("%s: open: %m", t->path);
    return -1;
  }
  if (!o->dry_run && (uint64_t) st->st_size < o->source_size
      && ftruncate (t->fd, o->source_size) == -1) {
    report_error ("%s: cannot grow the file to %" PRIu64 ": %m", t->path,
                  o->source_size);
    return -1;
  }
  return 0;
}

static int
open_by_type (struct target *t, const struct target_options *o)
{
  struct stat st;

  if (stat (t->path, &st) == -1) {
    if (errno == ENOENT)
      return open_new_file (t, o);
    report_error ("%s: %m", t->path);
    return -1;
  }
  if (S_ISBLK (st.st_mode))
    return open_block_device (t, o);
  if (S_ISREG (st.st_mode))
    return open_existing_file (t, o, &st);
  report_error ("%s: not a block device or a regular file", t->path);
  errno = EINVAL;
  return -1;
}

int
target_open (struct target *t, const char *path,
             const struct target_options *o)
{
  memset (t, 0, sizeof *t);
  t->path = path;
  t->fd = -1;
  if (open_by_type (t, o) == -1)
    return -1;

  if (t->would_create) {
    t->facts.kind = TARGET_REGULAR_FILE;
    t->facts.logical_block_size = 1;
    t->facts.rotational = -1;
  }
  else if (probe_target (path, t->fd, &t->facts) == -1)
    return -1;
  if (t->facts.kind == TARGET_REGULAR_FILE && t->facts.size < o->source_size)
    t->facts.size = o->source_size;   /* --dry-run: it would be grown */
  if (t->facts.size < o->source_size) {
    report_error ("%s: the target (%" PRIu64 " bytes) is smaller than the "
                  "source (%" PRIu64 " bytes); nothing was written",
                  path, t->facts.size, o->source_size);
    errno = ENOSPC;
    return -1;
  }

  if (zero_buffer == NULL) {
    zero_buffer = alloc_io_buffer (ZERO_BUFFER_SIZE);
    if (zero_buffer == NULL)
      return -1;
    memset (zero_buffer, 0, ZERO_BUFFER_SIZE);
  }
  return 0;
}

/* O_DIRECT and a count ending off a block: read the last block, lay the
 * new bytes over it, write it back.  Happens once, at the end of a source
 * whose size is not a multiple of the logical block.
 */
static int
write_partial_block (struct target *t, const void *buf, size_t count,
                     uint64_t offset)
{
  uint32_t lbs = t->facts.logical_block_size;
  char *block = alloc_io_buffer (lbs);
  int r = -1;

  if (block == NULL)
    return -1;
  if (full_pread (t->fd, block, lbs, offset) == 0) {
    memcpy (block, buf, count);
    r = full_pwrite (t->fd, block, lbs, offset);
  }
  free (block);
  return r;
}

int
target_pwrite (struct target *t, const void *buf, size_t count,
               uint64_t offset)
{
  size_t aligned = count;
  int r;

  if (t->direct)
    aligned = round_down (count, t->facts.logical_block_size);
  r = full_pwrite (t->fd, buf, aligned, offset);
  if (r == 0 && aligned < count)
    r = write_partial_block (t, (const char *) buf + aligned, count - aligned,
                             offset + aligned);
  if (r == -1)
    report_error ("%s: write failed at offset %" PRIu64 ": %m", t->path,
                  offset);
  return r;
}

int
target_pread (struct target *t, void *buf, size_t count, uint64_t offset)
{
  uint32_t lbs = t->facts.logical_block_size;
  size_t aligned = t->direct ? round_down (count, lbs) : count;
  char *block = NULL;
  int r = full_pread (t->fd, buf, aligned, offset);

  if (r == 0 && aligned < count) {
    block = alloc_io_buffer (lbs);
    r = block ? full_pread (t->fd, block, lbs, offset + aligned) : -1;
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
flush_around (struct target *t, uint64_t offset, uint64_t length)
{
  long page = sysconf (_SC_PAGESIZE);
  uint64_t start = round_down (offset, page);
  uint64_t end = round_up (offset + length, page);

  if (t->direct || t->facts.kind != TARGET_BLOCK_DEVICE)
    return 0;
  return sync_file_range (t->fd, start, end - start,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                          | SYNC_FILE_RANGE_WAIT_AFTER);
}

int
target_punch (struct target *t, uint64_t offset, uint64_t length)
{
  if (flush_around (t, offset, length) == -1)
    return -1;
  return fallocate (t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    offset, length);
}

static int
range_ioctl (struct target *t, unsigned long request, uint64_t offset,
             uint64_t length)
{
  uint64_t range[2] = { offset, length };

  if (t->facts.kind != TARGET_BLOCK_DEVICE) {
    errno = EOPNOTSUPP;
    return -1;
  }
  if (flush_around (t, offset, length) == -1)
    return -1;
  return ioctl (t->fd, request, range);
}

int
target_discard (struct target *t, uint64_t offset, uint64_t length)
{
  return range_ioctl (t, BLKDISCARD, offset, length);
}

int
target_zeroout (struct target *t, uint64_t offset, uint64_t length)
{
  return range_ioctl (t, BLKZEROOUT, offset, length);
}

int
target_write_zeros (struct target *t, uint64_t offset, uint64_t length)
{
  while (length > 0) {
    size_t n = MIN (length, ZERO_BUFFER_SIZE);

    if (full_pwrite (t->fd, zero_buffer, n, offset) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
}

int
target_flush (struct target *t)
{
  if (t->fd == -1)
    return 0;
  if (fdatasync (t->fd) == -1) {
    report_error ("%s: flush (fdatasync) failed: %m", t->path);
    return -1;
  }
  return 0;
}

int
target_close (struct target *t)
{
  int fd = t->fd;

  t->fd = -1;
  if (fd != -1 && close (fd) == -1) {
    report_error ("%s: close: %m", t->path);
    return -1;
  }
  return 0;
}
