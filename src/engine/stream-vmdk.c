/* A streamOptimized VMDK read in file order (see stream.h).
 *
 * The file: a header sector, the embedded descriptor, then from the grain
 * offset on one record after another, each starting on a sector:
 *  - a grain: a marker (its LBA, the size of its deflated payload) and the
 *    payload, padded to a sector.  The LBA says where the grain goes,
 *    which is what makes the format streamable: grains are handed out as
 *    they come, compressed, for stream_decompress();
 *  - a metadata marker (a sector: a count of sectors, a size of 0, a type)
 *    and the sectors it announces: a grain table, the grain directory, the
 *    footer (a copy of the header), or nothing for the end of the stream.
 * VMware writes the grain directory and tables at the end (the header's
 * gd_offset is GD_AT_END, and the footer's copy of the header says where
 * they are); qemu-img writes them before the grains, and no metadata
 * markers.  Every writer puts grains in increasing LBA order, and a stream
 * needs it, to hand out the holes between grains as it goes: a grain that
 * comes before or over one already seen is refused.
 *
 * The tables are not needed to read the stream, only to check it.  While
 * they fit in the stream buffer, the part before the grains and the tables
 * of metadata markers are kept, with the sector each grain came at, and
 * compared at the end: a grain the tables place elsewhere, or name but
 * the stream never brought (a stream cut between two grains), is damage.
 * The footer must repeat the header's geometry, and a stream whose header
 * says GD_AT_END must bring its footer and end-of-stream marker.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "error.h"
#include "rounding.h"
#include "stream-internal.h"
#include "vmdk-format.h"
#include "vmdk-internal.h"

/* Room for a structure's name in messages. */
#define WHAT_BYTES 96

/* Sectors of the input kept for the check. */
struct kept {
  uint64_t sector;
  uint64_t bytes;
  unsigned char *data;
};

struct grain_marker {
  uint64_t host;                /* where the marker is in the file */
  uint64_t lba;
  uint32_t size;                /* of the deflated payload */
};

struct vmdk_stream {
  struct vmdk_sparse sparse;    /* the header's geometry */
  bool gd_at_end;               /* the header defers to the footer */
  uint64_t gd_offset;           /* sectors: the header's, or the footer's */
  bool footer_seen;
  uint64_t next_guest;          /* everything below has been handed out */
  bool pending;                 /* MARKER read, its payload not yet */
  struct grain_marker marker;
  bool at_end;                  /* end-of-stream marker, or end of input */

  bool checking;                /* the tables are kept for the check */
  uint64_t check_bytes;         /* memory the check holds */
  struct kept *kept;            /* in file order */
  size_t n_kept, kept_cap;
  uint32_t **seen;              /* per grain directory entry: the sector
                                   each grain came at, 0 for none */
  unsigned char *skip;
};

static int
out_of_memory (struct stream *s)
{
  report_error ("%s: %m", s->path);
  return -1;
}

static int
damaged (void)
{
  errno = EINVAL;
  return -1;
}

/* ---- what is kept for the check ---- */

static void
drop_check (struct vmdk_stream *v)
{
  size_t i;

  for (i = 0; i < v->n_kept; i++)
    free (v->kept[i].data);
  free (v->kept);
  v->kept = NULL;
  v->n_kept = v->kept_cap = 0;
  if (v->seen != NULL)
    for (i = 0; i < v->sparse.gd.entries; i++)
      free (v->seen[i]);
  free (v->seen);
  v->seen = NULL;
  v->checking = false;
}

/* BYTES more for the check: beyond the stream buffer, the check is given
 * up (the stream itself needs none of it).  Returns whether it goes on.
 */
static bool
check_can_hold (struct stream *s, uint64_t bytes)
{
  struct vmdk_stream *v = s->vmdk;

  if (v->checking && bytes <= s->buffer_limit - MIN (v->check_bytes,
                                                     s->buffer_limit)) {
    v->check_bytes += bytes;
    return true;
  }
  drop_check (v);
  return false;
}

/* Keep DATA (BYTES, malloc'd, now ours) read at SECTOR. */
static int
keep (struct stream *s, uint64_t sector, unsigned char *data, uint64_t bytes)
{
  struct vmdk_stream *v = s->vmdk;
  struct kept *grown;

  if (v->n_kept == v->kept_cap) {
    size_t cap = v->kept_cap ? 2 * v->kept_cap : 16;
    grown = check_can_hold (s, (cap - v->kept_cap) * sizeof *grown)
            ? realloc (v->kept, cap * sizeof *grown) : NULL;
    if (grown == NULL) {
      free (data);
      return v->checking ? out_of_memory (s) : 0;
    }
    v->kept = grown;
    v->kept_cap = cap;
  }
  v->kept[v->n_kept++] = (struct kept) { sector, bytes, data };
  return 0;
}

