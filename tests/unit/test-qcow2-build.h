/* For unit tests that build qcow2 structures by hand: big-endian stores
 * and the on-disk constants of docs/interop/qcow2.txt, written out here
 * rather than taken from the engine's qcow2-format.h, so that a wrong
 * constant there cannot hide in the tests.
 */
#ifndef SPARSEFS_TEST_QCOW2_BUILD_H
#define SPARSEFS_TEST_QCOW2_BUILD_H

#include <stdint.h>

/* Header field offsets. */
enum {
  F_MAGIC = 0, F_VERSION = 4, F_BACKING_OFFSET = 8, F_BACKING_SIZE = 16,
  F_CLUSTER_BITS = 20, F_SIZE = 24, F_CRYPT = 32, F_L1_SIZE = 36,
  F_L1_OFFSET = 40, F_REFTABLE_OFFSET = 48, F_REFTABLE_CLUSTERS = 56,
  F_NB_SNAPSHOTS = 60, F_SNAPSHOTS_OFFSET = 64, F_INCOMPAT = 72,
  F_COMPAT = 80, F_AUTOCLEAR = 88, F_REFCOUNT_ORDER = 96,
  F_HEADER_LENGTH = 100, F_COMPRESSION_TYPE = 104,
};

#define MAGIC 0x514649fbu

/* Header extensions. */
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_FEATURE_TABLE  0x6803f857u
#define EXT_CRYPTO         0x0537be77u
#define EXT_DATA_FILE      0x44415441u

/* Incompatible feature bits. */
#define INCOMPAT_DATA_FILE   (1ull << 2)
#define INCOMPAT_COMPRESSION (1ull << 3)
#define INCOMPAT_EXTL2       (1ull << 4)

/* L2 entry flags. */
#define COPIED     (1ull << 63)
#define COMPRESSED (1ull << 62)
#define ZERO_FLAG  1ull

/* Extended L2 bitmap: subcluster SC allocated, or reading as zeros. */
#define ALLOC(sc)  (1ull << (sc))
#define ZEROES(sc) (1ull << (32 + (sc)))

static inline void
store_be32 (unsigned char *p, uint32_t v)
{
  int i;

  for (i = 0; i < 4; i++)
    p[i] = v >> (24 - 8 * i);
}

static inline void
store_be64 (unsigned char *p, uint64_t v)
{
  store_be32 (p, v >> 32);
  store_be32 (p + 4, v);
}

/* A compressed cluster descriptor: x = 62 - (cluster_bits - 8); bits
 * 0..x-1 the host offset, bits x..61 the 512-byte sectors beyond the first.
 */
static inline uint64_t
compressed_descriptor (unsigned cluster_bits, uint64_t offset,
                       uint64_t more_sectors)
{
  return COMPRESSED | (more_sectors << (62 - (cluster_bits - 8))) | offset;
}

#endif
