/* qcow2_parse_header(): headers built here field by field, big-endian at the
 * offsets of docs/interop/qcow2.txt, for versions 2 and 3 and every
 * cluster_bits qemu accepts (9..21).  Each invalid field is refused with
 * its own message, reported exactly once; the limits are qemu 7.2's
 * (block/qcow2.c qcow2_do_open), checked against qemu-img where they differ
 * from the spec.
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2-header.h"
#include "test-capture.h"
#include "test-qcow2-build.h"

#define PATH "t.qcow2"
#define VSIZE (1024 * 1024)     /* virtual size of the built images */

/* ---- the image under test ---- */

static unsigned char *buf;      /* the first cluster */
static size_t len;
static uint64_t file_size;
static unsigned cbits;
static struct qcow2_header h;

static void
put_be32 (size_t offset, uint32_t v)
{
  store_be32 (buf + offset, v);
}

static void
put_be64 (size_t offset, uint64_t v)
{
  store_be64 (buf + offset, v);
}

/* A header extension at OFFSET; returns where the next one starts. */
static size_t
put_extension (size_t offset, uint32_t magic, const void *data,
               uint32_t data_len)
{
  put_be32 (offset, magic);
  put_be32 (offset + 4, data_len);
  memcpy (buf + offset + 8, data, data_len);
  return offset + 8 + (data_len + 7) / 8 * 8;
}

/* L1 entries a SIZE needs: each entry maps one L2 table, cluster_size / 8
 * (extended: / 16) entries of one cluster each.
 */
static uint64_t
l1_needed (uint64_t size, unsigned cluster_bits, int extended)
{
  uint64_t cluster = 1ull << cluster_bits;
  uint64_t per_l1 = cluster * (cluster / (extended ? 16 : 8));

  return (size + per_l1 - 1) / per_l1;
}

/* A valid image: header in cluster 0, refcount table in cluster 1, L1 in
 * cluster 2, snapshot table (two entries) in cluster 3; version 3 has a
 * 112-byte header (compression_type at 104) and no extension.
 */
static void
build (unsigned version, unsigned cluster_bits)
{
  uint64_t cluster = 1ull << cluster_bits;

  free (buf);
  cbits = cluster_bits;
  len = cluster;
  file_size = 5 * cluster;
  buf = calloc (1, len);
  assert_non_null (buf);
  put_be32 (F_MAGIC, MAGIC);
  put_be32 (F_VERSION, version);
  put_be32 (F_CLUSTER_BITS, cluster_bits);
  put_be64 (F_SIZE, VSIZE);
  put_be32 (F_L1_SIZE, l1_needed (VSIZE, cluster_bits, 0));
  put_be64 (F_L1_OFFSET, 2 * cluster);
  put_be64 (F_REFTABLE_OFFSET, cluster);
  put_be32 (F_REFTABLE_CLUSTERS, 1);
  put_be32 (F_NB_SNAPSHOTS, 2);
  put_be64 (F_SNAPSHOTS_OFFSET, 3 * cluster);
  if (version >= 3) {
    put_be32 (F_REFCOUNT_ORDER, 4);
    put_be32 (F_HEADER_LENGTH, 112);
  }
}

/* Shrink the buffer to N bytes (a file shorter than a cluster). */
static void
truncate_to (size_t n)
{
  unsigned char *shorter = malloc (n);

  assert_non_null (shorter);
  memcpy (shorter, buf, n);
  free (buf);
  buf = shorter;
  len = n;
}

static int
parse (void)
{
  int r;

  message[0] = '\0';
  reports = 0;
  errno = 0;
  r = qcow2_parse_header (PATH, buf, len, file_size, &h);
  if (r == 0) {
    assert_int_equal (reports, 0);
    assert_string_equal (message, "");
  }
  return r;
}

static void
free_header (void)
{
  free (h.data_file);
  h.data_file = NULL;
}

static void
expect_accepted (void)
{
  int r = parse ();

  if (r != 0)
    fail_msg ("cluster_bits %u: refused: %s", cbits, message);
}

