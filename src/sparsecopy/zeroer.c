/* The zeroer (see zeroer.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "probe.h"
#include "rounding.h"
#include "zeroer.h"

/* Large ranges go to the kernel in pieces, so that an interrupt is seen. */
#define PIECE_BYTES (UINT64_C (1) << 30)

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
  for (m = 0; m < METHOD_COUNT; m++)
    atomic_init (&z->bytes[m], 0);
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

void
zeroer_assume_zero (struct zeroer *z)
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

/* Pieces of a discard stay whole granules. */
static uint64_t
piece_size (const struct device_facts *facts, enum hole_method method)
{
  uint64_t g = facts->discard_granularity;

  if (method != METHOD_DISCARD || g == 0 || g >= PIECE_BYTES)
    return method == METHOD_DISCARD && g > PIECE_BYTES ? g : PIECE_BYTES;
  return PIECE_BYTES - PIECE_BYTES % g;
}

/* Run OP in pieces.  Returns 0, or -1 with errno and *FAILED_AT set. */
static int
run_op (struct zeroer *z, const struct zero_op *op, uint64_t *failed_at)
{
  uint64_t piece = piece_size (&z->target->facts, op->method);
  uint64_t done, n;

  for (done = 0; done < op->length; done += n) {
    n = MIN (piece, op->length - done);
    if (atomic_load (z->stop)) {
      *failed_at = op->offset + done;
      errno = EINTR;
      return -1;
    }
    if (run_piece (z->target, op->method, op->offset + done, n) == -1) {
      *failed_at = op->offset + done;
      return -1;
    }
    atomic_fetch_add (&z->bytes[op->method], n);
  }
  return 0;
}

static void
warn_if_allocating (struct zeroer *z, enum hole_method method)
{
  const struct device_facts *facts = &z->target->facts;

  if ((z->warned & METHOD_BIT (method)) || facts->kind != TARGET_BLOCK_DEVICE
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

/* METHOD said "not supported" at OFFSET: drop it for the rest of the run.
 * Returns -1 (reported) if it was forced.
 */
static int
drop_method (struct zeroer *z, enum hole_method method, uint64_t offset)
{
  int err = errno;
  int r = 0;

  pthread_mutex_lock (&z->lock);
  if (z->policy.forced == method) {
    errno = err;
    report_error ("%s: %s failed at offset %" PRIu64 ": %m "
                  "(forced with --holes=%s)", z->target->path,
                  method_name (method), offset, method_name (method));
    errno = ENOTSUP;
    r = -1;
  }
  else if (!(z->disabled & METHOD_BIT (method))) {
    z->disabled |= METHOD_BIT (method);
    if (method == METHOD_PUNCH)
      r = probe_refresh_write_zeroes (&z->target->facts);
    fprintf (stderr, "%s: %s: %s is not supported (%s); falling back to %s\n",
             program_invocation_short_name, z->target->path,
             method_name (method), strerror (err),
             method_name (choose_method (&z->target->facts, &z->policy,
                                         z->disabled)));
  }
  pthread_mutex_unlock (&z->lock);
  return r;
}

int
zeroer_zero (struct zeroer *z, uint64_t offset, uint64_t length)
{
  uint64_t end = offset + length, failed_at;
  struct hole_plan plan;
  size_t i;

 replan:
  if (plan_locked (z, offset, end - offset, &plan) == -1)
    return -1;
  for (i = 0; i < plan.count; i++) {
    const struct zero_op *op = &plan.ops[i];

    if (run_op (z, op, &failed_at) == 0)
      continue;
    if (errno == EINTR)
      return -1;
    if (is_unsupported (errno) && op->method != METHOD_WRITE) {
      if (drop_method (z, op->method, failed_at) == -1)
        return -1;
      offset = failed_at;
      goto replan;
    }
    report_error ("%s: %s failed at offset %" PRIu64 ": %m", z->target->path,
                  method_name (op->method), failed_at);
    return -1;
  }
  return 0;
}
