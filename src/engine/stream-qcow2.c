/* qcow2 read in file order (see stream.h).
 *
 * Everything the stream still waits for is a record keyed by its place in
 * the file: the L1 table (from the header), each L2 table (from the L1
 * table), each run of data clusters and each compressed cluster (from the
 * L2 tables).  A min-heap keeps them in file order; the next record is
 * served when the input reaches it.  The bytes skipped on the way are held
 * while some table is still to come (it may map them), and dropped after.
 * Walking a table hands out its holes; its data become records.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "checked-arith.h"
#include "decompress.h"
#include "error.h"
#include "iszero.h"
#include "qcow2-entry.h"
#include "qcow2-header.h"
#include "rounding.h"
#include "stream-internal.h"

/* Room for a structure's name in messages: "the L2 table of L1 entry N
 * (65536 bytes at 0xN)".
 */
#define WHAT_BYTES 128

enum record_kind { RECORD_L1, RECORD_L2, RECORD_DATA, RECORD_COMPRESSED };

struct record {
  uint64_t host;                /* where it starts in the file */
  uint64_t host_length;
  uint64_t guest;               /* DATA, COMPRESSED */
  uint64_t entry;               /* COMPRESSED: the L2 entry; L2: L1 index */
  enum record_kind kind;
};

/* Bytes read before the table that may map them. */
struct held {
  uint64_t offset;
  uint64_t length;
  unsigned char *bytes;         /* NULL: all zeros */
};

/* A table being walked: where the walk is, and what it has gathered. */
struct walk {
  bool active;
  bool l1;                      /* the L1 table, or an L2 table */
  uint64_t l1_index;            /* L2: which L1 entry named it */
  uint64_t index;               /* next unit (L1: entry) */
  uint64_t units;
  uint64_t guest_base;
};

struct qcow2_stream {
  struct qcow2_header header;
  struct qcow2_layout layout;
  uint32_t cluster_bits, unit_bits;
  uint64_t cluster_size, l2_entries, l1_needed;
  unsigned char *table;         /* the L1 table, or the L2 table walked */
  size_t table_size;

  struct record *heap;
  size_t heap_len, heap_cap;
  uint64_t tables_ahead;        /* the L1 and L2 tables not read yet */

  struct held *held;
  size_t held_len, held_cap;
  uint64_t held_bytes;
  bool dropped;                 /* bytes were dropped, to be read again */

  struct walk walk;
  uint64_t hole_start, hole_end;        /* the hole being gathered */
  struct record run;                    /* the data run being gathered */
  bool has_run;
  unsigned char *skip;
};

static int
out_of_memory (struct stream *s)
{
  report_error ("%s: %m", s->path);
  return -1;
}

/* ---- the heap of records, by host offset ---- */

static void
sift_down (struct qcow2_stream *q, size_t i)
{
  struct record tmp;
  size_t c;

  for (;;) {
    c = 2 * i + 1;
    if (c >= q->heap_len)
      return;
    if (c + 1 < q->heap_len && q->heap[c + 1].host < q->heap[c].host)
      c++;
    if (q->heap[i].host <= q->heap[c].host)
      return;
    tmp = q->heap[i];
    q->heap[i] = q->heap[c];
    q->heap[c] = tmp;
    i = c;
  }
}

static void
pop_record (struct qcow2_stream *q)
{
  q->heap[0] = q->heap[--q->heap_len];
  sift_down (q, 0);
}

static uint64_t
memory_used (const struct qcow2_stream *q)
{
  return q->held_bytes + q->heap_cap * sizeof *q->heap
    + q->held_cap * sizeof *q->held;
}

static int
buffer_full (struct stream *s)
{
  report_error ("%s: %" PRIu64 " bytes of the image come before the L2 "
                "tables that map them (read %" PRIu64 " bytes so far), more "
                "than the stream buffer holds (%" PRIu64 " bytes): give a "
                "larger stream buffer, or copy from a seekable file", s->path,
                s->qcow2->held_bytes, s->pos, s->buffer_limit);
  errno = ENOBUFS;
  return -1;
}

