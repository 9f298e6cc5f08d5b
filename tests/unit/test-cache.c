/* The block cache: hits and misses, LRU eviction under the byte budget,
 * pinned blocks kept, owners, kinds and offsets of any size kept apart,
 * sizes checked on every hit, owners forgotten, failed loads not cached,
 * and several threads asking for the same blocks at once.
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
#include <unistd.h>

#include "cache.h"
#include "error.h"
#include "test-capture.h"

#define MiB (1024 * 1024)
#define BUDGET (8 * MiB)        /* the smallest budget image.h promises */

struct fill {
  uint64_t owner;
  struct cache_key key;
  int fail;                     /* return -1 */
  unsigned delay_us;            /* hold the load this long */
  int calls;                    /* atomic */
};

static unsigned char
pattern (uint64_t owner, struct cache_key key, size_t i)
{
  uint64_t offset = key.offset ^ key.offset >> 56;

  return (owner * 31 + key.kind * 13 + offset * 7 + i + i / 251) & 0xff;
}

/* Most tests need keys, not kinds: L2 tables at offsets 0, 1, 2... */
static struct cache_key
l2 (uint64_t offset)
{
  return cache_key (CACHE_L2_TABLE, offset);
}

static int
fill_block (void *buf, size_t size, void *opaque)
{
  struct fill *f = opaque;
  unsigned char *p = buf;
  size_t i;

  __atomic_add_fetch (&f->calls, 1, __ATOMIC_SEQ_CST);
  if (f->delay_us)
    usleep (f->delay_us);
  if (f->fail) {
    report_error ("fill failed");
    return -1;
  }
  for (i = 0; i < size; i++)
    p[i] = pattern (f->owner, f->key, i);
  return 0;
}

static int
block_is_right (const void *data, uint64_t owner, struct cache_key key,
                size_t size)
{
  const unsigned char *p = data;
  size_t i;

  for (i = 0; i < size; i++)
    if (p[i] != pattern (owner, key, i))
      return 0;
  return 1;
}

static struct image_cache *cache;

static int
setup (void **state)
{
  capture_start ();
  cache = image_cache_new (BUDGET);
  return cache == NULL;
}

static int
teardown (void **state)
{
  image_cache_free (cache);
  cache = NULL;
  capture_stop ();
  return 0;
}

/* Get (OWNER, KEY) of SIZE bytes, check it, release it; return how many
 * times it had to be loaded (0: it was cached).
 */
static int
touch (uint64_t owner, struct cache_key key, size_t size)
{
  struct fill f = { owner, key, 0, 0, 0 };
  struct cache_entry *pin;
  const void *data = cache_get (cache, owner, key, size, fill_block, &f, &pin);

  assert_non_null (data);
  assert_true (block_is_right (data, owner, key, size));
  cache_release (cache, pin);
  return f.calls;
}

static void
test_hit_and_miss (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct cache_key key = l2 (0x50000);

  assert_int_equal (cache_bytes_used (cache), 0);
  assert_int_equal (touch (owner, key, 65536), 1);
  assert_int_equal (cache_bytes_used (cache), 65536);
  assert_int_equal (touch (owner, key, 65536), 0);
  assert_int_equal (touch (owner, key, 65536), 0);
  assert_int_equal (cache_bytes_used (cache), 65536);
}

/* Owners and kinds keep blocks apart even at the same offset. */
static void
test_keys_apart (void **state)
{
  uint64_t a = cache_new_owner (), b = cache_new_owner ();
  struct cache_key table = cache_key (CACHE_L2_TABLE, 0x50000);
  struct cache_key cl = cache_key (CACHE_CLUSTER, 0x50000);
  struct cache_key l1 = cache_key (CACHE_L1_CHUNK, 0x50000);
  struct cache_key summary = cache_key (CACHE_L2_SUMMARY, 0x50000);

  assert_int_not_equal (a, b);
  assert_int_equal (touch (a, table, 4096), 1);
  assert_int_equal (touch (b, table, 4096), 1);
  assert_int_equal (touch (a, cl, 4096), 1);
  assert_int_equal (touch (a, l1, 4096), 1);
  assert_int_equal (touch (a, summary, 4096), 1);
  assert_int_equal (touch (a, table, 4096), 0);
  assert_int_equal (touch (b, table, 4096), 0);
  assert_int_equal (touch (a, cl, 4096), 0);
  assert_int_equal (touch (a, l1, 4096), 0);
  assert_int_equal (touch (a, summary, 4096), 0);
  assert_int_equal (cache_bytes_used (cache), 5 * 4096);
}