/* Refused with errno ERR and exactly the message PATH ": " FMT... */
static void expect_refused (int err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
expect_refused (int err, const char *fmt, ...)
{
  char expected[2048];
  int n = snprintf (expected, sizeof expected, "%s: ", PATH);
  va_list args;

  va_start (args, fmt);
  vsnprintf (expected + n, sizeof expected - n, fmt, args);
  va_end (args);
  assert_int_equal (parse (), -1);
  assert_int_equal (errno, err);
  assert_int_equal (reports, 1);
  assert_string_equal (message, expected);
  assert_null (h.data_file);
}

static int
teardown (void **state)
{
  free_header ();
  free (buf);
  buf = NULL;
  capture_stop ();
  return 0;
}

#define FOR_EACH_CLUSTER_BITS(cb) for (cb = 9; cb <= 21; cb++)

/* ---- valid headers ---- */

static void
test_v2_every_cluster_size (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    uint64_t cluster = 1ull << cb;

    build (2, cb);
    /* v2 has no feature fields: bytes 72.. are the extension area.  A
     * backing format extension there, read as v3 incompatible features,
     * would be unknown bits.
     */
    put_extension (72, EXT_BACKING_FORMAT, "qcow2", 5);
    expect_accepted ();
    assert_int_equal (h.version, 2);
    assert_int_equal (h.cluster_bits, cb);
    assert_int_equal (h.size, VSIZE);
    assert_int_equal (h.l1_size, l1_needed (VSIZE, cb, 0));
    assert_int_equal (h.l1_table_offset, 2 * cluster);
    assert_int_equal (h.refcount_table_offset, cluster);
    assert_int_equal (h.refcount_table_clusters, 1);
    assert_int_equal (h.nb_snapshots, 2);
    assert_int_equal (h.snapshots_offset, 3 * cluster);
    assert_int_equal (h.crypt_method, 0);
    /* The spec's defaults for version 2. */
    assert_int_equal (h.incompatible, 0);
    assert_int_equal (h.compatible, 0);
    assert_int_equal (h.autoclear, 0);
    assert_int_equal (h.refcount_order, 4);
    assert_int_equal (h.header_length, 72);
    assert_int_equal (h.compression_type, 0);
    assert_string_equal (h.backing_format, "qcow2");
    assert_string_equal (h.backing_name, "");
    assert_null (h.data_file);
  }
}

static void
test_v3_every_cluster_size (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    build (3, cb);
    /* Unknown compatible and autoclear bits are ignored (spec). */
    put_be64 (F_COMPAT, 1 | (1ull << 40));
    put_be64 (F_AUTOCLEAR, 1ull << 63);
    put_be64 (F_INCOMPAT, 1 | 2);           /* dirty, corrupt: readable */
    expect_accepted ();
    assert_int_equal (h.version, 3);
    assert_int_equal (h.cluster_bits, cb);
    assert_int_equal (h.size, VSIZE);
    assert_int_equal (h.l1_size, l1_needed (VSIZE, cb, 0));
    assert_int_equal (h.l1_table_offset, 2ull << cb);
    assert_int_equal (h.refcount_table_offset, 1ull << cb);
    assert_int_equal (h.snapshots_offset, 3ull << cb);
    assert_int_equal (h.incompatible, 3);
    assert_int_equal (h.compatible, 1 | (1ull << 40));
    assert_int_equal (h.autoclear, 1ull << 63);
    assert_int_equal (h.refcount_order, 4);
    assert_int_equal (h.header_length, 112);
    assert_int_equal (h.compression_type, 0);
  }
}

/* 104 is the shortest v3 header; compression_type is then deflate. */
static void
test_v3_header_length_104 (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    build (3, cb);
    put_be32 (F_HEADER_LENGTH, 104);
    expect_accepted ();
    assert_int_equal (h.header_length, 104);
    assert_int_equal (h.compression_type, 0);
    /* Byte 104 then starts the extension area, not a compression type:
     * here an unknown, empty extension 0x01000000.
     */
    put_extension (104, 0x01000000, "", 0);
    expect_accepted ();
    assert_int_equal (h.compression_type, 0);
  }
}

static void
test_zstd (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    build (3, cb);
    put_be64 (F_INCOMPAT, INCOMPAT_COMPRESSION);
    buf[F_COMPRESSION_TYPE] = 1;
    expect_accepted ();
    assert_int_equal (h.compression_type, 1);
  }
}

static void
test_refcount_orders (void **state)
{
  unsigned order;

  for (order = 0; order <= 6; order++) {
    build (3, 16);
    put_be32 (F_REFCOUNT_ORDER, order);
    expect_accepted ();
    assert_int_equal (h.refcount_order, order);
  }
}

