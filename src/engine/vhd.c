/* The VHD format driver (qemu's "vpc"), fixed and dynamic, read as qemu's
 * block/vpc.c reads them:
 *  - the footer is the first 512 bytes when they start with "conectix"
 *    (a dynamic disk's copy), else the last 512 (a fixed disk);
 *  - the disk size comes from the CHS geometry or from current_size,
 *    chosen by the creator application as qemu 7.2 chooses it;
 *  - a fixed disk is the file itself; a dynamic disk maps blocks through
 *    the BAT (read in chunks through the cache).  A block is read whole,
 *    whatever its sector bitmap says, as qemu reads it; a block the BAT
 *    does not map reads as zeros.
 * A differencing disk is read as qemu 7.2 reads it: as a dynamic disk,
 * without its parent.  qemu's vpc driver has no backing support; it never
 * looks at the parent locators, so neither do we (no file they name is
 * opened, whatever it says), and the blocks the child does not hold read
 * as zeros, as in qemu-img convert.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "block-table.h"
#include "byte-order.h"
#include "checked-arith.h"
#include "error.h"
#include "image-internal.h"
#include "rounding.h"
#include "vhd-format.h"

struct vhd {
  bool fixed;                   /* reads go to the file itself */
  bool differencing;            /* read as dynamic: the parent is not read */
  struct block_table bat;       /* dynamic */
  struct block_disk disk;       /* dynamic: its blocks */
  uint32_t block_size;
  uint32_t bitmap_size;         /* the sector bitmap before each block */
  char creator[VHD_CREATOR_APP_BYTES + 1];
};

/* The one's complement of the byte sum, the checksum field as zero. */
static uint32_t
footer_checksum (const unsigned char *footer)
{
  uint32_t sum = 0;
  size_t i;

  for (i = 0; i < VHD_FOOTER_BYTES; i++)
    if (i < VHD_FT_CHECKSUM || i >= VHD_FT_CHECKSUM + 4)
      sum += footer[i];
  return ~sum;
}

static bool
has_cookie (const unsigned char *footer)
{
  return memcmp (footer, VHD_COOKIE, VHD_COOKIE_BYTES) == 0;
}

static int
read_tail (const struct probe_span *span, unsigned char *footer, bool *read)
{
  ssize_t n;

  *read = false;
  if (span->size < VHD_FOOTER_BYTES)
    return 0;
  do
    n = pread (span->fd, footer, VHD_FOOTER_BYTES,
               span->base + span->size - VHD_FOOTER_BYTES);
  while (n == -1 && errno == EINTR);
  if (n == -1)
    return -1;
  *read = n == VHD_FOOTER_BYTES;
  return 0;
}

/* A dynamic disk starts with "conectix", as qemu probes; a fixed disk only
 * ends with its footer (vpc_probe_tail).
 */
int
vpc_probe (int fd, const unsigned char *head, size_t len)
{
  (void) fd;
  return len >= VHD_COOKIE_BYTES && has_cookie (head);
}

/* A fixed disk's footer must hold together: its checksum and the fixed
 * type (qemu itself leaves that case to -f vpc).
 */
int
vpc_probe_tail (const struct probe_span *span)
{
  unsigned char footer[VHD_FOOTER_BYTES];
  bool read;

  if (read_tail (span, footer, &read) == -1)
    return -1;
  return read && has_cookie (footer)
         && load_be32 (footer + VHD_FT_CHECKSUM) == footer_checksum (footer)
         && load_be32 (footer + VHD_FT_DISK_TYPE) == VHD_TYPE_FIXED;
}

static int
refused (int err)
{
  errno = err;
  return -1;
}

/* The footer, and whether it is the copy at the start of the file. */
static int
read_footer (struct image *img, unsigned char *footer, bool *at_start)
{
  if (img->file_size < VHD_FOOTER_BYTES) {
    report_error ("%s: file is too short for a VHD footer (%" PRIu64
                  " bytes)", img->path, img->file_size);
    return refused (EINVAL);
  }
  if (read_at (img, img->fd, "the VHD footer", footer, VHD_FOOTER_BYTES,
               0) == -1)
    return -1;
  *at_start = has_cookie (footer);
  if (*at_start)
    return 0;
  if (read_at (img, img->fd, "the VHD footer", footer, VHD_FOOTER_BYTES,
               img->file_size - VHD_FOOTER_BYTES) == -1)
    return -1;
  if (!has_cookie (footer)) {
    report_error ("%s: not a VHD image (no \"conectix\" footer at the start "
                  "or the end of the file)", img->path);
    return refused (EINVAL);
  }
  return 0;
}

/* Virtual PC and old qemu size a disk by its geometry; Hyper-V, Disk2vhd,
 * XenServer, XenConverter and qemu with force_size by current_size
 * (qemu 7.2's list; a geometry at its maximum means current_size too).
 */