static int
push_record (struct stream *s, const struct record *r)
{
  struct qcow2_stream *q = s->qcow2;
  struct record tmp, *grown;
  size_t i;

  if (q->heap_len == q->heap_cap) {
    size_t cap = q->heap_cap ? 2 * q->heap_cap : 64;
    grown = realloc (q->heap, cap * sizeof *grown);
    if (grown == NULL)
      return out_of_memory (s);
    q->heap = grown;
    q->heap_cap = cap;
    if (memory_used (q) > s->buffer_limit)
      return buffer_full (s);
  }
  i = q->heap_len++;
  q->heap[i] = *r;
  while (i > 0 && q->heap[(i - 1) / 2].host > q->heap[i].host) {
    tmp = q->heap[i];
    q->heap[i] = q->heap[(i - 1) / 2];
    q->heap[(i - 1) / 2] = tmp;
    i = (i - 1) / 2;
  }
  return 0;
}

/* ---- moving through the input ---- */

static void
drop_held (struct qcow2_stream *q)
{
  size_t i;

  for (i = 0; i < q->held_len; i++)
    free (q->held[i].bytes);
  free (q->held);
  q->held = NULL;
  q->held_len = q->held_cap = 0;
  q->held_bytes = 0;
}

static int
hold (struct stream *s, uint64_t offset, unsigned char *bytes,
      uint64_t length)
{
  struct qcow2_stream *q = s->qcow2;
  struct held *grown;

  if (q->held_len == q->held_cap) {
    size_t cap = q->held_cap ? 2 * q->held_cap : 64;
    grown = realloc (q->held, cap * sizeof *grown);
    if (grown == NULL) {
      free (bytes);
      return out_of_memory (s);
    }
    q->held = grown;
    q->held_cap = cap;
  }
  if (is_zero (bytes, length)) {
    free (bytes);
    bytes = NULL;
  }
  q->held[q->held_len++] = (struct held) { offset, length, bytes };
  if (bytes)
    q->held_bytes += length;
  if (memory_used (q) <= s->buffer_limit)
    return 0;
  if (s->in.read_at == NULL)
    return buffer_full (s);
  drop_held (q);
  q->dropped = true;
  return 0;
}

/* Read up to OFFSET, keeping the bytes while a table may still map them. */
static int
advance_to (struct stream *s, uint64_t offset, const char *what)
{
  struct qcow2_stream *q = s->qcow2;
  unsigned char *buf;
  size_t n;

  while (s->pos < offset) {
    n = MIN (STREAM_STEP_BYTES, offset - s->pos);
    buf = q->tables_ahead > 0 ? malloc (n) : q->skip;
    if (buf == NULL)
      return out_of_memory (s);
    if (stream_read_exact (s, buf, n, what) == -1) {
      if (buf != q->skip)
        free (buf);
      return -1;
    }
    if (buf != q->skip && hold (s, s->pos - n, buf, n) == -1)
      return -1;
  }
  return 0;
}

/* The held chunk holding OFFSET, or NULL. */
static const struct held *
find_held (const struct qcow2_stream *q, uint64_t offset)
{
  size_t lo = 0, hi = q->held_len, mid;

  while (lo < hi) {
    mid = (lo + hi) / 2;
    if (offset < q->held[mid].offset)
      hi = mid;
    else if (offset >= q->held[mid].offset + q->held[mid].length)
      lo = mid + 1;
    else
      return &q->held[mid];
  }
  return NULL;
}

/* Bytes [OFFSET, OFFSET + COUNT) from those held, or read again when
 * they were dropped.
 */
static int
copy_held (struct stream *s, unsigned char *dst, uint64_t offset,
           uint64_t count, const char *what, bool short_ok, uint64_t *copied)
{
  const struct held *h;
  uint64_t n;

  *copied = 0;
  while (count > 0) {
    h = find_held (s->qcow2, offset);
    if (h == NULL && s->qcow2->dropped) {
      if (s->in.read_at (s->in.opaque, dst, count, offset) == -1)
        return -1;
      *copied += count;
      return 0;
    }
    /* Not held after the first byte: a record the stream knew of took
     * those bytes (while a table was to come, nothing else is dropped).
     * A compressed cluster's extent is whole sectors, an upper bound: its
     * data ends before that record.
     */
    if (h == NULL && short_ok && *copied > 0)
      return 0;
    if (h == NULL) {
      report_error ("%s: %s was read before the table naming it and was "
                    "not kept (it overlaps another structure): read this "
                    "image from a seekable file", s->path, what);
      errno = EINVAL;
      return -1;
    }
    n = MIN (count, h->offset + h->length - offset);
    if (h->bytes)
      memcpy (dst, h->bytes + (offset - h->offset), n);
    else
      memset (dst, 0, n);
    dst += n;
    offset += n;
    count -= n;
    *copied += n;
  }
  return 0;
}