/* Extended L2: 16-byte entries, so twice the L1 entries; qemu needs
 * subclusters of at least 512 bytes, clusters of at least 16 KiB.
 */
static void
test_extended_l2 (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    build (3, cb);
    put_be64 (F_INCOMPAT, INCOMPAT_EXTL2);
    put_be32 (F_L1_SIZE, l1_needed (VSIZE, cb, 1));
    if (cb >= 14) {
      expect_accepted ();
      assert_int_equal (h.incompatible, INCOMPAT_EXTL2);
      continue;
    }
    expect_refused (EINVAL, "qcow2 header: extended L2 entries need clusters "
                    "of at least 16384 bytes, not %u", 1u << cb);
  }
}

/* With extended L2 one L1 entry covers half as much: the L1 size that is
 * enough for standard entries may not be.
 */
static void
test_extended_l2_l1_size (void **state)
{
  uint64_t size = 8ull << 30;   /* 8 GiB, 64 KiB clusters */

  build (3, 16);
  put_be64 (F_SIZE, size);
  put_be64 (F_INCOMPAT, INCOMPAT_EXTL2);
  /* 4096 entries of 16 bytes per L2 table: 256 MiB per L1 entry. */
  put_be32 (F_L1_SIZE, 32);
  expect_accepted ();
  put_be32 (F_L1_SIZE, 31);
  expect_refused (EINVAL, "qcow2 header: l1_size 31 is too small for the "
                  "virtual size %" PRIu64 " (needs 32)", size);
  /* The same 16 entries suffice without extended L2 (512 MiB each). */
  put_be64 (F_INCOMPAT, 0);
  put_be32 (F_L1_SIZE, 16);
  expect_accepted ();
}

/* The largest virtual size: L1 at most 32 MiB (4 Mi entries). */
static void
test_max_virtual_size (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    uint64_t cluster = 1ull << cb;
    uint64_t max = 4194304ull * cluster * (cluster / 8);

    build (3, cb);
    file_size = 2 * cluster + 32 * 1024 * 1024;
    put_be32 (F_NB_SNAPSHOTS, 0);
    put_be64 (F_SNAPSHOTS_OFFSET, 0);
    put_be64 (F_SIZE, max);
    put_be32 (F_L1_SIZE, 4194304);
    expect_accepted ();
    assert_int_equal (h.size, max);
    put_be64 (F_SIZE, max + 512);
    expect_refused (EINVAL, "qcow2 header: l1_size 4194304 is too small for "
                    "the virtual size %" PRIu64 " (needs 4194305)", max + 512);
    put_be32 (F_L1_SIZE, 4194305);
    expect_refused (EINVAL, "qcow2 header: L1 table of 4194305 entries "
                    "(33554440 bytes) is too large (at most 33554432 bytes)");
  }
  /* The notes' figures: 512 B -> 128 GiB, 64 KiB -> 2 PiB, 2 MiB -> 2 EiB. */
  assert_int_equal (4194304ull * 512 * 64, 128ull << 30);
  assert_int_equal (4194304ull * 65536 * 8192, 2ull << 50);
  assert_int_equal (4194304ull * 2097152 * 262144, 2ull << 60);
}

/* ---- the fixed fields ---- */

static void
test_too_short (void **state)
{
  build (2, 16);
  truncate_to (71);
  expect_refused (EINVAL, "file is too short for a qcow2 header (71 bytes)");
  build (3, 16);
  truncate_to (103);
  expect_refused (EINVAL, "file is too short for a qcow2 v3 header "
                  "(103 bytes)");
  truncate_to (72);
  expect_refused (EINVAL, "file is too short for a qcow2 v3 header "
                  "(72 bytes)");
  /* A bad version in a short file is refused without reading v3 fields
   * (exact-size buffer: valgrind and ASan see any read past it).
   */
  build (3, 16);
  put_be32 (F_VERSION, 4);
  truncate_to (72);
  expect_refused (ENOTSUP, "qcow2 header: version 4 is not supported (only 2 "
                  "and 3)");
  /* A v2 header needs only its 72 bytes. */
  build (2, 16);
  truncate_to (72);
  expect_accepted ();
  assert_int_equal (h.version, 2);
}

/* qemu: "Image is not in qcow2 format" (also when the format is given,
 * e.g. by a backing format extension saying qcow2).
 */
