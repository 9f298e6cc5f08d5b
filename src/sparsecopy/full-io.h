/* pread/pwrite of a whole range: retried on EINTR and short transfers.  A
 * read that hits the end of the file fails with EIO (the file shrank), a
 * write that makes no progress with ENOSPC.  Return 0, or -1 with errno
 * (not reported: callers name the file and the offset).
 */
#ifndef SPARSECOPY_FULL_IO_H
#define SPARSECOPY_FULL_IO_H

#include <stddef.h>
#include <stdint.h>

int full_pread (int fd, void *buf, size_t count, uint64_t offset);
int full_pwrite (int fd, const void *buf, size_t count, uint64_t offset);

#endif