/* Bytes [OFFSET, OFFSET + COUNT) of the file into DST, from those held or
 * from the input.  With SHORT_OK the input may end first: *GOT says how
 * much came.
 */
static int
fetch (struct stream *s, unsigned char *dst, uint64_t offset, uint64_t count,
       const char *what, bool short_ok, uint64_t *got)
{
  uint64_t before = 0, copied;
  ssize_t n;

  if (offset < s->pos) {
    before = MIN (count, s->pos - offset);
    if (copy_held (s, dst, offset, before, what, short_ok, &copied) == -1)
      return -1;
    if (copied < before) {
      *got = copied;
      return 0;
    }
  }
  else if (advance_to (s, offset, what) == -1)
    return -1;
  *got = before;
  if (before == count)
    return 0;
  if (!short_ok)
    return stream_read_exact (s, dst + before, count - before, what) == -1
      ? -1 : (*got = count, 0);
  n = stream_read_some (s, dst + before, count - before);
  if (n == -1)
    return -1;
  *got += n;
  if (*got == 0) {
    report_error ("%s: the stream ended at byte %" PRIu64 ", before %s",
                  s->path, s->pos, what);
    errno = EIO;
    return -1;
  }
  return 0;
}

/* ---- walking tables ---- */

static int
corrupt (struct stream *s, uint64_t l1_index, uint64_t l2_index,
         const char *what, uint64_t value)
{
  report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": %s 0x%"
                PRIx64, s->path, l2_index, l1_index, what, value);
  errno = EINVAL;
  return -1;
}

static int
flush_run (struct stream *s)
{
  struct qcow2_stream *q = s->qcow2;

  if (!q->has_run)
    return 0;
  q->has_run = false;
  return push_record (s, &q->run);
}

/* Data of the guest at GUEST, LENGTH bytes, at HOST in the file. */
static int
add_data (struct stream *s, uint64_t guest, uint64_t length, uint64_t host)
{
  struct qcow2_stream *q = s->qcow2;
  struct record *r = &q->run;

  if (q->has_run && r->host + r->host_length == host
      && r->guest + r->host_length == guest) {
    r->host_length += length;
    return 0;
  }
  if (flush_run (s) == -1)
    return -1;
  *r = (struct record) { .kind = RECORD_DATA, .host = host,
                         .host_length = length, .guest = guest };
  q->has_run = true;
  return 0;
}

/* A hole at GUEST, LENGTH bytes.  Returns 1 with EVENT set when it ends
 * the hole gathered so far, which is then handed out.
 */
static int
add_hole (struct stream *s, uint64_t guest, uint64_t length,
          struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;
  int r = 0;

  if (q->hole_end == guest && q->hole_end > q->hole_start) {
    q->hole_end += length;
    return 0;
  }
  if (q->hole_end > q->hole_start) {
    *event = (struct stream_event) { STREAM_HOLE, q->hole_start,
                                     q->hole_end - q->hole_start, 0 };
    r = 1;
  }
  q->hole_start = guest;
  q->hole_end = guest + length;
  return r;
}

static int
add_compressed (struct stream *s, uint64_t guest, uint64_t entry)
{
  struct qcow2_stream *q = s->qcow2;
  struct qcow2_compressed c;
  struct record r = { .kind = RECORD_COMPRESSED, .guest = guest,
                      .entry = entry };

  qcow2_decode_compressed (q->cluster_bits, entry, &c);
  r.host = c.offset;
  r.host_length = c.size;
  return push_record (s, &r);
}

/* One L1 entry: an L2 table to read, or a hole. */
static int
walk_l1_entry (struct stream *s, uint64_t i, struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;
  uint64_t covered = q->l2_entries << q->cluster_bits;
  uint64_t guest = i * covered, l2 = load_be64 (q->table + i * 8)
                                     & QCOW2_OFFSET_MASK;
  struct record r = { .kind = RECORD_L2, .host = l2,
                      .host_length = q->cluster_size, .entry = i };

  if (l2 == 0)
    return add_hole (s, guest, MIN (covered, s->size - guest), event);
  if (!is_aligned (l2, q->cluster_size)) {
    report_error ("%s: L1 entry %" PRIu64 ": L2 table offset 0x%" PRIx64
                  " is not aligned", s->path, i, l2);
    errno = EINVAL;
    return -1;
  }
  q->tables_ahead++;
  return push_record (s, &r);
}

