/* qcow2 on-disk constants, as docs/interop/qcow2.txt defines them, and
 * qemu's own limits (block/qcow2.h), which we enforce the same way.
 */
#ifndef SPARSEFS_QCOW2_FORMAT_H
#define SPARSEFS_QCOW2_FORMAT_H

#include <stdint.h>

#define QCOW2_MAGIC 0x514649fbu        /* "QFI\xfb" */

/* Header field offsets. */
#define QCOW2_HDR_MAGIC                  0
#define QCOW2_HDR_VERSION                4
#define QCOW2_HDR_BACKING_FILE_OFFSET    8
#define QCOW2_HDR_BACKING_FILE_SIZE     16
#define QCOW2_HDR_CLUSTER_BITS          20
#define QCOW2_HDR_SIZE                  24
#define QCOW2_HDR_CRYPT_METHOD          32
#define QCOW2_HDR_L1_SIZE               36
#define QCOW2_HDR_L1_TABLE_OFFSET       40
#define QCOW2_HDR_REFCOUNT_TABLE_OFFSET 48
#define QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS 56
#define QCOW2_HDR_NB_SNAPSHOTS          60
#define QCOW2_HDR_SNAPSHOTS_OFFSET      64
#define QCOW2_HDR_INCOMPATIBLE          72
#define QCOW2_HDR_COMPATIBLE            80
#define QCOW2_HDR_AUTOCLEAR             88
#define QCOW2_HDR_REFCOUNT_ORDER        96
#define QCOW2_HDR_HEADER_LENGTH        100
#define QCOW2_HDR_COMPRESSION_TYPE     104

#define QCOW2_V2_HEADER_LENGTH  72
#define QCOW2_V3_MIN_HEADER_LENGTH 104

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY        (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT      (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE    (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION  (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2        (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN        0x1full

#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (1ull << 1)

#define QCOW2_CRYPT_NONE 0
#define QCOW2_CRYPT_AES  1
#define QCOW2_CRYPT_LUKS 2

#define QCOW2_COMPRESSION_DEFLATE 0
#define QCOW2_COMPRESSION_ZSTD    1

/* Header extension magics. */
#define QCOW2_EXT_END            0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857u
#define QCOW2_EXT_CRYPTO_HEADER  0x0537be77u
#define QCOW2_EXT_BITMAPS        0x23852875u
#define QCOW2_EXT_DATA_FILE      0x44415441u

/* L1 and L2 entries. */
#define QCOW2_OFFSET_MASK        0x00fffffffffffe00ull
#define QCOW2_OFLAG_COPIED       (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED   (1ull << 62)
#define QCOW2_OFLAG_ZERO         (1ull << 0)

#define QCOW2_SUBCLUSTERS        32
#define QCOW2_COMPRESSED_SECTOR  512

/* Snapshot table entry: fixed part. */
#define QCOW2_SNAPSHOT_HEADER_SIZE 40

/* qemu's limits. */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MIN_EXTL2_CLUSTER_BITS 14
#define QCOW2_MAX_L1_BYTES       (32ull * 1024 * 1024)
#define QCOW2_MAX_REFTABLE_BYTES (8ull * 1024 * 1024)
#define QCOW2_MAX_REFCOUNT_ORDER 6
#define QCOW2_MAX_SNAPSHOTS      65536
#define QCOW2_MAX_SNAPSHOTS_BYTES (64ull * 1024 * 1024)
#define QCOW2_MAX_BACKING_NAME   1023
#define QCOW2_MAX_HOST_OFFSET    (1ull << 56)

#endif
