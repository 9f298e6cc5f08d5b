/* The target endpoint: opening it safely, writing data, and the zeroing
 * operations the planner names.
 *
 * Data writes report their own failures.  Zeroing operations do not: they
 * return -1 with errno and the caller (zeroer.c) decides whether it is
 * "not supported" (fall back) or a real error (report, stop).
 *
 * Ranges given to the zeroing operations are aligned to the logical block
 * size (the planner guarantees it): the kernel drops the cached pages of a
 * range before it checks the alignment, so a misaligned call could leave
 * cached zeros that the device does not have.  For the same reason, with
 * buffered I/O (--cache=writeback) on a block device, every zeroing call is
 * preceded by a flush of the dirty pages around its range: the kernel drops
 * them, dirty ones included, even when the operation then fails.
 */
#ifndef SPARSECOPY_TARGET_H
#define SPARSECOPY_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facts.h"

enum cache_mode {
  CACHE_DEFAULT,                /* none on block devices, writeback on files */
  CACHE_NONE,                   /* O_DIRECT (block devices only) */
  CACHE_WRITEBACK,
};

struct target {
  const char *path;
  int fd;
  bool direct;                  /* opened O_DIRECT */
  bool created;                 /* a new regular file: reads zeros */
  bool would_create;            /* --dry-run on a missing file */
  struct device_facts facts;
};

struct target_options {
  bool force;                   /* no O_EXCL on block devices */
  bool dry_run;                 /* open read-only, create nothing */
  enum cache_mode cache;
  uint64_t source_size;
};

/* Open PATH: a block device (O_EXCL unless forced), an existing regular file
 * (grown to the source's size if smaller) or a new one (created, sized to
 * the source).  Probes it.  A target smaller than the source is refused
 * here, before anything is written (ENOSPC).  Returns 0 or -1 (reported).
 */
int target_open (struct target *t, const char *path,
                 const struct target_options *options);

/* Write COUNT bytes of BUF at OFFSET.  With O_DIRECT, BUF is aligned to
 * TARGET_BUFFER_ALIGN, and OFFSET to the logical block; a COUNT that ends
 * off a block (only at the end of an unaligned source) is completed by
 * reading back the last block.  Returns 0 or -1 (reported).
 */
int target_pwrite (struct target *t, const void *buf, size_t count,
                   uint64_t offset);

/* The zeroing operations: -1 with errno, not reported (see above). */
int target_punch (struct target *t, uint64_t offset, uint64_t length);
int target_discard (struct target *t, uint64_t offset, uint64_t length);
int target_zeroout (struct target *t, uint64_t offset, uint64_t length);
int target_write_zeros (struct target *t, uint64_t offset, uint64_t length);

/* Read COUNT bytes at OFFSET back (--verify).  Returns 0 or -1 (reported). */
int target_pread (struct target *t, void *buf, size_t count, uint64_t offset);

/* fdatasync.  Returns 0 or -1 (reported). */
int target_flush (struct target *t);

/* Returns 0 or -1 (reported: a failed close may lose writes). */
int target_close (struct target *t);

#define TARGET_BUFFER_ALIGN 4096

/* An aligned buffer for O_DIRECT I/O, or NULL (reported). */
void *alloc_io_buffer (size_t size);

#endif
