/* The hole planner over device profiles this machine does not have, each
 * described through a made-up struct fact_reader (the same path the real
 * probe takes through sysfs and the device-mapper table).
 */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "planner.h"
#include "probe.h"
#include "zeroer.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

struct attr {
  const char *path;
  const char *value;
};

struct fake_device {
  const char *name;
  const struct attr *attrs;     /* ends with { NULL } */
  const char *dm_table;         /* NULL: the ioctl fails */
};

static int
fake_read_attr (void *opaque, const char *path, char *buf, size_t size)
{
  const struct fake_device *dev = opaque;
  const struct attr *a;

  for (a = dev->attrs; a->path; a++)
    if (strcmp (a->path, path) == 0) {
      snprintf (buf, size, "%s", a->value);
      return 0;
    }
  errno = ENOENT;
  return -1;
}

static int
fake_dm_table (void *opaque, char *buf, size_t size)
{
  const struct fake_device *dev = opaque;

  if (dev->dm_table == NULL) {
    errno = ENXIO;
    return -1;
  }
  snprintf (buf, size, "%s", dev->dm_table);
  return 0;
}

/* Facts of a 16 GiB block device with 512-byte logical blocks. */
static struct device_facts
probe_fake (const struct fake_device *dev)
{
  struct fact_reader reader = { fake_read_attr, fake_dm_table, (void *) dev };
  struct device_facts f;

  memset (&f, 0, sizeof f);
  f.kind = TARGET_BLOCK_DEVICE;
  f.size = 16 * GiB;
  f.logical_block_size = 512;
  f.physical_block_size = 4096;
  f.rotational = -1;
  assert_int_equal (probe_disk_facts (&reader, dev->name, &f), 0);
  return f;
}

/* ---- profiles ---------------------------------------------------------- */

/* LVM thin, 64 KiB chunks: no write-zeroes, discards whole chunks. */
static const struct attr lvm_thin_attrs[] = {
  { "dm/name", "vg-thinvol" },
  { "queue/discard_granularity", "65536" },
  { "queue/discard_max_bytes", "17179869184" },
  { "queue/write_zeroes_max_bytes", "0" },
  { "queue/write_zeroes_unmap_max_bytes", "0" },
  { "queue/rotational", "0" },
  { NULL },
};
static const struct fake_device lvm_thin = {
  "dm-3", lvm_thin_attrs, "0 33554432 thin 253:2 1\n",
};
static const struct fake_device thin_external_origin = {
  "dm-4", lvm_thin_attrs, "0 33554432 thin 253:2 7 253:9\n",
};
static const struct fake_device dm_mixed = {
  "dm-5", lvm_thin_attrs, "0 1024 thin 253:2 1\n1024 2048 linear 8:0 0\n",
};

static const struct attr loop_attrs[] = {
  { "loop/backing_file", "/tmp/back.img" },
  { "queue/discard_granularity", "4096" },
  { "queue/discard_max_bytes", "4294966784" },
  { "queue/write_zeroes_max_bytes", "4294966784" },
  { "queue/write_zeroes_unmap_max_bytes", "0" },
  { "queue/rotational", "1" },
  { NULL },
};
static const struct fake_device loop = { "loop0", loop_attrs, NULL };

static const struct attr rbd_attrs[] = {
  { "device/parent", "(no parent image)" },
  { "queue/discard_granularity", "65536" },
  { "queue/discard_max_bytes", "4194304" },
  { "queue/write_zeroes_max_bytes", "4194304" },
  { NULL },
};
static const struct fake_device rbd = { "rbd0", rbd_attrs, NULL };

static const struct attr rbd_clone_attrs[] = {
  { "device/parent", "pool_id 2\npool_name rbd\nimage_id 1234\n"
    "image_name base\nsnap_id 4\nsnap_name s\noverlap 10737418240" },
  { "queue/discard_granularity", "65536" },
  { "queue/discard_max_bytes", "4194304" },
  { "queue/write_zeroes_max_bytes", "4194304" },
  { NULL },
};
static const struct fake_device rbd_clone = { "rbd1", rbd_clone_attrs, NULL };

