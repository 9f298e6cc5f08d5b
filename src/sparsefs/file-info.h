/* What the daemon knows about a source file without keeping it open:
 * whether it is an image (of a format other than raw) or an OVA archive,
 * and the size and data bytes of its raw view.
 *
 * Answers are cached per file version (file-version.h) in a fixed-size
 * table, so that listing a folder of many images costs one fstatat() per
 * file, not one image_open(), and the memory used does not grow with the
 * number of images.  A version that is evicted is just probed again.
 */
#ifndef SPARSEFS_FILE_INFO_H
#define SPARSEFS_FILE_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "image-table.h"

/* Whether the regular file NAME in folder DIRFD, whose stat is ST, probes
 * as an image format other than raw (image_probe_fd).  A file that can't
 * be read is not an image.
 */
bool file_info_is_image (int dirfd, const char *name, const struct stat *st);

/* Whether the regular file at PATH, whose stat is ST, is an OVA archive
 * (archive_is_ova), read once per version: a listing does not read every
 * file that is no image again.
 */
bool file_info_is_archive (const char *path, const struct stat *st);

struct raw_view_size {
  uint64_t virtual_size;        /* st_size of the raw view */
  bool data_bytes_known;        /* false if the map could not be walked */
  uint64_t data_bytes;          /* bytes of data extents */
};

/* Whether the image NAME in folder DIRFD, whose stat is ST, is a qcow2
 * image whose header counts internal snapshots: a cheap test (one read of
 * the header, remembered per version) before the snapshot table is read.
 */
bool file_info_has_snapshots (int dirfd, const char *name, const struct stat *st);

/* Measure the raw view CHOICE names of the image at PATH (absolute),
 * whose stat is ST.  Returns 0, or -1 with errno set if the engine can't
 * open it.  If it can't, or the file's own image's map is damaged, the
 * engine's message is kept: see file_info_error().  The measures of the
 * file's own image and of an OVA archive's disks are remembered here
 * (namespace.c remembers snapshots').
 */
int file_info_measure (const char *path, const struct stat *st,
                       const struct view_choice *choice,
                       struct raw_view_size *size);

/* Why the image of this version failed to open or to map, as the engine
 * said it,
 * copied into BUF (NUL-terminated, truncated to SIZE).  Returns false if
 * no failure is known.
 */
bool file_info_error (const struct stat *st, char *buf, size_t size);

#endif
