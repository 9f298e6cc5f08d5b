/* A table of 32-bit block entries in the image file (VDI's block map, VHD's
 * BAT), read in chunks through the shared cache, never held whole.
 */
#ifndef SPARSEFS_BLOCK_TABLE_H
#define SPARSEFS_BLOCK_TABLE_H

#include <stdbool.h>
#include <stdint.h>

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

/* Where a block-format driver finds the block holding guest OFFSET: *HOLES
 * > 0 when no block is mapped there (that many blocks in a row), else the
 * host offset of the block's first data byte in *DATA, checked against
 * the file.  Returns 0, or -1 after reporting.
 */
typedef int block_map_fn (struct image *img, uint64_t offset, uint64_t *data,
                          uint64_t *holes);

/* Reads and extents of a disk of BLOCK_SIZE blocks that MAP places in the
 * file (WHAT names a block in messages): unmapped blocks read as zeros and
 * are holes; mapped ones are data, or holes where the file system holds one
 * (a static VDI is often a sparse file).
 */
int read_blocks (struct image *img, uint64_t block_size, block_map_fn *map,
                 const char *what, void *buf, size_t count, uint64_t offset);
int extent_blocks (struct image *img, uint64_t block_size, block_map_fn *map,
                   uint64_t offset, uint64_t length,
                   struct image_extent *extent);

#endif