static const struct attr nvme_deallocate_attrs[] = {
  { "queue/discard_granularity", "4096" },
  { "queue/discard_max_bytes", "2199023255040" },
  { "queue/write_zeroes_max_bytes", "131072" },
  { "queue/write_zeroes_unmap_max_bytes", "131072" },
  { NULL },
};
static const struct fake_device nvme_deallocate = {
  "nvme0n1", nvme_deallocate_attrs, NULL,
};

static const struct attr nvme_plain_attrs[] = {
  { "queue/discard_granularity", "4096" },
  { "queue/discard_max_bytes", "2199023255040" },
  { "queue/write_zeroes_max_bytes", "131072" },
  { "queue/write_zeroes_unmap_max_bytes", "0" },
  { NULL },
};
static const struct fake_device nvme_plain = {
  "nvme1n1", nvme_plain_attrs, NULL,
};

static const struct attr sd_unmap_attrs[] = {
  { "device/scsi_disk/*/zeroing_mode", "writesame_16_unmap" },
  { "device/scsi_disk/*/provisioning_mode", "unmap" },
  { "queue/discard_granularity", "1048576" },
  { "queue/discard_max_bytes", "4294966784" },
  { "queue/write_zeroes_max_bytes", "33553920" },
  { NULL },
};
static const struct fake_device sd_unmap = { "sdb", sd_unmap_attrs, NULL };

static const struct attr sd_writesame_attrs[] = {
  { "device/scsi_disk/*/zeroing_mode", "writesame_16" },
  { "device/scsi_disk/*/provisioning_mode", "full" },
  { "queue/discard_granularity", "0" },
  { "queue/discard_max_bytes", "0" },
  { "queue/write_zeroes_max_bytes", "33553920" },
  { NULL },
};
static const struct fake_device sd_writesame = {
  "sdc", sd_writesame_attrs, NULL,
};

/* A virtio disk: discard without a zeroing promise, no write-zeroes. */
static const struct attr unknown_attrs[] = {
  { "queue/discard_granularity", "512" },
  { "queue/discard_max_bytes", "2147483136" },
  { "queue/write_zeroes_max_bytes", "0" },
  { NULL },
};
static const struct fake_device unknown = { "vdb", unknown_attrs, NULL };

static const struct plan_policy auto_policy = { METHOD_AUTO, false };

/* ---- helpers ----------------------------------------------------------- */

static struct hole_plan
plan (const struct device_facts *f, const struct plan_policy *policy,
      unsigned disabled, uint64_t offset, uint64_t length)
{
  struct hole_plan p;

  assert_int_equal (plan_hole (f, policy, disabled, offset, length, &p), 0);
  return p;
}

static void
assert_op (const struct hole_plan *p, size_t i, enum hole_method method,
           uint64_t offset, uint64_t length)
{
  assert_true (i < p->count);
  assert_string_equal (method_name (p->ops[i].method), method_name (method));
  assert_int_equal (p->ops[i].offset, offset);
  assert_int_equal (p->ops[i].length, length);
}

/* ---- LVM thin ------------------------------------------------------------ */

static void
test_lvm_thin_probe (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);

  assert_int_equal (f.driver, DRIVER_DM);
  assert_string_equal (f.dm_target, "thin");
  assert_false (f.thin_external_origin);
  assert_int_equal (f.discard_granularity, 64 * KiB);
  assert_int_equal (f.write_zeroes_max_bytes, 0);
  assert_true (f.has_write_zeroes_unmap);
  assert_int_equal (f.rotational, 0);
  assert_true (facts_discard_reads_zero (&f));
}

static void
test_lvm_thin_aligned_hole_is_discarded (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);
  struct hole_plan p = plan (&f, &auto_policy, 0, 1 * MiB, 3 * MiB);

  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_DISCARD, 1 * MiB, 3 * MiB);
  assert_true (method_keeps_thin (&f, METHOD_DISCARD));
}

static void
test_lvm_thin_unaligned_edges_are_written (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);
  struct hole_plan p = plan (&f, &auto_policy, 0, 4 * KiB, 200 * KiB);

  assert_int_equal (p.count, 3);
  assert_op (&p, 0, METHOD_WRITE, 4 * KiB, 60 * KiB);
  assert_op (&p, 1, METHOD_DISCARD, 64 * KiB, 128 * KiB);
  assert_op (&p, 2, METHOD_WRITE, 192 * KiB, 12 * KiB);
}

