/* VDI and VHD: probing by content (image_probe_fd), and the size qemu 7.2
 * gives a VHD by its creator application (vhd.c), on hand-made files.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "image.h"
#include "test-capture.h"

#define FOOTER 512

static char path[64];

static void
write_image (const unsigned char *bytes, size_t size)
{
  int fd;

  strcpy (path, "/tmp/test-block-formats.XXXXXX");
  fd = mkstemp (path);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, bytes, size), (ssize_t) size);
  close (fd);
}

static void
remove_image (void)
{
  if (path[0])
    unlink (path);
  path[0] = '\0';
}

/* Also for an image a failed check left behind. */
static int
teardown (void **state)
{
  remove_image ();
  capture_stop ();
  return 0;
}

static enum image_format
probe (const unsigned char *bytes, size_t size)
{
  enum image_format format;
  int fd;

  write_image (bytes, size);
  fd = open (path, O_RDONLY);
  assert_true (fd >= 0);
  assert_int_equal (image_probe_fd (fd, &format), 0);
  close (fd);
  remove_image ();
  return format;
}

static void
put_be (unsigned char *p, uint64_t value, int bytes)
{
  while (bytes-- > 0) {
    p[bytes] = value & 0xff;
    value >>= 8;
  }
}

/* A VHD footer at P: CREATOR, geometry C/H/S, current_size, TYPE, and a
 * checksum that holds.
 */
static void
put_footer (unsigned char *p, const char *creator, unsigned c, unsigned h,
            unsigned s, uint64_t current_size, uint32_t type)
{
  uint32_t sum = 0;
  int i;

  memset (p, 0, FOOTER);
  memcpy (p, "conectix", 8);
  put_be (p + 16, UINT64_MAX, 8);
  memcpy (p + 28, creator, 4);
  put_be (p + 48, current_size, 8);
  put_be (p + 56, c, 2);
  p[58] = h;
  p[59] = s;
  put_be (p + 60, type, 4);
  for (i = 0; i < FOOTER; i++)
    sum += p[i];
  put_be (p + 64, ~sum, 4);
}

static void
test_probe_vdi (void **state)
{
  unsigned char header[512] = { 0 };

  memcpy (header + 0x40, "\x7f\x10\xda\xbe", 4);
  assert_int_equal (probe (header, sizeof header), IMAGE_FORMAT_VDI);
  /* As qemu: a file cut short of the header, not of the signature. */
  assert_int_equal (probe (header, 0x44), IMAGE_FORMAT_VDI);
  assert_int_equal (probe (header, 0x43), IMAGE_FORMAT_RAW);
}

static void
test_probe_vhd (void **state)
{
  unsigned char file[2 * FOOTER] = { 0 };

  memcpy (file, "conectix", 8);
  assert_int_equal (probe (file, sizeof file), IMAGE_FORMAT_VPC);
  /* A fixed disk: its footer only at the end. */
  memset (file, 0, sizeof file);
  put_footer (file + FOOTER, "vpc ", 1, 1, 1, 512, 2);
  assert_int_equal (probe (file, sizeof file), IMAGE_FORMAT_VPC);
  /* A footer at the end must hold together to claim a raw-looking file. */
  file[FOOTER + 64] ^= 1;
  assert_int_equal (probe (file, sizeof file), IMAGE_FORMAT_RAW);
  put_footer (file + FOOTER, "vpc ", 1, 1, 1, 512, 3);
  assert_int_equal (probe (file, sizeof file), IMAGE_FORMAT_RAW);
  /* Too short for a footer. */
  assert_int_equal (probe (file + 1, FOOTER - 1), IMAGE_FORMAT_RAW);
}

/* The size image_open gives a fixed VHD with this footer, or 0 if it
 * refuses it.
 */
static uint64_t
fixed_size (const char *creator, unsigned c, unsigned h, unsigned s,
            uint64_t current_size)
{
  unsigned char file[4 * FOOTER] = { 0 };
  struct image *img;
  uint64_t size = 0;

  put_footer (file + sizeof file - FOOTER, creator, c, h, s, current_size, 2);
  write_image (file, sizeof file);
  img = image_open (path, NULL);
  if (img) {
    size = image_size (img);
    image_close (img);
  }
  remove_image ();
  return size;
}

static void
test_size_by_creator (void **state)
{
  static const struct {
    const char creator[5];
    uint64_t sectors;           /* 4 x 4 x 17 = 272 by geometry */
  } cases[] = {
    { "vpc ", 272 }, { "qemu", 272 }, { "tap ", 272 }, { "xyz\0", 272 },
    { "win ", 200 }, { "qem2", 200 }, { "d2v ", 200 }, { "CTXS", 200 },
    { "tap\0", 200 },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_int_equal (fixed_size (cases[i].creator, 4, 4, 17, 200 * 512),
                      cases[i].sectors * 512);
  /* The largest geometry means current_size, whatever the creator. */
  assert_int_equal (fixed_size ("vpc ", 65535, 16, 255, 200 * 512),
                    200 * 512);
}

static void
test_size_limit (void **state)
{
  capture_start ();
  assert_int_equal (fixed_size ("win ", 4, 4, 17, 0xff000000ull * 512),
                    0xff000000ull * 512);
  assert_int_equal (fixed_size ("win ", 4, 4, 17, 0xff000001ull * 512), 0);
  assert_int_equal (errno, EFBIG);
  assert_non_null (strstr (message, "VHD footer: disk size of 4278190081 "
                           "sectors is too large"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown (test_probe_vdi, teardown),
    cmocka_unit_test_teardown (test_probe_vhd, teardown),
    cmocka_unit_test_teardown (test_size_by_creator, teardown),
    cmocka_unit_test_teardown (test_size_limit, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