/* One unit (a subcluster, or a cluster without them) of an L2 table. */
static int
walk_l2_unit (struct stream *s, uint64_t unit, struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;
  struct walk *w = &q->walk;
  unsigned per_cluster_bits = q->cluster_bits - q->unit_bits;
  uint64_t l2_index = unit >> per_cluster_bits;
  unsigned sc = unit & ((1u << per_cluster_bits) - 1);
  unsigned entry_bytes = q->layout.extended_l2 ? 16 : 8;
  const unsigned char *e = q->table + l2_index * entry_bytes;
  uint64_t entry = load_be64 (e);
  uint64_t bitmap = q->layout.extended_l2 ? load_be64 (e + 8) : 0;
  uint64_t guest = w->guest_base + (unit << q->unit_bits);
  uint64_t length = MIN ((uint64_t) 1 << q->unit_bits, s->size - guest);
  uint64_t host = qcow2_entry_offset (entry);

  switch (qcow2_subcluster_type (&q->layout, entry, bitmap, sc)) {
  case QCOW2_SC_INVALID:
    return corrupt (s, w->l1_index, l2_index,
                    "contradictory subcluster bitmap", bitmap);
  case QCOW2_SC_COMPRESSED:
    /* One record for the whole cluster, at its first unit. */
    return sc == 0 ? add_compressed (s, guest, entry) : 0;
  case QCOW2_SC_ZERO:
    if (q->header.version < 3 && !q->layout.extended_l2)
      return corrupt (s, w->l1_index, l2_index,
                      "zero flag in a version 2 image, entry", entry);
    return add_hole (s, guest, length, event);
  case QCOW2_SC_UNALLOCATED:
    return add_hole (s, guest, length, event);
  case QCOW2_SC_DATA:
    if (!is_aligned (host, q->cluster_size)) {
      report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": "
                    "cluster offset 0x%" PRIx64 " is not aligned", s->path,
                    l2_index, w->l1_index, host);
      errno = EINVAL;
      return -1;
    }
    return add_data (s, guest, length, host + ((uint64_t) sc << q->unit_bits));
  }
  return 0;
}

/* Walk on until a hole is handed out (1), or the table ends (0). */
static int
walk_table (struct stream *s, struct stream_event *event)
{
  struct walk *w = &s->qcow2->walk;
  uint64_t unit_bytes = w->l1 ? s->qcow2->l2_entries << s->qcow2->cluster_bits
                              : (uint64_t) 1 << s->qcow2->unit_bits;
  int r;

  while (w->index < w->units
         && w->guest_base + w->index * unit_bytes < s->size) {
    r = w->l1 ? walk_l1_entry (s, w->index, event)
              : walk_l2_unit (s, w->index, event);
    w->index++;
    if (r != 0)
      return r;
  }
  w->active = false;
  return flush_run (s);
}

/* The last hole gathered, once no table is left to extend it. */
static int
last_hole (struct stream *s, struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;

  if (q->hole_end == q->hole_start)
    return 0;
  *event = (struct stream_event) { STREAM_HOLE, q->hole_start,
                                   q->hole_end - q->hole_start, 0 };
  q->hole_start = q->hole_end = 0;
  return 1;
}

/* ---- serving records ---- */

static int
read_table (struct stream *s, const struct record *r)
{
  struct qcow2_stream *q = s->qcow2;
  uint64_t got;
  char what[WHAT_BYTES];

  if (r->kind == RECORD_L1)
    snprintf (what, sizeof what, "the L1 table (%" PRIu64 " bytes at 0x%"
              PRIx64 ")", r->host_length, r->host);
  else
    snprintf (what, sizeof what, "the L2 table of L1 entry %" PRIu64
              " (at 0x%" PRIx64 ")", r->entry, r->host);
  if (fetch (s, q->table, r->host, r->host_length, what, false, &got) == -1)
    return -1;
  q->tables_ahead--;
  q->walk = (struct walk) { .active = true, .l1 = r->kind == RECORD_L1 };
  if (r->kind == RECORD_L1)
    q->walk.units = q->l1_needed;
  else {
    q->walk.units = q->l2_entries << (q->cluster_bits - q->unit_bits);
    q->walk.l1_index = r->entry;
    q->walk.guest_base = r->entry * (q->l2_entries << q->cluster_bits);
  }
  return 0;
}

