/* Block tables and the disks they map (see block-table.h). */
#include <config.h>

#include <string.h>

#include "block-table.h"
#include "byte-order.h"
#include "cache.h"
#include "rounding.h"

#define CHUNK_BYTES 4096
#define CHUNK_ENTRIES (CHUNK_BYTES / 4)

static uint32_t
load_entry (const struct block_table *table, const unsigned char *p)
{
  return table->big_endian ? load_be32 (p) : load_le32 (p);
}

int
block_table_entry (struct image *img, const struct block_table *table,
                   uint64_t index, uint32_t *entry, uint64_t *holes)
{
  uint64_t first = round_down (index, CHUNK_ENTRIES);
  uint64_t count = MIN ((uint64_t) CHUNK_ENTRIES, table->entries - first);
  struct file_fill fill = { img, table->what, table->offset + first * 4 };
  struct cache_entry *pin;
  const unsigned char *chunk;
  uint64_t i;

  /* A layer has one such table, so the kind of a qcow2 L1 chunk (the
   * top-level table) names its chunks; keys are per layer.
   */
  chunk = cache_get (img->cache, img->cache_owner,
                     cache_key (CACHE_L1_CHUNK, fill.offset), count * 4,
                     fill_from_file, &fill, &pin);
  if (chunk == NULL)
    return -1;
  *entry = load_entry (table, chunk + (index - first) * 4);
  *holes = 0;
  for (i = index - first; i < count; i++) {
    if (load_entry (table, chunk + i * 4) < table->first_hole)
      break;
    (*holes)++;
  }
  cache_release (img->cache, pin);
  return 0;
}

void
block_disk_init (struct block_disk *disk, struct image *img,
                 uint64_t block_size, block_map_fn *map, const char *what)
{
  disk->block_size = block_size;
  disk->map = map;
  disk->what = what;
  host_holes_init (&disk->holes, img, img->fd, img->file_size);
}

void
block_disk_destroy (struct block_disk *disk)
{
  host_holes_destroy (&disk->holes);
}

/* The guest bytes from OFFSET to the end of RUN (which starts with the
 * block holding OFFSET), at most LIMIT.  A run is at most a chunk of its
 * table long, so this cannot overflow.
 */
static uint64_t
run_bytes (const struct block_disk *disk, const struct block_run *run,
           uint64_t offset, uint64_t limit)
{
  return MIN (limit, run->blocks * disk->block_size
                     - offset % disk->block_size);
}

int
read_blocks (struct image *img, struct block_disk *disk, void *buf,
             size_t count, uint64_t offset)
{
  char *p = buf;

  while (count > 0) {
    struct block_run run;
    size_t n;

    if (disk->map (img, offset, &run) == -1)
      return -1;
    n = run_bytes (disk, &run, offset, count);
    if (!run.mapped)
      memset (p, 0, n);
    else if (read_at (img, img->fd, disk->what, p, n,
                      run.data + offset % disk->block_size) == -1)
      return -1;
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

int
extent_blocks (struct image *img, struct block_disk *disk, uint64_t offset,
               uint64_t length, struct image_extent *extent)
{
  struct block_run run;
  uint64_t n;

  if (disk->map (img, offset, &run) == -1)
    return -1;
  n = run_bytes (disk, &run, offset, length);
  if (!run.mapped) {
    extent->offset = offset;
    extent->length = n;
    extent->type = IMAGE_EXTENT_ZERO;
    return 0;
  }
  if (host_holes_extent (&disk->holes, run.data + offset % disk->block_size,
                         n, extent) == -1)
    return -1;
  extent->offset = offset;
  return 0;
}
