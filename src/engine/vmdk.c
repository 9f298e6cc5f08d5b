/* The VMDK format driver, read as qemu's block/vmdk.c reads it:
 *  - a file starting with "KDMV" is one hosted sparse extent
 *    (monolithicSparse, streamOptimized; see vmdk-sparse.c), its
 *    descriptor embedded at offset 0x200;
 *  - a text descriptor (monolithicFlat, twoGbMaxExtentSparse/Flat, vmfs,
 *    vmfsSparse) lists extents in other files, each confined like a
 *    backing file: FLAT and VMFS extents are the file's bytes (zeros past
 *    its end), SPARSE and VMFSSPARSE ones are hosted sparse files.  Lines
 *    qemu skips (other access modes, ZERO and unknown types) are skipped;
 *  - parentFileNameHint names the parent (a VMDK, as qemu opens it), whose
 *    CID must be the child's parentCID when a read reaches it.
 * The disk is the extents end to end.  Every extent file is opened at
 * open time (at most VMDK_MAX_EXTENTS of them).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte-order.h"
#include "cache.h"
#include "checked-arith.h"
#include "error.h"
#include "rounding.h"
#include "vmdk-format.h"
#include "vmdk-internal.h"

#define VMDK_HDR_DESC_OFFSET 28

struct vmdk {
  struct vmdk_extent *extents;  /* in guest order, none empty */
  size_t n_extents;
  char *create_type;
  char *parent_name;
  uint32_t cid, parent_cid;
};

static int
refused (int err)
{
  errno = err;
  return -1;
}

/* qemu's probe: the sparse magics, or a first line "version=1", "=2" or
 * "=3" after comments and blank lines.
 */
int
vmdk_probe (int fd, const unsigned char *head, size_t len)
{
  const char *p = (const char *) head, *end = p + len;
  static const char *const versions[] = {
    "version=1\n", "version=2\n", "version=3\n",
    "version=1\r\n", "version=2\r\n", "version=3\r\n",
  };
  size_t i;

  (void) fd;
  if (len >= 4 && (load_be32 (head) == VMDK4_MAGIC
                   || load_be32 (head) == VMDK3_MAGIC))
    return 1;
  while (p < end) {
    if (*p == '#') {
      while (p < end && *p != '\n')
        p++;
      p++;
      continue;
    }
    if (*p == ' ') {
      while (p < end && *p == ' ')
        p++;
      if (p < end && *p == '\r')
        p++;
      if (p == end || *p != '\n')
        return 0;
      p++;
      continue;
    }
    for (i = 0; i < sizeof versions / sizeof versions[0]; i++)
      if ((size_t) (end - p) >= strlen (versions[i])
          && memcmp (p, versions[i], strlen (versions[i])) == 0)
        return 1;
    return 0;
  }
  return 0;
}

/* ---- extent files ---- */

/* An extent file as a bare image (see struct vmdk_extent). */
static struct image *
open_extent_file (struct image *img, const struct vmdk_extent_line *l)
{
  struct image *file = calloc (1, sizeof *file);
  char what[64];
  struct stat st;

  if (file == NULL) {
    report_error ("%s: %m", img->path);
    return NULL;
  }
  snprintf (what, sizeof what, "descriptor line %u: extent file", l->line);
  file->fd = open_companion (img, what, l->name, &file->path);
  if (file->fd == -1) {
    free (file);
    return NULL;
  }
  if (fstat (file->fd, &st) == -1) {
    report_error ("%s: fstat: %m", file->path);
    goto fail;
  }
  if (file_size_of (file->path, file->fd, &st, &file->file_size) == -1)
    goto fail;
  file->cache = img->cache;
  file->cache_owner = cache_new_owner ();
  return file;

 fail:
  close (file->fd);
  free (file->path);
  free (file);
  return NULL;
}

static void
close_extent_file (struct image *img, struct image *file)
{
  if (file == NULL || file == img)
    return;
  cache_forget_owner (file->cache, file->cache_owner);
  close (file->fd);
  free (file->path);
  free (file);
}

static void
free_vmdk (struct image *img, struct vmdk *v)
{
  size_t i;

  for (i = 0; i < v->n_extents; i++)
    close_extent_file (img, v->extents[i].file);
  free (v->extents);
  free (v->create_type);
  free (v->parent_name);
  free (v);
}

/* Append extent E, its guest offset after the last one's.  An empty
 * extent (a sparse one of capacity 0) is dropped, as qemu never reaches it.
 */
