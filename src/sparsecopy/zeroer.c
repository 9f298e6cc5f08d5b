/* The zeroer (see zeroer.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "rounding.h"
#include "zeroer.h"

/* Large ranges go to the kernel in pieces, so that an interrupt is seen. */
#define PIECE_BYTES (UINT64_C (1) << 30)

/* The first call of a method covers this much: a refusal then costs little
 * (a refused write-zeroes still counts as written in the device's
 * statistics), and what a trial did is checked before the rest goes.
 */
#define TRIAL_BYTES (UINT64_C (1) << 20)

void
zeroer_init (struct zeroer *z, struct target *target,
             const struct plan_policy *policy, atomic_bool *stop)
{
  int m;

  z->target = target;
  z->policy = *policy;
  pthread_mutex_init (&z->lock, NULL);
  z->disabled = 0;
  z->warned = 0;
  z->proven = 0;
  for (m = 0; m < METHOD_COUNT; m++) {
    atomic_init (&z->bytes[m], 0);
    atomic_init (&z->holes[m], 0);
  }
  z->first = METHOD_SKIP;
  z->first_bytes = 0;
  z->stop = stop;
}

void
zeroer_destroy (struct zeroer *z)
{
  pthread_mutex_destroy (&z->lock);
}

unsigned
zeroer_disabled (struct zeroer *z)
{
  unsigned disabled;

  pthread_mutex_lock (&z->lock);
  disabled = z->disabled;
  pthread_mutex_unlock (&z->lock);
  return disabled;
}

bool
zeroer_should_zero_first (struct zeroer *z)
{
  const struct device_facts *facts = &z->target->facts;
  enum hole_method method;

  if (z->policy.forced != METHOD_AUTO || z->policy.target_is_zero)
    return false;
  method = choose_method (facts, &z->policy, zeroer_disabled (z));
  return (method == METHOD_PUNCH || method == METHOD_DISCARD)
    && method_keeps_thin (facts, method);
}

static void
assume_zero (struct zeroer *z)
{
  pthread_mutex_lock (&z->lock);
  z->policy.target_is_zero = true;
  pthread_mutex_unlock (&z->lock);
}

static bool
is_unsupported (int err)
{
  return err == EOPNOTSUPP || err == ENOTTY || err == ENOSYS || err == ENODEV;
}

static int
run_piece (struct target *t, enum hole_method method, uint64_t offset,
           uint64_t length)
{
  switch (method) {
  case METHOD_SKIP: return 0;
  case METHOD_PUNCH: return target_punch (t, offset, length);
  case METHOD_DISCARD: return target_discard (t, offset, length);
  case METHOD_ZEROOUT: return target_zeroout (t, offset, length);
  default: return target_write_zeros (t, offset, length);
  }
}

/* WANT bytes, or for a discard as many whole granules (at least one). */
static uint64_t
piece_size (uint64_t granule, enum hole_method method, uint64_t want)
{
  if (method != METHOD_DISCARD || granule == 0)
    return want;
  return want < granule ? granule : want - want % granule;
}

/* The facts that running an operation needs, read under the lock (a
 * dropped method makes another thread read the limits again).
 */
static void
running_facts (struct zeroer *z, enum hole_method method, uint64_t *granule,
               bool *proven)
{
  pthread_mutex_lock (&z->lock);
  *granule = z->target->facts.discard_granularity;
  *proven = (z->proven & METHOD_BIT (method)) != 0;
  pthread_mutex_unlock (&z->lock);
}

/* Whether a trial may have been refused behind a success.  The kernel hides
 * two refusals, and both show as a limit gone to 0 once the call returned:
 *  - BLKDISCARD returns success when the device completes the discard with
 *    "not supported" (blkdev_issue_discard); a loop device whose backing
 *    file refused the punch leaves the old bytes there and sets
 *    discard_max_bytes to 0;
 *  - BLKZEROOUT writes zero pages when write-zeroes is refused, and the
 *    driver (loop, SCSI) may then set write_zeroes_max_bytes to 0: the range
 *    reads zeros, but every later call writes, like write, without warning.
 *    Unless forced: writing is what BLKZEROOUT promises when it must.
 */