/* The kept bytes [SECTOR * 512, + BYTES), or NULL. */
static const unsigned char *
find_kept (const struct vmdk_stream *v, uint64_t sector, uint64_t bytes)
{
  size_t lo = 0, hi = v->n_kept, mid;
  const struct kept *k;

  while (hi - lo > 1) {
    mid = lo + (hi - lo) / 2;
    if (v->kept[mid].sector <= sector)
      lo = mid;
    else
      hi = mid;
  }
  if (v->n_kept == 0 || v->kept[lo].sector > sector)
    return NULL;
  k = &v->kept[lo];
  if ((sector - k->sector) > k->bytes / VMDK_SECTOR_SIZE
      || bytes > k->bytes - (sector - k->sector) * VMDK_SECTOR_SIZE)
    return NULL;
  return k->data + (sector - k->sector) * VMDK_SECTOR_SIZE;
}

/* The grain at LBA came at sector SECTOR of the stream. */
static int
note_grain (struct stream *s, uint64_t lba, uint64_t sector)
{
  struct vmdk_stream *v = s->vmdk;
  uint64_t grain = lba * VMDK_SECTOR_SIZE / v->sparse.grain_size;
  uint64_t i = grain / v->sparse.gtes_per_gt;

  if (!v->checking)
    return 0;
  if (v->seen[i] == NULL) {
    if (!check_can_hold (s, v->sparse.gtes_per_gt * sizeof **v->seen))
      return 0;
    v->seen[i] = calloc (v->sparse.gtes_per_gt, sizeof **v->seen);
    if (v->seen[i] == NULL)
      return out_of_memory (s);
  }
  v->seen[i][grain % v->sparse.gtes_per_gt] = sector;
  return 0;
}

/* ---- reading ---- */

/* Read the input up to byte END, into DEST (from byte s->pos on) when not
 * NULL, and the part of it in the descriptor's window into DESC.
 */
static int
read_span (struct stream *s, uint64_t end, unsigned char *dest, char *desc,
           const char *what)
{
  unsigned char *buf;
  uint64_t from, win_start, win_end;
  size_t n;

  while (s->pos < end) {
    from = s->pos;
    n = MIN (STREAM_STEP_BYTES, end - from);
    buf = dest ? dest + (from - VMDK_SECTOR_SIZE) : s->vmdk->skip;
    if (stream_read_exact (s, buf, n, what) == -1)
      return -1;
    win_start = MAX (from, VMDK_EMBEDDED_DESC_OFFSET);
    win_end = MIN (from + n, VMDK_EMBEDDED_DESC_OFFSET + VMDK_DESC_BYTES);
    if (desc && win_start < win_end)
      memcpy (desc + (win_start - VMDK_EMBEDDED_DESC_OFFSET),
              buf + (win_start - from), win_end - win_start);
  }
  return 0;
}

/* COUNT sectors of metadata at SECTOR, kept for the check while it
 * fits.
 */
static int
read_table (struct stream *s, uint64_t sector, uint64_t count,
            const char *what)
{
  uint64_t bytes = count * VMDK_SECTOR_SIZE;
  unsigned char *data = NULL;

  if (check_can_hold (s, bytes) && (data = malloc (bytes)) == NULL)
    return out_of_memory (s);
  if (data == NULL)
    return read_span (s, s->pos + bytes, NULL, NULL, what);
  if (stream_read_exact (s, data, bytes, what) == -1) {
    free (data);
    return -1;
  }
  return keep (s, sector, data, bytes);
}

/* ---- opening ---- */

/* Only a streamOptimized sparse extent streams: any other VMDK is read
 * through tables that point back into the file, or names other files.
 */
static int
refuse_other_kinds (struct stream *s, const unsigned char *h)
{
  const char *kind = NULL;

  if (load_be32 (h) == VMDK3_MAGIC)
    kind = "VMDK3 (COWD)";
  else if (load_be32 (h) != VMDK4_MAGIC)
    kind = "descriptor-file";
  else if (load_le16 (h + VMDK_HDR_COMPRESSION) != VMDK_COMPRESSION_DEFLATE)
    kind = "monolithicSparse";
  else if (!(load_le32 (h + VMDK_HDR_FLAGS) & VMDK_FLAG_MARKER))
    kind = "streamOptimized (without grain markers)";
  if (kind == NULL)
    return 0;
  report_error ("%s: a %s VMDK image cannot be read as a stream, only a "
                "streamOptimized one: copy it from a local file", s->path,
                kind);
  errno = ENOTSUP;
  return -1;
}