static int
add_extent (struct image *img, struct vmdk *v, struct vmdk_extent *e)
{
  struct vmdk_extent *grown;

  if (e->length == 0) {
    close_extent_file (img, e->file);
    return 0;
  }
  if (v->n_extents == VMDK_MAX_EXTENTS) {
    report_error ("%s: VMDK descriptor: more than %d extents", img->path,
                  VMDK_MAX_EXTENTS);
    close_extent_file (img, e->file);
    return refused (EINVAL);
  }
  e->start = img->size;
  if (checked_add (img->size, e->length, &img->size)
      || img->size > INT64_MAX) {
    report_error ("%s: VMDK extents add up to more than %" PRId64 " bytes",
                  img->path, INT64_MAX);
    close_extent_file (img, e->file);
    return refused (EFBIG);
  }
  grown = realloc (v->extents, (v->n_extents + 1) * sizeof *grown);
  if (grown == NULL) {
    report_error ("%s: %m", img->path);
    close_extent_file (img, e->file);
    return -1;
  }
  v->extents = grown;
  v->extents[v->n_extents++] = *e;
  return 0;
}

/* A sparse header with no capacity but a descriptor is one more level of
 * descriptor in qemu; we do not follow it.
 */
static int
open_sparse_file (struct image *file, struct vmdk_sparse *s)
{
  unsigned char h[VMDK_HDR_DESC_OFFSET + 8];

  if (file->file_size >= sizeof h
      && read_at (file, file->fd, "the VMDK header", h, sizeof h, 0) == 0
      && load_le64 (h + VMDK_HDR_CAPACITY) == 0
      && load_le64 (h + VMDK_HDR_DESC_OFFSET) != 0) {
    report_error ("%s: VMDK header: capacity 0 with a descriptor at sector %"
                  PRIu64 " is not supported", file->path,
                  load_le64 (h + VMDK_HDR_DESC_OFFSET));
    return refused (ENOTSUP);
  }
  return vmdk_sparse_open (file, s);
}

static int
read_magic (struct image *file, uint32_t *magic)
{
  unsigned char m[4];

  if (file->file_size < sizeof m) {
    report_error ("%s: file is too short for a VMDK image (%" PRIu64
                  " bytes)", file->path, file->file_size);
    return refused (EINVAL);
  }
  if (read_at (file, file->fd, "the VMDK magic", m, sizeof m, 0) == -1)
    return -1;
  *magic = load_be32 (m);
  return 0;
}

/* The sparse extent FILE starts with; VMDK3 ("COWD") is refused. */
static int
open_sparse_extent (struct image *file, const char *where,
                    struct vmdk_extent *e)
{
  uint32_t magic;

  if (read_magic (file, &magic) == -1)
    return -1;
  if (magic != VMDK4_MAGIC) {
    report_error ("%s: %s: %s", file->path, where,
                  magic == VMDK3_MAGIC
                  ? "VMDK3 (COWD) sparse extents are not supported"
                  : "not a VMDK sparse extent (no \"KDMV\" magic)");
    return refused (magic == VMDK3_MAGIC ? ENOTSUP : EINVAL);
  }
  if (open_sparse_file (file, &e->sparse) == -1)
    return -1;
  e->kind = VMDK_EXTENT_SPARSE;
  e->length = e->sparse.capacity;
  return 0;
}

/* ---- descriptor files ---- */

struct extent_walk {
  struct image *img;
  struct vmdk *v;
};

static int
flat_extent (struct image *img, const struct vmdk_extent_line *l,
             struct vmdk_extent *e)
{
  uint64_t end;

  e->kind = VMDK_EXTENT_FLAT;
  if (checked_mul (l->sectors, VMDK_SECTOR_SIZE, &e->length)
      || checked_mul (l->flat_offset, VMDK_SECTOR_SIZE, &e->flat_offset)
      || checked_add (e->flat_offset, e->length, &end)) {
    report_error ("%s: VMDK descriptor line %u: extent of %" PRId64
                  " sectors at sector %" PRId64 " is too large", img->path,
                  l->line, l->sectors, l->flat_offset);
    return refused (EFBIG);
  }
  return 0;
}

