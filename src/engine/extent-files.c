/* The extent files a VMDK text descriptor names (see image.h), read the
 * way the VMDK driver reads a descriptor file (vmdk.c), without opening
 * any of them: a folder listing asks this of every image it shows.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte-order.h"
#include "error.h"
#include "image-internal.h"
#include "rounding.h"
#include "vmdk-format.h"
#include "vmdk-internal.h"

/* The first bytes the probe looks at. */
#define HEAD_BYTES 512

/* COUNT bytes of FD at 0 into BUF, fewer only at the end of the file.
 * Returns the bytes read, or -1 after reporting.
 */
static ssize_t
read_start (const char *path, int fd, char *buf, size_t count)
{
  size_t done = 0;

  while (done < count) {
    ssize_t r = pread (fd, buf + done, count - done, done);

    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      report_error ("%s: reading the VMDK descriptor: %m", path);
      return -1;
    }
    if (r == 0)
      break;
    done += r;
  }
  return done;
}

/* Whether the file's first LEN bytes HEAD start a text descriptor: the
 * VMDK probe, but not a sparse extent's magic (whose descriptor is
 * embedded and names the file itself).
 */
static bool
is_text_descriptor (const unsigned char *head, size_t len)
{
  if (len >= 4 && (load_be32 (head) == VMDK4_MAGIC
                   || load_be32 (head) == VMDK3_MAGIC))
    return false;
  return vmdk_probe (-1, head, len) == 1;
}

struct name_walk {
  image_name_fn *fn;
  void *opaque;
};

static int
each_name (const struct vmdk_extent_line *l, void *opaque)
{
  struct name_walk *w = opaque;

  return w->fn (l->name, w->opaque);
}

int
image_vmdk_extent_files (const char *path, int fd, image_name_fn *fn,
                         void *opaque)
{
  struct name_walk walk = { fn, opaque };
  char head[HEAD_BYTES], *text;
  struct stat st;
  ssize_t n;
  int r;

  if (fstat (fd, &st) == -1) {
    report_error ("%s: fstat: %m", path);
    return -1;
  }
  if (!S_ISREG (st.st_mode) || st.st_size > VMDK_MAX_DESCRIPTOR_FILE)
    return 0;
  n = read_start (path, fd, head, sizeof head);
  if (n == -1)
    return -1;
  if (!is_text_descriptor ((const unsigned char *) head, n))
    return 0;
  text = malloc (st.st_size + 1);
  if (text == NULL) {
    report_error ("%s: %m", path);
    return -1;
  }
  n = read_start (path, fd, text, st.st_size);
  r = n == -1 ? -1 : vmdk_check_text (path, text, n);
  if (r == 0) {
    text[n] = '\0';
    r = vmdk_desc_extents (path, text, each_name, &walk);
  }
  free (text);
  return r;
}
