/* qcow2 images written here cluster by cluster, for every cluster size
 * 512 B..2 MiB, standard and extended L2 entries, deflate and zstd, then
 * read through image.h: the L1 and L2 walk, each kind of entry, the bytes
 * read and the extents reported.
 *
 * Host layout, in clusters: 0 header, 1 refcount table, 2 L1 table (two
 * entries; the second unallocated), 3 the L2 table, 4..9 data.  Guest
 * clusters of the first L2 table:
 *   0      data at host cluster 4
 *   1      zero (plain)
 *   2      unallocated (no backing file: reads zeros, a hole)
 *   3      compressed, payload at host 6 * cluster + 24 (not aligned)
 *   4      data at host cluster 5
 *   5      zero, preallocated at host cluster 7 (which holds 0xee bytes)
 *   6      extended L2 only: host cluster 9, subclusters 0..15 allocated,
 *          16..23 zero, 24..31 unallocated
 *   last   data at host cluster 8
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "test-capture.h"
#include "test-compress.h"
#include "test-qcow2-build.h"

#define HOST_CLUSTERS 10
#define COMPRESSED_AT(cluster) (6 * (cluster) + 24)
#define ALL_ALLOC 0x00000000ffffffffull
#define ALL_ZERO  0xffffffff00000000ull

struct variant {
  unsigned cb;
  bool extended;
  bool zstd;
};

static struct variant v;
static uint64_t cluster;        /* bytes */
static uint64_t l2_entries;     /* per table */
static uint64_t unit;           /* a subcluster, or the cluster */
static char path[64];
/* Guest cluster contents that are data. */
static unsigned char
data_byte (uint64_t guest_cluster, uint64_t i)
{
  if (guest_cluster == 3)       /* compressible */
    return (i / 100) % 7 + 'a';
  return (guest_cluster * 131 + i * 7 + i / 509) & 0xff;
}

/* What guest unit U reads as: 1 data, 0 zeros (a hole). */
static int
unit_is_data (uint64_t u)
{
  uint64_t per_cluster = cluster / unit;
  uint64_t g = u / per_cluster, sc = u % per_cluster;

  if (g == 0 || g == 3 || g == 4 || g == l2_entries - 1)
    return 1;
  return v.extended && g == 6 && sc < 16;
}

static void
fill_data (unsigned char *p, uint64_t guest_cluster)
{
  uint64_t i;

  for (i = 0; i < cluster; i++)
    p[i] = data_byte (guest_cluster, i);
}

/* The L2 entry (and bitmap) of guest cluster G. */
static void
put_l2 (unsigned char *file, uint64_t g, uint64_t entry, uint64_t bitmap)
{
  unsigned char *e = file + 3 * cluster + g * (v.extended ? 16 : 8);

  store_be64 (e, entry);
  if (v.extended)
    store_be64 (e + 8, bitmap);
}

static void
put_compressed (unsigned char *file)
{
  unsigned char *data = malloc (cluster);
  unsigned char *z;
  size_t len;
  uint64_t offset = COMPRESSED_AT (cluster);

  assert_non_null (data);
  fill_data (data, 3);
  z = v.zstd ? zstd_frames (data, cluster, 1, 0, &len)
             : deflate_raw (data, cluster, 0, &len);
  assert_true (offset + len <= 7 * cluster);
  memcpy (file + offset, z, len);
  /* Sectors beyond the one holding the offset. */
  put_l2 (file, 3, compressed_descriptor (v.cb, offset,
                                          (offset % 512 + len - 1) / 512), 0);
  free (z);
  free (data);
}

static void
put_header (unsigned char *file)
{
  uint64_t incompatible = (v.extended ? INCOMPAT_EXTL2 : 0)
                          | (v.zstd ? INCOMPAT_COMPRESSION : 0);

  store_be32 (file + F_MAGIC, MAGIC);
  store_be32 (file + F_VERSION, 3);
  store_be32 (file + F_CLUSTER_BITS, v.cb);
  store_be64 (file + F_SIZE, 2 * l2_entries * cluster);
  store_be32 (file + F_L1_SIZE, 2);
  store_be64 (file + F_L1_OFFSET, 2 * cluster);
  store_be64 (file + F_REFTABLE_OFFSET, cluster);
  store_be32 (file + F_REFTABLE_CLUSTERS, 1);
  store_be64 (file + F_INCOMPAT, incompatible);
  store_be32 (file + F_REFCOUNT_ORDER, 4);
  store_be32 (file + F_HEADER_LENGTH, 112);
  file[F_COMPRESSION_TYPE] = v.zstd;
}

