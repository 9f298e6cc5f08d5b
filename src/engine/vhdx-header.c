/* The VHDX header section: the two headers and the region table, checked
 * as qemu's block/vhdx.c checks them.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "checked-arith.h"
#include "crc32c.h"
#include "error.h"
#include "vhdx-driver.h"
#include "vhdx-format.h"

static int
refused (int err)
{
  errno = err;
  return -1;
}

bool
vhdx_checksum_holds (const unsigned char *buf, size_t len, size_t crc_at,
                     uint32_t *computed)
{
  static const unsigned char zero[4];
  uint32_t crc = crc32c_begin ();

  crc = crc32c_update (crc, buf, crc_at);
  crc = crc32c_update (crc, zero, sizeof zero);
  crc = crc32c_update (crc, buf + crc_at + 4, len - crc_at - 4);
  *computed = crc32c_end (crc);
  return *computed == load_le32 (buf + crc_at);
}

/* A header counts when its checksum, signature and version (1) hold. */
static bool
header_valid (const unsigned char *h)
{
  uint32_t crc;

  return vhdx_checksum_holds (h, VHDX_HEADER_BYTES, VHDX_HD_CHECKSUM, &crc)
         && memcmp (h, VHDX_HEADER_SIGNATURE, 4) == 0
         && load_le16 (h + VHDX_HD_VERSION) == 1;
}

int
vhdx_current_header (struct image *img, unsigned char *header)
{
  unsigned char h1[VHDX_HEADER_BYTES], h2[VHDX_HEADER_BYTES];
  bool valid1, valid2;
  uint64_t seq1, seq2;

  if (read_at (img, img->fd, "VHDX header 1", h1, sizeof h1,
               VHDX_HEADER1_OFFSET) == -1
      || read_at (img, img->fd, "VHDX header 2", h2, sizeof h2,
                  VHDX_HEADER2_OFFSET) == -1)
    return -1;
  valid1 = header_valid (h1);
  valid2 = header_valid (h2);
  seq1 = load_le64 (h1 + VHDX_HD_SEQUENCE);
  seq2 = load_le64 (h2 + VHDX_HD_SEQUENCE);
  if (!valid1 && !valid2) {
    report_error ("%s: VHDX headers: neither header at 0x%x nor at 0x%x is "
                  "valid (checksum, \"head\" signature, version 1)",
                  img->path, VHDX_HEADER1_OFFSET, VHDX_HEADER2_OFFSET);
    return refused (EINVAL);
  }
  /* Disk2VHD writes two identical headers; other ties are damage. */
  if (valid1 && valid2 && seq1 == seq2 && memcmp (h1, h2, sizeof h1) != 0) {
    report_error ("%s: VHDX headers: both have sequence number %" PRIu64
                  " but differ", img->path, seq1);
    return refused (EINVAL);
  }
  memcpy (header, valid1 && (!valid2 || seq1 >= seq2) ? h1 : h2,
          VHDX_HEADER_BYTES);
  return 0;
}

static bool
guid_is (const unsigned char *p, const unsigned char *guid)
{
  return memcmp (p, guid, VHDX_GUID_BYTES) == 0;
}