static void
test_bad_magic (void **state)
{
  unsigned version;

  for (version = 2; version <= 3; version++) {
    build (version, 16);
    put_be32 (F_MAGIC, 0x514649fc);
    expect_refused (EINVAL, "not a qcow2 image (magic 0x514649fc)");
    put_be32 (F_MAGIC, 0);
    expect_refused (EINVAL, "not a qcow2 image (magic 0x00000000)");
  }
}

static void
test_version (void **state)
{
  static const uint32_t bad[] = { 0, 1, 4, 0x02000000, 0xffffffff };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    build (3, 16);
    put_be32 (F_VERSION, bad[i]);
    expect_refused (ENOTSUP, "qcow2 header: version %" PRIu32 " is not "
                    "supported (only 2 and 3)", bad[i]);
  }
}

static void
test_cluster_bits (void **state)
{
  static const uint32_t bad[] = { 0, 8, 22, 31, 32, 64, 0x09000000, 0xffffffff };
  unsigned version;
  size_t i;

  for (version = 2; version <= 3; version++)
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      build (version, 16);
      put_be32 (F_CLUSTER_BITS, bad[i]);
      expect_refused (EINVAL, "qcow2 header: cluster_bits %" PRIu32 " is out "
                      "of range (9 to 21)", bad[i]);
    }
}

static void
test_header_length (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    build (3, cb);
    put_be32 (F_HEADER_LENGTH, 103);
    expect_refused (EINVAL, "qcow2 header: header_length 103 is too small "
                    "(at least 104)");
    put_be32 (F_HEADER_LENGTH, 0);
    expect_refused (EINVAL, "qcow2 header: header_length 0 is too small "
                    "(at least 104)");
    /* A whole cluster is allowed, one byte more is not. */
    put_be32 (F_HEADER_LENGTH, 1u << cb);
    expect_accepted ();
    put_be32 (F_HEADER_LENGTH, (1u << cb) + 8);
    expect_refused (EINVAL, "qcow2 header: header_length %u passes the first "
                    "cluster or the end of the file", (1u << cb) + 8);
  }
  /* A file shorter than its header. */
  build (3, 16);
  put_be32 (F_HEADER_LENGTH, 120);
  truncate_to (116);
  expect_refused (EINVAL, "qcow2 header: header_length 120 passes the first "
                  "cluster or the end of the file");
}

static void
test_unknown_incompatible (void **state)
{
  static const unsigned bits[] = { 5, 6, 31, 32, 63 };
  size_t i;

  for (i = 0; i < sizeof bits / sizeof bits[0]; i++) {
    build (3, 16);
    put_be64 (F_INCOMPAT, 1ull << bits[i]);
    expect_refused (ENOTSUP, "qcow2 header: unknown incompatible feature bit "
                    "%u (incompatible_features 0x%" PRIx64 ")",
                    bits[i], (uint64_t) 1 << bits[i]);
  }
  /* The lowest unknown bit is named; known bits alongside do not matter. */
  build (3, 16);
  put_be64 (F_INCOMPAT, (1ull << 7) | (1ull << 9) | 1);
  expect_refused (ENOTSUP, "qcow2 header: unknown incompatible feature bit 7 "
                  "(incompatible_features 0x281)");
}

/* The feature name table (spec: type 0 incompatible, 1 compatible,
 * 2 autoclear; bit number; 46 bytes of name) names the bit.
 */
