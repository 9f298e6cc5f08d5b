/* The daemon's logging (see log.h). */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "error.h"
#include "hash.h"
#include "log.h"

/* Remembered message hashes: a direct-mapped table, so a message evicted by
 * thousands of others may be logged a second time, and memory stays fixed.
 */
#define REMEMBERED 4096

static pthread_mutex_t remembered_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t remembered[REMEMBERED];
static bool use_syslog;

/* True the first time MESSAGE is seen (as far as the table remembers). */
static bool
first_time (const char *message)
{
  uint64_t h = hash_string (message);  /* never 0, which marks an empty slot */
  uint64_t *slot = &remembered[h % REMEMBERED];
  bool first;

  pthread_mutex_lock (&remembered_lock);
  first = *slot != h;
  *slot = h;
  pthread_mutex_unlock (&remembered_lock);
  return first;
}

static void
emit (int priority, const char *message)
{
  if (use_syslog)
    syslog (priority, "%s", message);
  else
    fprintf (stderr, "%s: %s\n", program_invocation_short_name, message);
}

static void
log_error_once (const char *message)
{
  if (first_time (message))
    emit (LOG_ERR, message);
}

void
log_init (void)
{
  set_error_sink (log_error_once);
}

void
log_to_syslog (void)
{
  openlog (program_invocation_short_name, LOG_PID, LOG_DAEMON);
  use_syslog = true;
}

void
log_info (const char *fmt, ...)
{
  char message[1024];
  va_list args;
  int saved_errno = errno;

  va_start (args, fmt);
  vsnprintf (message, sizeof message, fmt, args);
  va_end (args);
  emit (LOG_INFO, message);
  errno = saved_errno;
}
