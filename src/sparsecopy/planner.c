/* The hole planner (see planner.h for the methods and their order). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "checked-arith.h"
#include "error.h"
#include "planner.h"

static const char *const method_names[METHOD_COUNT] = {
  [METHOD_SKIP] = "skip",
  [METHOD_PUNCH] = "punch",
  [METHOD_DISCARD] = "discard",
  [METHOD_ZEROOUT] = "zeroout",
  [METHOD_WRITE] = "write",
};

const char *
method_name (enum hole_method method)
{
  return method < METHOD_COUNT ? method_names[method] : "auto";
}

int
method_from_name (const char *name)
{
  int m;

  if (strcmp (name, "auto") == 0)
    return METHOD_AUTO;
  for (m = 0; m < METHOD_COUNT; m++)
    if (strcmp (name, method_names[m]) == 0)
      return m;
  return -1;
}

static bool
is_disabled (unsigned disabled, enum hole_method method)
{
  return (disabled & METHOD_BIT (method)) != 0;
}

/* NBD never: a TRIMmed range has undefined content. */
static bool
can_discard (const struct device_facts *facts)
{
  return (facts->kind == TARGET_BLOCK_DEVICE || facts->kind == TARGET_RBD)
    && facts->discard_granularity > 0 && facts->discard_max_bytes > 0;
}

static bool
discard_trusted (const struct device_facts *facts,
                 const struct plan_policy *policy)
{
  return can_discard (facts)
    && (policy->discard_zeroes || facts_discard_reads_zero (facts));
}

/* BLKZEROOUT is worth a call only where the device has write-zeroes:
 * without it the kernel writes zero pages.  A loop device turns discard
 * and punch into PUNCH_HOLE of its backing file and BLKZEROOUT into
 * ZERO_RANGE; it drops discard once that file refused PUNCH_HOLE.  A file
 * system without PUNCH_HOLE has no ZERO_RANGE either (FUSE ones such as
 * bindfs; ramfs has neither, and the loop device then shows neither), yet
 * the kernel (6.18) was seen keeping write_zeroes_max_bytes set after a
 * refused punch: every BLKZEROOUT then ends in zero pages, after a refused
 * write-zeroes that the device still counts as written.
 */
bool
zeroout_worth_a_call (const struct device_facts *facts)
{
  return facts->write_zeroes_max_bytes > 0
    && !(facts->driver == DRIVER_LOOP && !can_discard (facts));
}

/* A remote target (NBD, RBD): write-zeroes that may deallocate (with
 * FAST_ZERO where offered), then a discard known to read zero, then
 * write-zeroes without FAST_ZERO (the server may write: still less traffic
 * than sending zeros), then writing zeros.  Without FAST_ZERO, zeroout is
 * the same request as punch: not worth a second try.
 */
static enum hole_method
choose_remote_method (const struct device_facts *facts,
                      const struct plan_policy *policy, unsigned disabled)
{
  if (!is_disabled (disabled, METHOD_PUNCH) && facts->can_write_zeroes)
    return METHOD_PUNCH;
  if (!is_disabled (disabled, METHOD_DISCARD) && discard_trusted (facts, policy))
    return METHOD_DISCARD;
  if (!is_disabled (disabled, METHOD_ZEROOUT) && facts->can_write_zeroes
      && facts->can_fast_zero)
    return METHOD_ZEROOUT;
  return METHOD_WRITE;
}

static enum hole_method
choose_block_method (const struct device_facts *facts,
                     const struct plan_policy *policy, unsigned disabled)
{
  /* Without write-zeroes, punch can only fail and BLKZEROOUT would make the
   * kernel write zero pages: neither is worth a call.
   */
  if (!is_disabled (disabled, METHOD_PUNCH)
      && facts->write_zeroes_max_bytes > 0)
    return METHOD_PUNCH;
  if (!is_disabled (disabled, METHOD_DISCARD) && discard_trusted (facts, policy))
    return METHOD_DISCARD;
  if (!is_disabled (disabled, METHOD_ZEROOUT)
      && zeroout_worth_a_call (facts))
    return METHOD_ZEROOUT;
  return METHOD_WRITE;
}

enum hole_method
choose_method (const struct device_facts *facts,
               const struct plan_policy *policy, unsigned disabled)
{
  if (policy->forced != METHOD_AUTO)
    return policy->forced;
  if (policy->target_is_zero && !is_disabled (disabled, METHOD_SKIP))
    return METHOD_SKIP;
  switch (facts->kind) {
  case TARGET_REGULAR_FILE:
    return is_disabled (disabled, METHOD_PUNCH) ? METHOD_WRITE : METHOD_PUNCH;
  case TARGET_BLOCK_DEVICE:
    return choose_block_method (facts, policy, disabled);
  default:
    return choose_remote_method (facts, policy, disabled);
  }
}

static void
add_op (struct hole_plan *plan, enum hole_method method,
        uint64_t offset, uint64_t length)
{
  if (length == 0)
    return;
  plan->ops[plan->count++] = (struct zero_op) { method, offset, length };
}

/* Round to the device's granules, which count from the start of the whole
 * disk, not from the partition.  The granularity need not be a power of 2
 * (a thin pool's chunk size is a multiple of 64 KiB).
 */
