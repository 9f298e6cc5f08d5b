/* Holding back worker messages (see messages.h). */
#include <config.h>

#include <errno.h>
#include <stdio.h>

#include "error.h"
#include "messages.h"

static __thread unsigned hold_depth;

static void
print_message (const char *message)
{
  fprintf (stderr, "%s: %s\n", program_invocation_short_name, message);
}

static void
sink_unless_held (const char *message)
{
  if (hold_depth == 0)
    print_message (message);
}

void
messages_install (void)
{
  set_error_sink (sink_unless_held);
}

void
messages_hold (void)
{
  hold_depth++;
}

void
messages_release (void)
{
  hold_depth--;
}

void
messages_print_last (void)
{
  print_message (last_error ());
}
