/* The copy pipeline (see copy.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "copy.h"
#include "error.h"
#include "iszero.h"
#include "messages.h"
#include "progress.h"
#include "rounding.h"
#include "zeroer.h"

/* A hole handed to one worker at once: large enough to be one call for a
 * fast punch, small enough to spread a huge hole over the workers.
 */
#define HOLE_PIECE_MAX (UINT64_C (1) << 30)

static atomic_bool interrupt_requested;
static volatile sig_atomic_t interrupt_signal;

void
copy_interrupt (int signum)
{
  interrupt_signal = signum;
  atomic_store (&interrupt_requested, true);
}

int
copy_interrupt_signal (void)
{
  return interrupt_signal;
}

struct copy {
  struct source *source;
  struct target *target;
  const struct copy_options *options;
  bool verify;
  uint64_t block;               /* the target's logical block size */

  pthread_mutex_t lock;         /* guards cursor, result.failure/failed_at */
  pthread_cond_t finished_cond;
  unsigned running;
  struct source_cut cut;
  uint64_t cursor;              /* the end of the last piece handed out */
  struct copy_result *result;

  struct zeroer zeroer;
  struct raw_digest *digest;    /* or NULL (and always in verify mode) */
  atomic_bool stop;             /* a failure or an interrupt */
  _Atomic uint64_t done;        /* bytes of the source dealt with */
  _Atomic uint64_t bytes_read, bytes_written, zero_detected;
};

/* The first failure wins and is the one printed (workers hold their
 * messages); every worker stops.
 */
static void
fail (struct copy *c, enum copy_failure failure, uint64_t offset)
{
  pthread_mutex_lock (&c->lock);
  if (c->result->failure == COPY_OK) {
    c->result->failure = failure;
    c->result->failed_at = offset;
    if (failure != COPY_INTERRUPTED)
      messages_print_last ();
  }
  pthread_mutex_unlock (&c->lock);
  atomic_store (&c->stop, true);
  if (c->digest)
    raw_digest_stop (c->digest);
}

static bool
should_stop (struct copy *c)
{
  if (atomic_load (&interrupt_requested))
    atomic_store (&c->stop, true);
  return atomic_load (&c->stop);
}

static int
take_piece (struct copy *c, struct source_piece *p)
{
  int r;

  pthread_mutex_lock (&c->lock);
  r = source_next (c->source, &c->cut, p);
  if (r == 1)
    c->cursor = p->offset + p->length;
  pthread_mutex_unlock (&c->lock);
  if (r == -1)
    fail (c, COPY_SOURCE_FAILED, c->cursor);
  return r;
}

/* The zeroer failed at OFFSET (reported): stop the copy. */
static void
zeroing_failed (struct copy *c, uint64_t offset)
{
  fail (c, errno == EINTR ? COPY_INTERRUPTED
        : errno == ENOTSUP ? COPY_NOT_SUPPORTED : COPY_TARGET_FAILED, offset);
}

static int
zero_range (struct copy *c, uint64_t offset, uint64_t length)
{
  if (zeroer_zero (&c->zeroer, offset, length) == -1) {
    zeroing_failed (c, offset);
    return -1;
  }
  return 0;
}

static int
write_range (struct copy *c, const char *buf, uint64_t offset,
             uint64_t length)
{
  if (target_pwrite (c->target, buf, length, offset) == -1) {
    fail (c, COPY_TARGET_FAILED, offset);
    return -1;
  }
  atomic_fetch_add (&c->bytes_written, length);
  return 0;
}

/* Where the zero-detection block holding OFFSET ends (blocks are aligned
 * to their size, counted from the start of the disk image).
 */
static uint64_t
zero_block_end (struct copy *c, uint64_t offset, uint64_t end)
{
  uint64_t zb = c->options->zero_block;

  return MIN (end, offset - offset % zb + zb);
}

/* [OFFSET, OFFSET + LENGTH) is on the target: hash its bytes (BUF, or
 * zeros: NULL).  Ranges found all-zero go as zeros, so that the digest
 * never reads back what was not written (past the end of a growing file).
 */
static int
digest_range (struct copy *c, const char *buf, uint64_t offset,
              uint64_t length)
{
  if (c->digest == NULL
      || raw_digest_add (c->digest, offset, length, buf) == 0)
    return 0;
  fail (c, COPY_TARGET_FAILED, offset);
  return -1;
}

/* Write a run of piece P (BUF holds P's bytes): zeros as a hole. */
static int
write_run (struct copy *c, const char *buf, const struct source_piece *p,
           uint64_t start, uint64_t end, bool zero)
{
  const char *bytes = buf + (start - p->offset);

  if (zero)
    return zero_range (c, start, end - start) == -1 ? -1
      : digest_range (c, NULL, start, end - start);
  return write_range (c, bytes, start, end - start) == -1 ? -1
    : digest_range (c, bytes, start, end - start);
}

/* Write the data piece at BUF, all-zero blocks as holes: runs of the same
 * kind are written (or zeroed) together.
 */
