/* A byte-bounded LRU cache of blocks read from images: L1 table chunks, L2
 * tables and decompressed clusters.
 *
 * A block is named by (owner, key): the owner is a number unique to one open
 * image layer, so that a file reopened after it changed never meets its old
 * blocks; the key says what the block is (see cache_key()).  Every lookup
 * matches the size too: a block is never served to a reader that asked for
 * another size (it would read past its end); that reader gets a block of
 * its own.  Blocks in use are pinned and never evicted; the budget may be
 * passed while they are pinned, by at most the blocks the readers hold at
 * that moment.
 */
#ifndef SPARSEFS_CACHE_H
#define SPARSEFS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct cache_entry;

enum cache_kind {
  CACHE_L1_CHUNK = 1,
  CACHE_L2_TABLE = 2,
  CACHE_CLUSTER = 3,            /* a decompressed cluster */
  CACHE_L2_SUMMARY = 4,         /* an L2 table's first extent run */
};

/* What a block is: its kind and the file offset it comes from, each whole.
 * No offset is too large for a key: a sparse image file on tmpfs may put a
 * table past 2^59, and the L2 entry of a compressed 512-byte cluster holds
 * 61 bits of host offset.
 */
struct cache_key {
  enum cache_kind kind;
  uint64_t offset;
};

static inline struct cache_key
cache_key (enum cache_kind kind, uint64_t offset)
{
  return (struct cache_key) { .kind = kind, .offset = offset };
}

/* Fill BUF (SIZE bytes) with the block; return 0, or -1 after reporting. */
typedef int (*cache_fill_fn) (void *buf, size_t size, void *opaque);

/* A new number for a layer's blocks. */
uint64_t cache_new_owner (void);

/* The block (OWNER, KEY) of SIZE bytes, loaded with FILL when missing.  The
 * block stays valid until cache_release(*PIN).  Returns NULL on error.
 */
const void *cache_get (struct image_cache *cache, uint64_t owner,
                       struct cache_key key, size_t size, cache_fill_fn fill,
                       void *opaque, struct cache_entry **pin);
void cache_release (struct image_cache *cache, struct cache_entry *pin);

/* The block (OWNER, KEY) of SIZE bytes pinned as by cache_get() if it is
 * held, else NULL (nothing is loaded).
 */
const void *cache_find (struct image_cache *cache, uint64_t owner,
                        struct cache_key key, size_t size,
                        struct cache_entry **pin);

/* Drop every block of OWNER (none may be pinned). */
void cache_forget_owner (struct image_cache *cache, uint64_t owner);

/* Bytes held now (for tests). */
size_t cache_bytes_used (struct image_cache *cache);

#endif
