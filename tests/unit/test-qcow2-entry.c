/* L1/L2 entry decoding: standard entries, extended L2 subcluster bitmaps,
 * compressed cluster descriptors for every cluster size.  Expected values
 * are built from docs/interop/qcow2.txt ("Cluster mapping"), with qemu's
 * qcow2_get_cluster_type()/qcow2_get_subcluster_type() where the spec
 * leaves the reader a choice.
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "qcow2-entry.h"
#include "qcow2-header.h"
#include "test-qcow2-build.h"

static const struct qcow2_layout standard = { false, false };
static const struct qcow2_layout standard_data_file = { false, true };
static const struct qcow2_layout extended = { true, false };
static const struct qcow2_layout extended_data_file = { true, true };

static enum qcow2_sc_type
type_of (const struct qcow2_layout *layout, uint64_t entry)
{
  return qcow2_subcluster_type (layout, entry, 0, 0);
}

/* ---- L1 and L2 geometry ---- */

static void
test_l2_entries_every_cluster_size (void **state)
{
  /* cluster size, entries per L2 table standard / extended */
  static const struct { unsigned bits; uint64_t std, ext; } cases[] = {
    { 9, 64, 32 }, { 10, 128, 64 }, { 11, 256, 128 }, { 12, 512, 256 },
    { 13, 1024, 512 }, { 14, 2048, 1024 }, { 15, 4096, 2048 },
    { 16, 8192, 4096 }, { 17, 16384, 8192 }, { 18, 32768, 16384 },
    { 19, 65536, 32768 }, { 20, 131072, 65536 }, { 21, 262144, 131072 },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal (qcow2_l2_entries (cases[i].bits, false), cases[i].std);
    assert_int_equal (qcow2_l2_entries (cases[i].bits, true), cases[i].ext);
  }
}

/* L1 and L2 entries keep the host offset in bits 9..55; bit 63 is COPIED,
 * bits 0..8 and 56..62 are flags or reserved.
 */
static void
test_entry_offset_bits (void **state)
{
  assert_int_equal (qcow2_entry_offset (0), 0);
  assert_int_equal (qcow2_entry_offset (COPIED | 0x50000), 0x50000);
  assert_int_equal (qcow2_entry_offset (0x501ff), 0x50000);
  assert_int_equal (qcow2_entry_offset (0x7f00000000000000ull), 0);
  assert_int_equal (qcow2_entry_offset (UINT64_MAX), 0x00fffffffffffe00ull);
  assert_int_equal (qcow2_entry_offset (1ull << 9), 512);
  assert_int_equal (qcow2_entry_offset (1ull << 55), 1ull << 55);
  assert_int_equal (qcow2_entry_offset (1ull << 56), 0);
}

/* ---- standard L2 entries ---- */

static void
test_standard_unallocated (void **state)
{
  assert_int_equal (type_of (&standard, 0), QCOW2_SC_UNALLOCATED);
  /* COPIED with offset 0 means nothing without a data file. */
  assert_int_equal (type_of (&standard, COPIED), QCOW2_SC_UNALLOCATED);
  /* Reserved bits 1..8 do not make an offset. */
  assert_int_equal (type_of (&standard, 0x1fe), QCOW2_SC_UNALLOCATED);
}

static void
test_standard_zero (void **state)
{
  /* Plain zero: flag, no cluster. */
  assert_int_equal (type_of (&standard, ZERO_FLAG), QCOW2_SC_ZERO);
  assert_true (qcow2_entry_is_zero_flagged (ZERO_FLAG));
  /* Preallocated zero: flag wins over the offset, which stays readable. */
  assert_int_equal (type_of (&standard, COPIED | 0x50000 | ZERO_FLAG),
                    QCOW2_SC_ZERO);
  assert_true (qcow2_entry_is_zero_flagged (COPIED | 0x50000 | ZERO_FLAG));
  assert_int_equal (qcow2_entry_offset (COPIED | 0x50000 | ZERO_FLAG),
                    0x50000);
  /* Data entries are not zero-flagged. */
  assert_false (qcow2_entry_is_zero_flagged (COPIED | 0x50000));
  assert_false (qcow2_entry_is_zero_flagged (0));
}

