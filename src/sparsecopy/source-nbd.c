/* An NBD export as the source (see source.h): pieces follow its
 * base:allocation block status (NBD_STATE_ZERO is a hole), and workers
 * read them in parallel over one connection (nbd-conn.h).  Without block
 * status, the whole export is data.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "error.h"
#include "nbd-conn.h"
#include "rounding.h"
#include "source.h"

struct nbd_source {
  struct source source;         /* first: the interface */
  struct nbd_conn *conn;
  uint64_t cursor;              /* the next offset to hand out */
  uint64_t run_end;             /* the extent at the cursor ends here */
  bool run_zero;                /* and reads as zeros */
};

static struct nbd_source *
nbd_source_of (struct source *s)
{
  return (struct nbd_source *) s;
}

static void
report_failure (struct nbd_source *ns, const char *what, uint64_t offset)
{
  report_error ("%s: %s failed at offset %" PRIu64 ": %s", ns->source.path,
                what, offset, nbd_conn_why (ns->conn, errno));
}

/* The extent at OFFSET: where it ends, whether it reads zero. */
static int
extent_at (struct nbd_source *ns, uint64_t offset, uint64_t *end, bool *zero)
{
  uint64_t length = ns->source.size - offset;

  if (nbd_conn_extent (ns->conn, offset, &length, zero) == -1) {
    report_failure (ns, "block status", offset);
    return -1;
  }
  *end = offset + length;
  return 0;
}

/* A hole smaller than a block is read as data (as source-image.c does). */
static int
nbd_source_next (struct source *s, const struct source_cut *cut,
                 struct source_piece *p)
{
  struct nbd_source *ns = nbd_source_of (s);
  uint64_t end;

  if (ns->cursor >= s->size)
    return 0;
  if (ns->cursor >= ns->run_end
      && extent_at (ns, ns->cursor, &ns->run_end, &ns->run_zero) == -1)
    return -1;
  p->offset = ns->cursor;
  p->type = SOURCE_PIECE_DATA;
  end = MIN (ns->run_end, ns->cursor + (ns->run_zero ? cut->hole_max
                                                     : cut->data_max));
  if (ns->run_zero && round_down (end, cut->block) > ns->cursor) {
    p->type = SOURCE_PIECE_HOLE;
    end = round_down (end, cut->block);
  }
  else
    end = MIN (s->size, round_up (end, cut->block));
  p->length = end - ns->cursor;
  ns->cursor = end;
  return 1;
}

static int
nbd_source_pread (struct source *s, void *buf, size_t count,
                  uint64_t offset, uint64_t *good)
{
  struct nbd_source *ns = nbd_source_of (s);

  if (good)
    *good = 0;
  if (nbd_conn_pread (ns->conn, buf, count, offset) == -1) {
    report_failure (ns, "read", offset);
    return -1;
  }
  if (good)
    *good = count;
  return 0;
}

static int
nbd_source_read (struct source *s, const struct source_piece *p, void *buf,
                 uint64_t *good)
{
  return nbd_source_pread (s, buf, p->length, p->offset, good);
}

static void
nbd_source_rewind (struct source *s)
{
  struct nbd_source *ns = nbd_source_of (s);

  ns->cursor = 0;
  ns->run_end = 0;
}

static int
nbd_source_data_bytes (struct source *s, uint64_t *bytes)
{
  struct nbd_source *ns = nbd_source_of (s);
  uint64_t offset, end;
  bool zero;

  *bytes = 0;
  for (offset = 0; offset < s->size; offset = end) {
    if (extent_at (ns, offset, &end, &zero) == -1)
      return -1;
    if (!zero)
      *bytes += end - offset;
  }
  return 0;
}

static void
nbd_source_close (struct source *s)
{
  nbd_conn_close (nbd_source_of (s)->conn);
  free (s);
}

static const struct source_ops nbd_source_ops = {
  .next = nbd_source_next,
  .read = nbd_source_read,
  .rewind = nbd_source_rewind,
  .pread = nbd_source_pread,
  .data_bytes = nbd_source_data_bytes,
  .close = nbd_source_close,
};

struct source *
source_nbd_open (const char *uri)
{
  struct nbd_source *ns = calloc (1, sizeof *ns);
  struct nbd_export_info info;

  if (ns == NULL) {
    report_error ("%s: %m", uri);
    return NULL;
  }
  ns->source.ops = &nbd_source_ops;
  ns->source.path = uri;
  ns->source.format = "raw";
  ns->conn = nbd_conn_open (uri);
  if (ns->conn == NULL) {
    free (ns);
    return NULL;
  }
  nbd_conn_info (ns->conn, &info);
  ns->source.size = info.size;
  ns->source.size_known = true;
  ns->source.in_order = true;
  return &ns->source;
}
