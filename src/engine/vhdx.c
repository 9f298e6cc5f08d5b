/* The VHDX format driver (Hyper-V), fixed and dynamic, read as qemu's
 * block/vhdx.c reads them:
 *  - the file identifier, the current header (vhdx-header.c), a log that
 *    needs replaying refused (vhdx-log.c), the region table and the
 *    metadata items (vhdx-metadata.c);
 *  - blocks mapped through the BAT, whose 64-bit entries are read in
 *    chunks through the cache, a sector bitmap entry after every chunk
 *    ratio of payload entries.  A fully present block is data (or a hole
 *    where the file system holds one); not present, undefined, zero and
 *    unmapped blocks are holes.  Blocks that follow one another in the
 *    file (qemu allocates them so, in write order) are read and mapped as
 *    one run (block-table.h), as qcow2 merges contiguous clusters.
 * Differencing disks are refused (vhdx-metadata.c), as qemu 7.2 refuses
 * them; so a partially present block, which only they may hold, is damage.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block-table.h"
#include "byte-order.h"
#include "cache.h"
#include "checked-arith.h"
#include "error.h"
#include "rounding.h"
#include "vhdx-driver.h"
#include "vhdx-format.h"

#define BAT_CHUNK_BYTES 4096
#define BAT_CHUNK_ENTRIES (BAT_CHUNK_BYTES / 8)

int
vhdx_probe (int fd, const unsigned char *head, size_t len)
{
  (void) fd;
  return len >= VHDX_SIGNATURE_BYTES
         && memcmp (head, VHDX_FILE_SIGNATURE, VHDX_SIGNATURE_BYTES) == 0;
}

static int
refused (int err)
{
  errno = err;
  return -1;
}

/* The BAT holds an entry per block and per chunk ratio of blocks. */
static int
check_bat (struct image *img, const struct vhdx *v)
{
  uint64_t entries = v->blocks == 0 ? 0
                     : v->blocks + (v->blocks - 1) / v->chunk_ratio;

  if (entries > v->bat.length / 8) {
    report_error ("%s: VHDX BAT region of %" PRIu64 " bytes is too small for "
                  "the %" PRIu64 " entries of a %" PRIu64 "-byte disk in "
                  "%" PRIu32 "-byte blocks", img->path, v->bat.length,
                  entries, img->size, v->block_size);
    return refused (EINVAL);
  }
  return 0;
}

/* What the probe checks, again for a format forced by name. */
static int
check_file_identifier (struct image *img)
{
  unsigned char signature[VHDX_SIGNATURE_BYTES];

  if (img->file_size < VHDX_REGION_TABLE_OFFSET + VHDX_REGION_TABLE_BYTES) {
    report_error ("%s: file is too short for the VHDX headers and region "
                  "table (%" PRIu64 " bytes)", img->path, img->file_size);
    return refused (EINVAL);
  }
  if (read_at (img, img->fd, "the VHDX file identifier", signature,
               sizeof signature, 0) == -1)
    return -1;
  if (!vhdx_probe (img->fd, signature, sizeof signature)) {
    report_error ("%s: not a VHDX image (no \"%s\" signature)", img->path,
                  VHDX_FILE_SIGNATURE);
    return refused (EINVAL);
  }
  return 0;
}

static void
describe (struct image *img, const struct vhdx *v)
{
  img->desc.format = IMAGE_FORMAT_VHDX;
  img->desc.virtual_size = img->size;
  img->desc.cluster_size = v->block_size;
  img->desc.subformat = v->leave_allocated ? "fixed" : "dynamic";
}

static block_map_fn map_block;