static void
write_image (void)
{
  size_t size = HOST_CLUSTERS * cluster;
  unsigned char *file = calloc (1, size);
  uint64_t sc, mixed = 0;
  int fd;

  assert_non_null (file);
  put_header (file);
  store_be64 (file + 2 * cluster, COPIED | 3 * cluster);       /* L1[0] */
  put_l2 (file, 0, COPIED | 4 * cluster, ALL_ALLOC);
  put_l2 (file, 1, v.extended ? 0 : ZERO_FLAG, ALL_ZERO);
  put_compressed (file);
  put_l2 (file, 4, COPIED | 5 * cluster, ALL_ALLOC);
  put_l2 (file, 5, COPIED | 7 * cluster | (v.extended ? 0 : ZERO_FLAG),
          ALL_ZERO);
  for (sc = 0; sc < 32; sc++)
    mixed |= sc < 16 ? ALLOC (sc) : sc < 24 ? ZEROES (sc) : 0;
  if (v.extended)
    put_l2 (file, 6, COPIED | 9 * cluster, mixed);
  put_l2 (file, l2_entries - 1, COPIED | 8 * cluster, ALL_ALLOC);
  fill_data (file + 4 * cluster, 0);
  fill_data (file + 5 * cluster, 4);
  memset (file + 7 * cluster, 0xee, cluster);
  fill_data (file + 8 * cluster, l2_entries - 1);
  fill_data (file + 9 * cluster, 6);

  strcpy (path, "/tmp/test-qcow2-image.XXXXXX");
  fd = mkstemp (path);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, file, size), (ssize_t) size);
  close (fd);
  free (file);
}

/* Also called by teardown, for an image a failed check left behind. */
static void
remove_image (void)
{
  if (path[0])
    unlink (path);
  path[0] = '\0';
}

static void
use_variant (unsigned cb, bool extended, bool zstd)
{
  v = (struct variant) { cb, extended, zstd };
  cluster = 1ull << cb;
  l2_entries = cluster / (extended ? 16 : 8);
  unit = extended ? cluster / 32 : cluster;
  write_image ();
}

/* The bytes guest cluster G reads as. */
static void
expected_cluster (uint64_t g, unsigned char *p)
{
  uint64_t u, per_cluster = cluster / unit;

  fill_data (p, g);
  for (u = 0; u < per_cluster; u++)
    if (!unit_is_data (g * per_cluster + u))
      memset (p + u * unit, 0, unit);
}

static void
check_cluster (struct image *img, uint64_t g)
{
  unsigned char *got = malloc (cluster), *want = malloc (cluster);

  assert_non_null (got);
  assert_non_null (want);
  if (image_pread (img, got, cluster, g * cluster) == -1)
    fail_msg ("%s: guest cluster %" PRIu64 ": %s", path, g, message);
  expected_cluster (g, want);
  if (memcmp (got, want, cluster) != 0)
    fail_msg ("cluster_bits %u%s%s: guest cluster %" PRIu64 " reads wrong",
              v.cb, v.extended ? " extended" : "", v.zstd ? " zstd" : "", g);
  free (want);
  free (got);
}

/* Reads that start and end inside clusters of different kinds. */
static void
check_straddling_reads (struct image *img)
{
  unsigned char *got = malloc (2 * cluster), *want = malloc (2 * cluster);
  uint64_t g;

  assert_non_null (got);
  assert_non_null (want);
  for (g = 0; g < 6; g++) {
    uint64_t start = g * cluster + cluster / 2 + 1;

    assert_int_equal (image_pread (img, got, cluster, start), 0);
    expected_cluster (g, want);
    expected_cluster (g + 1, want + cluster);
    assert_memory_equal (got, want + cluster / 2 + 1, cluster);
  }
  free (want);
  free (got);
}

/* Every extent is a run of units that all read the way it says. */
static void
check_extents (struct image *img)
{
  uint64_t size = image_size (img), offset = 0, data = 0, u;
  uint64_t per_cluster = cluster / unit;
  struct image_extent e;

  while (offset < size) {
    assert_int_equal (image_extent (img, offset, &e), 0);
    assert_int_equal (e.offset, offset);
    assert_true (e.length > 0 && e.length <= size - offset);
    if (e.type == IMAGE_EXTENT_DATA) {
      /* Data only where the first table has it. */
      assert_true (offset + e.length <= l2_entries * cluster);
      for (u = offset / unit; u < (offset + e.length + unit - 1) / unit; u++)
        assert_true (unit_is_data (u));
      data += e.length;
    } else {
      assert_int_equal (e.type, IMAGE_EXTENT_ZERO);
      for (u = 0; u < l2_entries * per_cluster; u++)
        if (unit_is_data (u) && u * unit + unit > offset
            && u * unit < offset + e.length)
          fail_msg ("cluster_bits %u: hole [%" PRIu64 ", +%" PRIu64 ") "
                    "covers data unit %" PRIu64, v.cb, offset, e.length, u);
    }
    offset += e.length;
  }
  assert_int_equal (data, 4 * cluster + (v.extended ? 16 * unit : 0));
  assert_int_equal (image_data_bytes (img, &data), 0);
  assert_int_equal (data, 4 * cluster + (v.extended ? 16 * unit : 0));
}

