/* The target: one interface, one implementation per endpoint, in the
 * manner of libnbd's copy/ (struct rw + struct rw_ops).  Each endpoint
 * embeds struct target first, fills its facts (facts.h) when it opens,
 * and answers the operations of its struct target_ops:
 *   target-file.c  a regular file or a block device
 *   target-nbd.c   an NBD export, through libnbd
 *   target-rbd.c   a Ceph RBD image (rbd:POOL/IMAGE), through librbd
 * target_open() picks the endpoint from the name; the planner decides from
 * the facts alone, zeroer.c and copy.c call through the table.
 *
 * The contract of each operation (every endpoint keeps it):
 *
 * Open.  The endpoint's open function (target_open's contract) fills
 * facts: kind, size, logical_block_size (1 when any byte range goes) and
 * what its zeroing operations need; sets reads_zero when the whole target
 * reads zeros already (a new file or image, an export whose block status
 * says so: holes are then skipped); refuses a target smaller than the
 * source with target_check_size(); frees what it made when it fails.
 *
 * Threads.  pwrite, pread and the zeroing operations are called by up to
 * -j worker threads at once, on ranges that never overlap.  An endpoint
 * with asynchronous calls keeps one request in flight per calling thread,
 * so -j workers are -j requests in flight.  flush, grow and close are
 * called by one thread, with no other operation running.
 *
 * Errors.  Data operations (pwrite, pread, flush, grow, close) report their
 * own failures (report_error, with the target's name, the operation and
 * the offset) and return -1 with errno.  The zeroing operations do not:
 * they return -1 with errno and the caller (zeroer.c) decides.  EOPNOTSUPP
 * (also ENOTTY, ENOSYS, ENODEV) means "this method is not supported here":
 * the zeroer drops it for the rest of the run and plans the hole again
 * with the next method; any other errno stops the copy.  A zeroing
 * operation the endpoint does not have is a NULL hook: EOPNOTSUPP.
 *
 * Ranges.  Every range lies within facts.size and is aligned to
 * facts.logical_block_size (the planner and the copier guarantee it); a
 * data count may end off a block only at the end of the source, and an
 * endpoint that needs whole blocks completes that one itself (read the
 * block, lay the bytes over it, write it back).
 *
 * The zeroing operations, each of which must leave the range reading zeros
 * when it returns 0 (what else it may do is the planner's business, from
 * the facts the endpoint gave it):
 *   punch        zeros that may deallocate: fallocate(PUNCH_HOLE), NBD
 *                WRITE_ZEROES without NO_HOLE (with FAST_ZERO where the
 *                server offers it: EOPNOTSUPP when refused as slow)
 *   discard      a deallocation the planner only picks where facts say
 *                discarded blocks read back zero (facts_discard_reads_zero);
 *                given whole facts.discard_granularity granules
 *   zeroout      zeros the device writes itself (BLKZEROOUT, NBD
 *                WRITE_ZEROES without FAST_ZERO); may allocate
 *   write_zeros  plain writes of zero buffers; always works, allocates
 *
 * Ranges handed to a file or block device are aligned to the logical block
 * size for a reason of their own: the kernel drops the cached pages of a
 * range before it checks the alignment, so a misaligned call could leave
 * cached zeros that the device does not have.  For the same reason, with
 * buffered I/O (--cache=writeback) on a block device, every zeroing call is
 * preceded by a flush of the dirty pages around its range: the kernel drops
 * them, dirty ones included, even when the operation then fails.
 */
#ifndef SPARSECOPY_TARGET_H
#define SPARSECOPY_TARGET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facts.h"

enum cache_mode {
  CACHE_DEFAULT,                /* none on block devices, writeback on files */
  CACHE_NONE,                   /* O_DIRECT (block devices only) */
  CACHE_WRITEBACK,
};

struct target_options {
  bool force;                   /* no O_EXCL on block devices */
  bool dry_run;                 /* open read-only, create nothing */
  bool no_create;               /* refuse a missing target (--no-create) */
  enum cache_mode cache;
  uint64_t source_size;
};

struct target;

struct target_ops {
  const char *name;             /* "file", "nbd", ... */

  /* Write COUNT bytes of BUF at OFFSET, all of them.  BUF is aligned to
   * TARGET_BUFFER_ALIGN.  Returns 0 or -1 (reported).
   */
  int (*pwrite) (struct target *t, const void *buf, size_t count,
                 uint64_t offset);

  /* Read COUNT bytes at OFFSET into BUF (--verify).  Returns 0 or -1
   * (reported).
   */
  int (*pread) (struct target *t, void *buf, size_t count, uint64_t offset);

