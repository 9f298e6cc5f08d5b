/* What the VHDX driver's files share: the open image's state and the
 * steps of its open (vhdx.c calls them in qemu's order).
 */
#ifndef SPARSEFS_VHDX_DRIVER_H
#define SPARSEFS_VHDX_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "block-table.h"
#include "image-internal.h"

/* A span of the file the headers reserve: no payload block may overlap one. */
struct vhdx_region {
  uint64_t offset;
  uint64_t length;
};

struct vhdx {
  struct vhdx_region log, bat, metadata;
  uint32_t block_size;
  uint32_t logical_sector_size;
  uint64_t chunk_ratio;         /* payload blocks per sector bitmap block */
  uint64_t blocks;              /* payload blocks covering the disk */
  bool leave_allocated;         /* a fixed disk, as qemu creates one */
  struct block_disk disk;       /* its payload blocks */
};

/* Whether [OFFSET, OFFSET + LENGTH) overlaps R. */
static inline bool
vhdx_overlaps (const struct vhdx_region *r, uint64_t offset, uint64_t length)
{
  return r->length > 0 && offset < r->offset + r->length
         && r->offset < offset + length;
}

/* The current header (4 KiB) in HEADER: the valid one of the two, or the
 * one with the higher sequence number.  Returns 0, or -1 after reporting.
 */
int vhdx_current_header (struct image *img, unsigned char *header);

/* Refuse a log that needs replaying, as qemu refuses it read-only; set
 * v->log.  Returns 0, or -1 after reporting.
 */
int vhdx_check_log (struct image *img, struct vhdx *v,
                    const unsigned char *header);

/* The region table: v->bat and v->metadata.  Returns 0, or -1 after
 * reporting.
 */
int vhdx_read_region_table (struct image *img, struct vhdx *v);

/* The metadata items: block size, sector size, disk size (img->size) and
 * whether the disk has a parent.  Returns 0, or -1 after reporting.
 */
int vhdx_read_metadata (struct image *img, struct vhdx *v);

/* Whether the stored little-endian CRC-32C at CRC_AT in BUF (LEN bytes)
 * holds; *COMPUTED is what it should be.
 */
bool vhdx_checksum_holds (const unsigned char *buf, size_t len, size_t crc_at,
                          uint32_t *computed);

#endif
