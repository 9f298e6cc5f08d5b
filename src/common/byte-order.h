/* Loads of big- and little-endian values from unaligned buffers (qcow2 and
 * VHD are big-endian, VDI little-endian).
 */
#ifndef SPARSEFS_BYTE_ORDER_H
#define SPARSEFS_BYTE_ORDER_H

#include <stdint.h>
#include <string.h>
#include <endian.h>

static inline uint16_t
load_be16 (const void *p)
{
  uint16_t v;

  memcpy (&v, p, sizeof v);
  return be16toh (v);
}

static inline uint32_t
load_be32 (const void *p)
{
  uint32_t v;

  memcpy (&v, p, sizeof v);
  return be32toh (v);
}

static inline uint64_t
load_be64 (const void *p)
{
  uint64_t v;

  memcpy (&v, p, sizeof v);
  return be64toh (v);
}

static inline uint16_t
load_le16 (const void *p)
{
  uint16_t v;

  memcpy (&v, p, sizeof v);
  return le16toh (v);
}

static inline uint32_t
load_le32 (const void *p)
{
  uint32_t v;

  memcpy (&v, p, sizeof v);
  return le32toh (v);
}

static inline uint64_t
load_le64 (const void *p)
{
  uint64_t v;

  memcpy (&v, p, sizeof v);
  return le64toh (v);
}

#endif
