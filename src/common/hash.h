/* A hash of strings for direct-mapped tables of remembered names.
 *
 * 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/): fast, good
 * enough to tell paths and messages apart; not for hostile input where
 * collisions would matter (a collision here costs a cache miss or a log
 * line, never a wrong answer).
 */
#ifndef SPARSEFS_HASH_H
#define SPARSEFS_HASH_H

#include <stdint.h>

#define FNV1A_64_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV1A_64_PRIME 0x100000001b3ULL

/* Never 0 (the low bit is set), so that 0 can mark an empty slot. */
static inline uint64_t
hash_string (const char *text)
{
  uint64_t h = FNV1A_64_OFFSET_BASIS;

  for (; *text; text++)
    h = (h ^ (unsigned char) *text) * FNV1A_64_PRIME;
  return h | 1;
}

#endif /* SPARSEFS_HASH_H */
