/* byte-order.h: big- and little-endian loads from any alignment. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "byte-order.h"

static const unsigned char bytes[] = {
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
  0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8,
};

static void
test_values (void **state)
{
  assert_int_equal (load_be16 (bytes), 0x0102);
  assert_int_equal (load_be32 (bytes), 0x01020304);
  assert_int_equal (load_be64 (bytes), 0x0102030405060708ull);
  /* High bits set: no sign extension. */
  assert_int_equal (load_be16 (bytes + 9), 0xfffe);
  assert_int_equal (load_be32 (bytes + 9), 0xfffefdfcu);
  assert_int_equal (load_be64 (bytes + 9), 0xfffefdfcfbfaf9f8ull);
  assert_int_equal (load_le16 (bytes), 0x0201);
  assert_int_equal (load_le32 (bytes), 0x04030201);
  assert_int_equal (load_le64 (bytes), 0x0807060504030201ull);
  assert_int_equal (load_le32 (bytes + 9), 0xfcfdfeffu);
  assert_int_equal (load_le64 (bytes + 9), 0xf8f9fafbfcfdfeffull);
}

static void
test_qcow2_magic (void **state)
{
  assert_int_equal (load_be32 ("QFI\xfb"), 0x514649fbu);
}

/* Every start offset, so the loads work unaligned (checked by valgrind and
 * the sanitizers on an exact-size buffer).
 */
static void
test_unaligned (void **state)
{
  static const unsigned char pattern[8] = {
    0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
  };
  size_t start;

  for (start = 0; start < 8; start++) {
    unsigned char *buf = malloc (start + 8);

    assert_non_null (buf);
    memcpy (buf + start, pattern, 8);
    assert_int_equal (load_be16 (buf + start + 6), 0x7687);
    assert_int_equal (load_be32 (buf + start + 4), 0x54657687u);
    assert_int_equal (load_be64 (buf + start), 0x1021324354657687ull);
    assert_int_equal (load_le16 (buf + start + 6), 0x8776);
    assert_int_equal (load_le32 (buf + start + 4), 0x87766554u);
    assert_int_equal (load_le64 (buf + start), 0x8776655443322110ull);
    free (buf);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_values),
    cmocka_unit_test (test_qcow2_magic),
    cmocka_unit_test (test_unaligned),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
