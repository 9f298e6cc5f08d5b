/* The RBD endpoint: a Ceph RBD image through librbd (see target.h and
 * rbd-name.h), never the kernel client.
 *
 * What zeroes a range, from librbd's source (Ceph 16, src/librbd/api/Io.cc,
 * io/ImageRequest.cc, io/ObjectRequest.h) and proven on a one-host cluster
 * by tests/test-sparsecopy-rbd-zeroing.sh (docs/rbd-zeroing.md has the
 * details):
 *   rbd_write_zeroes (no flags) is a discard with a granularity of 0: every
 *     object the range covers whole is removed, an object the range reaches
 *     the end of is truncated, any other piece is zeroed on the OSD.  The
 *     range always reads zeros, and whole objects hold no object after.
 *     That is punch.
 *   rbd_discard uses rbd_discard_granularity_bytes (64 KiB by default; 0
 *     when rbd_skip_partial_discard is false): pieces of an object smaller
 *     than a granule are skipped and keep their old bytes.  Given whole
 *     objects it removes them like write-zeroes, so it is trusted (discard)
 *     only in whole objects (discard_granularity = the object size), and
 *     not on a clone, where a removed object would show the parent's data
 *     (librbd truncates instead, but nothing needs it: punch comes first).
 *   rbd_write_zeroes with RBD_WRITE_ZEROES_FLAG_THICK_PROVISION writes.
 * A new image reads zeros: its holes are skipped.
 *
 * Each worker has one request in flight (aio, then wait): -j workers are -j
 * requests in flight.  librbd's cache is off unless the name turns it on:
 * a copy reads nothing back, and a write error must show at the write.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "error.h"
#include "rbd-name.h"
#include "target.h"

struct rbd_target {
  struct target t;              /* first: the ops get &t */
  struct rbd_name name;
  rados_t cluster;
  rados_ioctx_t io;
  rbd_image_t image;
  bool connected, have_io;
};

static const struct target_ops rbd_ops;

static struct rbd_target *
rbd_of (struct target *t)
{
  return (struct rbd_target *) t;
}

/* Where the pool and image are, for messages: "pool", "pool/ns". */
static void
describe_pool (const struct rbd_target *r, char *buf, size_t size)
{
  snprintf (buf, size, "%s%s%s", r->name.pool, *r->name.ns ? "/" : "",
            r->name.ns);
}

/* The default options first, then the name's: the name wins. */
static int
configure (struct rbd_target *r)
{
  const struct rbd_name *n = &r->name;
  int err;
  size_t i;

  err = rados_conf_read_file (r->cluster, n->conf);
  if (err < 0 && n->conf != NULL) {
    errno = -err;
    report_error ("%s: cannot read the Ceph configuration %s: %m",
                  r->t.path, n->conf);
    return -1;
  }
  rados_conf_parse_env (r->cluster, NULL);
  rados_conf_set (r->cluster, "rbd_cache", "false");
  for (i = 0; i < n->option_count; i++) {
    err = rados_conf_set (r->cluster, n->options[i].key, n->options[i].value);
    if (err < 0) {
      errno = -err;
      report_error ("%s: Ceph option %s=%s: %m", r->t.path,
                    n->options[i].key, n->options[i].value);
      return -1;
    }
  }
  return 0;
}

static bool
is_permission_error (int err)
{
  return err == -EPERM || err == -EACCES;
}

static int
connect_cluster (struct rbd_target *r)
{
  char mon_host[256] = "?";
  int err = rados_create (&r->cluster, r->name.id);

  if (err < 0) {
    errno = -err;
    report_error ("%s: cannot make a Ceph client: %m", r->t.path);
    return -1;
  }
  r->connected = true;          /* rados_shutdown() from here on */
  if (configure (r) == -1)
    return -1;
  rados_conf_get (r->cluster, "mon_host", mon_host, sizeof mon_host);
  err = rados_connect (r->cluster);
  if (err < 0) {
    errno = -err;
    report_error ("%s: cannot connect to the Ceph cluster (monitors %s, "
                  "client.%s): %m%s", r->t.path, mon_host,
                  r->name.id ? r->name.id : "admin",
                  is_permission_error (err)
                  ? " (check the client's key and caps)" : "");
    return -1;
  }
  return 0;
}

static int
open_pool (struct rbd_target *r)
{
  char pool[512];
  int err = rados_ioctx_create (r->cluster, r->name.pool, &r->io);

  describe_pool (r, pool, sizeof pool);
  if (err == -ENOENT) {
    report_error ("%s: the pool %s does not exist", r->t.path, r->name.pool);
    errno = ENOENT;
    return -1;
  }
  if (err < 0) {
    errno = -err;
    report_error ("%s: cannot open the pool %s: %m", r->t.path, pool);
    return -1;
  }
  r->have_io = true;
  rados_ioctx_set_namespace (r->io, r->name.ns);
  return 0;
}

