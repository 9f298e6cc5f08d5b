/* The source endpoint (see source.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "messages.h"
#include "rounding.h"
#include "source.h"

int
source_open (struct source *s, const char *path,
             const struct source_options *o)
{
  struct image_options io = { .format = o->format,
                              .allowed_dirs = o->allowed_dirs };

  memset (s, 0, sizeof *s);
  s->path = path;
  s->image = image_open (path, &io);
  if (s->image == NULL)
    return -1;
  s->size = image_size (s->image);
  s->format = image_format_name (image_describe (s->image)->format);
  return 0;
}

void
source_close (struct source *s)
{
  image_close (s->image);
  s->image = NULL;
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

int
source_extent (struct source *s, uint64_t offset, uint64_t max_length,
               struct image_extent *extent)
{
  int r;

  messages_hold ();
  r = image_run (s->image, offset, offset + MIN (max_length, s->size - offset),
                 extent);
  messages_release ();
  if (r == -1)
    report_engine_failure (s, "reading the allocation map", offset);
  return r;
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
source_pread (struct source *s, void *buf, size_t count, uint64_t offset,
              uint64_t *good)
{
  uint64_t failed_at = offset;
  int r;

  messages_hold ();
  r = image_pread (s->image, buf, count, offset);
  if (r == -1)
    failed_at = first_failing_offset (s, buf, count, offset);
  messages_release ();
  if (r == -1)
    report_engine_failure (s, "read", failed_at);
  if (good)
    *good = failed_at - offset;
  return r;
}

int
source_data_bytes (struct source *s, uint64_t *bytes)
{
  return image_data_bytes (s->image, bytes);
}