static void
test_standard_data (void **state)
{
  assert_int_equal (type_of (&standard, COPIED | 0x50000), QCOW2_SC_DATA);
  assert_int_equal (type_of (&standard, 0x50000), QCOW2_SC_DATA);
  assert_int_equal (type_of (&standard, 1ull << 9), QCOW2_SC_DATA);
  assert_int_equal (type_of (&standard, COPIED | 0x00fffffffffffe00ull),
                    QCOW2_SC_DATA);
}

/* With an external data file, host offset 0 is a real cluster when COPIED
 * is set (refcount 1, always so there).
 */
static void
test_standard_data_file_offset_0 (void **state)
{
  assert_int_equal (type_of (&standard_data_file, COPIED), QCOW2_SC_DATA);
  assert_int_equal (type_of (&standard_data_file, 0), QCOW2_SC_UNALLOCATED);
  assert_int_equal (type_of (&standard_data_file, COPIED | 0x10000),
                    QCOW2_SC_DATA);
  assert_int_equal (type_of (&standard_data_file, COPIED | ZERO_FLAG),
                    QCOW2_SC_ZERO);
}

/* Bit 0 of a compressed descriptor is part of the offset, not a zero flag;
 * bit 62 decides.
 */
static void
test_standard_compressed (void **state)
{
  assert_int_equal (type_of (&standard, COMPRESSED | 0x50000),
                    QCOW2_SC_COMPRESSED);
  assert_int_equal (type_of (&standard, COMPRESSED | 0x50201),
                    QCOW2_SC_COMPRESSED);
  assert_false (qcow2_entry_is_zero_flagged (COMPRESSED | 0x50201));
  assert_int_equal (type_of (&standard, COMPRESSED), QCOW2_SC_COMPRESSED);
}

/* The subcluster index is ignored without extended L2. */
static void
test_standard_ignores_bitmap_and_index (void **state)
{
  unsigned sc;

  for (sc = 0; sc < 32; sc++) {
    assert_int_equal (qcow2_subcluster_type (&standard, COPIED | 0x50000,
                                             0, sc), QCOW2_SC_DATA);
    assert_int_equal (qcow2_subcluster_type (&standard, 0, 0, sc),
                      QCOW2_SC_UNALLOCATED);
  }
}

/* ---- extended L2: bits 0..31 allocated, 32..63 reads as zeros ---- */

static void
test_extended_each_subcluster_allocated (void **state)
{
  uint64_t entry = COPIED | 0x50000;
  unsigned sc, other;

  for (sc = 0; sc < 32; sc++)
    for (other = 0; other < 32; other++)
      assert_int_equal (qcow2_subcluster_type (&extended, entry, ALLOC (sc),
                                               other),
                        other == sc ? QCOW2_SC_DATA : QCOW2_SC_UNALLOCATED);
}

static void
test_extended_each_subcluster_zero (void **state)
{
  unsigned sc, other;

  for (sc = 0; sc < 32; sc++)
    for (other = 0; other < 32; other++) {
      enum qcow2_sc_type want = other == sc ? QCOW2_SC_ZERO
                                            : QCOW2_SC_UNALLOCATED;

      /* Zero subclusters with and without a host cluster. */
      assert_int_equal (qcow2_subcluster_type (&extended, COPIED | 0x50000,
                                               ZEROES (sc), other), want);
      assert_int_equal (qcow2_subcluster_type (&extended, 0, ZEROES (sc),
                                               other), want);
    }
}

static void
test_extended_mixed_bitmap (void **state)
{
  /* Even subclusters allocated, odd ones zero, except 31: backing. */
  uint64_t bitmap = 0;
  unsigned sc;

  for (sc = 0; sc < 31; sc++)
    bitmap |= sc % 2 == 0 ? ALLOC (sc) : ZEROES (sc);
  assert_int_equal (bitmap, 0x2aaaaaaa55555555ull);
  for (sc = 0; sc < 32; sc++)
    assert_int_equal (qcow2_subcluster_type (&extended, COPIED | 0x50000,
                                             bitmap, sc),
                      sc == 31 ? QCOW2_SC_UNALLOCATED
                      : sc % 2 == 0 ? QCOW2_SC_DATA : QCOW2_SC_ZERO);
  /* Every subcluster allocated. */
  for (sc = 0; sc < 32; sc++)
    assert_int_equal (qcow2_subcluster_type (&extended, 0x50000,
                                             0x00000000ffffffffull, sc),
                      QCOW2_SC_DATA);
}

