/* The qcow2 format driver: open, read, extents.  Mapping is in
 * qcow2-map.c, header checks in qcow2-header.c.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte-order.h"
#include "cache.h"
#include "decompress.h"
#include "error.h"
#include "qcow2-driver.h"
#include "rounding.h"

/* How many mapping runs one extent query may merge: bounds its work. */
#define MAX_RUNS_PER_EXTENT 256

/* The first cluster, or the whole file if it is shorter: the header, its
 * extensions and the backing name all live there.
 */
static unsigned char *
read_first_cluster (struct image *img, size_t *len)
{
  unsigned char fixed[QCOW2_FIXED_HEADER_BYTES], *buf;
  uint32_t cluster_bits;
  size_t n = MIN (img->file_size, sizeof fixed);

  if (read_at (img, img->fd, "the qcow2 header", fixed, n, 0) == -1)
    return NULL;
  /* An out-of-range cluster_bits is reported by the parser. */
  cluster_bits = n >= 24 ? load_be32 (fixed + QCOW2_HDR_CLUSTER_BITS) : 0;
  if (cluster_bits >= QCOW2_MIN_CLUSTER_BITS
      && cluster_bits <= QCOW2_MAX_CLUSTER_BITS)
    n = MIN (img->file_size, 1ull << cluster_bits);
  buf = malloc (n);
  if (buf == NULL) {
    report_error ("%s: %m", img->path);
    return NULL;
  }
  if (read_at (img, img->fd, "the qcow2 header", buf, n, 0) == -1) {
    free (buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static int
open_data_file (struct image *img, struct qcow2 *q)
{
  struct stat st;

  q->data_fd = img->fd;
  q->data_size = img->file_size;
  if (!(q->header.incompatible & QCOW2_INCOMPAT_DATA_FILE))
    return 0;
  q->data_fd = open_companion (img, "data file", q->header.data_file,
                               &q->data_path);
  if (q->data_fd == -1)
    return companion_failed (img, &img->desc.data_file_errno,
                             &img->data_file_error);
  if (fstat (q->data_fd, &st) == -1) {
    report_error ("%s: data file %s: %m", img->path, q->data_path);
    return companion_failed (img, &img->desc.data_file_errno,
                             &img->data_file_error);
  }
  if (file_size_of (q->data_path, q->data_fd, &st, &q->data_size) == -1)
    return companion_failed (img, &img->desc.data_file_errno,
                             &img->data_file_error);
  return 0;
}

static void
describe (struct image *img, const struct qcow2 *q)
{
  const struct qcow2_header *h = &q->header;
  struct image_description *d = &img->desc;

  d->format = IMAGE_FORMAT_QCOW2;
  d->version = h->version;
  d->cluster_size = 1u << h->cluster_bits;
  d->extended_l2 = q->layout.extended_l2;
  d->compression = h->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd"
                                                                  : "zlib";
  d->virtual_size = h->size;
  d->dirty = h->incompatible & QCOW2_INCOMPAT_DIRTY;
  d->corrupt = h->incompatible & QCOW2_INCOMPAT_CORRUPT;
  d->lazy_refcounts = h->compatible & QCOW2_COMPAT_LAZY_REFCOUNTS;
  d->snapshots = h->nb_snapshots;
  d->backing_name = h->backing_name[0] ? h->backing_name : NULL;
  d->backing_format = h->backing_format[0] ? h->backing_format : NULL;
  d->data_file = q->layout.has_data_file ? h->data_file : NULL;
  d->data_file_raw = q->layout.has_data_file
                     && (h->autoclear & QCOW2_AUTOCLEAR_DATA_FILE_RAW);
  d->snapshot_id = q->snapshot_id;
  d->snapshot_name = q->snapshot_name;
  d->data_file_error = img->data_file_error;
  d->encryption = h->crypt_method == QCOW2_CRYPT_AES ? "aes"
                  : h->crypt_method == QCOW2_CRYPT_LUKS ? "luks" : NULL;
}

static void qcow2_close (struct image *img);

static int
qcow2_open (struct image *img)
{
  struct qcow2 *q = calloc (1, sizeof *q);
  unsigned char *first;
  size_t len;
  int r;

  if (q == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  q->data_fd = -1;
  img->format = q;
  first = read_first_cluster (img, &len);
  if (first == NULL)
    goto fail;
  r = (img->describe_only ? qcow2_parse_header_to_describe
                           : qcow2_parse_header)
        (img->path, first, len, img->file_size, &q->header);
  free (first);
  if (r == -1 || qcow2_check_snapshots (img, &q->header) == -1)
    goto fail;

  q->version = q->header.version;
  q->cluster_bits = q->header.cluster_bits;
  q->layout.extended_l2 = q->header.incompatible & QCOW2_INCOMPAT_EXTL2;
  q->layout.has_data_file = q->header.incompatible & QCOW2_INCOMPAT_DATA_FILE;
  q->entry_bytes = q->layout.extended_l2 ? 16 : 8;
  q->unit_bits = q->cluster_bits - (q->layout.extended_l2 ? 5 : 0);
  q->l2_bits = q->cluster_bits - (q->layout.extended_l2 ? 4 : 3);
  q->l1_offset = q->header.l1_table_offset;
  q->l1_size = q->header.l1_size;
  q->compression_type = q->header.compression_type;
  if (open_data_file (img, q) == -1
      || (img->snapshot != NULL && qcow2_open_snapshot (img) == -1))
    goto fail;
  host_holes_init (&q->data_holes, img, q->data_fd, q->data_size);
  img->size = round_down (q->header.size, 512);
  describe (img, q);
  return 0;

 fail:
  qcow2_close (img);
  return -1;
}

static void
qcow2_close (struct image *img)
{
  struct qcow2 *q = img->format;

  if (q == NULL)
    return;
  if (q->data_holes.img != NULL)
    host_holes_destroy (&q->data_holes);
  if (q->data_path != NULL && q->data_fd >= 0)
    close (q->data_fd);
  free (q->data_path);
  free (q->header.data_file);
  free (q->snapshot_id);
  free (q->snapshot_name);
  free (q);
  img->format = NULL;
}

/* Host bytes of a DATA run (the mapping checked they are in the file). */
static int
read_host (struct image *img, void *buf, size_t count, uint64_t host)
{
  struct qcow2 *q = img->format;

  return read_at (img, q->data_fd, "cluster data", buf, count, host);
}

struct cluster_fill {
  struct image *img;
  const struct qcow2_run *run;
};

/* Decompress the cluster whose L2 entry is F->entry into BUF. */
static int
fill_cluster (void *buf, size_t size, void *opaque)
{
  struct cluster_fill *f = opaque;
  struct image *img = f->img;
  struct qcow2 *q = img->format;
  struct qcow2_compressed c;
  unsigned char *payload;
  size_t n;
  int r;

  qcow2_decode_compressed (q->cluster_bits, f->run->entry, &c);
  if (c.offset >= img->file_size) {
    report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": "
                  "compressed cluster at 0x%" PRIx64 " is past the end "
                  "of the file (%" PRIu64 " bytes)", img->path,
                  f->run->l2_index, f->run->l1_index, c.offset,
                  img->file_size);
    errno = EINVAL;
    return -1;
  }
  /* qemu writes payloads whose last sector passes the end of the file. */
  n = MIN (c.size, img->file_size - c.offset);
  payload = malloc (n);
  if (payload == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  r = read_at (img, img->fd, "a compressed cluster", payload, n, c.offset);
  if (r == 0) {
    struct compressed_cluster where = {
      img->path, f->run->l1_index, f->run->l2_index, c.offset,
      q->compression_type
    };
    r = decompress_cluster (&where, buf, size, payload, n);
  }
  free (payload);
  return r;
}

static int
read_compressed (struct image *img, void *buf, size_t count, uint64_t offset,
                 const struct qcow2_run *run)
{
  struct qcow2 *q = img->format;
  struct cluster_fill fill = { img, run };
  struct qcow2_compressed c;
  struct cache_entry *pin;
  const unsigned char *cluster;

  struct cache_key key;
  uint64_t cluster_size = 1ull << q->cluster_bits;

  qcow2_decode_compressed (q->cluster_bits, run->entry, &c);
  key = cache_key (CACHE_CLUSTER, c.offset);
  /* A read of the whole cluster (a sequential copy) decompresses straight
   * into the caller's buffer and leaves the cache to partial readers.
   */
  if (count == cluster_size) {
    cluster = cache_find (img->cache, img->cache_owner, key, count, &pin);
    if (cluster == NULL)
      return fill_cluster (buf, count, &fill);
  }
  else
    cluster = cache_get (img->cache, img->cache_owner, key, cluster_size,
                         fill_cluster, &fill, &pin);
  if (cluster == NULL)
    return -1;
  memcpy (buf, cluster + (offset & (cluster_size - 1)), count);
  cache_release (img->cache, pin);
  return 0;
}

static int
qcow2_read (struct image *img, void *buf, size_t count, uint64_t offset)
{
  char *p = buf;

  while (count > 0) {
    struct qcow2_run run;
    int r = 0;

    if (qcow2_map (img, offset, count, QCOW2_MAP_READ, &run) == -1)
      return -1;
    switch (run.type) {
    case QCOW2_SC_UNALLOCATED:
      r = read_below (img, p, run.length, offset);
      break;
    case QCOW2_SC_ZERO:
      memset (p, 0, run.length);
      break;
    case QCOW2_SC_DATA:
      r = read_host (img, p, run.length, run.host);
      break;
    case QCOW2_SC_COMPRESSED:
      r = read_compressed (img, p, run.length, offset, &run);
      break;
    case QCOW2_SC_INVALID:
      abort ();                 /* qcow2_map never returns it */
    }
    if (r == -1)
      return -1;
    p += run.length;
    offset += run.length;
    count -= run.length;
  }
  return 0;
}

/* The extent type of one mapping run.  Unallocated runs ask the layer
 * below, data runs that are one host range the host file: a cluster
 * allocated but never written (preallocation=metadata, which allocates in
 * order) is a hole there, and reads as zeros with nothing behind it.
 * Either may shorten the run.  The host file is asked through
 * host-holes.h, which asks the file system once per run of the file.
 */
static int
classify_run (struct image *img, uint64_t offset, const struct qcow2_run *run,
              struct image_extent *e)
{
  struct qcow2 *q = img->format;

  if (run->type == QCOW2_SC_UNALLOCATED)
    return extent_below (img, offset, run->length, e);
  if (run->type == QCOW2_SC_DATA && run->contiguous) {
    if (host_holes_extent (&q->data_holes, run->host, run->length, e) == -1)
      return -1;
    e->offset = offset;
    return 0;
  }
  e->offset = offset;
  e->length = run->length;
  e->type = run->type == QCOW2_SC_ZERO ? IMAGE_EXTENT_ZERO : IMAGE_EXTENT_DATA;
  return 0;
}

static int
qcow2_extent (struct image *img, uint64_t offset, uint64_t length,
              struct image_extent *extent)
{
  uint64_t pos = offset, end = offset + length;
  unsigned runs;

  for (runs = 0; pos < end && runs < MAX_RUNS_PER_EXTENT; runs++) {
    struct qcow2_run run;
    struct image_extent e;

    if (qcow2_map (img, pos, end - pos, QCOW2_MAP_EXTENT, &run) == -1
        || classify_run (img, pos, &run, &e) == -1)
      return -1;
    if (pos > offset && e.type != extent->type)
      break;
    extent->type = e.type;
    pos += e.length;
    /* The layer below (or the host file) ended its extent inside this
     * run: it would only be asked again where it found another type.
     * Each layer of a chain asking so, the work doubled with every layer.
     */
    if (e.length < run.length)
      break;
  }
  extent->offset = offset;
  extent->length = pos - offset;
  return 0;
}

const struct format_ops qcow2_format = {
  .name = "qcow2",
  .open = qcow2_open,
  .read = qcow2_read,
  .extent = qcow2_extent,
  .close = qcow2_close,
  .snapshots = qcow2_snapshots,
};
