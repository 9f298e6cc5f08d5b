/* The copy pipeline: N worker threads take the next piece of the source
 * (a data run of up to request_size bytes, or a whole hole), read it (the
 * engine decompresses in the worker, so decompression uses every core),
 * turn all-zero blocks into holes, and write it in place with positional
 * writes: pieces never overlap, so no ordering is needed.  Holes go to the
 * zeroer.  The same pipeline, in verify mode, reads the target back.
 *
 * Holes are rounded inward to the target's logical block size and the
 * shaved edges are read from the source as data (they read as zeros), so
 * every zeroing range and every O_DIRECT write is block aligned.
 *
 * With --checksum, each piece goes to the raw digest once written (holes
 * as zeros), which puts them back in guest order (see raw-digest.h).
 */
#ifndef SPARSECOPY_COPY_H
#define SPARSECOPY_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "planner.h"
#include "progress.h"
#include "raw-digest.h"
#include "source.h"
#include "target.h"

struct copy_options {
  unsigned threads;
  uint64_t request_size;        /* bytes per data read/write */
  uint64_t zero_block;          /* -S: all-zero blocks become holes; 0: off */
  struct plan_policy policy;
  struct progress *progress;    /* the run's progress */
  struct raw_digest *digest;    /* --checksum, or NULL */
};

enum copy_failure {
  COPY_OK,
  COPY_SOURCE_FAILED,
  COPY_TARGET_FAILED,
  COPY_NOT_SUPPORTED,           /* a forced method */
  COPY_INTERRUPTED,
  COPY_VERIFY_FAILED,
};

struct copy_result {
  enum copy_failure failure;
  uint64_t failed_at;           /* where the copy stopped */
  uint64_t bytes_read;          /* from the source */
  uint64_t bytes_written;       /* data written to the target */
  uint64_t zeroed[METHOD_COUNT];  /* bytes per zeroing method, up front
                                     included */
  uint64_t holes[METHOD_COUNT];   /* hole bytes by how they became zeros
                                     (see zeroer.h) */
  enum hole_method first;       /* zeroed up front with, or METHOD_SKIP */
  uint64_t first_bytes;
  uint64_t zero_detected;       /* data bytes found all-zero (-S) */
  unsigned disabled;            /* methods dropped as unsupported */
  double seconds;
};

/* Copy SOURCE to TARGET.  Returns 0, or -1 with RESULT->failure set (the
 * failure was reported).  The target is not flushed here.
 */
int copy_run (struct source *source, struct target *target,
              const struct copy_options *options, struct copy_result *result);

/* Read the target back and compare it with the source (holes must read as
 * zeros).  Returns 0, or -1 with RESULT->failure set (reported).
 */
int verify_run (struct source *source, struct target *target,
                const struct copy_options *options,
                struct copy_result *result);

/* Ask a running copy to stop (async-signal-safe): SIGINT, SIGTERM. */
void copy_interrupt (int signum);

/* The signal that stopped the copy, or 0. */
int copy_interrupt_signal (void);

#endif
