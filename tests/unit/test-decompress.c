/* inflate_cluster() and unzstd_cluster(): payloads made here the way qemu
 * makes them (raw deflate with window bits -12, memLevel 9; zstd frames
 * without checksum), for every cluster size.  Success means exactly one
 * cluster came out; what follows the payload in its last sector is
 * ignored.  Where the two differ, qemu 7.2's qcow2_zlib_decompress() and
 * qcow2_zstd_decompress() decide (checked with qemu-img on edited images).
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "decompress.h"

#define MIN_BITS 9
#define MAX_BITS 21

/* Deterministic data that compresses, but not to nothing: runs and
 * pseudo-random text.
 */
static unsigned char *
make_data (size_t size, uint32_t seed)
{
  unsigned char *p = malloc (size);
  uint32_t x = seed * 2654435761u + 1;
  size_t i;

  assert_non_null (p);
  for (i = 0; i < size; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (i / 64) % 5 == 0 ? 0 : "abcdefgh ,.\n0123"[(x >> 16) & 15];
  }
  return p;
}

/* Random bytes: not a valid stream of either kind. */
static unsigned char *
make_noise (size_t size, uint32_t seed)
{
  unsigned char *p = malloc (size);
  uint32_t x = seed;
  size_t i;

  assert_non_null (p);
  for (i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = x;
  }
  return p;
}

/* Raw deflate as qemu's qcow2_compress() writes it; the result has room
 * for SLACK more bytes after it.
 */
static unsigned char *
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
static unsigned char *
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

typedef int (*decompress_fn) (void *, size_t, const void *, size_t);

/* Decode into an exact-size buffer; on success compare with EXPECTED. */
static int
decode (decompress_fn fn, size_t out_size, const void *in, size_t in_size,
        const void *expected)
{
  unsigned char *out = malloc (out_size);
  int r;

  assert_non_null (out);
  r = fn (out, out_size, in, in_size);
  if (r == 0 && expected)
    assert_memory_equal (out, expected, out_size);
  free (out);
  return r;
}

/* ---- deflate ---- */

static void
test_deflate_round_trip (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb);
    unsigned char *z = deflate_raw (data, cluster, 0, &clen);

    assert_true (clen < cluster);
    assert_int_equal (decode (inflate_cluster, cluster, z, clen, data), 0);
    free (z);
    free (data);
  }
}

/* The payload is read in whole sectors: the rest of the last sector holds
 * whatever follows (often the next compressed cluster).
 */
static void
test_deflate_trailing_padding (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb + 100);
    unsigned char *z = deflate_raw (data, cluster, 511, &clen);

    memset (z + clen, 0xa5, 511);
    assert_int_equal (decode (inflate_cluster, cluster, z, clen + 511, data),
                      0);
    memset (z + clen, 0, 511);
    assert_int_equal (decode (inflate_cluster, cluster, z, clen + 1, data), 0);
    free (z);
    free (data);
  }
}

static void
test_deflate_truncated (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb);
    unsigned char *z = deflate_raw (data, cluster, 0, &clen);

    assert_int_equal (decode (inflate_cluster, cluster, z, clen / 2, NULL), -1);
    assert_int_equal (decode (inflate_cluster, cluster, z, 1, NULL), -1);
    assert_int_equal (decode (inflate_cluster, cluster, z, 0, NULL), -1);
    free (z);
    free (data);
  }
}