static void
test_unknown_incompatible_named (void **state)
{
  unsigned char table[3 * 48] = { 0 };

  table[0] = 1;                 /* a compatible feature with the same bit */
  table[1] = 5;
  memcpy (table + 2, "not-this-one", 12);
  table[48] = 0;
  table[49] = 6;
  memcpy (table + 50, "other-bit", 9);
  table[96] = 0;
  table[97] = 5;
  memcpy (table + 98, "frobnicated", 11);
  build (3, 16);
  put_be64 (F_INCOMPAT, 1ull << 5);
  put_extension (112, EXT_FEATURE_TABLE, table, sizeof table);
  expect_refused (ENOTSUP, "qcow2 header: unknown incompatible feature bit 5 "
                  "(\"frobnicated\") (incompatible_features 0x20)");
  /* A name filling all 46 bytes, without NUL. */
  memset (table + 98, 'n', 46);
  put_extension (112, EXT_FEATURE_TABLE, table, sizeof table);
  expect_refused (ENOTSUP, "qcow2 header: unknown incompatible feature bit 5 "
                  "(\"%s\") (incompatible_features 0x20)",
                  "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
}

static void
test_encryption (void **state)
{
  unsigned version;

  for (version = 2; version <= 3; version++) {
    build (version, 16);
    put_be32 (F_CRYPT, 1);
    expect_refused (ENOTSUP, "qcow2 header: the image is encrypted "
                    "(crypt_method 1, AES); encrypted images are not "
                    "supported");
    put_be32 (F_CRYPT, 2);
    expect_refused (ENOTSUP, "qcow2 header: the image is encrypted "
                    "(crypt_method 2, LUKS); encrypted images are not "
                    "supported");
    /* qemu: "Unsupported encryption method" (EINVAL). */
    put_be32 (F_CRYPT, 3);
    expect_refused (EINVAL, "qcow2 header: crypt_method 3 is unknown");
  }
}

static void
test_refcount_order (void **state)
{
  build (3, 16);
  put_be32 (F_REFCOUNT_ORDER, 7);
  expect_refused (EINVAL, "qcow2 header: refcount_order 7 is out of range "
                  "(0 to 6)");
  put_be32 (F_REFCOUNT_ORDER, 0xffffffff);
  expect_refused (EINVAL, "qcow2 header: refcount_order 4294967295 is out of "
                  "range (0 to 6)");
}

static void
test_compression_type (void **state)
{
  build (3, 16);
  put_be64 (F_INCOMPAT, INCOMPAT_COMPRESSION);
  buf[F_COMPRESSION_TYPE] = 2;
  expect_refused (ENOTSUP, "qcow2 header: compression_type 2 is unknown");
  buf[F_COMPRESSION_TYPE] = 255;
  expect_refused (ENOTSUP, "qcow2 header: compression_type 255 is unknown");
  /* zstd needs the feature bit; the bit needs a non-deflate type. */
  buf[F_COMPRESSION_TYPE] = 1;
  put_be64 (F_INCOMPAT, 0);
  expect_refused (EINVAL, "qcow2 header: compression_type 1 does not match "
                  "the compression type feature bit (incompatible_features "
                  "0x0)");
  buf[F_COMPRESSION_TYPE] = 0;
  put_be64 (F_INCOMPAT, INCOMPAT_COMPRESSION | 1);
  expect_refused (EINVAL, "qcow2 header: compression_type 0 does not match "
                  "the compression type feature bit (incompatible_features "
                  "0x9)");
  /* A 104-byte header has no compression_type field: deflate. */
  put_be32 (F_HEADER_LENGTH, 104);
  put_be64 (F_INCOMPAT, INCOMPAT_COMPRESSION);
  expect_refused (EINVAL, "qcow2 header: compression_type 0 does not match "
                  "the compression type feature bit (incompatible_features "
                  "0x8)");
}

/* ---- tables ---- */

static void
test_l1_table (void **state)
{
  unsigned version, cb;

  for (version = 2; version <= 3; version++)
    FOR_EACH_CLUSTER_BITS (cb) {
      uint64_t cluster = 1ull << cb;
      uint32_t needed = l1_needed (VSIZE, cb, 0);

      build (version, cb);
      put_be64 (F_L1_OFFSET, 2 * cluster + 8);
      expect_refused (EINVAL, "qcow2 header: L1 table offset 0x%" PRIx64
                      " is not aligned to the cluster size",
                      2 * cluster + 8);
      /* The table must lie inside the file. */
      build (version, cb);
      put_be64 (F_L1_OFFSET, 5 * cluster);
      expect_refused (EINVAL, "qcow2 header: L1 table (%u bytes at 0x%"
                      PRIx64 ") passes the end of the file (%" PRIu64
                      " bytes)", needed * 8, 5 * cluster, file_size);
      /* Just fits at the end. */
      put_be64 (F_L1_OFFSET, 4 * cluster);
      file_size = 4 * cluster + needed * 8;
      expect_accepted ();
      file_size--;
      expect_refused (EINVAL, "qcow2 header: L1 table (%u bytes at 0x%"
                      PRIx64 ") passes the end of the file (%" PRIu64
                      " bytes)", needed * 8, 4 * cluster, file_size);
      /* An offset whose end wraps around 2^64. */
      build (version, cb);
      put_be64 (F_L1_OFFSET, (UINT64_MAX >> cb) << cb);
      expect_refused (EINVAL, "qcow2 header: L1 table (%u bytes at 0x%"
                      PRIx64 ") passes the end of the file (%" PRIu64
                      " bytes)", needed * 8, (UINT64_MAX >> cb) << cb,
                      file_size);
      /* Too small for the virtual size. */
      build (version, cb);
      put_be32 (F_L1_SIZE, needed - 1);
      expect_refused (EINVAL, "qcow2 header: l1_size %u is too small for the "
                      "virtual size %d (needs %u)", needed - 1, VSIZE, needed);
      /* A larger one is fine. */
      put_be32 (F_L1_SIZE, needed + 3);
      expect_accepted ();
    }
}

/* qemu checks an empty table's alignment too (qemu-img: "Active L1 table
 * offset invalid" for l1_size 0 at offset 8).
 */
static void
test_empty_l1_table (void **state)
{
  build (3, 16);
  put_be64 (F_SIZE, 0);
  put_be32 (F_L1_SIZE, 0);
  put_be64 (F_L1_OFFSET, 0);
  expect_accepted ();
  assert_int_equal (h.size, 0);
  put_be64 (F_L1_OFFSET, 8);
  expect_refused (EINVAL, "qcow2 header: L1 table offset 0x8 is not aligned "
                  "to the cluster size");
}

/* qemu sizes the L1 table from the stored size, before rounding it down to
 * 512: with 512-byte clusters one L1 entry covers 32768 bytes, so a size
 * of 32868 needs two entries (qemu-img 7.2: "L1 table is too small").
 */
static void
test_l1_covers_unaligned_size (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    uint64_t per_l1 = (1ull << cb) * ((1ull << cb) / 8);

    build (3, cb);
    put_be64 (F_SIZE, per_l1);
    put_be32 (F_L1_SIZE, 1);
    expect_accepted ();
    put_be64 (F_SIZE, per_l1 + 100);
    expect_refused (EINVAL, "qcow2 header: l1_size 1 is too small for the "
                    "virtual size %" PRIu64 " (needs 2)", per_l1 + 100);
  }
}

