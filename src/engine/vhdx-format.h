/* VHDX (Hyper-V) on-disk constants, all little-endian, from Microsoft's
 * VHDX specification v1.00 and qemu's block/vhdx.h, and qemu's limits
 * (block/vhdx.c), which we enforce the same way.
 *
 * The first 1 MiB holds the file identifier, two headers (the valid one
 * with the higher sequence number is current) and two region tables; the
 * region table places the BAT and the metadata region anywhere after it.
 */
#ifndef SPARSEFS_VHDX_FORMAT_H
#define SPARSEFS_VHDX_FORMAT_H

#define VHDX_FILE_SIGNATURE "vhdxfile"
#define VHDX_SIGNATURE_BYTES 8

#define VHDX_HEADER1_OFFSET (64 * 1024)
#define VHDX_HEADER2_OFFSET (128 * 1024)
#define VHDX_HEADER_BYTES 4096           /* the span its CRC covers */
#define VHDX_HEADER_SIGNATURE "head"
#define VHDX_HD_CHECKSUM         4
#define VHDX_HD_SEQUENCE         8
#define VHDX_HD_LOG_GUID        48
#define VHDX_HD_LOG_VERSION     64       /* 16 bits */
#define VHDX_HD_VERSION         66       /* 16 bits */
#define VHDX_HD_LOG_LENGTH      68       /* 32 bits */
#define VHDX_HD_LOG_OFFSET      72
#define VHDX_HEADER_FIELDS_BYTES 80      /* compared when sequences tie */

/* qemu reads only the first region table. */
#define VHDX_REGION_TABLE_OFFSET (192 * 1024)
#define VHDX_REGION_TABLE_BYTES (64 * 1024)
#define VHDX_REGION_SIGNATURE "regi"
#define VHDX_RT_CHECKSUM          4
#define VHDX_RT_ENTRY_COUNT       8
#define VHDX_RT_ENTRIES          16
#define VHDX_RT_MAX_ENTRIES    2047
#define VHDX_RE_BYTES            32
#define VHDX_RE_OFFSET           16
#define VHDX_RE_LENGTH           24      /* 32 bits */
#define VHDX_RE_DATA_BITS        28
#define VHDX_RE_REQUIRED        0x1u

/* The metadata region: a 64 KiB table of entries, the items after it. */
#define VHDX_METADATA_TABLE_BYTES (64 * 1024)
#define VHDX_METADATA_SIGNATURE "metadata"
#define VHDX_MT_ENTRY_COUNT      10      /* 16 bits */
#define VHDX_MT_ENTRIES          32
#define VHDX_ME_BYTES            32
#define VHDX_ME_OFFSET           16      /* from the region's start */
#define VHDX_ME_LENGTH           20
#define VHDX_ME_DATA_BITS        24
#define VHDX_ME_REQUIRED        0x4u

/* File parameters item. */
#define VHDX_FP_BLOCK_SIZE        0
#define VHDX_FP_DATA_BITS         4
#define VHDX_FP_LEAVE_ALLOCATED 0x1u
#define VHDX_FP_HAS_PARENT      0x2u
#define VHDX_MIN_BLOCK_SIZE (1u << 20)
#define VHDX_MAX_BLOCK_SIZE (256u << 20)

/* The spec's largest disk; qemu creates no larger. */
#define VHDX_MAX_DISK_SIZE (64ull << 40)

/* The log: where it may be, and its entry headers. */
#define VHDX_LOG_ALIGN (1024 * 1024)
#define VHDX_LOG_SECTOR 4096
#define VHDX_LOG_SIGNATURE "loge"
#define VHDX_LE_CHECKSUM          4
#define VHDX_LE_ENTRY_LENGTH      8
#define VHDX_LE_LOG_GUID         32

/* BAT entries: a state in bits 0-2, the file offset in MiB in bits 20-63.
 * Every (chunk ratio) payload entries are followed by one sector bitmap
 * entry.
 */
#define VHDX_BAT_STATE_MASK 0x7u
#define VHDX_BAT_OFFSET_MASK 0xfffffffffff00000ull
#define VHDX_BLOCK_NOT_PRESENT 0
#define VHDX_BLOCK_UNDEFINED 1
#define VHDX_BLOCK_ZERO 2
#define VHDX_BLOCK_UNMAPPED 3
#define VHDX_BLOCK_UNMAPPED_V095 5
#define VHDX_BLOCK_FULLY_PRESENT 6
#define VHDX_BLOCK_PARTIALLY_PRESENT 7
/* Sectors one sector bitmap block covers: 2^23. */
#define VHDX_SECTORS_PER_BITMAP (1ull << 23)

/* The payload starts after the header section. */
#define VHDX_HEADER_SECTION_BYTES (1024 * 1024)

/* GUIDs, as stored: data1 (32 bits), data2, data3 (16 bits) little-endian,
 * then 8 bytes as they are.
 */
#define VHDX_GUID_BYTES 16
#define VHDX_GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7) \
  { (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, \
    (b) & 0xff, ((b) >> 8) & 0xff, (c) & 0xff, ((c) >> 8) & 0xff, \
    d0, d1, d2, d3, d4, d5, d6, d7 }
#define VHDX_BAT_GUID \
  VHDX_GUID (0x2dc27766, 0xf623, 0x4200, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08)
#define VHDX_METADATA_GUID \
  VHDX_GUID (0x8b7ca206, 0x4790, 0x4b9a, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e)
#define VHDX_FILE_PARAMETERS_GUID \
  VHDX_GUID (0xcaa16737, 0xfa36, 0x4d43, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b)
#define VHDX_VIRTUAL_SIZE_GUID \
  VHDX_GUID (0x2fa54224, 0xcd1b, 0x4876, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8)
#define VHDX_PAGE83_GUID \
  VHDX_GUID (0xbeca12ab, 0xb2e6, 0x4523, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46)
#define VHDX_LOGICAL_SECTOR_GUID \
  VHDX_GUID (0x8141bf1d, 0xa96f, 0x4709, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f)
#define VHDX_PHYSICAL_SECTOR_GUID \
  VHDX_GUID (0xcda348c7, 0x445d, 0x4471, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56)
#define VHDX_PARENT_LOCATOR_GUID \
  VHDX_GUID (0xa8d35f2d, 0xb30b, 0x454d, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c)

#endif