/* Both bits for one subcluster is corruption; qemu then refuses every
 * subcluster of that cluster.
 */
static void
test_extended_both_bits_invalid (void **state)
{
  unsigned sc, other;

  for (sc = 0; sc < 32; sc++)
    for (other = 0; other < 32; other++)
      assert_int_equal (qcow2_subcluster_type (&extended, COPIED | 0x50000,
                                               ALLOC (sc) | ZEROES (sc),
                                               other),
                        QCOW2_SC_INVALID);
  /* Different subclusters with one bit each are fine. */
  assert_int_equal (qcow2_subcluster_type (&extended, COPIED | 0x50000,
                                           ALLOC (3) | ZEROES (4), 3),
                    QCOW2_SC_DATA);
}

/* Allocation bits on a cluster with no host offset are corruption. */
static void
test_extended_alloc_without_cluster_invalid (void **state)
{
  unsigned sc, other;

  for (sc = 0; sc < 32; sc++)
    for (other = 0; other < 32; other++)
      assert_int_equal (qcow2_subcluster_type (&extended, 0, ALLOC (sc),
                                               other),
                        QCOW2_SC_INVALID);
  assert_int_equal (qcow2_subcluster_type (&extended, COPIED, ALLOC (0), 0),
                    QCOW2_SC_INVALID);
  assert_int_equal (qcow2_subcluster_type (&extended, 0, 0, 5),
                    QCOW2_SC_UNALLOCATED);
}

/* With extended L2 bit 0 is not a zero flag. */
static void
test_extended_no_zero_flag (void **state)
{
  assert_int_equal (qcow2_subcluster_type (&extended, ZERO_FLAG, 0, 0),
                    QCOW2_SC_UNALLOCATED);
  assert_int_equal (qcow2_subcluster_type (&extended, COPIED | 0x50000
                                           | ZERO_FLAG, ALLOC (2), 2),
                    QCOW2_SC_DATA);
}

/* A compressed cluster is whole; its bitmap is reserved. */
static void
test_extended_compressed (void **state)
{
  unsigned sc;

  for (sc = 0; sc < 32; sc++) {
    assert_int_equal (qcow2_subcluster_type (&extended, COMPRESSED | 0x50000,
                                             0, sc), QCOW2_SC_COMPRESSED);
    assert_int_equal (qcow2_subcluster_type (&extended, COMPRESSED | 0x50000,
                                             UINT64_MAX, sc),
                      QCOW2_SC_COMPRESSED);
  }
}

static void
test_extended_data_file_offset_0 (void **state)
{
  unsigned sc;

  for (sc = 0; sc < 32; sc++)
    assert_int_equal (qcow2_subcluster_type (&extended_data_file, COPIED,
                                             ALLOC (7) | ZEROES (9), sc),
                      sc == 7 ? QCOW2_SC_DATA
                      : sc == 9 ? QCOW2_SC_ZERO : QCOW2_SC_UNALLOCATED);
  /* Without COPIED it is unallocated: allocation bits are then corrupt. */
  assert_int_equal (qcow2_subcluster_type (&extended_data_file, 0,
                                           ALLOC (7), 7), QCOW2_SC_INVALID);
}

/* ---- compressed cluster descriptors ----
 *
 * x = 62 - (cluster_bits - 8); bits 0..x-1 host offset, bits x..61 the
 * number of 512-byte sectors beyond the first; the payload is that many
 * sectors plus one, less the offset into the first sector.
 */

static void
check_descriptor (unsigned cluster_bits, uint64_t offset,
                  uint64_t more_sectors, uint64_t entry_extra_bits)
{
  struct qcow2_compressed c;
  uint64_t entry = compressed_descriptor (cluster_bits, offset, more_sectors)
                   | entry_extra_bits;

  qcow2_decode_compressed (cluster_bits, entry, &c);
  assert_int_equal (c.offset, offset);
  assert_int_equal (c.size, (more_sectors + 1) * 512 - offset % 512);
}

