/* Whole-range pread/pwrite (see full-io.h). */
#include <config.h>

#include <errno.h>
#include <unistd.h>

#include "full-io.h"

int
full_pread (int fd, void *buf, size_t count, uint64_t offset)
{
  char *p = buf;

  while (count > 0) {
    ssize_t n = pread (fd, p, count, offset);

    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

int
full_pwrite (int fd, const void *buf, size_t count, uint64_t offset)
{
  const char *p = buf;

  while (count > 0) {
    ssize_t n = pwrite (fd, p, count, offset);

    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      return -1;
    if (n == 0) {
      errno = ENOSPC;
      return -1;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}