/* Offsets past 2^56 are whole in the key: an L1 chunk at 2^59 + X is not
 * the cluster at X (once one key, the kind packed above bit 58), nor is a
 * cluster at 2^58 + X, nor one at 2^63 + X.
 */
static void
test_keys_apart_past_2_56 (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct cache_key near = cache_key (CACHE_CLUSTER, 0x5000);
  struct cache_key keys[] = {
    cache_key (CACHE_L1_CHUNK, (1ull << 59) + 0x5000),
    cache_key (CACHE_CLUSTER, (1ull << 58) + 0x5000),
    cache_key (CACHE_CLUSTER, (1ull << 63) + 0x5000),
    cache_key (CACHE_L2_TABLE, (1ull << 57) + 0x5000),
  };
  size_t i;

  assert_int_equal (touch (owner, near, 4096), 1);
  for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    assert_int_equal (touch (owner, keys[i], 4096), 1);
    assert_int_equal (touch (owner, near, 4096), 0);
  }
  for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
    assert_int_equal (touch (owner, keys[i], 4096), 0);
  assert_int_equal (cache_bytes_used (cache), 5 * 4096);
}

/* A hit checks the size: a block of 8 bytes is never served to a reader
 * that asks for 4 KiB under the same key (it would read past its end).
 * That reader gets a block of its own size, and both stay right.
 */
static void
test_size_checked_on_hit (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct cache_key key = cache_key (CACHE_CLUSTER, 0x5000);
  struct cache_entry *pin;

  assert_int_equal (touch (owner, key, 8), 1);
  assert_null (cache_find (cache, owner, key, 4096, &pin));
  assert_int_equal (touch (owner, key, 4096), 1);
  assert_int_equal (touch (owner, key, 8), 0);
  assert_int_equal (touch (owner, key, 4096), 0);
  assert_int_equal (cache_bytes_used (cache), 8 + 4096);
  assert_non_null (cache_find (cache, owner, key, 8, &pin));
  cache_release (cache, pin);
}

/* Eight 1 MiB blocks fill the budget; the ninth evicts the least recently
 * used one, not the oldest loaded.
 */
static void
test_lru_eviction (void **state)
{
  uint64_t owner = cache_new_owner ();
  uint64_t key;

  for (key = 0; key < 8; key++)
    assert_int_equal (touch (owner, l2 (key), MiB), 1);
  assert_int_equal (cache_bytes_used (cache), 8 * MiB);
  assert_int_equal (touch (owner, l2 (0), MiB), 0);     /* 1 is now the LRU */
  assert_int_equal (touch (owner, l2 (8), MiB), 1);
  assert_true (cache_bytes_used (cache) <= BUDGET);
  /* 0 and 2..8 are there, 1 is gone. */
  for (key = 2; key <= 8; key++)
    assert_int_equal (touch (owner, l2 (key), MiB), 0);
  assert_int_equal (touch (owner, l2 (0), MiB), 0);
  assert_int_equal (touch (owner, l2 (1), MiB), 1);
  assert_true (cache_bytes_used (cache) <= BUDGET);
}

static void
test_budget_kept (void **state)
{
  uint64_t owner = cache_new_owner ();
  uint64_t key;

  for (key = 0; key < 40; key++) {
    assert_int_equal (touch (owner, l2 (key), 512 * 1024 + 4096), 1);
    assert_true (cache_bytes_used (cache) <= BUDGET);
  }
  /* The most recent blocks are the ones kept: oldest first, so that
   * checking one does not push out the next.
   */
  for (key = 40 - BUDGET / (512 * 1024 + 4096); key < 40; key++)
    assert_int_equal (touch (owner, l2 (key), 512 * 1024 + 4096), 0);
  assert_int_equal (touch (owner, l2 (0), 512 * 1024 + 4096), 1);
}

/* A pinned block survives any number of loads past the budget, intact. */
static void
test_pinned_not_evicted (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct fill f = { owner, l2 (1000), 0, 0, 0 };
  struct cache_entry *pin;
  const void *held;
  uint64_t key;

  held = cache_get (cache, owner, l2 (1000), 2 * MiB, fill_block, &f, &pin);
  assert_non_null (held);
  for (key = 0; key < 30; key++)
    assert_int_equal (touch (owner, l2 (key), MiB), 1);
  assert_true (block_is_right (held, owner, l2 (1000), 2 * MiB));
  assert_int_equal (touch (owner, l2 (1000), 2 * MiB), 0);
  assert_true (cache_bytes_used (cache) <= BUDGET + 2 * MiB);
  cache_release (cache, pin);
  assert_true (cache_bytes_used (cache) <= BUDGET);
}

