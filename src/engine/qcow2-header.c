/* qcow2 header validation, following qemu 7.2's qcow2_do_open() and
 * qcow2_read_extensions(): every image qemu refuses at open is refused here
 * too, with the field and the value named.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "checked-arith.h"
#include "error.h"
#include "qcow2-header.h"
#include "rounding.h"

static int
invalid (void)
{
  errno = EINVAL;
  return -1;
}

static int
unsupported (void)
{
  errno = ENOTSUP;
  return -1;
}

static void
load_fixed_fields (const unsigned char *b, size_t len, struct qcow2_header *h)
{
  h->version = load_be32 (b + QCOW2_HDR_VERSION);
  h->backing_file_offset = load_be64 (b + QCOW2_HDR_BACKING_FILE_OFFSET);
  h->backing_file_size = load_be32 (b + QCOW2_HDR_BACKING_FILE_SIZE);
  h->cluster_bits = load_be32 (b + QCOW2_HDR_CLUSTER_BITS);
  h->size = load_be64 (b + QCOW2_HDR_SIZE);
  h->crypt_method = load_be32 (b + QCOW2_HDR_CRYPT_METHOD);
  h->l1_size = load_be32 (b + QCOW2_HDR_L1_SIZE);
  h->l1_table_offset = load_be64 (b + QCOW2_HDR_L1_TABLE_OFFSET);
  h->refcount_table_offset = load_be64 (b + QCOW2_HDR_REFCOUNT_TABLE_OFFSET);
  h->refcount_table_clusters =
    load_be32 (b + QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS);
  h->nb_snapshots = load_be32 (b + QCOW2_HDR_NB_SNAPSHOTS);
  h->snapshots_offset = load_be64 (b + QCOW2_HDR_SNAPSHOTS_OFFSET);
  if (h->version == 2) {
    h->incompatible = h->compatible = h->autoclear = 0;
    h->refcount_order = 4;
    h->header_length = QCOW2_V2_HEADER_LENGTH;
    h->compression_type = QCOW2_COMPRESSION_DEFLATE;
    return;
  }
  h->incompatible = load_be64 (b + QCOW2_HDR_INCOMPATIBLE);
  h->compatible = load_be64 (b + QCOW2_HDR_COMPATIBLE);
  h->autoclear = load_be64 (b + QCOW2_HDR_AUTOCLEAR);
  h->refcount_order = load_be32 (b + QCOW2_HDR_REFCOUNT_ORDER);
  h->header_length = load_be32 (b + QCOW2_HDR_HEADER_LENGTH);
  h->compression_type =
    h->header_length > QCOW2_HDR_COMPRESSION_TYPE
    && len > QCOW2_HDR_COMPRESSION_TYPE
    ? b[QCOW2_HDR_COMPRESSION_TYPE] : QCOW2_COMPRESSION_DEFLATE;
}

static int
check_clusters (const char *path, const struct qcow2_header *h, size_t len)
{
  if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS
      || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
    report_error ("%s: qcow2 header: cluster_bits %" PRIu32 " is out of "
                  "range (%d to %d)", path, h->cluster_bits,
                  QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
    return invalid ();
  }
  if (h->version == 3 && h->header_length < QCOW2_V3_MIN_HEADER_LENGTH) {
    report_error ("%s: qcow2 header: header_length %" PRIu32 " is too small "
                  "(at least %d)", path, h->header_length,
                  QCOW2_V3_MIN_HEADER_LENGTH);
    return invalid ();
  }
  if (h->header_length > (1u << h->cluster_bits) || h->header_length > len) {
    report_error ("%s: qcow2 header: header_length %" PRIu32 " passes the "
                  "first cluster or the end of the file", path,
                  h->header_length);
    return invalid ();
  }
  return 0;
}

/* The name the feature table extension gives bit BIT, or "". */
static void
feature_name (const unsigned char *buf, size_t len, uint32_t start,
              uint32_t end, unsigned bit, char name[47])
{
  uint64_t offset = start;

  name[0] = '\0';
  while (offset + 8 <= end) {
    uint32_t magic = load_be32 (buf + offset);
    uint32_t ext_len = load_be32 (buf + offset + 4);
    uint64_t i;

    if (magic == QCOW2_EXT_END || ext_len > end - offset - 8)
      return;
    if (magic == QCOW2_EXT_FEATURE_TABLE)
      for (i = 0; i + 48 <= ext_len; i += 48) {
        const unsigned char *f = buf + offset + 8 + i;

        if (f[0] == 0 && f[1] == bit) {
          memcpy (name, f + 2, 46);
          name[46] = '\0';
          return;
        }
      }
    offset += 8 + round_up (ext_len, 8);
  }
}

