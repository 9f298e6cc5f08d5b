/* An OVA as a stream: a tar archive read front to back, of which one disk
 * becomes the input of the stream (see stream.h).
 *
 * A stream cannot look ahead, so the archive must be in the order the OVF
 * standard gives it: the OVF first.  Its <References> list the disks (the
 * same list, and the same selection, as ova.c reads in place); the members
 * before the selected disk are skipped, and the disk member's bytes, exactly
 * its size, become the input the formats' decoders (stream.c) probe and
 * read.  This is a layer of input, not a format: it replaces the stream's
 * input with the disk's, and the stream's name with "ARCHIVE/DISK" as
 * the engine names a disk opened in place, so that every offset a decoder
 * reports is one in the disk, as in the file case.
 *
 * When a decoder reads past the disk's end, the rest of the archive is read
 * before the end is reported: the headers that follow are checked like the
 * ones before (a damaged header, a File of the OVF absent or not a regular
 * member, a member cut short are errors, as ova.c finds them in a file),
 * and the bytes after the end-of-archive block are read and dropped, so
 * that a checksum of the input covers every byte.
 *
 * Memory: the tar reader, the OVF text while it is parsed (at most
 * OVA_MAX_OVF_BYTES), its references (at most OVF_MAX_REFERENCES names)
 * and a buffer to skip through.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image-internal.h"
#include "ova.h"
#include "rounding.h"
#include "stream-internal.h"
#include "tar-header.h"

#define SKIP_BYTES (64 * 1024)

struct ova_stream {
  char *archive;                /* the archive's name, for messages */
  struct stream_input parent;   /* the archive's bytes */
  bool parent_ended;
  /* Bytes the probe read from the parent, handed out first. */
  unsigned char head[STREAM_PROBE_BUFFER];
  size_t head_len, head_used;
  uint64_t pos;                 /* bytes of the archive read */
  struct tar_reader *reader;
  struct tar_member *member;    /* the last one described */
  uint64_t member_left;         /* bytes of its data not read yet */
  char *ovf;                    /* the OVF's member name */
  struct ova references;        /* the OVF's Files, names without "./" */
  bool seen[OVF_MAX_REFERENCES];  /* ... met as a member */
  const struct image_disk *disk;  /* the selected one */
  uint64_t disk_offset;         /* of its data in the archive */
  uint64_t disk_size;
  bool finished;                /* the archive was read to its end */
  unsigned char skip[SKIP_BYTES];
};

/* Up to COUNT bytes of the archive.  Returns the count, 0 at its end, or
 * -1 after reporting.
 */
static ssize_t
archive_read (struct ova_stream *o, void *buf, size_t count)
{
  ssize_t n = 0;

  if (o->head_used < o->head_len) {
    n = MIN (count, o->head_len - o->head_used);
    memcpy (buf, o->head + o->head_used, n);
    o->head_used += n;
  }
  else if (!o->parent_ended) {
    n = o->parent.read (o->parent.opaque, buf, count);
    if (n == -1)
      return -1;
    o->parent_ended = n == 0;
  }
  o->pos += n;
  return n;
}

/* Up to COUNT bytes of the current member's data, 0 at its end.  Returns
 * the count, or -1 after reporting (a member cut short).
 */
static ssize_t
member_read (struct ova_stream *o, void *buf, size_t count)
{
  ssize_t n;

  count = MIN (count, o->member_left);
  if (count == 0)
    return 0;
  n = archive_read (o, buf, count);
  if (n == 0)
    return ova_data_past_end (o->archive, o->member, o->pos);
  if (n > 0)
    o->member_left -= n;
  return n;
}

/* The rest of the current member's data: into BUF (at most its size),
 * or dropped when BUF is NULL.  Returns 0 or -1 after reporting.
 */
static int
member_read_rest (struct ova_stream *o, void *buf)
{
  ssize_t n;

  while (o->member_left > 0) {
    n = member_read (o, buf ? buf : o->skip,
                     buf ? o->member_left : sizeof o->skip);
    if (n == -1)
      return -1;
    if (buf)
      buf = (char *) buf + n;
  }
  return 0;
}

/* Drop the bytes up to OFFSET, where a header is expected (the padding
 * after a member's data), then read that header block.  Returns 0 or -1
 * after reporting.
 */