static bool
trial_is_doubtful (struct zeroer *z, enum hole_method method)
{
  return z->target->facts.kind == TARGET_BLOCK_DEVICE
    && (method == METHOD_DISCARD
        || (method == METHOD_ZEROOUT && z->policy.forced != METHOD_ZEROOUT));
}

/* METHOD's trial returned success: check it (see trial_is_doubtful).
 * Returns NULL if it did its job, else why not.
 */
static const char *
check_trial (struct zeroer *z, enum hole_method method)
{
  const struct device_facts *facts = &z->target->facts;
  const char *why = NULL;

  pthread_mutex_lock (&z->lock);
  if (trial_is_doubtful (z, method)) {
    if (target_refresh_facts (z->target) == -1)
      why = "its result cannot be checked: the queue limits are unreadable";
    else if (method == METHOD_DISCARD && facts->discard_max_bytes == 0)
      why = "the kernel said done, but the device then turned discard off: "
        "nothing was zeroed";
    else if (method == METHOD_ZEROOUT && facts->write_zeroes_max_bytes == 0)
      why = "the device turned write-zeroes off: the kernel wrote zeros";
  }
  if (why == NULL)
    z->proven |= METHOD_BIT (method);
  pthread_mutex_unlock (&z->lock);
  return why;
}

/* N bytes were zeroed by METHOD; HOLE: they are a hole's (not up front). */
static void
count_zeroed (struct zeroer *z, enum hole_method method, uint64_t n,
              bool hole)
{
  atomic_fetch_add (&z->bytes[method], n);
  if (hole)
    atomic_fetch_add (&z->holes[method == METHOD_SKIP ? z->first : method],
                      n);
}

/* Run OP in pieces, the first one a trial if the method has not proven
 * itself yet.  Returns 0, or -1 with errno, *FAILED_AT set (where zeroing
 * must go on) and *WHY (a reason other than errno's, or NULL).
 */
static int
run_op (struct zeroer *z, const struct zero_op *op, bool hole,
        uint64_t *failed_at, const char **why)
{
  uint64_t granule, done, n;
  bool proven;

  running_facts (z, op->method, &granule, &proven);
  *why = NULL;
  for (done = 0; done < op->length; done += n) {
    n = piece_size (granule, op->method, proven ? PIECE_BYTES : TRIAL_BYTES);
    n = MIN (n, op->length - done);
    *failed_at = op->offset + done;
    if (atomic_load (z->stop)) {
      errno = EINTR;
      return -1;
    }
    if (run_piece (z->target, op->method, op->offset + done, n) == -1)
      return -1;
    if (!proven && (*why = check_trial (z, op->method)) != NULL) {
      if (op->method == METHOD_ZEROOUT) {       /* zeroed all the same */
        count_zeroed (z, op->method, n, hole);
        *failed_at += n;
      }
      errno = EOPNOTSUPP;
      return -1;
    }
    proven = true;
    count_zeroed (z, op->method, n, hole);
  }
  return 0;
}

static void
warn_if_allocating (struct zeroer *z, enum hole_method method)
{
  const struct device_facts *facts = &z->target->facts;

  if ((z->warned & METHOD_BIT (method))
      || facts->kind == TARGET_REGULAR_FILE
      || method_keeps_thin (facts, method))
    return;
  z->warned |= METHOD_BIT (method);
  fprintf (stderr, "%s: warning: %s: holes are zeroed by %s, which %s\n",
           program_invocation_short_name, z->target->path,
           method_name (method),
           method == METHOD_WRITE
           ? "allocates the target"
           : "may allocate thin storage");
}

/* Plan [OFFSET, OFFSET + LENGTH) under the lock (facts and the disabled set
 * change when a method is dropped).
 */
static int
plan_locked (struct zeroer *z, uint64_t offset, uint64_t length,
             struct hole_plan *plan)
{
  size_t i;
  int r;

