/* Whether a buffer holds only zero bytes. */
#ifndef SPARSEFS_ISZERO_H
#define SPARSEFS_ISZERO_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Compare the first 16 bytes by hand, then the buffer with itself shifted by
 * 16: memcmp is vectorised, so this runs at memory speed on large buffers.
 */
static inline bool
is_zero (const void *buf, size_t size)
{
  const unsigned char *p = buf;
  size_t i, limit = size < 16 ? size : 16;

  for (i = 0; i < limit; i++)
    if (p[i] != 0)
      return false;
  return size <= 16 || memcmp (p, p + 16, size - 16) == 0;
}

#endif
