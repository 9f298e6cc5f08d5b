/* VDI (VirtualBox) on-disk constants: the 512-byte little-endian header at
 * the start of the file, and qemu's limits (block/vdi.c), which we enforce
 * the same way.
 */
#ifndef SPARSEFS_VDI_FORMAT_H
#define SPARSEFS_VDI_FORMAT_H

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_HEADER_BYTES 512

/* Header field offsets. */
#define VDI_HDR_SIGNATURE        0x40
#define VDI_HDR_VERSION          0x44
#define VDI_HDR_IMAGE_TYPE       0x4c
#define VDI_HDR_OFFSET_BMAP     0x154
#define VDI_HDR_OFFSET_DATA     0x158
#define VDI_HDR_SECTOR_SIZE     0x168
#define VDI_HDR_DISK_SIZE       0x170
#define VDI_HDR_BLOCK_SIZE      0x178
#define VDI_HDR_BLOCKS_IN_IMAGE 0x180
#define VDI_HDR_UUID_LINK       0x1a8
#define VDI_HDR_UUID_PARENT     0x1b8
#define VDI_UUID_BYTES 16

#define VDI_TYPE_DYNAMIC 1
#define VDI_TYPE_STATIC 2

/* Block map entries from here up map no block (unallocated, discarded). */
#define VDI_FIRST_HOLE 0xfffffffeu

/* The only sector and block sizes qemu reads. */
#define VDI_SECTOR_SIZE 512
#define VDI_BLOCK_SIZE (1024 * 1024)
#define VDI_MAX_BLOCKS 0x3fffffffu
#define VDI_MAX_DISK_SIZE ((uint64_t) VDI_MAX_BLOCKS * VDI_BLOCK_SIZE)

#endif