static uint32_t extensions_end (const struct qcow2_header *h, size_t len);

static int
check_features (const char *path, const struct qcow2_header *h,
                const unsigned char *buf, size_t len)
{
  uint64_t unknown = h->incompatible & ~QCOW2_INCOMPAT_KNOWN;
  char name[47];

  if (unknown != 0) {
    unsigned bit = __builtin_ctzll (unknown);

    feature_name (buf, len, h->header_length, extensions_end (h, len),
                  bit, name);
    report_error ("%s: qcow2 header: unknown incompatible feature bit %u%s%s%s"
                  " (incompatible_features 0x%" PRIx64 ")", path, bit,
                  name[0] ? " (\"" : "", name, name[0] ? "\")" : "",
                  h->incompatible);
    return unsupported ();
  }
  if (h->crypt_method > QCOW2_CRYPT_LUKS) {
    report_error ("%s: qcow2 header: crypt_method %" PRIu32 " is unknown",
                  path, h->crypt_method);
    return invalid ();
  }
  if (h->refcount_order > QCOW2_MAX_REFCOUNT_ORDER) {
    report_error ("%s: qcow2 header: refcount_order %" PRIu32 " is out of "
                  "range (0 to %d)", path, h->refcount_order,
                  QCOW2_MAX_REFCOUNT_ORDER);
    return invalid ();
  }
  if (h->compression_type != QCOW2_COMPRESSION_DEFLATE
      && h->compression_type != QCOW2_COMPRESSION_ZSTD) {
    report_error ("%s: qcow2 header: compression_type %u is unknown",
                  path, h->compression_type);
    return unsupported ();
  }
  if ((h->compression_type != QCOW2_COMPRESSION_DEFLATE)
      != !!(h->incompatible & QCOW2_INCOMPAT_COMPRESSION)) {
    report_error ("%s: qcow2 header: compression_type %u does not match the "
                  "compression type feature bit (incompatible_features "
                  "0x%" PRIx64 ")", path, h->compression_type,
                  h->incompatible);
    return invalid ();
  }
  if ((h->incompatible & QCOW2_INCOMPAT_EXTL2)
      && h->cluster_bits < QCOW2_MIN_EXTL2_CLUSTER_BITS) {
    report_error ("%s: qcow2 header: extended L2 entries need clusters of "
                  "at least %u bytes, not %u", path,
                  1u << QCOW2_MIN_EXTL2_CLUSTER_BITS, 1u << h->cluster_bits);
    return invalid ();
  }
  return 0;
}

/* A table of COUNT UNITs ("entries") of ENTRY_SIZE bytes at OFFSET, at most MAX_BYTES
 * long, inside the file and aligned to the cluster.
 */
static int
check_table (const char *path, const char *table, const char *unit,
             uint64_t offset, uint64_t count, uint64_t entry_size,
             uint64_t max_bytes,
             uint32_t cluster_bits, uint64_t file_size)
{
  uint64_t bytes = count * entry_size;  /* count < 2^32, entry_size < 2^22 */

  if (bytes > max_bytes) {
    report_error ("%s: qcow2 header: %s of %" PRIu64 " %s (%" PRIu64 " bytes) "
                  "is too large (at most %" PRIu64 " bytes)", path, table,
                  count, unit, bytes, max_bytes);
    return invalid ();
  }
  /* qemu checks the alignment even of an empty table. */
  if (!is_aligned (offset, (uint64_t) 1 << cluster_bits)) {
    report_error ("%s: qcow2 header: %s offset 0x%" PRIx64 " is not aligned "
                  "to the cluster size", path, table, offset);
    return invalid ();
  }
  if (count > 0 && !range_fits (offset, bytes, file_size)) {
    report_error ("%s: qcow2 header: %s (%" PRIu64 " bytes at 0x%" PRIx64
                  ") passes the end of the file (%" PRIu64 " bytes)",
                  path, table, bytes, offset, file_size);
    return invalid ();
  }
  return 0;
}