static void
test_refcount_table (void **state)
{
  unsigned version, cb;

  for (version = 2; version <= 3; version++)
    FOR_EACH_CLUSTER_BITS (cb) {
      uint64_t cluster = 1ull << cb;
      uint32_t max_clusters = (8u << 20) >> cb;

      build (version, cb);
      put_be32 (F_REFTABLE_CLUSTERS, 0);
      expect_refused (EINVAL, "qcow2 header: refcount_table_clusters is 0: "
                      "the image has no refcount table");
      build (version, cb);
      put_be64 (F_REFTABLE_OFFSET, cluster + 512 / 2);
      expect_refused (EINVAL, "qcow2 header: refcount table offset 0x%" PRIx64
                      " is not aligned to the cluster size",
                      cluster + 512 / 2);
      build (version, cb);
      put_be32 (F_REFTABLE_CLUSTERS, 2);
      put_be64 (F_REFTABLE_OFFSET, 4 * cluster);
      expect_refused (EINVAL, "qcow2 header: refcount table (%" PRIu64
                      " bytes at 0x%" PRIx64 ") passes the end of the file (%"
                      PRIu64 " bytes)", 2 * cluster, 4 * cluster, file_size);
      /* At most 8 MiB (qemu's QCOW_MAX_REFTABLE_SIZE). */
      build (version, cb);
      file_size = cluster + (8u << 20) + cluster;
      put_be32 (F_NB_SNAPSHOTS, 0);
      put_be64 (F_L1_OFFSET, cluster + (8u << 20));
      put_be32 (F_REFTABLE_CLUSTERS, max_clusters);
      expect_accepted ();
      put_be32 (F_REFTABLE_CLUSTERS, max_clusters + 1);
      expect_refused (EINVAL, "qcow2 header: refcount table of %u clusters "
                      "(%" PRIu64 " bytes) is too large (at most 8388608 "
                      "bytes)", max_clusters + 1,
                      (uint64_t) (max_clusters + 1) << cb);
    }
}

