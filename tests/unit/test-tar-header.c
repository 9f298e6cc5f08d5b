/* tar-header.h: ustar, GNU and pax headers, and every refusal naming the
 * archive, the member and the field.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tar-header.h"
#include "test-capture.h"

#define B TAR_BLOCK_SIZE

/* An archive under construction: blocks end to end. */
static unsigned char archive[64 * B];
static size_t used;

static unsigned char *
next_block (void)
{
  unsigned char *b = archive + used;

  assert_true (used + B <= sizeof archive);
  memset (b, 0, B);
  used += B;
  return b;
}

static void
set_checksum (unsigned char *h)
{
  unsigned sum = 0;
  size_t i;

  memset (h + 148, ' ', 8);
  for (i = 0; i < B; i++)
    sum += h[i];
  snprintf ((char *) h + 148, 8, "%06o", sum);
}

/* A header block; MAGIC is "ustar\0" "00" or GNU's "ustar  ". */
static unsigned char *
header (const char *magic, const char *name, uint64_t size, char type)
{
  unsigned char *h = next_block ();
  char size_field[24];          /* room for any uint64_t in octal */

  strncpy ((char *) h, name, 100);
  snprintf ((char *) h + 100, 8, "%07o", 0644);
  snprintf (size_field, sizeof size_field, "%011llo",
            (unsigned long long) size);
  memcpy (h + 124, size_field, 12);
  h[156] = (unsigned char) type;
  memcpy (h + 257, magic, 8);
  set_checksum (h);
  return h;
}

#define USTAR "ustar\0" "00"
#define GNU "ustar  "

/* SIZE bytes of DATA, padded to blocks. */
static void
data (const void *bytes, size_t size)
{
  while (size > 0) {
    size_t n = size < B ? size : B;

    memcpy (next_block (), bytes, n);
    bytes = (const char *) bytes + n;
    size -= n;
  }
}

static void
end_of_archive (void)
{
  next_block ();
  next_block ();
}

static int
setup (void **state)
{
  used = 0;
  capture_start ();
  return 0;
}

/* Feed the archive to a reader until a member, the end or an error. */
static int
feed (struct tar_reader *r, struct tar_member *m)
{
  int step;

  do {
    uint64_t at = tar_reader_offset (r);

    assert_true (at + B <= used);
    step = tar_reader_block (r, archive + at, m);
  } while (step == TAR_STEP_MORE);
  return step;
}

static void
assert_refused (const char *want_in_message)
{
  struct tar_reader *r = tar_reader_new ("vm.ova");
  struct tar_member m;
  int step;

  while ((step = feed (r, &m)) == TAR_STEP_MEMBER)
    ;
  assert_int_equal (step, -1);
  assert_int_equal (errno, EINVAL);
  assert_int_equal (reports, 1);
  if (strstr (message, want_in_message) == NULL
      || strncmp (message, "vm.ova: tar member ", 19) != 0)
    fail_msg ("message \"%s\" lacks \"%s\"", message, want_in_message);
  tar_reader_free (r);
}

static void
test_ustar_members_and_prefix (void **state)
{
  static const char ovf[700] = "x";
  struct tar_reader *r;
  struct tar_member m;
  unsigned char *h;

  header (USTAR, "vm.ovf", sizeof ovf, '0');
  data (ovf, sizeof ovf);
  h = header (USTAR, "disk1.vmdk", 0, '0');
  memcpy (h + 345, "some/folder", 11);
  set_checksum (h);
  header (USTAR, "dir/", 0, '5');
  end_of_archive ();

  r = tar_reader_new ("vm.ova");
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_string_equal (m.name, "vm.ovf");
  assert_int_equal (m.index, 0);
  assert_int_equal (m.header_offset, 0);
  assert_int_equal (m.data_offset, B);
  assert_int_equal (m.size, 700);
  assert_int_equal (m.type, TAR_REGULAR);
  assert_int_equal (tar_reader_offset (r), 3 * B);
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_string_equal (m.name, "some/folder/disk1.vmdk");
  assert_int_equal (m.index, 1);
  assert_int_equal (m.data_offset, 4 * B);
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_int_equal (m.type, TAR_DIRECTORY);
  assert_int_equal (feed (r, &m), TAR_STEP_END);
  assert_int_equal (reports, 0);
  assert_true (tar_header_looks_valid (archive));
  tar_reader_free (r);
}

