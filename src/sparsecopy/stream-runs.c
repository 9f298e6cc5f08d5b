/* Runs of a stream's compressed clusters (see stream-runs.h). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rounding.h"
#include "stream-runs.h"

struct held_cluster {
  struct stream_event event;
  unsigned char *payload;       /* payload_max bytes, or NULL */
};

void
stream_runs_init (struct stream_runs *r, const char *path, uint64_t run_max,
                  size_t payload_max)
{
  *r = (struct stream_runs) {
    .path = path, .run_max = run_max, .payload_max = payload_max,
    .cap = MAX (1, MIN (STREAM_RUNS_WINDOW_CLUSTERS,
                        STREAM_RUNS_WINDOW_BYTES / MAX (payload_max, 1))),
  };
}

void
stream_runs_free (struct stream_runs *r)
{
  size_t i;

  for (i = 0; i < r->n_buffers; i++)
    free (r->held[i].payload);
  free (r->held);
  r->held = NULL;
  r->n = r->n_buffers = 0;
}

size_t
stream_runs_max_parts (const struct stream_runs *r)
{
  return r->cap;
}

/* A spare entry with a buffer at index N.  Returns 0 or -1 (reported). */
static int
spare_entry (struct stream_runs *r)
{
  if (r->held == NULL
      && (r->held = calloc (r->cap, sizeof *r->held)) == NULL)
    goto nomem;
  if (r->n == r->n_buffers) {
    r->held[r->n].payload = malloc (r->payload_max);
    if (r->held[r->n].payload == NULL)
      goto nomem;
    r->n_buffers++;
  }
  return 0;

 nomem:
  report_error ("%s: %m", r->path);
  return -1;
}

int
stream_runs_add (struct stream_runs *r, const struct stream_event *e,
                 const void *payload)
{
  struct held_cluster spare;
  size_t at = r->n;

  if (r->n == r->cap || e->payload_bytes > r->payload_max) {
    report_error ("%s: internal error: a cluster of %zu payload bytes into "
                  "a window of %zu clusters, %zu held", r->path,
                  e->payload_bytes, r->cap, r->n);
    return -1;
  }
  if (spare_entry (r) == -1)
    return -1;
  while (at > 0 && r->held[at - 1].event.offset > e->offset)
    at--;
  spare = r->held[r->n];
  memmove (&r->held[at + 1], &r->held[at], (r->n - at) * sizeof *r->held);
  spare.event = *e;
  memcpy (spare.payload, payload, e->payload_bytes);
  r->held[at] = spare;
  r->n++;
  return 0;
}

/* How many clusters the lowest run takes, with its payloads within
 * BUF_SIZE; *FULL when another cluster of its size would not fit in
 * run_max.
 */
static size_t
lowest_run (const struct stream_runs *r, size_t buf_size, bool *full)
{
  const struct stream_event *first = &r->held[0].event, *e;
  uint64_t length = first->length, payload = first->payload_bytes;
  size_t k;

  for (k = 1; k < r->n; k++) {
    e = &r->held[k].event;
    if (e->offset != first->offset + length
        || length + e->length > r->run_max
        || payload + e->payload_bytes > buf_size)
      break;
    length += e->length;
    payload += e->payload_bytes;
  }
  *full = length + first->length > r->run_max;
  return k;
}

bool
stream_runs_ready (const struct stream_runs *r, bool end)
{
  bool full;

  if (r->n == 0)
    return false;
  if (end || r->n == r->cap)
    return true;
  lowest_run (r, SIZE_MAX, &full);
  return full;
}

static void
reverse (struct held_cluster *h, size_t n)
{
  struct held_cluster t;
  size_t i;

  for (i = 0; i < n / 2; i++) {
    t = h[i];
    h[i] = h[n - 1 - i];
    h[n - 1 - i] = t;
  }
}

size_t
stream_runs_take (struct stream_runs *r, void *buf, size_t buf_size,
                  struct stream_event *parts, struct stream_event *run)
{
  unsigned char *to = buf;
  bool full;
  size_t k, i;

  if (r->n == 0)
    return 0;
  k = lowest_run (r, buf_size, &full);
  *run = r->held[0].event;
  run->length = run->payload_bytes = 0;
  for (i = 0; i < k; i++) {
    parts[i] = r->held[i].event;
    memcpy (to, r->held[i].payload, parts[i].payload_bytes);
    to += parts[i].payload_bytes;
    run->length += parts[i].length;
    run->payload_bytes += parts[i].payload_bytes;
  }
  /* The K entries taken go after the others, their buffers spare. */
  reverse (r->held, k);
  reverse (r->held + k, r->n - k);
  reverse (r->held, r->n);
  r->n -= k;
  return k;
}
