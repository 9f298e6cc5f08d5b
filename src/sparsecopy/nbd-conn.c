/* A shared NBD connection (see nbd-conn.h). */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libnbd.h>

#include "error.h"
#include "nbd-conn.h"
#include "rounding.h"

/* libnbd refuses reads and writes over 64 MiB. */
#define REQUEST_MAX (UINT32_C (32) << 20)

/* Zero and block status requests carry a 32-bit length. */
#define RANGE_MAX (UINT64_C (1) << 30)

#define WHY_MAX 256

struct nbd_conn {
  struct nbd_handle *h;
  const char *uri;
  struct nbd_export_info info;
  pthread_t io_thread;
  bool io_running;
  int wake_fd;                  /* an eventfd: a request was queued */
  atomic_bool stopping;

  pthread_mutex_t lock;         /* guards dead, why, every request's state */
  pthread_cond_t replied;
  bool dead;
  char why[WHY_MAX];
};

/* One request in flight, on its sender's stack. */
struct request {
  struct nbd_conn *c;
  bool done;
  int error;
};

static const char *const uri_prefixes[] = {
  "nbd://", "nbds://", "nbd+unix://", "nbds+unix://",
};

bool
nbd_conn_is_uri (const char *name)
{
  size_t i;

  for (i = 0; i < sizeof uri_prefixes / sizeof uri_prefixes[0]; i++)
    if (strncmp (name, uri_prefixes[i], strlen (uri_prefixes[i])) == 0)
      return true;
  return false;
}

/* libnbd's message without its "nbd_xxx: " prefix. */
static const char *
libnbd_reason (void)
{
  const char *msg = nbd_get_error ();
  const char *colon;

  if (msg == NULL || msg[0] == '\0')
    return strerror (nbd_get_errno () ? nbd_get_errno () : EIO);
  colon = strstr (msg, ": ");
  if (strncmp (msg, "nbd_", 4) == 0 && colon)
    msg = colon + 2;
  return msg;
}

/* Called by libnbd in the I/O thread (or in a sender, when the reply is
 * already there).  Returning 1 retires the command.
 */
static int
request_replied (void *opaque, int *error)
{
  struct request *r = opaque;

  pthread_mutex_lock (&r->c->lock);
  r->error = *error;
  r->done = true;
  pthread_cond_broadcast (&r->c->replied);
  pthread_mutex_unlock (&r->c->lock);
  return 1;
}

static void
wake_io_thread (struct nbd_conn *c)
{
  uint64_t one = 1;

  if (write (c->wake_fd, &one, sizeof one) != sizeof one)
    abort ();                   /* an eventfd write fails only if misused */
}

static bool
connection_ended (struct nbd_conn *c)
{
  return nbd_aio_is_dead (c->h) == 1 || nbd_aio_is_closed (c->h) == 1;
}

/* The connection died under a request, which libnbd failed with an error
 * of its own (ENOTCONN, or EIO when a send failed): wait for the I/O
 * thread to say why it died (it does once libnbd's call returns, which may
 * be after the request's callback ran), and fail the request with
 * ENOTCONN, so that nbd_conn_why() gives that reason.
 */
static int
await_death (struct nbd_conn *c)
{
  wake_io_thread (c);           /* it may be asleep on a socket now gone */
  pthread_mutex_lock (&c->lock);
  while (!c->dead)
    pthread_cond_wait (&c->replied, &c->lock);
  pthread_mutex_unlock (&c->lock);
  return ENOTCONN;
}

/* Wait for the reply to R, sent as COOKIE.  Returns 0 or -1 with errno. */
static int
await_reply (struct nbd_conn *c, struct request *r, int64_t cookie)
{
  if (cookie == -1 && connection_ended (c)) {
    errno = await_death (c);
    return -1;
  }
  if (cookie == -1) {
    int err = nbd_get_errno ();

    pthread_mutex_lock (&c->lock);
    if (!c->dead)
      snprintf (c->why, sizeof c->why, "%s", libnbd_reason ());
    pthread_mutex_unlock (&c->lock);
    errno = err ? err : ENOTCONN;
    return -1;
  }
  wake_io_thread (c);
  pthread_mutex_lock (&c->lock);
  /* A dying connection replies to every request in flight (ENOTCONN)
   * before the I/O thread marks it dead.
   */
  while (!r->done && !c->dead)
    pthread_cond_wait (&c->replied, &c->lock);
  if (!r->done)
    r->error = ENOTCONN;
  pthread_mutex_unlock (&c->lock);
  if (r->error == ENOTCONN || (r->error != 0 && connection_ended (c)))
    r->error = await_death (c);
  if (r->error != 0) {
    errno = r->error;
    return -1;
  }
  return 0;
}

static void
mark_dead (struct nbd_conn *c, const char *why)
{
  pthread_mutex_lock (&c->lock);
  c->dead = true;
  snprintf (c->why, sizeof c->why, "%s", why);
  pthread_cond_broadcast (&c->replied);
  pthread_mutex_unlock (&c->lock);
}

