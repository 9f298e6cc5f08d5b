/* A pipe, standard input, a FIFO: read as it comes (see input.h). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
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
  return &f->input;
}
