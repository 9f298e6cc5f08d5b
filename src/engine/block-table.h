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

/* The extent at guest offset GUEST, whose bytes are in the file from HOST
 * on (at most LENGTH of them): data, or a hole where the file system holds
 * one (a static VDI or fixed VHD is often a sparse file).
 */
int data_block_extent (struct image *img, uint64_t guest, uint64_t host,
                       uint64_t length, struct image_extent *extent);

#endif