static void
test_deflate_garbage (void **state)
{
  size_t cluster = 65536;
  unsigned char *ones = malloc (4096);
  unsigned char *noise = make_noise (4096, 12345);
  unsigned char *data = make_data (cluster, 7);
  unsigned char *wrapped = malloc (compressBound (cluster));
  uLongf wrapped_len = compressBound (cluster);

  assert_non_null (ones);
  assert_non_null (wrapped);
  /* 0xff: a final block of the reserved type 3. */
  memset (ones, 0xff, 4096);
  assert_int_equal (decode (inflate_cluster, cluster, ones, 4096, NULL), -1);
  assert_int_equal (decode (inflate_cluster, cluster, noise, 4096, NULL), -1);
  /* A zlib stream (with its 2-byte header) is not raw deflate. */
  assert_int_equal (compress (wrapped, &wrapped_len, data, cluster), Z_OK);
  assert_int_equal (decode (inflate_cluster, cluster, wrapped, wrapped_len,
                            NULL), -1);
  free (wrapped);
  free (data);
  free (noise);
  free (ones);
}

/* A stream that ends before a whole cluster came out fails. */
static void
test_deflate_short_output (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb);
    unsigned char *z = deflate_raw (data, cluster / 2, 0, &clen);

    assert_int_equal (decode (inflate_cluster, cluster, z, clen, NULL), -1);
    free (z);
    free (data);
  }
}

/* A stream longer than the cluster: qemu accepts a full output buffer
 * (Z_BUF_ERROR with avail_out 0), reading the cluster's bytes.
 */
static void
test_deflate_longer_stream (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (2 * cluster, cb);
    unsigned char *z = deflate_raw (data, 2 * cluster, 0, &clen);

    assert_int_equal (decode (inflate_cluster, cluster, z, clen, data), 0);
    free (z);
    free (data);
  }
}

/* ---- zstd ---- */

static void
test_zstd_round_trip (void **state)
{
  unsigned cb, frames;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++)
    for (frames = 1; frames <= 4; frames *= 2) {
      size_t cluster = (size_t) 1 << cb, clen;
      unsigned char *data = make_data (cluster, cb);
      unsigned char *z = zstd_frames (data, cluster, frames, 0, &clen);

      assert_int_equal (decode (unzstd_cluster, cluster, z, clen, data), 0);
      free (z);
      free (data);
    }
}

static void
test_zstd_trailing_padding (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb + 50);
    unsigned char *z = zstd_frames (data, cluster, 2, 511, &clen);

    memset (z + clen, 0xa5, 511);
    assert_int_equal (decode (unzstd_cluster, cluster, z, clen + 511, data), 0);
    memset (z + clen, 0, 511);
    assert_int_equal (decode (unzstd_cluster, cluster, z, clen + 511, data), 0);
    free (z);
    free (data);
  }
}

static void
test_zstd_truncated (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb);
    unsigned char *z = zstd_frames (data, cluster, 1, 0, &clen);

    assert_int_equal (decode (unzstd_cluster, cluster, z, clen / 2, NULL), -1);
    assert_int_equal (decode (unzstd_cluster, cluster, z, clen - 1, NULL), -1);
    assert_int_equal (decode (unzstd_cluster, cluster, z, 0, NULL), -1);
    free (z);
    free (data);
  }
}

static void
test_zstd_garbage (void **state)
{
  size_t cluster = 65536, dlen;
  unsigned char *noise = make_noise (4096, 999);
  unsigned char *data = make_data (cluster, 3);
  unsigned char *z = deflate_raw (data, cluster, 0, &dlen);

  assert_int_equal (decode (unzstd_cluster, cluster, noise, 4096, NULL), -1);
  /* A deflate payload in a zstd image. */
  assert_int_equal (decode (unzstd_cluster, cluster, z, dlen, NULL), -1);
  /* A good frame followed by garbage where a second frame should be. */
  free (z);
  z = zstd_frames (data, cluster / 2, 1, 4096, &dlen);
  memcpy (z + dlen, noise, 4096);
  assert_int_equal (decode (unzstd_cluster, cluster, z, dlen + 4096, NULL), -1);
  free (z);
  free (data);
  free (noise);
}