static int
add_line_extent (const struct vmdk_extent_line *l, void *opaque)
{
  struct extent_walk *w = opaque;
  struct vmdk_extent e = { 0 };
  char where[64];
  int r;

  if (strcmp (l->type, "SESPARSE") == 0) {
    report_error ("%s: VMDK descriptor line %u: SESPARSE extents are not "
                  "supported", w->img->path, l->line);
    return refused (ENOTSUP);
  }
  e.file = open_extent_file (w->img, l);
  if (e.file == NULL)
    return -1;
  snprintf (where, sizeof where, "extent of descriptor line %u", l->line);
  if (strcmp (l->type, "FLAT") == 0 || strcmp (l->type, "VMFS") == 0)
    r = flat_extent (w->img, l, &e);
  else
    r = open_sparse_extent (e.file, where, &e);
  if (r == -1) {
    close_extent_file (w->img, e.file);
    return -1;
  }
  /* A compressed extent makes the whole disk streamOptimized to qemu. */
  if (e.kind == VMDK_EXTENT_SPARSE && e.sparse.compressed) {
    free (w->v->create_type);
    w->v->create_type = strdup ("streamOptimized");
  }
  return add_extent (w->img, w->v, &e);
}

static int
check_create_type (struct image *img, const char *desc, char **type)
{
  static const char *const types[] = {
    "monolithicFlat", "vmfs", "vmfsSparse", "seSparse",
    "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
  };
  size_t i;
  int r = vmdk_desc_string (img->path, desc, "createType", 127, type);

  if (r == -1)
    return -1;
  if (r == 0) {
    report_error ("%s: VMDK descriptor: no createType", img->path);
    return refused (EINVAL);
  }
  for (i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp (*type, types[i]) == 0)
      return 0;
  report_error ("%s: VMDK descriptor: createType \"%s\" is not supported",
                img->path, *type);
  return refused (ENOTSUP);
}

/* The descriptor file's text, NUL-terminated (malloc'd). */
static char *
read_descriptor_file (struct image *img)
{
  char *text;

  if (img->file_size > VMDK_MAX_DESCRIPTOR_FILE) {
    report_error ("%s: VMDK descriptor file of %" PRIu64 " bytes is too "
                  "large (at most %u)", img->path, img->file_size,
                  VMDK_MAX_DESCRIPTOR_FILE);
    errno = EINVAL;
    return NULL;
  }
  text = malloc (img->file_size + 1);
  if (text == NULL) {
    report_error ("%s: %m", img->path);
    return NULL;
  }
  if (read_at (img, img->fd, "the VMDK descriptor", text, img->file_size,
               0) == -1
      || vmdk_check_text (img->path, text, img->file_size) == -1) {
    free (text);
    return NULL;
  }
  text[img->file_size] = '\0';
  return text;
}

static int
open_descriptor_file (struct image *img, struct vmdk *v, char **desc)
{
  struct extent_walk walk = { img, v };

  *desc = read_descriptor_file (img);
  if (*desc == NULL || check_create_type (img, *desc, &v->create_type) == -1)
    return -1;
  return vmdk_desc_extents (img->path, *desc, add_line_extent, &walk);
}

/* ---- a monolithic sparse file ---- */

/* The descriptor embedded in a sparse file, as qemu reads it: 20 sectors
 * at 0x200 (zeros past the end of the file), up to the first NUL.
 */
static char *
read_embedded_descriptor (struct image *img)
{
  uint64_t at = VMDK_EMBEDDED_DESC_OFFSET, n;
  char *text = calloc (1, VMDK_DESC_BYTES + 1);

  if (text == NULL) {
    report_error ("%s: %m", img->path);
    return NULL;
  }
  n = img->file_size > at ? MIN (img->file_size - at, VMDK_DESC_BYTES) : 0;
  if (read_at (img, img->fd, "the VMDK descriptor", text, n, at) == -1
      || vmdk_check_text (img->path, text, strlen (text)) == -1) {
    free (text);
    return NULL;
  }
  return text;
}