/* Pinned blocks may pass the budget; releasing them brings it back. */
static void
test_all_pinned_over_budget (void **state)
{
  enum { N = 12 };
  uint64_t owner = cache_new_owner ();
  struct cache_entry *pins[N];
  const void *data[N];
  struct fill f[N];
  int i;

  for (i = 0; i < N; i++) {
    f[i] = (struct fill) { owner, l2 (i), 0, 0, 0 };
    data[i] = cache_get (cache, owner, l2 (i), MiB, fill_block, &f[i],
                         &pins[i]);
    assert_non_null (data[i]);
  }
  assert_int_equal (cache_bytes_used (cache), N * MiB);
  for (i = 0; i < N; i++)
    assert_true (block_is_right (data[i], owner, l2 (i), MiB));
  for (i = 0; i < N; i++)
    cache_release (cache, pins[i]);
  assert_true (cache_bytes_used (cache) <= BUDGET);
  assert_true (cache_bytes_used (cache) >= BUDGET - MiB);
}

/* A block pinned twice stays until both pins are gone. */
static void
test_pinned_twice (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct fill f = { owner, l2 (77), 0, 0, 0 };
  struct cache_entry *pin1, *pin2;
  const void *d1, *d2;
  uint64_t key;

  d1 = cache_get (cache, owner, l2 (77), MiB, fill_block, &f, &pin1);
  d2 = cache_get (cache, owner, l2 (77), MiB, fill_block, &f, &pin2);
  assert_non_null (d1);
  assert_ptr_equal (d1, d2);
  assert_int_equal (f.calls, 1);
  cache_release (cache, pin1);
  for (key = 0; key < 20; key++)
    touch (owner, l2 (key), MiB);
  assert_true (block_is_right (d2, owner, l2 (77), MiB));
  cache_release (cache, pin2);
}

static void
test_fill_failure (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct fill f = { owner, l2 (5), 1, 0, 0 };
  struct cache_entry *pin = NULL;

  reports = 0;
  assert_null (cache_get (cache, owner, l2 (5), 65536, fill_block, &f, &pin));
  assert_int_equal (f.calls, 1);
  assert_int_equal (cache_bytes_used (cache), 0);
  /* The loader reported; the cache adds nothing. */
  assert_int_equal (reports, 1);
  assert_string_equal (message, "fill failed");
  /* Nothing was kept: the next get loads again. */
  assert_null (cache_get (cache, owner, l2 (5), 65536, fill_block, &f, &pin));
  assert_int_equal (f.calls, 2);
  assert_int_equal (touch (owner, l2 (5), 65536), 1);
}

static void
test_forget_owner (void **state)
{
  uint64_t a = cache_new_owner (), b = cache_new_owner ();
  uint64_t key;

  for (key = 0; key < 3; key++) {
    touch (a, l2 (key), 65536);
    touch (b, l2 (key), 32768);
  }
  assert_int_equal (cache_bytes_used (cache), 3 * 65536 + 3 * 32768);
  cache_forget_owner (cache, a);
  assert_int_equal (cache_bytes_used (cache), 3 * 32768);
  for (key = 0; key < 3; key++) {
    assert_int_equal (touch (b, l2 (key), 32768), 0);
    assert_int_equal (touch (a, l2 (key), 65536), 1);
  }
  cache_forget_owner (cache, a);
  cache_forget_owner (cache, b);
  assert_int_equal (cache_bytes_used (cache), 0);
  cache_forget_owner (cache, cache_new_owner ());   /* no blocks: no-op */
  assert_int_equal (cache_bytes_used (cache), 0);
}

/* A tiny budget still holds a few of the largest (2 MiB) clusters
 * (image.h), so that reading one compressed cluster does not thrash.
 */
static void
test_tiny_budget (void **state)
{
  uint64_t owner = cache_new_owner ();
  struct image_cache *big = cache;

  cache = image_cache_new (1);
  assert_non_null (cache);
  assert_int_equal (touch (owner, l2 (1), 2 * MiB), 1);
  assert_int_equal (touch (owner, l2 (2), 2 * MiB), 1);
  assert_int_equal (touch (owner, l2 (1), 2 * MiB), 0);
  assert_int_equal (touch (owner, l2 (2), 2 * MiB), 0);
  assert_int_equal (cache_bytes_used (cache), 4 * MiB);
  image_cache_free (cache);
  cache = big;
}