static void
test_zstd_short_output (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (cluster, cb);
    unsigned char *z = zstd_frames (data, cluster / 2, 1, 512, &clen);

    assert_int_equal (decode (unzstd_cluster, cluster, z, clen, NULL), -1);
    /* Zero padding after the frame does not make up the rest. */
    memset (z + clen, 0, 512);
    assert_int_equal (decode (unzstd_cluster, cluster, z, clen + 512, NULL),
                      -1);
    free (z);
    free (data);
  }
}

/* A frame longer than the cluster: qemu's qcow2_zstd_decompress() fails it
 * (the frame is not fully flushed when the cluster is full: zstd_ret > 0);
 * qemu-img convert reports an I/O error on such an image.
 */
static void
test_zstd_longer_frame_fails (void **state)
{
  unsigned cb;

  for (cb = MIN_BITS; cb <= MAX_BITS; cb++) {
    size_t cluster = (size_t) 1 << cb, clen;
    unsigned char *data = make_data (2 * cluster, cb);
    unsigned char *z = zstd_frames (data, 2 * cluster, 1, 0, &clen);
    int r = decode (unzstd_cluster, cluster, z, clen, NULL);

    free (z);
    free (data);
    if (r != -1)
      fail_msg ("cluster_bits %u: a zstd frame of %zu bytes decoded into a "
                "%zu-byte cluster", cb, 2 * cluster, cluster);
  }
}

/* ---- threads: each keeps its own decompressor ---- */

struct job {
  const unsigned char *data;
  const unsigned char *deflated, *zstd;
  size_t deflated_len, zstd_len, cluster;
  int failures;
};

static void *
decompress_many (void *arg)
{
  struct job *job = arg;
  unsigned char *out = malloc (job->cluster);
  int i;

  if (out == NULL)
    return NULL;
  for (i = 0; i < 50; i++) {
    memset (out, 0, job->cluster);
    if (inflate_cluster (out, job->cluster, job->deflated,
                         job->deflated_len) != 0
        || memcmp (out, job->data, job->cluster) != 0)
      job->failures++;
    memset (out, 0, job->cluster);
    if (unzstd_cluster (out, job->cluster, job->zstd, job->zstd_len) != 0
        || memcmp (out, job->data, job->cluster) != 0)
      job->failures++;
  }
  free (out);
  return NULL;
}

static void
test_threads (void **state)
{
  enum { THREADS = 4 };
  struct job jobs[THREADS];
  pthread_t threads[THREADS];
  int i;

  for (i = 0; i < THREADS; i++) {
    jobs[i].cluster = 65536;
    jobs[i].data = make_data (65536, 40 + i);
    jobs[i].deflated = deflate_raw (jobs[i].data, 65536, 0,
                                    &jobs[i].deflated_len);
    jobs[i].zstd = zstd_frames (jobs[i].data, 65536, 1, 0, &jobs[i].zstd_len);
    jobs[i].failures = 0;
  }
  for (i = 0; i < THREADS; i++)
    assert_int_equal (pthread_create (&threads[i], NULL, decompress_many,
                                      &jobs[i]), 0);
  for (i = 0; i < THREADS; i++) {
    assert_int_equal (pthread_join (threads[i], NULL), 0);
    assert_int_equal (jobs[i].failures, 0);
    free ((void *) jobs[i].data);
    free ((void *) jobs[i].deflated);
    free ((void *) jobs[i].zstd);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_deflate_round_trip),
    cmocka_unit_test (test_deflate_trailing_padding),
    cmocka_unit_test (test_deflate_truncated),
    cmocka_unit_test (test_deflate_garbage),
    cmocka_unit_test (test_deflate_short_output),
    cmocka_unit_test (test_deflate_longer_stream),
    cmocka_unit_test (test_zstd_round_trip),
    cmocka_unit_test (test_zstd_trailing_padding),
    cmocka_unit_test (test_zstd_truncated),
    cmocka_unit_test (test_zstd_garbage),
    cmocka_unit_test (test_zstd_short_output),
    cmocka_unit_test (test_zstd_longer_frame_fails),
    cmocka_unit_test (test_threads),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
