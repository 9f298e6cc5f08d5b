/* A source read once, front to back (see source.h): the engine's stream
 * decoder (stream.h) hands out the image's ranges in file order.
 *
 * source_next() runs the decoder (the copier calls it under its lock, so
 * one thread reads the input) and parks the bytes of a data piece in a
 * slot, an O_DIRECT-ready buffer: the worker writes them from there
 * (source_peek()), or source_read() decompresses a compressed cluster in
 * the worker, so that decompression still uses every core.  The slot is
 * free again at source_done().  A worker holds one piece at a time: there
 * are never more slots than workers.
 *
 * Compressed clusters wait in stream-runs.c and are handed out as runs of
 * clusters that follow each other in the guest, up to RUN_MAX_BYTES, their
 * payloads side by side in one slot: the worker decompresses a run into
 * one buffer and writes it at once.
 *
 * A target whose logical blocks are larger than the decoder's 512-byte
 * sectors takes whole blocks only: the parts of ranges that cover a block
 * in part wait in stream-blocks.c for the rest of it, and the block is
 * handed out once complete.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "input.h"
#include "messages.h"
#include "rounding.h"
#include "source.h"
#include "stream-blocks.h"
#include "stream-runs.h"
#include "stream.h"
#include "target.h"

/* The largest target block assembled from smaller ranges (stream-blocks.h
 * keeps a bit per sector in 64 bits).
 */
#define MAX_ASSEMBLED_BLOCK (64 * 512)

/* The guest bytes of a run of compressed clusters, at most (and at most
 * the copier's data piece): larger runs save few writes more.
 */
#define RUN_MAX_BYTES (1024 * 1024)

struct slot {
  bool used;
  struct stream_event event;    /* the piece: a COMPRESSED one is a run */
  unsigned char *buf;
  struct stream_event *parts;   /* a run's clusters, their payloads one */
  size_t n_parts;               /* after another in BUF */
};

struct stream_source {
  struct source source;         /* first: the interface */
  struct input *input;
  struct input *checksum;       /* the digest's layer, or NULL */
  struct stream *stream;
  pthread_mutex_t lock;         /* guards the slots array (it may move) */
  struct slot *slots;
  unsigned n_slots;
  size_t slot_size;
  struct stream_blocks blocks;  /* partial target blocks */
  unsigned char *cluster;       /* a compressed cluster split into blocks */
  struct stream_runs runs;      /* compressed clusters not handed out yet */
  bool ended;                   /* the decoder returned 0 */
  /* A stream that failed cannot go on: every later call fails the same
   * way, so that whichever worker reports first tells the cause.
   */
  char failure[1024];
};

static ssize_t
read_input (void *opaque, void *buf, size_t count)
{
  return input_read (opaque, buf, count);
}

static int
read_input_again (void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct input *in = opaque;

  return in->ops->pread (in, buf, count, offset);
}

/* A free slot, a new one if all are taken.  Returns its index, with its
 * buffer in *BUF, or -1.
 */
static int
free_slot (struct stream_source *ss, const struct source_cut *cut,
           unsigned char **buf)
{
  struct slot *grown;
  unsigned i;
  int r = -1;

  pthread_mutex_lock (&ss->lock);
  for (i = 0; i < ss->n_slots && r == -1; i++)
    if (!ss->slots[i].used)
      r = i;
  if (r == -1) {
    grown = realloc (ss->slots, (ss->n_slots + 1) * sizeof *grown);
    if (grown != NULL) {
      ss->slots = grown;
      ss->slot_size = MAX (cut->data_max, stream_max_payload (ss->stream));
      grown[ss->n_slots] = (struct slot) {
        .buf = alloc_io_buffer (ss->slot_size),
        .parts = calloc (stream_runs_max_parts (&ss->runs),
                         sizeof (struct stream_event)),
      };
      if (grown[ss->n_slots].buf && grown[ss->n_slots].parts)
        r = ss->n_slots++;
      else {
        free (grown[ss->n_slots].buf);
        free (grown[ss->n_slots].parts);
      }
    }
    if (r == -1)
      report_error ("%s: %m", ss->source.path);
  }
  if (r != -1) {
    ss->slots[r].used = true;
    *buf = ss->slots[r].buf;
  }
  pthread_mutex_unlock (&ss->lock);
  return r;
}

/* A copy of the piece in SLOT: its buffer and parts do not move with the
 * array, and do not change until source_done().
 */
static struct slot
slot_contents (struct stream_source *ss, unsigned slot)
{
  struct slot contents;

  pthread_mutex_lock (&ss->lock);
  contents = ss->slots[slot];
  pthread_mutex_unlock (&ss->lock);
  return contents;
}

static void
release_slot (struct stream_source *ss, unsigned slot)
{
  pthread_mutex_lock (&ss->lock);
  ss->slots[slot].used = false;
  pthread_mutex_unlock (&ss->lock);
}

/* The decoder's ranges are whole 512-byte sectors; blocks larger than
 * MAX_ASSEMBLED_BLOCK are not assembled from them.
 */
