/* The raw format: the file is the disk.  Holes come from the file system
 * (SEEK_DATA/SEEK_HOLE); where it cannot tell (block devices, some file
 * systems), everything is data.  As in qemu, the size is rounded up to a
 * whole 512-byte sector and the tail past the end of the file reads zeros.
 */
#include <config.h>

#include <string.h>
#include <unistd.h>

#include "error.h"
#include "image-internal.h"
#include "rounding.h"

static int
raw_open (struct image *img)
{
  img->size = round_up (img->file_size, 512);
  img->desc.format = IMAGE_FORMAT_RAW;
  img->desc.virtual_size = img->size;
  return 0;
}

static int
raw_read (struct image *img, void *buf, size_t count, uint64_t offset)
{
  size_t n = offset < img->file_size ? MIN (count, img->file_size - offset)
                                     : 0;

  if (n > 0 && read_at (img, img->fd, "data", buf, n, offset) == -1)
    return -1;
  memset ((char *) buf + n, 0, count - n);
  return 0;
}

static int
raw_extent (struct image *img, uint64_t offset, uint64_t length,
            struct image_extent *extent)
{
  if (offset >= img->file_size) {       /* the zeros rounding added */
    extent->offset = offset;
    extent->length = length;
    extent->type = IMAGE_EXTENT_ZERO;
    return 0;
  }
  return file_extent (img, img->fd, offset, length, extent);
}

static void
raw_close (struct image *img)
{
}

const struct format_ops raw_format = {
  .name = "raw",
  .open = raw_open,
  .read = raw_read,
  .extent = raw_extent,
  .close = raw_close,
};
