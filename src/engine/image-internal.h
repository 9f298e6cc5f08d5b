/* What the format drivers share with the generic image code (image.c). */
#ifndef SPARSEFS_IMAGE_INTERNAL_H
#define SPARSEFS_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "image.h"

struct image;

/* One format driver.  Every hook may assume its arguments were checked
 * against the image's size by image.c.
 */
struct format_ops {
  const char *name;
  /* Parse and validate the image whose fd, path and file_size are set;
   * set size and desc, and desc.backing_name when there is a backing file.
   */
  int (*open) (struct image *img);
  int (*read) (struct image *img, void *buf, size_t count, uint64_t offset);
  /* A run starting at OFFSET, at most LENGTH bytes. */
  int (*extent) (struct image *img, uint64_t offset, uint64_t length,
                 struct image_extent *extent);
  void (*close) (struct image *img);
  /* image_snapshots(); NULL for a format without snapshots. */
  int (*snapshots) (const struct image *img, image_snapshot_fn *fn,
                    void *opaque);
};

extern const struct format_ops raw_format;
extern const struct format_ops qcow2_format;
extern const struct format_ops vdi_format;
extern const struct format_ops vpc_format;
extern const struct format_ops vhdx_format;
extern const struct format_ops vmdk_format;

/* Whether a file whose first LEN bytes (at most 512; fewer only in a
 * shorter file) are HEAD is in the driver's format: 1 or 0.  FD is unused
 * (-1 when probing a stream): a format found at the end of a file has a
 * tail_probe_fn too.
 */
typedef int probe_fn (int fd, const unsigned char *head, size_t len);

/* The bytes a probe looks at: SIZE bytes of FD from BASE (the whole file,
 * or an archive member's data).
 */
struct probe_span {
  int fd;
  uint64_t base;
  uint64_t size;
};

/* Whether SPAN ends the way the driver's format may end a file (a fixed
 * VHD's footer): 1 or 0, or -1 with errno set on a read error (not
 * reported).  Asked after the probe_fn said 0.
 */
typedef int tail_probe_fn (const struct probe_span *span);
/* The format of SPAN by content, as image_probe_fd() probes a file. */
int probe_span_format (const struct probe_span *span,
                       const unsigned char *head, size_t len,
                       enum image_format *format);

probe_fn vdi_probe;
probe_fn vpc_probe;
tail_probe_fn vpc_probe_tail;
probe_fn vhdx_probe;
probe_fn vmdk_probe;

struct chain;

struct image {
  const struct format_ops *ops;
  void *format;                 /* the driver's state */
  char *path;
  int fd;
  /* A disk inside an archive (an OVA) is read in place: fd is the archive
   * and the layer's file is the member's data, file_size bytes from base.
   * read_at() and file_extent() add base to every offset in fd and never
   * pass the member's end; a layer that is a whole file has base 0 and
   * windowed false.
   */
  uint64_t base;
  bool windowed;
  char *archive;                /* desc.archive, owned */
  char *archive_disk;           /* desc.archive_disk, owned */
  uint64_t file_size;
  uint64_t size;                /* of the raw view */
  dev_t dev;
  ino_t ino;
  struct image *backing;
  struct image_cache *cache;
  int owns_cache;
  uint64_t cache_owner;
  struct chain *chain;          /* while image_open() runs, else NULL */
  /* The snapshot to read instead of the active layer (image_options), set
   * for the top layer while its driver opens it; a driver that reads
   * snapshots sets desc.snapshot_id.
   */
  const char *snapshot;
  enum image_snapshot_key snapshot_key;
  bool describe_only;           /* see image_options */
  char *backing_error;          /* desc.backing_error, owned */
  char *data_file_error;        /* desc.data_file_error, owned */
  struct image_description desc;
};

/* Read exactly COUNT bytes of FD at OFFSET; WHAT names the structure for
 * the message.  Returns 0, or -1 after reporting (EIO at end of file, or
 * of the archive member when FD is a windowed layer's own).
 */
int read_at (const struct image *img, int fd, const char *what,
             void *buf, size_t count, uint64_t offset);

/* A cache fill (cache_fill_fn) that reads a block of the image's own file:
 * SIZE bytes at OFFSET, WHAT naming the structure for the message.
 */
struct file_fill {
  struct image *img;
  const char *what;
  uint64_t offset;
};
int fill_from_file (void *buf, size_t size, void *opaque);

/* Reads and extents of the range where IMG's own layer has nothing: from
 * the backing file, zeros where there is none or it is shorter.
 */
int read_below (struct image *img, void *buf, size_t count, uint64_t offset);
int extent_below (struct image *img, uint64_t offset, uint64_t length,
                  struct image_extent *extent);

/* The run of FD's bytes from OFFSET (at most LENGTH) that the file system
 * holds as data or as a hole (SEEK_DATA/SEEK_HOLE); all data where it cannot
 * tell.  In a windowed layer's own FD, the run stops at the member's end.
 * Returns 0, or -1 after reporting.
 */
int file_extent (const struct image *img, int fd, uint64_t offset,
                 uint64_t length, struct image_extent *extent);

/* The size of the regular file or block device open as FD (fstat'ed into
 * ST).  Returns 0, or -1 after reporting (anything else is refused:
 * EISDIR for a folder, ENOTBLK for the rest).
 */
int file_size_of (const char *path, int fd, const struct stat *st,
                  uint64_t *size);

/* Open the file IMG names as its WHAT ("data file"), confined like a
 * backing file.  Only while the image is being opened (a driver's open).
 * Returns an fd, or -1 after reporting.
 */
int open_companion (struct image *img, const char *what, const char *name,
                    char **resolved_path);

/* The companion file just failed to open (errno set, reported): in a
 * describe-only open, remember why in *ERROR and *MESSAGE (the layer's
 * description) and return 0, the open going on without it; otherwise
 * return -1.
 */
int companion_failed (struct image *img, int *error, char **message);

#endif
