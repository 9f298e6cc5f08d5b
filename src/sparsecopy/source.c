/* The source endpoint (see source.h): choosing the implementation, and the
 * calls every implementation answers.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "nbd-conn.h"
#include "source.h"

/* A file that cannot seek is read as a stream. */
static int
open_stream_fd (const char *path)
{
  struct stat st;
  int fd;

  if (strcmp (path, "-") == 0)
    return dup (STDIN_FILENO);
  if (stat (path, &st) == -1 || S_ISREG (st.st_mode) || S_ISBLK (st.st_mode))
    return -2;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    report_error ("%s: open: %m", path);
  return fd;
}

/* A stream is read front to back for its active layer: a snapshot's L1
 * table may lie anywhere.  (An OVA's disk is found on the way.)
 */
static struct source *
refuse_streamed_snapshot (const char *path)
{
  report_error ("%s: --snapshot reads a qcow2 image from a local file, not "
                "from a stream (-, a FIFO, a URL)", path);
  return NULL;
}

static bool
selects_inside (const struct source_options *o)
{
  return o->snapshot != NULL || o->disk != NULL;
}

struct source *
source_open (const char *path, const struct source_options *options)
{
  struct input *input;
  int fd;

  if (nbd_conn_is_uri (path) && options->checksum) {
    report_error ("%s: --source-checksum checks a streamed source (-, a "
                  "FIFO, an http(s) URL), not an NBD export", path);
    return NULL;
  }
  if (nbd_conn_is_uri (path) && selects_inside (options)) {
    report_error ("%s: %s reads an image file, not an NBD export", path,
                  options->snapshot ? "--snapshot" : "--disk");
    return NULL;
  }
  if (nbd_conn_is_uri (path))
    return source_nbd_open (path);
  if (input_is_url (path) && options->snapshot)
    return refuse_streamed_snapshot (path);
  if (input_is_url (path))
    input = input_http_open (path, &options->http);
  else {
    fd = open_stream_fd (path);
    if (fd == -2 && options->checksum) {
      report_error ("%s: --source-checksum checks a streamed source (-, a "
                    "FIFO, a URL); check a local file with sha256sum first",
                    path);
      return NULL;
    }
    if (fd == -2)
      return source_image_open (path, options);
    if (fd == -1)
      return NULL;
    if (options->snapshot) {
      close (fd);
      return refuse_streamed_snapshot (path);
    }
    input = input_fd_open (path, fd);
  }
  if (input != NULL && options->checksum)
    input = input_checksum (input, options->checksum);
  if (input == NULL)
    return NULL;
  return source_stream_open (path, input, options);
}

void
source_close (struct source *s)
{
  if (s != NULL)
    s->ops->close (s);
}

bool
source_can_reread (const struct source *s)
{
  return s->ops->pread != NULL;
}

void
source_rewind (struct source *s)
{
  s->ops->rewind (s);
}

int
source_next (struct source *s, const struct source_cut *cut,
             struct source_piece *piece)
{
  return s->ops->next (s, cut, piece);
}

int
source_read (struct source *s, const struct source_piece *piece, void *buf,
             uint64_t *good)
{
  return s->ops->read (s, piece, buf, good);
}

const void *
source_peek (struct source *s, const struct source_piece *piece)
{
  return s->ops->peek ? s->ops->peek (s, piece) : NULL;
}

void
source_done (struct source *s, const struct source_piece *piece)
{
  if (s->ops->done)
    s->ops->done (s, piece);
}

int
source_pread (struct source *s, void *buf, size_t count, uint64_t offset,
              uint64_t *good)
{
  return s->ops->pread (s, buf, count, offset, good);
}

int
source_finish (struct source *s)
{
  return s->ops->finish ? s->ops->finish (s) : 0;
}

int
source_data_bytes (struct source *s, uint64_t *bytes)
{
  if (s->ops->data_bytes == NULL)
    return 0;
  return s->ops->data_bytes (s, bytes) == -1 ? -1 : 1;
}

/* The engine reports a failure itself ("disk.qcow2: L2 entry 7 ...").  That
 * message is held back and folded into "PATH: WHAT failed at offset N:
 * <the engine's reason>", so that each failure is reported once, in the
 * form the tool promises.
 */
void
source_report_failure (const struct source *s, const char *what,
                       uint64_t offset)
{
  char reason[1024];

  snprintf (reason, sizeof reason, "%s", last_error ());
  report_error ("%s: %s failed at offset %" PRIu64 ": %s", s->path, what,
                offset, reason);
}
