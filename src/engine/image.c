/* The generic half of the engine: opening a chain of images, dispatching to
 * the format drivers, and the checks every request passes first.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte-order.h"
#include "cache.h"
#include "checked-arith.h"
#include "confine.h"
#include "error.h"
#include "image-internal.h"
#include "ova.h"
#include "qcow2-format.h"
#include "rounding.h"

/* What the layers of one chain share while image_open() opens them. */
struct chain {
  const char *top_path;
  const struct image_options *options;
  const char *const *allowed;   /* the operator's folders, as given */
  char **roots;                 /* NULL-terminated canonical folders, made
                                   when a companion file is first named */
  struct { dev_t dev; ino_t ino; } seen[IMAGE_MAX_CHAIN_DEPTH];
  unsigned depth;
  bool describe_only;
};

/* The first bytes every probe may look at. */
#define PROBE_BYTES 512

static probe_fn qcow2_probe;

/* The formats the engine reads, in probing order; a new format is a new
 * driver here.  Raw, last, is what no probe claims.
 */
static const struct driver {
  enum image_format format;
  const struct format_ops *ops;
  probe_fn *probe;
  tail_probe_fn *tail_probe;
} drivers[] = {
  { IMAGE_FORMAT_QCOW2, &qcow2_format, qcow2_probe, NULL },
  { IMAGE_FORMAT_VDI, &vdi_format, vdi_probe, NULL },
  { IMAGE_FORMAT_VPC, &vpc_format, vpc_probe, vpc_probe_tail },
  { IMAGE_FORMAT_VHDX, &vhdx_format, vhdx_probe, NULL },
  { IMAGE_FORMAT_VMDK, &vmdk_format, vmdk_probe, NULL },
  { IMAGE_FORMAT_RAW, &raw_format, NULL, NULL },
};
#define N_DRIVERS (sizeof drivers / sizeof drivers[0])

static const struct driver *
driver_for (enum image_format format)
{
  size_t i;

  for (i = 0; i < N_DRIVERS; i++)
    if (drivers[i].format == format)
      return &drivers[i];
  return NULL;
}

const char *
image_format_name (enum image_format format)
{
  const struct driver *d = driver_for (format);

  return d ? d->ops->name : "auto";
}

int
image_format_from_name (const char *name, enum image_format *format)
{
  size_t i;

  for (i = 0; i < N_DRIVERS; i++)
    if (strcmp (name, drivers[i].ops->name) == 0) {
      *format = drivers[i].format;
      return 0;
    }
  return -1;
}

/* A windowed layer's own fd: reads stop at the member's end as at a
 * file's, and the offset is moved to the member's data.
 */
static int
enter_window (const struct image *img, const char *what, size_t count,
              uint64_t *offset)
{
  if (!range_fits (*offset, count, img->file_size)) {
    report_error ("%s: reading %s at offset 0x%" PRIx64 ": unexpected end "
                  "of the archive member (%" PRIu64 " bytes)", img->path,
                  what, *offset, img->file_size);
    errno = EIO;
    return -1;
  }
  *offset += img->base;
  return 0;
}