static void
test_snapshot_table (void **state)
{
  unsigned version, cb;

  for (version = 2; version <= 3; version++)
    FOR_EACH_CLUSTER_BITS (cb) {
      uint64_t cluster = 1ull << cb;

      build (version, cb);
      put_be32 (F_NB_SNAPSHOTS, 65537);
      expect_refused (EINVAL, "qcow2 header: nb_snapshots 65537 is too large "
                      "(at most 65536)");
      build (version, cb);
      put_be64 (F_SNAPSHOTS_OFFSET, 3 * cluster + 40);
      expect_refused (EINVAL, "qcow2 header: snapshot table offset 0x%" PRIx64
                      " is not aligned to the cluster size",
                      3 * cluster + 40);
      /* Entries are at least 40 bytes each. */
      build (version, cb);
      put_be64 (F_SNAPSHOTS_OFFSET, 4 * cluster);
      file_size = 4 * cluster + 80;
      expect_accepted ();
      file_size--;
      expect_refused (EINVAL, "qcow2 header: snapshot table (80 bytes at 0x%"
                      PRIx64 ") passes the end of the file (%" PRIu64
                      " bytes)", 4 * cluster, file_size);
      /* No snapshots: the offset must still be aligned (qemu-img 7.2:
       * "Snapshot table offset invalid").
       */
      build (version, cb);
      put_be32 (F_NB_SNAPSHOTS, 0);
      put_be64 (F_SNAPSHOTS_OFFSET, 0x208);
      expect_refused (EINVAL, "qcow2 header: snapshot table offset 0x208 is "
                      "not aligned to the cluster size");
    }
}

/* ---- extensions and the backing name ---- */

static void
test_extensions (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    size_t next;

    build (3, cb);
    put_be64 (F_INCOMPAT, INCOMPAT_DATA_FILE);
    next = put_extension (112, EXT_BACKING_FORMAT, "qcow2", 5);
    assert_int_equal (next, 128);
    next = put_extension (next, 0x12345678, "abc", 3);    /* unknown: skipped */
    next = put_extension (next, EXT_DATA_FILE, "data.raw", 8);
    assert_int_equal (next, 160);
    put_be32 (next, 0);         /* end */
    put_be32 (next + 4, 0);
    /* After the end marker nothing is read. */
    put_extension (next + 8, EXT_CRYPTO, "x", 1);
    expect_accepted ();
    assert_string_equal (h.backing_format, "qcow2");
    assert_non_null (h.data_file);
    assert_string_equal (h.data_file, "data.raw");
    free_header ();
  }
}

static void
test_backing_format_extension (void **state)
{
  build (3, 16);
  put_extension (112, EXT_BACKING_FORMAT, "123456789012345", 15);
  expect_accepted ();
  assert_string_equal (h.backing_format, "123456789012345");
  put_extension (112, EXT_BACKING_FORMAT, "1234567890123456", 16);
  expect_refused (EINVAL, "qcow2 backing format extension: length 16 is too "
                  "long (at most 15)");
}

static void
test_data_file_missing (void **state)
{
  build (3, 16);
  put_be64 (F_INCOMPAT, INCOMPAT_DATA_FILE);
  expect_refused (EINVAL, "qcow2 header: the image needs an external data "
                  "file but names none");
}

/* A failure after the data file name was read must not leak it. */
static void
test_data_file_freed_on_error (void **state)
{
  size_t next;

  build (3, 16);
  put_be64 (F_INCOMPAT, INCOMPAT_DATA_FILE);
  next = put_extension (112, EXT_DATA_FILE, "data.raw", 8);
  put_extension (next, EXT_CRYPTO, "0123456789abcdef", 16);
  expect_refused (EINVAL, "qcow2 header: a LUKS crypto header extension in "
                  "an image without LUKS encryption");
}

static void
test_extension_past_area (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    uint32_t cluster = 1u << cb;

    build (3, cb);
    put_be32 (112, 0x12345678);
    put_be32 (116, cluster - 120 + 1);
    expect_refused (EINVAL, "qcow2 header extension 0x12345678 at 0x70: "
                    "length %u passes the end of the extension area (0x%x)",
                    cluster - 120 + 1, cluster);
    /* Exactly up to the end of the cluster is fine. */
    put_be32 (116, cluster - 120);
    expect_accepted ();
    /* The area ends at the backing name. */
    build (3, cb);
    put_be64 (F_BACKING_OFFSET, 116);
    expect_refused (EINVAL, "qcow2 header extension at 0x70 passes the end of "
                    "the extension area (0x74)");
  }
}

/* qemu checks an extension's length before looking at its magic, so an end
 * marker with a length past the area is refused (qemu-img 7.2: "Header
 * extension too large").
 */
