/* Validation of the internal snapshot table.  We never read a snapshot's
 * data, but qemu walks the table at open and refuses a damaged one, so we
 * walk it too, with every length checked: a table can claim 65536 entries
 * whose variable parts run anywhere.  The same walk lists the snapshots
 * (image_snapshots), one entry in memory at a time.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "checked-arith.h"
#include "error.h"
#include "image-internal.h"
#include "qcow2-driver.h"
#include "rounding.h"

/* qemu's QCOW_MAX_SNAPSHOT_EXTRA_DATA. */
#define MAX_EXTRA_DATA 1024

static int
check_entry (const struct image *img, uint32_t i, uint64_t offset,
             const unsigned char *e, uint32_t cluster_bits, uint64_t *length)
{
  uint64_t l1_offset = load_be64 (e);
  uint32_t l1_size = load_be32 (e + 8);
  uint16_t id_size = load_be16 (e + 12);
  uint16_t name_size = load_be16 (e + 14);
  uint32_t extra_size = load_be32 (e + 36);

  if (extra_size > MAX_EXTRA_DATA) {
    report_error ("%s: snapshot %" PRIu32 " at 0x%" PRIx64 ": extra data "
                  "size %" PRIu32 " is too large (at most %d)", img->path, i,
                  offset, extra_size, MAX_EXTRA_DATA);
    errno = EINVAL;
    return -1;
  }
  if (l1_size > QCOW2_MAX_L1_BYTES / 8
      || (l1_size > 0 && !is_aligned (l1_offset, 1ull << cluster_bits))) {
    report_error ("%s: snapshot %" PRIu32 " at 0x%" PRIx64 ": L1 table of "
                  "%" PRIu32 " entries at 0x%" PRIx64 " is invalid",
                  img->path, i, offset, l1_size, l1_offset);
    errno = EINVAL;
    return -1;
  }
  *length = QCOW2_SNAPSHOT_HEADER_SIZE + (uint64_t) extra_size + id_size
            + name_size;
  return 0;
}

/* The snapshot whose checked entry (header E, LENGTH bytes in all) is at
 * OFFSET, handed to FN: its extra data, id and name are read here.
 */
static int
visit_entry (const struct image *img, uint64_t offset,
             const unsigned char *e, uint64_t length,
             image_snapshot_fn *fn, void *opaque)
{
  uint16_t id_size = load_be16 (e + 12);
  uint16_t name_size = load_be16 (e + 14);
  uint32_t extra_size = load_be32 (e + 36);
  size_t rest = length - QCOW2_SNAPSHOT_HEADER_SIZE;
  struct image_snapshot snapshot = {
    .vm_state_size = load_be32 (e + 32),
    .date_sec = load_be32 (e + 16),
    .date_nsec = load_be32 (e + 20),
    .vm_clock_nsec = load_be64 (e + 24),
  };
  /* The variable part (at most 1024 + 2 * 65535 bytes), and two NULs. */
  unsigned char *buf = malloc (rest + 2);
  int r;

  if (buf == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  if (read_at (img, img->fd, "the snapshot table", buf, rest,
               offset + QCOW2_SNAPSHOT_HEADER_SIZE) == -1) {
    free (buf);
    return -1;
  }
  /* The 64-bit VM state size, in the extra data when it is there. */
  if (extra_size >= 8)
    snapshot.vm_state_size = load_be64 (buf);
  /* Id and name, each made a string: move the name one byte up. */
  memmove (buf + extra_size + id_size + 1, buf + extra_size + id_size,
           name_size);
  buf[extra_size + id_size] = '\0';
  buf[extra_size + id_size + 1 + name_size] = '\0';
  snapshot.id = (const char *) buf + extra_size;
  snapshot.name = (const char *) buf + extra_size + id_size + 1;
  r = fn (&snapshot, opaque);
  free (buf);
  return r;
}

/* Check each entry of H's snapshot table; hand each to FN when not NULL.
 * Returns 0, FN's non-zero value, or -1 after reporting.
 */
static int
walk_snapshots (const struct image *img, const struct qcow2_header *h,
                image_snapshot_fn *fn, void *opaque)
{
  unsigned char entry[QCOW2_SNAPSHOT_HEADER_SIZE];
  uint64_t offset = h->snapshots_offset, length, table_bytes = 0;
  uint32_t i;

  for (i = 0; i < h->nb_snapshots; i++) {
    if (!range_fits (offset, sizeof entry, img->file_size)) {
      report_error ("%s: snapshot %" PRIu32 " at 0x%" PRIx64 " passes the "
                    "end of the file (%" PRIu64 " bytes)", img->path, i,
                    offset, img->file_size);
      errno = EINVAL;
      return -1;
    }
    if (read_at (img, img->fd, "the snapshot table", entry, sizeof entry,
                 offset) == -1
        || check_entry (img, i, offset, entry, h->cluster_bits, &length) == -1)
      return -1;
    table_bytes += round_up (length, 8);
    if (table_bytes > QCOW2_MAX_SNAPSHOTS_BYTES) {
      report_error ("%s: snapshot %" PRIu32 " at 0x%" PRIx64 ": the snapshot "
                    "table grows past %llu bytes", img->path, i, offset,
                    QCOW2_MAX_SNAPSHOTS_BYTES);
      errno = EINVAL;
      return -1;
    }
    if (!range_fits (offset, length, img->file_size)) {
      report_error ("%s: snapshot %" PRIu32 " at 0x%" PRIx64 " (%" PRIu64
                    " bytes) passes the end of the file (%" PRIu64 " bytes)",
                    img->path, i, offset, length, img->file_size);
      errno = EINVAL;
      return -1;
    }
    if (fn != NULL) {
      int r = visit_entry (img, offset, entry, length, fn, opaque);

      if (r != 0)
        return r;
    }
    /* Entries start 8-aligned; qemu does not pad the last one. */
    offset += round_up (length, 8);
  }
  return 0;
}

int
qcow2_check_snapshots (struct image *img, const struct qcow2_header *h)
{
  return walk_snapshots (img, h, NULL, NULL);
}

int
qcow2_snapshots (const struct image *img, image_snapshot_fn *fn, void *opaque)
{
  const struct qcow2 *q = img->format;

  return walk_snapshots (img, &q->header, fn, opaque);
}
