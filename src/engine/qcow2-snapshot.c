/* The internal snapshot table: validated at open (qemu walks it and
 * refuses a damaged one), listed on request, and searched when a snapshot
 * is to be read instead of the active layer, as qemu-img convert -l does.
 * Every length is checked: a table can claim 65536 entries whose variable
 * parts run anywhere.  Names are read only to list or search.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
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

/* Entry fields (docs/interop/qcow2.txt, "Snapshots"). */
#define SN_L1_OFFSET       0
#define SN_L1_SIZE         8
#define SN_ID_SIZE        12
#define SN_NAME_SIZE      14
#define SN_DATE_SEC       16
#define SN_DATE_NSEC      20
#define SN_VM_CLOCK_NSEC  24
#define SN_VM_STATE_SIZE  32
#define SN_EXTRA_SIZE     36
/* In the extra data: the 64-bit VM state size, then the virtual size when
 * the snapshot was taken.
 */
#define SN_EXTRA_VM_STATE_SIZE 0
#define SN_EXTRA_DISK_SIZE     8

typedef int entry_fn (const struct image *img,
                      const struct image_snapshot *s, void *opaque);

static int
check_entry (const struct image *img, uint32_t i, uint64_t offset,
             const unsigned char *e, uint32_t cluster_bits, uint64_t *length)
{
  uint64_t l1_offset = load_be64 (e + SN_L1_OFFSET);
  uint32_t l1_size = load_be32 (e + SN_L1_SIZE);
  uint16_t id_size = load_be16 (e + SN_ID_SIZE);
  uint16_t name_size = load_be16 (e + SN_NAME_SIZE);
  uint32_t extra_size = load_be32 (e + SN_EXTRA_SIZE);

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

/* The variable part of entry E at OFFSET (checked to be in the file): its
 * disk size and its two strings, in S (strings malloc'd into *STRINGS).
 */
static int
read_strings (const struct image *img, const unsigned char *e, uint64_t offset,
              struct image_snapshot *s, char **strings)
{
  uint16_t id_size = load_be16 (e + SN_ID_SIZE);
  uint16_t name_size = load_be16 (e + SN_NAME_SIZE);
  uint32_t extra_size = load_be32 (e + SN_EXTRA_SIZE);
  size_t bytes = (size_t) extra_size + id_size + name_size;
  char *buf = malloc (bytes + 2);

  if (buf == NULL) {
    report_error ("%s: snapshot table: %m", img->path);
    return -1;
  }
  if (read_at (img, img->fd, "the snapshot table", buf, bytes,
               offset + QCOW2_SNAPSHOT_HEADER_SIZE) == -1) {
    free (buf);
    return -1;
  }
  if (extra_size >= SN_EXTRA_VM_STATE_SIZE + 8)
    s->vm_state_size = load_be64 (buf + SN_EXTRA_VM_STATE_SIZE);
  s->disk_size = extra_size >= SN_EXTRA_DISK_SIZE + 8
                 ? load_be64 (buf + SN_EXTRA_DISK_SIZE) : 0;
  /* The name moves one byte up to make room for the ID's NUL. */
  memmove (buf + extra_size + id_size + 1, buf + extra_size + id_size,
           name_size);
  buf[extra_size + id_size] = '\0';
  buf[extra_size + id_size + 1 + name_size] = '\0';
  s->id = buf + extra_size;
  s->name = buf + extra_size + id_size + 1;
  *strings = buf;
  return 0;
}

/* Walk the table of header H, checking every entry; with FN, read each
 * entry's strings and call FN (nonzero stops the walk and is returned).
 */
static int
walk_snapshots (const struct image *img, const struct qcow2_header *h,
                entry_fn *fn, void *opaque)
{
  unsigned char entry[QCOW2_SNAPSHOT_HEADER_SIZE];
  uint64_t offset = h->snapshots_offset, length, table_bytes = 0;
  struct image_snapshot s;
  char *strings;
  uint32_t i;
  int r;

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
      s = (struct image_snapshot) {
        .index = i,
        .l1_offset = load_be64 (entry + SN_L1_OFFSET),
        .l1_size = load_be32 (entry + SN_L1_SIZE),
        .vm_state_size = load_be32 (entry + SN_VM_STATE_SIZE),
        .date_sec = load_be32 (entry + SN_DATE_SEC),
        .date_nsec = load_be32 (entry + SN_DATE_NSEC),
        .vm_clock_nsec = load_be64 (entry + SN_VM_CLOCK_NSEC),
      };
      if (read_strings (img, entry, offset, &s, &strings) == -1)
        return -1;
      r = fn (img, &s, opaque);
      free (strings);
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

struct listing {
  image_snapshot_fn *fn;
  void *opaque;
};

static int
call_lister (const struct image *img, const struct image_snapshot *s, void *opaque)
{
  struct listing *l = opaque;

  return l->fn (s, l->opaque);
}

int
qcow2_snapshots (const struct image *img, image_snapshot_fn *fn, void *opaque)
{
  struct qcow2 *q = img->format;
  struct listing l = { fn, opaque };

  return walk_snapshots (img, &q->header, call_lister, &l);
}

/* ---- reading a snapshot ---------------------------------------------- */

struct search {
  enum image_snapshot_key key;  /* ID or NAME, one pass each */
  const char *wanted;
  bool found;
};

/* The first match switches the image to the snapshot's L1 table.  Its
 * size and alignment were checked with the table; qemu reads a table past
 * the end of the file as zeros, which we refuse, as for the active one.
 */
static int
match_snapshot (const struct image *img, const struct image_snapshot *s,
                void *opaque)
{
  struct search *search = opaque;
  struct qcow2 *q = img->format;
  const char *key = search->key == IMAGE_SNAPSHOT_ID ? s->id : s->name;
  uint64_t bytes = (uint64_t) s->l1_size * 8;

  if (strcmp (key, search->wanted) != 0)
    return 0;
  search->found = true;
  if (s->l1_size > 0 && !range_fits (s->l1_offset, bytes, img->file_size)) {
    report_error ("%s: snapshot %u (ID \"%s\"): L1 table (%" PRIu64 " bytes "
                  "at 0x%" PRIx64 ") passes the end of the file (%" PRIu64
                  " bytes)", img->path, s->index, s->id, bytes, s->l1_offset,
                  img->file_size);
    errno = EINVAL;
    return -1;
  }
  q->snapshot_id = strdup (s->id);
  q->snapshot_name = strdup (s->name);
  if (q->snapshot_id == NULL || q->snapshot_name == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  q->l1_offset = s->l1_offset;
  q->l1_size = s->l1_size;
  return 1;
}

static int
search_by (struct image *img, enum image_snapshot_key key, const char *wanted,
           bool *found)
{
  struct qcow2 *q = img->format;
  struct search search = { key, wanted, false };
  int r = walk_snapshots (img, &q->header, match_snapshot, &search);

  *found = search.found;
  return r == -1 ? -1 : 0;
}

int
qcow2_open_snapshot (struct image *img)
{
  enum image_snapshot_key key = img->snapshot_key;
  const char *wanted = img->snapshot;
  bool found = false;

  if (key != IMAGE_SNAPSHOT_NAME
      && search_by (img, IMAGE_SNAPSHOT_ID, wanted, &found) == -1)
    return -1;
  if (!found && key != IMAGE_SNAPSHOT_ID
      && search_by (img, IMAGE_SNAPSHOT_NAME, wanted, &found) == -1)
    return -1;
  if (found)
    return 0;
  report_error ("%s: no internal snapshot with %s \"%s\" (%" PRIu32 " "
                "snapshots)", img->path,
                key == IMAGE_SNAPSHOT_ID ? "ID"
                : key == IMAGE_SNAPSHOT_NAME ? "name" : "ID or name",
                wanted, ((struct qcow2 *) img->format)->header.nb_snapshots);
  errno = ENOENT;
  return -1;
}