static uint64_t
granule_up (const struct device_facts *facts, uint64_t offset)
{
  uint64_t g = facts->discard_granularity;
  uint64_t disk = offset + facts->partition_offset;

  return (disk + g - 1) / g * g - facts->partition_offset;
}

static uint64_t
granule_down (const struct device_facts *facts, uint64_t offset)
{
  uint64_t g = facts->discard_granularity;
  uint64_t disk = offset + facts->partition_offset;
  uint64_t rounded = disk / g * g;

  return rounded < facts->partition_offset
    ? 0 : rounded - facts->partition_offset;
}

/* METHOD over the whole granules of the hole, zeros written over the edges:
 * a thin target ignores partial-granule discards, and a granule that also
 * receives data may be provisioned with stale bytes in the rest of it.
 */
static void
plan_granules (const struct device_facts *facts, enum hole_method method,
               uint64_t offset, uint64_t length, struct hole_plan *plan)
{
  uint64_t end = offset + length;
  uint64_t inner_start = granule_up (facts, offset);
  uint64_t inner_end = granule_down (facts, end);

  if (inner_start < offset || inner_end > end || inner_start >= inner_end) {
    add_op (plan, METHOD_WRITE, offset, length);
    return;
  }
  add_op (plan, METHOD_WRITE, offset, inner_start - offset);
  add_op (plan, method, inner_start, inner_end - inner_start);
  add_op (plan, METHOD_WRITE, inner_end, end - inner_end);
}

int
plan_hole (const struct device_facts *facts,
           const struct plan_policy *policy, unsigned disabled,
           uint64_t offset, uint64_t length, struct hole_plan *plan)
{
  uint32_t lbs = facts->logical_block_size ? facts->logical_block_size : 1;
  enum hole_method method;

  plan->count = 0;
  if (length == 0 || offset % lbs != 0 || length % lbs != 0
      || !range_fits (offset, length, facts->size)) {
    report_error ("hole planner: range %" PRIu64 "+%" PRIu64
                  " is not aligned to %" PRIu32 " or passes the end (%" PRIu64
                  ")", offset, length, lbs, facts->size);
    errno = EINVAL;
    return -1;
  }

  method = choose_method (facts, policy, disabled);
  if (is_disabled (disabled, method)) {
    errno = ENOTSUP;            /* only a forced method gets here */
    return -1;
  }

  /* A device may turn discard off while a copy runs (the limits are read
   * again then): no granules left to plan with.
   */
  if (method == METHOD_DISCARD && facts->discard_granularity == 0) {
    errno = ENOTSUP;
    return -1;
  }
  if (method == METHOD_DISCARD)
    plan_granules (facts, method, offset, length, plan);
  else if (method == METHOD_SKIP && facts->kind == TARGET_BLOCK_DEVICE
           && can_discard (facts) && facts->discard_granularity > lbs)
    plan_granules (facts, method, offset, length, plan);
  else
    add_op (plan, method, offset, length);
  return 0;
}

static bool
is_remote (const struct device_facts *facts)
{
  return facts->kind == TARGET_NBD || facts->kind == TARGET_RBD;
}

static bool
discard_allowed (const struct device_facts *facts, bool discard_zeroes,
                 const char **why)
{
  if (facts->kind == TARGET_NBD) {
    *why = "an NBD trim leaves the range's content undefined";
    return false;
  }
  if (facts->kind != TARGET_BLOCK_DEVICE && facts->kind != TARGET_RBD) {
    *why = "discard needs a block device";
    return false;
  }
  if (!can_discard (facts)) {
    *why = "the device does not support discard";
    return false;
  }
  if (!discard_zeroes && !facts_discard_reads_zero (facts)) {
    *why = "the device is not known to read discarded blocks as zeros "
      "(--discard-zeroes if it does)";
    return false;
  }
  return true;
}

bool
forced_method_allowed (const struct device_facts *facts,
                       enum hole_method method, bool discard_zeroes,
                       const char **why)
{
  switch (method) {
  case METHOD_DISCARD:
    return discard_allowed (facts, discard_zeroes, why);
  case METHOD_PUNCH:
  case METHOD_ZEROOUT:
    if (is_remote (facts) && !facts->can_write_zeroes) {
      *why = "the server has no write-zeroes";
      return false;
    }
    if (method == METHOD_ZEROOUT && facts->kind == TARGET_REGULAR_FILE) {
      *why = "zeroout needs a block device";
      return false;
    }
    return true;
  default:
    return true;
  }
}

bool
method_keeps_thin (const struct device_facts *facts, enum hole_method method)
{
  switch (method) {
  case METHOD_SKIP:
  case METHOD_DISCARD:
    return true;
  case METHOD_PUNCH:
    /* Remote: write-zeroes without NO_HOLE, which the server may punch. */
    return facts->kind == TARGET_REGULAR_FILE || is_remote (facts)
      || facts_write_zeroes_unmaps (facts);
  case METHOD_ZEROOUT:
    /* BLKZEROOUT asks not to unmap; rbd ignores that and stays thin. */
    return facts->kind == TARGET_BLOCK_DEVICE && facts->driver == DRIVER_RBD
      && facts->write_zeroes_max_bytes > 0;
  default:
    return false;
  }
}
