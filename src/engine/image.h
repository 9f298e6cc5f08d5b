/* The image engine: reads qcow2, VDI, VHD, VMDK and raw images as raw disks.
 *
 * Contract
 * --------
 * image_open() probes the format by content (the qcow2 magic, the VDI
 * signature, a VHD footer at either end of the file, a VMDK magic or
 * descriptor; anything else is raw),
 * validates every header field and table location against the
 * file's size and qemu's own limits, and opens the whole backing chain.  An
 * image is data from a stranger: nothing read from it is trusted before it
 * has been checked, and every allocation is bounded by a checked value.
 *
 * Reads return exactly what `qemu-img convert -O raw` writes.  A "hole"
 * (IMAGE_EXTENT_ZERO) is a range that reads as zeros with no data behind it:
 * unallocated through the whole chain, zero clusters, zero subclusters, or
 * past the end of a shorter backing file.  Data extents may still contain
 * zeros (qemu-img map reports the same).
 *
 * Backing and data files are opened only when their path stays inside the
 * image's folder or one of the operator's allowed folders, after resolving
 * symlinks.  Absolute names are resolved the same way; `json:` and other
 * `protocol:` names are always refused.
 *
 * Memory: the L1 table (VDI block map, VHD BAT) is not held in memory; it
 * is read in chunks that, with L2 tables and decompressed clusters, live in an LRU cache with a fixed byte budget.  One cache may be
 * shared by many images (the daemon shares one across all of them).
 *
 * Threads: every function taking an open image is safe to call from several
 * threads at once, except image_close().
 *
 * Errors: each function returns -1 (or NULL) with errno set, after reporting
 * the failure once through report_error() (src/common/error.h).  Messages
 * name the file, the structure and the offending value, e.g.
 *   disk.qcow2: L2 entry 7 of L1 entry 0: cluster offset 0x10200 is not aligned
 * errno is EINVAL for a damaged image, ENOTSUP for a valid image that uses a
 * feature we refuse (encryption), EACCES for a refused backing or data file,
 * ELOOP for a backing loop or a chain too deep, or the system's errno.
 */
#ifndef SPARSEFS_IMAGE_H
#define SPARSEFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct image;
struct image_cache;

enum image_format {
  IMAGE_FORMAT_AUTO = 0,        /* probe by content */
  IMAGE_FORMAT_RAW,
  IMAGE_FORMAT_QCOW2,
  IMAGE_FORMAT_VDI,             /* VirtualBox: static and dynamic */
  IMAGE_FORMAT_VPC,             /* VHD (qemu's name): fixed and dynamic */
  IMAGE_FORMAT_VMDK,            /* sparse, streamOptimized, flat extents */
};

/* Longest backing chain accepted, counting the top image. */
#define IMAGE_MAX_CHAIN_DEPTH 64

/* Cache budget used when an image gets no shared cache. */
#define IMAGE_DEFAULT_CACHE_BYTES (32 * 1024 * 1024)

struct image_options {
  enum image_format format;         /* of the top image only */
  struct image_cache *cache;        /* NULL: a private cache of the default size */
  const char *const *allowed_dirs;  /* NULL-terminated extra folders, or NULL */
};

/* A cache of metadata and decompressed clusters, bounded to BYTES (at least
 * room for a few 2 MiB clusters is always kept).  It must outlive every
 * image that uses it.
 */
struct image_cache *image_cache_new (size_t bytes);
void image_cache_free (struct image_cache *cache);

/* The format of the open file FD by content, as image_open() probes it:
 * qcow2 when it starts with the qcow2 magic and a version of 1 or more
 * (image_open then refuses versions other than 2 and 3 by name); VDI when
 * it carries the VDI signature at offset 0x40; VHD when it starts with
 * a VHD footer ("conectix"), or ends with a fixed disk's footer whose
 * checksum holds (qemu does not probe that case: it needs -f vpc); VMDK
 * when it starts with a sparse extent's magic or, after comment and blank
 * lines, "version=1" to "=3" (a text descriptor), as qemu probes; raw
 * otherwise.  Returns
 * 0, or -1 with errno set on a read error, which is not reported.
 */
int image_probe_fd (int fd, enum image_format *format);

/* OPTIONS may be NULL for the defaults. */
struct image *image_open (const char *path, const struct image_options *options);
void image_close (struct image *image);

/* Size of the raw view in bytes (qcow2: virtual size rounded down to 512). */
uint64_t image_size (const struct image *image);

/* fstat(2) of the image file as it is now, through the descriptor the
 * image reads (not its backing files): a caller compares it with an
 * earlier stat to notice the file rewritten in place under the open
 * image.  Returns 0 or -1.
 */
int image_file_stat (const struct image *image, struct stat *st);

/* Read exactly COUNT bytes at OFFSET.  OFFSET + COUNT must not pass
 * image_size() (EINVAL).  Returns 0 or -1.
 */
int image_pread (struct image *image, void *buf, size_t count, uint64_t offset);

enum image_extent_type {
  IMAGE_EXTENT_DATA,
  IMAGE_EXTENT_ZERO,            /* a hole: reads as zeros, nothing behind it */
};

struct image_extent {
  uint64_t offset;
  uint64_t length;              /* > 0 */
  enum image_extent_type type;
};

/* Describe the run starting at OFFSET (< image_size()).  Adjacent runs may
 * have the same type: callers that want the whole run keep asking.
 * Returns 0 or -1.
 */
int image_extent (struct image *image, uint64_t offset,
                  struct image_extent *extent);

/* The run of one type starting at OFFSET: extents of the same type merged
 * until the type changes or LIMIT (OFFSET < LIMIT <= image_size()) is
 * reached.  Returns 0 or -1.
 */
int image_run (struct image *image, uint64_t offset, uint64_t limit,
               struct image_extent *run);

/* Bytes of the raw view that are DATA extents (walks the map). */
int image_data_bytes (struct image *image, uint64_t *bytes);

/* What image_info() describes.  Strings are owned by the image. */
struct image_description {
  const char *path;             /* as given to image_open, or resolved */
  enum image_format format;
  unsigned version;             /* qcow2: 2 or 3; others: 0 */
  uint32_t cluster_size;        /* VDI, dynamic VHD: block size; raw: 0 */
  const char *subformat;        /* VDI: "static", "dynamic"; VHD: "fixed",
                                   "dynamic"; VMDK: the create type
                                   ("monolithicSparse", ...); others: NULL */
  const char *creator;          /* VHD: the creator application; or NULL */
  bool extended_l2;
  const char *compression;      /* qcow2: "zlib" or "zstd"; others: NULL */
  uint64_t virtual_size;
  uint64_t file_size;           /* of the image file itself */
  bool dirty;
  bool corrupt;
  bool lazy_refcounts;
  unsigned snapshots;
  const char *backing_name;     /* as written in the header, or NULL */
  const char *backing_format;   /* header extension, or NULL */
  const char *data_file;        /* as written in the header, or NULL */
  bool data_file_raw;
};

const struct image_description *image_describe (const struct image *image);

/* The next image down the chain, or NULL. */
const struct image *image_backing (const struct image *image);

const char *image_format_name (enum image_format format);

/* The format qemu calls NAME ("raw", "qcow2", "vdi", "vpc", "vmdk"; not
 * "auto").
 * Returns 0, or -1 when no driver has that name (nothing is reported).
 */
int image_format_from_name (const char *name, enum image_format *format);

#endif