static int
refuse_block (struct stream_source *ss, const struct source_cut *cut,
              const struct stream_event *e)
{
  report_error ("%s: the range at offset %" PRIu64 " is not aligned to the "
                "target's %" PRIu64 "-byte blocks: a stream of this image "
                "can only be written to a target with blocks of at most %d "
                "bytes", ss->source.path, e->offset, cut->block,
                MAX_ASSEMBLED_BLOCK);
  errno = ENOTSUP;
  return -1;
}

/* E covers target blocks in part: keep those parts (stream-blocks.h) and
 * leave in E the whole blocks between them, their bytes moved to the start
 * of BUF (E's length 0 when there are none).  Returns 0 or -1 (reported).
 */
static int
split_event (struct stream_source *ss, const struct source_cut *cut,
             struct stream_event *e, unsigned char *buf)
{
  const unsigned char *bytes = e->type == STREAM_HOLE ? NULL : buf;
  uint64_t middle, middle_length;

  if (cut->block > MAX_ASSEMBLED_BLOCK)
    return refuse_block (ss, cut, e);
  if (e->type == STREAM_COMPRESSED) {
    if (ss->cluster == NULL
        && (ss->cluster = malloc (stream_max_payload (ss->stream))) == NULL) {
      report_error ("%s: %m", ss->source.path);
      return -1;
    }
    messages_hold ();
    if (stream_decompress (ss->stream, e, buf, ss->cluster) == -1) {
      messages_release ();
      source_report_failure (&ss->source, "read", e->offset);
      return -1;
    }
    messages_release ();
    bytes = ss->cluster;
  }
  if (stream_blocks_add (&ss->blocks, e->offset, e->length, bytes,
                         stream_size (ss->stream), &middle,
                         &middle_length) == -1)
    return -1;
  if (bytes)
    memmove (buf, bytes + (middle - e->offset), middle_length);
  e->type = bytes ? STREAM_DATA : STREAM_HOLE;
  e->offset = middle;
  e->length = e->payload_bytes = middle_length;
  return 0;
}

/* Hand out E as the piece in SLOT, a run of N_PARTS clusters when E is
 * COMPRESSED.
 */
static int
hand_out (struct stream_source *ss, unsigned slot,
          const struct stream_event *e, size_t n_parts,
          struct source_piece *p)
{
  if (e->type == STREAM_HOLE)
    release_slot (ss, slot);
  else {
    pthread_mutex_lock (&ss->lock);
    ss->slots[slot].event = *e;
    ss->slots[slot].n_parts = n_parts;
    pthread_mutex_unlock (&ss->lock);
  }
  *p = (struct source_piece) {
    e->type == STREAM_HOLE ? SOURCE_PIECE_HOLE : SOURCE_PIECE_DATA,
    e->offset, e->length, slot
  };
  return 1;
}

/* The next range from the decoder into SLOT (BUF), fitted to the target's
 * blocks.  Returns 1 with *E (length 0: nothing to hand out yet), 0 at the
 * end, -1 (reported).
 */
static int
next_event (struct stream_source *ss, const struct source_cut *cut,
            unsigned char *buf, struct stream_event *e)
{
  int r;

  if (ss->ended)
    return 0;
  messages_hold ();
  r = stream_next (ss->stream, buf, ss->slot_size, cut->data_max, e);
  messages_release ();
  ss->source.size = stream_size (ss->stream);
  if (r == -1)
    source_report_failure (&ss->source, "read",
                           stream_position (ss->stream));
  ss->ended = r == 0;
  if (r == 1 && !stream_blocks_aligned (&ss->blocks, e->offset, e->length,
                                        ss->source.size)
      && split_event (ss, cut, e, buf) == -1)
    return -1;
  if (r == 0 && stream_blocks_waiting (&ss->blocks) > 0) {
    report_error ("%s: the stream ended with %zu target blocks in part "
                  "unwritten", ss->source.path,
                  stream_blocks_waiting (&ss->blocks));
    errno = EIO;
    return -1;
  }
  return r;
}

/* The lowest run of compressed clusters, as the piece in a slot of its
 * own.
 */
static int
hand_out_run (struct stream_source *ss, const struct source_cut *cut,
              struct source_piece *p)
{
  struct stream_event run;
  unsigned char *buf;
  int slot = free_slot (ss, cut, &buf);
  size_t n;

  if (slot == -1)
    return -1;
  /* Nobody else looks at the slot before it is handed out. */
  n = stream_runs_take (&ss->runs, buf, ss->slot_size,
                        slot_contents (ss, slot).parts, &run);
  return hand_out (ss, slot, &run, n, p);
}

static int
stream_source_next (struct source *s, const struct source_cut *cut,
                    struct source_piece *p)
{
  struct stream_source *ss = (struct stream_source *) s;
  struct stream_event e = { 0 };
  unsigned char *buf;
  bool hole;
  int slot, r;

