/* The source endpoint (see source.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "error.h"
#include "full-io.h"
#include "messages.h"
#include "rounding.h"
#include "source.h"

#define QCOW2_MAGIC "QFI\xfb"

static int
has_qcow2_magic (const char *path, int fd, bool *is_qcow2)
{
  char magic[4];
  ssize_t n = pread (fd, magic, sizeof magic, 0);

  if (n == -1) {
    report_error ("%s: read: %m", path);
    return -1;
  }
  *is_qcow2 = n == sizeof magic && memcmp (magic, QCOW2_MAGIC, 4) == 0;
  return 0;
}

static int
file_size (struct source *s)
{
  struct stat st;

  if (fstat (s->fd, &st) == -1) {
    report_error ("%s: stat: %m", s->path);
    return -1;
  }
  if (S_ISBLK (st.st_mode)) {
    if (ioctl (s->fd, BLKGETSIZE64, &s->file_size) == -1) {
      report_error ("%s: BLKGETSIZE64: %m", s->path);
      return -1;
    }
    s->size = s->file_size;
    return 0;                   /* a block device has no hole map */
  }
  if (!S_ISREG (st.st_mode)) {
    report_error ("%s: not a regular file or a block device", s->path);
    errno = EINVAL;
    return -1;
  }
  /* qemu counts whole sectors and reads zeros past the end of the file. */
  s->file_size = st.st_size;
  s->size = round_up (s->file_size, 512);
  s->has_hole_map = lseek (s->fd, 0, SEEK_DATA) != -1 || errno == ENXIO;
  return 0;
}

static int
open_with_engine (struct source *s, const struct source_options *o,
                  enum image_format format)
{
  struct image_options io = { .format = format,
                              .allowed_dirs = o->allowed_dirs };

  s->image = image_open (s->path, &io);
  if (s->image == NULL)
    return -1;
  s->size = image_size (s->image);
  s->format = image_format_name (image_describe (s->image)->format);
  return 0;
}

int
source_open (struct source *s, const char *path,
             const struct source_options *o)
{
  bool is_qcow2 = o->format == IMAGE_FORMAT_QCOW2;

  memset (s, 0, sizeof *s);
  s->path = path;
  s->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (s->fd == -1) {
    report_error ("%s: open: %m", path);
    return -1;
  }
  if (o->format == IMAGE_FORMAT_AUTO
      && has_qcow2_magic (path, s->fd, &is_qcow2) == -1)
    return -1;
  if (is_qcow2) {
    close (s->fd);
    s->fd = -1;
    return open_with_engine (s, o, IMAGE_FORMAT_QCOW2);
  }
  s->format = "raw";
  return file_size (s);
}

void
source_close (struct source *s)
{
  if (s->image)
    image_close (s->image);
  if (s->fd != -1)
    close (s->fd);
  s->image = NULL;
  s->fd = -1;
}

/* One run from the file's hole map: SEEK_DATA finds the next data (ENXIO:
 * none before the end), SEEK_HOLE the end of this data.
 */
static int
file_extent (struct source *s, uint64_t offset, struct image_extent *e)
{
  off_t data, hole;

  e->offset = offset;
  if (!s->has_hole_map) {
    e->type = IMAGE_EXTENT_DATA;
    e->length = s->size - offset;
    return 0;
  }
  data = lseek (s->fd, offset, SEEK_DATA);
  if (data == -1 && errno != ENXIO) {
    report_error ("%s: SEEK_DATA at offset %" PRIu64 ": %m", s->path, offset);
    return -1;
  }
  if (data == -1 || (uint64_t) data > offset) {
    e->type = IMAGE_EXTENT_ZERO;
    e->length = (data == -1 ? s->size : MIN ((uint64_t) data, s->size))
      - offset;
    return 0;
  }
  /* SEEK_HOLE finds the end of the file at the latest; the rest of the
   * last sector reads as zeros, as data.
   */
  hole = lseek (s->fd, offset, SEEK_HOLE);
  if (hole == -1) {
    report_error ("%s: SEEK_HOLE at offset %" PRIu64 ": %m", s->path, offset);
    return -1;
  }
  e->type = IMAGE_EXTENT_DATA;
  if ((uint64_t) hole >= s->file_size)
    hole = s->size;
  e->length = MIN ((uint64_t) hole, s->size) - offset;
  if (e->length == 0)           /* the file changed under us */
    e->length = s->size - offset;
  return 0;
}

