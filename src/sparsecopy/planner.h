/* The hole planner: which operations make a hole of the source read back as
 * zeros on the target, cheapest first, without provisioning thin storage.
 *
 * Pure: no I/O.  It decides from the target's facts, the user's policy and
 * the methods found unsupported so far in this run.  The executor
 * (zeroer.c) runs the operations; when one fails with "not supported" it
 * adds the method to the disabled set and plans the hole again.
 *
 * Methods, in order of preference (auto):
 *   skip     the target already reads zeros (--target-is-zero, a new file)
 *   punch    fallocate(PUNCH_HOLE|KEEP_SIZE): write-zeroes that may unmap,
 *            never falls back to writing; a hole in a regular file
 *   discard  BLKDISCARD of whole discard granules, where the driver reads
 *            discarded blocks as zeros (facts_discard_reads_zero) or the
 *            user says so (--discard-zeroes); the edges of the hole are
 *            written
 *   zeroout  BLKZEROOUT, only where write_zeroes_max_bytes > 0: otherwise
 *            the kernel writes zero pages and provisions every thin block
 *            (nor on a loop device that lost discard: see planner.c)
 *   write    zero buffers (allocates the target)
 * On a remote target (NBD, RBD) punch is write-zeroes that may deallocate
 * (NBD: FAST_ZERO where offered), discard only where the image reads
 * discarded ranges as zeros (never NBD's trim), zeroout write-zeroes that
 * may allocate (NBD: without FAST_ZERO, so only after a fast one was
 * refused), write the same as anywhere.
 * Every range is aligned to the logical block size: the copier rounds holes
 * inward to it, the planner refuses anything else (EINVAL).
 */
#ifndef SPARSECOPY_PLANNER_H
#define SPARSECOPY_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facts.h"

enum hole_method {
  METHOD_SKIP,
  METHOD_PUNCH,
  METHOD_DISCARD,
  METHOD_ZEROOUT,
  METHOD_WRITE,
  METHOD_COUNT,
  METHOD_AUTO = METHOD_COUNT,   /* only as plan_policy.forced */
};

#define METHOD_BIT(m) (1u << (m))

struct plan_policy {
  enum hole_method forced;      /* METHOD_AUTO unless --holes */
  bool target_is_zero;          /* --target-is-zero, or a new file */
  bool discard_zeroes;          /* --discard-zeroes: the user says the
                                   device reads discarded blocks as zeros */
};

struct zero_op {
  enum hole_method method;
  uint64_t offset;
  uint64_t length;
};

/* A discard needs at most three: the head edge, the granules, the tail. */
#define PLAN_MAX_OPS 3

struct hole_plan {
  struct zero_op ops[PLAN_MAX_OPS];
  size_t count;
};

/* The method auto picks for a hole large enough to hold whole granules,
 * given the DISABLED set (METHOD_BIT()s).  Never fails: write is last.
 */
enum hole_method choose_method (const struct device_facts *facts,
                                const struct plan_policy *policy,
                                unsigned disabled);

/* Plan the hole [OFFSET, OFFSET + LENGTH).  Returns 0, or -1 with errno:
 * EINVAL for a range not aligned to the logical block size or past the
 * target's end, ENOTSUP when the forced method is disabled.
 */
int plan_hole (const struct device_facts *facts,
               const struct plan_policy *policy, unsigned disabled,
               uint64_t offset, uint64_t length, struct hole_plan *plan);

/* Whether --holes=METHOD may be used on this target; false with a reason
 * (a static string) if not.  DISCARD_ZEROES (--discard-zeroes) allows
 * discard on a device not known to read discarded blocks as zeros.
 */
bool forced_method_allowed (const struct device_facts *facts,
                            enum hole_method method, bool discard_zeroes,
                            const char **why);

/* Whether BLKZEROOUT is offloaded here, rather than done by the kernel
 * writing zero pages (see planner.c).
 */
bool zeroout_worth_a_call (const struct device_facts *facts);

/* Whether METHOD leaves thin storage thin on this target. */
bool method_keeps_thin (const struct device_facts *facts,
                        enum hole_method method);

const char *method_name (enum hole_method method);

/* METHOD_AUTO for "auto"; -1 for an unknown name. */
int method_from_name (const char *name);

#endif