static bool
sized_by_geometry (const unsigned char *app)
{
  static const char *const by_size[] = { "win ", "qem2", "d2v ", "CTXS" };
  size_t i;

  for (i = 0; i < sizeof by_size / sizeof by_size[0]; i++)
    if (memcmp (app, by_size[i], VHD_CREATOR_APP_BYTES) == 0)
      return false;
  return memcmp (app, "tap", VHD_CREATOR_APP_BYTES) != 0;  /* "tap\0" */
}

static int
disk_size (struct image *img, const unsigned char *footer, uint64_t *size)
{
  uint64_t sectors = (uint64_t) load_be16 (footer + VHD_FT_CYLINDERS)
                     * footer[VHD_FT_HEADS] * footer[VHD_FT_SECTORS];

  if (!sized_by_geometry (footer + VHD_FT_CREATOR_APP)
      || sectors == VHD_MAX_GEOMETRY)
    sectors = load_be64 (footer + VHD_FT_CURRENT_SIZE) / VHD_SECTOR_SIZE;
  if (sectors > VHD_MAX_SECTORS) {
    report_error ("%s: VHD footer: disk size of %" PRIu64 " sectors is too "
                  "large (at most %llu, 2040 GiB)", img->path, sectors,
                  VHD_MAX_SECTORS);
    return refused (EFBIG);
  }
  *size = sectors * VHD_SECTOR_SIZE;
  return 0;
}

static int
check_footer (struct image *img, const unsigned char *footer, bool at_start)
{
  uint32_t stored = load_be32 (footer + VHD_FT_CHECKSUM);
  uint32_t type = load_be32 (footer + VHD_FT_DISK_TYPE);

  if (stored != footer_checksum (footer)) {
    report_error ("%s: VHD footer: checksum 0x%08" PRIx32 " does not match "
                  "its contents (0x%08" PRIx32 ")", img->path, stored,
                  footer_checksum (footer));
    return refused (EINVAL);
  }
  if (!at_start && type != VHD_TYPE_FIXED) {
    report_error ("%s: VHD footer at the end of the file: disk type %" PRIu32
                  " is not fixed (%d), and the file has no footer copy at "
                  "its start", img->path, type, VHD_TYPE_FIXED);
    return refused (EINVAL);
  }
  return 0;
}

/* The dynamic disk header's block size and BAT, checked as qemu checks
 * them, and the BAT against the file.
 */
static int
open_dynamic (struct image *img, struct vhd *v, const unsigned char *footer)
{
  uint64_t at = load_be64 (footer + VHD_FT_DATA_OFFSET);
  unsigned char h[VHD_DYN_HEADER_BYTES];
  uint32_t entries;

  if (!range_fits (at, sizeof h, img->file_size)) {
    report_error ("%s: VHD footer: dynamic header offset 0x%" PRIx64
                  " passes the end of the file (%" PRIu64 " bytes)",
                  img->path, at, img->file_size);
    return refused (EINVAL);
  }
  if (read_at (img, img->fd, "the VHD dynamic header", h, sizeof h, at) == -1)
    return -1;
  if (memcmp (h, VHD_DYN_MAGIC, strlen (VHD_DYN_MAGIC)) != 0) {
    report_error ("%s: VHD dynamic header at 0x%" PRIx64 ": no \"%s\" magic",
                  img->path, at, VHD_DYN_MAGIC);
    return refused (EINVAL);
  }
  v->block_size = load_be32 (h + VHD_DH_BLOCK_SIZE);
  if (!is_power_of_2 (v->block_size) || v->block_size < VHD_SECTOR_SIZE) {
    report_error ("%s: VHD dynamic header: block size %" PRIu32 " is not a "
                  "power of 2 of at least %d", img->path, v->block_size,
                  VHD_SECTOR_SIZE);
    return refused (EINVAL);
  }
  /* One bit a sector, in whole sectors (qemu's rounding, 0 below 4 KiB). */
  v->bitmap_size = round_up (v->block_size / (8 * VHD_SECTOR_SIZE),
                             VHD_SECTOR_SIZE);
  entries = load_be32 (h + VHD_DH_MAX_TABLE_ENTRIES);
  if (entries > VHD_MAX_TABLE_ENTRIES) {
    report_error ("%s: VHD dynamic header: max_table_entries %" PRIu32
                  " is too large (at most %u)", img->path, entries,
                  VHD_MAX_TABLE_ENTRIES);
    return refused (EINVAL);
  }
  if ((uint64_t) entries * v->block_size < img->size) {
    report_error ("%s: VHD dynamic header: %" PRIu32 " blocks of %" PRIu32
                  " bytes do not cover the disk size %" PRIu64, img->path,
                  entries, v->block_size, img->size);
    return refused (EINVAL);
  }
  v->bat = (struct block_table) {
    .what = "the VHD BAT",
    .offset = load_be64 (h + VHD_DH_TABLE_OFFSET),
    .entries = entries,
    .big_endian = true,
    .first_hole = VHD_BAT_HOLE,
  };
  if (!range_fits (v->bat.offset, v->bat.entries * 4, img->file_size)) {
    report_error ("%s: VHD BAT (%" PRIu64 " bytes at 0x%" PRIx64 ") passes "
                  "the end of the file (%" PRIu64 " bytes)", img->path,
                  v->bat.entries * 4, v->bat.offset, img->file_size);
    return refused (EINVAL);
  }
  return 0;
}