/* Poll the socket in the direction libnbd wants, and the wake-up eventfd
 * (a request queued since, which may change the direction).
 */
static int
io_step (struct nbd_conn *c)
{
  unsigned dir = nbd_aio_get_direction (c->h);
  struct pollfd fds[2] = {
    { .fd = nbd_aio_get_fd (c->h) },
    { .fd = c->wake_fd, .events = POLLIN },
  };
  uint64_t count;

  if (dir & LIBNBD_AIO_DIRECTION_READ)
    fds[0].events |= POLLIN;
  if (dir & LIBNBD_AIO_DIRECTION_WRITE)
    fds[0].events |= POLLOUT;
  if (poll (fds, 2, -1) == -1)
    return errno == EINTR ? 0 : -1;
  if ((fds[1].revents & POLLIN)
      && read (c->wake_fd, &count, sizeof count) == -1)
    return -1;
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
    return nbd_aio_notify_read (c->h);
  if (fds[0].revents & POLLOUT)
    return nbd_aio_notify_write (c->h);
  return 0;
}

/* Why the I/O thread saw the connection end.  A server gone between two
 * replies is a clean close for libnbd, with no message; a send may fail
 * in a worker, whose message this thread cannot see.
 */
static const char *
death_reason (struct nbd_conn *c)
{
  const char *msg = nbd_get_error ();

  if (msg != NULL && msg[0] != '\0')
    return libnbd_reason ();
  return nbd_aio_is_closed (c->h) == 1 ? "the server closed the connection"
    : "the connection was lost";
}

static void *
io_loop (void *opaque)
{
  struct nbd_conn *c = opaque;

  while (!atomic_load (&c->stopping)) {
    if (io_step (c) == -1 || nbd_aio_is_dead (c->h)
        || nbd_aio_is_closed (c->h)) {
      mark_dead (c, death_reason (c));
      break;
    }
  }
  return NULL;
}

static uint32_t
block_size (struct nbd_conn *c, int which, uint32_t fallback)
{
  int64_t size = nbd_get_block_size (c->h, which);

  return size > 0 && size <= UINT32_MAX ? (uint32_t) size : fallback;
}

