/* VHD (Virtual PC / Hyper-V, qemu's "vpc") on-disk constants, all
 * big-endian: the 512-byte footer (at the end of a fixed disk's file; copied
 * at the start of a dynamic one), the dynamic disk header it points to, and
 * qemu's limits (block/vpc.c), which we enforce the same way.
 */
#ifndef SPARSEFS_VHD_FORMAT_H
#define SPARSEFS_VHD_FORMAT_H

#define VHD_FOOTER_BYTES 512
#define VHD_COOKIE "conectix"
#define VHD_COOKIE_BYTES 8

/* Footer field offsets. */
#define VHD_FT_DATA_OFFSET   16
#define VHD_FT_CREATOR_APP   28
#define VHD_FT_CURRENT_SIZE  48
#define VHD_FT_CYLINDERS     56  /* 16 bits */
#define VHD_FT_HEADS         58  /* 8 bits */
#define VHD_FT_SECTORS       59  /* 8 bits, per track */
#define VHD_FT_DISK_TYPE     60
#define VHD_FT_CHECKSUM      64
#define VHD_CREATOR_APP_BYTES 4

#define VHD_TYPE_FIXED 2
#define VHD_TYPE_DYNAMIC 3
#define VHD_TYPE_DIFFERENCING 4

/* The dynamic disk header (qemu reads its first 512 bytes). */
#define VHD_DYN_HEADER_BYTES 512
#define VHD_DYN_MAGIC "cxsparse"
#define VHD_DH_TABLE_OFFSET        16
#define VHD_DH_MAX_TABLE_ENTRIES   28
#define VHD_DH_BLOCK_SIZE          32

/* A BAT entry that maps no block. */
#define VHD_BAT_HOLE 0xffffffffu

#define VHD_SECTOR_SIZE 512
/* 2040 GiB, and the geometry that says "use current_size". */
#define VHD_MAX_SECTORS 0xff000000ull
#define VHD_MAX_GEOMETRY (65535ull * 16 * 255)
/* qemu keeps the BAT entry count in an int, in bytes: INT_MAX / 4. */
#define VHD_MAX_TABLE_ENTRIES 0x1fffffffu

#endif