static int
check_tables (const char *path, const struct qcow2_header *h,
              uint64_t file_size)
{
  bool extended_l2 = h->incompatible & QCOW2_INCOMPAT_EXTL2;
  uint64_t covered = ((uint64_t) 1 << h->cluster_bits)
    * qcow2_l2_entries (h->cluster_bits, extended_l2);
  /* qemu sizes the L1 table by the unrounded virtual size. */
  uint64_t needed = div_round_up (h->size, covered);

  if (check_table (path, "L1 table", "entries", h->l1_table_offset, h->l1_size, 8,
                   QCOW2_MAX_L1_BYTES, h->cluster_bits, file_size) == -1)
    return -1;
  if (h->l1_size < needed) {
    report_error ("%s: qcow2 header: l1_size %" PRIu32 " is too small for "
                  "the virtual size %" PRIu64 " (needs %" PRIu64 ")",
                  path, h->l1_size, h->size, needed);
    return invalid ();
  }
  if (h->refcount_table_clusters == 0) {
    report_error ("%s: qcow2 header: refcount_table_clusters is 0: the "
                  "image has no refcount table", path);
    return invalid ();
  }
  if (check_table (path, "refcount table", "clusters",
                   h->refcount_table_offset,
                   h->refcount_table_clusters, (uint64_t) 1 << h->cluster_bits,
                   QCOW2_MAX_REFTABLE_BYTES, h->cluster_bits, file_size) == -1)
    return -1;
  if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
    report_error ("%s: qcow2 header: nb_snapshots %" PRIu32 " is too large "
                  "(at most %d)", path, h->nb_snapshots, QCOW2_MAX_SNAPSHOTS);
    return invalid ();
  }
  return check_table (path, "snapshot table", "entries", h->snapshots_offset,
                      h->nb_snapshots, QCOW2_SNAPSHOT_HEADER_SIZE,
                      QCOW2_MAX_SNAPSHOTS_BYTES, h->cluster_bits, file_size);
}

/* Extensions run from the end of the header to the backing name, or to the
 * end of the first cluster (qemu's end_offset).
 */
static uint32_t
extensions_end (const struct qcow2_header *h, size_t len)
{
  uint64_t end = h->backing_file_offset ? h->backing_file_offset
                                        : (uint64_t) 1 << h->cluster_bits;

  return MIN (end, (uint64_t) len);
}

static int
read_extension (const char *path, struct qcow2_header *h, uint32_t magic,
                const unsigned char *data, uint32_t ext_len)
{
  switch (magic) {
  case QCOW2_EXT_BACKING_FORMAT:
    if (ext_len >= sizeof h->backing_format) {
      report_error ("%s: qcow2 backing format extension: length %" PRIu32
                    " is too long (at most %zu)", path, ext_len,
                    sizeof h->backing_format - 1);
      return invalid ();
    }
    memcpy (h->backing_format, data, ext_len);
    h->backing_format[ext_len] = '\0';
    return 0;
  case QCOW2_EXT_DATA_FILE:
    free (h->data_file);
    h->data_file = strndup ((const char *) data, ext_len);
    if (h->data_file == NULL) {
      report_error ("%s: %m", path);
      return -1;
    }
    return 0;
  case QCOW2_EXT_CRYPTO_HEADER:
    if (h->crypt_method == QCOW2_CRYPT_LUKS)
      return 0;                 /* where the LUKS header is: never read */
    report_error ("%s: qcow2 header: a LUKS crypto header extension in an "
                  "image without LUKS encryption", path);
    return invalid ();
  default:
    /* Bitmaps, the feature table and unknown extensions do not change what
     * the guest reads.
     */
    return 0;
  }
}

static int
read_extensions (const char *path, const unsigned char *buf, size_t len,
                 struct qcow2_header *h)
{
  uint32_t end = extensions_end (h, len);
  uint64_t offset = h->header_length;

  while (offset < end) {
    uint32_t magic, ext_len;

    if (end - offset < 8) {
      report_error ("%s: qcow2 header extension at 0x%" PRIx64 " passes the "
                    "end of the extension area (0x%" PRIx32 ")",
                    path, offset, end);
      return invalid ();
    }
    magic = load_be32 (buf + offset);
    ext_len = load_be32 (buf + offset + 4);
    offset += 8;
    /* qemu checks the length before the magic, even the end marker's. */
    if (ext_len > end - offset) {
      report_error ("%s: qcow2 header extension 0x%08" PRIx32 " at 0x%"
                    PRIx64 ": length %" PRIu32 " passes the end of the "
                    "extension area (0x%" PRIx32 ")", path, magic,
                    offset - 8, ext_len, end);
      return invalid ();
    }
    if (magic == QCOW2_EXT_END)
      return 0;
    if (read_extension (path, h, magic, buf + offset, ext_len) == -1)
      return -1;
    offset += round_up (ext_len, 8);
  }
  return 0;
}

