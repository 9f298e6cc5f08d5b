/* A seekable source read through the engine (see source.h): pieces follow
 * the image's map of data and holes, and workers read them in parallel.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "messages.h"
#include "rounding.h"
#include "source.h"

/* How far one question to the engine may merge runs of one type. */
#define EXTENT_QUERY_MAX (UINT64_C (64) << 20)

struct image_source {
  struct source source;         /* first: the interface */
  struct image *image;
  uint64_t cursor;              /* the next offset to hand out */
  struct image_extent run;      /* the image's run around the cursor */
};

static int
image_source_extent (struct image_source *is, uint64_t offset,
                     struct image_extent *extent)
{
  uint64_t size = is->source.size;
  int r;

  messages_hold ();
  r = image_run (is->image, offset,
                 offset + MIN (EXTENT_QUERY_MAX, size - offset), extent);
  messages_release ();
  if (r == -1)
    source_report_failure (&is->source, "reading the allocation map", offset);
  return r;
}

/* The run at the cursor.  Runs are asked for in large steps and kept:
 * asking the engine is not free (it asks the file system where the host
 * file has holes), and should cost once per run, not once per request.
 */
static int
extent_at_cursor (struct image_source *is, const struct source_cut *cut,
                  struct image_extent *e)
{
  struct image_extent *run = &is->run;

  if (is->cursor < run->offset || is->cursor >= run->offset + run->length) {
    if (image_source_extent (is, is->cursor, run) == -1)
      return -1;
  }
  e->type = run->type;
  e->offset = is->cursor;
  e->length = run->offset + run->length - is->cursor;
  e->length = MIN (e->length, e->type == IMAGE_EXTENT_DATA ? cut->data_max
                                                           : cut->hole_max);
  return 0;
}

/* A hole smaller than a block is read as data. */
static int
image_source_next (struct source *s, const struct source_cut *cut,
                   struct source_piece *p)
{
  struct image_source *is = (struct image_source *) s;
  struct image_extent e;
  uint64_t end;

  if (is->cursor >= s->size)
    return 0;
  if (extent_at_cursor (is, cut, &e) == -1)
    return -1;
  end = e.offset + e.length;
  p->offset = is->cursor;
  p->type = SOURCE_PIECE_DATA;
  if (e.type == IMAGE_EXTENT_ZERO && round_down (end, cut->block) > is->cursor) {
    p->type = SOURCE_PIECE_HOLE;
    end = round_down (end, cut->block);
  }
  else
    end = MIN (s->size, round_up (end, cut->block));
  p->length = end - is->cursor;
  is->cursor = end;
  return 1;
}

/* A large read failed: find where, so that the message names the damaged
 * place rather than the start of the request.  The last failure's message
 * is the one kept.
 */
static uint64_t
first_failing_offset (struct image_source *is, char *buf, size_t count,
                      uint64_t offset)
{
  const size_t step = 64 * 1024;
  size_t done, n;
  int saved_errno = errno;

  for (done = 0; done < count; done += n) {
    n = MIN (step, count - done);
    if (image_pread (is->image, buf + done, n, offset + done) == -1)
      break;
  }
  errno = saved_errno;
  return done < count ? offset + done : offset;
}

static int
image_source_pread (struct source *s, void *buf, size_t count,
                    uint64_t offset, uint64_t *good)
{
  struct image_source *is = (struct image_source *) s;
  uint64_t failed_at = offset;
  int r;

  messages_hold ();
  r = image_pread (is->image, buf, count, offset);
  if (r == -1)
    failed_at = first_failing_offset (is, buf, count, offset);
  messages_release ();
  if (r == -1)
    source_report_failure (s, "read", failed_at);
  if (good)
    *good = failed_at - offset;
  return r;
}

static int
image_source_read (struct source *s, const struct source_piece *p,
                   void *buf, uint64_t *good)
{
  return image_source_pread (s, buf, p->length, p->offset, good);
}

static void
image_source_rewind (struct source *s)
{
  ((struct image_source *) s)->cursor = 0;
}

static int
image_source_data_bytes (struct source *s, uint64_t *bytes)
{
  return image_data_bytes (((struct image_source *) s)->image, bytes);
}

static void
image_source_close (struct source *s)
{
  struct image_source *is = (struct image_source *) s;

  image_close (is->image);
  free (is);
}

static const struct source_ops image_source_ops = {
  .next = image_source_next,
  .read = image_source_read,
  .rewind = image_source_rewind,
  .pread = image_source_pread,
  .data_bytes = image_source_data_bytes,
  .close = image_source_close,
};

struct source *
source_image_open (const char *path, const struct source_options *o)
{
  struct image_options io = { .format = o->format,
                              .allowed_dirs = o->allowed_dirs,
                              .disk = o->disk };
  struct image_source *is = calloc (1, sizeof *is);

  if (o->snapshot != NULL)
    image_snapshot_from_text (o->snapshot, &io);
  if (is == NULL) {
    report_error ("%s: %m", path);
    return NULL;
  }
  is->source.ops = &image_source_ops;
  is->source.path = path;
  is->image = image_open (path, &io);
  if (is->image == NULL) {
    free (is);
    return NULL;
  }
  is->source.size = image_size (is->image);
  is->source.size_known = true;
  is->source.in_order = true;
  is->source.format = image_format_name (image_describe (is->image)->format);
  return &is->source;
}
