/* What every reader of a hosted sparse extent ("KDMV") checks the same
 * way, as qemu's block/vmdk.c does: the header's version, geometry and
 * compression (vmdk-sparse.c reads a file, stream-vmdk.c a stream), and
 * the inflating of a compressed grain.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <zlib.h>

#include "byte-order.h"
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

static int
check_version (const char *path, const unsigned char *h)
{
  uint32_t version = load_le32 (h + VMDK_HDR_VERSION);

  if (version > VMDK_MAX_VERSION) {
    report_error ("%s: VMDK header: version %" PRIu32 " is not supported "
                  "(at most %u)", path, version, VMDK_MAX_VERSION);
    return refused (ENOTSUP);
  }
  return 0;
}

/* Grain size, grain table size and capacity, within qemu's limits. */
static int
check_geometry (const char *path, const unsigned char *h,
                struct vmdk_sparse *s)
{
  uint64_t granularity = load_le64 (h + VMDK_HDR_GRANULARITY);
  uint64_t capacity = load_le64 (h + VMDK_HDR_CAPACITY), gd_entries;

  if (granularity == 0 || granularity > VMDK_MAX_GRANULARITY) {
    report_error ("%s: VMDK header: grain size of %" PRIu64 " sectors is "
                  "out of range (1 to %u)", path, granularity,
                  VMDK_MAX_GRANULARITY);
    return refused (EINVAL);
  }
  s->gtes_per_gt = load_le32 (h + VMDK_HDR_NUM_GTES);
  if (s->gtes_per_gt == 0 || s->gtes_per_gt > VMDK_MAX_GTES) {
    report_error ("%s: VMDK header: num_gtes_per_gt %" PRIu32 " is out of "
                  "range (1 to %u)", path, s->gtes_per_gt, VMDK_MAX_GTES);
    return refused (EINVAL);
  }
  s->grain_size = granularity * VMDK_SECTOR_SIZE;
  gd_entries = div_round_up (capacity, granularity * s->gtes_per_gt);
  if (gd_entries > VMDK_MAX_GD_ENTRIES) {
    report_error ("%s: VMDK header: capacity of %" PRIu64 " sectors needs "
                  "%" PRIu64 " grain directory entries (at most %u)",
                  path, capacity, gd_entries, VMDK_MAX_GD_ENTRIES);
    return refused (EFBIG);
  }
  /* At most 2^25 entries of 2^9 grains of 2^30 bytes: no overflow. */
  s->capacity = capacity * VMDK_SECTOR_SIZE;
  s->gd.entries = gd_entries;
  return 0;
}

static int
check_compression (const char *path, const unsigned char *h,
                   struct vmdk_sparse *s)
{
  uint32_t flags = load_le32 (h + VMDK_HDR_FLAGS);

  s->compressed = load_le16 (h + VMDK_HDR_COMPRESSION)
                  == VMDK_COMPRESSION_DEFLATE;
  s->has_marker = flags & VMDK_FLAG_MARKER;
  s->zero_grain = flags & VMDK_FLAG_ZERO_GRAIN;
  if (s->compressed && s->grain_size > VMDK_MAX_COMPRESSED_GRAIN) {
    report_error ("%s: VMDK header: compressed grains of %" PRIu64 " bytes "
                  "are too large (at most %u)", path, s->grain_size,
                  VMDK_MAX_COMPRESSED_GRAIN);
    return refused (ENOTSUP);
  }
  return 0;
}

int
vmdk_parse_header (const char *path, const unsigned char *h,
                   struct vmdk_sparse *s)
{
  return check_version (path, h) == -1 || check_geometry (path, h, s) == -1
         || check_compression (path, h, s) == -1 ? -1 : 0;
}

int
vmdk_inflate_grain (const char *path, uint64_t host, const void *in,
                    uint64_t length, void *out, uint64_t out_size,
                    uint64_t needed)
{
  uLongf got = out_size;

  if (uncompress (out, &got, in, length) != Z_OK || got < needed) {
    report_error ("%s: VMDK compressed grain at 0x%" PRIx64 " (%" PRIu64
                  " bytes) does not inflate to the %" PRIu64 " bytes of its "
                  "grain", path, host, length, needed);
    return refused (EIO);
  }
  return 0;
}