static int
read_header_block (struct ova_stream *o, uint64_t offset,
                   unsigned char *block)
{
  size_t done = 0;
  ssize_t n = 1;

  while (n > 0 && o->pos < offset)
    n = archive_read (o, o->skip, MIN (offset - o->pos, sizeof o->skip));
  while (n > 0 && done < TAR_BLOCK_SIZE) {
    n = archive_read (o, block + done, TAR_BLOCK_SIZE - done);
    if (n > 0)
      done += n;
  }
  if (n == -1)
    return -1;
  if (done < TAR_BLOCK_SIZE) {
    report_error ("%s: the tar archive is truncated: it ends at offset 0x%"
                  PRIx64 ", before the header expected at 0x%" PRIx64
                  " (or its end-of-archive block)", o->archive, o->pos, offset);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

/* The OVF's Files the member just described is, checked as ova.c checks
 * them: the first member of each name must be a regular one.
 */
static int
meet_references (struct ova_stream *o)
{
  const char *name = ova_plain_name (o->member->name);
  const struct image_disk *d;
  size_t i;

  for (i = 0; i < o->references.n_disks; i++) {
    d = &o->references.disks[i];
    if (o->seen[i] || strcmp (d->name, name) != 0)
      continue;
    if (o->member->type != TAR_REGULAR)
      return ova_missing_reference (o->archive, o->ovf, d->name, d->index,
                                    "not a regular member");
    o->seen[i] = true;
  }
  return 0;
}

/* The next member's header, read past the data of the one before and any
 * extended headers.  Returns TAR_STEP_MEMBER (o->member describes it),
 * TAR_STEP_END, or -1 after reporting.
 */
static int
next_member (struct ova_stream *o)
{
  unsigned char block[TAR_BLOCK_SIZE];
  int step;

  if (member_read_rest (o, NULL) == -1)
    return -1;
  do {
    if (read_header_block (o, tar_reader_offset (o->reader), block) == -1)
      return -1;
    step = tar_reader_block (o->reader, block, o->member);
  } while (step == TAR_STEP_MORE);
  if (step != TAR_STEP_MEMBER)
    return step;
  o->member_left = o->member->size;
  return o->ovf != NULL && meet_references (o) == -1 ? -1 : step;
}

/* The first File of the OVF that was not a member, reported, or 0. */
static int
check_all_met (const struct ova_stream *o)
{
  const struct image_disk *d;
  size_t i;

  for (i = 0; i < o->references.n_disks; i++) {
    d = &o->references.disks[i];
    if (!o->seen[i])
      return ova_missing_reference (o->archive, o->ovf, d->name, d->index,
                                    "not a member");
  }
  return 0;
}

/* ---- the OVF ---- */

/* ova_read_ovf() asks for the whole member. */
static int
read_ovf_text (void *opaque, void *buf, size_t bytes)
{
  (void) bytes;
  return member_read_rest (opaque, buf);
}

static int
take_reference (const char *href, unsigned index, void *opaque)
{
  struct ova_stream *o = opaque;
  struct image_disk *d = &o->references.disks[o->references.n_disks];

  d->index = index;
  d->name = strdup (ova_plain_name (href));
  if (d->name == NULL) {
    report_error ("%s: %m", o->archive);
    return -1;
  }
  o->references.n_disks++;
  if (strcmp (d->name, o->ovf) == 0) {
    report_error ("%s: %s: File \"%s\" (reference %u) is the OVF itself",
                  o->archive, o->ovf, href, index);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

/* Refuse a tar archive that is not read as an OVA (ENOTSUP). */
static int
not_an_ova (const struct ova_stream *o, int step)
{
  if (step == TAR_STEP_END)
    report_error ("%s: the tar archive holds no member: a tar archive "
                  "streams only as an OVA, its OVF first", o->archive);
  else
    report_error ("%s: tar member 0 \"%s\" is not an .ovf descriptor: a tar "
                  "archive streams only as an OVA, its OVF first: copy it "
                  "from a local file", o->archive, o->member->name);
  errno = ENOTSUP;
  return -1;
}

/* The first member, the OVF: its Files, into o->references. */
static int
read_ovf (struct ova_stream *o)
{
  int step = next_member (o);

  if (step == -1)
    return -1;
  if (step == TAR_STEP_END || o->member->type != TAR_REGULAR
      || !ova_names_ovf (o->member->name))
    return not_an_ova (o, step);
  o->ovf = strdup (ova_plain_name (o->member->name));
  o->references.disks = calloc (OVF_MAX_REFERENCES,
                                sizeof *o->references.disks);
  if (o->ovf == NULL || o->references.disks == NULL) {
    report_error ("%s: %m", o->archive);
    return -1;
  }
  if (ova_read_ovf (o->archive, o->ovf, o->member->size, read_ovf_text, o,
                    take_reference, o) == -1)
    return -1;
  if (o->references.n_disks == 0) {
    report_error ("%s: %s lists no File in its <References>: a stream cannot "
                  "look ahead for the disks: copy it from a local file",
                  o->archive, o->ovf);
    errno = ENOTSUP;
    return -1;
  }
  return 0;
}

/* Read on to the selected disk's header: o->member describes it.  The
 * end of the archive before it finds its File (at least) not met.
 */
static int
find_disk (struct ova_stream *o)
{
  int step;

  do
    step = next_member (o);
  while (step == TAR_STEP_MEMBER
         && strcmp (ova_plain_name (o->member->name), o->disk->name) != 0);
  if (step == TAR_STEP_END)
    check_all_met (o);
  if (step != TAR_STEP_MEMBER)
    return -1;
  o->disk_offset = o->member->data_offset;
  o->disk_size = o->member->size;
  return 0;
}

/* ---- after the disk ---- */

/* The headers after the disk, then the bytes after the archive's end. */
static int
finish_archive (struct ova_stream *o)
{
  ssize_t n;
  int step;

  o->finished = true;
  do
    step = next_member (o);
  while (step == TAR_STEP_MEMBER);
  if (step == -1 || check_all_met (o) == -1)
    return -1;
  do
    n = archive_read (o, o->skip, sizeof o->skip);
  while (n > 0);
  return n;
}

/* ---- the disk as the stream's input ---- */

static ssize_t
disk_read (void *opaque, void *buf, size_t count)
{
  struct ova_stream *o = opaque;

  if (o->member_left == 0)
    return o->finished ? 0 : finish_archive (o);
  return member_read (o, buf, count);
}

/* A range of the disk, read again from the archive.  The tar reader has
 * checked that the member's data end below 2^64.
 */
static int
disk_read_at (void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct ova_stream *o = opaque;

  if (offset > o->disk_size || count > o->disk_size - offset) {
    report_error ("%s: %" PRIu64 " bytes at offset %" PRIu64 " pass the end "
                  "of the disk %s (%" PRIu64 " bytes)", o->archive,
                  (uint64_t) count, offset, o->disk->name, o->disk_size);
    errno = EIO;
    return -1;
  }
  return o->parent.read_at (o->parent.opaque, buf, count,
                            o->disk_offset + offset);
}

static int
open_archive (struct ova_stream *o, const char *selector)
{
  o->reader = tar_reader_new (o->archive);
  o->member = malloc (sizeof *o->member);
  if (o->reader == NULL || o->member == NULL) {
    report_error ("%s: %m", o->archive);
    return -1;
  }
  if (read_ovf (o) == -1)
    return -1;
  o->disk = ova_select (o->archive, &o->references, selector);
  if (o->disk == NULL || find_disk (o) == -1)
    return -1;
  return 0;
}

/* Make S, whose input and probe hold a tar archive, a stream of the
 * disk's bytes, named "ARCHIVE/DISK".
 */
static int
become_disk (struct stream *s, struct ova_stream *o)
{
  char *path;

  if (asprintf (&path, "%s/%s", o->archive, o->disk->name) == -1) {
    report_error ("%s: %m", o->archive);
    return -1;
  }
  free (s->path);
  s->path = path;
  s->in = (struct stream_input) {
    disk_read, o->parent.read_at ? disk_read_at : NULL, o
  };
  s->probe_len = s->probe_used = 0;
  s->ended = false;
  s->pos = 0;
  s->ova = o;
  return 0;
}

static void
free_ova (struct ova_stream *o)
{
  if (o == NULL)
    return;
  ova_free (&o->references);
  free (o->ovf);
  free (o->member);
  tar_reader_free (o->reader);
  free (o->archive);
  free (o);
}

int
ova_stream_open (struct stream *s, const char *selector)
{
  struct ova_stream *o = calloc (1, sizeof *o);

  if (o == NULL || (o->archive = strdup (s->path)) == NULL) {
    report_error ("%s: %m", s->path);
    free (o);
    return -1;
  }
  o->parent = s->in;
  o->parent_ended = s->ended;
  o->head_len = s->probe_len - s->probe_used;
  memcpy (o->head, s->probe + s->probe_used, o->head_len);
  if (open_archive (o, selector) == -1 || become_disk (s, o) == -1) {
    free_ova (o);
    return -1;
  }
  return 0;
}

void
ova_stream_close (struct stream *s)
{
  free_ova (s->ova);
  s->ova = NULL;
}

uint64_t
ova_stream_position (const struct stream *s)
{
  return s->ova->pos;
}