  /* The zeroing operations (see above): 0, or -1 with errno, not reported.
   * NULL: not supported.
   */
  int (*punch) (struct target *t, uint64_t offset, uint64_t length);
  int (*discard) (struct target *t, uint64_t offset, uint64_t length);
  int (*zeroout) (struct target *t, uint64_t offset, uint64_t length);
  int (*write_zeros) (struct target *t, uint64_t offset, uint64_t length);

  /* Make everything written so far durable (fdatasync, NBD FLUSH).
   * Returns 0 or -1 (reported).
   */
  int (*flush) (struct target *t);

  /* Read again the facts that may change while a copy runs (a block
   * device's queue limits, which the kernel turns off after a refusal).
   * Returns 0, or -1 with errno (not reported) leaving what could not be
   * read as it was.  NULL: nothing changes.
   */
  int (*refresh_facts) (struct target *t);

  /* Make the target at least SIZE bytes long: a stream's size is known at
   * its end.  Returns 0 or -1 (reported).  NULL: the size is fixed, and
   * target_open() checked it against the source.
   */
  int (*grow) (struct target *t, uint64_t size);

  /* Close the endpoint and free T.  Returns 0 or -1 (reported: a failed
   * close may lose writes).
   */
  int (*close) (struct target *t);
};

struct target {
  const struct target_ops *ops;
  const char *path;             /* as the user named it, for messages */
  bool reads_zero;              /* the whole target reads zeros now: a new
                                   file, an export that says it is all
                                   zero; holes are skipped */
  bool would_create;            /* --dry-run on a missing file */
  struct device_facts facts;
};

/* Open the target NAME (a path, an NBD URI: nbd://, nbds://,
 * nbd+unix://, nbds+unix://, or rbd:POOL/IMAGE) and probe it.  A target smaller than the source is refused here, before
 * anything is written (ENOSPC).  Returns the target, or NULL (reported).
 */
struct target *target_open (const char *name,
                            const struct target_options *options);

/* The endpoints' own open functions, same contract (target_open picks). */
struct target *target_file_open (const char *path,
                                 const struct target_options *options);
struct target *target_nbd_open (const char *uri,
                                const struct target_options *options);
struct target *target_rbd_open (const char *name,
                                const struct target_options *options);

/* Refuse a target of facts.size smaller than the source.  Returns 0 or -1
 * (reported, ENOSPC).  For the endpoints' open functions.
 */
int target_check_size (const struct target *t, uint64_t source_size);

/* The calls through the table. */
static inline int
target_pwrite (struct target *t, const void *buf, size_t count,
               uint64_t offset)
{
  return t->ops->pwrite (t, buf, count, offset);
}

static inline int
target_pread (struct target *t, void *buf, size_t count, uint64_t offset)
{
  return t->ops->pread (t, buf, count, offset);
}

static inline int
target_unsupported (void)
{
  errno = EOPNOTSUPP;
  return -1;
}

static inline int
target_punch (struct target *t, uint64_t offset, uint64_t length)
{
  return t->ops->punch ? t->ops->punch (t, offset, length)
    : target_unsupported ();
}

static inline int
target_discard (struct target *t, uint64_t offset, uint64_t length)
{
  return t->ops->discard ? t->ops->discard (t, offset, length)
    : target_unsupported ();
}

static inline int
target_zeroout (struct target *t, uint64_t offset, uint64_t length)
{
  return t->ops->zeroout ? t->ops->zeroout (t, offset, length)
    : target_unsupported ();
}

static inline int
target_write_zeros (struct target *t, uint64_t offset, uint64_t length)
{
  return t->ops->write_zeros (t, offset, length);
}

static inline int
target_flush (struct target *t)
{
  return t->ops->flush (t);
}

static inline int
target_refresh_facts (struct target *t)
{
  return t->ops->refresh_facts ? t->ops->refresh_facts (t) : 0;
}

/* Returns 0 or -1 (reported).  NULL is fine. */
int target_close (struct target *t);

#define TARGET_BUFFER_ALIGN 4096

/* An aligned buffer for O_DIRECT I/O, or NULL (reported). */
void *alloc_io_buffer (size_t size);

/* A write that does not report its failure: 0, or -1 with errno. */
typedef int target_raw_write (struct target *t, const void *buf, size_t count,
                              uint64_t offset);

/* write_zeros for an endpoint: [OFFSET, OFFSET + LENGTH) written from a
 * shared buffer of zeros with WRITE.  Returns 0, or -1 with errno.
 */
int target_write_zero_buffers (struct target *t, uint64_t offset,
                               uint64_t length, target_raw_write *write);

#endif
