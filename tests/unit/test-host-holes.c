/* The host file's holes are asked of the file system once per run of the
 * file, not once per data cluster: on tmpfs each SEEK_DATA/SEEK_HOLE walks
 * the page cache from its offset on, so asking per cluster costs the whole
 * file each time.  lseek is wrapped (-Wl,--wrap=lseek) to count the
 * questions while the map of a qcow2 image with scattered data clusters is
 * walked; the map itself must stay exact, holes of the host file included.
 *
 * Image, 64 KiB clusters: 0 header, 1 refcount table, 2 L1 table (one
 * entry), 3 the L2 table, 4.. the data clusters in guest order.  Guest
 * cluster DATA_AT(i) is data at host cluster 4 + i, for i < DATA_CLUSTERS;
 * guest clusters ZERO_FIRST..ZERO_LAST are zero clusters; the rest is
 * unallocated.
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "test-capture.h"
#include "test-qcow2-build.h"

#define CLUSTER_BITS 16
#define CLUSTER (1ull << CLUSTER_BITS)
#define L2_ENTRIES (CLUSTER / 8)
#define DATA_CLUSTERS 48
#define DATA_AT(i) (7 + 160 * (uint64_t) (i))
#define HOST_OF(i) (4 + (uint64_t) (i))
#define ZERO_FIRST 8000
#define ZERO_LAST 8100
/* Data clusters whose host clusters a test punches out of the file. */
#define PUNCH_FIRST 16
#define PUNCH_COUNT 16

off_t __real_lseek (int fd, off_t offset, int whence);
off_t __wrap_lseek (int fd, off_t offset, int whence);

static unsigned seeks;          /* SEEK_DATA and SEEK_HOLE calls */

off_t
__wrap_lseek (int fd, off_t offset, int whence)
{
  if (whence == SEEK_DATA || whence == SEEK_HOLE)
    seeks++;
  return __real_lseek (fd, offset, whence);
}

static char path[64];

static void
write_image (void)
{
  size_t size = (HOST_OF (DATA_CLUSTERS)) * CLUSTER;
  unsigned char *file = calloc (1, size);
  unsigned char *l2 = file + 3 * CLUSTER;
  uint64_t i;
  int fd;

  assert_non_null (file);
  store_be32 (file + F_MAGIC, MAGIC);
  store_be32 (file + F_VERSION, 3);
  store_be32 (file + F_CLUSTER_BITS, CLUSTER_BITS);
  store_be64 (file + F_SIZE, L2_ENTRIES * CLUSTER);
  store_be32 (file + F_L1_SIZE, 1);
  store_be64 (file + F_L1_OFFSET, 2 * CLUSTER);
  store_be64 (file + F_REFTABLE_OFFSET, CLUSTER);
  store_be32 (file + F_REFTABLE_CLUSTERS, 1);
  store_be32 (file + F_REFCOUNT_ORDER, 4);
  store_be32 (file + F_HEADER_LENGTH, 112);
  store_be64 (file + 2 * CLUSTER, COPIED | 3 * CLUSTER);
  for (i = 0; i < DATA_CLUSTERS; i++) {
    store_be64 (l2 + DATA_AT (i) * 8, COPIED | HOST_OF (i) * CLUSTER);
    memset (file + HOST_OF (i) * CLUSTER, 0x40 + i, CLUSTER);
  }
  for (i = ZERO_FIRST; i <= ZERO_LAST; i++)
    store_be64 (l2 + i * 8, ZERO_FLAG);

  strcpy (path, "/tmp/test-host-holes.XXXXXX");
  fd = mkstemp (path);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, file, size), (ssize_t) size);
  close (fd);
  free (file);
}

static int
setup (void **state)
{
  capture_start ();
  write_image ();
  return 0;
}

static int
teardown (void **state)
{
  unlink (path);
  capture_stop ();
  return 0;
}

static bool
is_punched (uint64_t i)
{
  return i >= PUNCH_FIRST && i < PUNCH_FIRST + PUNCH_COUNT;
}

/* Walk the whole map: every data cluster, and only those not punched,
 * reads as data; everything else is a hole.
 */
static void
check_map (struct image *img, bool punched)
{
  uint64_t offset = 0, data, i, want = 0;
  struct image_extent e;

  while (offset < image_size (img)) {
    assert_int_equal (image_extent (img, offset, &e), 0);
    for (i = 0; i < DATA_CLUSTERS; i++) {
      bool inside = DATA_AT (i) * CLUSTER >= offset
                    && DATA_AT (i) * CLUSTER < offset + e.length;
      bool data_here = !(punched && is_punched (i));

      if (inside)
        assert_int_equal (e.type, data_here ? IMAGE_EXTENT_DATA
                                            : IMAGE_EXTENT_ZERO);
    }
    offset += e.length;
  }
  for (i = 0; i < DATA_CLUSTERS; i++)
    want += punched && is_punched (i) ? 0 : CLUSTER;
  assert_int_equal (image_data_bytes (img, &data), 0);
  assert_int_equal (data, want);
}

/* A host file without holes: one question, then none. */
static void
test_dense_file (void **state)
{
  struct image *img = image_open (path, NULL);

  if (img == NULL)
    fail_msg ("%s", message);
  seeks = 0;
  check_map (img, false);
  assert_in_range (seeks, 1, 2);
  check_map (img, false);
  assert_in_range (seeks, 1, 2);
  image_close (img);
}

/* A host file with one hole among its data clusters: a question per run of
 * the file (data, hole, data), and the holes' clusters read as holes.
 */
static void
test_file_with_a_hole (void **state)
{
  struct image *img;
  int fd = open (path, O_RDWR);

  assert_true (fd >= 0);
  if (fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                 HOST_OF (PUNCH_FIRST) * CLUSTER,
                 PUNCH_COUNT * CLUSTER) == -1) {
    assert_true (errno == EOPNOTSUPP);
    close (fd);
    skip ();
  }
  close (fd);
  img = image_open (path, NULL);
  if (img == NULL)
    fail_msg ("%s", message);
  seeks = 0;
  check_map (img, true);
  assert_in_range (seeks, 1, 2 * 3);
  check_map (img, true);
  assert_in_range (seeks, 1, 2 * 3);
  image_close (img);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_dense_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_file_with_a_hole, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
