/* The VHDX metadata region: a table of items by GUID, and the items the
 * disk needs (file parameters, disk size, sector sizes), checked as qemu's
 * block/vhdx.c checks them, and each item against the region.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "checked-arith.h"
#include "error.h"
#include "rounding.h"
#include "vhdx-driver.h"
#include "vhdx-format.h"

enum item {
  FILE_PARAMETERS, VIRTUAL_SIZE, PAGE83, LOGICAL_SECTOR, PHYSICAL_SECTOR,
  PARENT_LOCATOR, N_ITEMS
};

static const struct known_item {
  unsigned char guid[VHDX_GUID_BYTES];
  const char *name;
  uint32_t bytes;               /* read from it */
} known[N_ITEMS] = {
  [FILE_PARAMETERS] = { VHDX_FILE_PARAMETERS_GUID, "file parameters", 8 },
  [VIRTUAL_SIZE] = { VHDX_VIRTUAL_SIZE_GUID, "virtual disk size", 8 },
  [PAGE83] = { VHDX_PAGE83_GUID, "page 83 data", 0 },
  [LOGICAL_SECTOR] = { VHDX_LOGICAL_SECTOR_GUID, "logical sector size", 4 },
  [PHYSICAL_SECTOR] = { VHDX_PHYSICAL_SECTOR_GUID, "physical sector size", 4 },
  [PARENT_LOCATOR] = { VHDX_PARENT_LOCATOR_GUID, "parent locator", 0 },
};

/* Where each known item lies in the region; length 0 when absent. */
struct items {
  bool present[N_ITEMS];
  struct vhdx_region at[N_ITEMS];
};

static int
refused (int err)
{
  errno = err;
  return -1;
}

/* Entry I of the table: a known item recorded, an unknown one skipped
 * unless it is required.
 */
static int
table_entry (struct image *img, const unsigned char *e, uint32_t i,
             struct items *items)
{
  struct vhdx_region r = { load_le32 (e + VHDX_ME_OFFSET),
                           load_le32 (e + VHDX_ME_LENGTH) };
  enum item k;

  for (k = 0; k < N_ITEMS; k++)
    if (memcmp (e, known[k].guid, VHDX_GUID_BYTES) == 0)
      break;
  if (k == N_ITEMS) {
    if (load_le32 (e + VHDX_ME_DATA_BITS) & VHDX_ME_REQUIRED) {
      report_error ("%s: VHDX metadata entry %" PRIu32 ": an unknown item "
                    "is marked required", img->path, i);
      return refused (ENOTSUP);
    }
    return 0;
  }
  if (items->present[k]) {
    report_error ("%s: VHDX metadata entry %" PRIu32 ": a second %s item",
                  img->path, i, known[k].name);
    return refused (EINVAL);
  }
  items->present[k] = true;
  items->at[k] = r;
  return 0;
}

static int
check_items (struct image *img, const struct vhdx *v, const struct items *items)
{
  enum item k, j;

  for (k = 0; k < N_ITEMS; k++) {
    const struct vhdx_region *r = &items->at[k];

    if (!items->present[k])
      continue;
    if (r->length < known[k].bytes
        || !range_fits (r->offset, r->length, v->metadata.length)) {
      report_error ("%s: VHDX metadata: %s item (%" PRIu64 " bytes at 0x%"
                    PRIx64 ") is shorter than %" PRIu32 " bytes or passes "
                    "the end of the metadata region (%" PRIu64 " bytes)",
                    img->path, known[k].name, r->length, r->offset,
                    known[k].bytes, v->metadata.length);
      return refused (EINVAL);
    }
    for (j = 0; j < k; j++)
      if (items->present[j] && vhdx_overlaps (&items->at[j], r->offset,
                                              r->length)) {
        report_error ("%s: VHDX metadata: %s item (%" PRIu64 " bytes at 0x%"
                      PRIx64 ") overlaps the %s item", img->path,
                      known[k].name, r->length, r->offset, known[j].name);
        return refused (EINVAL);
      }
  }
  for (k = 0; k < PARENT_LOCATOR; k++)
    if (!items->present[k]) {
      report_error ("%s: VHDX metadata: no %s item", img->path,
                    known[k].name);
      return refused (ENOTSUP);
    }
  return 0;
}

