/* A VMDK hosted sparse extent ("KDMV"), read as qemu's block/vmdk.c reads
 * it: a grain directory (read in chunks through the cache, never whole)
 * points to grain tables, whose entries give each grain's sector.  An
 * entry of 0 maps nothing (the parent shows through); with the zeroed-grain
 * flag, an entry of 1 is a grain of zeros.  A streamOptimized extent holds
 * deflated grains, each behind a marker, and its real header in a footer
 * at the end of the file; its grains are reached through the same tables.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "cache.h"
#include "checked-arith.h"
#include "error.h"
#include "rounding.h"
#include "vmdk-format.h"
#include "vmdk-internal.h"

static int
refused (int err)
{
  errno = err;
  return -1;
}

/* The header copy in the footer (qemu trusts it over the header when the
 * header's grain directory offset says "at the end"); the markers around
 * it must say what they are.
 */
static int
read_footer (struct image *file, unsigned char *header)
{
  unsigned char f[VMDK_FOOTER_BYTES];
  const unsigned char *marker = f, *copy = f + VMDK_SECTOR_SIZE;
  const unsigned char *eos = f + 2 * VMDK_SECTOR_SIZE;
  uint64_t at;

  if (file->file_size < VMDK_FOOTER_BYTES + VMDK_SECTOR_SIZE) {
    report_error ("%s: VMDK footer: the file (%" PRIu64 " bytes) is too "
                  "short for one", file->path, file->file_size);
    return refused (EINVAL);
  }
  at = round_up (file->file_size, VMDK_SECTOR_SIZE) - VMDK_FOOTER_BYTES;
  if (read_at (file, file->fd, "the VMDK footer", f, sizeof f, at) == -1)
    return -1;
  if (load_be32 (copy) != VMDK4_MAGIC
      || load_le32 (marker + VMDK_MARKER_SIZE) != 0
      || load_le32 (marker + VMDK_MARKER_TYPE) != VMDK_MARKER_FOOTER
      || load_le64 (eos) != 0 || load_le32 (eos + VMDK_MARKER_SIZE) != 0
      || load_le32 (eos + VMDK_MARKER_TYPE) != VMDK_MARKER_END_OF_STREAM) {
    report_error ("%s: VMDK footer at 0x%" PRIx64 ": its markers or magic "
                  "are not those of a footer", file->path, at);
    return refused (EINVAL);
  }
  memcpy (header, copy, VMDK_HEADER_BYTES);
  return 0;
}

static int
check_layout (struct image *file, const unsigned char *h,
              struct vmdk_sparse *s)
{
  uint64_t grain_offset = load_le64 (h + VMDK_HDR_GRAIN_OFFSET);
  uint64_t gd_offset = load_le64 (h + VMDK_HDR_GD_OFFSET);

  if (grain_offset > file->file_size / VMDK_SECTOR_SIZE) {
    report_error ("%s: VMDK header: grain offset of sector %" PRIu64
                  " passes the end of the file (%" PRIu64 " bytes)",
                  file->path, grain_offset, file->file_size);
    return refused (EINVAL);
  }
  if (gd_offset > UINT64_MAX / VMDK_SECTOR_SIZE
      || !range_fits (gd_offset * VMDK_SECTOR_SIZE, s->gd.entries * 4,
                      file->file_size)) {
    report_error ("%s: VMDK grain directory (%" PRIu64 " entries at sector "
                  "%" PRIu64 ") passes the end of the file (%" PRIu64
                  " bytes)", file->path, s->gd.entries, gd_offset,
                  file->file_size);
    return refused (EINVAL);
  }
  s->gd.what = "the VMDK grain directory";
  s->gd.offset = gd_offset * VMDK_SECTOR_SIZE;
  s->gd.big_endian = false;
  s->gd.first_hole = UINT32_MAX;      /* holes are entries of 0: see below */
  return 0;
}

int
vmdk_sparse_open (struct image *file, struct vmdk_sparse *s)
{
  unsigned char h[VMDK_HEADER_BYTES];

  if (file->file_size < VMDK_SECTOR_SIZE) {
    report_error ("%s: file is too short for a VMDK header (%" PRIu64
                  " bytes)", file->path, file->file_size);
    return refused (EINVAL);
  }
  if (read_at (file, file->fd, "the VMDK header", h, sizeof h, 0) == -1)
    return -1;
  if (load_le64 (h + VMDK_HDR_GD_OFFSET) == VMDK_GD_AT_END
      && read_footer (file, h) == -1)
    return -1;
  return vmdk_parse_header (file->path, h, s) == -1
         || check_layout (file, h, s) == -1 ? -1 : 0;
}

