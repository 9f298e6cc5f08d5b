/* The size the kernel was last told for each path (see shown-size.h). */
#include <config.h>

#include <pthread.h>

#include "shown-size.h"

#define SLOTS 4096

struct shown {
  uint64_t path_hash;           /* 0: the slot describes nothing */
  uint64_t size;
};

static pthread_mutex_t shown_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shown shown[SLOTS];

void
shown_size_set (uint64_t path_hash, uint64_t size)
{
  struct shown *slot = &shown[path_hash % SLOTS];

  pthread_mutex_lock (&shown_lock);
  slot->path_hash = path_hash;
  slot->size = size;
  pthread_mutex_unlock (&shown_lock);
}

bool
shown_size_differs (uint64_t path_hash, uint64_t size)
{
  struct shown *slot = &shown[path_hash % SLOTS];
  bool differs;

  pthread_mutex_lock (&shown_lock);
  differs = slot->path_hash == path_hash && slot->size != size;
  pthread_mutex_unlock (&shown_lock);
  return differs;
}