static int
serve_data (struct stream *s, unsigned char *buf, size_t max_data,
            struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;
  struct record *r = &q->heap[0];
  uint64_t n = MIN (r->host_length, max_data), got;
  char what[WHAT_BYTES];

  snprintf (what, sizeof what, "the data of guest offset 0x%" PRIx64
            " (%" PRIu64 " bytes at 0x%" PRIx64 ")", r->guest, n, r->host);
  if (fetch (s, buf, r->host, n, what, false, &got) == -1)
    return -1;
  *event = (struct stream_event) { STREAM_DATA, r->guest, n, n, r->host };
  if (n == r->host_length)
    pop_record (q);
  else {
    r->host += n;
    r->guest += n;
    r->host_length -= n;
    sift_down (q, 0);
  }
  return 1;
}

/* A compressed payload stops where the next record starts: qemu packs
 * them, and its last sector may be shared with the next one or pass the
 * end of the file.
 */
/* Compressed clusters are packed byte after byte, and an L2 entry names
 * whole 512-byte sectors: the next cluster begins in this one's last
 * sector.  qemu allocates a new L2 table in the middle of such packing, so
 * the next cluster often comes before the table that names it.  While
 * tables are to come, keep that sector (the part of it the input gave now:
 * BUF holds [HOST, END), of which [FROM, END) was read just now).
 */
static int
hold_shared_sector (struct stream *s, const unsigned char *buf,
                    uint64_t host, uint64_t from, uint64_t end)
{
  uint64_t start;
  unsigned char *copy;

  if (s->qcow2->tables_ahead == 0 || end <= from)
    return 0;
  start = MAX (round_down (end - 1, QCOW2_COMPRESSED_SECTOR), from);
  copy = malloc (end - start);
  if (copy == NULL)
    return out_of_memory (s);
  memcpy (copy, buf + (start - host), end - start);
  return hold (s, start, copy, end - start);
}

static int
serve_compressed (struct stream *s, unsigned char *buf,
                  struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;
  struct record r = q->heap[0];
  uint64_t length = r.host_length, got, from;
  char what[WHAT_BYTES];

  pop_record (q);
  if (q->heap_len > 0 && q->heap[0].host > r.host)
    length = MIN (length, q->heap[0].host - r.host);
  snprintf (what, sizeof what, "the compressed cluster of guest offset 0x%"
            PRIx64 " (at 0x%" PRIx64 ")", r.guest, r.host);
  from = MAX (r.host, s->pos);
  if (fetch (s, buf, r.host, length, what, true, &got) == -1
      || hold_shared_sector (s, buf, r.host, from, r.host + got) == -1)
    return -1;
  *event = (struct stream_event) {
    STREAM_COMPRESSED, r.guest, MIN (q->cluster_size, s->size - r.guest), got,
    r.host
  };
  return 1;
}

int
qcow2_stream_next (struct stream *s, void *buf, size_t buf_size,
                   size_t max_data, struct stream_event *event)
{
  struct qcow2_stream *q = s->qcow2;
  int r;

  for (;;) {
    if (q->walk.active) {
      r = walk_table (s, event);
      if (r != 0)
        return r;
      continue;
    }
    if (q->tables_ahead == 0 && (q->held_len > 0 || q->dropped)
        && (q->heap_len == 0 || q->heap[0].host >= s->pos)) {
      drop_held (q);
      q->dropped = false;
    }
    if (q->tables_ahead == 0 && last_hole (s, event) == 1)
      return 1;
    if (q->heap_len == 0)
      return stream_drain (s, q->skip, STREAM_STEP_BYTES);
    switch (q->heap[0].kind) {
    case RECORD_L1:
    case RECORD_L2: {
      struct record t = q->heap[0];
      pop_record (q);
      if (read_table (s, &t) == -1)
        return -1;
      break;
    }
    case RECORD_DATA:
      return serve_data (s, buf, MIN (max_data, buf_size), event);
    case RECORD_COMPRESSED:
      return serve_compressed (s, buf, event);
    }
  }
}