static void
test_lvm_thin_hole_inside_one_chunk_is_written (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);
  struct hole_plan p = plan (&f, &auto_policy, 0, 68 * KiB, 56 * KiB);

  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_WRITE, 68 * KiB, 56 * KiB);
}

/* Never BLKZEROOUT without write-zeroes: the kernel would write zero pages
 * and provision every chunk (qemu-img's behaviour, KubeVirt CDI 3614).
 */
static void
test_lvm_thin_never_zeroout_or_punch (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);

  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_DISCARD);
  assert_int_equal (choose_method (&f, &auto_policy,
                                   METHOD_BIT (METHOD_DISCARD)),
                    METHOD_WRITE);
  assert_false (method_keeps_thin (&f, METHOD_ZEROOUT));
  assert_false (method_keeps_thin (&f, METHOD_PUNCH));
}

/* Granules count from the start of the disk, not of the partition. */
static void
test_lvm_thin_partition_offset (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);
  struct hole_plan p;

  f.partition_offset = 63 * 512;        /* an old DOS partition */
  p = plan (&f, &auto_policy, 0, 0, 256 * KiB);
  assert_int_equal (p.count, 3);
  assert_op (&p, 0, METHOD_WRITE, 0, 64 * KiB - 63 * 512);
  assert_op (&p, 1, METHOD_DISCARD, 64 * KiB - 63 * 512, 192 * KiB);
  assert_op (&p, 2, METHOD_WRITE, 256 * KiB - 63 * 512, 63 * 512);
}

/* A fresh thin LV reads zeros, but a chunk that receives data may come
 * with stale bytes (pool zeroing off): the hole's edges are still written.
 */
static void
test_lvm_thin_target_is_zero_writes_edges (void **state)
{
  struct device_facts f = probe_fake (&lvm_thin);
  struct plan_policy zero = { METHOD_AUTO, true };
  struct hole_plan p = plan (&f, &zero, 0, 32 * KiB, 160 * KiB);

  assert_int_equal (p.count, 2);
  assert_op (&p, 0, METHOD_WRITE, 32 * KiB, 32 * KiB);
  assert_op (&p, 1, METHOD_SKIP, 64 * KiB, 128 * KiB);
}

static void
test_thin_external_origin (void **state)
{
  struct device_facts f = probe_fake (&thin_external_origin);
  const char *why = NULL;
  struct plan_policy forced = { METHOD_DISCARD, false };
  struct hole_plan p;

  assert_true (f.thin_external_origin);
  assert_false (facts_discard_reads_zero (&f));
  p = plan (&f, &auto_policy, 0, 0, 1 * MiB);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_WRITE, 0, 1 * MiB);

  assert_false (forced_method_allowed (&f, METHOD_DISCARD, false, &why));
  assert_non_null (why);
  assert_true (forced_method_allowed (&f, METHOD_DISCARD, true, &why));
  p = plan (&f, &forced, 0, 0, 1 * MiB);
  assert_op (&p, 0, METHOD_DISCARD, 0, 1 * MiB);
}

static void
test_dm_mixed_table_is_not_trusted (void **state)
{
  struct device_facts f = probe_fake (&dm_mixed);

  assert_string_equal (f.dm_target, "mixed");
  assert_false (facts_discard_reads_zero (&f));
  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_WRITE);
}

/* ---- loop ------------------------------------------------------------- */

static void
test_loop_punches (void **state)
{
  struct device_facts f = probe_fake (&loop);
  struct hole_plan p = plan (&f, &auto_policy, 0, 512, 3 * 512);

  assert_int_equal (f.driver, DRIVER_LOOP);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_PUNCH, 512, 3 * 512);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
}

/* A loop device's discard punches its backing file, and reads zeros only
 * where that file system punches: not trusted unless the user says so.
 */
static void
test_loop_discard_needs_the_user (void **state)
{
  struct device_facts f = probe_fake (&loop);
  struct plan_policy trusted = { METHOD_AUTO, false, true };
  const char *why = NULL;

  assert_false (facts_discard_reads_zero (&f));
  assert_false (forced_method_allowed (&f, METHOD_DISCARD, false, &why));
  assert_non_null (why);
  assert_true (forced_method_allowed (&f, METHOD_DISCARD, true, &why));
  assert_int_equal (choose_method (&f, &auto_policy,
                                   METHOD_BIT (METHOD_PUNCH)),
                    METHOD_ZEROOUT);
  assert_int_equal (choose_method (&f, &trusted, METHOD_BIT (METHOD_PUNCH)),
                    METHOD_DISCARD);
}

