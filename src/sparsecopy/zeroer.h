/* The zeroer: makes a hole of the source read back as zeros on the target,
 * running the planner's operations and falling back when the target says
 * "not supported".
 *
 * A method that fails with EOPNOTSUPP (ENOTTY, ENOSYS, ENODEV for the
 * ioctls) is dropped for the rest of the run and the range is planned again
 * without it; every queue limit is then read again, since the kernel may
 * have turned operations off (a loop device clears discard when its backing
 * file refuses a punch).  A forced method that is not supported, or any
 * other error, stops the copy.
 *
 * The first call of each method is a short trial piece, checked afterwards:
 * the kernel hides some refusals behind a success (see zeroer.c).  A trial
 * that did not zero counts as "not supported".
 *
 * Thread-safe: several workers zero at once.
 */
#ifndef SPARSECOPY_ZEROER_H
#define SPARSECOPY_ZEROER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "planner.h"
#include "target.h"

struct zeroer {
  struct target *target;
  struct plan_policy policy;
  pthread_mutex_t lock;         /* guards disabled and target->facts */
  unsigned disabled;            /* METHOD_BIT()s found unsupported */
  unsigned warned;              /* METHOD_BIT()s warned about allocating */
  unsigned proven;              /* METHOD_BIT()s whose trial zeroed */
  _Atomic uint64_t bytes[METHOD_COUNT];   /* zeroed per method */
  /* The holes' bytes (zeroer_zero), by how they became zeros: a hole
   * skipped after zeroing up front counts under the up-front method.  The
   * one place every target's holes are counted (--json "holes").
   */
  _Atomic uint64_t holes[METHOD_COUNT];
  enum hole_method first;       /* the up-front method, else METHOD_SKIP */
  uint64_t first_bytes;         /* zeroed up front */
  atomic_bool *stop;            /* checked between pieces of a large range */
};

void zeroer_init (struct zeroer *z, struct target *target,
                  const struct plan_policy *policy, atomic_bool *stop);
void zeroer_destroy (struct zeroer *z);

/* Zero [OFFSET, OFFSET + LENGTH), aligned to the logical block size.
 * Returns 0, or -1 (reported) with errno; ENOTSUP means a forced method is
 * not supported; EINTR that *stop was set.
 */
int zeroer_zero (struct zeroer *z, uint64_t offset, uint64_t length);

/* Whether zeroing the whole range once, up front, and then skipping every
 * hole is cheaper: auto would punch a hole that unmaps, or discard, so one
 * call for the whole range costs what one call for a hole costs, and the
 * many small holes found inside data (-S) cost nothing (qemu-img convert
 * does the same).  Not when holes are skipped anyway or a method is forced.
 */
bool zeroer_should_zero_first (struct zeroer *z);

/* Zero [0, LENGTH) up front if zeroer_should_zero_first() says so; from
 * then on holes are skipped (their edges inside partly written granules
 * are still written: see planner.h).  Zero-first is only an optimisation:
 * if its method is not supported, the method is dropped, nothing is
 * assumed, and each hole is zeroed on its own later (never the whole range
 * by a fallback method).  Returns 1 if the range now reads zeros, 0 if it
 * was not zeroed up front, -1 (reported) with errno (EINTR: *stop was set).
 */
int zeroer_zero_first (struct zeroer *z, uint64_t length);

/* The methods dropped so far (METHOD_BIT()s). */
unsigned zeroer_disabled (struct zeroer *z);

#endif
