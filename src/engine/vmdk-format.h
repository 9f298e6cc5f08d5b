/* VMDK on-disk constants: the hosted sparse extent header (little-endian,
 * after the 4-byte "KDMV" magic), the grain marker of compressed grains,
 * the text descriptor's limits, and qemu's limits (block/vmdk.c), which we
 * enforce the same way.
 */
#ifndef SPARSEFS_VMDK_FORMAT_H
#define SPARSEFS_VMDK_FORMAT_H

#define VMDK_SECTOR_SIZE 512

/* The first four bytes, as qemu compares them (big-endian). */
#define VMDK4_MAGIC 0x4b444d56u   /* "KDMV": a hosted sparse extent */
#define VMDK3_MAGIC 0x434f5744u   /* "COWD": an old ESX sparse extent */

/* Sparse extent header field offsets, from the start of the file. */
#define VMDK_HDR_VERSION          4
#define VMDK_HDR_FLAGS            8
#define VMDK_HDR_CAPACITY        12    /* 64 bits, in sectors */
#define VMDK_HDR_GRANULARITY     20    /* 64 bits, sectors a grain */
#define VMDK_HDR_NUM_GTES        44    /* 32 bits, entries a grain table */
#define VMDK_HDR_GD_OFFSET       56    /* 64 bits, in sectors */
#define VMDK_HDR_GRAIN_OFFSET    64    /* 64 bits, in sectors */
#define VMDK_HDR_COMPRESSION     77    /* 16 bits */
#define VMDK_HEADER_BYTES        79

#define VMDK_FLAG_ZERO_GRAIN (1u << 2)  /* grain table entry 1: zeros */
#define VMDK_FLAG_MARKER (1u << 17)     /* grains start with a marker */
#define VMDK_COMPRESSION_DEFLATE 1

/* A grain directory offset that says "the real header is the footer". */
#define VMDK_GD_AT_END 0xffffffffffffffffull
/* The footer: a footer marker sector, the header copy, an end-of-stream
 * marker sector, ending the file.
 */
#define VMDK_FOOTER_BYTES (3 * VMDK_SECTOR_SIZE)
#define VMDK_MARKER_SIZE   8           /* 32 bits */
#define VMDK_MARKER_TYPE  12           /* 32 bits */
#define VMDK_MARKER_END_OF_STREAM 0
#define VMDK_MARKER_GRAIN_TABLE 1
#define VMDK_MARKER_GRAIN_DIRECTORY 2
#define VMDK_MARKER_FOOTER 3

/* A compressed grain's marker: its LBA (64 bits) and payload size. */
#define VMDK_GRAIN_MARKER_BYTES 12
#define VMDK_GRAIN_MARKER_SIZE   8

#define VMDK_GTE_ZEROED 1

/* qemu's limits: grains of at most 1 GiB, 512 entries a grain table, a
 * grain directory of at most 32 Mi entries; version 3 at most.
 */
#define VMDK_MAX_GRANULARITY 0x200000u
#define VMDK_MAX_GTES 512u
#define VMDK_MAX_GD_ENTRIES (32u * 1024 * 1024)
#define VMDK_MAX_VERSION 3u

/* Ours: compressed grains are decompressed whole into the cache. */
#define VMDK_MAX_COMPRESSED_GRAIN (2u * 1024 * 1024)

/* qemu reads a descriptor file's first 1 MiB - 1 bytes, and looks for the
 * parent and CIDs in the 20 sectors at the descriptor's start (in a sparse
 * file, at offset 0x200).
 */
#define VMDK_MAX_DESCRIPTOR_FILE ((1u << 20) - 1)
#define VMDK_DESC_BYTES (20 * VMDK_SECTOR_SIZE)
#define VMDK_EMBEDDED_DESC_OFFSET 0x200
/* qemu keeps a parent name in 4096 bytes with its NUL. */
#define VMDK_MAX_PARENT_NAME 4095
/* Ours: an extent holds a file open. */
#define VMDK_MAX_EXTENTS 1024

#endif
