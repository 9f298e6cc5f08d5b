/* iszero.h: exactly the SIZE bytes given are looked at, each one counts. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iszero.h"

/* Around the 16-byte head that is compared by hand, and a larger buffer. */
static const size_t sizes[] = {
  0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 4095, 4096, 4097,
  65536 + 3,
};

/* Each size in an exact-size heap buffer, so that valgrind and ASan catch
 * a read past the end.
 */
static void
test_all_zero (void **state)
{
  size_t i;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *buf = calloc (1, sizes[i] ? sizes[i] : 1);

    assert_non_null (buf);
    assert_true (is_zero (buf, sizes[i]));
    free (buf);
  }
}

static void
test_one_non_zero_byte (void **state)
{
  size_t i, pos;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t size = sizes[i];
    unsigned char *buf = calloc (1, size ? size : 1);

    assert_non_null (buf);
    for (pos = 0; pos < size; pos++) {
      /* Every position for small sizes; a sample for the large one. */
      if (size > 4097 && pos > 40 && pos < size - 40 && pos % 997 != 0)
        continue;
      buf[pos] = pos % 2 ? 0x80 : 0x01;
      assert_false (is_zero (buf, size));
      buf[pos] = 0;
    }
    assert_true (is_zero (buf, size));
    free (buf);
  }
}

/* Bytes outside [buf, buf + size) do not matter, whatever the alignment. */
static void
test_bounds_and_alignment (void **state)
{
  unsigned char area[128 + 2];
  size_t start, size;

  for (start = 1; start <= 8; start++)
    for (size = 0; size <= 100; size++) {
      memset (area, 0xff, sizeof area);
      memset (area + start, 0, size);
      assert_true (is_zero (area + start, size));
      if (size > 0) {
        area[start + size - 1] = 0x10;
        assert_false (is_zero (area + start, size));
      }
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_all_zero),
    cmocka_unit_test (test_one_non_zero_byte),
    cmocka_unit_test (test_bounds_and_alignment),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