/* The descriptor names no parent: a stream cannot open another file. */
static int
check_descriptor (struct stream *s, char *desc)
{
  char *parent = NULL;
  uint32_t cid, parent_cid;
  int r = 0;

  if (vmdk_check_text (s->path, desc, strlen (desc)) == -1
      || vmdk_desc_identity (s->path, desc, &parent, &cid,
                             &parent_cid) == -1)
    return -1;
  if (parent != NULL && parent[0] != '\0') {
    report_error ("%s: the image has a parent (%s), which a stream cannot "
                  "open: convert it first (qemu-img convert -O vmdk -o "
                  "subformat=streamOptimized) or copy from the local file",
                  s->path, parent);
    errno = ENOTSUP;
    r = -1;
  }
  free (parent);
  return r;
}

/* The bytes before the first grain: the header H, the descriptor, and
 * (qemu-img) the grain directory and tables, kept for the check.
 */
static int
read_prologue (struct stream *s, const unsigned char *h)
{
  uint64_t grain_offset = load_le64 (h + VMDK_HDR_GRAIN_OFFSET), end;
  unsigned char *prologue = NULL;
  char *desc;
  int r;

  if (grain_offset == 0 || grain_offset > UINT64_MAX / VMDK_SECTOR_SIZE) {
    report_error ("%s: VMDK header: grain offset of sector %" PRIu64
                  " is not after the header", s->path, grain_offset);
    return damaged ();
  }
  end = grain_offset * VMDK_SECTOR_SIZE;
  desc = calloc (1, VMDK_DESC_BYTES + 1);
  if (desc == NULL)
    return out_of_memory (s);
  if (check_can_hold (s, end) && (prologue = malloc (end)) == NULL) {
    free (desc);
    return out_of_memory (s);
  }
  if (prologue)
    memcpy (prologue, h, VMDK_SECTOR_SIZE);
  r = read_span (s, end, prologue ? prologue + VMDK_SECTOR_SIZE : NULL, desc,
                 "the VMDK descriptor and tables before the first grain");
  if (r == 0 && prologue) {
    r = keep (s, 0, prologue, end);
    prologue = NULL;
  }
  free (prologue);
  if (r == 0)
    r = check_descriptor (s, desc);
  free (desc);
  return r;
}

int
vmdk_stream_open (struct stream *s)
{
  struct vmdk_stream *v = calloc (1, sizeof *v);
  unsigned char h[VMDK_SECTOR_SIZE];
  uint64_t gd_offset;
  ssize_t n;

  if (v == NULL)
    return out_of_memory (s);
  s->vmdk = v;
  v->skip = malloc (STREAM_STEP_BYTES);
  if (v->skip == NULL)
    return out_of_memory (s);
  /* A descriptor file may be shorter than a header: refused first. */
  memset (h, 0, sizeof h);
  n = stream_read_some (s, h, sizeof h);
  if (n == -1 || refuse_other_kinds (s, h) == -1
      || ((size_t) n < sizeof h
          && stream_read_exact (s, h + n, sizeof h - n,
                                "the VMDK header") == -1)
      || vmdk_parse_header (s->path, h, &v->sparse) == -1)
    return -1;
  gd_offset = load_le64 (h + VMDK_HDR_GD_OFFSET);
  v->gd_at_end = gd_offset == VMDK_GD_AT_END;
  v->gd_offset = v->gd_at_end ? 0 : gd_offset;
  s->size = v->sparse.capacity;
  v->checking = true;
  if (check_can_hold (s, v->sparse.gd.entries * sizeof *v->seen)
      && (v->seen = calloc (v->sparse.gd.entries, sizeof *v->seen)) == NULL)
    return out_of_memory (s);
  return read_prologue (s, h);
}

void
vmdk_stream_close (struct stream *s)
{
  struct vmdk_stream *v = s->vmdk;

  if (v == NULL)
    return;
  drop_check (v);
  free (v->skip);
  free (v);
  s->vmdk = NULL;
}

/* ---- markers ---- */

/* Where grain marker M may put its grain: a whole grain of the disk,
 * after the last one, with a payload qemu would read.
 */
