/* Alignment and rounding of unsigned 64-bit values.
 *
 * ALIGNMENT arguments must be powers of two.  round_up() must not be called
 * where the result would overflow: callers check with range_fits() first.
 */
#ifndef SPARSEFS_ROUNDING_H
#define SPARSEFS_ROUNDING_H

#include <stdbool.h>
#include <stdint.h>

static inline bool
is_power_of_2 (uint64_t v)
{
  return v != 0 && (v & (v - 1)) == 0;
}

static inline bool
is_aligned (uint64_t v, uint64_t alignment)
{
  return (v & (alignment - 1)) == 0;
}

static inline uint64_t
round_down (uint64_t v, uint64_t alignment)
{
  return v & ~(alignment - 1);
}

static inline uint64_t
round_up (uint64_t v, uint64_t alignment)
{
  return round_down (v + alignment - 1, alignment);
}

static inline uint64_t
div_round_up (uint64_t v, uint64_t divisor)
{
  return v / divisor + (v % divisor != 0);
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
