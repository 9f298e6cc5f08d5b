/* Checked arithmetic for values that come from disk or from a user.
 *
 * Every offset, size and count read from an image passes through these before
 * it is used, so that a hostile value can only ever produce an error, never a
 * wrapped result.  Each function returns true when the result overflowed (the
 * convention of __builtin_*_overflow), leaving *r unspecified.
 */
#ifndef SPARSEFS_CHECKED_ARITH_H
#define SPARSEFS_CHECKED_ARITH_H

#include <stdbool.h>
#include <stdint.h>

static inline bool
checked_add (uint64_t a, uint64_t b, uint64_t *r)
{
  return __builtin_add_overflow (a, b, r);
}

static inline bool
checked_mul (uint64_t a, uint64_t b, uint64_t *r)
{
  return __builtin_mul_overflow (a, b, r);
}

/* True when [offset, offset + length) lies inside [0, limit). */
static inline bool
range_fits (uint64_t offset, uint64_t length, uint64_t limit)
{
  uint64_t end;

  return !checked_add (offset, length, &end) && end <= limit;
}

#endif