static int
check_grain (struct stream *s, const struct grain_marker *m)
{
  const struct vmdk_sparse *p = &s->vmdk->sparse;
  uint64_t granularity = p->grain_size / VMDK_SECTOR_SIZE;

  if (m->size > 2 * p->grain_size) {
    report_error ("%s: VMDK compressed grain at 0x%" PRIx64 ": %" PRIu32
                  " bytes do not fit in two grains (%" PRIu64 " bytes)",
                  s->path, m->host, m->size, 2 * p->grain_size);
    return damaged ();
  }
  if (m->lba >= s->size / VMDK_SECTOR_SIZE) {
    report_error ("%s: VMDK grain marker at 0x%" PRIx64 ": LBA %" PRIu64
                  " passes the end of the disk (%" PRIu64 " sectors)",
                  s->path, m->host, m->lba, s->size / VMDK_SECTOR_SIZE);
    return damaged ();
  }
  if (m->lba % granularity != 0) {
    report_error ("%s: VMDK grain marker at 0x%" PRIx64 ": LBA %" PRIu64
                  " is not the start of a grain (of %" PRIu64 " sectors)",
                  s->path, m->host, m->lba, granularity);
    return damaged ();
  }
  if (m->lba * VMDK_SECTOR_SIZE < s->vmdk->next_guest) {
    report_error ("%s: VMDK grain marker at 0x%" PRIx64 ": LBA %" PRIu64
                  " comes after the grains up to LBA %" PRIu64 ": grains "
                  "out of order or repeated cannot be read as a stream: copy "
                  "it from a local file", s->path, m->host, m->lba,
                  s->vmdk->next_guest / VMDK_SECTOR_SIZE);
    return damaged ();
  }
  if (m->host / VMDK_SECTOR_SIZE > UINT32_MAX) {
    report_error ("%s: VMDK grain marker at 0x%" PRIx64 ": past the sectors "
                  "a grain table can name", s->path, m->host);
    return damaged ();
  }
  return 0;
}

/* The footer's copy of the header F, read at HOST: the geometry the
 * stream was read with, and where the grain directory is.
 */
static int
read_footer (struct stream *s, uint64_t host, const unsigned char *f)
{
  struct vmdk_stream *v = s->vmdk;
  struct vmdk_sparse copy = { 0 };
  uint64_t gd_offset = load_le64 (f + VMDK_HDR_GD_OFFSET);

  if (load_be32 (f) != VMDK4_MAGIC) {
    report_error ("%s: VMDK footer at 0x%" PRIx64 ": no \"KDMV\" magic",
                  s->path, host);
    return damaged ();
  }
  if (vmdk_parse_header (s->path, f, &copy) == -1)
    return -1;
  if (copy.capacity != v->sparse.capacity
      || copy.grain_size != v->sparse.grain_size
      || copy.gtes_per_gt != v->sparse.gtes_per_gt
      || copy.compressed != v->sparse.compressed
      || copy.has_marker != v->sparse.has_marker
      || copy.zero_grain != v->sparse.zero_grain) {
    report_error ("%s: VMDK footer at 0x%" PRIx64 ": its copy of the header "
                  "(capacity, grain size, grain table size or flags) is not "
                  "the header the stream was read with", s->path, host);
    return damaged ();
  }
  if (v->gd_at_end) {
    if (gd_offset == VMDK_GD_AT_END) {
      report_error ("%s: VMDK footer at 0x%" PRIx64 ": its grain directory "
                    "offset says \"at the end\" too", s->path, host);
      return damaged ();
    }
    v->gd_offset = gd_offset;
  }
  v->footer_seen = true;
  return 0;
}

/* The metadata marker M at HOST (its type, the count of sectors it
 * announces): read what follows it.
 */
