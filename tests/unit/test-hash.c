/* hash.h: FNV-1a over a string, never 0. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hash.h"

/* Published FNV-1a 64-bit values (the reference test vectors), with the
 * low bit set as hash_string sets it.
 */
static void
test_known_values (void **state)
{
  assert_int_equal (hash_string (""), 0xcbf29ce484222325ull);
  assert_int_equal (hash_string ("a"), 0xaf63dc4c8601ec8cull | 1);
  assert_int_equal (hash_string ("foobar"), 0x85944171f73967e8ull | 1);
}

static void
test_never_zero (void **state)
{
  char text[2] = { 0, 0 };
  unsigned c;

  for (c = 1; c < 256; c++) {
    text[0] = (char) c;
    assert_int_not_equal (hash_string (text), 0);
  }
}

static void
test_bytes_are_unsigned (void **state)
{
  /* A byte above 127 hashes as its unsigned value, whatever char is. */
  assert_int_equal (hash_string ("\xff"),
                    ((0xcbf29ce484222325ull ^ 0xff) * 0x100000001b3ull) | 1);
}

static void
test_differs (void **state)
{
  assert_int_not_equal (hash_string ("/images/a.raw"), hash_string ("/images/b.raw"));
  assert_int_not_equal (hash_string ("ab"), hash_string ("ba"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_known_values),
    cmocka_unit_test (test_never_zero),
    cmocka_unit_test (test_bytes_are_unsigned),
    cmocka_unit_test (test_differs),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