/* Region table entry I, checked against the log and the entries before. */
static int
region_entry (struct image *img, struct vhdx *v, const unsigned char *e,
              uint32_t i, struct vhdx_region *seen)
{
  static const unsigned char bat_guid[] = VHDX_BAT_GUID;
  static const unsigned char metadata_guid[] = VHDX_METADATA_GUID;
  struct vhdx_region r = {
    load_le64 (e + VHDX_RE_OFFSET), load_le32 (e + VHDX_RE_LENGTH)
  };
  struct vhdx_region *slot = NULL;
  uint32_t j;

  if (!range_fits (r.offset, r.length, UINT64_MAX)
      || vhdx_overlaps (&v->log, r.offset, r.length)) {
    report_error ("%s: VHDX region table entry %" PRIu32 ": region of %"
                  PRIu64 " bytes at 0x%" PRIx64 " overlaps the log or "
                  "wraps", img->path, i, r.length, r.offset);
    return refused (EINVAL);
  }
  for (j = 0; j < i; j++)
    if (vhdx_overlaps (&seen[j], r.offset, r.length)) {
      report_error ("%s: VHDX region table entry %" PRIu32 ": region of %"
                    PRIu64 " bytes at 0x%" PRIx64 " overlaps entry %" PRIu32,
                    img->path, i, r.length, r.offset, j);
      return refused (EINVAL);
    }
  seen[i] = r;
  if (guid_is (e, bat_guid))
    slot = &v->bat;
  else if (guid_is (e, metadata_guid))
    slot = &v->metadata;
  else if (load_le32 (e + VHDX_RE_DATA_BITS) & VHDX_RE_REQUIRED) {
    report_error ("%s: VHDX region table entry %" PRIu32 ": an unknown "
                  "region is marked required", img->path, i);
    return refused (ENOTSUP);
  }
  if (slot == NULL)
    return 0;
  if (slot->length > 0) {
    report_error ("%s: VHDX region table entry %" PRIu32 ": a second %s "
                  "region", img->path, i, slot == &v->bat ? "BAT" : "metadata");
    return refused (EINVAL);
  }
  if (r.length == 0 || !range_fits (r.offset, r.length, img->file_size)) {
    report_error ("%s: VHDX %s region (%" PRIu64 " bytes at 0x%" PRIx64
                  ") is empty or passes the end of the file (%" PRIu64
                  " bytes)", img->path, slot == &v->bat ? "BAT" : "metadata",
                  r.length, r.offset, img->file_size);
    return refused (EINVAL);
  }
  *slot = r;
  return 0;
}

static int
check_region_table (struct image *img, struct vhdx *v, const unsigned char *t)
{
  uint32_t stored = load_le32 (t + VHDX_RT_CHECKSUM), crc;
  uint32_t count = load_le32 (t + VHDX_RT_ENTRY_COUNT), i;
  struct vhdx_region seen[VHDX_RT_MAX_ENTRIES];

  if (!vhdx_checksum_holds (t, VHDX_REGION_TABLE_BYTES, VHDX_RT_CHECKSUM,
                            &crc)) {
    report_error ("%s: VHDX region table: checksum 0x%08" PRIx32 " does not "
                  "match its contents (0x%08" PRIx32 ")", img->path, stored,
                  crc);
    return refused (EINVAL);
  }
  if (memcmp (t, VHDX_REGION_SIGNATURE, 4) != 0) {
    report_error ("%s: VHDX region table: no \"%s\" signature", img->path,
                  VHDX_REGION_SIGNATURE);
    return refused (EINVAL);
  }
  if (count > VHDX_RT_MAX_ENTRIES) {
    report_error ("%s: VHDX region table: %" PRIu32 " entries (at most %d)",
                  img->path, count, VHDX_RT_MAX_ENTRIES);
    return refused (EINVAL);
  }
  for (i = 0; i < count; i++)
    if (region_entry (img, v, t + VHDX_RT_ENTRIES + i * VHDX_RE_BYTES, i,
                      seen) == -1)
      return -1;
  if (v->bat.length == 0 || v->metadata.length == 0) {
    report_error ("%s: VHDX region table: no %s region", img->path,
                  v->bat.length == 0 ? "BAT" : "metadata");
    return refused (EINVAL);
  }
  return 0;
}

int
vhdx_read_region_table (struct image *img, struct vhdx *v)
{
  unsigned char *t = malloc (VHDX_REGION_TABLE_BYTES);
  int r;

  if (t == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  r = read_at (img, img->fd, "the VHDX region table", t,
               VHDX_REGION_TABLE_BYTES, VHDX_REGION_TABLE_OFFSET);
  if (r == 0)
    r = check_region_table (img, v, t);
  free (t);
  return r;
}
