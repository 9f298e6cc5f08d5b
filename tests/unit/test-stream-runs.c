/* Runs of a stream's compressed clusters (stream-runs.h): clusters that
 * come shuffled leave sorted, in runs of contiguous clusters, with their
 * payloads side by side; a run leaves when full, when the window is, or
 * at the end.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stream-runs.h"

#define CLUSTER 65536
#define PAYLOAD_MAX (CLUSTER + 512)

/* Cluster N of the guest, its payload N + 1 bytes of the value N. */
static void
add_cluster (struct stream_runs *r, unsigned n)
{
  unsigned char payload[256];
  struct stream_event e = {
    .type = STREAM_COMPRESSED, .offset = (uint64_t) n * CLUSTER,
    .length = CLUSTER, .payload_bytes = n + 1,
  };

  memset (payload, n, sizeof payload);
  assert_int_equal (stream_runs_add (r, &e, payload), 0);
}

/* Takes a run and checks that it is clusters FIRST..FIRST + COUNT - 1,
 * with their payloads in order.
 */
static void
take_run (struct stream_runs *r, unsigned first, unsigned count)
{
  struct stream_event parts[STREAM_RUNS_WINDOW_CLUSTERS], run;
  unsigned char buf[PAYLOAD_MAX], *at = buf;
  size_t n;
  unsigned i;

  n = stream_runs_take (r, buf, sizeof buf, parts, &run);
  assert_int_equal (n, count);
  assert_int_equal (run.type, STREAM_COMPRESSED);
  assert_int_equal (run.offset, (uint64_t) first * CLUSTER);
  assert_int_equal (run.length, (uint64_t) count * CLUSTER);
  for (i = 0; i < count; i++) {
    assert_int_equal (parts[i].offset, (uint64_t) (first + i) * CLUSTER);
    assert_int_equal (parts[i].payload_bytes, first + i + 1);
    assert_int_equal (at[0], first + i);
    assert_int_equal (at[first + i], first + i);
    at += first + i + 1;
  }
  assert_int_equal (run.payload_bytes, at - buf);
}

/* Shuffled within the run: it leaves sorted once full (16 clusters of 64
 * KiB in 1 MiB), not before.
 */
static void
test_shuffled_run_leaves_when_full (void **state)
{
  static const unsigned order[] = { 3, 1, 0, 2, 7, 5, 4, 6,
                                    11, 9, 8, 10, 15, 13, 12, 14 };
  struct stream_runs r;
  unsigned i;

  (void) state;
  stream_runs_init (&r, "test", 1024 * 1024, PAYLOAD_MAX);
  for (i = 0; i < 16; i++) {
    assert_false (stream_runs_ready (&r, false));
    add_cluster (&r, order[i]);
  }
  assert_true (stream_runs_ready (&r, false));
  take_run (&r, 0, 16);
  assert_false (stream_runs_ready (&r, true));
  stream_runs_free (&r);
}

/* Clusters with gaps between them wait until the window is full; then the
 * lowest run leaves, as long as it is; at the end, the rest do.
 */
static void
test_full_window_and_end (void **state)
{
  struct stream_runs r;
  size_t window;
  unsigned i;

  (void) state;
  stream_runs_init (&r, "test", 1024 * 1024, PAYLOAD_MAX);
  window = stream_runs_max_parts (&r);
  assert_int_equal (window, STREAM_RUNS_WINDOW_CLUSTERS);
  for (i = window; i > 0; i--) {
    assert_false (stream_runs_ready (&r, false));
    add_cluster (&r, 2 * i);    /* 128, 126, ... 2 */
  }
  assert_true (stream_runs_ready (&r, false));
  take_run (&r, 2, 1);
  add_cluster (&r, 3);
  assert_true (stream_runs_ready (&r, false));
  take_run (&r, 3, 2);          /* 3, 4 */
  add_cluster (&r, 5);
  assert_false (stream_runs_ready (&r, false));
  add_cluster (&r, 7);
  assert_true (stream_runs_ready (&r, false));
  take_run (&r, 5, 4);          /* 5, 6, 7, 8 */
  for (i = 10; i <= 2 * window; i += 2) {
    assert_false (stream_runs_ready (&r, false));
    assert_true (stream_runs_ready (&r, true));
    take_run (&r, i, 1);
  }
  assert_false (stream_runs_ready (&r, true));
  stream_runs_free (&r);
}

/* A cluster larger than the run's bytes leaves alone; a run is full when
 * another cluster would pass its bytes; it stops where its payloads would
 * pass the caller's buffer.
 */
static void
test_run_bounds (void **state)
{
  struct stream_event parts[STREAM_RUNS_WINDOW_CLUSTERS], run;
  unsigned char buf[PAYLOAD_MAX];
  struct stream_runs r;

  (void) state;
  stream_runs_init (&r, "test", CLUSTER / 2, PAYLOAD_MAX);
  add_cluster (&r, 0);
  assert_true (stream_runs_ready (&r, false));
  take_run (&r, 0, 1);
  stream_runs_free (&r);

  /* Full with 3 clusters: a fourth would pass 3.5. */
  stream_runs_init (&r, "test", 3 * CLUSTER + CLUSTER / 2, PAYLOAD_MAX);
  add_cluster (&r, 1);
  add_cluster (&r, 0);
  assert_false (stream_runs_ready (&r, false));
  add_cluster (&r, 2);
  assert_true (stream_runs_ready (&r, false));
  take_run (&r, 0, 3);
  /* 4 contiguous clusters held: the run takes 3 of them. */
  add_cluster (&r, 6);
  add_cluster (&r, 5);
  add_cluster (&r, 3);
  assert_false (stream_runs_ready (&r, false));
  add_cluster (&r, 4);
  take_run (&r, 3, 3);
  take_run (&r, 6, 1);
  stream_runs_free (&r);

  stream_runs_init (&r, "test", 1024 * 1024, PAYLOAD_MAX);
  add_cluster (&r, 100);
  add_cluster (&r, 101);
  assert_int_equal (stream_runs_take (&r, buf, 150, parts, &run), 1);
  assert_int_equal (run.payload_bytes, 101);
  take_run (&r, 101, 1);
  stream_runs_free (&r);
}

/* Large clusters make a smaller window: its payloads stay within
 * STREAM_RUNS_WINDOW_BYTES.  No payload (a raw stream) divides nothing.
 */
static void
test_window_of_large_clusters (void **state)
{
  struct stream_runs r;

  (void) state;
  stream_runs_init (&r, "test", 1024 * 1024, 2 * 1024 * 1024 + 512);
  assert_int_equal (stream_runs_max_parts (&r), 3);
  stream_runs_free (&r);
  /* A raw stream has no compressed clusters: no payload at all. */
  stream_runs_init (&r, "test", 1024 * 1024, 0);
  assert_int_equal (stream_runs_max_parts (&r), STREAM_RUNS_WINDOW_CLUSTERS);
  assert_false (stream_runs_ready (&r, true));
  stream_runs_free (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_shuffled_run_leaves_when_full),
    cmocka_unit_test (test_full_window_and_end),
    cmocka_unit_test (test_run_bounds),
    cmocka_unit_test (test_window_of_large_clusters),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
