/* Guest offset to host location: the L1 table (read in chunks through the
 * cache, never held whole) and the L2 tables (cached whole).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "byte-order.h"
#include "cache.h"
#include "checked-arith.h"
#include "error.h"
#include "qcow2-driver.h"
#include "rounding.h"

#define L1_CHUNK_BYTES 4096
/* Entries compared at once when skipping repeated L2 entries. */
#define REPEAT_CHUNK_ENTRIES 256
#define L1_CHUNK_ENTRIES (L1_CHUNK_BYTES / 8)

/* The L1 entry L1_INDEX, and in *ZERO_RUN how many entries from it on (in
 * its chunk) have no L2 table.
 */
static int
read_l1 (struct image *img, uint64_t l1_index, uint64_t *entry,
         uint64_t *zero_run)
{
  struct qcow2 *q = img->format;
  uint64_t chunk = l1_index / L1_CHUNK_ENTRIES;
  uint64_t first = chunk * L1_CHUNK_ENTRIES;
  uint64_t count = MIN ((uint64_t) L1_CHUNK_ENTRIES, q->l1_size - first);
  struct file_fill fill = { img, "the L1 table", q->l1_offset + first * 8 };
  struct cache_entry *pin;
  const unsigned char *table;
  uint64_t i;

  table = cache_get (img->cache, img->cache_owner,
                     cache_key (CACHE_L1_CHUNK, fill.offset), count * 8,
                     fill_from_file, &fill, &pin);
  if (table == NULL)
    return -1;
  *entry = load_be64 (table + (l1_index - first) * 8);
  *zero_run = 0;
  for (i = l1_index - first; i < count; i++) {
    if (load_be64 (table + i * 8) & QCOW2_OFFSET_MASK)
      break;
    (*zero_run)++;
  }
  cache_release (img->cache, pin);
  return 0;
}

