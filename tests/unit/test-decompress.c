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
#include "test-compress.h"

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

typedef int (*decompress_fn) (void *, size_t, const void *, size_t);

/* A payload format as qemu writes it. */
struct codec {
  const char *name;
  decompress_fn decompress;
  unsigned frames;              /* zstd: frames per payload; 0: deflate */
};

static const struct codec codecs[] = {
  { "deflate", inflate_cluster, 0 },
  { "zstd", unzstd_cluster, 1 },
  { "zstd, 2 frames", unzstd_cluster, 2 },
  { "zstd, 4 frames", unzstd_cluster, 4 },
};

#define FOR_EACH_CODEC(c) \
  for (c = codecs; c < codecs + sizeof codecs / sizeof codecs[0]; c++)

/* DATA (SIZE bytes) compressed by C, with room for SLACK bytes after. */
static unsigned char *
encode (const struct codec *c, const void *data, size_t size, size_t slack,
        size_t *len)
{
  return c->frames ? zstd_frames (data, size, c->frames, slack, len)
                   : deflate_raw (data, size, slack, len);
}

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

/* One cluster's payload: CONTENT bytes of data, compressed, room for 511
 * bytes after it (the rest of its last sector).
 */
struct payload {
  unsigned char *data;
  unsigned char *z;
  size_t len;
};

static void
make_payload (const struct codec *c, size_t content, uint32_t seed,
              struct payload *p)
{
  p->data = make_data (content, seed);
  p->z = encode (c, p->data, content, 511, &p->len);
}

static void
free_payload (struct payload *p)
{
  free (p->z);
  free (p->data);
}

#define FOR_EACH_CLUSTER_BITS(cb) for (cb = MIN_BITS; cb <= MAX_BITS; cb++)

/* Run CHECK, for each format and cluster size, on a payload holding
 * CONTENT_HALVES half clusters of data.
 */
typedef void (*payload_check) (const struct codec *c, unsigned cb,
                               size_t cluster, struct payload *p);

static void
for_each_payload (unsigned content_halves, payload_check check)
{
  const struct codec *c;
  unsigned cb;

  FOR_EACH_CODEC (c)
    FOR_EACH_CLUSTER_BITS (cb) {
      size_t cluster = (size_t) 1 << cb;
      struct payload p;

      make_payload (c, cluster * content_halves / 2, cb, &p);
      check (c, cb, cluster, &p);
      free_payload (&p);
    }
}

static void
round_trip (const struct codec *c, unsigned cb, size_t cluster,
            struct payload *p)
{
  assert_true (p->len < cluster);
  if (decode (c->decompress, cluster, p->z, p->len, p->data) != 0)
    fail_msg ("%s, cluster_bits %u: round trip failed", c->name, cb);
}

static void
test_round_trip (void **state)
{
  for_each_payload (2, round_trip);
}

/* The payload is read in whole sectors: the rest of the last sector holds
 * whatever follows (often the next compressed cluster).
 */
static void
trailing_padding (const struct codec *c, unsigned cb, size_t cluster,
                  struct payload *p)
{
  memset (p->z + p->len, 0xa5, 511);
  assert_int_equal (decode (c->decompress, cluster, p->z, p->len + 511,
                            p->data), 0);
  memset (p->z + p->len, 0, 511);
  assert_int_equal (decode (c->decompress, cluster, p->z, p->len + 1,
                            p->data), 0);
}

static void
test_trailing_padding (void **state)
{
  for_each_payload (2, trailing_padding);
}

static void
truncated (const struct codec *c, unsigned cb, size_t cluster,
           struct payload *p)
{
  assert_int_equal (decode (c->decompress, cluster, p->z, p->len / 2, NULL),
                    -1);
  assert_int_equal (decode (c->decompress, cluster, p->z, 1, NULL), -1);
  assert_int_equal (decode (c->decompress, cluster, p->z, 0, NULL), -1);
}

static void
test_truncated (void **state)
{
  for_each_payload (2, truncated);
}

/* A payload that ends before a whole cluster came out fails, even with
 * zero padding after it.
 */
static void
short_output (const struct codec *c, unsigned cb, size_t cluster,
              struct payload *p)
{
  assert_int_equal (decode (c->decompress, cluster, p->z, p->len, NULL), -1);
  memset (p->z + p->len, 0, 511);
  assert_int_equal (decode (c->decompress, cluster, p->z, p->len + 511, NULL),
                    -1);
}

static void
test_short_output (void **state)
{
  for_each_payload (1, short_output);
}

/* A failed payload leaves nothing behind: the next cluster decodes (the
 * decompressors are kept per thread and reused).
 */
static void
no_state_left (const struct codec *c, unsigned cb, size_t cluster,
               struct payload *good)
{
  struct payload longer;

