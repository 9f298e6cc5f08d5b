/* The progress bar (see progress.h). */
#include <config.h>

#include <stdio.h>
#include <unistd.h>

#include "progress.h"

#define BAR_WIDTH 30

void
format_bytes (char *buf, size_t size, double bytes)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  unsigned u = 0;

  while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    bytes /= 1024;
    u++;
  }
  snprintf (buf, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

void
progress_start (struct progress *bar, bool wanted, uint64_t total,
                const char *what)
{
  bar->enabled = wanted && isatty (STDERR_FILENO);
  bar->total = total;
  bar->what = what;
  clock_gettime (CLOCK_MONOTONIC, &bar->start);
}

void
progress_draw (struct progress *bar, uint64_t done)
{
  struct timespec now;
  double seconds, rate, fraction;
  char done_text[32], total_text[32], rate_text[32], bar_text[BAR_WIDTH + 1];
  long eta;
  int i, filled;

  if (!bar->enabled)
    return;
  clock_gettime (CLOCK_MONOTONIC, &now);
  seconds = (now.tv_sec - bar->start.tv_sec)
    + (now.tv_nsec - bar->start.tv_nsec) / 1e9;
  fraction = bar->total ? (double) done / bar->total : 1;
  rate = seconds > 0 ? done / seconds : 0;
  eta = rate > 0 ? (long) ((bar->total - done) / rate) : -1;
  filled = (int) (fraction * BAR_WIDTH);
  for (i = 0; i < BAR_WIDTH; i++)
    bar_text[i] = i < filled ? '#' : '.';
  bar_text[BAR_WIDTH] = '\0';

  format_bytes (done_text, sizeof done_text, done);
  format_bytes (total_text, sizeof total_text, bar->total);
  format_bytes (rate_text, sizeof rate_text, rate);
  if (eta >= 0)
    fprintf (stderr, "\r%s [%s] %3.0f%% %s / %s  %s/s  ETA %ld:%02ld ",
             bar->what, bar_text, fraction * 100, done_text, total_text,
             rate_text, eta / 60, eta % 60);
  else
    fprintf (stderr, "\r%s [%s] %3.0f%% %s / %s ", bar->what, bar_text,
             fraction * 100, done_text, total_text);
}

void
progress_finish (struct progress *bar, uint64_t done)
{
  if (!bar->enabled)
    return;
  progress_draw (bar, done);
  fputc ('\n', stderr);
}
