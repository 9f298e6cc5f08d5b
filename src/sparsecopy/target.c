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
#include "nbd-conn.h"
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

int
target_write_zero_buffers (struct target *t, uint64_t offset,
                           uint64_t length, target_raw_write *write)
{
  pthread_once (&zero_buffer_once, make_zero_buffer);
  if (zero_buffer == NULL) {
    errno = ENOMEM;
    return -1;
  }
  while (length > 0) {
    size_t n = length < ZERO_BUFFER_SIZE ? length : ZERO_BUFFER_SIZE;

    if (write (t, zero_buffer, n, offset) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
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
  /* Allocated once, before the workers start: failing later would be
   * failing in the middle of a hole.
   */
  pthread_once (&zero_buffer_once, make_zero_buffer);
  if (zero_buffer == NULL)
    return NULL;
  if (is_rbd_name (name))
    return target_rbd_open (name, options);
  if (nbd_conn_is_uri (name))
    return target_nbd_open (name, options);
  return target_file_open (name, options);
}

int
target_close (struct target *t)
{
  return t ? t->ops->close (t) : 0;
}