static int
read_table (struct image *img, const struct vhdx *v, struct items *items)
{
  unsigned char *t = malloc (VHDX_METADATA_TABLE_BYTES);
  uint32_t count, i;
  int r = -1;

  if (t == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  if (v->metadata.length < VHDX_METADATA_TABLE_BYTES) {
    report_error ("%s: VHDX metadata region of %" PRIu64 " bytes is too "
                  "short for its table (%d bytes)", img->path,
                  v->metadata.length, VHDX_METADATA_TABLE_BYTES);
    errno = EINVAL;
    goto out;
  }
  if (read_at (img, img->fd, "the VHDX metadata table", t,
               VHDX_METADATA_TABLE_BYTES, v->metadata.offset) == -1)
    goto out;
  if (memcmp (t, VHDX_METADATA_SIGNATURE, 8) != 0) {
    report_error ("%s: VHDX metadata table at 0x%" PRIx64 ": no \"%s\" "
                  "signature", img->path, v->metadata.offset,
                  VHDX_METADATA_SIGNATURE);
    errno = EINVAL;
    goto out;
  }
  count = load_le16 (t + VHDX_MT_ENTRY_COUNT);
  if (count > (VHDX_METADATA_TABLE_BYTES - VHDX_MT_ENTRIES) / VHDX_ME_BYTES) {
    report_error ("%s: VHDX metadata table: %" PRIu32 " entries do not fit "
                  "in it", img->path, count);
    errno = EINVAL;
    goto out;
  }
  for (i = 0; i < count; i++)
    if (table_entry (img, t + VHDX_MT_ENTRIES + i * VHDX_ME_BYTES, i,
                     items) == -1)
      goto out;
  r = check_items (img, v, items);
 out:
  free (t);
  return r;
}

static int
read_item (struct image *img, const struct vhdx *v, const struct items *items,
           enum item k, unsigned char *buf)
{
  return read_at (img, img->fd, known[k].name, buf, known[k].bytes,
                  v->metadata.offset + items->at[k].offset);
}

static int
check_parameters (struct image *img, struct vhdx *v, uint32_t flags,
                  bool has_locator, uint64_t disk_size)
{
  if (flags & VHDX_FP_HAS_PARENT) {
    report_error ("%s: VHDX file parameters: differencing disks are not "
                  "supported (has_parent set%s), as qemu does not read them",
                  img->path, has_locator ? "" : ", and no parent locator");
    return refused (has_locator ? ENOTSUP : EINVAL);
  }
  if (v->block_size < VHDX_MIN_BLOCK_SIZE || v->block_size > VHDX_MAX_BLOCK_SIZE
      || !is_power_of_2 (v->block_size)) {
    report_error ("%s: VHDX file parameters: block size %" PRIu32 " is not "
                  "a power of 2 from 1 MiB to 256 MiB", img->path,
                  v->block_size);
    return refused (EINVAL);
  }
  if (v->logical_sector_size != 512 && v->logical_sector_size != 4096) {
    report_error ("%s: VHDX metadata: logical sector size %" PRIu32 " is "
                  "not 512 or 4096", img->path, v->logical_sector_size);
    return refused (EINVAL);
  }
  if (disk_size > VHDX_MAX_DISK_SIZE) {
    report_error ("%s: VHDX metadata: virtual disk size %" PRIu64 " is too "
                  "large (at most %llu, 64 TiB)", img->path, disk_size,
                  VHDX_MAX_DISK_SIZE);
    return refused (EINVAL);
  }
  return 0;
}

int
vhdx_read_metadata (struct image *img, struct vhdx *v)
{
  struct items items = { { false } };
  unsigned char params[8], size[8], sector[4];
  uint64_t disk_size;

  if (read_table (img, v, &items) == -1
      || read_item (img, v, &items, FILE_PARAMETERS, params) == -1
      || read_item (img, v, &items, VIRTUAL_SIZE, size) == -1
      || read_item (img, v, &items, LOGICAL_SECTOR, sector) == -1)
    return -1;
  v->block_size = load_le32 (params + VHDX_FP_BLOCK_SIZE);
  v->logical_sector_size = load_le32 (sector);
  disk_size = load_le64 (size);
  if (check_parameters (img, v, load_le32 (params + VHDX_FP_DATA_BITS),
                        items.present[PARENT_LOCATOR], disk_size) == -1)
    return -1;
  v->leave_allocated = load_le32 (params + VHDX_FP_DATA_BITS)
                       & VHDX_FP_LEAVE_ALLOCATED;
  v->chunk_ratio = VHDX_SECTORS_PER_BITMAP * v->logical_sector_size
                   / v->block_size;
  v->blocks = div_round_up (disk_size, v->block_size);
  img->size = round_down (disk_size, 512);
  return 0;
}