/* ---- threads ---- */

enum { THREADS = 8 };

struct racer {
  pthread_barrier_t *start;
  uint64_t owner;
  struct cache_key key;
  struct fill *fill;            /* shared: counts the loads */
  const void *data;
  struct cache_entry *pin;
};

static void *
race_for_block (void *arg)
{
  struct racer *r = arg;

  pthread_barrier_wait (r->start);
  r->data = cache_get (cache, r->owner, r->key, MiB, fill_block, r->fill,
                       &r->pin);
  return NULL;
}

/* Threads that miss the same block together may each load it, but one
 * copy is kept and every thread gets that copy.
 */
static void
test_concurrent_same_block (void **state)
{
  pthread_barrier_t start;
  pthread_t threads[THREADS];
  struct racer racers[THREADS];
  uint64_t owner = cache_new_owner ();
  struct fill f = { owner, l2 (42), 0, 20000, 0 };
  int i;

  pthread_barrier_init (&start, NULL, THREADS);
  for (i = 0; i < THREADS; i++) {
    racers[i] = (struct racer) { &start, owner, l2 (42), &f, NULL, NULL };
    assert_int_equal (pthread_create (&threads[i], NULL, race_for_block,
                                      &racers[i]), 0);
  }
  for (i = 0; i < THREADS; i++)
    assert_int_equal (pthread_join (threads[i], NULL), 0);
  pthread_barrier_destroy (&start);
  assert_true (f.calls >= 1 && f.calls <= THREADS);
  for (i = 0; i < THREADS; i++) {
    assert_non_null (racers[i].data);
    assert_ptr_equal (racers[i].data, racers[0].data);
  }
  assert_true (block_is_right (racers[0].data, owner, l2 (42), MiB));
  assert_int_equal (cache_bytes_used (cache), MiB);
  for (i = 0; i < THREADS; i++)
    cache_release (cache, racers[i].pin);
  assert_int_equal (touch (owner, l2 (42), MiB), 0);
}

struct worker {
  uint64_t owner;
  unsigned seed;
  int wrong;
};

#define STRESS_KEYS 256
#define STRESS_BLOCK 65536      /* 16 MiB of keys for an 8 MiB budget */

static void *
random_gets (void *arg)
{
  struct worker *w = arg;
  int i;

  for (i = 0; i < 1500; i++) {
    struct cache_key key = l2 (rand_r (&w->seed) % STRESS_KEYS);
    struct fill f = { w->owner, key, 0, 0, 0 };
    struct cache_entry *pin;
    const void *data = cache_get (cache, w->owner, key, STRESS_BLOCK,
                                  fill_block, &f, &pin);

    if (data == NULL || !block_is_right (data, w->owner, key, STRESS_BLOCK))
      w->wrong++;
    if (data != NULL)
      cache_release (cache, pin);
  }
  return NULL;
}

static void
test_concurrent_stress (void **state)
{
  enum { WORKERS = 4 };
  pthread_t threads[WORKERS];
  struct worker workers[WORKERS];
  uint64_t owner = cache_new_owner ();
  int i;

  for (i = 0; i < WORKERS; i++) {
    workers[i] = (struct worker) { owner, 1234 + i, 0 };
    assert_int_equal (pthread_create (&threads[i], NULL, random_gets,
                                      &workers[i]), 0);
  }
  for (i = 0; i < WORKERS; i++) {
    assert_int_equal (pthread_join (threads[i], NULL), 0);
    assert_int_equal (workers[i].wrong, 0);
  }
  assert_true (cache_bytes_used (cache) <= BUDGET);
  cache_forget_owner (cache, owner);
  assert_int_equal (cache_bytes_used (cache), 0);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_hit_and_miss),
    T (test_keys_apart),
    T (test_keys_apart_past_2_56),
    T (test_size_checked_on_hit),
    T (test_lru_eviction),
    T (test_budget_kept),
    T (test_pinned_not_evicted),
    T (test_all_pinned_over_budget),
    T (test_pinned_twice),
    T (test_fill_failure),
    T (test_forget_owner),
    T (test_tiny_budget),
    T (test_concurrent_same_block),
    T (test_concurrent_stress),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