static void
test_end_marker_length_checked (void **state)
{
  build (3, 16);
  put_be32 (112, 0);
  put_be32 (116, 0xffffffff);
  assert_int_equal (parse (), -1);
  assert_int_equal (errno, EINVAL);
  assert_int_equal (reports, 1);
  assert_non_null (strstr (message, "length 4294967295 passes the end of the "
                           "extension area"));
}

static void
test_backing_name (void **state)
{
  unsigned version, cb;

  for (version = 2; version <= 3; version++)
    FOR_EACH_CLUSTER_BITS (cb) {
      uint32_t cluster = 1u << cb;

      build (version, cb);
      memcpy (buf + 256, "base image.qcow2", 16);
      put_be64 (F_BACKING_OFFSET, 256);
      put_be32 (F_BACKING_SIZE, 16);
      expect_accepted ();
      assert_string_equal (h.backing_name, "base image.qcow2");
      /* The name ends at a NUL, as qemu reads it. */
      buf[256 + 4] = '\0';
      expect_accepted ();
      assert_string_equal (h.backing_name, "base");
      /* Offset 0 means no backing file, whatever the size says. */
      put_be64 (F_BACKING_OFFSET, 0);
      expect_accepted ();
      assert_string_equal (h.backing_name, "");
      /* The name must lie in the first cluster. */
      put_be64 (F_BACKING_OFFSET, cluster + 8);
      expect_refused (EINVAL, "qcow2 header: backing_file_offset 0x%x is "
                      "outside the first cluster", cluster + 8);
      put_be64 (F_BACKING_OFFSET, cluster - 8);
      put_be32 (F_BACKING_SIZE, 9);
      expect_refused (EINVAL, "qcow2 header: backing file name (9 bytes at "
                      "0x%x) passes the end of the first cluster (%u bytes)",
                      cluster - 8, cluster);
      put_be32 (F_BACKING_SIZE, 8);
      memcpy (buf + cluster - 8, "lastname", 8);
      expect_accepted ();
      assert_string_equal (h.backing_name, "lastname");
    }
}

static void
test_backing_name_length (void **state)
{
  build (3, 16);
  memset (buf + 512, 'b', 1024);
  put_be64 (F_BACKING_OFFSET, 512);
  put_be32 (F_BACKING_SIZE, 1023);
  expect_accepted ();
  assert_int_equal (strlen (h.backing_name), 1023);
  put_be32 (F_BACKING_SIZE, 1024);
  expect_refused (EINVAL, "qcow2 header: backing_file_size 1024 is too long "
                  "(at most 1023)");
  put_be32 (F_BACKING_SIZE, 0xffffffff);
  expect_refused (EINVAL, "qcow2 header: backing_file_size 4294967295 is too "
                  "long (at most 1023)");
}

/* Given fewer bytes than the name needs (a file shorter than a cluster). */
static void
test_backing_name_past_buffer (void **state)
{
  build (3, 16);
  memcpy (buf + 256, "base.qcow2", 10);
  put_be64 (F_BACKING_OFFSET, 256);
  put_be32 (F_BACKING_SIZE, 10);
  truncate_to (265);
  expect_refused (EINVAL, "qcow2 header: the backing file name passes the "
                  "end of the file");
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, capture_setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_v2_every_cluster_size),
    T (test_v3_every_cluster_size),
    T (test_v3_header_length_104),
    T (test_zstd),
    T (test_refcount_orders),
    T (test_extended_l2),
    T (test_extended_l2_l1_size),
    T (test_max_virtual_size),
    T (test_too_short),
    T (test_bad_magic),
    T (test_version),
    T (test_cluster_bits),
    T (test_header_length),
    T (test_unknown_incompatible),
    T (test_unknown_incompatible_named),
    T (test_encryption),
    T (test_refcount_order),
    T (test_compression_type),
    T (test_l1_table),
    T (test_empty_l1_table),
    T (test_l1_covers_unaligned_size),
    T (test_refcount_table),
    T (test_snapshot_table),
    T (test_extensions),
    T (test_backing_format_extension),
    T (test_data_file_missing),
    T (test_data_file_freed_on_error),
    T (test_extension_past_area),
    T (test_end_marker_length_checked),
    T (test_backing_name),
    T (test_backing_name_length),
    T (test_backing_name_past_buffer),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