/* The creator application as text: printable ASCII, trailing blanks and
 * NULs dropped, anything else shown as '?'.
 */
static void
copy_creator (char *out, const unsigned char *app)
{
  size_t i, n = VHD_CREATOR_APP_BYTES;

  while (n > 0 && (app[n - 1] == ' ' || app[n - 1] == '\0'))
    n--;
  for (i = 0; i < n; i++)
    out[i] = app[i] >= 0x20 && app[i] < 0x7f ? app[i] : '?';
  out[n] = '\0';
}

static void
describe (struct image *img, const struct vhd *v)
{
  img->desc.format = IMAGE_FORMAT_VPC;
  img->desc.virtual_size = img->size;
  img->desc.subformat = v->fixed ? "fixed"
                        : v->differencing ? "differencing" : "dynamic";
  img->desc.creator = v->creator;
  /* As qemu: a block size for every disk not of the fixed type. */
  img->desc.cluster_size = v->fixed ? 0 : v->block_size;
}

static block_map_fn map_block;

static int
vpc_open (struct image *img)
{
  unsigned char footer[VHD_FOOTER_BYTES];
  struct vhd *v;
  bool at_start;

  if (read_footer (img, footer, &at_start) == -1
      || check_footer (img, footer, at_start) == -1
      || disk_size (img, footer, &img->size) == -1)
    return -1;
  v = calloc (1, sizeof *v);
  if (v == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  /* qemu reads the dynamic header whenever the footer is at the start,
   * then reads a fixed-type disk straight from the file all the same.
   */
  if (at_start && open_dynamic (img, v, footer) == -1) {
    free (v);
    return -1;
  }
  v->fixed = load_be32 (footer + VHD_FT_DISK_TYPE) == VHD_TYPE_FIXED;
  v->differencing =
    load_be32 (footer + VHD_FT_DISK_TYPE) == VHD_TYPE_DIFFERENCING;
  copy_creator (v->creator, footer + VHD_FT_CREATOR_APP);
  block_disk_init (&v->disk, img, v->block_size, map_block, "a VHD block");
  img->format = v;
  describe (img, v);
  return 0;
}

/* A block_map_fn: a VHD block's data follows its sector bitmap; blocks
 * past the BAT are holes.
 */
static int
map_block (struct image *img, uint64_t offset, struct block_run *run)
{
  struct vhd *v = img->format;
  uint64_t index = offset / v->block_size, bitmap, needed;
  uint32_t entry;

  run->mapped = false;
  if (index >= v->bat.entries) {
    run->blocks = div_round_up (img->size, v->block_size) - index;
    return 0;
  }
  if (block_table_entry (img, &v->bat, index, &entry, &run->blocks) == -1)
    return -1;
  if (run->blocks > 0)
    return 0;
  bitmap = (uint64_t) entry * VHD_SECTOR_SIZE;
  /* qemu refuses a block (and its bitmap) that passes the end. */
  needed = (uint64_t) v->bitmap_size + v->block_size;
  if (!range_fits (bitmap, needed, img->file_size)) {
    report_error ("%s: VHD BAT entry %" PRIu64 ": block at sector %" PRIu32
                  " (%" PRIu64 " bytes with its bitmap) passes the end of "
                  "the file (%" PRIu64 " bytes)", img->path, index, entry,
                  needed, img->file_size);
    return refused (EINVAL);
  }
  /* The next block's bitmap comes between: never one host run. */
  run->mapped = true;
  run->blocks = 1;
  run->data = bitmap + v->bitmap_size;
  return 0;
}

/* A fixed disk is read as a raw file is: its bytes, zeros past its end. */
static int
vpc_read (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct vhd *v = img->format;

  if (v->fixed)
    return raw_format.read (img, buf, count, offset);
  return read_blocks (img, &v->disk, buf, count, offset);
}

static int
vpc_extent (struct image *img, uint64_t offset, uint64_t length,
            struct image_extent *extent)
{
  struct vhd *v = img->format;

  if (v->fixed)
    return raw_format.extent (img, offset, length, extent);
  return extent_blocks (img, &v->disk, offset, length, extent);
}

static void
vpc_close (struct image *img)
{
  struct vhd *v = img->format;

  block_disk_destroy (&v->disk);
  free (v);
}

const struct format_ops vpc_format = {
  .name = "vpc",
  .open = vpc_open,
  .read = vpc_read,
  .extent = vpc_extent,
  .close = vpc_close,
};
