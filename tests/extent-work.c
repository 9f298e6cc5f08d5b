/* extent-work: how much mapping work the engine spends on one image's map.
 *
 *   extent-work IMAGE
 *
 * Walks the whole map with image_extent(), then counts the data with
 * image_data_bytes(), and prints for each how many mapping lookups the
 * qcow2 layers made (calls of qcow2_map() from the format driver, over
 * the whole backing chain), counted through the linker's --wrap:
 *
 *   extents N lookups M
 *   data-bytes B lookups M
 *
 * A test bounds these counts: they measure work, where time would measure
 * the machine.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>

#include "error.h"
#include "image.h"
#include "qcow2-driver.h"

static uint64_t lookups;

int __real_qcow2_map (struct image *img, uint64_t offset, uint64_t length,
                      enum qcow2_map_mode mode, struct qcow2_run *run);
int __wrap_qcow2_map (struct image *img, uint64_t offset, uint64_t length,
                      enum qcow2_map_mode mode, struct qcow2_run *run);

int
__wrap_qcow2_map (struct image *img, uint64_t offset, uint64_t length,
                  enum qcow2_map_mode mode, struct qcow2_run *run)
{
  lookups++;
  return __real_qcow2_map (img, offset, length, mode, run);
}

static int
walk_map (struct image *img)
{
  struct image_extent e;
  uint64_t offset = 0, extents = 0;

  lookups = 0;
  for (; offset < image_size (img); offset += e.length, extents++)
    if (image_extent (img, offset, &e) == -1)
      return -1;
  printf ("extents %" PRIu64 " lookups %" PRIu64 "\n", extents, lookups);
  return 0;
}

static int
count_data (struct image *img)
{
  uint64_t bytes;

  lookups = 0;
  if (image_data_bytes (img, &bytes) == -1)
    return -1;
  printf ("data-bytes %" PRIu64 " lookups %" PRIu64 "\n", bytes, lookups);
  return 0;
}

int
main (int argc, char **argv)
{
  struct image_options options = { .format = IMAGE_FORMAT_AUTO };
  struct image *img;
  int r;

  if (argc != 2) {
    fprintf (stderr, "usage: extent-work IMAGE\n");
    return 1;
  }
  img = image_open (argv[1], &options);
  if (img == NULL)
    return 1;
  r = walk_map (img) == -1 || count_data (img) == -1;
  image_close (img);
  return r;
}
