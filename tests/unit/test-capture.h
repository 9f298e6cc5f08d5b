/* For unit tests: catch error reports (src/common/error.h) instead of
 * printing them.  capture_start() installs the sink and forgets earlier
 * reports; REPORTS counts the reports since, MESSAGE holds the last one.
 */
#ifndef SPARSEFS_TEST_CAPTURE_H
#define SPARSEFS_TEST_CAPTURE_H

#include <stdio.h>

#include "error.h"

static char message[4096];
static int reports;

static inline void
capture (const char *m)
{
  snprintf (message, sizeof message, "%s", m);
  reports++;
}

static inline void
capture_start (void)
{
  message[0] = '\0';
  reports = 0;
  set_error_sink (capture);
}

static inline void
capture_stop (void)
{
  set_error_sink (NULL);
}

/* cmocka setup and teardown for tests that need nothing else. */
static inline int
capture_setup (void **state)
{
  capture_start ();
  return 0;
}

static inline int
capture_teardown (void **state)
{
  capture_stop ();
  return 0;
}

#endif
