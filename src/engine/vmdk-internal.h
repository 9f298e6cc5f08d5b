/* What the parts of the VMDK driver share: vmdk.c (the driver: extents in
 * guest order), vmdk-sparse.c (a hosted sparse extent: grain directory and
 * tables, compressed grains), vmdk-header.c (the checks of its header
 * and the inflating of its grains, shared with the stream decoder
 * stream-vmdk.c) and vmdk-descriptor.c (the text descriptor).
 */
#ifndef SPARSEFS_VMDK_INTERNAL_H
#define SPARSEFS_VMDK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block-table.h"
#include "image-internal.h"

/* A hosted sparse extent (a "KDMV" file). */
struct vmdk_sparse {
  uint64_t capacity;            /* bytes */
  uint64_t grain_size;          /* bytes */
  uint32_t gtes_per_gt;
  struct block_table gd;        /* the grain directory */
  bool compressed;              /* grains are deflated (streamOptimized) */
  bool has_marker;              /* each compressed grain has a marker */
  bool zero_grain;              /* grain table entry 1 means zeros */
};

enum vmdk_extent_kind { VMDK_EXTENT_FLAT, VMDK_EXTENT_SPARSE };

/* One extent.  FILE describes the file it lives in as a bare image (fd,
 * path, size, cache owner; no driver), so that the engine's file helpers
 * and the block-table walk serve it; it is the VMDK image itself for a
 * monolithic sparse file.
 */
struct vmdk_extent {
  enum vmdk_extent_kind kind;
  struct image *file;
  uint64_t start;               /* guest offset of its first byte */
  uint64_t length;              /* bytes */
  uint64_t flat_offset;         /* FLAT: where its bytes start in FILE */
  struct vmdk_sparse sparse;
};

/* ---- vmdk-header.c ---- */

/* The version, geometry and compression of the sparse extent header H
 * (VMDK_HEADER_BYTES, from its magic on) into S: everything but where its
 * tables lie.  Returns 0, or -1 after reporting "PATH: VMDK header: ...".
 */
int vmdk_parse_header (const char *path, const unsigned char *h,
                       struct vmdk_sparse *s);

/* Inflate the compressed grain at HOST (for messages), LENGTH bytes at IN,
 * into OUT (OUT_SIZE bytes) with zlib's uncompress() as qemu does; it must
 * give at least NEEDED bytes.  Returns 0, or -1 after reporting (EIO).
 */
int vmdk_inflate_grain (const char *path, uint64_t host, const void *in,
                        uint64_t length, void *out, uint64_t out_size,
                        uint64_t needed);

/* ---- vmdk-sparse.c ---- */

/* Parse the sparse extent header of FILE (which starts with the "KDMV"
 * magic; its footer copy when the grain directory is at the end) into S.
 * Returns 0, or -1 after reporting.
 */
int vmdk_sparse_open (struct image *file, struct vmdk_sparse *s);

/* Reads and extents inside sparse extent E of layer IMG, at OFFSET bytes
 * into the extent: at most up to the end of one grain.  Unallocated
 * grains come from IMG's backing file (BELOW, a vmdk.c hook that
 * checks the parent's CID first, as qemu does).
 */
typedef int vmdk_read_below_fn (struct image *img, void *buf, size_t count,
                                uint64_t offset);
int vmdk_sparse_read (struct image *img, const struct vmdk_extent *e,
                      vmdk_read_below_fn *below, void *buf, size_t count,
                      uint64_t offset);
int vmdk_sparse_extent (struct image *img, const struct vmdk_extent *e,
                        uint64_t offset, uint64_t length,
                        struct image_extent *extent);

/* ---- vmdk-descriptor.c ---- */

/* Whether TEXT (LEN bytes) is descriptor text: no control bytes but tab,
 * CR and LF up to the first NUL, only NULs after it.  Returns 0, or -1
 * after reporting "PATH: VMDK descriptor: ..." with the offending byte.
 */
int vmdk_check_text (const char *path, const char *text, size_t len);

/* The value of NAME="VALUE" in the NUL-terminated descriptor DESC, found
 * as qemu finds it (the first occurrence of NAME, two bytes skipped, up to
 * the next '"'), malloc'd in *VALUE; at most MAX bytes.  Returns 1, 0 when
 * NAME is missing, or -1 after reporting (no closing quote, too long).
 */
int vmdk_desc_string (const char *path, const char *desc, const char *name,
                      size_t max, char **value);

/* The hexadecimal number after NAME and one byte ("CID=..."), as qemu
 * reads it.  Returns 0, or -1 after reporting.
 */
int vmdk_desc_cid (const char *path, const char *desc, const char *name,
                   uint32_t *cid);

/* The parent's name (malloc'd, NULL when none), the CID and parentCID of
 * DESC, from its first VMDK_DESC_BYTES as qemu reads them.  Returns 0, or
 * -1 after reporting.
 */
int vmdk_desc_identity (const char *path, const char *desc,
                        char **parent_name, uint32_t *cid,
                        uint32_t *parent_cid);

/* One extent line of a descriptor, as qemu parses it. */
struct vmdk_extent_line {
  unsigned line;                /* 1-based, for messages */
  int64_t sectors;
  char type[11];
  char name[512];
  int64_t flat_offset;          /* in sectors; FLAT only */
};

/* Calls EACH for every extent line of DESC that qemu reads (access "RW",
 * a known type, a positive size; ZERO and other lines are skipped as qemu
 * skips them).  Returns 0, the first non-zero EACH returned, or -1 after
 * reporting a malformed line.
 */
typedef int vmdk_extent_line_fn (const struct vmdk_extent_line *l,
                                 void *opaque);
int vmdk_desc_extents (const char *path, const char *desc,
                       vmdk_extent_line_fn *each, void *opaque);

#endif