static int
open_sparse_image (struct image *img, struct vmdk *v, char **desc)
{
  struct vmdk_extent e = { .file = img };

  if (open_sparse_extent (img, "VMDK header", &e) == -1)
    return -1;
  v->create_type = strdup (e.sparse.compressed ? "streamOptimized"
                                               : "monolithicSparse");
  if (v->create_type == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  if (add_extent (img, v, &e) == -1)
    return -1;
  *desc = read_embedded_descriptor (img);
  return *desc ? 0 : -1;
}

/* ---- the driver ---- */

static void
describe (struct image *img, const struct vmdk *v)
{
  img->desc.format = IMAGE_FORMAT_VMDK;
  img->desc.virtual_size = img->size;
  img->desc.subformat = v->create_type;
  /* As qemu: the first extent's grain size, when it has grains.  A
   * descriptor may list none, and then there is no extents array at all.
   */
  if (v->n_extents > 0 && v->extents[0].kind == VMDK_EXTENT_SPARSE)
    img->desc.cluster_size = v->extents[0].sparse.grain_size;
  /* qemu opens an empty hint as no parent, and the parent as a VMDK. */
  if (v->parent_name != NULL && v->parent_name[0] != '\0') {
    img->desc.backing_name = v->parent_name;
    img->desc.backing_format = "vmdk";
  }
}

static int
vmdk_open (struct image *img)
{
  struct vmdk *v = calloc (1, sizeof *v);
  char *desc = NULL;
  uint32_t magic;
  int r;

  if (v == NULL) {
    report_error ("%s: %m", img->path);
    return -1;
  }
  img->size = 0;
  r = read_magic (img, &magic);
  if (r == 0)
    r = magic == VMDK4_MAGIC || magic == VMDK3_MAGIC
        ? open_sparse_image (img, v, &desc)
        : open_descriptor_file (img, v, &desc);
  if (r == 0)
    r = vmdk_desc_identity (img->path, desc, &v->parent_name, &v->cid,
                            &v->parent_cid);
  free (desc);
  if (r == -1) {
    free_vmdk (img, v);
    return -1;
  }
  img->format = v;
  describe (img, v);
  return 0;
}

/* The extent holding guest OFFSET (< the disk size). */
static const struct vmdk_extent *
find_extent (const struct vmdk *v, uint64_t offset)
{
  size_t lo = 0, hi = v->n_extents;

  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;

    if (v->extents[mid].start <= offset)
      lo = mid;
    else
      hi = mid;
  }
  return &v->extents[lo];
}

/* Reads that reach the parent: qemu refuses them unless the parent is a
 * VMDK whose CID is the child's parentCID.
 */
static int
read_parent (struct image *img, void *buf, size_t count, uint64_t offset)
{
  const struct vmdk *v = img->format, *p;

  if (img->backing != NULL) {
    p = img->backing->ops == &vmdk_format ? img->backing->format : NULL;
    if (p == NULL || p->cid != v->parent_cid) {
      report_error ("%s: VMDK descriptor: parentCID %08" PRIx32 " is not "
                    "the CID of the parent %s", img->path, v->parent_cid,
                    img->backing->path);
      return refused (EINVAL);
    }
  }
  return read_below (img, buf, count, offset);
}

/* How much of a request at extent offset REL stays in one piece: to the
 * end of the extent, and of the grain in a sparse one.
 */
static uint64_t
piece (const struct vmdk_extent *e, uint64_t rel, uint64_t length)
{
  uint64_t n = MIN (length, e->length - rel);

  if (e->kind == VMDK_EXTENT_SPARSE)
    n = MIN (n, e->sparse.grain_size - rel % e->sparse.grain_size);
  return n;
}

static int
vmdk_read (struct image *img, void *buf, size_t count, uint64_t offset)
{
  const struct vmdk *v = img->format;
  char *p = buf;

  while (count > 0) {
    const struct vmdk_extent *e = find_extent (v, offset);
    uint64_t rel = offset - e->start;
    size_t n = piece (e, rel, count);
    int r;

    if (e->kind == VMDK_EXTENT_FLAT)
      r = raw_format.read (e->file, p, n, e->flat_offset + rel);
    else
      r = vmdk_sparse_read (img, e, read_parent, p, n, rel);
    if (r == -1)
      return -1;
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

static int
vmdk_extent (struct image *img, uint64_t offset, uint64_t length,
             struct image_extent *extent)
{
  const struct vmdk *v = img->format;
  const struct vmdk_extent *e = find_extent (v, offset);
  uint64_t rel = offset - e->start, n = MIN (length, e->length - rel);

  if (e->kind == VMDK_EXTENT_SPARSE)
    return vmdk_sparse_extent (img, e, rel, n, extent);
  if (raw_format.extent (e->file, e->flat_offset + rel, n, extent) == -1)
    return -1;
  extent->offset = offset;
  return 0;
}

static void
vmdk_close (struct image *img)
{
  free_vmdk (img, img->format);
}

const struct format_ops vmdk_format = {
  .name = "vmdk",
  .open = vmdk_open,
  .read = vmdk_read,
  .extent = vmdk_extent,
  .close = vmdk_close,
};
