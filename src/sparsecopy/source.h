/* The source endpoint: the engine reads a qcow2 image, or any other file
 * as raw with its holes found by SEEK_DATA/SEEK_HOLE (a sparse raw file, a
 * file on a sparsefs mount; a block device is all data).
 *
 * Thread-safe after source_open(): source_pread() may be called from many
 * threads (the engine decompresses in the calling thread, so reading with
 * several threads spreads decompression over the cores).
 */
#ifndef SPARSECOPY_SOURCE_H
#define SPARSECOPY_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct source {
  const char *path;
  uint64_t size;                /* raw: rounded up to 512, as qemu does */
  struct image *image;
  const char *format;           /* "qcow2", "raw" */
};

struct source_options {
  enum image_format format;     /* AUTO: qcow2 by its magic, else raw */
  const char *const *allowed_dirs;
};

/* Returns 0 or -1 (reported). */
int source_open (struct source *s, const char *path,
                 const struct source_options *options);
void source_close (struct source *s);

/* The run of one type starting at OFFSET (< size), adjacent runs of the
 * same type merged up to MAX_LENGTH bytes.  Returns 0 or -1 (reported).
 */
int source_extent (struct source *s, uint64_t offset, uint64_t max_length,
                   struct image_extent *extent);

/* Read exactly COUNT bytes at OFFSET.  Returns 0 or -1, reported as
 * "PATH: read failed at offset N: why" (the engine's reason included),
 * with N where the damage starts; then the first *GOOD bytes of BUF (those
 * before N) were read correctly.  GOOD may be NULL.
 */
int source_pread (struct source *s, void *buf, size_t count, uint64_t offset,
                  uint64_t *good);

/* Bytes of DATA extents (for --dry-run).  Returns 0 or -1 (reported). */
int source_data_bytes (struct source *s, uint64_t *bytes);

#endif
