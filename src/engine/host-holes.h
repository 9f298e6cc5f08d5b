/* Where a qcow2 layer's host file has holes, asked of the file system once
 * per run of host bytes rather than once per extent query.
 *
 * A data cluster whose host bytes are a hole in the host file (allocated
 * but never written: preallocation=metadata, or freed by a discard) reads
 * as zeros with nothing behind it, so the map must ask SEEK_DATA and
 * SEEK_HOLE about it.  Asking is not free: on tmpfs each call walks the
 * page cache from the offset to the next change, so one call per cluster
 * of a dense file costs the whole file each time.  Instead:
 *
 *   - the first question is SEEK_HOLE from 0: a host file without a hole
 *     below its end (the common case) needs no further question;
 *   - otherwise each answer is kept whole, to the next change of type
 *     (not cut to the query), in a small ring of recent runs, so that a
 *     walk in host order asks once per run of the host file.
 *
 * The answers are the file's as it was when asked, like the L2 tables the
 * cache keeps: an image rewritten in place is a new version to reopen
 * (sparsefs does), and a new open asks again.  Memory: a fixed ring.
 * Thread-safe.
 */
#ifndef SPARSEFS_HOST_HOLES_H
#define SPARSEFS_HOST_HOLES_H

#include <pthread.h>
#include <stdint.h>

#include "image-internal.h"

/* Runs remembered per host file. */
#define HOST_HOLES_RUNS 32

struct host_run {
  uint64_t start, end;
  enum image_extent_type type;
};

struct host_holes {
  const struct image *img;      /* names the file in messages */
  int fd;
  uint64_t size;                /* answers are about bytes below it */
  pthread_mutex_t lock;         /* guards what follows */
  enum { HOST_HOLES_UNKNOWN, HOST_HOLES_NONE, HOST_HOLES_SOME } state;
  struct host_run runs[HOST_HOLES_RUNS];
  unsigned used, next;          /* filled slots; the one to replace next */
};

/* Answer about FD (SIZE bytes; IMG's own file or its data file). */
void host_holes_init (struct host_holes *h, const struct image *img, int fd,
                      uint64_t size);
void host_holes_destroy (struct host_holes *h);

/* As file_extent(): the run of host bytes from OFFSET (at most LENGTH;
 * OFFSET + LENGTH <= the size) that the host file holds as data or as a
 * hole.  Returns 0, or -1 after reporting.
 */
int host_holes_extent (struct host_holes *h, uint64_t offset, uint64_t length,
                       struct image_extent *extent);

#endif