int
read_at (const struct image *img, int fd, const char *what,
         void *buf, size_t count, uint64_t offset)
{
  char *p = buf;

  if (img->windowed && fd == img->fd
      && enter_window (img, what, count, &offset) == -1)
    return -1;
  while (count > 0) {
    ssize_t r = pread (fd, p, count, offset);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      report_error ("%s: reading %s at offset 0x%" PRIx64 ": %m",
                    img->path, what, offset);
      return -1;
    }
    if (r == 0) {
      report_error ("%s: reading %s at offset 0x%" PRIx64 ": unexpected end "
                    "of file", img->path, what, offset);
      errno = EIO;
      return -1;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

int
fill_from_file (void *buf, size_t size, void *opaque)
{
  struct file_fill *f = opaque;

  return read_at (f->img, f->img->fd, f->what, buf, size, f->offset);
}

int
read_below (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct image *b = img->backing;
  size_t n = 0;

  if (b != NULL && offset < b->size) {
    n = MIN (count, b->size - offset);
    if (b->ops->read (b, buf, n, offset) == -1)
      return -1;
  }
  memset ((char *) buf + n, 0, count - n);
  return 0;
}

int
extent_below (struct image *img, uint64_t offset, uint64_t length,
              struct image_extent *extent)
{
  struct image *b = img->backing;

  if (b == NULL || offset >= b->size) {
    extent->offset = offset;
    extent->length = length;
    extent->type = IMAGE_EXTENT_ZERO;
    return 0;
  }
  return b->ops->extent (b, offset, MIN (length, b->size - offset), extent);
}

/* file_extent() of a windowed layer's own fd: the file's run at the
 * member's offset, cut at the member's end.
 */
static int
window_extent (const struct image *img, uint64_t offset, uint64_t length,
               struct image_extent *extent)
{
  struct image fd_view = *img;

  if (offset >= img->file_size) {
    report_error ("%s: extent at offset 0x%" PRIx64 " is past the archive "
                  "member's end (%" PRIu64 " bytes)", img->path, offset,
                  img->file_size);
    errno = EIO;
    return -1;
  }
  fd_view.windowed = false;
  length = MIN (length, img->file_size - offset);
  if (file_extent (&fd_view, img->fd, img->base + offset, length, extent)
      == -1)
    return -1;
  extent->offset = offset;
  return 0;
}

int
file_extent (const struct image *img, int fd, uint64_t offset,
             uint64_t length, struct image_extent *extent)
{
  off_t data, hole;
  uint64_t end = offset + length;

  if (img->windowed && fd == img->fd)
    return window_extent (img, offset, length, extent);
  extent->offset = offset;
  extent->length = length;
  extent->type = IMAGE_EXTENT_DATA;

  data = lseek (fd, offset, SEEK_DATA);
  if (data == -1) {
    if (errno == ENXIO)         /* only a hole from here to the end */
      extent->type = IMAGE_EXTENT_ZERO;
    else if (errno != EINVAL && errno != ENOTSUP) {
      report_error ("%s: SEEK_DATA at offset 0x%" PRIx64 ": %m",
                    img->path, offset);
      return -1;
    }
    return 0;
  }
  if ((uint64_t) data > offset) {
    extent->type = IMAGE_EXTENT_ZERO;
    extent->length = MIN ((uint64_t) data, end) - offset;
    return 0;
  }
  hole = lseek (fd, offset, SEEK_HOLE);
  if (hole == -1) {
    report_error ("%s: SEEK_HOLE at offset 0x%" PRIx64 ": %m",
                  img->path, offset);
    return -1;
  }
  if ((uint64_t) hole > offset)
    extent->length = MIN ((uint64_t) hole, end) - offset;
  return 0;
}

/* Open PATH for reading without blocking on a FIFO or a device that waits
 * for a peer: a named pipe in an image folder must not hang the open.
 */
static int
open_readonly (const char *path, int flags)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);

  if (fd >= 0)
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

int
file_size_of (const char *path, int fd, const struct stat *st, uint64_t *size)
{
  if (S_ISREG (st->st_mode)) {
    *size = st->st_size;
    return 0;
  }
  if (S_ISBLK (st->st_mode)) {
    if (ioctl (fd, BLKGETSIZE64, size) == -1) {
      report_error ("%s: BLKGETSIZE64: %m", path);
      return -1;
    }
    return 0;
  }
  /* Not EINVAL: the file is of the wrong kind, not damaged. */
  report_error ("%s: not a regular file or block device", path);
  errno = S_ISDIR (st->st_mode) ? EISDIR : ENOTBLK;
  return -1;
}

static int
remember_in_chain (struct chain *chain, const char *path, const struct stat *st)
{
  unsigned i;

  for (i = 0; i < chain->depth; i++)
    if (chain->seen[i].dev == st->st_dev && chain->seen[i].ino == st->st_ino) {
      report_error ("%s: backing chain loops: this file is already in the "
                    "chain", path);
      errno = ELOOP;
      return -1;
    }
  chain->seen[chain->depth].dev = st->st_dev;
  chain->seen[chain->depth].ino = st->st_ino;
  chain->depth++;
  return 0;
}

/* qemu's probe wants a version too; with 0 it is a raw disk that happens
 * to start with the magic.  Version 1 (qemu's old qcow driver) is left to
 * image_open to refuse by name rather than be shown as raw.
 */
static int
qcow2_probe (int fd, const unsigned char *head, size_t len)
{
  (void) fd;
  return len >= 8 && load_be32 (head) == QCOW2_MAGIC
         && load_be32 (head + 4) >= 1;
}

int
probe_span_format (const struct probe_span *span, const unsigned char *head,
                   size_t len, enum image_format *format)
{
  size_t i;
  int r;

  for (i = 0; i < N_DRIVERS; i++) {
    r = drivers[i].probe ? drivers[i].probe (span->fd, head, len) : 1;
    if (r == 0 && drivers[i].tail_probe)
      r = drivers[i].tail_probe (span);
    if (r == -1)
      return -1;
    if (r == 1) {
      *format = drivers[i].format;
      return 0;
    }
  }
  abort ();                     /* raw takes every file */
}

static int
probe_in (const struct probe_span *span, enum image_format *format)
{
  unsigned char head[PROBE_BYTES];
  ssize_t n;

  do
    n = pread (span->fd, head, MIN (sizeof head, span->size), span->base);
  while (n == -1 && errno == EINTR);
  if (n == -1)
    return -1;
  return probe_span_format (span, head, n, format);
}

int
image_probe_fd (int fd, enum image_format *format)
{
  off_t end = lseek (fd, 0, SEEK_END);
  struct probe_span whole = { fd, 0, end == -1 ? 0 : (uint64_t) end };

  if (end == -1)
    return -1;
  return probe_in (&whole, format);
}

static const struct format_ops *
ops_for (struct image *img, enum image_format format)
{
  struct probe_span span = { img->fd, img->base, img->file_size };
  const struct driver *d;

  if (format == IMAGE_FORMAT_AUTO && probe_in (&span, &format) == -1) {
    report_error ("%s: reading the format magic: %m", img->path);
    return NULL;
  }
  d = driver_for (format);
  if (d == NULL) {
    report_error ("%s: unknown image format %d", img->path, (int) format);
    errno = EINVAL;
    return NULL;
  }
  return d->ops;
}

/* The format a backing file is opened as: the header's backing format
 * extension (by qemu's driver names), or a probe where there is none (as
 * qemu does).
 */
static int
backing_format (const struct image *img, enum image_format *format)
{
  const char *name = img->desc.backing_format;

  *format = IMAGE_FORMAT_AUTO;
  if (name == NULL)
    return 0;
  if (strcmp (name, "file") == 0)
    name = "raw";
  if (image_format_from_name (name, format) == 0)
    return 0;
  report_error ("%s: backing format \"%s\" is not supported (only qcow2, "
                "vdi, vpc, vhdx, vmdk and raw)", img->path, name);
  errno = ENOTSUP;
  return -1;
}

static void
free_roots (char **roots)
{
  size_t i;

  if (roots == NULL)
    return;
  for (i = 0; roots[i] != NULL; i++)
    free (roots[i]);
  free (roots);
}

/* The top image's folder first (messages name it), then the allowed ones. */
static char **
make_roots (const char *path, const char *const *allowed)
{
  size_t n = 0, i;
  char **roots;

  while (allowed && allowed[n])
    n++;
  roots = calloc (n + 2, sizeof *roots);
  if (roots == NULL) {
    report_error ("%s: %m", path);
    return NULL;
  }
  roots[0] = canonical_parent (path);
  if (roots[0] == NULL)
    goto fail;
  for (i = 0; i < n; i++) {
    roots[i + 1] = canonical_dir (allowed[i]);
    if (roots[i + 1] == NULL)
      goto fail;
  }
  return roots;

 fail:
  free_roots (roots);
  return NULL;
}

/* NAME, found in IMG's header as its WHAT, resolved inside the chain's
 * folders (see confine.h).  The folders are made canonical on first use:
 * most images name no other file, and their open then costs no path
 * resolution (a folder of thousands of images is listed by opening each).
 */
static char *
confine_companion (struct image *img, const char *what, const char *name)
{
  struct chain *chain = img->chain;

  if (img->windowed) {
    report_error ("%s: %s \"%s\" is refused: a disk inside an OVA must be "
                  "a single file", img->path, what, name);
    errno = EACCES;
    return NULL;
  }
  if (chain->roots == NULL) {
    chain->roots = make_roots (chain->top_path, chain->allowed);
    if (chain->roots == NULL)
      return NULL;
  }
  return confine_path (img->path, what, name,
                       (const char *const *) chain->roots);
}

static void close_layer (struct image *img);
static struct image *open_layer (const char *path, enum image_format format,
                                 int open_flags, struct chain *chain,
                                 struct image_cache *cache);

/* Open the backing file IMG names, confined, as img->backing. */
static int
open_backing (struct image *img, struct chain *chain, struct image_cache *cache)
{
  char *backing_path;
  enum image_format below;

  if (chain->depth == IMAGE_MAX_CHAIN_DEPTH) {
    report_error ("%s: backing file \"%s\" is refused: the backing chain "
                  "is deeper than %d images", img->path,
                  img->desc.backing_name, IMAGE_MAX_CHAIN_DEPTH);
    errno = ELOOP;
    return -1;
  }
  if (backing_format (img, &below) == -1)
    return -1;
  backing_path = confine_companion (img, "backing file",
                                   img->desc.backing_name);
  if (backing_path == NULL)
    return -1;
  img->backing = open_layer (backing_path, below, O_NOFOLLOW, chain, cache);
  free (backing_path);
  return img->backing == NULL ? -1 : 0;
}

/* Make IMG, the top layer opened as the archive file, the disk of it
 * SELECTOR names: a window on the member's data, named "ARCHIVE/DISK".
 */
static int
open_ova_disk (struct image *img, const struct ova *ova, const char *selector)
{
  const struct image_disk *disk = ova_select (img->path, ova, selector);
  char *path;

  if (disk == NULL)
    return -1;
  if (asprintf (&path, "%s/%s", img->path, disk->name) == -1) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  img->archive = img->path;
  img->path = path;
  img->archive_disk = strdup (disk->name);
  if (img->archive_disk == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  img->base = disk->offset;
  img->file_size = disk->size;
  img->windowed = true;
  img->desc.archive = img->archive;
  img->desc.archive_disk = img->archive_disk;
  img->desc.archive_disk_index = disk->index;
  img->desc.archive_disk_offset = disk->offset;
  return 0;
}

/* The top layer: when its file is an OVA (probed like any format), read
 * the disk the options select in place.
 */
static int
open_top_archive (struct image *img, enum image_format format,
                  const struct image_options *options)
{
  struct ova ova;
  int r = 0;

  if (format == IMAGE_FORMAT_AUTO)
    r = ova_open (img->path, img->fd, img->file_size, &ova);
  if (r == -1)
    return -1;
  if (r == 0 && options->disk != NULL) {
    report_error ("%s: a disk (\"%s\") is selected, but this is not an OVA "
                  "archive", img->path, options->disk);
    errno = ENOTSUP;
    return -1;
  }
  if (r == 0)
    return 0;
  r = open_ova_disk (img, &ova, options->disk);
  ova_free (&ova);
  return r;
}

/* Open PATH for reading (open_readonly), with its stat in *ST and its
 * size in *SIZE.  Returns the fd, or -1 after reporting.
 */
static int
open_sized (const char *path, int flags, struct stat *st, uint64_t *size)
{
  int fd = open_readonly (path, flags);

  if (fd == -1) {
    report_error ("%s: open: %m", path);
    return -1;
  }
  if (fstat (fd, st) == -1) {
    report_error ("%s: fstat: %m", path);
    close (fd);
    return -1;
  }
  if (file_size_of (path, fd, st, size) == -1) {
    close (fd);
    return -1;
  }
  return fd;
}

int
image_ova_disks (const char *path, bool *is_ova, image_disk_fn *fn,
                 void *opaque)
{
  struct ova ova;
  struct stat st;
  uint64_t size;
  size_t i;
  int fd, r;

  *is_ova = false;
  fd = open_sized (path, 0, &st, &size);
  if (fd == -1)
    return -1;
  r = ova_open (path, fd, size, &ova);
  close (fd);
  if (r <= 0)
    return r;
  *is_ova = true;
  r = 0;
  for (i = 0; i < ova.n_disks && r == 0; i++)
    r = fn (&ova.disks[i], opaque);
  ova_free (&ova);
  return r;
}

static struct image *
open_layer (const char *path, enum image_format format, int open_flags,
            struct chain *chain, struct image_cache *cache)
{
  struct image *img = calloc (1, sizeof *img);
  struct stat st;

  if (img == NULL || (img->path = strdup (path)) == NULL) {
    report_error ("%s: %m", path);
    free (img);
    return NULL;
  }
  img->fd = open_sized (path, open_flags, &st, &img->file_size);
  if (img->fd == -1 || remember_in_chain (chain, path, &st) == -1)
    goto fail;
  img->dev = st.st_dev;
  img->ino = st.st_ino;
  img->cache = cache;
  img->cache_owner = cache_new_owner ();
  img->chain = chain;
  img->describe_only = chain->describe_only;
  if (chain->depth == 1
      && open_top_archive (img, format, chain->options) == -1)
    goto fail;
  img->ops = ops_for (img, format);
  if (img->ops == NULL)
    goto fail;
  img->desc.path = img->path;
  img->desc.file_size = img->file_size;
  if (chain->depth == 1) {
    img->snapshot = chain->options->snapshot;
    img->snapshot_key = chain->options->snapshot_key;
  }
  if (img->ops->open (img) == -1) {
    img->ops = NULL;
    goto fail;
  }
  if (img->snapshot != NULL && img->desc.snapshot_id == NULL) {
    report_error ("%s: internal snapshots are read from qcow2 images only "
                  "(this is %s)", img->path, img->ops->name);
    errno = ENOTSUP;
    goto fail;
  }
  img->snapshot = NULL;         /* the caller's string: only while opening */
  if (img->desc.backing_name == NULL)
    return img;
  if (open_backing (img, chain, cache) == -1
      && companion_failed (img, &img->desc.backing_errno,
                           &img->backing_error) == -1)
    goto fail;
  img->desc.backing_error = img->backing_error;
  return img;

 fail:
  close_layer (img);
  return NULL;
}

static void
close_layer (struct image *img)
{
  int saved_errno = errno;

  if (img->backing)
    close_layer (img->backing);
  if (img->ops)
    img->ops->close (img);
  if (img->cache)
    cache_forget_owner (img->cache, img->cache_owner);
  if (img->fd >= 0)
    close (img->fd);
  free (img->backing_error);
  free (img->data_file_error);
  free (img->archive);
  free (img->archive_disk);
  free (img->path);
  free (img);
  errno = saved_errno;
}

struct image *
image_open (const char *path, const struct image_options *options)
{
  static const struct image_options defaults;
  struct chain *chain = calloc (1, sizeof *chain);
  struct image_cache *cache;
  struct image *img = NULL, *layer;

  if (options == NULL)
    options = &defaults;
  if (chain == NULL) {
    report_error ("%s: %m", path);
    return NULL;
  }
  chain->top_path = path;
  chain->options = options;
  chain->allowed = options->allowed_dirs;
  chain->describe_only = options->describe_only;
  cache = options->cache ? options->cache
                         : image_cache_new (IMAGE_DEFAULT_CACHE_BYTES);
  if (cache != NULL)
    img = open_layer (path, options->format, 0, chain, cache);
  if (img != NULL) {
    img->owns_cache = options->cache == NULL;
    for (layer = img; layer != NULL; layer = layer->backing)
      layer->chain = NULL;      /* freed below: only opens use it */
  }
  else if (options->cache == NULL)
    image_cache_free (cache);
  free_roots (chain->roots);
  free (chain);
  return img;
}

void
image_close (struct image *img)
{
  struct image_cache *cache;

  if (img == NULL)
    return;
  cache = img->owns_cache ? img->cache : NULL;
  close_layer (img);
  image_cache_free (cache);
}

uint64_t
image_size (const struct image *img)
{
  return img->size;
}

int
image_file_stat (const struct image *img, struct stat *st)
{
  if (fstat (img->fd, st) == -1) {
    report_error ("%s: stat: %m", img->path);
    return -1;
  }
  return 0;
}

/* A window's bytes that the file system holds as data, run by run. */
static int
window_allocated (const struct image *img, uint64_t *bytes)
{
  struct image_extent e;
  uint64_t offset;

  *bytes = 0;
  for (offset = 0; offset < img->file_size; offset += e.length) {
    if (window_extent (img, offset, img->file_size - offset, &e) == -1)
      return -1;
    if (e.type == IMAGE_EXTENT_DATA)
      *bytes += e.length;
  }
  return 0;
}

int
image_file_allocated (const struct image *img, uint64_t *bytes)
{
  struct stat st;

  if (img->windowed)
    return window_allocated (img, bytes);
  if (image_file_stat (img, &st) == -1)
    return -1;
  *bytes = (uint64_t) st.st_blocks * 512;
  return 0;
}

/* An image opened to describe may lack the files its reads need. */
static int
refuse_describe_only (const struct image *img)
{
  if (!img->describe_only)
    return 0;
  report_error ("%s: opened to describe only, not to read", img->path);
  errno = EPERM;
  return -1;
}

int
image_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  if (refuse_describe_only (img) == -1)
    return -1;
  if (offset > img->size || count > img->size - offset) {
    report_error ("%s: read of %zu bytes at offset 0x%" PRIx64 " passes the "
                  "end of the image (%" PRIu64 " bytes)",
                  img->path, count, offset, img->size);
    errno = EINVAL;
    return -1;
  }
  if (count == 0)
    return 0;
  return img->ops->read (img, buf, count, offset);
}

int
image_extent (struct image *img, uint64_t offset, struct image_extent *extent)
{
  if (refuse_describe_only (img) == -1)
    return -1;
  if (offset >= img->size) {
    report_error ("%s: extent at offset 0x%" PRIx64 " is past the end of the "
                  "image (%" PRIu64 " bytes)", img->path, offset, img->size);
    errno = EINVAL;
    return -1;
  }
  if (img->ops->extent (img, offset, img->size - offset, extent) == -1)
    return -1;
  /* A caller loops on the length: never let a driver bug make it spin. */
  if (extent->offset != offset || extent->length == 0
      || extent->length > img->size - offset) {
    report_error ("%s: internal error: extent at 0x%" PRIx64 " is 0x%" PRIx64
                  "+0x%" PRIx64, img->path, offset, extent->offset,
                  extent->length);
    errno = EIO;
    return -1;
  }
  return 0;
}

int
image_run (struct image *img, uint64_t offset, uint64_t limit,
           struct image_extent *run)
{
  struct image_extent next;
  uint64_t end;

  if (limit > img->size || offset >= limit) {
    report_error ("%s: run from 0x%" PRIx64 " to 0x%" PRIx64 " is outside "
                  "the image (%" PRIu64 " bytes)", img->path, offset, limit,
                  img->size);
    errno = EINVAL;
    return -1;
  }
  if (image_extent (img, offset, run) == -1)
    return -1;
  end = offset + run->length;
  while (end < limit) {
    if (image_extent (img, end, &next) == -1)
      return -1;
    if (next.type != run->type)
      break;
    end += next.length;
  }
  run->length = MIN (end, limit) - offset;
  return 0;
}

int
image_data_bytes (struct image *img, uint64_t *bytes)
{
  struct image_extent e;
  uint64_t offset = 0;

  *bytes = 0;
  while (offset < img->size) {
    if (image_extent (img, offset, &e) == -1)
      return -1;
    if (e.type == IMAGE_EXTENT_DATA)
      *bytes += e.length;
    offset += e.length;
  }
  return 0;
}

const struct image_description *
image_describe (const struct image *img)
{
  return &img->desc;
}

int
image_snapshots (const struct image *img, image_snapshot_fn *fn, void *opaque)
{
  return img->ops->snapshots ? img->ops->snapshots (img, fn, opaque) : 0;
}

void
image_snapshot_from_text (const char *text, struct image_options *options)
{
  static const struct {
    const char *prefix;
    enum image_snapshot_key key;
  } forms[] = {
    { "snapshot.id=", IMAGE_SNAPSHOT_ID },
    { "snapshot.name=", IMAGE_SNAPSHOT_NAME },
  };
  size_t i, n;

  options->snapshot = text;
  options->snapshot_key = IMAGE_SNAPSHOT_ID_OR_NAME;
  for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    n = strlen (forms[i].prefix);
    if (strncmp (text, forms[i].prefix, n) == 0) {
      options->snapshot = text + n;
      options->snapshot_key = forms[i].key;
    }
  }
}

const struct image *
image_backing (const struct image *img)
{
  return img->backing;
}

int
open_companion (struct image *img, const char *what, const char *name,
                char **resolved_path)
{
  char *path = confine_companion (img, what, name);
  int fd;

  if (path == NULL)
    return -1;
  fd = open_readonly (path, O_NOFOLLOW);
  if (fd == -1) {
    report_error ("%s: %s %s: %m", img->path, what, path);
    free (path);
    return -1;
  }
  *resolved_path = path;
  return fd;
}

int
companion_failed (struct image *img, int *error, char **message)
{
  if (!img->describe_only)
    return -1;
  *error = errno;
  free (*message);
  *message = strdup (last_error ());    /* NULL when out of memory */
  return 0;
}
