/* Conclusions drawn from a target's facts (see facts.h). */
#include <config.h>

#include <string.h>

#include "facts.h"

bool
facts_discard_reads_zero (const struct device_facts *facts)
{
  /* librbd removes whole discarded objects, except in a clone (see
   * target-rbd.c); the planner gives it whole objects only.
   */
  if (facts->kind == TARGET_RBD)
    return !facts->rbd_clone;
  if (facts->kind != TARGET_BLOCK_DEVICE)
    return false;
  /* Not loop: its discard punches a hole in the backing file, which reads
   * zeros only where that file system punches.  Where it does not (FUSE
   * ones such as bindfs), BLKDISCARD still returns success, since the block
   * layer turns a device's "not supported" into success, and the old bytes
   * stay; the loop driver then only sets discard_max_bytes to 0.  Where it
   * does, punch works and auto never gets to discard anyway.
   */
  switch (facts->driver) {
  case DRIVER_DM:
    return strcmp (facts->dm_target, "thin") == 0
      && !facts->thin_external_origin;
  case DRIVER_RBD:
    return !facts->rbd_clone;
  default:
    return false;
  }
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);

  return n >= m && strcmp (s + n - m, suffix) == 0;
}

bool
facts_write_zeroes_unmaps (const struct device_facts *facts)
{
  if (facts->kind != TARGET_BLOCK_DEVICE || facts->write_zeroes_max_bytes == 0)
    return false;
  if (facts->has_write_zeroes_unmap && facts->write_zeroes_unmap_max_bytes > 0)
    return true;
  switch (facts->driver) {
  case DRIVER_LOOP:             /* punches a hole in the backing file */
  case DRIVER_RBD:              /* an object zero/truncate/delete */
    return true;
  case DRIVER_SD:               /* WRITE SAME with UNMAP, LBPRZ set */
    return ends_with (facts->scsi_zeroing_mode, "_unmap");
  default:
    return false;
  }
}

const char *
driver_name (enum device_driver driver)
{
  switch (driver) {
  case DRIVER_LOOP: return "loop";
  case DRIVER_DM: return "device-mapper";
  case DRIVER_RBD: return "rbd";
  case DRIVER_NVME: return "nvme";
  case DRIVER_SD: return "sd";
  default: return "unknown";
  }
}

const char *
target_kind_name (enum target_kind kind)
{
  switch (kind) {
  case TARGET_BLOCK_DEVICE: return "block device";
  case TARGET_NBD: return "NBD export";
  case TARGET_RBD: return "RBD image";
  default: return "regular file";
  }
}
