/* Holes of a host file, asked once per run (see host-holes.h). */
#include <config.h>

#include "host-holes.h"
#include "rounding.h"

void
host_holes_init (struct host_holes *h, const struct image *img, int fd,
                 uint64_t size)
{
  h->img = img;
  h->fd = fd;
  h->size = size;
  pthread_mutex_init (&h->lock, NULL);
  h->state = HOST_HOLES_UNKNOWN;
  h->used = h->next = 0;
}

void
host_holes_destroy (struct host_holes *h)
{
  pthread_mutex_destroy (&h->lock);
}

static void
remember (struct host_holes *h, const struct image_extent *e)
{
  struct host_run *r = &h->runs[h->next];

  r->start = e->offset;
  r->end = e->offset + e->length;
  r->type = e->type;
  h->next = (h->next + 1) % HOST_HOLES_RUNS;
  if (h->used < HOST_HOLES_RUNS)
    h->used++;
}

static const struct host_run *
recall (const struct host_holes *h, uint64_t offset)
{
  unsigned i;

  for (i = 0; i < h->used; i++)
    if (h->runs[i].start <= offset && offset < h->runs[i].end)
      return &h->runs[i];
  return NULL;
}

/* The first question: the run from 0.  All data to the end means the file
 * has no hole at all, and every later answer is "data".
 */
static int
ask_once (struct host_holes *h)
{
  struct image_extent e;

  if (file_extent (h->img, h->fd, 0, h->size, &e) == -1)
    return -1;
  if (e.type == IMAGE_EXTENT_DATA && e.length == h->size)
    h->state = HOST_HOLES_NONE;
  else {
    h->state = HOST_HOLES_SOME;
    remember (h, &e);
  }
  return 0;
}

/* The run at OFFSET, from memory or asked of the file system to its end. */
static int
run_at (struct host_holes *h, uint64_t offset, struct host_run *run)
{
  const struct host_run *known;
  struct image_extent e;

  if (h->state == HOST_HOLES_UNKNOWN && ask_once (h) == -1)
    return -1;
  if (h->state != HOST_HOLES_SOME) {
    *run = (struct host_run) { offset, h->size, IMAGE_EXTENT_DATA };
    return 0;
  }
  known = recall (h, offset);
  if (known == NULL) {
    if (file_extent (h->img, h->fd, offset, h->size - offset, &e) == -1)
      return -1;
    remember (h, &e);
    known = recall (h, offset);
  }
  *run = *known;
  return 0;
}

int
host_holes_extent (struct host_holes *h, uint64_t offset, uint64_t length,
                   struct image_extent *extent)
{
  struct host_run run;
  int r;

  pthread_mutex_lock (&h->lock);
  r = run_at (h, offset, &run);
  pthread_mutex_unlock (&h->lock);
  if (r == -1)
    return -1;
  extent->offset = offset;
  extent->length = MIN (run.end, offset + length) - offset;
  extent->type = run.type;
  return 0;
}
