#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cache.h"
#include "error.h"
#include "rounding.h"

/* Room for a few of the largest clusters (2 MiB) whatever the operator asks. */
#define MIN_CACHE_BYTES (8u * 1024 * 1024)

struct cache_entry {
  uint64_t owner;
  struct cache_key key;
  size_t size;
  unsigned pins;
  struct cache_entry *hash_next;
  struct cache_entry *lru_prev, *lru_next;   /* most recent at lru_head */
  unsigned char data[];
};

struct image_cache {
  pthread_mutex_t lock;
  size_t budget;
  size_t used;
  size_t nbuckets;                  /* a power of two */
  struct cache_entry **buckets;
  struct cache_entry *lru_head, *lru_tail;
};

uint64_t
cache_new_owner (void)
{
  static uint64_t next_owner;

  return __atomic_add_fetch (&next_owner, 1, __ATOMIC_RELAXED);
}

static size_t
bucket_count (size_t budget)
{
  size_t n = 1024;

  /* About one bucket per 4 KiB of budget, the smallest block we keep. */
  while (n < budget / 4096 && n < (1u << 20))
    n *= 2;
  return n;
}

struct image_cache *
image_cache_new (size_t bytes)
{
  struct image_cache *c = calloc (1, sizeof *c);

  if (c == NULL) {
    report_error ("cache: %m");
    return NULL;
  }
  c->budget = MAX (bytes, MIN_CACHE_BYTES);
  c->nbuckets = bucket_count (c->budget);
  c->buckets = calloc (c->nbuckets, sizeof *c->buckets);
  if (c->buckets == NULL) {
    report_error ("cache: %m");
    free (c);
    return NULL;
  }
  pthread_mutex_init (&c->lock, NULL);
  return c;
}

void
image_cache_free (struct image_cache *c)
{
  struct cache_entry *e, *next;

  if (c == NULL)
    return;
  for (e = c->lru_head; e != NULL; e = next) {
    next = e->lru_next;
    free (e);
  }
  pthread_mutex_destroy (&c->lock);
  free (c->buckets);
  free (c);
}

static struct cache_entry **
bucket_of (struct image_cache *c, uint64_t owner, struct cache_key key)
{
  uint64_t h = (owner * 0x9e3779b97f4a7c15ull)
    ^ (key.offset * 0xc2b2ae3d27d4eb4full) ^ ((uint64_t) key.kind << 32);

  return &c->buckets[(h >> 17) & (c->nbuckets - 1)];
}

static void
lru_unlink (struct image_cache *c, struct cache_entry *e)
{
  if (e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else
    c->lru_head = e->lru_next;
  if (e->lru_next)
    e->lru_next->lru_prev = e->lru_prev;
  else
    c->lru_tail = e->lru_prev;
  e->lru_prev = e->lru_next = NULL;
}

static void
lru_push_front (struct image_cache *c, struct cache_entry *e)
{
  e->lru_prev = NULL;
  e->lru_next = c->lru_head;
  if (c->lru_head)
    c->lru_head->lru_prev = e;
  c->lru_head = e;
  if (c->lru_tail == NULL)
    c->lru_tail = e;
}

static struct cache_entry *
find_locked (struct image_cache *c, uint64_t owner, struct cache_key key,
             size_t size)
{
  struct cache_entry *e;

  for (e = *bucket_of (c, owner, key); e != NULL; e = e->hash_next)
    if (e->owner == owner && e->key.kind == key.kind
        && e->key.offset == key.offset && e->size == size)
      return e;
  return NULL;
}

static void
remove_locked (struct image_cache *c, struct cache_entry *e)
{
  struct cache_entry **p = bucket_of (c, e->owner, e->key);

  while (*p != e)
    p = &(*p)->hash_next;
  *p = e->hash_next;
  lru_unlink (c, e);
  c->used -= e->size;
  free (e);
}

/* Evict unpinned blocks, least recent first, until the budget holds. */
static void
evict_locked (struct image_cache *c)
{
  struct cache_entry *e = c->lru_tail, *prev;

  while (c->used > c->budget && e != NULL) {
    prev = e->lru_prev;
    if (e->pins == 0)
      remove_locked (c, e);
    e = prev;
  }
}

static const void *
pin_locked (struct image_cache *c, struct cache_entry *e,
            struct cache_entry **pin)
{
  e->pins++;
  lru_unlink (c, e);
  lru_push_front (c, e);
  *pin = e;
  return e->data;
}

const void *
cache_find (struct image_cache *c, uint64_t owner, struct cache_key key,
            size_t size, struct cache_entry **pin)
{
  struct cache_entry *e;
  const void *data = NULL;

  pthread_mutex_lock (&c->lock);
  e = find_locked (c, owner, key, size);
  if (e != NULL)
    data = pin_locked (c, e, pin);
  pthread_mutex_unlock (&c->lock);
  return data;
}

const void *
cache_get (struct image_cache *c, uint64_t owner, struct cache_key key,
           size_t size, cache_fill_fn fill, void *opaque,
           struct cache_entry **pin)
{
  struct cache_entry *e, *fresh;
  const void *data = cache_find (c, owner, key, size, pin);

  if (data != NULL)
    return data;

  /* Load outside the lock so that readers of other blocks go on. */
  fresh = malloc (sizeof *fresh + size);
  if (fresh == NULL) {
    report_error ("cache: %m");
    return NULL;
  }
  if (fill (fresh->data, size, opaque) == -1) {
    free (fresh);
    return NULL;
  }
  fresh->owner = owner;
  fresh->key = key;
  fresh->size = size;
  fresh->pins = 0;

  pthread_mutex_lock (&c->lock);
  e = find_locked (c, owner, key, size);
  if (e != NULL)                /* another thread loaded it meanwhile */
    free (fresh);
  else {
    e = fresh;
    e->hash_next = *bucket_of (c, owner, key);
    *bucket_of (c, owner, key) = e;
    e->lru_prev = e->lru_next = NULL;
    lru_push_front (c, e);
    c->used += size;
  }
  data = pin_locked (c, e, pin);
  evict_locked (c);
  pthread_mutex_unlock (&c->lock);
  return data;
}

void
cache_release (struct image_cache *c, struct cache_entry *pin)
{
  pthread_mutex_lock (&c->lock);
  pin->pins--;
  evict_locked (c);
  pthread_mutex_unlock (&c->lock);
}

void
cache_forget_owner (struct image_cache *c, uint64_t owner)
{
  struct cache_entry *e, *next;

  pthread_mutex_lock (&c->lock);
  for (e = c->lru_head; e != NULL; e = next) {
    next = e->lru_next;
    if (e->owner == owner)
      remove_locked (c, e);
  }
  pthread_mutex_unlock (&c->lock);
}

size_t
cache_bytes_used (struct image_cache *c)
{
  size_t used;

  pthread_mutex_lock (&c->lock);
  used = c->used;
  pthread_mutex_unlock (&c->lock);
  return used;
}
