/* error.c: one message per report, kept per thread, errno untouched,
 * delivered to the installed sink or to stderr with the program's name.
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static char sunk[2048];
static int sink_calls;

/* A sink that clobbers errno, as a logging sink may. */
static void
capture (const char *message)
{
  snprintf (sunk, sizeof sunk, "%s", message);
  sink_calls++;
  errno = EBADF;
}

static int
setup_capture (void **state)
{
  sunk[0] = '\0';
  sink_calls = 0;
  set_error_sink (capture);
  return 0;
}

static int
restore_sink (void **state)
{
  set_error_sink (NULL);
  return 0;
}

static void
test_format_and_sink (void **state)
{
  report_error ("%s: L2 entry %d: offset 0x%x", "disk.qcow2", 7, 0x10200);
  assert_int_equal (sink_calls, 1);
  assert_string_equal (sunk, "disk.qcow2: L2 entry 7: offset 0x10200");
  assert_string_equal (last_error (), "disk.qcow2: L2 entry 7: offset 0x10200");
}

static void
test_errno_kept (void **state)
{
  errno = ENOSPC;
  report_error ("x");
  assert_int_equal (errno, ENOSPC);
  errno = 0;
  report_error ("y");
  assert_int_equal (errno, 0);
}

/* %m is the errno the caller had, not one changed on the way. */
static void
test_percent_m (void **state)
{
  errno = ENOENT;
  report_error ("open %s: %m", "base.qcow2");
  assert_string_equal (last_error (), "open base.qcow2: No such file or directory");
  assert_int_equal (errno, ENOENT);
}

static void
test_last_error_replaced (void **state)
{
  report_error ("first");
  report_error ("second");
  assert_int_equal (sink_calls, 2);
  assert_string_equal (last_error (), "second");
}

/* A message longer than the buffer is cut, still terminated. */
static void
test_long_message (void **state)
{
  size_t len = 5000, kept;
  char *big = malloc (len + 1);

  assert_non_null (big);
  memset (big, 'a', len);
  big[len] = '\0';
  big[0] = 'S';
  report_error ("%s", big);
  kept = strlen (last_error ());
  assert_true (kept > 0 && kept < len);
  assert_memory_equal (last_error (), big, kept);
  assert_string_equal (sunk, last_error ());
  free (big);
}

static void *
report_in_thread (void *arg)
{
  char *seen = arg;

  /* A new thread starts with no message. */
  strcpy (seen, last_error ());
  strcat (seen, "|");
  report_error ("from the thread");
  strcat (seen, last_error ());
  return NULL;
}

static void
test_per_thread (void **state)
{
  pthread_t thread;
  char seen[256] = "";

  report_error ("from main");
  assert_int_equal (pthread_create (&thread, NULL, report_in_thread, seen), 0);
  assert_int_equal (pthread_join (thread, NULL), 0);
  assert_string_equal (seen, "|from the thread");
  assert_string_equal (last_error (), "from main");
}

/* The default sink writes "PROGRAM: message\n" to stderr. */
static void
test_default_sink (void **state)
{
  char path[] = "/tmp/test-error.XXXXXX";
  char expected[256], got[256] = "";
  int fd = mkstemp (path), saved;
  ssize_t n;

  assert_true (fd >= 0);
  unlink (path);
  set_error_sink (capture);
  set_error_sink (NULL);              /* back to the default */
  fflush (stderr);
  saved = dup (2);
  assert_true (saved >= 0);
  assert_int_equal (dup2 (fd, 2), 2);
  errno = EIO;
  report_error ("%s: something %d", "img", 42);
  assert_int_equal (errno, EIO);
  fflush (stderr);
  assert_int_equal (dup2 (saved, 2), 2);
  close (saved);
  n = pread (fd, got, sizeof got - 1, 0);
  close (fd);
  assert_true (n > 0);
  got[n] = '\0';
  snprintf (expected, sizeof expected, "%s: img: something 42\n",
            program_invocation_short_name);
  assert_string_equal (got, expected);
  assert_string_equal (program_invocation_short_name, "test-error");
  assert_int_equal (sink_calls, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_format_and_sink, setup_capture, restore_sink),
    cmocka_unit_test_setup_teardown (test_errno_kept, setup_capture, restore_sink),
    cmocka_unit_test_setup_teardown (test_percent_m, setup_capture, restore_sink),
    cmocka_unit_test_setup_teardown (test_last_error_replaced, setup_capture, restore_sink),
    cmocka_unit_test_setup_teardown (test_long_message, setup_capture, restore_sink),
    cmocka_unit_test_setup_teardown (test_per_thread, setup_capture, restore_sink),
    cmocka_unit_test_setup_teardown (test_default_sink, setup_capture, restore_sink),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