static void
read_export_info (struct nbd_conn *c)
{
  struct nbd_export_info *i = &c->info;
  int64_t size = nbd_get_size (c->h);

  i->size = size > 0 ? (uint64_t) size : 0;
  i->min_block = block_size (c, LIBNBD_SIZE_MINIMUM, 1);
  i->preferred_block = block_size (c, LIBNBD_SIZE_PREFERRED, 4096);
  i->max_request = MIN (block_size (c, LIBNBD_SIZE_MAXIMUM, REQUEST_MAX),
                        REQUEST_MAX);
  i->max_request = MAX (round_down (i->max_request, i->min_block),
                        i->min_block);
  i->read_only = nbd_is_read_only (c->h) == 1;
  i->can_flush = nbd_can_flush (c->h) == 1;
  i->can_zero = nbd_can_zero (c->h) == 1;
  i->can_fast_zero = nbd_can_fast_zero (c->h) == 1;
  i->can_trim = nbd_can_trim (c->h) == 1;
  i->can_multi_conn = nbd_can_multi_conn (c->h) == 1;
  i->has_allocation =
    nbd_can_meta_context (c->h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  i->protocol = nbd_get_protocol (c->h);
}

/* The URI is the operator's own, from the command line: its
 * tls-certificates= and tls-psk-file= name files to read, which libnbd
 * refuses unless told (it guards URIs that come from elsewhere).
 */
static int
connect_handle (struct nbd_conn *c)
{
  c->h = nbd_create ();
  if (c->h == NULL
      || nbd_set_uri_allow_local_file (c->h, true) == -1
      || nbd_add_meta_context (c->h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1
      || nbd_connect_uri (c->h, c->uri) == -1) {
    const char *why = libnbd_reason ();

    if (strncmp (why, "connect: ", 9) == 0)
      why += 9;                 /* said once, below */
    report_error ("%s: connect: %s", c->uri, why);
    return -1;
  }
  read_export_info (c);
  return 0;
}

static int
start_io_thread (struct nbd_conn *c)
{
  int err;

  c->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (c->wake_fd == -1) {
    report_error ("%s: eventfd: %m", c->uri);
    return -1;
  }
  err = pthread_create (&c->io_thread, NULL, io_loop, c);
  if (err != 0) {
    errno = err;
    report_error ("%s: cannot start the I/O thread: %m", c->uri);
    return -1;
  }
  c->io_running = true;
  return 0;
}

struct nbd_conn *
nbd_conn_open (const char *uri)
{
  struct nbd_conn *c = calloc (1, sizeof *c);

  if (c == NULL) {
    report_error ("%s: %m", uri);
    return NULL;
  }
  c->uri = uri;
  c->wake_fd = -1;
  pthread_mutex_init (&c->lock, NULL);
  pthread_cond_init (&c->replied, NULL);
  if (connect_handle (c) == -1 || start_io_thread (c) == -1) {
    nbd_conn_close (c);
    return NULL;
  }
  return c;
}

void
nbd_conn_close (struct nbd_conn *c)
{
  if (c == NULL)
    return;
  if (c->io_running) {
    atomic_store (&c->stopping, true);
    wake_io_thread (c);
    pthread_join (c->io_thread, NULL);
  }
  /* With the I/O thread gone, nbd_shutdown drives the disconnect itself. */
  if (c->h != NULL && !c->dead && nbd_aio_is_ready (c->h) == 1)
    nbd_shutdown (c->h, 0);
  nbd_close (c->h);
  if (c->wake_fd != -1)
    close (c->wake_fd);
  pthread_cond_destroy (&c->replied);
  pthread_mutex_destroy (&c->lock);
  free (c);
}

void
nbd_conn_info (struct nbd_conn *c, struct nbd_export_info *info)
{
  *info = c->info;
}

const char *
nbd_conn_why (struct nbd_conn *c, int err)
{
  const char *why = NULL;

  pthread_mutex_lock (&c->lock);
  if (c->dead || err == ENOTCONN)
    why = c->why[0] ? c->why : NULL;
  pthread_mutex_unlock (&c->lock);
  return why ? why : strerror (err);
}

static nbd_completion_callback
reply_to (struct request *r)
{
  return (nbd_completion_callback) { .callback = request_replied,
                                     .user_data = r };
}

/* Read into or write from BUF, in requests the server takes. */
static int
transfer (struct nbd_conn *c, void *buf, size_t count, uint64_t offset,
          bool write)
{
  while (count > 0) {
    size_t n = MIN (count, c->info.max_request);
    struct request r = { .c = c };
    int64_t cookie = write
      ? nbd_aio_pwrite (c->h, buf, n, offset, reply_to (&r), 0)
      : nbd_aio_pread (c->h, buf, n, offset, reply_to (&r), 0);

    if (await_reply (c, &r, cookie) == -1)
      return -1;
    buf = (char *) buf + n;
    offset += n;
    count -= n;
  }
  return 0;
}

int
nbd_conn_pread (struct nbd_conn *c, void *buf, size_t count,
                uint64_t offset)
{
  return transfer (c, buf, count, offset, false);
}

/* libnbd's pwrite takes a const buffer: the cast is only for transfer(). */
int
nbd_conn_pwrite (struct nbd_conn *c, const void *buf, size_t count,
                 uint64_t offset)
{
  return transfer (c, (void *) buf, count, offset, true);
}

/* Without NBD_CMD_FLAG_NO_HOLE: the server may punch. */
int
nbd_conn_zero (struct nbd_conn *c, uint64_t offset, uint64_t length,
               bool fast)
{
  uint32_t flags = fast ? LIBNBD_CMD_FLAG_FAST_ZERO : 0;
  uint64_t step = MAX (round_down (RANGE_MAX, c->info.min_block),
                       c->info.min_block);

  while (length > 0) {
    uint64_t n = MIN (length, step);
    struct request r = { .c = c };

    if (await_reply (c, &r, nbd_aio_zero (c->h, n, offset, reply_to (&r),
                                          flags)) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
}

int
nbd_conn_flush (struct nbd_conn *c)
{
  struct request r = { .c = c };

  if (!c->info.can_flush)
    return 0;
  return await_reply (c, &r, nbd_aio_flush (c->h, reply_to (&r), 0));
}

struct extent_answer {
  uint64_t offset;              /* asked */
  uint64_t length;              /* in: asked; out: the first extent's */
  bool zero;
  bool seen;
};

static int
first_extent (void *opaque, const char *context, uint64_t offset,
              uint32_t *entries, size_t count, int *error)
{
  struct extent_answer *a = opaque;

  if (a->seen || count < 2 || offset != a->offset
      || strcmp (context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  a->seen = true;
  a->length = MIN (a->length, MAX (entries[0], 1));
  a->zero = (entries[1] & LIBNBD_STATE_ZERO) != 0;
  return 0;
}

int
nbd_conn_extent (struct nbd_conn *c, uint64_t offset, uint64_t *length,
                 bool *zero)
{
  struct extent_answer a = { .offset = offset,
                             .length = MIN (*length, RANGE_MAX) };
  nbd_extent_callback cb = { .callback = first_extent, .user_data = &a };
  struct request r = { .c = c };

  *zero = false;
  if (!c->info.has_allocation)
    return 0;
  if (await_reply (c, &r, nbd_aio_block_status (c->h, a.length, offset, cb,
                                                reply_to (&r), 0)) == -1)
    return -1;
  if (a.seen) {
    *length = a.length;
    *zero = a.zero;
  }
  return 0;
}
