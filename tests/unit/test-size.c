/* size.h: the one rule for sizes on both programs' command lines. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "size.h"

static void
assert_size (const char *text, uint64_t want)
{
  uint64_t got = 12345;

  errno = 0;
  if (parse_size (text, &got) != 0)
    fail_msg ("parse_size (\"%s\") refused it (errno %d)", text, errno);
  assert_int_equal (got, want);
}

static void
assert_refused (const char *text, int want_errno)
{
  uint64_t got = 12345;

  errno = 0;
  if (parse_size (text, &got) != -1)
    fail_msg ("parse_size (\"%s\") accepted it as %llu", text,
              (unsigned long long) got);
  assert_int_equal (errno, want_errno);
  assert_int_equal (got, 12345);      /* untouched on error */
}

static void
test_plain_bytes (void **state)
{
  assert_size ("0", 0);
  assert_size ("4096", 4096);
  assert_size ("007", 7);
  assert_size ("18446744073709551615", UINT64_MAX);
}

static void
test_every_suffix_in_both_cases (void **state)
{
  static const char suffixes[] = "KMGTP";
  char text[16];
  unsigned i;

  for (i = 0; suffixes[i]; i++) {
    uint64_t unit = 1ull << (10 * (i + 1));

    snprintf (text, sizeof text, "3%c", suffixes[i]);
    assert_size (text, 3 * unit);
    snprintf (text, sizeof text, "3%c", suffixes[i] - 'A' + 'a');
    assert_size (text, 3 * unit);
    snprintf (text, sizeof text, "3%ciB", suffixes[i]);
    assert_size (text, 3 * unit);
    snprintf (text, sizeof text, "3%cIB", suffixes[i] - 'A' + 'a');
    assert_size (text, 3 * unit);
  }
  assert_size ("4k", 4096);
  assert_size ("64M", 64 << 20);
  assert_size ("0G", 0);
}

static void
test_largest (void **state)
{
  assert_size ("16383P", 16383ull << 50);
  assert_size ("16777215T", 16777215ull << 40);
  assert_refused ("16384P", ERANGE);
  assert_refused ("16777216T", ERANGE);
  assert_refused ("18446744073709551616", ERANGE);
  assert_refused ("99999999999999999999999k", ERANGE);
}

static void
test_not_sizes (void **state)
{
  assert_refused ("", EINVAL);
  assert_refused ("k", EINVAL);
  assert_refused ("-1", EINVAL);
  assert_refused ("-0", EINVAL);
  assert_refused ("+4", EINVAL);
  assert_refused (" 4", EINVAL);
  assert_refused ("4 ", EINVAL);
  assert_refused ("4x", EINVAL);
  assert_refused ("4B", EINVAL);
  assert_refused ("4kB", EINVAL);
  assert_refused ("4ki", EINVAL);
  assert_refused ("4kiBs", EINVAL);
  assert_refused ("4kk", EINVAL);
  assert_refused ("4E", EINVAL);
  assert_refused ("0x10", EINVAL);
  assert_refused ("1.5M", EINVAL);
  assert_refused ("lots", EINVAL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plain_bytes),
    cmocka_unit_test (test_every_suffix_in_both_cases),
    cmocka_unit_test (test_largest),
    cmocka_unit_test (test_not_sizes),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