/* What a grain table entry says about a grain. */
enum grain_state { GRAIN_UNALLOCATED, GRAIN_ZEROED, GRAIN_PRESENT };

struct grain {
  enum grain_state state;
  uint64_t host;                /* PRESENT: its sector's offset in the file */
  uint64_t unmapped;            /* UNALLOCATED by the directory: bytes from
                                   OFFSET to the end of the directory entry's
                                   span; else 0 */
};

/* Grain table entry J of the table at sector GT. */
static int
grain_entry (struct image *file, const struct vmdk_sparse *s,
             uint32_t gt, uint64_t j, uint32_t *entry)
{
  struct block_table table = {
    .what = "a VMDK grain table",
    .offset = (uint64_t) gt * VMDK_SECTOR_SIZE,
    .entries = s->gtes_per_gt,
    .big_endian = false,
    .first_hole = UINT32_MAX,
  };
  uint64_t ignored;

  if (!range_fits (table.offset, table.entries * 4, file->file_size)) {
    report_error ("%s: VMDK grain table at sector %" PRIu32 " passes the "
                  "end of the file (%" PRIu64 " bytes)", file->path, gt,
                  file->file_size);
    return refused (EINVAL);
  }
  return block_table_entry (file, &table, j, entry, &ignored);
}

/* The grain holding OFFSET (< capacity) of extent E. */
static int
find_grain (const struct vmdk_extent *e, uint64_t offset, struct grain *g)
{
  const struct vmdk_sparse *s = &e->sparse;
  uint64_t grain = offset / s->grain_size;
  uint64_t span = s->grain_size * s->gtes_per_gt;
  uint32_t gt, entry;
  uint64_t ignored;

  memset (g, 0, sizeof *g);
  if (block_table_entry (e->file, &s->gd, offset / span, &gt, &ignored) == -1)
    return -1;
  if (gt == 0) {
    g->unmapped = span - offset % span;
    return 0;
  }
  if (grain_entry (e->file, s, gt, grain % s->gtes_per_gt, &entry) == -1)
    return -1;
  if (entry == 0)
    g->state = GRAIN_UNALLOCATED;
  else if (entry == VMDK_GTE_ZEROED && s->zero_grain)
    g->state = GRAIN_ZEROED;
  else {
    g->state = GRAIN_PRESENT;
    g->host = (uint64_t) entry * VMDK_SECTOR_SIZE;
  }
  return 0;
}

/* The bytes of the grain starting at extent offset GRAIN_START that the
 * extent covers (its last grain may be cut by the capacity).
 */
static uint64_t
grain_bytes (const struct vmdk_sparse *s, uint64_t grain_start)
{
  return MIN (s->grain_size, s->capacity - grain_start);
}

/* An uncompressed grain must lie in the file. */
static int
check_grain_in_file (const struct vmdk_extent *e, uint64_t grain_start,
                     uint64_t host)
{
  uint64_t bytes = grain_bytes (&e->sparse, grain_start);

  if (!range_fits (host, bytes, e->file->file_size)) {
    report_error ("%s: VMDK grain at extent offset 0x%" PRIx64 ": sector %"
                  PRIu64 " (%" PRIu64 " bytes) passes the end of the file (%"
                  PRIu64 " bytes)", e->file->path, grain_start,
                  host / VMDK_SECTOR_SIZE, bytes, e->file->file_size);
    return refused (EINVAL);
  }
  return 0;
}

struct inflate_grain {
  const struct vmdk_extent *e;
  uint64_t grain_start;
  uint64_t host;
};

/* A cache fill: the compressed grain at F->host, its payload (behind its
 * marker, or a grain's worth without one, as qemu reads it) inflated with
 * zlib's uncompress() as qemu does; it must cover the grain's bytes in the
 * extent.
 */
