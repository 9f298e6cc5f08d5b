/* A pipe, standard input, a FIFO: read as it comes (see input.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "input.h"

struct fd_input {
  struct input input;           /* first: the interface */
  int fd;
};

static ssize_t
fd_read (struct input *in, void *buf, size_t count)
{
  struct fd_input *f = (struct fd_input *) in;
  ssize_t n;

  do
    n = read (f->fd, buf, count);
  while (n == -1 && errno == EINTR);
  if (n == -1)
    report_error ("%s: read: %m", in->path);
  return n;
}

static void
fd_close (struct input *in)
{
  struct fd_input *f = (struct fd_input *) in;

  close (f->fd);
  free (f);
}

/* A pipe holds 64 KiB by default: the writer (curl) and the decoder then
 * take turns every 64 KiB, two context switches each.  A larger pipe lets
 * both run on for longer.  Only a speed-up: a pipe that stays small (the
 * caller's limit, fs.pipe-max-size) still works.
 */
#define PIPE_BYTES (1024 * 1024)

static void
enlarge_pipe (int fd)
{
  struct stat st;

  if (fstat (fd, &st) == 0 && S_ISFIFO (st.st_mode))
    (void) fcntl (fd, F_SETPIPE_SZ, PIPE_BYTES);
}

static const struct input_ops fd_ops = { .read = fd_read, .close = fd_close };

struct input *
input_fd_open (const char *path, int fd)
{
  struct fd_input *f = calloc (1, sizeof *f);

  if (f == NULL) {
    report_error ("%s: %m", path);
    close (fd);
    return NULL;
  }
  f->input = (struct input) { .ops = &fd_ops, .path = path };
  f->fd = fd;
  enlarge_pipe (fd);
  return &f->input;
}