/* The backing file refused a punch: the kernel cleared discard (not
 * write-zeroes), and zero range is refused as well: write, never BLKZEROOUT
 * (zero pages after a refused call).
 */
static void
test_loop_fallback_after_punch_refused (void **state)
{
  struct device_facts f = probe_fake (&loop);
  struct plan_policy trusted = { METHOD_AUTO, false, true };
  struct hole_plan p;

  assert_true (zeroout_worth_a_call (&f));
  f.discard_granularity = 0;            /* what the refresh reads */
  f.discard_max_bytes = 0;
  assert_false (zeroout_worth_a_call (&f));
  p = plan (&f, &auto_policy, METHOD_BIT (METHOD_PUNCH), 2048, 16 * KiB);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_WRITE, 2048, 16 * KiB);
  assert_int_equal (choose_method (&f, &trusted, METHOD_BIT (METHOD_PUNCH)),
                    METHOD_WRITE);
}

/* A refused zero range cleared write-zeroes, discard is still shown: punch
 * is not tried, and discard only with --discard-zeroes (the zeroer checks
 * its first call: see zeroer.c).
 */
static void
test_loop_after_zero_range_refused (void **state)
{
  struct device_facts f = probe_fake (&loop);
  struct plan_policy trusted = { METHOD_AUTO, false, true };
  struct hole_plan p;

  f.write_zeroes_max_bytes = 0;
  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_WRITE);
  p = plan (&f, &trusted, 0, 2048, 16 * KiB);
  assert_int_equal (p.count, 3);
  assert_op (&p, 0, METHOD_WRITE, 2048, 2048);
  assert_op (&p, 1, METHOD_DISCARD, 4 * KiB, 12 * KiB);
  assert_op (&p, 2, METHOD_WRITE, 16 * KiB, 2048);
}

/* ---- rbd ------------------------------------------------------------- */

static void
test_rbd_not_a_clone (void **state)
{
  struct device_facts f = probe_fake (&rbd);

  assert_int_equal (f.driver, DRIVER_RBD);
  assert_false (f.rbd_clone);
  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_PUNCH);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
  assert_int_equal (choose_method (&f, &auto_policy,
                                   METHOD_BIT (METHOD_PUNCH)),
                    METHOD_DISCARD);
}

static void
test_rbd_clone (void **state)
{
  struct device_facts f = probe_fake (&rbd_clone);
  const char *why;

  assert_true (f.rbd_clone);
  assert_false (facts_discard_reads_zero (&f));
  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_PUNCH);
  /* write-zeroes is still there: BLKZEROOUT is offloaded and stays thin */
  assert_int_equal (choose_method (&f, &auto_policy,
                                   METHOD_BIT (METHOD_PUNCH)),
                    METHOD_ZEROOUT);
  assert_true (method_keeps_thin (&f, METHOD_ZEROOUT));
  assert_false (forced_method_allowed (&f, METHOD_DISCARD, false, &why));
}

/* ---- nvme ------------------------------------------------------------ */

static void
test_nvme_deallocate_zeroes (void **state)
{
  struct device_facts f = probe_fake (&nvme_deallocate);
  struct hole_plan p = plan (&f, &auto_policy, 0, 0, 1 * GiB);

  assert_int_equal (f.driver, DRIVER_NVME);
  assert_op (&p, 0, METHOD_PUNCH, 0, 1 * GiB);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
}

static void
test_nvme_without_deallocate_zeroes (void **state)
{
  struct device_facts f = probe_fake (&nvme_plain);

  /* Punch still guarantees zeros, but may allocate; discard is never
   * trusted to zero on nvme.
   */
  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_PUNCH);
  assert_false (method_keeps_thin (&f, METHOD_PUNCH));
  assert_false (facts_discard_reads_zero (&f));
  assert_int_equal (choose_method (&f, &auto_policy,
                                   METHOD_BIT (METHOD_PUNCH)),
                    METHOD_ZEROOUT);
}

