/* The image engine: reads qcow2, VDI, VHD, VMDK and raw images as raw disks.
 *
 * Contract
 * --------
 * image_open() probes the format by content (the qcow2 magic, the VDI
 * signature, a VHD footer at either end of the file, the VHDX signature, a
 * VMDK magic or descriptor; anything else is raw),
 * or opens a disk inside an OVA archive in place (see image_ova_disks),
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
  IMAGE_FORMAT_VPC,             /* VHD (qemu's name): fixed, dynamic,
                                   differencing (without its parent) */
  IMAGE_FORMAT_VHDX,            /* Hyper-V: fixed and dynamic */
  IMAGE_FORMAT_VMDK,            /* sparse, streamOptimized, flat extents */
};

/* Longest backing chain accepted, counting the top image. */
#define IMAGE_MAX_CHAIN_DEPTH 64

/* Cache budget used when an image gets no shared cache. */
#define IMAGE_DEFAULT_CACHE_BYTES (32 * 1024 * 1024)

/* How image_options.snapshot names a qcow2 internal snapshot, as
 * `qemu-img convert -l` takes it.
 */
enum image_snapshot_key {
  IMAGE_SNAPSHOT_ID_OR_NAME = 0,    /* a bare -l VALUE: an ID, else a name */
  IMAGE_SNAPSHOT_ID,                /* -l snapshot.id=ID */
  IMAGE_SNAPSHOT_NAME,              /* -l snapshot.name=NAME */
};

struct image_options {
  enum image_format format;         /* of the top image only */
  struct image_cache *cache;        /* NULL: a private cache of the default size */
  const char *const *allowed_dirs;  /* NULL-terminated extra folders, or NULL */
  /* Read this internal snapshot of the top image (qcow2 only) instead of
   * its active layer, or NULL.  As in qemu-img convert -l, the snapshot's
   * L1 table replaces the active one and everything else stays: the view
   * keeps the image's current virtual size (past a snapshot's own L1
   * table, taken before the image grew, it reads the backing file or
   * zeros) and its backing chain.  The first match in table order wins.
   */
  const char *snapshot;
  enum image_snapshot_key snapshot_key;
  /* Open to describe, never to read (sparseinfo): every layer is parsed
   * and checked as for reading, but an encrypted image is described
   * instead of refused, and a backing or data file that cannot be opened
   * (refused by the confinement, missing, damaged, a loop, a chain too
   * deep) ends the chain there instead of failing the open: the layer
   * naming it says why (backing_errno and backing_error, data_file_errno
   * and data_file_error).  image_pread, image_extent, image_run and
   * image_data_bytes then fail with EPERM.
   */
  bool describe_only;
  /* The disk to open when the file is an OVA: its index in the OVA's disk
   * list (decimal, from 0) or its name there.  NULL opens the OVA's only
   * disk; an OVA with several is then refused with a message listing them
   * ("0 NAME, 1 NAME").  A selector on a file that is not an OVA is
   * refused (ENOTSUP).
   */
  const char *disk;
};

/* Parse TEXT as qemu-img convert -l takes it: "snapshot.id=ID",
 * "snapshot.name=NAME", or a bare ID or name (tried as an ID first), into
 * OPTIONS->snapshot (pointing into TEXT) and OPTIONS->snapshot_key.
 * Commas are not special (qemu's "snapshot.id=1,snapshot.name=x" form,
 * both at once, is not taken).
 */
void image_snapshot_from_text (const char *text, struct image_options *options);

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

/* The bytes of the image's own file that the file system has allocated
 * (qemu-img info's actual-size): st_blocks for a whole file; for a disk
 * inside an OVA, the member's bytes that lie in data runs (SEEK_DATA), not
 * the archive's.  Returns 0, or -1 after reporting.
 */
