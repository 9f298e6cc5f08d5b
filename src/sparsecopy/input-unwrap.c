/* Compressed wrappers around a streamed source (see input.h): gzip (zlib),
 * xz (liblzma) and zstd, each found by its magic.  Concatenated members
 * (gzip, xz) and frames (zstd) are read one after the other, as the
 * command-line tools do.
 */
#include <config.h>

#include <errno.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "input.h"

#define INPUT_CHUNK (256 * 1024)

enum wrapper { WRAP_GZIP, WRAP_XZ, WRAP_ZSTD };

struct unwrap {
  struct input input;           /* first: the interface */
  struct input *inner;
  enum wrapper kind;
  unsigned char *in;            /* compressed bytes read, not yet used */
  size_t in_len, in_used;
  bool inner_ended;
  bool frame_ended;             /* between members: the end may come */
  z_stream gz;
  lzma_stream xz;
  ZSTD_DStream *zstd;
};

static const struct {
  enum wrapper kind;
  const char *name;
  unsigned char magic[6];
  size_t magic_len;
} wrappers[] = {
  { WRAP_GZIP, "gzip", { 0x1f, 0x8b }, 2 },
  { WRAP_XZ, "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6 },
  { WRAP_ZSTD, "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
};

/* More compressed bytes; 0 at the end of the inner input. */
static ssize_t
refill (struct unwrap *u)
{
  ssize_t n;

  if (u->in_used < u->in_len)
    return u->in_len - u->in_used;
  if (u->inner_ended)
    return 0;
  n = input_read (u->inner, u->in, INPUT_CHUNK);
  if (n == -1)
    return -1;
  if (n == 0)
    u->inner_ended = true;
  u->in_len = n;
  u->in_used = 0;
  return n;
}

static int
corrupt (struct unwrap *u, const char *why)
{
  report_error ("%s: %s data: %s", u->input.path, u->input.wrapper, why);
  errno = EINVAL;
  return -1;
}

/* One step of the decoder: from in[in_used..] into OUT; sets *MADE and
 * whether a member or frame ended.
 */
static int
decode (struct unwrap *u, void *out, size_t count, size_t *made)
{
  size_t avail = u->in_len - u->in_used;
  int zr;
  lzma_ret lr;
  size_t zs;

  switch (u->kind) {
  case WRAP_GZIP:
    u->gz.next_in = u->in + u->in_used;
    u->gz.avail_in = avail;
    u->gz.next_out = out;
    u->gz.avail_out = count;
    zr = inflate (&u->gz, Z_NO_FLUSH);
    u->in_used += avail - u->gz.avail_in;
    *made = count - u->gz.avail_out;
    if (zr == Z_STREAM_END) {
      inflateReset (&u->gz);
      u->frame_ended = true;
    }
    else if (zr != Z_OK && zr != Z_BUF_ERROR)
      return corrupt (u, u->gz.msg ? u->gz.msg : "inflate failed");
    return 0;
  case WRAP_XZ:
    u->xz.next_in = u->in + u->in_used;
    u->xz.avail_in = avail;
    u->xz.next_out = out;
    u->xz.avail_out = count;
    lr = lzma_code (&u->xz, LZMA_RUN);
    u->in_used += avail - u->xz.avail_in;
    *made = count - u->xz.avail_out;
    if (lr == LZMA_STREAM_END) {
      /* A new decoder for a stream that may follow. */
      lzma_end (&u->xz);
      if (lzma_stream_decoder (&u->xz, UINT64_MAX, 0) != LZMA_OK)
        return corrupt (u, "cannot restart the decoder");
      u->frame_ended = true;
    }
    else if (lr != LZMA_OK && lr != LZMA_BUF_ERROR)
      return corrupt (u, "lzma_code failed");
    return 0;
  case WRAP_ZSTD: {
    ZSTD_inBuffer zin = { u->in + u->in_used, avail, 0 };
    ZSTD_outBuffer zout = { out, count, 0 };
    zs = ZSTD_decompressStream (u->zstd, &zout, &zin);
    u->in_used += zin.pos;
    *made = zout.pos;
    if (ZSTD_isError (zs))
      return corrupt (u, ZSTD_getErrorName (zs));
    u->frame_ended = zs == 0;
    return 0;
  }
  }
  return 0;
}

static ssize_t
unwrap_read (struct input *in, void *buf, size_t count)
{
  struct unwrap *u = (struct unwrap *) in;
  size_t made = 0;
  ssize_t n;

  while (made == 0) {
    n = refill (u);
    if (n == -1)
      return -1;
    if (n == 0) {
      if (u->frame_ended)
        return 0;
      report_error ("%s: the %s stream ended in the middle (%s)", in->path,
                    in->wrapper, "truncated");
      errno = EIO;
      return -1;
    }
    u->frame_ended = false;
    if (decode (u, buf, count, &made) == -1)
      return -1;
  }
  return made;
}

static void
unwrap_close (struct input *in)
{
  struct unwrap *u = (struct unwrap *) in;

  inflateEnd (&u->gz);
  lzma_end (&u->xz);
  ZSTD_freeDStream (u->zstd);
  input_close (u->inner);
  free (u->in);
  free (u);
}

static const struct input_ops unwrap_ops = {
  .read = unwrap_read, .close = unwrap_close,
};

static int
start_decoder (struct unwrap *u)
{
  switch (u->kind) {
  case WRAP_GZIP:
    return inflateInit2 (&u->gz, 16 + MAX_WBITS) == Z_OK ? 0 : -1;
  case WRAP_XZ:
    return lzma_stream_decoder (&u->xz, UINT64_MAX, 0) == LZMA_OK ? 0 : -1;
  case WRAP_ZSTD:
    u->zstd = ZSTD_createDStream ();
    return u->zstd == NULL ? -1 : 0;
  }
  return -1;
}

/* The wrapper whose magic starts U's input, or -1. */
static int
which_wrapper (struct unwrap *u)
{
  size_t i;

  for (i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++)
    if (u->in_len >= wrappers[i].magic_len
        && memcmp (u->in, wrappers[i].magic, wrappers[i].magic_len) == 0)
      return i;
  return -1;
}

/* Read the first bytes of IN (at least 6 unless it ends first). */
static int
read_start (struct unwrap *u)
{
  ssize_t n;

  while (u->in_len < 6 && !u->inner_ended) {
    n = input_read (u->inner, u->in + u->in_len, INPUT_CHUNK - u->in_len);
    if (n == -1)
      return -1;
    if (n == 0)
      u->inner_ended = true;
    u->in_len += n;
  }
  return 0;
}

/* Not wrapped: the bytes already read are handed out first. */
static ssize_t
plain_read (struct input *in, void *buf, size_t count)
{
  struct unwrap *u = (struct unwrap *) in;
  size_t n;

  if (u->in_used == u->in_len)
    return input_read (u->inner, buf, count);
  n = count < u->in_len - u->in_used ? count : u->in_len - u->in_used;
  memcpy (buf, u->in + u->in_used, n);
  u->in_used += n;
  return n;
}

static int
plain_pread (struct input *in, void *buf, size_t count, uint64_t offset)
{
  struct unwrap *u = (struct unwrap *) in;

  return u->inner->ops->pread (u->inner, buf, count, offset);
}

static const struct input_ops plain_ops = {
  .read = plain_read, .pread = plain_pread, .close = unwrap_close,
};

struct input *
input_unwrap (struct input *inner)
{
  static const lzma_stream xz_init = LZMA_STREAM_INIT;
  struct unwrap *u = calloc (1, sizeof *u);
  int w;

  if (u == NULL || (u->in = malloc (INPUT_CHUNK)) == NULL) {
    report_error ("%s: %m", inner->path);
    free (u);
    input_close (inner);
    return NULL;
  }
  u->inner = inner;
  u->input = (struct input) { .ops = &plain_ops, .path = inner->path };
  if (read_start (u) == -1)
    goto fail;
  u->xz = xz_init;
  w = which_wrapper (u);
  if (w == -1) {
    u->input.can_pread = inner->can_pread;
    return &u->input;
  }
  u->kind = wrappers[w].kind;
  u->input.ops = &unwrap_ops;
  u->input.wrapper = wrappers[w].name;
  if (start_decoder (u) == -1) {
    report_error ("%s: cannot start the %s decompressor", inner->path,
                  u->input.wrapper);
    goto fail;
  }
  return &u->input;

 fail:
  unwrap_close (&u->input);
  return NULL;
}
