/* Disks of fixed-size blocks that a table places in the image file (VDI,
 * VHD, VHDX): a table of 32-bit block entries (VDI's block map, VHD's BAT)
 * read in chunks through the shared cache, never held whole; and the reads
 * and extents of such a disk, through a driver's map of its blocks.
 */
#ifndef SPARSEFS_BLOCK_TABLE_H
#define SPARSEFS_BLOCK_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "host-holes.h"
#include "image-internal.h"

struct block_table {
  const char *what;             /* names it in messages: "VDI block map" */
  uint64_t offset;              /* in the file; the whole table fits in it */
  uint64_t entries;
  bool big_endian;
  uint32_t first_hole;          /* entries from this value up map no block */
};

/* Entry INDEX (< entries) in *ENTRY, and in *HOLES how many entries from
 * INDEX on (within its chunk) map no block: 0 when INDEX maps one.
 * Returns 0, or -1 after reporting.
 */
int block_table_entry (struct image *img, const struct block_table *table,
                       uint64_t index, uint32_t *entry, uint64_t *holes);

/* What a driver's map says of the blocks from the one holding a guest
 * offset on: BLOCKS (> 0) blocks in a row that map nothing, or that lie
 * one after another in the file from host offset DATA (the first block's
 * first data byte), every one of them checked against the file.
 */
struct block_run {
  uint64_t blocks;
  bool mapped;
  uint64_t data;
};

/* Where a block-format driver finds the blocks from the one holding guest
 * OFFSET on.  Returns 0, or -1 after reporting.
 */
typedef int block_map_fn (struct image *img, uint64_t offset,
                          struct block_run *run);

/* A disk of BLOCK_SIZE blocks that MAP places in the image file (WHAT
 * names a block in messages).
 */
struct block_disk {
  uint64_t block_size;
  block_map_fn *map;
  const char *what;
  struct host_holes holes;      /* of the image file */
};

void block_disk_init (struct block_disk *disk, struct image *img,
                      uint64_t block_size, block_map_fn *map,
                      const char *what);
void block_disk_destroy (struct block_disk *disk);

/* Reads and extents of DISK: unmapped blocks read as zeros and are holes;
 * mapped ones are data, or holes where the file system holds one (a
 * static VDI is often a sparse file, a dynamic VHDX has unwritten ranges
 * in its blocks).  A run of blocks that lie one after another in the file
 * is one read and one extent, as a qcow2 run of contiguous clusters is.
 */
int read_blocks (struct image *img, struct block_disk *disk, void *buf,
                 size_t count, uint64_t offset);
int extent_blocks (struct image *img, struct block_disk *disk,
                   uint64_t offset, uint64_t length,
                   struct image_extent *extent);

#endif