static int
read_metadata (struct stream *s, uint64_t host, const unsigned char *m)
{
  const struct vmdk_sparse *p = &s->vmdk->sparse;
  uint64_t count = load_le64 (m), expected;
  uint32_t type = load_le32 (m + VMDK_MARKER_TYPE);
  unsigned char footer[VMDK_SECTOR_SIZE];
  char what[WHAT_BYTES];
  const char *name;

  switch (type) {
  case VMDK_MARKER_END_OF_STREAM:
    name = "end-of-stream";
    expected = 0;
    break;
  case VMDK_MARKER_GRAIN_TABLE:
    name = "grain table";
    expected = div_round_up (p->gtes_per_gt * 4, VMDK_SECTOR_SIZE);
    break;
  case VMDK_MARKER_GRAIN_DIRECTORY:
    name = "grain directory";
    expected = div_round_up (p->gd.entries * 4, VMDK_SECTOR_SIZE);
    break;
  case VMDK_MARKER_FOOTER:
    name = "footer";
    expected = 1;
    break;
  default:
    report_error ("%s: VMDK marker at 0x%" PRIx64 ": type %" PRIu32 " is "
                  "unknown", s->path, host, type);
    return damaged ();
  }
  if (count != expected) {
    report_error ("%s: VMDK %s marker at 0x%" PRIx64 ": %" PRIu64 " sectors "
                  "follow it, not %" PRIu64, s->path, name, host, count,
                  expected);
    return damaged ();
  }
  snprintf (what, sizeof what, "the VMDK %s at 0x%" PRIx64, name,
            host + VMDK_SECTOR_SIZE);
  switch (type) {
  case VMDK_MARKER_END_OF_STREAM:
    s->vmdk->at_end = true;
    return 0;
  case VMDK_MARKER_FOOTER:
    return stream_read_exact (s, footer, sizeof footer, what) == -1
           ? -1 : read_footer (s, host, footer);
  default:
    return read_table (s, host / VMDK_SECTOR_SIZE + 1, count, what);
  }
}

/* The next marker.  Returns 1 with EVENT (the hole before a grain), 0
 * when there is more to do, -1 after reporting.
 */
static int
read_marker (struct stream *s, struct stream_event *event)
{
  struct vmdk_stream *v = s->vmdk;
  unsigned char m[VMDK_SECTOR_SIZE];
  uint64_t host = s->pos, guest;
  char what[WHAT_BYTES];
  ssize_t n = stream_read_some (s, m, VMDK_GRAIN_MARKER_BYTES);

  if (n == -1)
    return -1;
  if (n == 0 && v->gd_at_end) {
    report_error ("%s: the stream ended at byte %" PRIu64 ", before the "
                  "VMDK end-of-stream marker", s->path, s->pos);
    errno = EIO;
    return -1;
  }
  if (n == 0) {
    v->at_end = true;
    return 0;
  }
  snprintf (what, sizeof what, "the VMDK marker at 0x%" PRIx64, host);
  if (n < VMDK_GRAIN_MARKER_BYTES)
    return stream_read_exact (s, m + n, VMDK_GRAIN_MARKER_BYTES - n, what);
  if (load_le32 (m + VMDK_GRAIN_MARKER_SIZE) == 0)
    return stream_read_exact (s, m + n, sizeof m - n, what) == -1
           ? -1 : read_metadata (s, host, m);
  v->marker = (struct grain_marker) {
    host, load_le64 (m), load_le32 (m + VMDK_GRAIN_MARKER_SIZE)
  };
  if (check_grain (s, &v->marker) == -1)
    return -1;
  v->pending = true;
  guest = v->marker.lba * VMDK_SECTOR_SIZE;
  if (guest == v->next_guest)
    return 0;
  *event = (struct stream_event) { STREAM_HOLE, v->next_guest,
                                   guest - v->next_guest, 0 };
  v->next_guest = guest;
  return 1;
}

/* The payload of the grain whose marker was read, into BUF. */
static int
serve_grain (struct stream *s, unsigned char *buf,
             struct stream_event *event)
{
  struct vmdk_stream *v = s->vmdk;
  const struct grain_marker *m = &v->marker;
  uint64_t end = round_up (m->host + VMDK_GRAIN_MARKER_BYTES + m->size,
                           VMDK_SECTOR_SIZE);
  uint64_t guest = m->lba * VMDK_SECTOR_SIZE;
  char what[WHAT_BYTES];

  snprintf (what, sizeof what, "the VMDK compressed grain at 0x%" PRIx64,
            m->host);
  if (stream_read_exact (s, buf, m->size, what) == -1
      || read_span (s, end, NULL, NULL, what) == -1
      || note_grain (s, m->lba, m->host / VMDK_SECTOR_SIZE) == -1)
    return -1;
  v->pending = false;
  *event = (struct stream_event) {
    STREAM_COMPRESSED, guest, MIN (v->sparse.grain_size, s->size - guest),
    m->size, m->host
  };
  v->next_guest = guest + event->length;
  return 1;
}

/* ---- the check at the end ---- */

/* Grain table GT (TABLE, or NULL for none) of directory entry I against
 * the sectors the grains came at.
 */