  ss->blocks.block = cut->block;
  if (ss->runs.cap == 0)
    stream_runs_init (&ss->runs, s->path, MIN (RUN_MAX_BYTES, cut->data_max),
                      stream_max_payload (ss->stream));
  for (;;) {
    /* The clusters held are good, even when the stream failed after them. */
    if (stream_runs_ready (&ss->runs, ss->ended || ss->failure[0]))
      return hand_out_run (ss, cut, p);
    if (ss->failure[0]) {
      report_error ("%s", ss->failure);
      return -1;
    }
    slot = free_slot (ss, cut, &buf);
    if (slot == -1)
      return -1;
    if (stream_blocks_take (&ss->blocks, &e.offset, &e.length, &hole, buf,
                            s->size) == 1) {
      e.type = hole ? STREAM_HOLE : STREAM_DATA;
      e.payload_bytes = e.length;
      return hand_out (ss, slot, &e, 0, p);
    }
    r = next_event (ss, cut, buf, &e);
    if (r == 1 && e.length > 0 && e.type != STREAM_COMPRESSED)
      return hand_out (ss, slot, &e, 0, p);
    if (r == 1 && e.type == STREAM_COMPRESSED
        && stream_runs_add (&ss->runs, &e, buf) == -1)
      r = -1;
    release_slot (ss, slot);
    if (r == -1)
      snprintf (ss->failure, sizeof ss->failure, "%s", last_error ());
    if (r == 0 && ss->runs.n == 0)
      return 0;
  }
}

static int
stream_source_read (struct source *s, const struct source_piece *p,
                    void *buf, uint64_t *good)
{
  struct stream_source *ss = (struct stream_source *) s;
  struct slot sl = slot_contents (ss, p->slot);
  const unsigned char *payload = sl.buf;
  size_t i;
  int r = 0;

  *good = 0;
  if (sl.event.type != STREAM_COMPRESSED) {
    memcpy (buf, sl.buf, p->length);
    return 0;
  }
  messages_hold ();
  for (i = 0; i < sl.n_parts && r == 0; i++) {
    *good = sl.parts[i].offset - p->offset;
    r = stream_decompress (ss->stream, &sl.parts[i], payload,
                           (char *) buf + *good);
    payload += sl.parts[i].payload_bytes;
  }
  messages_release ();
  if (r == -1)
    source_report_failure (s, "read", p->offset + *good);
  return r;
}

/* A data range is written from its slot; a compressed one is read(). */
static const void *
stream_source_peek (struct source *s, const struct source_piece *p)
{
  struct stream_source *ss = (struct stream_source *) s;
  struct slot sl = slot_contents (ss, p->slot);

  return sl.event.type == STREAM_DATA ? sl.buf : NULL;
}

static void
stream_source_done (struct source *s, const struct source_piece *p)
{
  if (p->type == SOURCE_PIECE_DATA)
    release_slot ((struct stream_source *) s, p->slot);
}

static int
stream_source_finish (struct source *s)
{
  struct stream_source *ss = (struct stream_source *) s;

  return ss->checksum ? input_checksum_check (ss->checksum) : 0;
}

static void
stream_source_close (struct source *s)
{
  struct stream_source *ss = (struct stream_source *) s;
  unsigned i;

  stream_close (ss->stream);
  input_close (ss->input);
  for (i = 0; i < ss->n_slots; i++) {
    free (ss->slots[i].buf);
    free (ss->slots[i].parts);
  }
  free (ss->slots);
  stream_blocks_free (&ss->blocks);
  stream_runs_free (&ss->runs);
  free (ss->cluster);
  pthread_mutex_destroy (&ss->lock);
  free (ss);
}

static const struct source_ops stream_source_ops = {
  .next = stream_source_next,
  .read = stream_source_read,
  .peek = stream_source_peek,
  .done = stream_source_done,
  .finish = stream_source_finish,
  .close = stream_source_close,
};

struct source *
source_stream_open (const char *path, struct input *input,
                    const struct source_options *o)
{
  struct stream_source *ss = calloc (1, sizeof *ss);
  struct stream_options so = { .format = o->format,
                               .buffer_bytes = o->stream_buffer,
                               .disk = o->disk };
  struct stream_input si = { .read = read_input };

  if (ss == NULL) {
    report_error ("%s: %m", path);
    input_close (input);
    return NULL;
  }
  pthread_mutex_init (&ss->lock, NULL);
  ss->source.ops = &stream_source_ops;
  ss->source.path = path;
  ss->blocks = (struct stream_blocks) { .path = path,
                                        .limit = o->stream_buffer };
  if (o->checksum)
    ss->checksum = input;
  ss->input = input_unwrap (input);
  if (ss->input == NULL) {
    stream_source_close (&ss->source);
    return NULL;
  }
  si.opaque = ss->input;
  if (ss->input->can_pread)
    si.read_at = read_input_again;
  ss->stream = stream_open (path, &si, &so);
  if (ss->stream == NULL) {
    stream_source_close (&ss->source);
    return NULL;
  }
  ss->source.size = stream_size (ss->stream);
  ss->source.size_known = stream_format (ss->stream) != IMAGE_FORMAT_RAW;
  ss->source.format = image_format_name (stream_format (ss->stream));
  return &ss->source;
}
