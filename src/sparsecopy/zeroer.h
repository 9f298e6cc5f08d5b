/* The zeroer: makes a hole of the source read back as zeros on the target,
 * running the planner's operations and falling back when the target says
 * "not supported".
 *
 * A method that fails with EOPNOTSUPP (ENOTTY, ENOSYS, ENODEV for the
 * ioctls) is dropped for the rest of the run and the range is planned again
 * without it; when punch fails that way, write_zeroes_max_bytes is read
 * again, since the kernel may have turned write-zeroes off.  A forced
 * method that is not supported, or any other error, stops the copy.
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
  _Atomic uint64_t bytes[METHOD_COUNT];   /* zeroed per method */
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

/* The target now reads zeros: from here on holes are skipped (their edges
 * inside partly written granules are still written: see planner.h).
 */
void zeroer_assume_zero (struct zeroer *z);

/* The methods dropped so far (METHOD_BIT()s). */
unsigned zeroer_disabled (struct zeroer *z);

#endif
