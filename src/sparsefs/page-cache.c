/* Page cache validity per path (see page-cache.h).
 *
 * A direct-mapped table of what each path last served: a path whose slot
 * was taken by another path just loses its cache at the next open.
 */
#include <config.h>

#include <pthread.h>

#include "page-cache.h"

#define SLOTS 4096

struct served {
  uint64_t path_hash;           /* 0: nothing valid */
  struct file_version version;
};

static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;
static struct served served[SLOTS];

uint64_t
page_cache_path_hash (const char *path)
{
  uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */

  for (; *path; path++)
    h = (h ^ (unsigned char) *path) * 0x100000001b3ULL;
  return h | 1;
}

static bool
serves_locked (const struct served *slot, uint64_t path_hash,
               const struct file_version *version)
{
  return slot->path_hash == path_hash && file_version_equal (&slot->version, version);
}

bool
page_cache_keep_at_open (uint64_t path_hash, const struct file_version *version)
{
  struct served *slot = &served[path_hash % SLOTS];
  bool keep;

  pthread_mutex_lock (&served_lock);
  keep = serves_locked (slot, path_hash, version);
  slot->path_hash = path_hash;
  slot->version = *version;
  pthread_mutex_unlock (&served_lock);
  return keep;
}

void
page_cache_note_read (uint64_t path_hash, const struct file_version *version)
{
  struct served *slot = &served[path_hash % SLOTS];

  pthread_mutex_lock (&served_lock);
  if (slot->path_hash == path_hash && !serves_locked (slot, path_hash, version))
    slot->path_hash = 0;
  pthread_mutex_unlock (&served_lock);
}