static int
fill_inflated (void *buf, size_t size, void *opaque)
{
  struct inflate_grain *f = opaque;
  const struct vmdk_extent *e = f->e;
  struct image *file = e->file;
  uint64_t payload = f->host, length = e->sparse.grain_size;
  unsigned char marker[VMDK_GRAIN_MARKER_BYTES];
  unsigned char *in;
  int r;

  if (e->sparse.has_marker) {
    if (!range_fits (f->host, sizeof marker, file->file_size)
        || read_at (file, file->fd, "a VMDK grain marker", marker,
                    sizeof marker, f->host) == -1) {
      if (errno != EIO)
        report_error ("%s: VMDK grain marker at 0x%" PRIx64 " passes the "
                      "end of the file (%" PRIu64 " bytes)", file->path,
                      f->host, file->file_size);
      return refused (EINVAL);
    }
    payload += sizeof marker;
    length = load_le32 (marker + VMDK_GRAIN_MARKER_SIZE);
  }
  if (length == 0 || length > 2 * e->sparse.grain_size
      || !range_fits (payload, length, file->file_size)) {
    report_error ("%s: VMDK compressed grain at 0x%" PRIx64 ": %" PRIu64
                  " bytes do not fit in two grains (%" PRIu64 " bytes) or "
                  "in the file (%" PRIu64 " bytes)", file->path, f->host,
                  length, 2 * e->sparse.grain_size, file->file_size);
    return refused (EINVAL);
  }
  in = malloc (length);
  if (in == NULL) {
    report_error ("%s: %m", file->path);
    return -1;
  }
  r = read_at (file, file->fd, "a VMDK compressed grain", in, length,
               payload);
  if (r == 0)
    r = vmdk_inflate_grain (file->path, f->host, in, length, buf, size,
                            grain_bytes (&e->sparse, f->grain_start));
  free (in);
  return r;
}

static int
read_compressed (const struct vmdk_extent *e, uint64_t grain_start,
                 uint64_t host, void *buf, size_t count, uint64_t in_grain)
{
  struct inflate_grain fill = { e, grain_start, host };
  struct cache_entry *pin;
  const unsigned char *grain;

  grain = cache_get (e->file->cache, e->file->cache_owner,
                     cache_key (CACHE_CLUSTER, host), e->sparse.grain_size,
                     fill_inflated, &fill, &pin);
  if (grain == NULL)
    return -1;
  memcpy (buf, grain + in_grain, count);
  cache_release (e->file->cache, pin);
  return 0;
}

int
vmdk_sparse_read (struct image *img, const struct vmdk_extent *e,
                  vmdk_read_below_fn *below, void *buf, size_t count,
                  uint64_t offset)
{
  uint64_t in_grain = offset % e->sparse.grain_size;
  uint64_t grain_start = offset - in_grain;
  struct grain g;

  if (find_grain (e, offset, &g) == -1)
    return -1;
  switch (g.state) {
  case GRAIN_UNALLOCATED:
    return below (img, buf, count, e->start + offset);
  case GRAIN_ZEROED:
    memset (buf, 0, count);
    return 0;
  case GRAIN_PRESENT:
    break;
  }
  if (e->sparse.compressed)
    return read_compressed (e, grain_start, g.host, buf, count, in_grain);
  if (check_grain_in_file (e, grain_start, g.host) == -1)
    return -1;
  return read_at (e->file, e->file->fd, "a VMDK grain", buf, count,
                  g.host + in_grain);
}

int
vmdk_sparse_extent (struct image *img, const struct vmdk_extent *e,
                    uint64_t offset, uint64_t length,
                    struct image_extent *extent)
{
  uint64_t in_grain = offset % e->sparse.grain_size;
  uint64_t grain_start = offset - in_grain;
  uint64_t rest = MIN (length, e->sparse.grain_size - in_grain);
  struct grain g;

  if (find_grain (e, offset, &g) == -1)
    return -1;
  extent->offset = e->start + offset;
  switch (g.state) {
  case GRAIN_UNALLOCATED:
    if (g.unmapped > 0)
      rest = MIN (length, g.unmapped);
    return extent_below (img, e->start + offset, rest, extent);
  case GRAIN_ZEROED:
    extent->length = rest;
    extent->type = IMAGE_EXTENT_ZERO;
    return 0;
  case GRAIN_PRESENT:
    break;
  }
  if (e->sparse.compressed) {
    extent->length = rest;
    extent->type = IMAGE_EXTENT_DATA;
    return 0;
  }
  if (check_grain_in_file (e, grain_start, g.host) == -1
      || file_extent (e->file, e->file->fd, g.host + in_grain, rest,
                      extent) == -1)
    return -1;
  extent->offset = e->start + offset;
  return 0;
}
