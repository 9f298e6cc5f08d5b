/* Reading and seeking in the raw view (see raw-view.h).
 *
 * Seeking walks whole runs of one type (image_run), so that a seek skips
 * a whole hole at once.
 */
#include <config.h>

#include <errno.h>
#include <unistd.h>

#include "raw-view.h"
#include "rounding.h"

/* The engine fills holes with zeros without reading the image file. */
ssize_t
raw_view_read (struct image *image, void *buf, size_t count, uint64_t offset)
{
  uint64_t size = image_size (image);

  if (offset >= size)
    return 0;
  count = MIN (count, size - offset);
  return image_pread (image, buf, count, offset) == -1 ? -1 : (ssize_t) count;
}

int64_t
raw_view_seek (struct image *image, uint64_t offset, int whence)
{
  enum image_extent_type wanted =
    whence == SEEK_DATA ? IMAGE_EXTENT_DATA : IMAGE_EXTENT_ZERO;
  uint64_t size = image_size (image), pos;
  struct image_extent run;

  if (whence != SEEK_DATA && whence != SEEK_HOLE) {
    errno = EINVAL;
    return -1;
  }
  if (offset >= size) {
    errno = ENXIO;
    return -1;
  }
  for (pos = offset; pos < size; pos += run.length) {
    if (image_run (image, pos, size, &run) == -1)
      return -1;
    if (run.type == wanted)
      return pos;
  }
  if (whence == SEEK_HOLE)
    return size;
  errno = ENXIO;
  return -1;
}
