/* Progress, for people and for programs:
 *  - the bar (-p): bytes done, rate, ETA, redrawn in place on stderr when
 *    stderr is a terminal; nothing otherwise;
 *  - JSON lines (--progress=json, --progress-fd=N): one object per line,
 *    at most two a second, and one at the end of every phase (probe,
 *    zero, copy, verify), on stderr or on file descriptor N; the fields
 *    are in sparsecopy(1);
 *  - SIGUSR1: one JSON line on stderr at the next update, whatever the
 *    mode (the handler only sets a flag, so it is async-signal-safe and
 *    may come at any time, during the probe too).
 * Updates come from one thread (the main one).
 */
#ifndef SPARSECOPY_PROGRESS_H
#define SPARSECOPY_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum progress_mode { PROGRESS_NONE, PROGRESS_BAR, PROGRESS_JSON };

enum progress_phase { PHASE_PROBE, PHASE_ZERO, PHASE_COPY, PHASE_VERIFY };

struct progress {
  enum progress_mode mode;
  int fd;                       /* JSON lines go there */
  enum progress_phase phase;
  uint64_t total;
  bool total_known;
  struct timespec started;      /* the run: for "elapsed" */
  struct timespec phase_started;        /* for the rate */
  struct timespec last_line;    /* the last periodic JSON line */
};

/* Install the SIGUSR1 handler: call first thing. */
void progress_catch_signal (void);

/* Start the run's progress: MODE, JSON lines on FD. */
void progress_init (struct progress *p, enum progress_mode mode, int fd);

/* A phase starts, of TOTAL bytes (TOTAL_KNOWN false: a stream's size is
 * known at its end).
 */
void progress_phase (struct progress *p, enum progress_phase phase,
                     uint64_t total, bool total_known);

/* DONE bytes of the phase are done: draw the bar, or write a JSON line if
 * the last one is old enough, and answer a SIGUSR1.
 */
void progress_update (struct progress *p, uint64_t done);

/* The phase ended with DONE of TOTAL bytes: the last bar, or a JSON line. */
void progress_end_phase (struct progress *p, uint64_t done, uint64_t total);

/* "1.5 GiB" etc. into BUF. */
void format_bytes (char *buf, size_t size, double bytes);

#endif
