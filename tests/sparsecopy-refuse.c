/* LD_PRELOAD shim for the sparsecopy tests: a block device that refuses
 * some zeroing methods with EOPNOTSUPP, as a device without them does (LVM
 * thin refuses punch; a device without discard refuses BLKDISCARD), and a
 * target that fails or is slow to write.
 *
 *   SPARSECOPY_REFUSE=punch,discard,zeroout   methods to refuse
 *   SPARSECOPY_EIO_AT=OFFSET      a pwrite covering byte OFFSET fails with
 *                                 EIO (a bad sector), writing nothing
 *   SPARSECOPY_WRITE_DELAY_US=N   every pwrite first sleeps N microseconds
 *                                 (a slow device, to interrupt a copy midway)
 *
 * Only calls on block devices are refused; the call is not passed on, so
 * nothing reaches the kernel (as when a driver rejects it up front).  The
 * write faults apply to every pwrite: sparsecopy writes only its target.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

static bool
refused (int fd, const char *method)
{
  const char *list = getenv ("SPARSECOPY_REFUSE");
  size_t n = strlen (method);
  struct stat st;
  const char *p;

  if (list == NULL || fstat (fd, &st) == -1 || !S_ISBLK (st.st_mode))
    return false;
  for (p = strstr (list, method); p; p = strstr (p + 1, method))
    if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
      return true;
  return false;
}

int
fallocate (int fd, int mode, off_t offset, off_t length)
{
  static int (*next) (int, int, off_t, off_t);

  if ((mode & FALLOC_FL_PUNCH_HOLE) && refused (fd, "punch")) {
    errno = EOPNOTSUPP;
    return -1;
  }
  if (next == NULL)
    next = (int (*) (int, int, off_t, off_t)) dlsym (RTLD_NEXT, "fallocate");
  return next (fd, mode, offset, length);
}

int
fallocate64 (int fd, int mode, off_t offset, off_t length)
{
  return fallocate (fd, mode, offset, length);
}

int
ioctl (int fd, unsigned long request, ...)
{
  static int (*next) (int, unsigned long, void *);
  va_list args;
  void *arg;

  va_start (args, request);
  arg = va_arg (args, void *);
  va_end (args);
  if ((request == BLKDISCARD && refused (fd, "discard"))
      || (request == BLKZEROOUT && refused (fd, "zeroout"))) {
    errno = EOPNOTSUPP;
    return -1;
  }
  if (next == NULL)
    next = (int (*) (int, unsigned long, void *)) dlsym (RTLD_NEXT, "ioctl");
  return next (fd, request, arg);
}

/* An environment variable as a number, or -1 when unset. */
static long long
env_number (const char *name)
{
  const char *value = getenv (name);

  return value ? strtoll (value, NULL, 10) : -1;
}

static ssize_t
faulty_pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  static ssize_t (*next) (int, const void *, size_t, off_t);
  long long eio_at = env_number ("SPARSECOPY_EIO_AT");
  long long delay_us = env_number ("SPARSECOPY_WRITE_DELAY_US");

  if (delay_us > 0) {
    struct timespec delay = { delay_us / 1000000, delay_us % 1000000 * 1000 };

    nanosleep (&delay, NULL);
  }
  if (eio_at >= 0 && offset <= eio_at && eio_at < offset + (long long) count) {
    errno = EIO;
    return -1;
  }
  if (next == NULL)
    next = (ssize_t (*) (int, const void *, size_t, off_t))
      dlsym (RTLD_NEXT, "pwrite64");
  return next (fd, buf, count, offset);
}

ssize_t
pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  return faulty_pwrite (fd, buf, count, offset);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t count, off_t offset)
{
  return faulty_pwrite (fd, buf, count, offset);
}
