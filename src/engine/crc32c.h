/* CRC-32C (Castagnoli), as VHDX checksums its headers, region tables and
 * log entries.
 */
#ifndef SPARSEFS_CRC32C_H
#define SPARSEFS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC carried on over LEN more bytes: start with crc32c_begin(), finish
 * with crc32c_end().
 */
uint32_t crc32c_update (uint32_t crc, const void *buf, size_t len);

static inline uint32_t
crc32c_begin (void)
{
  return 0xffffffffu;
}

static inline uint32_t
crc32c_end (uint32_t crc)
{
  return ~crc;
}

#endif