  make_payload (c, 2 * cluster, cb + 7, &longer);
  assert_int_equal (decode (c->decompress, cluster, good->z, good->len / 2,
                            NULL), -1);
  assert_int_equal (decode (c->decompress, cluster, good->z, good->len,
                            good->data), 0);
  /* Stopped mid-stream, whatever the verdict. */
  decode (c->decompress, cluster, longer.z, longer.len, NULL);
  assert_int_equal (decode (c->decompress, cluster, good->z, good->len,
                            good->data), 0);
  free_payload (&longer);
}

static void
test_failure_leaves_no_state (void **state)
{
  for_each_payload (2, no_state_left);
}

/* A deflate stream longer than the cluster: qemu accepts a full output
 * buffer (Z_BUF_ERROR with avail_out 0), reading the cluster's bytes.
 */
static void
test_deflate_longer_stream (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    size_t cluster = (size_t) 1 << cb;
    struct payload p;

    make_payload (&codecs[0], 2 * cluster, cb, &p);
    assert_int_equal (decode (inflate_cluster, cluster, p.z, p.len, p.data), 0);
    free_payload (&p);
  }
}

/* A zstd frame longer than the cluster: qemu's qcow2_zstd_decompress()
 * fails it (the frame is not fully flushed when the cluster is full:
 * zstd_ret > 0); qemu-img convert reports an I/O error on such an image.
 */
static void
test_zstd_longer_frame_fails (void **state)
{
  unsigned cb;

  FOR_EACH_CLUSTER_BITS (cb) {
    size_t cluster = (size_t) 1 << cb;
    struct payload p;
    int r;

    make_payload (&codecs[1], 2 * cluster, cb, &p);
    r = decode (unzstd_cluster, cluster, p.z, p.len, NULL);
    free_payload (&p);
    if (r != -1)
      fail_msg ("cluster_bits %u: a zstd frame of %zu bytes decoded into a "
                "%zu-byte cluster", cb, 2 * cluster, cluster);
  }
}

static void
test_deflate_garbage (void **state)
{
  size_t cluster = 65536;
  unsigned char *ones = malloc (4096);
  unsigned char *noise = make_noise (4096, 12345);
  unsigned char *data = make_data (cluster, 7);
  uLongf wrapped_len = compressBound (cluster);
  unsigned char *wrapped = malloc (wrapped_len);

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

static void
test_zstd_garbage (void **state)
{
  size_t cluster = 65536;
  unsigned char *noise = make_noise (4096, 999);
  struct payload deflated, half;

  assert_int_equal (decode (unzstd_cluster, cluster, noise, 4096, NULL), -1);
  /* A deflate payload in a zstd image. */
  make_payload (&codecs[0], cluster, 3, &deflated);
  assert_int_equal (decode (unzstd_cluster, cluster, deflated.z, deflated.len,
                            NULL), -1);
  /* A good frame followed by garbage where a second frame should be. */
  make_payload (&codecs[1], cluster / 2, 3, &half);
  memcpy (half.z + half.len, noise, 511);
  assert_int_equal (decode (unzstd_cluster, cluster, half.z, half.len + 511,
                            NULL), -1);
  free_payload (&half);
  free_payload (&deflated);
  free (noise);
}

/* ---- threads: each keeps its own decompressor ---- */

#define THREAD_CLUSTER 65536

struct job {
  struct payload deflated, zstd;
  int failures;
};

static int
decodes_right (decompress_fn fn, const struct payload *p, unsigned char *out)
{
  memset (out, 0, THREAD_CLUSTER);
  return fn (out, THREAD_CLUSTER, p->z, p->len) == 0
         && memcmp (out, p->data, THREAD_CLUSTER) == 0;
}

static void *
decompress_many (void *arg)
{
  struct job *job = arg;
  unsigned char *out = malloc (THREAD_CLUSTER);
  int i;

  if (out == NULL) {
    job->failures++;
    return NULL;
  }
  for (i = 0; i < 50; i++) {
    job->failures += !decodes_right (inflate_cluster, &job->deflated, out);
    job->failures += !decodes_right (unzstd_cluster, &job->zstd, out);
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
    make_payload (&codecs[0], THREAD_CLUSTER, 40 + i, &jobs[i].deflated);
    make_payload (&codecs[1], THREAD_CLUSTER, 50 + i, &jobs[i].zstd);
    jobs[i].failures = 0;
  }
  for (i = 0; i < THREADS; i++)
    assert_int_equal (pthread_create (&threads[i], NULL, decompress_many,
                                      &jobs[i]), 0);
  for (i = 0; i < THREADS; i++) {
    assert_int_equal (pthread_join (threads[i], NULL), 0);
    assert_int_equal (jobs[i].failures, 0);
    free_payload (&jobs[i].deflated);
    free_payload (&jobs[i].zstd);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_trailing_padding),
    cmocka_unit_test (test_truncated),
    cmocka_unit_test (test_short_output),
    cmocka_unit_test (test_failure_leaves_no_state),
    cmocka_unit_test (test_deflate_longer_stream),
    cmocka_unit_test (test_zstd_longer_frame_fails),
    cmocka_unit_test (test_deflate_garbage),
    cmocka_unit_test (test_zstd_garbage),
    cmocka_unit_test (test_threads),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