static int
check_l2_offset (struct image *img, uint64_t l1_index, uint64_t l2_offset)
{
  struct qcow2 *q = img->format;
  uint64_t cluster_size = 1ull << q->cluster_bits;

  if (!is_aligned (l2_offset, cluster_size)) {
    report_error ("%s: L1 entry %" PRIu64 ": L2 table offset 0x%" PRIx64
                  " is not aligned", img->path, l1_index, l2_offset);
    errno = EINVAL;
    return -1;
  }
  if (!range_fits (l2_offset, cluster_size, img->file_size)) {
    report_error ("%s: L1 entry %" PRIu64 ": L2 table offset 0x%" PRIx64
                  " is past the end of the file (%" PRIu64 " bytes)",
                  img->path, l1_index, l2_offset, img->file_size);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

/* One unit (subcluster, or cluster without them) as the table says. */
struct unit {
  enum qcow2_sc_type type;
  uint64_t entry;
  uint64_t host;                /* DATA: host offset of the unit */
  uint64_t l2_index;
};

static int
corrupt_entry (struct image *img, uint64_t l1_index, uint64_t l2_index,
               const char *fmt_what, uint64_t value)
{
  report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": %s 0x%"
                PRIx64, img->path, l2_index, l1_index, fmt_what, value);
  errno = EINVAL;
  return -1;
}

static int
check_alignment (struct image *img, uint64_t l1_index, uint64_t l2_index,
                 uint64_t host_cluster)
{
  struct qcow2 *q = img->format;

  if (!is_aligned (host_cluster, 1ull << q->cluster_bits)) {
    report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": cluster "
                  "offset 0x%" PRIx64 " is not aligned", img->path, l2_index,
                  l1_index, host_cluster);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

/* The host bytes behind the guest unit at GUEST (up to the end of the
 * disk: a data file may stop there) must all be in the file.
 */
static int
check_host_unit (struct image *img, uint64_t l1_index, uint64_t l2_index,
                 uint64_t host_cluster, uint64_t host, uint64_t guest)
{
  struct qcow2 *q = img->format;
  const char *file = q->data_path ? "data file" : "file";
  uint64_t needed = MIN (1ull << q->unit_bits, img->size - guest);

  if (check_alignment (img, l1_index, l2_index, host_cluster) == -1)
    return -1;
  if (host_cluster >= q->data_size) {
    report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": cluster "
                  "offset 0x%" PRIx64 " is past the end of the %s (%" PRIu64
                  " bytes)", img->path, l2_index, l1_index, host_cluster,
                  file, q->data_size);
    errno = EINVAL;
    return -1;
  }
  if (!range_fits (host, needed, q->data_size)) {
    report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": cluster "
                  "(%" PRIu64 " bytes at 0x%" PRIx64 ") passes the end of the "
                  "%s (%" PRIu64 " bytes)", img->path, l2_index, l1_index,
                  (uint64_t) 1 << q->cluster_bits, host_cluster, file,
                  q->data_size);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

/* Decode the unit UNIT_INDEX of the table, which holds guest offset GUEST. */
static int
decode_unit (struct image *img, const unsigned char *table, uint64_t l1_index,
             uint64_t unit_index, uint64_t guest, struct unit *u)
{
  struct qcow2 *q = img->format;
  unsigned per_cluster_bits = q->cluster_bits - q->unit_bits;
  uint64_t l2_index = unit_index >> per_cluster_bits;
  unsigned sc = unit_index & ((1u << per_cluster_bits) - 1);
  const unsigned char *e = table + l2_index * q->entry_bytes;
  uint64_t bitmap = q->layout.extended_l2 ? load_be64 (e + 8) : 0;
  uint64_t host_cluster;

  u->entry = load_be64 (e);
  u->l2_index = l2_index;
  u->host = 0;
  u->type = qcow2_subcluster_type (&q->layout, u->entry, bitmap, sc);
  host_cluster = qcow2_entry_offset (u->entry);
  switch (u->type) {
  case QCOW2_SC_INVALID:
    return corrupt_entry (img, l1_index, l2_index,
                          "contradictory subcluster bitmap", bitmap);
  case QCOW2_SC_COMPRESSED:
    if (q->data_path)
      return corrupt_entry (img, l1_index, l2_index, "compressed cluster in "
                            "an image with an external data file, entry",
                            u->entry);
    return 0;
  case QCOW2_SC_ZERO:
    if (q->version < 3 && !q->layout.extended_l2)
      return corrupt_entry (img, l1_index, l2_index,
                            "zero flag in a version 2 image, entry", u->entry);
    /* Preallocated zeros own a cluster: qemu checks its alignment. */
    return check_alignment (img, l1_index, l2_index, host_cluster);
  case QCOW2_SC_DATA:
    /* qemu maps a data file's clusters one to one with the guest's. */
    if (q->data_path
        && host_cluster != round_down (guest, 1ull << q->cluster_bits)) {
      report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": "
                    "cluster offset 0x%" PRIx64 " in the data file is not "
                    "the guest offset 0x%" PRIx64, img->path, l2_index,
                    l1_index, host_cluster,
                    round_down (guest, 1ull << q->cluster_bits));
      errno = EINVAL;
      return -1;
    }
    u->host = host_cluster + ((uint64_t) sc << q->unit_bits);
    return check_host_unit (img, l1_index, l2_index, host_cluster, u->host,
                            guest);
  case QCOW2_SC_UNALLOCATED:
    return 0;
  }
  return 0;
}

/* Whether unit U continues RUN.  For reads a data run must also stay
 * host-contiguous; for extents data and compressed units are all data,
 * wherever they are (a hostile table can point every entry at one cluster:
 * per-cluster runs would make its map 2^35 runs long).
 */
static bool
continues (const struct qcow2_run *run, const struct unit *u, uint64_t host,
           enum qcow2_map_mode mode)
{
  bool allocated = u->type == QCOW2_SC_DATA || u->type == QCOW2_SC_COMPRESSED;

  if (mode == QCOW2_MAP_EXTENT && run->type == QCOW2_SC_DATA)
    return allocated;
  if (u->type != run->type || u->type == QCOW2_SC_COMPRESSED)
    return false;
  return u->type != QCOW2_SC_DATA || u->host == host;
}

/* How many entries from FIRST on (below LIMIT) are byte for byte the entry
 * before FIRST.  memcmp of the table against itself shifted by one entry
 * runs at memory speed: a table of a few allocated entries among thousands
 * of empty ones costs a scan, not a decode per entry.
 */
static uint64_t
repeated_entries (const unsigned char *table, uint32_t entry_bytes,
                  uint64_t first, uint64_t limit)
{
  uint64_t i = first, n;

  while (i < limit) {
    n = MIN ((uint64_t) REPEAT_CHUNK_ENTRIES, limit - i);
    if (memcmp (table + (i - 1) * entry_bytes, table + i * entry_bytes,
                n * entry_bytes) != 0)
      break;
    i += n;
  }
  while (i < limit && memcmp (table + (i - 1) * entry_bytes,
                              table + i * entry_bytes, entry_bytes) == 0)
    i++;
  return i - first;
}

/* The whole entries from guest offset POS (below END) that RUN may pass
 * without decoding them: those repeating the entry before POS, when that
 * entry lay wholly in RUN (from RUN_START on) and RUN's type does not
 * depend on where the entry points (unallocated, zero).  Such entries
 * passed the same checks and read the same way.
 */
static uint64_t
repeats_ahead (const struct qcow2 *q, const unsigned char *table,
               const struct qcow2_run *run, uint64_t table_start,
               uint64_t run_start, uint64_t pos, uint64_t end)
{
  uint64_t cluster_size = 1ull << q->cluster_bits;

  if (run->type != QCOW2_SC_UNALLOCATED && run->type != QCOW2_SC_ZERO)
    return 0;
  if (!is_aligned (pos, cluster_size) || pos < run_start + cluster_size)
    return 0;
  return repeated_entries (table, q->entry_bytes,
                           (pos - table_start) >> q->cluster_bits,
                           div_round_up (end - table_start, cluster_size));
}

/* Extend a run through the table while the units read the same way. */
static int
walk_table (struct image *img, const unsigned char *table, uint64_t l1_index,
            uint64_t offset, uint64_t end, enum qcow2_map_mode mode,
            struct qcow2_run *run)
{
  struct qcow2 *q = img->format;
  uint64_t unit_size = 1ull << q->unit_bits;
  uint64_t table_start = (l1_index << q->l2_bits) << q->cluster_bits;
  uint64_t unit = (offset - table_start) >> q->unit_bits;
  uint64_t run_start = round_down (offset, unit_size), pos = run_start;
  uint64_t host, cluster_end, skip;
  struct unit u;

  if (decode_unit (img, table, l1_index, unit, pos, &u) == -1)
    return -1;
  run->type = u.type;
  run->l1_index = l1_index;
  run->l2_index = u.l2_index;
  run->entry = u.entry;
  run->host = u.host + (offset - pos);
  run->contiguous = u.type == QCOW2_SC_DATA;
  if (u.type == QCOW2_SC_COMPRESSED && mode == QCOW2_MAP_READ) {
    cluster_end = round_down (offset, 1ull << q->cluster_bits)
                  + (1ull << q->cluster_bits);
    run->length = MIN (cluster_end, end) - offset;
    return 0;
  }
  if (u.type == QCOW2_SC_COMPRESSED)
    run->type = QCOW2_SC_DATA;
  host = u.host;
  for (;;) {
    pos += unit_size;
    host += unit_size;
    unit++;
    if (pos < end) {
      skip = repeats_ahead (q, table, run, table_start, run_start, pos, end);
      pos += skip << q->cluster_bits;
      unit += skip << (q->cluster_bits - q->unit_bits);
    }
    if (pos >= end)
      break;
    if (decode_unit (img, table, l1_index, unit, pos, &u) == -1)
      return -1;
    if (!continues (run, &u, host, mode))
      break;
    if (u.type != QCOW2_SC_DATA || u.host != host)
      run->contiguous = false;
  }
  run->length = MIN (pos, end) - offset;
  return 0;
}

struct summary_fill {
  struct image *img;
  const unsigned char *table;
  uint64_t l1_index;
};

/* The extent run from the start of a table to where its type changes. */
static int
fill_summary (void *buf, size_t size, void *opaque)
{
  struct summary_fill *f = opaque;
  struct qcow2 *q = f->img->format;
  uint32_t table_bits = q->l2_bits + q->cluster_bits;
  uint64_t start = f->l1_index << table_bits;
  uint64_t end = MIN (start + (1ull << table_bits), f->img->size);

  return walk_table (f->img, f->table, f->l1_index, start, end,
                     QCOW2_MAP_EXTENT, buf);
}

/* The extent run from the start of a table, at most LENGTH bytes,
 * remembered per table: the map of an image walks each table from its
 * start, and would otherwise walk the first run twice (once more for each
 * L1 entry sharing the table: only a hostile image does that, but then its
 * map costs one walk, not one per entry).  Returns 1 with RUN set, 0 when
 * the remembered run does not answer (a data run longer than LENGTH: its
 * host contiguity may differ when cut short), -1 on error.
 */
static int
first_table_run (struct image *img, const unsigned char *table,
                 uint64_t l1_index, uint64_t l2_offset, uint64_t length,
                 struct qcow2_run *run)
{
  struct summary_fill fill = { img, table, l1_index };
  struct cache_entry *pin;
  const struct qcow2_run *summary;

  summary = cache_get (img->cache, img->cache_owner,
                       cache_key (CACHE_L2_SUMMARY, l2_offset),
                       sizeof *summary, fill_summary, &fill, &pin);
  if (summary == NULL)
    return -1;
  *run = *summary;
  cache_release (img->cache, pin);
  if (run->type == QCOW2_SC_DATA && run->length > length)
    return 0;
  run->length = MIN (run->length, length);
  run->l1_index = l1_index;
  return 1;
}

int
qcow2_map (struct image *img, uint64_t offset, uint64_t length,
           enum qcow2_map_mode mode, struct qcow2_run *run)
{
  struct qcow2 *q = img->format;
  uint32_t table_bits = q->l2_bits + q->cluster_bits;
  uint64_t l1_index = offset >> table_bits;
  uint64_t table_end = (l1_index + 1) << table_bits;
  uint64_t end = MIN (offset + length, table_end);
  uint64_t l1_entry, zero_run, l2_offset;
  struct file_fill fill = { img, "an L2 table", 0 };
  struct cache_entry *pin;
  const unsigned char *table;
  int r;

  /* Only a snapshot's L1 table, taken before the image grew, can be
   * shorter than the disk: past it, as in qemu, nothing is allocated.
   */
  if (l1_index >= q->l1_size) {
    run->type = QCOW2_SC_UNALLOCATED;
    run->length = length;
    return 0;
  }
  if (read_l1 (img, l1_index, &l1_entry, &zero_run) == -1)
    return -1;
  l2_offset = l1_entry & QCOW2_OFFSET_MASK;
  if (l2_offset == 0) {
    /* No L2 table here nor in the next zero_run - 1 entries. */
    run->type = QCOW2_SC_UNALLOCATED;
    run->length = MIN (offset + length,
                       (l1_index + zero_run) << table_bits) - offset;
    return 0;
  }
  if (check_l2_offset (img, l1_index, l2_offset) == -1)
    return -1;
  fill.offset = l2_offset;
  table = cache_get (img->cache, img->cache_owner,
                     cache_key (CACHE_L2_TABLE, l2_offset),
                     1ull << q->cluster_bits, fill_from_file, &fill, &pin);
  if (table == NULL)
    return -1;
  r = 0;
  /* A data file's tables map guest offsets one to one: never shared. */
  if (mode == QCOW2_MAP_EXTENT && q->data_path == NULL
      && offset == l1_index << table_bits && end > offset)
    r = first_table_run (img, table, l1_index, l2_offset, end - offset, run);
  if (r == 0)
    r = walk_table (img, table, l1_index, offset, end, mode, run);
  cache_release (img->cache, pin);
  return r == -1 ? -1 : 0;
}
