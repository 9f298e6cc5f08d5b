/* rounding.h: powers of two, alignment, rounding, MIN/MAX. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rounding.h"

static void
test_is_power_of_2 (void **state)
{
  unsigned bit;

  for (bit = 0; bit < 64; bit++) {
    assert_true (is_power_of_2 (1ull << bit));
    if (bit >= 2)
      assert_false (is_power_of_2 ((1ull << bit) - 1));
    if (bit >= 1)
      assert_false (is_power_of_2 ((1ull << bit) + 1));
  }
  assert_false (is_power_of_2 (0));
  assert_false (is_power_of_2 (6));
  assert_false (is_power_of_2 (UINT64_MAX));
}

static void
test_is_aligned (void **state)
{
  assert_true (is_aligned (0, 512));
  assert_true (is_aligned (512, 512));
  assert_true (is_aligned (0x200000, 0x10000));
  assert_false (is_aligned (513, 512));
  assert_false (is_aligned (511, 512));
  assert_false (is_aligned (0x10200, 0x10000));
  assert_true (is_aligned (12345, 1));
  assert_true (is_aligned (1ull << 63, 1ull << 63));
  assert_false (is_aligned (UINT64_MAX, 2));
}

static void
test_round_down (void **state)
{
  assert_int_equal (round_down (0, 512), 0);
  assert_int_equal (round_down (511, 512), 0);
  assert_int_equal (round_down (512, 512), 512);
  assert_int_equal (round_down (1023, 512), 512);
  assert_int_equal (round_down (5000, 512), 4608);
  assert_int_equal (round_down (UINT64_MAX, 512), 0xfffffffffffffe00ull);
  assert_int_equal (round_down (UINT64_MAX, 1), UINT64_MAX);
}

static void
test_round_up (void **state)
{
  assert_int_equal (round_up (0, 512), 0);
  assert_int_equal (round_up (1, 512), 512);
  assert_int_equal (round_up (512, 512), 512);
  assert_int_equal (round_up (513, 512), 1024);
  assert_int_equal (round_up (5000, 512), 5120);
  assert_int_equal (round_up (5, 8), 8);
  /* The largest value that still rounds without overflow. */
  assert_int_equal (round_up (0xfffffffffffffe00ull, 512),
                    0xfffffffffffffe00ull);
  assert_int_equal (round_up (0xfffffffffffffc01ull, 512),
                    0xfffffffffffffe00ull);
}

static void
test_div_round_up (void **state)
{
  assert_int_equal (div_round_up (0, 7), 0);
  assert_int_equal (div_round_up (1, 7), 1);
  assert_int_equal (div_round_up (7, 7), 1);
  assert_int_equal (div_round_up (8, 7), 2);
  assert_int_equal (div_round_up (1048576, 32768), 32);
  assert_int_equal (div_round_up (1048577, 32768), 33);
  /* Does not overflow where (v + d - 1) / d would. */
  assert_int_equal (div_round_up (UINT64_MAX, 2), 1ull << 63);
  assert_int_equal (div_round_up (UINT64_MAX, UINT64_MAX), 1);
  assert_int_equal (div_round_up (UINT64_MAX, 1), UINT64_MAX);
}

static void
test_min_max (void **state)
{
  assert_int_equal (MIN (3, 5), 3);
  assert_int_equal (MIN (5, 3), 3);
  assert_int_equal (MAX (3, 5), 5);
  assert_int_equal (MAX (5, 3), 5);
  assert_int_equal (MIN (-1, 2), -1);
  assert_int_equal (MAX (-1, 2), 2);
  assert_int_equal (MIN (UINT64_MAX, 1ull << 63), 1ull << 63);
  assert_int_equal (MIN (7, 7), 7);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_is_power_of_2),
    cmocka_unit_test (test_is_aligned),
    cmocka_unit_test (test_round_down),
    cmocka_unit_test (test_round_up),
    cmocka_unit_test (test_div_round_up),
    cmocka_unit_test (test_min_max),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
