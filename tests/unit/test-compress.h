/* For unit tests: compressed cluster payloads made the way qemu makes them
 * (block/qcow2-threads.c): raw deflate with window bits -12 and memLevel 9,
 * and zstd frames without checksum.  Include after <cmocka.h>.
 */
#ifndef SPARSEFS_TEST_COMPRESS_H
#define SPARSEFS_TEST_COMPRESS_H

#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

/* Raw deflate as qemu's qcow2_compress() writes it; the result has room
 * for SLACK more bytes after it.
 */
static inline unsigned char *
deflate_raw (const void *in, size_t in_size, size_t slack, size_t *out_size)
{
  z_stream s = { 0 };
  size_t bound;
  unsigned char *out;

  assert_int_equal (deflateInit2 (&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12,
                                  9, Z_DEFAULT_STRATEGY), Z_OK);
  bound = deflateBound (&s, in_size);
  out = malloc (bound + slack);
  assert_non_null (out);
  s.next_in = (Bytef *) in;
  s.avail_in = in_size;
  s.next_out = out;
  s.avail_out = bound;
  assert_int_equal (deflate (&s, Z_FINISH), Z_STREAM_END);
  *out_size = bound - s.avail_out;
  deflateEnd (&s);
  return out;
}

/* FRAMES zstd frames, one per equal part of IN, back to back. */
static inline unsigned char *
zstd_frames (const void *in, size_t in_size, unsigned frames, size_t slack,
             size_t *out_size)
{
  size_t part = in_size / frames, bound = 0, done = 0, i;
  unsigned char *out;

  for (i = 0; i < frames; i++)
    bound += ZSTD_compressBound (part);
  out = malloc (bound + slack);
  assert_non_null (out);
  for (i = 0; i < frames; i++) {
    size_t r = ZSTD_compress (out + done, bound - done,
                              (const char *) in + i * part, part, 3);

    assert_false (ZSTD_isError (r));
    done += r;
  }
  *out_size = done;
  return out;
}

#endif