static int
write_data (struct copy *c, const char *buf, const struct source_piece *p)
{
  uint64_t end = p->offset + p->length, pos, run_start, next;
  bool run_zero = false, zero;

  if (c->options->zero_block == 0)
    return write_run (c, buf, p, p->offset, end, false);
  for (pos = run_start = p->offset; pos < end; pos = next) {
    next = zero_block_end (c, pos, end);
    zero = (next - pos) % c->block == 0
      && is_zero (buf + (pos - p->offset), next - pos);
    if (pos > run_start && zero != run_zero) {
      if (write_run (c, buf, p, run_start, pos, run_zero) == -1)
        return -1;
      run_start = pos;
    }
    run_zero = zero;
    if (zero)
      atomic_fetch_add (&c->zero_detected, next - pos);
  }
  return write_run (c, buf, p, run_start, end, run_zero);
}

/* The source is damaged GOOD bytes into piece P: copy those first, so that
 * the target holds everything before the offset the message names.
 */
static void
copy_before_damage (struct copy *c, const char *buf,
                    const struct source_piece *p, uint64_t good)
{
  const struct source_piece before = { SOURCE_PIECE_DATA, p->offset, good };

  if (good == 0 || write_data (c, buf, &before) == 0)
    fail (c, COPY_SOURCE_FAILED, p->offset + good);
}

/* Copy piece P: its bytes from where the source holds them, or read into
 * BUF.
 */
static int
copy_piece (struct copy *c, char *buf, const struct source_piece *p)
{
  const char *bytes;
  uint64_t good;

  if (p->type == SOURCE_PIECE_HOLE)
    return zero_range (c, p->offset, p->length) == -1 ? -1
      : digest_range (c, NULL, p->offset, p->length);
  bytes = source_peek (c->source, p);
  if (bytes == NULL) {
    if (source_read (c->source, p, buf, &good) == -1) {
      copy_before_damage (c, buf, p, good);
      return -1;
    }
    bytes = buf;
  }
  atomic_fetch_add (&c->bytes_read, p->length);
  return write_data (c, bytes, p);
}

static uint64_t
first_difference (const char *a, const char *b, uint64_t length)
{
  uint64_t i;

  for (i = 0; i < length && a[i] == b[i]; i++)
    ;
  return i;
}

static int
verify_piece (struct copy *c, char *buf, char *back, const struct source_piece *p)
{
  uint64_t at;

  if (target_pread (c->target, back, p->length, p->offset) == -1) {
    fail (c, COPY_TARGET_FAILED, p->offset);
    return -1;
  }
  if (p->type == SOURCE_PIECE_HOLE)
    memset (buf, 0, p->length);
  else if (source_pread (c->source, buf, p->length, p->offset, NULL) == -1) {
    fail (c, COPY_SOURCE_FAILED, p->offset);
    return -1;
  }
  else
    atomic_fetch_add (&c->bytes_read, p->length);
  at = first_difference (buf, back, p->length);
  if (at < p->length) {
    report_error ("%s: verify failed at offset %" PRIu64 ": the target "
                  "differs from the source%s", c->target->path,
                  p->offset + at, p->type == SOURCE_PIECE_HOLE
                  ? " (a hole that does not read as zeros)" : "");
    fail (c, COPY_VERIFY_FAILED, p->offset + at);
    return -1;
  }
  return 0;
}

static void *
worker (void *arg)
{
  struct copy *c = arg;
  size_t size = c->options->request_size + c->block;
  char *buf, *back = NULL;
  struct source_piece p;
  int r;

  messages_hold ();
  buf = alloc_io_buffer (size);
  if (c->verify)
    back = alloc_io_buffer (size);
  if (buf == NULL || (c->verify && back == NULL))
    fail (c, COPY_TARGET_FAILED, c->cursor);
  while (!should_stop (c) && take_piece (c, &p) == 1) {
    r = c->verify ? verify_piece (c, buf, back, &p) : copy_piece (c, buf, &p);
    source_done (c->source, &p);
    if (r == -1)
      break;
    atomic_fetch_add (&c->done, p.length);
  }
  free (buf);
  free (back);
  messages_release ();

  pthread_mutex_lock (&c->lock);
  c->running--;
  pthread_cond_signal (&c->finished_cond);
  pthread_mutex_unlock (&c->lock);
  return NULL;
}

