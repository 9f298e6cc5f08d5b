#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "decompress.h"
#include "error.h"
#include "qcow2-format.h"

/* Decide exactly as qemu does: window bits -12, and a full output buffer is
 * success even if the stream goes on.
 */
static int
inflate_with_zlib (void *out, size_t out_size, const void *in, size_t in_size)
{
  z_stream s = { 0 };
  int r;

  if (inflateInit2 (&s, -12) != Z_OK)
    return -1;
  s.next_in = (Bytef *) in;
  s.avail_in = in_size;
  s.next_out = out;
  s.avail_out = out_size;
  r = inflate (&s, Z_FINISH);
  inflateEnd (&s);
  if ((r == Z_STREAM_END || r == Z_BUF_ERROR) && s.avail_out == 0)
    return 0;
  return -1;
}

#ifdef HAVE_LIBDEFLATE
/* libdeflate decodes a whole buffer about twice as fast as zlib.  A
 * decompressor holds ~32 KiB of tables: keep one per thread.
 */
static pthread_key_t decompressor_key;
static pthread_once_t decompressor_once = PTHREAD_ONCE_INIT;

static void
free_decompressor (void *d)
{
  libdeflate_free_decompressor (d);
}

static void
make_decompressor_key (void)
{
  pthread_key_create (&decompressor_key, free_decompressor);
}

static struct libdeflate_decompressor *
thread_decompressor (void)
{
  struct libdeflate_decompressor *d;

  pthread_once (&decompressor_once, make_decompressor_key);
  d = pthread_getspecific (decompressor_key);
  if (d == NULL) {
    d = libdeflate_alloc_decompressor ();
    if (d != NULL)
      pthread_setspecific (decompressor_key, d);
  }
  return d;
}

int
inflate_cluster (void *out, size_t out_size, const void *in, size_t in_size)
{
  struct libdeflate_decompressor *d = thread_decompressor ();
  size_t in_used, out_made;

  if (d != NULL &&
      libdeflate_deflate_decompress_ex (d, in, in_size,
                                        out, out_size, &in_used, &out_made)
      == LIBDEFLATE_SUCCESS && out_made == out_size)
    return 0;
  /* Anything unusual (a stream longer than the cluster, a truncated one)
   * is judged by zlib, the way qemu judges it.
   */
  return inflate_with_zlib (out, out_size, in, in_size);
}
#else
int
inflate_cluster (void *out, size_t out_size, const void *in, size_t in_size)
{
  return inflate_with_zlib (out, out_size, in, in_size);
}
#endif

/* A decompression context is ~100 KiB to set up: keep one per thread. */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void
free_dctx (void *dctx)
{
  ZSTD_freeDCtx (dctx);
}

static void
make_dctx_key (void)
{
  pthread_key_create (&dctx_key, free_dctx);
}

static ZSTD_DCtx *
thread_dctx (void)
{
  ZSTD_DCtx *dctx;

  pthread_once (&dctx_once, make_dctx_key);
  dctx = pthread_getspecific (dctx_key);
  if (dctx == NULL) {
    dctx = ZSTD_createDCtx ();
    if (dctx != NULL)
      pthread_setspecific (dctx_key, dctx);
  }
  return dctx;
}

int
unzstd_cluster (void *out, size_t out_size, const void *in, size_t in_size)
{
  ZSTD_DCtx *dctx = thread_dctx ();
  ZSTD_outBuffer output = { out, out_size, 0 };
  ZSTD_inBuffer input = { in, in_size, 0 };
  size_t r = 0;
  int result = -1;

  if (dctx == NULL)
    return -1;
  ZSTD_DCtx_reset (dctx, ZSTD_reset_session_only);
  while (output.pos < output.size) {
    size_t in_before = input.pos, out_before = output.pos;

    r = ZSTD_decompressStream (dctx, &output, &input);
    if (ZSTD_isError (r))
      break;
    if (input.pos == in_before && output.pos == out_before)
      break;                    /* no progress: truncated payload */
  }
  /* As qemu: the frame must end with the cluster; a frame that holds more
   * than a cluster is damage.
   */
  if (output.pos == output.size && r == 0)
    result = 0;
  return result;
}

int
decompress_cluster (const struct compressed_cluster *c, void *out,
                    size_t out_size, const void *in, size_t in_size)
{
  bool zstd = c->compression_type == QCOW2_COMPRESSION_ZSTD;
  int r = zstd ? unzstd_cluster (out, out_size, in, in_size)
               : inflate_cluster (out, out_size, in, in_size);

  if (r == -1) {
    report_error ("%s: L2 entry %" PRIu64 " of L1 entry %" PRIu64 ": "
                  "compressed cluster at 0x%" PRIx64 " (%zu bytes) does not "
                  "decompress to %zu bytes (%s)", c->path, c->l2_index,
                  c->l1_index, c->host, in_size, out_size,
                  zstd ? "zstd" : "zlib");
    errno = EIO;
  }
  return r;
}
