/* One connection to an NBD server, through libnbd, shared by every worker
 * thread: the target (target-nbd.c) and the source (source-nbd.c) both
 * speak through it.
 *
 * Each call below sends one request with libnbd's aio calls and waits for
 * its reply; one I/O thread drives the connection (libnbd's handle is
 * thread-safe, but its synchronous calls hold the handle's lock until the
 * reply, which would let one request out at a time).  So -j workers keep
 * -j requests in flight on the one connection.
 *
 * Why one connection rather than one per worker (multi-conn): a server
 * need not take a second client (qemu-nbd serves one at a time unless
 * started with --shared), and without the server's multi-conn promise a
 * flush on one connection does not cover writes made on another, nor does
 * a read on one see them (--verify).  One connection works with every
 * server, and the requests in flight are what makes the copy fast.
 *
 * Calls return 0, or -1 with errno (not reported): the server's error, or
 * ENOTCONN once the connection died; nbd_conn_why() says why in words.
 */
#ifndef SPARSECOPY_NBD_CONN_H
#define SPARSECOPY_NBD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nbd_conn;

/* Whether NAME is an NBD URI: nbd://, nbds://, nbd+unix://, nbds+unix://. */
bool nbd_conn_is_uri (const char *name);

/* Connect to URI, asking for the base:allocation context.  Returns the
 * connection, or NULL (reported as "URI: connect: why").
 */
struct nbd_conn *nbd_conn_open (const char *uri);

/* Close it (a clean disconnect if the connection lives).  NULL is fine. */
void nbd_conn_close (struct nbd_conn *c);

/* What the server said in the handshake. */
struct nbd_export_info {
  uint64_t size;
  uint32_t min_block;           /* at least 1 */
  uint32_t preferred_block;
  uint32_t max_request;         /* bytes of one read or write */
  bool read_only;
  bool can_flush, can_zero, can_fast_zero, can_trim, can_multi_conn;
  bool has_allocation;          /* base:allocation block status */
  const char *protocol;         /* "newstyle-fixed", ... */
};

void nbd_conn_info (struct nbd_conn *c, struct nbd_export_info *info);

/* Requests.  Counts may be larger than info.max_request (reads and writes)
 * or 2^31 (zeroes): they are split here.
 */
int nbd_conn_pread (struct nbd_conn *c, void *buf, size_t count,
                    uint64_t offset);
int nbd_conn_pwrite (struct nbd_conn *c, const void *buf, size_t count,
                     uint64_t offset);
int nbd_conn_zero (struct nbd_conn *c, uint64_t offset, uint64_t length,
                   bool fast);
int nbd_conn_flush (struct nbd_conn *c);

/* The allocation at OFFSET: *ZERO whether it reads as zeros, *LENGTH how
 * far that holds (at most LENGTH going in, at least 1).  Without
 * base:allocation, everything is data.
 */
int nbd_conn_extent (struct nbd_conn *c, uint64_t offset, uint64_t *length,
                     bool *zero);

/* Why the last call failed with ERR, in words: the reason the connection
 * died, or strerror (ERR).
 */
const char *nbd_conn_why (struct nbd_conn *c, int err);

#endif