static void
check_variant (unsigned cb, bool extended, bool zstd)
{
  const struct image_description *d;
  struct image *img;
  uint64_t g;

  use_variant (cb, extended, zstd);
  img = image_open (path, NULL);
  if (img == NULL)
    fail_msg ("cluster_bits %u: %s", cb, message);
  assert_int_equal (image_size (img), 2 * l2_entries * cluster);
  d = image_describe (img);
  assert_int_equal (d->format, IMAGE_FORMAT_QCOW2);
  assert_int_equal (d->version, 3);
  assert_int_equal (d->cluster_size, cluster);
  assert_int_equal (d->extended_l2, extended);
  assert_string_equal (d->compression, zstd ? "zstd" : "zlib");
  assert_int_equal (d->file_size, HOST_CLUSTERS * cluster);
  for (g = 0; g < 8; g++)
    check_cluster (img, g);
  check_cluster (img, l2_entries - 1);
  check_cluster (img, l2_entries);              /* L1 entry 1: none */
  check_cluster (img, 2 * l2_entries - 1);
  check_straddling_reads (img);
  check_extents (img);
  image_close (img);
  remove_image ();
}

/* Extended L2 needs 16 KiB clusters or more. */
static void
check_every_cluster_size (bool extended, bool zstd)
{
  unsigned cb;

  for (cb = extended ? 14 : 9; cb <= 21; cb++)
    check_variant (cb, extended, zstd);
}

static void
test_standard_deflate (void **state)
{
  check_every_cluster_size (false, false);
}

static void
test_standard_zstd (void **state)
{
  check_every_cluster_size (false, true);
}

static void
test_extended_deflate (void **state)
{
  check_every_cluster_size (true, false);
}

static void
test_extended_zstd (void **state)
{
  check_every_cluster_size (true, true);
}

/* ---- damaged tables: refused with the entry named, never read ---- */

static void
patch_be64 (uint64_t file_offset, uint64_t value)
{
  unsigned char bytes[8];
  FILE *f = fopen (path, "r+");

  assert_non_null (f);
  store_be64 (bytes, value);
  assert_int_equal (fseek (f, file_offset, SEEK_SET), 0);
  assert_int_equal (fwrite (bytes, 1, 8, f), 8);
  assert_int_equal (fclose (f), 0);
}

/* The file offset of guest cluster G's L2 entry (and bitmap at + 8). */
static uint64_t
l2_entry_at (uint64_t g)
{
  return 3 * cluster + g * (v.extended ? 16 : 8);
}

/* Reading guest cluster G fails with ERR and a message holding PREFIX
 * (after the path) and WHAT.
 */
static void
expect_read_error (uint64_t g, int err, const char *prefix, const char *what)
{
  struct image *img = image_open (path, NULL);
  unsigned char *buf = malloc (cluster);
  char want[256];
  int r;

  assert_non_null (img);
  assert_non_null (buf);
  message[0] = '\0';
  r = image_pread (img, buf, cluster, g * cluster);
  free (buf);
  image_close (img);
  if (r != -1)
    fail_msg ("cluster_bits %u: damaged guest cluster %" PRIu64 " was read",
              v.cb, g);
  assert_int_equal (errno, err);
  snprintf (want, sizeof want, "%s: %s", path, prefix);
  if (strncmp (message, want, strlen (want)) != 0 || !strstr (message, what))
    fail_msg ("cluster_bits %u: message \"%s\" lacks \"%s\" ... \"%s\"",
              v.cb, message, want, what);
}

static void
test_damaged_standard (void **state)
{
  unsigned cb;

  for (cb = 9; cb <= 21; cb++) {
    uint64_t past_end = (HOST_CLUSTERS + 5ull) << cb;

    use_variant (cb, false, false);
    if (cb > 9) {
      patch_be64 (l2_entry_at (2), COPIED | (4 * cluster + cluster / 2));
      expect_read_error (2, EINVAL, "L2 entry 2 of L1 entry 0: ",
                         "is not aligned");
    }
    patch_be64 (l2_entry_at (2), COPIED | past_end);
    expect_read_error (2, EINVAL, "L2 entry 2 of L1 entry 0: ",
                       "past the end of the file");
    patch_be64 (l2_entry_at (2), compressed_descriptor (cb, past_end, 0));
    expect_read_error (2, EINVAL, "L2 entry 2 of L1 entry 0: ",
                       "past the end of the file");
    /* A payload that is not deflate: the data of host cluster 4. */
    patch_be64 (l2_entry_at (2), compressed_descriptor (cb, 4 * cluster, 0));
    expect_read_error (2, EIO, "L2 entry 2 of L1 entry 0: ",
                       "does not decompress");
    patch_be64 (l2_entry_at (2), 0);
    if (cb > 9) {
      patch_be64 (2 * cluster, COPIED | (3 * cluster + 512));
      expect_read_error (0, EINVAL, "L1 entry 0: L2 table offset ",
                         "is not aligned");
    }
    patch_be64 (2 * cluster, COPIED | past_end);
    expect_read_error (0, EINVAL, "L1 entry 0: L2 table offset ",
                       "past the end of the file");
    remove_image ();
  }
}

