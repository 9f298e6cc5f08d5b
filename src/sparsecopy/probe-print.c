/* --show-probe / --dry-run: what the probe found and what it implies. */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>

#include "planner.h"
#include "probe.h"

static void
print_driver (FILE *fp, const struct device_facts *f)
{
  fprintf (fp, "  driver: %s", driver_name (f->driver));
  switch (f->driver) {
  case DRIVER_DM:
    fprintf (fp, ", target %s", f->dm_target);
    if (f->thin_external_origin)
      fprintf (fp, " with an external origin");
    break;
  case DRIVER_RBD:
    fprintf (fp, ", %s", f->rbd_clone ? "a clone" : "not a clone");
    break;
  case DRIVER_SD:
    fprintf (fp, ", zeroing_mode %s, provisioning_mode %s",
             f->scsi_zeroing_mode, f->scsi_provisioning_mode);
    break;
  default:
    break;
  }
  fprintf (fp, "\n");
}

static void
print_limits (FILE *fp, const struct device_facts *f)
{
  fprintf (fp, "  discard_granularity: %" PRIu64 "\n", f->discard_granularity);
  fprintf (fp, "  discard_max_bytes: %" PRIu64 "\n", f->discard_max_bytes);
  fprintf (fp, "  write_zeroes_max_bytes: %" PRIu64 "\n",
           f->write_zeroes_max_bytes);
  if (f->has_write_zeroes_unmap)
    fprintf (fp, "  write_zeroes_unmap_max_bytes: %" PRIu64 "\n",
             f->write_zeroes_unmap_max_bytes);
  else
    fprintf (fp, "  write_zeroes_unmap_max_bytes: (not shown by this kernel)\n");
  if (f->rotational >= 0)
    fprintf (fp, "  rotational: %d\n", f->rotational);
}

static const char *
yes_no (bool b)
{
  return b ? "yes" : "no";
}

static void
print_remote (FILE *fp, const struct device_facts *f)
{
  fprintf (fp, "  server: %s\n", f->remote_info);
  fprintf (fp, "  logical_block_size: %" PRIu32 "\n", f->logical_block_size);
  fprintf (fp, "  preferred_block_size: %" PRIu32 "\n",
           f->physical_block_size);
  fprintf (fp, "  write_zeroes: %s\n", yes_no (f->can_write_zeroes));
  fprintf (fp, "  fast_zero: %s\n", yes_no (f->can_fast_zero));
  fprintf (fp, "  trim: %s\n", yes_no (f->can_trim));
  fprintf (fp, "  multi_conn: %s\n", yes_no (f->can_multi_conn));
  fprintf (fp, "  reads as zero: %s\n",
           f->all_zero ? "yes (block status): holes are skipped" : "no");
  if (f->discard_granularity > 0)
    fprintf (fp, "  discard_granularity: %" PRIu64 "\n",
             f->discard_granularity);
}

/* The ladder on a remote target (see planner.h). */
static void
print_remote_methods (FILE *fp, const struct device_facts *f,
                      const struct plan_policy *policy)
{
  const char *why;

  fprintf (fp, "  punch: %s\n",
           !f->can_write_zeroes ? "no (the server has no write-zeroes)"
           : f->can_fast_zero
           ? "yes, write-zeroes with fast-zero (may deallocate)"
           : "yes, write-zeroes (may deallocate)");
  fprintf (fp, "  discard: %s\n",
           forced_method_allowed (f, METHOD_DISCARD, policy->discard_zeroes,
                                  &why) ? "yes, reads back zeros" : why);
  fprintf (fp, "  zeroout: %s\n",
           f->can_write_zeroes && f->can_fast_zero
           ? "yes, write-zeroes without fast-zero (may allocate)"
           : "not used (the same request as punch, or none)");
}

/* Each method as the planner sees it.  Nothing was tried: the first real
 * hole proves the chosen one.
 */
static void
print_methods (FILE *fp, const struct device_facts *f,
               const struct plan_policy *policy)
{
  bool block = f->kind == TARGET_BLOCK_DEVICE;

  if (f->kind == TARGET_NBD || f->kind == TARGET_RBD)
    print_remote_methods (fp, f, policy);
  else
    fprintf (fp, "  punch: %s\n",
           !block ? "hole in the file"
           : f->write_zeroes_max_bytes == 0
           ? "no (no write-zeroes: would fail with EOPNOTSUPP)"
           : facts_write_zeroes_unmaps (f)
           ? "yes, unmaps (zeros guaranteed, stays thin)"
           : "yes (zeros guaranteed; may allocate)");
  if (block)
    fprintf (fp, "  discard: %s\n",
             f->discard_granularity == 0 || f->discard_max_bytes == 0
             ? "no (the device has no discard)"
             : facts_discard_reads_zero (f)
             ? "yes, reads back zeros (whole granules; edges written)"
             : policy->discard_zeroes
             ? "yes, reads back zeros as --discard-zeroes says (whole "
               "granules; edges written)"
             : "not used: discarded blocks are not known to read as zeros "
               "(--discard-zeroes)");
  if (block)
    fprintf (fp, "  zeroout: %s\n",
             !zeroout_worth_a_call (f)
             ? "not used: the kernel would write zero pages (allocates)"
             : method_keeps_thin (f, METHOD_ZEROOUT)
             ? "yes, offloaded, stays thin"
             : "yes, offloaded (may allocate)");
  fprintf (fp, "  write: always (allocates)\n");
  fprintf (fp, "  holes will use: %s (not tried yet)\n",
           method_name (choose_method (f, policy, 0)));
}

void
probe_print (FILE *fp, const char *path, const struct device_facts *f,
             const struct plan_policy *policy)
{
  fprintf (fp, "%s: %s\n", path, target_kind_name (f->kind));
  fprintf (fp, "  size: %" PRIu64 "\n", f->size);
  if (f->kind == TARGET_NBD || f->kind == TARGET_RBD)
    print_remote (fp, f);
  if (f->kind == TARGET_BLOCK_DEVICE) {
    fprintf (fp, "  disk: %s (%u:%u)", f->name, f->disk_major, f->disk_minor);
    if (f->is_partition)
      fprintf (fp, ", partition at offset %" PRIu64, f->partition_offset);
    fprintf (fp, "\n");
    fprintf (fp, "  logical_block_size: %" PRIu32 "\n", f->logical_block_size);
    fprintf (fp, "  physical_block_size: %" PRIu32 "\n",
             f->physical_block_size);
    print_limits (fp, f);
    print_driver (fp, f);
  }
  print_methods (fp, f, policy);
}
