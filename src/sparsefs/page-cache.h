/* How each open of a raw file uses the kernel's page cache.
 *
 * The kernel caches pages per FUSE file, and a source image replaced under
 * the same name keeps that file, so the cached pages of the old image and
 * reads of the new one would mix.  Per path we track which image version
 * the cached pages belong to and how many opens use them:
 *  - an open of that version keeps the cache (FOPEN_KEEP_CACHE);
 *  - an open of another version while none use the cache drops it (the
 *    kernel invalidates the file's pages at such an open);
 *  - an open of another version while earlier opens still use the cache
 *    bypasses it (direct I/O): the earlier opens keep reading their image,
 *    the new one reads the new image, and neither sees the other's pages.
 */
#ifndef SPARSEFS_PAGE_CACHE_H
#define SPARSEFS_PAGE_CACHE_H

#include <stdint.h>

#include "file-version.h"

enum page_cache_use {
  PAGE_CACHE_KEEP,
  PAGE_CACHE_DROP,
  PAGE_CACHE_BYPASS,
};

uint64_t page_cache_path_hash (const char *path);

/* At an open of the path PATH_HASH serving VERSION. */
enum page_cache_use page_cache_open (uint64_t path_hash,
                                     const struct file_version *version);

/* At the release of that open. */
void page_cache_release (uint64_t path_hash, enum page_cache_use use);

#endif
