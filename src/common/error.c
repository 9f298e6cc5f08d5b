#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

#define MESSAGE_MAX 1024

static __thread char last_message[MESSAGE_MAX];

static void
print_to_stderr (const char *message)
{
  fprintf (stderr, "%s: %s\n", program_invocation_short_name, message);
}

static error_sink current_sink = print_to_stderr;

void
report_error (const char *fmt, ...)
{
  int saved_errno = errno;
  va_list args;

  va_start (args, fmt);
  vsnprintf (last_message, sizeof last_message, fmt, args);
  va_end (args);
  current_sink (last_message);
  errno = saved_errno;
}

const char *
last_error (void)
{
  return last_message;
}

void
set_error_sink (error_sink sink)
{
  current_sink = sink ? sink : print_to_stderr;
}