static int
decode_cluster (const struct stream *s, const struct stream_event *event,
                const void *payload, void *cluster, size_t cluster_size)
{
  const struct qcow2_stream *q = s->qcow2;
  uint64_t cluster_index = event->offset >> q->cluster_bits;
  struct compressed_cluster where = {
    s->path, cluster_index / q->l2_entries, cluster_index % q->l2_entries,
    event->host, q->header.compression_type
  };

  return decompress_cluster (&where, cluster, cluster_size, payload,
                             event->payload_bytes);
}

int
qcow2_stream_decompress (const struct stream *s,
                         const struct stream_event *event,
                         const void *payload, void *out)
{
  return stream_decode_unit (s, event, payload, out, s->qcow2->cluster_size,
                             decode_cluster);
}

size_t
qcow2_stream_max_payload (const struct stream *s)
{
  return s->qcow2->cluster_size + QCOW2_COMPRESSED_SECTOR;
}

/* ---- opening ---- */

/* Only what the stream holds can be read: no file beside it. */
static int
refuse_other_files (struct stream *s, const struct qcow2_header *h)
{
  if (h->backing_name[0]) {
    report_error ("%s: the image has a backing file (%s), which a stream "
                  "cannot open: flatten it first (qemu-img convert -O qcow2) "
                  "or copy from the local file", s->path, h->backing_name);
    errno = ENOTSUP;
    return -1;
  }
  if (h->incompatible & QCOW2_INCOMPAT_DATA_FILE) {
    report_error ("%s: the image keeps its data in an external data file "
                  "(%s), which a stream cannot open: copy from the local "
                  "file", s->path, h->data_file ? h->data_file : "");
    errno = ENOTSUP;
    return -1;
  }
  return 0;
}

static int
read_header (struct stream *s, struct qcow2_stream *q)
{
  unsigned char fixed[QCOW2_FIXED_HEADER_BYTES], *first;
  uint32_t bits;
  size_t len;
  ssize_t n;
  int r;

  n = stream_read_some (s, fixed, sizeof fixed);
  if (n == -1)
    return -1;
  bits = n >= 24 ? load_be32 (fixed + QCOW2_HDR_CLUSTER_BITS) : 0;
  len = bits >= QCOW2_MIN_CLUSTER_BITS && bits <= QCOW2_MAX_CLUSTER_BITS
        ? (size_t) 1 << bits : (size_t) n;
  first = malloc (MAX (len, (size_t) n));
  if (first == NULL)
    return out_of_memory (s);
  memcpy (first, fixed, n);
  if ((size_t) n < len) {
    r = stream_read_some (s, first + n, len - n);
    if (r == -1) {
      free (first);
      return -1;
    }
    len = n + r;
  }
  /* A stream has no size to check tables against: the end tells. */
  r = qcow2_parse_header (s->path, first, len, UINT64_MAX, &q->header);
  free (first);
  return r;
}

int
qcow2_stream_open (struct stream *s)
{
  struct qcow2_stream *q = calloc (1, sizeof *q);
  struct record l1;

  if (q == NULL)
    return out_of_memory (s);
  s->qcow2 = q;
  if (read_header (s, q) == -1 || refuse_other_files (s, &q->header) == -1)
    return -1;
  q->cluster_bits = q->header.cluster_bits;
  q->cluster_size = (uint64_t) 1 << q->cluster_bits;
  q->layout.extended_l2 = q->header.incompatible & QCOW2_INCOMPAT_EXTL2;
  q->unit_bits = q->cluster_bits - (q->layout.extended_l2 ? 5 : 0);
  q->l2_entries = qcow2_l2_entries (q->cluster_bits, q->layout.extended_l2);
  s->size = round_down (q->header.size, 512);
  q->l1_needed = div_round_up (s->size, q->l2_entries << q->cluster_bits);
  q->table_size = MAX (q->cluster_size, q->l1_needed * 8);
  q->table = malloc (q->table_size);
  q->skip = malloc (STREAM_STEP_BYTES);
  if (q->table == NULL || q->skip == NULL)
    return out_of_memory (s);
  l1 = (struct record) { .kind = RECORD_L1, .host = q->header.l1_table_offset,
                         .host_length = q->l1_needed * 8 };
  q->tables_ahead = 1;
  return push_record (s, &l1);
}

void
qcow2_stream_close (struct stream *s)
{
  struct qcow2_stream *q = s->qcow2;

  if (q == NULL)
    return;
  drop_held (q);
  free (q->heap);
  free (q->table);
  free (q->skip);
  free (q->header.data_file);
  free (q);
  s->qcow2 = NULL;
}