  pthread_mutex_lock (&z->lock);
  r = plan_hole (&z->target->facts, &z->policy, z->disabled, offset, length,
                 plan);
  for (i = 0; r == 0 && i < plan->count; i++)
    warn_if_allocating (z, plan->ops[i].method);
  pthread_mutex_unlock (&z->lock);
  return r;
}

/* METHOD is not supported (WHY) at OFFSET: drop it for the rest of the run.
 * Returns -1 (reported) with errno ENOTSUP if it was forced.
 */
static int
drop_method (struct zeroer *z, enum hole_method method, uint64_t offset,
             const char *why)
{
  int r = 0;

  pthread_mutex_lock (&z->lock);
  if (z->policy.forced == method) {
    report_error ("%s: %s failed at offset %" PRIu64 ": %s "
                  "(forced with --holes=%s)", z->target->path,
                  method_name (method), offset, why, method_name (method));
    errno = ENOTSUP;
    r = -1;
  }
  else if (!(z->disabled & METHOD_BIT (method))) {
    z->disabled |= METHOD_BIT (method);
    /* The refusal may have turned other operations off as well.  If the
     * limits cannot be read, the old ones stay: the next method's trial
     * still checks what it did.
     */
    target_refresh_facts (z->target);
    fprintf (stderr, "%s: %s: %s is not supported (%s); falling back to %s\n",
             program_invocation_short_name, z->target->path,
             method_name (method), why,
             method_name (choose_method (&z->target->facts, &z->policy,
                                         z->disabled)));
  }
  pthread_mutex_unlock (&z->lock);
  return r;
}

/* Run PLAN (HOLE: a hole's, see count_zeroed).  Returns 0 when done; 1
 * when a method turned out not supported and was dropped, *RESUME_AT being
 * where zeroing must go on; -1 with errno (reported, unless EINTR).
 */
static int
run_plan (struct zeroer *z, const struct hole_plan *plan, bool hole,
          uint64_t *resume_at)
{
  const char *why;
  uint64_t failed_at;
  size_t i;

  for (i = 0; i < plan->count; i++) {
    const struct zero_op *op = &plan->ops[i];

    if (run_op (z, op, hole, &failed_at, &why) == 0)
      continue;
    if (errno == EINTR)
      return -1;
    if (is_unsupported (errno) && op->method != METHOD_WRITE) {
      if (drop_method (z, op->method, failed_at,
                       why ? why : strerror (errno)) == -1)
        return -1;
      *resume_at = failed_at;
      return 1;
    }
    report_error ("%s: %s failed at offset %" PRIu64 ": %m", z->target->path,
                  method_name (op->method), failed_at);
    return -1;
  }
  return 0;
}

int
zeroer_zero (struct zeroer *z, uint64_t offset, uint64_t length)
{
  uint64_t end = offset + length;
  struct hole_plan plan;
  int r;

  do {
    if (plan_locked (z, offset, end - offset, &plan) == -1)
      return -1;
    r = run_plan (z, &plan, true, &offset);
  } while (r == 1 && offset < end);
  return r == -1 ? -1 : 0;
}

/* The method of PLAN's largest operation (a discard's edges are written). */
static enum hole_method
main_method (const struct hole_plan *plan)
{
  size_t i, largest = 0;

  for (i = 1; i < plan->count; i++)
    if (plan->ops[i].length > plan->ops[largest].length)
      largest = i;
  return plan->ops[largest].method;
}

int
zeroer_zero_first (struct zeroer *z, uint64_t length)
{
  struct hole_plan plan;
  uint64_t resume_at;
  int r;

  if (length == 0 || !zeroer_should_zero_first (z))
    return 0;
  if (plan_locked (z, 0, length, &plan) == -1)
    return -1;
  r = run_plan (z, &plan, false, &resume_at);
  if (r == 1)
    return 0;                   /* the holes get zeroed one by one */
  if (r == -1)
    return -1;
  z->first = main_method (&plan);
  z->first_bytes = length;
  assume_zero (z);
  return 1;
}