static void
test_damaged_extended (void **state)
{
  unsigned cb;

  for (cb = 14; cb <= 21; cb++) {
    use_variant (cb, true, false);
    /* Allocated and zero at once. */
    patch_be64 (l2_entry_at (2), COPIED | 9 * cluster);
    patch_be64 (l2_entry_at (2) + 8, ALLOC (3) | ZEROES (3));
    expect_read_error (2, EINVAL, "L2 entry 2 of L1 entry 0: ",
                       "contradictory subcluster bitmap");
    /* Allocated subclusters without a host cluster. */
    patch_be64 (l2_entry_at (2), 0);
    patch_be64 (l2_entry_at (2) + 8, ALLOC (31));
    expect_read_error (2, EINVAL, "L2 entry 2 of L1 entry 0: ",
                       "contradictory subcluster bitmap");
    remove_image ();
  }
}

static int
teardown (void **state)
{
  remove_image ();
  capture_stop ();
  return 0;
}

/* Runs of identical L2 entries are passed without a decode each, but only
 * from an entry the run covered whole: two identical extended entries whose
 * subcluster 0 alone is allocated, asked from subcluster 1 of the first,
 * give a hole that stops at subcluster 0 of the second.  Zero clusters in
 * a row make one hole, and an unallocated stretch stops at the next data.
 */
static void
test_repeated_entries (void **state)
{
  const uint64_t g = 10;
  struct image_extent e;
  struct image *img;
  uint64_t i, shared;

  use_variant (16, true, false);
  shared = COPIED | 4 * cluster;
  patch_be64 (l2_entry_at (g), shared);
  patch_be64 (l2_entry_at (g) + 8, ALLOC (0));
  patch_be64 (l2_entry_at (g + 1), shared);
  patch_be64 (l2_entry_at (g + 1) + 8, ALLOC (0));
  for (i = 20; i < 30; i++)
    patch_be64 (l2_entry_at (i) + 8, ALL_ZERO);
  img = image_open (path, NULL);
  if (img == NULL)
    fail_msg ("%s", message);
  assert_int_equal (image_extent (img, g * cluster + unit, &e), 0);
  assert_int_equal (e.type, IMAGE_EXTENT_ZERO);
  assert_int_equal (e.length, cluster - unit);
  assert_int_equal (image_extent (img, (g + 1) * cluster, &e), 0);
  assert_int_equal (e.type, IMAGE_EXTENT_DATA);
  assert_int_equal (e.length, unit);
  assert_int_equal (image_extent (img, (g + 1) * cluster + unit, &e), 0);
  assert_int_equal (e.type, IMAGE_EXTENT_ZERO);
  assert_int_equal (e.length, (l2_entries - 1 - (g + 1)) * cluster - unit);
  image_close (img);
  remove_image ();
}

/* image_file_stat() sees the image file itself, and a change to it. */
static void
test_file_stat (void **state)
{
  struct stat before, now;
  struct image *img;
  FILE *f;

  use_variant (16, false, false);
  img = image_open (path, NULL);
  if (img == NULL)
    fail_msg ("%s", message);
  assert_int_equal (stat (path, &before), 0);
  assert_int_equal (image_file_stat (img, &now), 0);
  assert_int_equal (now.st_dev, before.st_dev);
  assert_int_equal (now.st_ino, before.st_ino);
  assert_int_equal (now.st_size, HOST_CLUSTERS * cluster);
  f = fopen (path, "a");
  assert_non_null (f);
  assert_int_equal (fputc ('x', f), 'x');
  assert_int_equal (fclose (f), 0);
  assert_int_equal (image_file_stat (img, &now), 0);
  assert_int_equal (now.st_size, HOST_CLUSTERS * cluster + 1);
  image_close (img);
  remove_image ();
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, capture_setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_standard_deflate),
    T (test_standard_zstd),
    T (test_extended_deflate),
    T (test_extended_zstd),
    T (test_damaged_standard),
    T (test_damaged_extended),
    T (test_file_stat),
    T (test_repeated_entries),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
