/* Reading and seeking in the raw view (see raw-view.h).
 *
 * Seeking walks image_extent(), which may cut a run of one type into
 * several adjacent extents; same_type_run() merges them so that a seek
 * skips a whole hole at once.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "error.h"
#include "raw-view.h"
#include "rounding.h"

/* The extent at OFFSET, checked to end after OFFSET: an engine bug must
 * not turn into an endless loop.
 */
static int
extent_at (struct image *image, uint64_t offset, struct image_extent *extent)
{
  if (image_extent (image, offset, extent) == -1)
    return -1;
  if (extent->offset + extent->length <= offset) {
    report_error ("%s: empty extent at offset %" PRIu64,
                  image_describe (image)->path, offset);
    errno = EIO;
    return -1;
  }
  return 0;
}

/* The run of one extent type starting at OFFSET, ending at the first
 * change of type or at LIMIT, whichever comes first.
 */
static int
same_type_run (struct image *image, uint64_t offset, uint64_t limit,
               struct image_extent *run)
{
  struct image_extent next;
  uint64_t end;

  if (extent_at (image, offset, run) == -1)
    return -1;
  end = run->offset + run->length;
  while (end < limit) {
    if (extent_at (image, end, &next) == -1)
      return -1;
    if (next.type != run->type)
      break;
    end = next.offset + next.length;
  }
  run->offset = offset;
  run->length = MIN (end, limit) - offset;
  return 0;
}

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
    if (same_type_run (image, pos, size, &run) == -1)
      return -1;
    if (run.type == wanted)
      return pos;
  }
  if (whence == SEEK_HOLE)
    return size;
  errno = ENXIO;
  return -1;
}