int image_file_allocated (const struct image *image, uint64_t *bytes);

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
                                   "dynamic", "differencing"; VMDK: the create
                                   type ("monolithicSparse", ...); others: NULL */
  const char *creator;          /* VHD: the creator application; or NULL */
  bool extended_l2;
  const char *compression;      /* qcow2: "zlib" or "zstd"; others: NULL */
  uint64_t virtual_size;
  uint64_t file_size;           /* of the image file itself */
  bool dirty;
  bool corrupt;
  bool lazy_refcounts;
  unsigned snapshots;
  const char *snapshot_id;      /* of the snapshot read (options.snapshot),
                                   or NULL: the active layer */
  const char *snapshot_name;
  const char *backing_name;     /* as written in the header, or NULL */
  const char *backing_format;   /* header extension, or NULL */
  const char *data_file;        /* as written in the header, or NULL */
  bool data_file_raw;
  const char *encryption;       /* qcow2 (describe_only): "aes" or "luks";
                                   otherwise NULL */
  /* describe_only: why the backing file or the data file this layer names
   * was not opened, as errno and the engine's message; 0 and NULL when it
   * was (or none is named).
   */
  int backing_errno;
  const char *backing_error;
  int data_file_errno;
  const char *data_file_error;
  /* The top layer of a disk inside an OVA: the archive's path, the disk's
   * name and index in its disk list, and where its bytes lie in the
   * archive; NULL, 0, 0 otherwise.  path is then "ARCHIVE/NAME".
   */
  const char *archive;
  const char *archive_disk;
  unsigned archive_disk_index;
  uint64_t archive_disk_offset;
};

const struct image_description *image_describe (const struct image *image);

/* One internal snapshot (qcow2), as its table entry says.  Strings are
 * NUL-terminated copies of the stored bytes up to their first NUL (as qemu
 * compares them), valid during the callback only.
 */
struct image_snapshot {
  unsigned index;               /* in the snapshot table, from 0 */
  const char *id;
  const char *name;
  uint64_t l1_offset;
  uint32_t l1_size;             /* entries */
  uint64_t disk_size;           /* the virtual size when it was taken, or 0
                                   when its entry does not say (v2) */
  uint64_t vm_state_size;
  uint32_t date_sec;
  uint32_t date_nsec;
  uint64_t vm_clock_nsec;
};

typedef int image_snapshot_fn (const struct image_snapshot *snapshot,
                               void *opaque);

/* Call FN on each internal snapshot of IMAGE's own file (not its backing
 * file), in table order, one entry in memory at a time, until FN returns
 * non-zero.  Formats without snapshots have none.  Returns 0, FN's
 * non-zero value, or -1 after reporting.
 */
int image_snapshots (const struct image *image, image_snapshot_fn *fn,
                     void *opaque);

/* An OVA is a tar archive holding an .ovf member (by content, not by
 * name); its disks are the files its OVF's <References> list, in order, or
 * when it lists none, the members that are images in a format other than
 * raw.  Each disk is read in place inside the archive, never extracted,
 * by the driver of its own format, and must be a single file: a disk
 * naming a backing, data or extent file is refused (EACCES).
 */
struct image_disk {
  unsigned index;               /* in the disk list, from 0 */
  const char *name;             /* the member's name */
  uint64_t offset;              /* of its data in the archive */
  uint64_t size;                /* bytes */
};

typedef int image_disk_fn (const struct image_disk *disk, void *opaque);

/* When PATH is an OVA, call FN on each of its disks in order, until FN
 * returns non-zero; *IS_OVA says whether it is one (no call when not).
 * Returns 0, FN's non-zero value, or -1 after reporting (a damaged OVA:
 * an archive that starts with a valid tar header is read as one).
 */
int image_ova_disks (const char *path, bool *is_ova, image_disk_fn *fn,
                     void *opaque);

typedef int image_name_fn (const char *name, void *opaque);

/* Call FN with the name of each extent file (as written) that the VMDK
 * text descriptor open as FD names in the extent lines the VMDK driver
 * reads (qemu's: access RW), in order, until FN returns non-zero.  Any
 * other file (another format, a sparse VMDK with its descriptor embedded,
 * a file larger than a descriptor may be) names none; only its first 512
 * bytes are read.  PATH names the file in messages.  Returns 0, FN's
 * non-zero value, or -1 after reporting (a read error, descriptor text
 * that is not text or a malformed extent line).
 */
int image_vmdk_extent_files (const char *path, int fd, image_name_fn *fn,
                             void *opaque);

/* The next image down the chain, or NULL. */
const struct image *image_backing (const struct image *image);

const char *image_format_name (enum image_format format);

/* Whether NAME, found in a header as a backing or data file, is a protocol
 * or `json:` name ("PROTOCOL:rest", no slash before the colon): those are
 * never followed (image_open fails with EACCES, as for a file outside the
 * allowed folders).
 */
bool image_name_is_protocol (const char *name);

/* The format qemu calls NAME ("raw", "qcow2", "vdi", "vpc", "vhdx", "vmdk";
 * not "auto").
 * Returns 0, or -1 when no driver has that name (nothing is reported).
 */
int image_format_from_name (const char *name, enum image_format *format);

#endif