static double
seconds_since (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Wait for the workers, telling the progress meanwhile. */
static void
wait_for_workers (struct copy *c)
{
  struct timespec deadline;

  pthread_mutex_lock (&c->lock);
  while (c->running > 0) {
    clock_gettime (CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 250 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000 * 1000 * 1000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000 * 1000 * 1000;
    }
    pthread_cond_timedwait (&c->finished_cond, &c->lock, &deadline);
    pthread_mutex_unlock (&c->lock);
    progress_update (c->options->progress, atomic_load (&c->done));
    pthread_mutex_lock (&c->lock);
  }
  pthread_mutex_unlock (&c->lock);
}

static void
collect_result (struct copy *c, const struct timespec *start)
{
  struct copy_result *r = c->result;
  int m;

  r->bytes_read = atomic_load (&c->bytes_read);
  r->bytes_written = atomic_load (&c->bytes_written);
  r->zero_detected = atomic_load (&c->zero_detected);
  for (m = 0; m < METHOD_COUNT; m++) {
    r->zeroed[m] = atomic_load (&c->zeroer.bytes[m]);
    r->holes[m] = atomic_load (&c->zeroer.holes[m]);
  }
  r->first = c->zeroer.first;
  r->first_bytes = c->zeroer.first_bytes;
  r->disabled = zeroer_disabled (&c->zeroer);
  r->seconds = seconds_since (start);
  if (r->failure == COPY_OK && atomic_load (&interrupt_requested)) {
    r->failure = COPY_INTERRUPTED;
    r->failed_at = c->cursor;
  }
}

/* Zero the whole range in one go when that is cheaper (see zeroer.h); the
 * workers then skip holes.  The last partial block, if any, is data.
 */
static int
zero_first (struct copy *c)
{
  uint64_t length = round_down (c->source->size, c->block);
  int r;

  if (length == 0 || !zeroer_should_zero_first (&c->zeroer))
    return 0;
  progress_phase (c->options->progress, PHASE_ZERO, length, true);
  messages_hold ();
  r = zeroer_zero_first (&c->zeroer, length);
  if (r == -1)
    zeroing_failed (c, 0);
  messages_release ();
  progress_end_phase (c->options->progress, r == 1 ? length : 0, length);
  return r == -1 ? -1 : 0;
}

/* Start the workers; returns how many started (a failure stops the copy).
 * They block SIGUSR1, so that it reaches the main thread, whose wait is
 * restarted, rather than interrupt a worker's I/O.
 */
static unsigned
start_workers (struct copy *c, pthread_t *threads)
{
  sigset_t usr1, old;
  unsigned i;

  sigemptyset (&usr1);
  sigaddset (&usr1, SIGUSR1);
  pthread_sigmask (SIG_BLOCK, &usr1, &old);

  for (i = 0; i < c->options->threads; i++) {
    pthread_mutex_lock (&c->lock);
    c->running++;
    pthread_mutex_unlock (&c->lock);
    errno = pthread_create (&threads[i], NULL, worker, c);
    if (errno != 0) {
      report_error ("cannot start a worker thread: %m");
      pthread_mutex_lock (&c->lock);
      c->running--;
      pthread_mutex_unlock (&c->lock);
      fail (c, COPY_TARGET_FAILED, 0);
      break;
    }
  }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  return i;
}

static int
run_pipeline (struct source *source, struct target *target,
              const struct copy_options *options, bool verify,
              struct copy_result *result)
{
  struct copy c = {
    .source = source, .target = target, .options = options,
    .verify = verify, .result = result,
    .block = MAX (1, target->facts.logical_block_size),
    .digest = verify ? NULL : options->digest,
  };
  pthread_t *threads = calloc (options->threads, sizeof *threads);
  struct timespec start;
  unsigned i, started = 0;

  c.cut = (struct source_cut) {
    .block = c.block, .data_max = options->request_size,
    .hole_max = verify ? options->request_size : HOLE_PIECE_MAX,
  };
  memset (result, 0, sizeof *result);
  if (threads == NULL) {
    report_error ("cannot allocate %u threads: %m", options->threads);
    result->failure = COPY_TARGET_FAILED;
    return -1;
  }
  pthread_mutex_init (&c.lock, NULL);
  pthread_cond_init (&c.finished_cond, NULL);
  zeroer_init (&c.zeroer, target, &options->policy, &c.stop);
  clock_gettime (CLOCK_MONOTONIC, &start);

  if (verify || zero_first (&c) == 0) {
    progress_phase (options->progress, verify ? PHASE_VERIFY : PHASE_COPY,
                    source->size, source->size_known);
    started = start_workers (&c, threads);
  }
  wait_for_workers (&c);
  for (i = 0; i < started; i++)
    pthread_join (threads[i], NULL);
  progress_end_phase (options->progress, atomic_load (&c.done),
                      source->size_known ? source->size
                      : atomic_load (&c.done));

  collect_result (&c, &start);
  zeroer_destroy (&c.zeroer);
  pthread_cond_destroy (&c.finished_cond);
  pthread_mutex_destroy (&c.lock);
  free (threads);
  return result->failure == COPY_OK ? 0 : -1;
}

int
copy_run (struct source *source, struct target *target,
          const struct copy_options *options, struct copy_result *result)
{
  return run_pipeline (source, target, options, false, result);
}

int
verify_run (struct source *source, struct target *target,
            const struct copy_options *options, struct copy_result *result)
{
  source_rewind (source);
  return run_pipeline (source, target, options, true, result);
}
