/* The target interface: picking the endpoint, and what endpoints share
 * (see target.h).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rbd-name.h"
#include "target.h"

#define ZERO_BUFFER_SIZE (1024 * 1024)

void *
alloc_io_buffer (size_t size)
{
  void *buf;
  int r = posix_memalign (&buf, TARGET_BUFFER_ALIGN, size);

  if (r != 0) {
    errno = r;
    report_error ("cannot allocate a %zu-byte I/O buffer: %m", size);
    return NULL;
  }
  return buf;
}

static void *zero_buffer;
static pthread_once_t zero_buffer_once = PTHREAD_ONCE_INIT;

static void
make_zero_buffer (void)
{
  zero_buffer = alloc_io_buffer (ZERO_BUFFER_SIZE);
  if (zero_buffer != NULL)
    memset (zero_buffer, 0, ZERO_BUFFER_SIZE);
}

const void *
target_zero_buffer (size_t *size)
{
  pthread_once (&zero_buffer_once, make_zero_buffer);
  *size = ZERO_BUFFER_SIZE;
  return zero_buffer;
}

int
target_check_size (const struct target *t, uint64_t source_size)
{
  if (t->facts.size >= source_size)
    return 0;
  report_error ("%s: the target (%" PRIu64 " bytes) is smaller than the "
                "source (%" PRIu64 " bytes); nothing was written",
                t->path, t->facts.size, source_size);
  errno = ENOSPC;
  return -1;
}

struct target *
target_open (const char *name, const struct target_options *options)
{
  size_t unused;

  /* Allocated once, before the workers start: failing later would be
   * failing in the middle of a hole.
   */
  if (target_zero_buffer (&unused) == NULL)
    return NULL;
  if (is_rbd_name (name))
    return target_rbd_open (name, options);
  return target_file_open (name, options);
}

int
target_close (struct target *t)
{
  return t ? t->ops->close (t) : 0;
}
