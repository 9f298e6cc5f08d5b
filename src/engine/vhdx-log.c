/* The VHDX log.  A writer journals metadata updates there first; an image
 * closed uncleanly may hold entries not yet applied.  qemu applies them
 * only when it opens the image for writing, and refuses it read-only; so
 * do we, saying how to replay them.
 *
 * An entry needs replaying when it carries the log GUID of the current
 * header and its checksum holds (qemu also follows the sequence of
 * entries; a single valid entry is enough for us to refuse, which can
 * only be stricter).  The search reads the log a 4 KiB sector at a time
 * and checksums at most VHDX_LOG_CHECK_BYTES in all: a hostile log must
 * not make the open slow.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "checked-arith.h"
#include "crc32c.h"
#include "error.h"
#include "rounding.h"
#include "vhdx-driver.h"
#include "vhdx-format.h"

#define VHDX_LOG_CHECK_BYTES (256ull << 20)

static bool
guid_is_zero (const unsigned char *guid)
{
  static const unsigned char zero[VHDX_GUID_BYTES];

  return memcmp (guid, zero, sizeof zero) == 0;
}

/* The checksum of the LENGTH-byte entry at POS in the log, which wraps
 * from its end to its start; FIRST holds its first sector.
 */
static int
entry_checksum (struct image *img, const struct vhdx_region *log,
                uint64_t pos, uint64_t length, const unsigned char *first,
                uint32_t *crc)
{
  static const unsigned char zero[4];
  unsigned char sector[VHDX_LOG_SECTOR];
  uint64_t done;

  *crc = crc32c_update (crc32c_begin (), first, VHDX_LE_CHECKSUM);
  *crc = crc32c_update (*crc, zero, sizeof zero);
  *crc = crc32c_update (*crc, first + VHDX_LE_CHECKSUM + 4,
                        VHDX_LOG_SECTOR - VHDX_LE_CHECKSUM - 4);
  for (done = VHDX_LOG_SECTOR; done < length; done += VHDX_LOG_SECTOR) {
    uint64_t at = log->offset + (pos + done) % log->length;

    if (!range_fits (at, sizeof sector, img->file_size))
      return 1;                 /* cannot hold: qemu reads zeros there */
    if (read_at (img, img->fd, "the VHDX log", sector, sizeof sector, at)
        == -1)
      return -1;
    *crc = crc32c_update (*crc, sector, sizeof sector);
  }
  *crc = crc32c_end (*crc);
  return 0;
}

/* Whether the log sector at POS starts an entry of this log that holds:
 * 1 or 0, or -1 after reporting.  *CHECKED counts the bytes checksummed.
 */
static int
valid_entry_at (struct image *img, const struct vhdx_region *log,
                const unsigned char *log_guid, uint64_t pos,
                uint64_t *checked)
{
  unsigned char first[VHDX_LOG_SECTOR];
  uint64_t length;
  uint32_t crc;
  int r;

  if (!range_fits (log->offset + pos, sizeof first, img->file_size))
    return 0;
  if (read_at (img, img->fd, "the VHDX log", first, sizeof first,
               log->offset + pos) == -1)
    return -1;
  length = load_le32 (first + VHDX_LE_ENTRY_LENGTH);
  if (memcmp (first, VHDX_LOG_SIGNATURE, 4) != 0
      || memcmp (first + VHDX_LE_LOG_GUID, log_guid, VHDX_GUID_BYTES) != 0
      || length == 0 || length % VHDX_LOG_SECTOR != 0 || length > log->length)
    return 0;
  *checked += length;
  if (*checked > VHDX_LOG_CHECK_BYTES) {
    report_error ("%s: VHDX log: more than %llu bytes of entries to check "
                  "(log of %" PRIu64 " bytes at 0x%" PRIx64 ")", img->path,
                  VHDX_LOG_CHECK_BYTES, log->length, log->offset);
    errno = ENOTSUP;
    return -1;
  }
  r = entry_checksum (img, log, pos, length, first, &crc);
  if (r != 0)
    return r == 1 ? 0 : -1;
  return crc == load_le32 (first + VHDX_LE_CHECKSUM);
}

/* The log's place, checked as qemu checks it even when the log is empty. */
static int
check_log_place (struct image *img, const unsigned char *header,
                 struct vhdx_region *log)
{
  uint16_t version = load_le16 (header + VHDX_HD_LOG_VERSION);

  log->offset = load_le64 (header + VHDX_HD_LOG_OFFSET);
  log->length = load_le32 (header + VHDX_HD_LOG_LENGTH);
  if (log->offset < VHDX_LOG_ALIGN || !is_aligned (log->offset, VHDX_LOG_ALIGN)
      || !is_aligned (log->length, VHDX_LOG_ALIGN)
      || !range_fits (log->offset, log->length, UINT64_MAX)) {
    report_error ("%s: VHDX header: log of %" PRIu64 " bytes at 0x%" PRIx64
                  " is not aligned to 1 MiB past the header section",
                  img->path, log->length, log->offset);
    errno = EINVAL;
    return -1;
  }
  if (version != 0) {
    report_error ("%s: VHDX header: log version %" PRIu16 " is not "
                  "supported (only 0)", img->path, version);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

int
vhdx_check_log (struct image *img, struct vhdx *v, const unsigned char *header)
{
  const unsigned char *log_guid = header + VHDX_HD_LOG_GUID;
  uint64_t pos, checked = 0;
  int r;

  if (check_log_place (img, header, &v->log) == -1)
    return -1;
  if (guid_is_zero (log_guid))
    return 0;
  for (pos = 0; pos < v->log.length; pos += VHDX_LOG_SECTOR) {
    r = valid_entry_at (img, &v->log, log_guid, pos, &checked);
    if (r == -1)
      return -1;
    if (r == 1) {
      report_error ("%s: VHDX log: it holds entries that need replaying "
                    "(entry at 0x%" PRIx64 "), which a read-only open does "
                    "not do; to replay them, run `qemu-img check -r all` on "
                    "a copy of the file", img->path, v->log.offset + pos);
      errno = EPERM;
      return -1;
    }
  }
  return 0;
}
