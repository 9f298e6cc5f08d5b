/* Progress (see progress.h). */
#include <config.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define BAR_WIDTH 30
/* Periodic JSON lines at most this often: "a few a second". */
#define JSON_INTERVAL 0.5

static volatile sig_atomic_t line_requested;

static void
on_sigusr1 (int signum)
{
  (void) signum;
  line_requested = 1;
}

void
progress_catch_signal (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_sigusr1;
  sa.sa_flags = SA_RESTART;
  sigaction (SIGUSR1, &sa, NULL);
}

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

static double
seconds_between (const struct timespec *from, const struct timespec *to)
{
  return (to->tv_sec - from->tv_sec) + (to->tv_nsec - from->tv_nsec) / 1e9;
}

static const char *
phase_name (enum progress_phase phase)
{
  static const char *const names[] = { "probe", "zero", "copy", "verify" };

  return names[phase];
}

void
progress_init (struct progress *p, enum progress_mode mode, int fd)
{
  memset (p, 0, sizeof *p);
  p->mode = mode == PROGRESS_BAR && !isatty (STDERR_FILENO)
    ? PROGRESS_NONE : mode;
  p->fd = fd;
  clock_gettime (CLOCK_MONOTONIC, &p->started);
  p->phase_started = p->last_line = p->started;
}

/* One JSON object and a newline on FD, in one write. */
static void
write_json_line (const struct progress *p, int fd, uint64_t done,
                 const struct timespec *now)
{
  double elapsed = seconds_between (&p->started, now);
  double in_phase = seconds_between (&p->phase_started, now);
  double rate = in_phase > 0 ? done / in_phase : 0;
  char line[512], total[32] = "null", eta[32] = "null";

  if (p->total_known) {
    snprintf (total, sizeof total, "%" PRIu64, p->total);
    if (rate > 0 && done <= p->total)
      snprintf (eta, sizeof eta, "%.1f", (p->total - done) / rate);
  }
  snprintf (line, sizeof line,
            "{\"phase\": \"%s\", \"bytes_done\": %" PRIu64
            ", \"bytes_total\": %s, \"bytes_per_second\": %.0f"
            ", \"elapsed\": %.3f, \"eta\": %s}\n",
            phase_name (p->phase), done, total, rate, elapsed, eta);
  if (write (fd, line, strlen (line)) < 0) {
    /* Progress is advice: a closed reader does not stop the copy. */
  }
}

static void
draw_bar (const struct progress *p, uint64_t done,
          const struct timespec *now)
{
  static const char *const what[] = { "probing", "zeroing", "copying",
                                      "verifying" };
  double seconds = seconds_between (&p->phase_started, now);
  double fraction = p->total ? (double) done / p->total : 1;
  double rate = seconds > 0 ? done / seconds : 0;
  long eta = rate > 0 && done <= p->total
    ? (long) ((p->total - done) / rate) : -1;
  char done_text[32], total_text[32], rate_text[32], bar_text[BAR_WIDTH + 1];
  int i, filled = (int) (fraction * BAR_WIDTH);

  for (i = 0; i < BAR_WIDTH; i++)
    bar_text[i] = i < filled ? '#' : '.';
  bar_text[BAR_WIDTH] = '\0';
  format_bytes (done_text, sizeof done_text, done);
  format_bytes (total_text, sizeof total_text, p->total);
  format_bytes (rate_text, sizeof rate_text, rate);
  if (eta >= 0)
    fprintf (stderr, "\r%s [%s] %3.0f%% %s / %s  %s/s  ETA %ld:%02ld ",
             what[p->phase], bar_text, fraction * 100, done_text, total_text,
             rate_text, eta / 60, eta % 60);
  else
    fprintf (stderr, "\r%s [%s] %3.0f%% %s / %s ", what[p->phase], bar_text,
             fraction * 100, done_text, total_text);
}

/* A SIGUSR1 came: one line on stderr (the bar's line is ended first). */
static void
answer_signal (const struct progress *p, uint64_t done,
               const struct timespec *now)
{
  if (!line_requested)
    return;
  line_requested = 0;
  if (p->mode == PROGRESS_BAR)
    fputc ('\n', stderr);
  fflush (stderr);
  write_json_line (p, STDERR_FILENO, done, now);
}

void
progress_phase (struct progress *p, enum progress_phase phase,
                uint64_t total, bool total_known)
{
  p->phase = phase;
  p->total = total;
  p->total_known = total_known;
  clock_gettime (CLOCK_MONOTONIC, &p->phase_started);
  answer_signal (p, 0, &p->phase_started);
}

void
progress_update (struct progress *p, uint64_t done)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  answer_signal (p, done, &now);
  if (p->mode == PROGRESS_BAR && p->total_known)
    draw_bar (p, done, &now);
  else if (p->mode == PROGRESS_JSON
           && seconds_between (&p->last_line, &now) >= JSON_INTERVAL) {
    write_json_line (p, p->fd, done, &now);
    p->last_line = now;
  }
}

void
progress_end_phase (struct progress *p, uint64_t done, uint64_t total)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  p->total = total;
  p->total_known = true;
  answer_signal (p, done, &now);
  if (p->mode == PROGRESS_BAR && p->phase != PHASE_PROBE) {
    draw_bar (p, done, &now);
    fputc ('\n', stderr);
  }
  else if (p->mode == PROGRESS_JSON) {
    write_json_line (p, p->fd, done, &now);
    p->last_line = now;
  }
}
