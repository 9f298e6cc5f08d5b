/* The progress bar (-p): bytes done, rate, ETA, redrawn in place on stderr
 * when stderr is a terminal; nothing otherwise.
 */
#ifndef SPARSECOPY_PROGRESS_H
#define SPARSECOPY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct progress {
  bool enabled;
  uint64_t total;
  const char *what;
  struct timespec start;
};

void progress_start (struct progress *bar, bool wanted, uint64_t total,
                     const char *what);
void progress_draw (struct progress *bar, uint64_t done);
/* Draw the final state and end the line. */
void progress_finish (struct progress *bar, uint64_t done);

/* "1.5 GiB" etc. into BUF. */
void format_bytes (char *buf, size_t size, double bytes);

#endif