/* ---- sd -------------------------------------------------------------- */

static void
test_sd_writesame_16_unmap (void **state)
{
  struct device_facts f = probe_fake (&sd_unmap);

  assert_int_equal (f.driver, DRIVER_SD);
  assert_string_equal (f.scsi_zeroing_mode, "writesame_16_unmap");
  assert_string_equal (f.scsi_provisioning_mode, "unmap");
  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_PUNCH);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
  assert_false (facts_discard_reads_zero (&f));
}

static void
test_sd_writesame_without_unmap (void **state)
{
  struct device_facts f = probe_fake (&sd_writesame);
  const char *why;

  assert_int_equal (choose_method (&f, &auto_policy, 0), METHOD_PUNCH);
  assert_false (method_keeps_thin (&f, METHOD_PUNCH));
  assert_false (forced_method_allowed (&f, METHOD_DISCARD, true, &why));
}

/* ---- unknown --------------------------------------------------------- */

static void
test_unknown_device_writes (void **state)
{
  struct device_facts f = probe_fake (&unknown);
  struct hole_plan p = plan (&f, &auto_policy, 0, 0, 64 * KiB);

  assert_int_equal (f.driver, DRIVER_UNKNOWN);
  assert_int_equal (f.rotational, -1);
  assert_false (f.has_write_zeroes_unmap);
  assert_op (&p, 0, METHOD_WRITE, 0, 64 * KiB);
  assert_false (method_keeps_thin (&f, METHOD_WRITE));
}

/* ---- alignment, forced methods, regular files -------------------------- */

static void
test_unaligned_range_is_refused (void **state)
{
  struct device_facts f = probe_fake (&loop);
  struct hole_plan p;

  f.logical_block_size = 4096;
  assert_int_equal (plan_hole (&f, &auto_policy, 0, 512, 4096, &p), -1);
  assert_int_equal (errno, EINVAL);
  assert_int_equal (plan_hole (&f, &auto_policy, 0, 4096, 512, &p), -1);
  assert_int_equal (errno, EINVAL);
  assert_int_equal (plan_hole (&f, &auto_policy, 0, f.size - 4096, 8192, &p),
                    -1);
  assert_int_equal (errno, EINVAL);
  assert_int_equal (plan_hole (&f, &auto_policy, 0, 0, 0, &p), -1);
}

static void
test_forced_methods (void **state)
{
  struct device_facts f = probe_fake (&loop);
  enum hole_method m;
  struct hole_plan p;

  for (m = METHOD_SKIP; m < METHOD_COUNT; m++) {
    struct plan_policy forced = { m, false };

    p = plan (&f, &forced, 0, 4 * KiB, 64 * KiB);
    assert_op (&p, 0, m, 4 * KiB, 64 * KiB);
  }
}

static void
test_forced_method_disabled_is_not_supported (void **state)
{
  struct device_facts f = probe_fake (&loop);
  struct plan_policy forced = { METHOD_PUNCH, false };
  struct hole_plan p;

  assert_int_equal (plan_hole (&f, &forced, METHOD_BIT (METHOD_PUNCH),
                               0, 4096, &p), -1);
  assert_int_equal (errno, ENOTSUP);
}

static void
test_regular_file (void **state)
{
  struct device_facts f;
  struct plan_policy new_file = { METHOD_AUTO, true };
  const char *why;
  struct hole_plan p;

  memset (&f, 0, sizeof f);
  f.kind = TARGET_REGULAR_FILE;
  f.size = 1 * GiB;
  f.logical_block_size = 1;

  p = plan (&f, &auto_policy, 0, 100, 1000);
  assert_op (&p, 0, METHOD_PUNCH, 100, 1000);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
  p = plan (&f, &auto_policy, METHOD_BIT (METHOD_PUNCH), 100, 1000);
  assert_op (&p, 0, METHOD_WRITE, 100, 1000);
  p = plan (&f, &new_file, 0, 100, 1000);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_SKIP, 100, 1000);

  assert_false (forced_method_allowed (&f, METHOD_DISCARD, true, &why));
  assert_false (forced_method_allowed (&f, METHOD_ZEROOUT, true, &why));
  assert_true (forced_method_allowed (&f, METHOD_PUNCH, false, &why));
}