static int
check_grain_table (struct stream *s, uint64_t i, uint32_t gt,
                   const unsigned char *table)
{
  const struct vmdk_stream *v = s->vmdk;
  uint64_t j, guest, entry, got;

  for (j = 0; j < v->sparse.gtes_per_gt; j++) {
    guest = (i * v->sparse.gtes_per_gt + j) * v->sparse.grain_size;
    if (guest >= s->size)
      break;
    entry = table ? load_le32 (table + 4 * j) : 0;
    got = v->seen[i] ? v->seen[i][j] : 0;
    if (entry == got
        || (got == 0 && entry == VMDK_GTE_ZEROED && v->sparse.zero_grain))
      continue;
    if (got == 0)
      report_error ("%s: VMDK grain table at sector %" PRIu32 ", entry %"
                    PRIu64 ": the grain at guest offset 0x%" PRIx64 " is at "
                    "sector %" PRIu64 ", but the stream brought no such "
                    "grain (was it cut short?)", s->path, gt, j, guest,
                    entry);
    else
      report_error ("%s: VMDK grain directory entry %" PRIu64 ": the grain "
                    "at guest offset 0x%" PRIx64 " came at sector %" PRIu64
                    ", but its grain table %s", s->path, i, guest, got,
                    table ? "places it elsewhere" : "is missing");
    return damaged ();
  }
  return 0;
}

/* The grain directory and tables the stream carried against its grains. */
static int
check_tables (struct stream *s)
{
  const struct vmdk_stream *v = s->vmdk;
  uint64_t entries = v->sparse.gd.entries, i;
  const unsigned char *gd, *table;
  uint32_t gt;

  if (!v->checking)
    return 0;
  gd = find_kept (v, v->gd_offset, entries * 4);
  if (gd == NULL) {
    report_error ("%s: VMDK grain directory at sector %" PRIu64 ": the "
                  "stream brought none there", s->path, v->gd_offset);
    return damaged ();
  }
  for (i = 0; i < entries; i++) {
    gt = load_le32 (gd + 4 * i);
    table = gt ? find_kept (v, gt, v->sparse.gtes_per_gt * 4) : NULL;
    if (gt != 0 && table == NULL) {
      report_error ("%s: VMDK grain directory entry %" PRIu64 ": the stream "
                    "brought no grain table at sector %" PRIu32, s->path, i,
                    gt);
      return damaged ();
    }
    if (check_grain_table (s, i, gt, table) == -1)
      return -1;
  }
  return 0;
}

/* Past the last grain: the hole to the end of the disk, then the checks,
 * then the rest of the input.
 */
static int
finish (struct stream *s, struct stream_event *event)
{
  struct vmdk_stream *v = s->vmdk;

  if (v->next_guest < s->size) {
    *event = (struct stream_event) { STREAM_HOLE, v->next_guest,
                                     s->size - v->next_guest, 0 };
    v->next_guest = s->size;
    return 1;
  }
  if (v->gd_at_end && !v->footer_seen) {
    report_error ("%s: the VMDK header leaves the grain directory to the "
                  "footer, but the stream ended without one", s->path);
    return damaged ();
  }
  if (check_tables (s) == -1)
    return -1;
  drop_check (v);
  return stream_drain (s, v->skip, STREAM_STEP_BYTES);
}

int
vmdk_stream_next (struct stream *s, void *buf, size_t buf_size,
                  size_t max_data, struct stream_event *event)
{
  struct vmdk_stream *v = s->vmdk;
  int r;

  (void) buf_size;              /* >= stream_max_payload () */
  (void) max_data;              /* a grain is handed out whole */
  for (;;) {
    if (v->pending)
      return serve_grain (s, buf, event);
    if (v->at_end)
      return finish (s, event);
    r = read_marker (s, event);
    if (r != 0)
      return r;
  }
}

static int
inflate_grain (const struct stream *s, const struct stream_event *event,
               const void *payload, void *grain, size_t grain_size)
{
  return vmdk_inflate_grain (s->path, event->host, payload,
                             event->payload_bytes, grain, grain_size,
                             event->length);
}

int
vmdk_stream_decompress (const struct stream *s,
                        const struct stream_event *event,
                        const void *payload, void *out)
{
  return stream_decode_unit (s, event, payload, out,
                             s->vmdk->sparse.grain_size, inflate_grain);
}

size_t
vmdk_stream_max_payload (const struct stream *s)
{
  return 2 * s->vmdk->sparse.grain_size;
}
