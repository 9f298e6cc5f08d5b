/* The VDI format driver (VirtualBox images, static and dynamic), read as
 * qemu's block/vdi.c reads them: a header, a block map of 32-bit entries
 * (read in chunks through the cache) and 1 MiB blocks.  A block the map
 * does not allocate (never written, or discarded) reads as zeros.  VDI
 * snapshots (differencing images) are refused, as qemu refuses them.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block-table.h"
#include "byte-order.h"
#include "checked-arith.h"
#include "error.h"
#include "image-internal.h"
#include "rounding.h"
#include "vdi-format.h"

struct vdi {
  struct block_table map;
  uint64_t data_offset;
  struct block_disk disk;
};

int
vdi_probe (int fd, const unsigned char *head, size_t len)
{
  /* qemu probes 2 KiB padded with zeros: a shorter file is still a VDI
   * (that vdi_open then refuses) when it holds the signature.
   */
  return len >= VDI_HDR_SIGNATURE + 4
         && load_le32 (head + VDI_HDR_SIGNATURE) == VDI_SIGNATURE;
}

/* errno ERR after a header message. */
static int
refused (int err)
{
  errno = err;
  return -1;
}

static bool
uuid_is_null (const unsigned char *uuid)
{
  static const unsigned char null[VDI_UUID_BYTES];

  return memcmp (uuid, null, sizeof null) == 0;
}

/* The checks of qemu's vdi_open, in its order. */
static int
check_header (struct image *img, const unsigned char *h)
{
  uint32_t signature = load_le32 (h + VDI_HDR_SIGNATURE);
  uint32_t version = load_le32 (h + VDI_HDR_VERSION);
  uint64_t disk_size = load_le64 (h + VDI_HDR_DISK_SIZE);
  uint32_t bmap = load_le32 (h + VDI_HDR_OFFSET_BMAP);
  uint32_t data = load_le32 (h + VDI_HDR_OFFSET_DATA);
  uint32_t sector_size = load_le32 (h + VDI_HDR_SECTOR_SIZE);
  uint32_t block_size = load_le32 (h + VDI_HDR_BLOCK_SIZE);
  uint32_t blocks = load_le32 (h + VDI_HDR_BLOCKS_IN_IMAGE);
  const char *f = img->path;

  if (signature != VDI_SIGNATURE) {
    report_error ("%s: not a VDI image (signature 0x%08" PRIx32 ")", f,
                  signature);
    return refused (EINVAL);
  }
  if (disk_size > VDI_MAX_DISK_SIZE) {
    report_error ("%s: VDI header: disk size %" PRIu64 " is too large (at "
                  "most %" PRIu64 ")", f, disk_size, VDI_MAX_DISK_SIZE);
    return refused (EINVAL);
  }
  if (version != VDI_VERSION_1_1) {
    report_error ("%s: VDI header: version %" PRIu32 ".%" PRIu32 " is not "
                  "supported (only 1.1)", f, version >> 16, version & 0xffff);
    return refused (ENOTSUP);
  }
  if (!is_aligned (bmap, VDI_SECTOR_SIZE) || !is_aligned (data, VDI_SECTOR_SIZE)) {
    report_error ("%s: VDI header: block map offset 0x%" PRIx32 " or data "
                  "offset 0x%" PRIx32 " is not aligned to %d bytes", f, bmap,
                  data, VDI_SECTOR_SIZE);
    return refused (EINVAL);
  }
  if (sector_size != VDI_SECTOR_SIZE || block_size != VDI_BLOCK_SIZE) {
    report_error ("%s: VDI header: sector size %" PRIu32 " and block size %"
                  PRIu32 " are not supported (only %d and %d)", f,
                  sector_size, block_size, VDI_SECTOR_SIZE, VDI_BLOCK_SIZE);
    return refused (ENOTSUP);
  }
  if (round_up (disk_size, VDI_SECTOR_SIZE)
      > (uint64_t) blocks * VDI_BLOCK_SIZE) {
    report_error ("%s: VDI header: disk size %" PRIu64 " does not fit in "
                  "its %" PRIu32 " blocks", f, disk_size, blocks);
    return refused (EINVAL);
  }
  if (!uuid_is_null (h + VDI_HDR_UUID_LINK)
      || !uuid_is_null (h + VDI_HDR_UUID_PARENT)) {
    report_error ("%s: VDI header: the image is a snapshot (its link or "
                  "parent UUID is set); VDI snapshots are not supported", f);
    return refused (ENOTSUP);
  }
  if (blocks > VDI_MAX_BLOCKS) {
    report_error ("%s: VDI header: blocks_in_image %" PRIu32 " is too "
                  "large (at most %u)", f, blocks, VDI_MAX_BLOCKS);
    return refused (EINVAL);
  }
  return 0;
}

