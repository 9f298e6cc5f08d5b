/* The NBD endpoint: an export on an NBD server, through libnbd (see
 * target.h; the connection and its parallel requests are nbd-conn.c's).
 *
 * Holes (the planner's remote ladder): punch is NBD_CMD_WRITE_ZEROES
 * without NO_HOLE, so the server may punch, with FAST_ZERO where the server
 * offers it (a server that would have to write the zeros refuses with
 * ENOTSUP, and the zeroer drops to zeroout); zeroout is WRITE_ZEROES
 * without FAST_ZERO; write sends zero buffers.  Discard is never offered:
 * an NBD trim leaves the range's content undefined.
 *
 * An export whose block status says every byte reads zero (base:allocation,
 * NBD_STATE_ZERO over the whole export) is taken as --target-is-zero.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "nbd-conn.h"
#include "target.h"

struct nbd_target {
  struct target t;              /* first: the ops get &t */
  struct nbd_conn *conn;
  bool fast_zero;               /* FAST_ZERO on punch */
};

static const struct target_ops nbd_ops;

static struct nbd_target *
nbd_of (struct target *t)
{
  return (struct nbd_target *) t;
}

static void
report_failure (struct target *t, const char *op, uint64_t offset)
{
  int err = errno;

  report_error ("%s: %s failed at offset %" PRIu64 ": %s", t->path, op,
                offset, nbd_conn_why (nbd_of (t)->conn, err));
  errno = err;
}

static int
nbd_raw_write (struct target *t, const void *buf, size_t count,
               uint64_t offset)
{
  return nbd_conn_pwrite (nbd_of (t)->conn, buf, count, offset);
}

static int
nbd_pwrite (struct target *t, const void *buf, size_t count,
            uint64_t offset)
{
  if (nbd_raw_write (t, buf, count, offset) == -1) {
    report_failure (t, "write", offset);
    return -1;
  }
  return 0;
}

static int
nbd_pread (struct target *t, void *buf, size_t count, uint64_t offset)
{
  if (nbd_conn_pread (nbd_of (t)->conn, buf, count, offset) == -1) {
    report_failure (t, "read", offset);
    return -1;
  }
  return 0;
}

static int
nbd_punch (struct target *t, uint64_t offset, uint64_t length)
{
  struct nbd_target *n = nbd_of (t);

  return nbd_conn_zero (n->conn, offset, length, n->fast_zero);
}

static int
nbd_zeroout (struct target *t, uint64_t offset, uint64_t length)
{
  return nbd_conn_zero (nbd_of (t)->conn, offset, length, false);
}

static int
nbd_write_zeros (struct target *t, uint64_t offset, uint64_t length)
{
  return target_write_zero_buffers (t, offset, length, nbd_raw_write);
}

static int
nbd_flush (struct target *t)
{
  if (nbd_conn_flush (nbd_of (t)->conn) == -1) {
    report_error ("%s: flush failed: %s", t->path,
                  nbd_conn_why (nbd_of (t)->conn, errno));
    return -1;
  }
  return 0;
}

static int
nbd_close (struct target *t)
{
  nbd_conn_close (nbd_of (t)->conn);
  free (t);
  return 0;
}

static const struct target_ops nbd_ops = {
  .name = "nbd",
  .pwrite = nbd_pwrite,
  .pread = nbd_pread,
  .punch = nbd_punch,
  .zeroout = nbd_zeroout,
  .write_zeros = nbd_write_zeros,
  .flush = nbd_flush,
  .close = nbd_close,
};

/* Whether block status says the whole export reads zeros.  Stops at the
 * first extent that does not.  Returns 1, 0, or -1 (reported).
 */
static int
export_reads_zero (struct nbd_target *n)
{
  uint64_t offset = 0, size = n->t.facts.size, length;
  bool zero = true;

  while (offset < size && zero) {
    length = size - offset;
    if (nbd_conn_extent (n->conn, offset, &length, &zero) == -1) {
      report_failure (&n->t, "block status", offset);
      return -1;
    }
    offset += length;
  }
  return zero;
}

static void
fill_facts (struct nbd_target *n, const struct nbd_export_info *i)
{
  struct device_facts *f = &n->t.facts;

  f->kind = TARGET_NBD;
  f->size = i->size;
  f->logical_block_size = i->min_block;
  f->physical_block_size = i->preferred_block;
  f->rotational = -1;
  f->can_write_zeroes = i->can_zero;
  f->can_fast_zero = i->can_zero && i->can_fast_zero;
  f->can_trim = i->can_trim;
  f->can_multi_conn = i->can_multi_conn;
  snprintf (f->remote_info, sizeof f->remote_info, "%s%s", i->protocol,
            i->has_allocation ? ", base:allocation" : "");
  n->fast_zero = f->can_fast_zero;
}

static int
probe_export (struct nbd_target *n, const struct target_options *o)
{
  struct nbd_export_info info;
  int zero;

  nbd_conn_info (n->conn, &info);
  fill_facts (n, &info);
  if (info.read_only && !o->dry_run) {
    report_error ("%s: the export is read-only", n->t.path);
    errno = EROFS;
    return -1;
  }
  if (target_check_size (&n->t, o->source_size) == -1)
    return -1;
  zero = export_reads_zero (n);
  if (zero == -1)
    return -1;
  n->t.reads_zero = zero;
  n->t.facts.all_zero = zero;
  return 0;
}

struct target *
target_nbd_open (const char *uri, const struct target_options *o)
{
  struct nbd_target *n = calloc (1, sizeof *n);

  if (n == NULL) {
    report_error ("%s: %m", uri);
    return NULL;
  }
  n->t.ops = &nbd_ops;
  n->t.path = uri;
  n->conn = nbd_conn_open (uri);
  if (n->conn == NULL || probe_export (n, o) == -1) {
    nbd_close (&n->t);
    return NULL;
  }
  return &n->t;
}