/* A failure of librbd on the image: permission errors say where to look. */
static int
image_error (struct rbd_target *r, const char *op, int err)
{
  char pool[512];

  describe_pool (r, pool, sizeof pool);
  errno = -err;
  if (is_permission_error (err))
    report_error ("%s: %s: permission denied (check the caps of client.%s "
                  "on the pool %s)", r->t.path, op,
                  r->name.id ? r->name.id : "admin", pool);
  else if (err == -ENOENT && *r->name.ns)
    report_error ("%s: %s: %m (does the namespace %s exist?)", r->t.path,
                  op, pool);
  else
    report_error ("%s: %s: %m", r->t.path, op);
  errno = -err;
  return -1;
}

/* A new image, thin, of the source's size, with the cluster's default
 * features and object size.
 */
static int
create_image (struct rbd_target *r, uint64_t size)
{
  rbd_image_options_t opts;
  int err;

  rbd_image_options_create (&opts);
  err = rbd_create4 (r->io, r->name.image, size, opts);
  rbd_image_options_destroy (opts);
  if (err < 0)
    return image_error (r, "cannot create the image", err);
  r->t.reads_zero = true;
  return 0;
}

static int
open_image (struct rbd_target *r, const struct target_options *o)
{
  int err = o->dry_run
    ? rbd_open_read_only (r->io, r->name.image, &r->image, NULL)
    : rbd_open (r->io, r->name.image, &r->image, NULL);

  if (err == -ENOENT && !o->no_create && o->source_size == 0) {
    report_error ("%s: the image does not exist, and the source's size is "
                  "not known before its end (a raw stream): create the "
                  "image first (rbd create --size)", r->t.path);
    errno = ENOENT;
    return -1;
  }
  if (err == -ENOENT && !o->no_create) {
    if (o->dry_run) {
      r->t.would_create = r->t.reads_zero = true;
      return 0;
    }
    if (create_image (r, o->source_size) == -1)
      return -1;
    err = rbd_open (r->io, r->name.image, &r->image, NULL);
  }
  if (err == -ENOENT && o->no_create) {
    report_error ("%s: the image does not exist (and --no-create)",
                  r->t.path);
    errno = ENOENT;
    return -1;
  }
  if (err < 0) {
    r->image = NULL;
    return image_error (r, "cannot open the image", err);
  }
  return 0;
}

static bool
has_parent (rbd_image_t image)
{
  rbd_linked_image_spec_t parent;
  rbd_snap_spec_t snap;

  if (rbd_get_parent (image, &parent, &snap) < 0)
    return false;
  rbd_linked_image_spec_cleanup (&parent);
  rbd_snap_spec_cleanup (&snap);
  return true;
}

/* The facts the planner decides from (see the top of this file). */
static int
probe_image (struct rbd_target *r, uint64_t source_size)
{
  struct device_facts *f = &r->t.facts;
  rbd_image_info_t info = { .obj_size = 4 << 20 };
  int err, major, minor, extra;

  f->kind = TARGET_RBD;
  f->driver = DRIVER_RBD;
  f->logical_block_size = 512;
  f->rotational = -1;
  f->can_write_zeroes = true;
  f->can_trim = true;
  if (r->image == NULL)         /* --dry-run, would be created */
    info.size = source_size;
  else if ((err = rbd_stat (r->image, &info, sizeof info)) < 0)
    return image_error (r, "rbd_stat", err);
  f->size = info.size;
  f->physical_block_size = info.obj_size;
  f->discard_granularity = info.obj_size;
  f->discard_max_bytes = UINT64_MAX;
  f->rbd_clone = r->image != NULL && has_parent (r->image);
  snprintf (f->name, sizeof f->name, "%s", r->name.image);
  rbd_version (&major, &minor, &extra);
  snprintf (f->remote_info, sizeof f->remote_info,
            "librbd %d.%d.%d, %" PRIu64 "-byte objects%s", major, minor,
            extra, (uint64_t) info.obj_size, f->rbd_clone ? ", a clone" : "");
  return 0;
}

struct target *
target_rbd_open (const char *name, const struct target_options *o)
{
  struct rbd_target *r = calloc (1, sizeof *r);

  if (r == NULL) {
    report_error ("%s: %m", name);
    return NULL;
  }
  r->t.ops = &rbd_ops;
  r->t.path = name;
  if (rbd_name_parse (name, &r->name) == -1) {
    free (r);
    return NULL;
  }
  if (connect_cluster (r) == -1 || open_pool (r) == -1
      || open_image (r, o) == -1 || probe_image (r, o->source_size) == -1
      || target_check_size (&r->t, o->source_size) == -1) {
    target_close (&r->t);
    return NULL;
  }
  return &r->t;
}

