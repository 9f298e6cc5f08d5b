/* checked-arith.h: overflow is reported, never wrapped. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "checked-arith.h"

static void
test_add (void **state)
{
  uint64_t r;

  assert_false (checked_add (1, 2, &r));
  assert_int_equal (r, 3);
  assert_false (checked_add (UINT64_MAX, 0, &r));
  assert_int_equal (r, UINT64_MAX);
  assert_false (checked_add (1ull << 63, (1ull << 63) - 1, &r));
  assert_int_equal (r, UINT64_MAX);
  assert_true (checked_add (UINT64_MAX, 1, &r));
  assert_true (checked_add (1ull << 63, 1ull << 63, &r));
  assert_true (checked_add (UINT64_MAX, UINT64_MAX, &r));
}

static void
test_mul (void **state)
{
  uint64_t r;

  assert_false (checked_mul (0, UINT64_MAX, &r));
  assert_int_equal (r, 0);
  assert_false (checked_mul (UINT64_MAX, 1, &r));
  assert_int_equal (r, UINT64_MAX);
  /* 2^32 * (2^32 - 1) = 2^64 - 2^32 still fits. */
  assert_false (checked_mul (1ull << 32, (1ull << 32) - 1, &r));
  assert_int_equal (r, 0xffffffff00000000ull);
  /* 3 * 0x5555555555555555 = 0xffffffffffffffff exactly. */
  assert_false (checked_mul (3, 0x5555555555555555ull, &r));
  assert_int_equal (r, UINT64_MAX);
  assert_true (checked_mul (3, 0x5555555555555556ull, &r));
  assert_true (checked_mul (1ull << 32, 1ull << 32, &r));
  assert_true (checked_mul (UINT64_MAX, 2, &r));
}

static void
test_range_fits (void **state)
{
  assert_true (range_fits (0, 0, 0));
  assert_false (range_fits (0, 1, 0));
  assert_true (range_fits (10, 5, 15));
  assert_false (range_fits (10, 6, 15));
  assert_true (range_fits (15, 0, 15));       /* empty range at the limit */
  assert_false (range_fits (16, 0, 15));      /* empty range past it */
  assert_true (range_fits (UINT64_MAX - 1, 1, UINT64_MAX));
  assert_false (range_fits (UINT64_MAX, 1, UINT64_MAX));
  /* Wrapped sums would be small and pass an unchecked test. */
  assert_false (range_fits (1, UINT64_MAX, UINT64_MAX));
  assert_false (range_fits (0x1000, UINT64_MAX - 0x800, 1ull << 40));
  assert_false (range_fits (UINT64_MAX, UINT64_MAX, UINT64_MAX));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_add),
    cmocka_unit_test (test_mul),
    cmocka_unit_test (test_range_fits),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
