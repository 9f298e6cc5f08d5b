/* The raw view of an engine image as a file: reads that skip the holes,
 * and SEEK_DATA / SEEK_HOLE from the extent map.
 */
#ifndef SPARSEFS_RAW_VIEW_H
#define SPARSEFS_RAW_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"

/* Read up to COUNT bytes at OFFSET like pread(2): short only at the end of
 * the view.  Holes are filled with zeros without reading the image file.
 * Returns the byte count, or -1 with errno set (the engine reported why).
 */
ssize_t raw_view_read (struct image *image, void *buf, size_t count,
                       uint64_t offset);

/* lseek(2) with WHENCE SEEK_DATA or SEEK_HOLE from OFFSET.  Returns the
 * new offset, or -1 with errno set: ENXIO when OFFSET is at or past the
 * end, or (SEEK_DATA) when only a hole follows.  The end of the view
 * counts as a hole.
 */
int64_t raw_view_seek (struct image *image, uint64_t offset, int whence);

#endif