static int
vhdx_open (struct image *img)
{
  unsigned char header[VHDX_HEADER_BYTES];
  struct vhdx *v = calloc (1, sizeof *v);

  if (v == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  if (check_file_identifier (img) == -1
      || vhdx_current_header (img, header) == -1
      || vhdx_check_log (img, v, header) == -1
      || vhdx_read_region_table (img, v) == -1
      || vhdx_read_metadata (img, v) == -1
      || check_bat (img, v) == -1)
    goto fail;
  block_disk_init (&v->disk, img, v->block_size, map_block, "a VHDX block");
  img->format = v;
  describe (img, v);
  return 0;

 fail:
  free (v);
  return -1;
}

static bool
state_is_hole (uint64_t entry)
{
  switch (entry & VHDX_BAT_STATE_MASK) {
  case VHDX_BLOCK_NOT_PRESENT:
  case VHDX_BLOCK_UNDEFINED:
  case VHDX_BLOCK_ZERO:
  case VHDX_BLOCK_UNMAPPED:
  case VHDX_BLOCK_UNMAPPED_V095:
    return true;
  }
  return false;
}

static uint64_t
bat_index (const struct vhdx *v, uint64_t block)
{
  return block + block / v->chunk_ratio;
}

/* A chunk of the BAT as the cache holds it: ENTRIES are the BAT's entries
 * FIRST to FIRST + COUNT - 1.
 */
struct bat_chunk {
  const unsigned char *entries;
  uint64_t first, count;
};

/* BLOCK's entry, or false when the chunk ends before it. */
static bool
chunk_entry (const struct vhdx *v, const struct bat_chunk *c, uint64_t block,
             uint64_t *entry)
{
  uint64_t index = bat_index (v, block);

  if (block >= v->blocks || index >= c->first + c->count)
    return false;
  *entry = load_le64 (c->entries + (index - c->first) * 8);
  return true;
}

/* The bytes of BLOCK the disk holds: the last block may be cut short. */
static uint64_t
block_bytes (const struct image *img, const struct vhdx *v, uint64_t block)
{
  return MIN ((uint64_t) v->block_size, img->size - block * v->block_size);
}

/* Whether a fully present block at AT lies past the header section,
 * inside the file, and clear of the log, the BAT and the metadata region.
 */
static bool
block_fits (const struct image *img, const struct vhdx *v, uint64_t block,
            uint64_t at)
{
  uint64_t length = block_bytes (img, v, block);

  return at >= VHDX_HEADER_SECTION_BYTES
         && range_fits (at, length, img->file_size)
         && !vhdx_overlaps (&v->log, at, length)
         && !vhdx_overlaps (&v->bat, at, length)
         && !vhdx_overlaps (&v->metadata, at, length);
}

/* BLOCK's entry must be a fully present block that fits. */
static int
check_block (struct image *img, const struct vhdx *v, uint64_t block,
             uint64_t entry)
{
  unsigned state = entry & VHDX_BAT_STATE_MASK;
  uint64_t at = entry & VHDX_BAT_OFFSET_MASK;

  if (state != VHDX_BLOCK_FULLY_PRESENT) {
    report_error ("%s: VHDX BAT entry %" PRIu64 ": block state %u is %s",
                  img->path, bat_index (v, block), state,
                  state == VHDX_BLOCK_PARTIALLY_PRESENT
                  ? "partially present, which only a differencing disk may "
                    "hold" : "undefined");
    return refused (EINVAL);
  }
  if (!block_fits (img, v, block, at)) {
    report_error ("%s: VHDX BAT entry %" PRIu64 ": block %" PRIu64 " (%"
                  PRIu64 " bytes at 0x%" PRIx64 ") lies in the header "
                  "section, the log, the BAT or the metadata region, or "
                  "passes the end of the file (%" PRIu64 " bytes)",
                  img->path, bat_index (v, block), block,
                  block_bytes (img, v, block), at, img->file_size);
    return refused (EINVAL);
  }
  return 0;
}

/* The run from BLOCK on in chunk C: hole blocks, or fully present blocks
 * each right after the one before it in the file (as qemu allocates
 * blocks written in order).  A block that would not fit ends a data run,
 * to be reported when it is asked for.
 */
static int
chunk_run (struct image *img, const struct vhdx *v, const struct bat_chunk *c,
           uint64_t block, struct block_run *run)
{
  uint64_t entry = 0, b;

  chunk_entry (v, c, block, &entry);    /* BLOCK's own: always there */
  run->mapped = !state_is_hole (entry);
  run->blocks = 1;
  if (!run->mapped) {
    for (b = block + 1; chunk_entry (v, c, b, &entry)
                        && state_is_hole (entry); b++)
      run->blocks++;
    return 0;
  }
  if (check_block (img, v, block, entry) == -1)
    return -1;
  run->data = entry & VHDX_BAT_OFFSET_MASK;
  for (b = block + 1; chunk_entry (v, c, b, &entry); b++) {
    uint64_t next = run->data + run->blocks * v->block_size;

    if ((entry & VHDX_BAT_STATE_MASK) != VHDX_BLOCK_FULLY_PRESENT
        || (entry & VHDX_BAT_OFFSET_MASK) != next
        || !block_fits (img, v, b, next))
      break;
    run->blocks++;
  }
  return 0;
}

/* A block_map_fn: the BAT chunk holding the block's entry, through the
 * cache, and the run it starts there.
 */
static int
map_block (struct image *img, uint64_t offset, struct block_run *run)
{
  struct vhdx *v = img->format;
  uint64_t block = offset / v->block_size;
  uint64_t first = round_down (bat_index (v, block), BAT_CHUNK_ENTRIES);
  struct bat_chunk c = {
    .first = first,
    .count = MIN ((uint64_t) BAT_CHUNK_ENTRIES, v->bat.length / 8 - first),
  };
  struct file_fill fill = { img, "the VHDX BAT", v->bat.offset + first * 8 };
  struct cache_entry *pin;
  int r;

  c.entries = cache_get (img->cache, img->cache_owner,
                         cache_key (CACHE_L1_CHUNK, fill.offset), c.count * 8,
                         fill_from_file, &fill, &pin);
  if (c.entries == NULL)
    return -1;
  r = chunk_run (img, v, &c, block, run);
  cache_release (img->cache, pin);
  return r;
}

static int
vhdx_read (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct vhdx *v = img->format;

  return read_blocks (img, &v->disk, buf, count, offset);
}

static int
vhdx_extent (struct image *img, uint64_t offset, uint64_t length,
             struct image_extent *extent)
{
  struct vhdx *v = img->format;

  return extent_blocks (img, &v->disk, offset, length, extent);
}

static void
vhdx_close (struct image *img)
{
  struct vhdx *v = img->format;

  block_disk_destroy (&v->disk);
  free (v);
}

const struct format_ops vhdx_format = {
  .name = "vhdx",
  .open = vhdx_open,
  .read = vhdx_read,
  .extent = vhdx_extent,
  .close = vhdx_close,
};
