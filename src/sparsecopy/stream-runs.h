/* Runs of a stream's compressed clusters, put back in guest order.
 *
 * The stream decoder hands out compressed clusters one at a time, in file
 * order.  Written one by one, that is a write of 64 KiB each, where the
 * local copy writes 4 MiB: on a loop device or a LUN, each write costs
 * about the same whatever its size up to a MiB, so 16 of them cost nearly
 * 16 times one.  Clusters wait here instead, sorted by guest offset, and
 * leave as runs: clusters that follow each other in the guest, their
 * payloads side by side, decompressed into one buffer and written at once.
 *
 * `qemu-img convert` writes a compressed image in guest order, but with
 * -W its coroutines race, and clusters land shuffled within some dozens
 * of places; a window of STREAM_RUNS_WINDOW_CLUSTERS puts most of them
 * back in runs.
 *
 * The lowest run leaves when it is full (no room for another cluster of
 * its size within run_max), when the window is full, or at the end.
 */
#ifndef SPARSECOPY_STREAM_RUNS_H
#define SPARSECOPY_STREAM_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

struct held_cluster;

struct stream_runs {
  const char *path;             /* for messages */
  uint64_t run_max;             /* guest bytes of a run, at most */
  size_t payload_max;           /* bytes of one cluster's payload */
  size_t n, cap;                /* clusters held, and the window */
  struct held_cluster *held;    /* sorted by guest offset; those past N
                                 * keep their buffers for later */
  size_t n_buffers;             /* held[0..n_buffers) have a buffer */
};

/* The window's clusters, at most: STREAM_RUNS_WINDOW_CLUSTERS, fewer for
 * large clusters (it holds at most STREAM_RUNS_WINDOW_BYTES of payload).
 */
#define STREAM_RUNS_WINDOW_CLUSTERS 64
#define STREAM_RUNS_WINDOW_BYTES (8 * 1024 * 1024)

/* Runs of at most RUN_MAX guest bytes (at least one cluster each), of
 * clusters whose payloads are at most PAYLOAD_MAX bytes.
 */
void stream_runs_init (struct stream_runs *r, const char *path,
                       uint64_t run_max, size_t payload_max);
void stream_runs_free (struct stream_runs *r);

/* The most clusters one run can have (for the caller's part lists). */
size_t stream_runs_max_parts (const struct stream_runs *r);

/* Hold compressed cluster E, its PAYLOAD copied.  The caller takes a run
 * first whenever stream_runs_ready(): the window is never over full.
 * Returns 0, or -1 (reported).
 */
int stream_runs_add (struct stream_runs *r, const struct stream_event *e,
                     const void *payload);

/* Whether a run is to leave now: the lowest is full or the window is;
 * with END (the stream ended or failed), whenever a cluster is held.
 */
bool stream_runs_ready (const struct stream_runs *r, bool end);

/* The lowest run leaves: its clusters into PARTS (stream_runs_max_parts()
 * of them at most), their payloads one after another in BUF (BUF_SIZE >=
 * payload_max: the run ends before its payloads would pass BUF_SIZE), and
 * in *RUN its guest range, a COMPRESSED event with the payloads' total.
 * Returns how many parts, 0 when nothing is held.
 */
size_t stream_runs_take (struct stream_runs *r, void *buf, size_t buf_size,
                         struct stream_event *parts,
                         struct stream_event *run);

#endif