static int
read_backing_name (const char *path, const unsigned char *buf, size_t len,
                   struct qcow2_header *h)
{
  uint64_t cluster_size = (uint64_t) 1 << h->cluster_bits;

  h->backing_name[0] = '\0';
  if (h->backing_file_offset == 0)
    return 0;
  if (h->backing_file_offset > cluster_size) {
    report_error ("%s: qcow2 header: backing_file_offset 0x%" PRIx64 " is "
                  "outside the first cluster", path, h->backing_file_offset);
    return invalid ();
  }
  if (h->backing_file_size > QCOW2_MAX_BACKING_NAME) {
    report_error ("%s: qcow2 header: backing_file_size %" PRIu32 " is too "
                  "long (at most %d)", path, h->backing_file_size,
                  QCOW2_MAX_BACKING_NAME);
    return invalid ();
  }
  if (h->backing_file_size > cluster_size - h->backing_file_offset) {
    report_error ("%s: qcow2 header: backing file name (%" PRIu32 " bytes at "
                  "0x%" PRIx64 ") passes the end of the first cluster (%"
                  PRIu64 " bytes)", path, h->backing_file_size,
                  h->backing_file_offset, cluster_size);
    return invalid ();
  }
  if (!range_fits (h->backing_file_offset, h->backing_file_size, len)) {
    report_error ("%s: qcow2 header: the backing file name passes the end "
                  "of the file", path);
    return invalid ();
  }
  /* As qemu: the name ends at its first NUL, and an empty name is none. */
  memcpy (h->backing_name, buf + h->backing_file_offset, h->backing_file_size);
  h->backing_name[h->backing_file_size] = '\0';
  return 0;
}

static int
check_data_file (const char *path, const struct qcow2_header *h)
{
  if ((h->incompatible & QCOW2_INCOMPAT_DATA_FILE) && h->data_file == NULL) {
    report_error ("%s: qcow2 header: the image needs an external data file "
                  "but names none", path);
    return invalid ();
  }
  return 0;
}

/* An encrypted image is valid, but we refuse it: its clusters are
 * ciphertext to us.
 */
static int
refuse_encryption (const char *path, const struct qcow2_header *h)
{
  if (h->crypt_method == QCOW2_CRYPT_NONE)
    return 0;
  report_error ("%s: qcow2 header: the image is encrypted (crypt_method "
                "%" PRIu32 "%s); encrypted images are not supported", path,
                h->crypt_method,
                h->crypt_method == QCOW2_CRYPT_AES ? ", AES" : ", LUKS");
  return unsupported ();
}

int
qcow2_parse_header (const char *path, const unsigned char *buf, size_t len,
                    uint64_t file_size, struct qcow2_header *h)
{
  if (qcow2_parse_header_to_describe (path, buf, len, file_size, h) == -1)
    return -1;
  if (refuse_encryption (path, h) == -1) {
    free (h->data_file);
    h->data_file = NULL;
    return -1;
  }
  return 0;
}

int
qcow2_parse_header_to_describe (const char *path, const unsigned char *buf,
                                size_t len, uint64_t file_size,
                                struct qcow2_header *h)
{
  memset (h, 0, sizeof *h);
  if (len < QCOW2_V2_HEADER_LENGTH) {
    report_error ("%s: file is too short for a qcow2 header (%zu bytes)",
                  path, len);
    return invalid ();
  }
  if (load_be32 (buf + QCOW2_HDR_MAGIC) != QCOW2_MAGIC) {
    report_error ("%s: not a qcow2 image (magic 0x%08" PRIx32 ")", path,
                  load_be32 (buf + QCOW2_HDR_MAGIC));
    return invalid ();
  }
  h->version = load_be32 (buf + QCOW2_HDR_VERSION);
  if (h->version != 2 && h->version != 3) {
    report_error ("%s: qcow2 header: version %" PRIu32 " is not supported "
                  "(only 2 and 3)", path, h->version);
    return unsupported ();
  }
  if (h->version == 3 && len < QCOW2_V3_MIN_HEADER_LENGTH) {
    report_error ("%s: file is too short for a qcow2 v3 header (%zu bytes)",
                  path, len);
    return invalid ();
  }
  load_fixed_fields (buf, len, h);
  if (check_clusters (path, h, len) == -1
      || check_features (path, h, buf, len) == -1
      || check_tables (path, h, file_size) == -1
      || read_extensions (path, buf, len, h) == -1
      || read_backing_name (path, buf, len, h) == -1
      || check_data_file (path, h) == -1) {
    free (h->data_file);
    h->data_file = NULL;
    return -1;
  }
  return 0;
}