static int
check_block_map (struct image *img, const struct block_table *map)
{
  if (!range_fits (map->offset, map->entries * 4, img->file_size)) {
    report_error ("%s: VDI block map (%" PRIu64 " bytes at 0x%" PRIx64 ") "
                  "passes the end of the file (%" PRIu64 " bytes)", img->path,
                  map->entries * 4, map->offset, img->file_size);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

static void
describe (struct image *img, const unsigned char *h)
{
  uint32_t type = load_le32 (h + VDI_HDR_IMAGE_TYPE);

  img->desc.format = IMAGE_FORMAT_VDI;
  img->desc.virtual_size = img->size;
  img->desc.cluster_size = VDI_BLOCK_SIZE;
  img->desc.subformat = type == VDI_TYPE_STATIC ? "static"
                        : type == VDI_TYPE_DYNAMIC ? "dynamic" : "unknown";
}

static block_map_fn map_block;

static int
vdi_open (struct image *img)
{
  unsigned char h[VDI_HEADER_BYTES];
  struct block_table map;
  struct vdi *v;

  if (img->file_size < sizeof h) {
    report_error ("%s: file is too short for a VDI header (%" PRIu64
                  " bytes)", img->path, img->file_size);
    return refused (EINVAL);
  }
  if (read_at (img, img->fd, "the VDI header", h, sizeof h, 0) == -1
      || check_header (img, h) == -1)
    return -1;
  map = (struct block_table) {
    .what = "the VDI block map",
    .offset = load_le32 (h + VDI_HDR_OFFSET_BMAP),
    .entries = load_le32 (h + VDI_HDR_BLOCKS_IN_IMAGE),
    .first_hole = VDI_FIRST_HOLE,
  };
  if (check_block_map (img, &map) == -1)
    return -1;
  v = calloc (1, sizeof *v);
  if (v == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  v->map = map;
  v->data_offset = load_le32 (h + VDI_HDR_OFFSET_DATA);
  block_disk_init (&v->disk, img, VDI_BLOCK_SIZE, map_block, "a VDI block");
  img->format = v;
  img->size = round_up (load_le64 (h + VDI_HDR_DISK_SIZE), VDI_SECTOR_SIZE);
  describe (img, h);
  return 0;
}

/* A block_map_fn: a VDI block holds data only, from its first byte. */
static int
map_block (struct image *img, uint64_t offset, struct block_run *run)
{
  struct vdi *v = img->format;
  uint64_t index = offset / VDI_BLOCK_SIZE;
  uint64_t guest = index * VDI_BLOCK_SIZE;
  uint32_t entry;

  if (block_table_entry (img, &v->map, index, &entry, &run->blocks) == -1)
    return -1;
  run->mapped = run->blocks == 0;
  if (!run->mapped)
    return 0;
  run->blocks = 1;
  run->data = v->data_offset + (uint64_t) entry * VDI_BLOCK_SIZE;
  if (!range_fits (run->data, MIN (VDI_BLOCK_SIZE, img->size - guest),
                   img->file_size)) {
    report_error ("%s: VDI block map entry %" PRIu64 ": block %" PRIu32
                  " (at 0x%" PRIx64 ") passes the end of the file (%" PRIu64
                  " bytes)", img->path, index, entry, run->data,
                  img->file_size);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

static int
vdi_read (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct vdi *v = img->format;

  return read_blocks (img, &v->disk, buf, count, offset);
}

static int
vdi_extent (struct image *img, uint64_t offset, uint64_t length,
            struct image_extent *extent)
{
  struct vdi *v = img->format;

  return extent_blocks (img, &v->disk, offset, length, extent);
}

static void
vdi_close (struct image *img)
{
  struct vdi *v = img->format;

  block_disk_destroy (&v->disk);
  free (v);
}

const struct format_ops vdi_format = {
  .name = "vdi",
  .open = vdi_open,
  .read = vdi_read,
  .extent = vdi_extent,
  .close = vdi_close,
};
