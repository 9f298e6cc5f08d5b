/* Page cache use per path (see page-cache.h).
 *
 * A direct-mapped table: a path whose slot is in use by another path's
 * opens bypasses the cache, which is always safe, only slower.
 */
#include <config.h>

#include <pthread.h>
#include <stdbool.h>

#include "hash.h"
#include "page-cache.h"

#define SLOTS 4096

struct cached {
  uint64_t path_hash;           /* 0: the slot describes nothing */
  struct file_version version;  /* whose pages the kernel may hold */
  unsigned users;               /* opens reading through the cache */
};

static pthread_mutex_t cached_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached cached[SLOTS];

uint64_t
page_cache_path_hash (const char *path)
{
  return hash_string (path);
}

static enum page_cache_use
decide_locked (struct cached *slot, uint64_t path_hash,
               const struct file_version *version)
{
  bool same_path = slot->path_hash == path_hash;

  if (same_path && file_version_equal (&slot->version, version))
    return PAGE_CACHE_KEEP;
  if (slot->users > 0)
    return PAGE_CACHE_BYPASS;
  slot->path_hash = path_hash;
  slot->version = *version;
  return PAGE_CACHE_DROP;
}

enum page_cache_use
page_cache_open (uint64_t path_hash, const struct file_version *version)
{
  struct cached *slot = &cached[path_hash % SLOTS];
  enum page_cache_use use;

  pthread_mutex_lock (&cached_lock);
  use = decide_locked (slot, path_hash, version);
  if (use != PAGE_CACHE_BYPASS)
    slot->users++;
  pthread_mutex_unlock (&cached_lock);
  return use;
}

void
page_cache_release (uint64_t path_hash, enum page_cache_use use)
{
  struct cached *slot = &cached[path_hash % SLOTS];

  if (use == PAGE_CACHE_BYPASS)
    return;
  pthread_mutex_lock (&cached_lock);
  slot->users--;
  pthread_mutex_unlock (&cached_lock);
}