/* An NBD export: the ladder is write-zeroes (fast where offered), then
 * write-zeroes without fast, then writing; a trim never makes a hole,
 * whatever the server offers.
 */
static struct device_facts
nbd_export (bool write_zeroes, bool fast_zero)
{
  struct device_facts f;

  memset (&f, 0, sizeof f);
  f.kind = TARGET_NBD;
  f.size = 1 * GiB;
  f.logical_block_size = 1;
  f.can_write_zeroes = write_zeroes;
  f.can_fast_zero = fast_zero;
  f.can_trim = true;
  return f;
}

static void
test_nbd_ladder (void **state)
{
  struct device_facts f = nbd_export (true, true);
  struct device_facts plain = nbd_export (true, false);
  struct device_facts none = nbd_export (false, false);
  struct plan_policy all_zero = { METHOD_AUTO, true };
  struct plan_policy trusted = { METHOD_AUTO, false, true };
  unsigned punch = METHOD_BIT (METHOD_PUNCH);
  const char *why;
  struct hole_plan p;

  p = plan (&f, &auto_policy, 0, 100, 1000);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_PUNCH, 100, 1000);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
  p = plan (&f, &auto_policy, punch, 100, 1000);
  assert_op (&p, 0, METHOD_ZEROOUT, 100, 1000);
  assert_false (method_keeps_thin (&f, METHOD_ZEROOUT));
  assert_int_equal (choose_method (&f, &auto_policy,
                                   punch | METHOD_BIT (METHOD_ZEROOUT)),
                    METHOD_WRITE);
  /* Without fast-zero, zeroout would send the refused request again. */
  assert_int_equal (choose_method (&plain, &auto_policy, 0), METHOD_PUNCH);
  assert_int_equal (choose_method (&plain, &auto_policy, punch), METHOD_WRITE);
  assert_int_equal (choose_method (&none, &auto_policy, 0), METHOD_WRITE);
  assert_int_equal (choose_method (&none, &trusted, 0), METHOD_WRITE);
  p = plan (&f, &all_zero, 0, 100, 1000);
  assert_op (&p, 0, METHOD_SKIP, 100, 1000);

  assert_false (forced_method_allowed (&f, METHOD_DISCARD, true, &why));
  assert_true (forced_method_allowed (&f, METHOD_ZEROOUT, false, &why));
  assert_true (forced_method_allowed (&f, METHOD_PUNCH, false, &why));
  assert_false (forced_method_allowed (&none, METHOD_PUNCH, false, &why));
  assert_false (forced_method_allowed (&none, METHOD_ZEROOUT, false, &why));
  assert_true (forced_method_allowed (&none, METHOD_WRITE, false, &why));
}

/* An RBD image through librbd (see target-rbd.c): write-zeroes first,
 * which frees whole objects; discard of whole objects only (librbd skips
 * pieces under its granularity), never in a clone; a new image skips
 * whole holes, edges included: an object reads zeros where it was never
 * written.
 */
static struct device_facts
rbd_image (bool clone)
{
  struct device_facts f;

  memset (&f, 0, sizeof f);
  f.kind = TARGET_RBD;
  f.driver = DRIVER_RBD;
  f.size = 1 * GiB;
  f.logical_block_size = 512;
  f.discard_granularity = 4 * MiB;
  f.discard_max_bytes = UINT64_MAX;
  f.can_write_zeroes = true;
  f.can_trim = true;
  f.rbd_clone = clone;
  return f;
}

static void
test_rbd_image_ladder (void **state)
{
  struct device_facts f = rbd_image (false), clone = rbd_image (true);
  struct plan_policy all_zero = { METHOD_AUTO, true };
  unsigned punch = METHOD_BIT (METHOD_PUNCH);
  const char *why;
  struct hole_plan p;

  p = plan (&f, &auto_policy, 0, 512, 10 * MiB);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_PUNCH, 512, 10 * MiB);
  assert_true (method_keeps_thin (&f, METHOD_PUNCH));
  p = plan (&f, &auto_policy, punch, 512, 10 * MiB);
  assert_int_equal (p.count, 3);
  assert_op (&p, 0, METHOD_WRITE, 512, 4 * MiB - 512);
  assert_op (&p, 1, METHOD_DISCARD, 4 * MiB, 4 * MiB);
  assert_op (&p, 2, METHOD_WRITE, 8 * MiB, 2 * MiB + 512);
  assert_int_equal (choose_method (&clone, &auto_policy, punch), METHOD_WRITE);
  assert_false (forced_method_allowed (&clone, METHOD_DISCARD, false, &why));
  p = plan (&f, &all_zero, 0, 512, 10 * MiB);
  assert_int_equal (p.count, 1);
  assert_op (&p, 0, METHOD_SKIP, 512, 10 * MiB);
}