static void
test_gnu_long_name_and_base256_size (void **state)
{
  char name[300];
  struct tar_reader *r;
  struct tar_member m;
  unsigned char *h;

  memset (name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  header (GNU, "././@LongLink", sizeof name, 'L');
  data (name, sizeof name);
  h = header (GNU, "nnnn", 0, '0');
  memset (h + 124, 0, 12);
  h[124] = 0x80;
  h[130] = 0x01;                /* 2^40 */
  set_checksum (h);

  r = tar_reader_new ("vm.ova");
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_string_equal (m.name, name);
  assert_int_equal (m.size, 1ull << 40);
  assert_int_equal (m.header_offset, 2 * B);
  assert_int_equal (m.index, 0);
  assert_int_equal (tar_reader_offset (r), 3 * B + (1ull << 40));
  tar_reader_free (r);
}

static void
test_pax_path_and_size (void **state)
{
  static const char records[] =
    "30 mtime=1700000000.123456789\n"
    "25 path=folder/disk.vmdk\n"
    "16 size=1048576\n";
  struct tar_reader *r;
  struct tar_member m;

  header (USTAR, "PaxHeaders/g", 17, 'g');
  data ("17 comment=hello\n", 17);
  header (USTAR, "PaxHeaders/disk", strlen (records), 'x');
  data (records, strlen (records));
  header (USTAR, "short-name", 7, '0');

  r = tar_reader_new ("vm.ova");
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_string_equal (m.name, "folder/disk.vmdk");
  assert_int_equal (m.size, 1048576);
  assert_int_equal (m.index, 0);
  tar_reader_free (r);
}

static void
test_links_have_no_data (void **state)
{
  struct tar_reader *r;
  struct tar_member m;

  header (USTAR, "link", 4096, '2');
  header (USTAR, "after", 0, '0');
  r = tar_reader_new ("vm.ova");
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_int_equal (m.type, TAR_OTHER);
  assert_int_equal (m.size, 0);
  assert_int_equal (feed (r, &m), TAR_STEP_MEMBER);
  assert_string_equal (m.name, "after");
  tar_reader_free (r);
}

static void
test_bad_checksum (void **state)
{
  header (USTAR, "vm.ovf", 0, '0');
  archive[0] = 'W';
  assert_refused ("(header at offset 0x0): header checksum");
  assert_false (tar_header_looks_valid (archive));
}

static void
test_bad_magic (void **state)
{
  unsigned char *h = header (USTAR, "vm.ovf", 0, '0');

  memcpy (h + 257, "notar\0\0\0", 8);
  set_checksum (h);
  assert_refused ("magic \"notar\"");
}

static void
test_bad_size_field (void **state)
{
  unsigned char *h;

  header (USTAR, "vm.ovf", 0, '0');
  h = header (USTAR, "disk", 0, '0');
  memcpy (h + 124, "0000000012x", 11);
  set_checksum (h);
  assert_refused ("tar member 1 (header at offset 0x200): size field "
                  "\"0000000012x\"");
}

static void
test_negative_base256 (void **state)
{
  unsigned char *h = header (GNU, "disk", 0, '0');

  memset (h + 124, 0xff, 12);
  set_checksum (h);
  assert_refused ("size field");
}

static void
test_size_past_2_64 (void **state)
{
  unsigned char *h = header (GNU, "disk", 0, '0');

  memset (h + 124, 0xff, 12);
  h[124] = 0x80;
  h[125] = h[126] = h[127] = 0;
  set_checksum (h);
  assert_refused ("member size passes 2^64");
}

static void
test_huge_pax_header (void **state)
{
  header (USTAR, "PaxHeaders/x", TAR_MAX_EXTENDED_BYTES + 1, 'x');
  assert_refused ("extended header 'x' of 65537 bytes is larger than 65536");
}

static void
test_bad_pax_records (void **state)
{
  static const char *const bad[] = {
    "99 path=x\n",              /* longer than the header */
    "9 path=x\n\n",             /* one byte short of its newline */
    "10 pathx\n\n",             /* no '=' */
    "11 size=1x\n",             /* not a number */
    "8 size=\n",                /* empty */
    "123456789 path=x\n",       /* a length of too many digits */
    "x path=x\n",
  };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    used = 0;
    capture_start ();
    header (USTAR, "PaxHeaders/x", strlen (bad[i]), 'x');
    data (bad[i], strlen (bad[i]));
    header (USTAR, "disk", 0, '0');
    assert_refused ("pax");
  }
}

static void
test_long_name_too_long (void **state)
{
  char name[TAR_MAX_NAME + 2];

  memset (name, 'n', sizeof name);
  header (GNU, "././@LongLink", sizeof name, 'L');
  data (name, sizeof name);
  header (GNU, "disk", 0, '0');
  assert_refused ("long name of 1026 bytes is longer than 1024");
}

static void
test_extended_header_without_member (void **state)
{
  header (GNU, "././@LongLink", 5, 'L');
  data ("disk", 5);
  end_of_archive ();
  assert_refused ("without its member");
}

static void
test_member_count_bounded (void **state)
{
  struct tar_reader *r = tar_reader_new ("vm.ova");
  struct tar_member m;
  unsigned i;

  header (USTAR, "empty", 0, '0');
  for (i = 0; i < TAR_MAX_MEMBERS; i++) {
    assert_int_equal (tar_reader_block (r, archive, &m), TAR_STEP_MEMBER);
    assert_int_equal (m.index, i);
  }
  assert_int_equal (tar_reader_block (r, archive, &m), -1);
  assert_non_null (strstr (message, "more than 1024 headers"));
  /* Nothing more is taken once it failed. */
  assert_int_equal (tar_reader_block (r, archive, &m), -1);
  tar_reader_free (r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_ustar_members_and_prefix, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_gnu_long_name_and_base256_size,
                                     setup, capture_teardown),
    cmocka_unit_test_setup_teardown (test_pax_path_and_size, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_links_have_no_data, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_bad_checksum, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_bad_magic, setup, capture_teardown),
    cmocka_unit_test_setup_teardown (test_bad_size_field, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_negative_base256, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_size_past_2_64, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_huge_pax_header, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_bad_pax_records, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_long_name_too_long, setup,
                                     capture_teardown),
    cmocka_unit_test_setup_teardown (test_extended_header_without_member,
                                     setup, capture_teardown),
    cmocka_unit_test_setup_teardown (test_member_count_bounded, setup,
                                     capture_teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