/* Wait for C, release it.  Returns librbd's result (>= 0 or -errno). */
static ssize_t
finish (rbd_completion_t c)
{
  ssize_t ret;

  rbd_aio_wait_for_complete (c);
  ret = rbd_aio_get_return_value (c);
  rbd_aio_release (c);
  return ret;
}

/* A completion for one request, in *C.  Returns 0 or -errno. */
static int
new_completion (rbd_completion_t *c)
{
  return rbd_aio_create_completion (NULL, NULL, c);
}

/* C was given to an aio call that returned STARTED (0 or -errno): wait
 * for it.  Returns librbd's result (>= 0 or -errno).
 */
static ssize_t
complete (rbd_completion_t c, int started)
{
  if (started < 0) {
    rbd_aio_release (c);
    return started;
  }
  return finish (c);
}

static int
data_error (struct target *t, const char *op, ssize_t err, uint64_t offset)
{
  errno = -err;
  report_error ("%s: %s failed at offset %" PRIu64 ": %m", t->path, op,
                offset);
  errno = -err;
  return -1;
}

/* librbd's -errno as -1 with errno, unreported. */
static int
errno_result (ssize_t r)
{
  if (r < 0) {
    errno = -r;
    return -1;
  }
  return 0;
}

/* One write, waited for: 0, or -1 with errno (not reported). */
static int
rbd_raw_write (struct target *t, const void *buf, size_t count,
               uint64_t offset)
{
  rbd_completion_t c;
  ssize_t r = new_completion (&c);

  if (r == 0)
    r = complete (c, rbd_aio_write (rbd_of (t)->image, offset, count, buf,
                                    c));
  return errno_result (r);
}

static int
rbd_target_pwrite (struct target *t, const void *buf, size_t count,
                   uint64_t offset)
{
  if (rbd_raw_write (t, buf, count, offset) == -1)
    return data_error (t, "write", -errno, offset);
  return 0;
}

static int
rbd_target_pread (struct target *t, void *buf, size_t count, uint64_t offset)
{
  rbd_completion_t c;
  ssize_t r = new_completion (&c);

  if (r == 0)
    r = complete (c, rbd_aio_read (rbd_of (t)->image, offset, count, buf, c));
  if (r >= 0 && (size_t) r != count)
    r = -EIO;
  return r < 0 ? data_error (t, "read", r, offset) : 0;
}

/* The zeroing operations: -1 with errno, unreported. */
static int
rbd_target_punch (struct target *t, uint64_t offset, uint64_t length)
{
  rbd_completion_t c;
  ssize_t r = new_completion (&c);

  if (r == 0)
    r = complete (c, rbd_aio_write_zeroes (rbd_of (t)->image, offset, length,
                                           c, 0, 0));
  return errno_result (r);
}

static int
rbd_target_discard (struct target *t, uint64_t offset, uint64_t length)
{
  rbd_completion_t c;
  ssize_t r = new_completion (&c);

  if (r == 0)
    r = complete (c, rbd_aio_discard (rbd_of (t)->image, offset, length, c));
  return errno_result (r);
}

static int
rbd_target_write_zeros (struct target *t, uint64_t offset, uint64_t length)
{
  return target_write_zero_buffers (t, offset, length, rbd_raw_write);
}

static int
rbd_target_flush (struct target *t)
{
  struct rbd_target *r = rbd_of (t);
  int err;

  if (r->image == NULL)
    return 0;
  err = rbd_flush (r->image);
  return err < 0 ? data_error (t, "flush", err, 0) : 0;
}

static int
rbd_target_close (struct target *t)
{
  struct rbd_target *r = rbd_of (t);
  int err = 0;

  if (r->image != NULL)
    err = rbd_close (r->image);
  if (err < 0)
    data_error (t, "close", err, 0);
  if (r->have_io)
    rados_ioctx_destroy (r->io);
  if (r->connected)
    rados_shutdown (r->cluster);
  rbd_name_free (&r->name);
  free (r);
  return err < 0 ? -1 : 0;
}

static const struct target_ops rbd_ops = {
  .name = "rbd",
  .pwrite = rbd_target_pwrite,
  .pread = rbd_target_pread,
  .punch = rbd_target_punch,
  .discard = rbd_target_discard,
  .write_zeros = rbd_target_write_zeros,
  .flush = rbd_target_flush,
  .close = rbd_target_close,
};