/* Zeroing the whole range first pays only where auto would unmap anyway. */
static bool
zero_first (const struct fake_device *dev, struct plan_policy policy)
{
  struct target t = { .path = "fake" };
  atomic_bool stop = false;
  struct zeroer z;
  bool answer;

  t.facts = probe_fake (dev);
  zeroer_init (&z, &t, &policy, &stop);
  answer = zeroer_should_zero_first (&z);
  zeroer_destroy (&z);
  return answer;
}

static void
test_zero_first (void **state)
{
  struct plan_policy forced = { METHOD_PUNCH, false };
  struct plan_policy zero = { METHOD_AUTO, true };
  struct plan_policy trusted = { METHOD_AUTO, false, true };

  assert_true (zero_first (&lvm_thin, auto_policy));      /* discard */
  assert_true (zero_first (&loop, auto_policy));          /* punch unmaps */
  assert_true (zero_first (&rbd, auto_policy));
  assert_true (zero_first (&nvme_deallocate, auto_policy));
  assert_false (zero_first (&nvme_plain, auto_policy));   /* may allocate */
  assert_false (zero_first (&sd_writesame, auto_policy));
  assert_false (zero_first (&thin_external_origin, auto_policy));  /* write */
  assert_false (zero_first (&unknown, auto_policy));
  assert_false (zero_first (&loop, forced));
  assert_false (zero_first (&loop, zero));
  assert_true (zero_first (&loop, trusted));              /* punch first */
}

static void
test_method_names (void **state)
{
  enum hole_method m;

  for (m = METHOD_SKIP; m < METHOD_COUNT; m++)
    assert_int_equal (method_from_name (method_name (m)), m);
  assert_int_equal (method_from_name ("auto"), METHOD_AUTO);
  assert_int_equal (method_from_name ("trim"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rbd_image_ladder),
    cmocka_unit_test (test_lvm_thin_probe),
    cmocka_unit_test (test_lvm_thin_aligned_hole_is_discarded),
    cmocka_unit_test (test_lvm_thin_unaligned_edges_are_written),
    cmocka_unit_test (test_lvm_thin_hole_inside_one_chunk_is_written),
    cmocka_unit_test (test_lvm_thin_never_zeroout_or_punch),
    cmocka_unit_test (test_lvm_thin_partition_offset),
    cmocka_unit_test (test_lvm_thin_target_is_zero_writes_edges),
    cmocka_unit_test (test_thin_external_origin),
    cmocka_unit_test (test_dm_mixed_table_is_not_trusted),
    cmocka_unit_test (test_loop_punches),
    cmocka_unit_test (test_loop_discard_needs_the_user),
    cmocka_unit_test (test_loop_fallback_after_punch_refused),
    cmocka_unit_test (test_loop_after_zero_range_refused),
    cmocka_unit_test (test_rbd_not_a_clone),
    cmocka_unit_test (test_rbd_clone),
    cmocka_unit_test (test_nvme_deallocate_zeroes),
    cmocka_unit_test (test_nvme_without_deallocate_zeroes),
    cmocka_unit_test (test_sd_writesame_16_unmap),
    cmocka_unit_test (test_sd_writesame_without_unmap),
    cmocka_unit_test (test_unknown_device_writes),
    cmocka_unit_test (test_unaligned_range_is_refused),
    cmocka_unit_test (test_forced_methods),
    cmocka_unit_test (test_forced_method_disabled_is_not_supported),
    cmocka_unit_test (test_regular_file),
    cmocka_unit_test (test_nbd_ladder),
    cmocka_unit_test (test_zero_first),
    cmocka_unit_test (test_method_names),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