/* The engine reports a failure itself ("disk.qcow2: L2 entry 7 ...").  That
 * message is held back and folded into "PATH: WHAT failed at offset N:
 * <the engine's reason>", so that each failure is reported once, in the
 * form the tool promises.
 */
static void
report_engine_failure (struct source *s, const char *what, uint64_t offset)
{
  char reason[1024];

  snprintf (reason, sizeof reason, "%s", last_error ());
  report_error ("%s: %s failed at offset %" PRIu64 ": %s", s->path, what,
                offset, reason);
}

static int
one_extent (struct source *s, uint64_t offset, struct image_extent *e)
{
  int r;

  if (s->image == NULL)
    return file_extent (s, offset, e);
  messages_hold ();
  r = image_extent (s->image, offset, e);
  messages_release ();
  if (r == -1)
    report_engine_failure (s, "reading the allocation map", offset);
  return r;
}

int
source_extent (struct source *s, uint64_t offset, uint64_t max_length,
               struct image_extent *extent)
{
  struct image_extent next;
  uint64_t end;

  if (one_extent (s, offset, extent) == -1)
    return -1;
  end = offset + extent->length;
  while (end < s->size && end - offset < max_length) {
    if (one_extent (s, end, &next) == -1)
      return -1;
    if (next.type != extent->type)
      break;
    end += next.length;
  }
  extent->length = MIN (end - offset, max_length);
  return 0;
}

/* Past the end of the file (up to the rounded size) reads zeros. */
static int
file_pread (struct source *s, void *buf, size_t count, uint64_t offset)
{
  char *p = buf;

  if (offset + count > s->file_size) {
    uint64_t inside = offset < s->file_size ? s->file_size - offset : 0;

    memset (p + inside, 0, count - inside);
    count = inside;
  }
  return full_pread (s->fd, p, count, offset);
}

/* A large read failed: find where, so that the message names the damaged
 * place rather than the start of the request.  The last failure's message
 * is the one kept.
 */
static uint64_t
first_failing_offset (struct source *s, char *buf, size_t count,
                      uint64_t offset)
{
  const size_t step = 64 * 1024;
  size_t done, n;
  int saved_errno = errno;

  for (done = 0; done < count; done += n) {
    n = MIN (step, count - done);
    if (image_pread (s->image, buf + done, n, offset + done) == -1)
      break;
  }
  errno = saved_errno;
  return done < count ? offset + done : offset;
}

int
source_pread (struct source *s, void *buf, size_t count, uint64_t offset)
{
  int r;

  if (s->image == NULL) {
    r = file_pread (s, buf, count, offset);
    if (r == -1)
      report_error ("%s: read failed at offset %" PRIu64 ": %m", s->path,
                    offset);
    return r;
  }
  messages_hold ();
  r = image_pread (s->image, buf, count, offset);
  if (r == -1)
    offset = first_failing_offset (s, buf, count, offset);
  messages_release ();
  if (r == -1)
    report_engine_failure (s, "read", offset);
  return r;
}

int
source_data_bytes (struct source *s, uint64_t *bytes)
{
  struct image_extent e;
  uint64_t offset;

  if (s->image)
    return image_data_bytes (s->image, bytes);
  *bytes = 0;
  for (offset = 0; offset < s->size; offset += e.length) {
    if (file_extent (s, offset, &e) == -1)
      return -1;
    if (e.type == IMAGE_EXTENT_DATA)
      *bytes += e.length;
  }
  return 0;
}