static void
test_compressed_every_cluster_size (void **state)
{
  unsigned cb;

  for (cb = 9; cb <= 21; cb++) {
    unsigned x = 62 - (cb - 8);
    uint64_t max_offset = (1ull << x) - 1;
    uint64_t max_sectors = (1ull << (cb - 8)) - 1;
    static const uint64_t offsets[] = {
      0, 1, 511, 512, 0x50000, 0x50000 + 37, 0x123456789ull,
    };
    size_t i;

    for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
      check_descriptor (cb, offsets[i], 0, 0);
      check_descriptor (cb, offsets[i], 1, 0);
      check_descriptor (cb, offsets[i], max_sectors, 0);
      check_descriptor (cb, offsets[i], max_sectors / 2, 0);
    }
    /* All offset bits set: none leaks into the sector count. */
    check_descriptor (cb, max_offset, 0, 0);
    check_descriptor (cb, max_offset, max_sectors, 0);
    /* COPIED (bit 63) is not part of the descriptor. */
    check_descriptor (cb, 0x50000 + 100, max_sectors, COPIED);
    /* The largest count, 2^(cb-8) sectors from an aligned offset: twice
     * the cluster size.
     */
    {
      uint64_t entry = compressed_descriptor (cb, 0x10000, max_sectors);
      struct qcow2_compressed c;

      qcow2_decode_compressed (cb, entry, &c);
      assert_int_equal (c.size, 2ull << cb);
    }
  }
}

/* A few descriptors worked out by hand from the spec. */
static void
test_compressed_by_hand (void **state)
{
  struct qcow2_compressed c;

  /* 64 KiB clusters: x = 54.  Field 3 -> 4 sectors; offset 0x10234 is 0x34
   * into its sector: 2048 - 52 bytes.
   */
  qcow2_decode_compressed (16, 0x40C0000000010234ull, &c);
  assert_int_equal (c.offset, 0x10234);
  assert_int_equal (c.size, 1996);
  /* 512-byte clusters: x = 61, a one-bit field. */
  qcow2_decode_compressed (9, 0x6000000000000200ull, &c);
  assert_int_equal (c.offset, 0x200);
  assert_int_equal (c.size, 1024);
  qcow2_decode_compressed (9, 0x4000000000000200ull, &c);
  assert_int_equal (c.size, 512);
  /* 2 MiB clusters: x = 49, field bits 49..61 all set: 8192 sectors. */
  qcow2_decode_compressed (21, 0x7ffe000000400000ull, &c);
  assert_int_equal (c.offset, 0x400000);
  assert_int_equal (c.size, 8192 * 512);
  /* 4 KiB clusters: x = 58, field 0xf (bits 58..61): 16 sectors. */
  qcow2_decode_compressed (12, 0x7c000000000001ffull, &c);
  assert_int_equal (c.offset, 0x1ff);
  assert_int_equal (c.size, 16 * 512 - 511);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_l2_entries_every_cluster_size),
    cmocka_unit_test (test_entry_offset_bits),
    cmocka_unit_test (test_standard_unallocated),
    cmocka_unit_test (test_standard_zero),
    cmocka_unit_test (test_standard_data),
    cmocka_unit_test (test_standard_data_file_offset_0),
    cmocka_unit_test (test_standard_compressed),
    cmocka_unit_test (test_standard_ignores_bitmap_and_index),
    cmocka_unit_test (test_extended_each_subcluster_allocated),
    cmocka_unit_test (test_extended_each_subcluster_zero),
    cmocka_unit_test (test_extended_mixed_bitmap),
    cmocka_unit_test (test_extended_both_bits_invalid),
    cmocka_unit_test (test_extended_alloc_without_cluster_invalid),
    cmocka_unit_test (test_extended_no_zero_flag),
    cmocka_unit_test (test_extended_compressed),
    cmocka_unit_test (test_extended_data_file_offset_0),
    cmocka_unit_test (test_compressed_every_cluster_size),
    cmocka_unit_test (test_compressed_by_hand),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
