/* When the kernel may keep a raw file's page cache across opens.
 *
 * The kernel caches pages per FUSE file, and a source image replaced under
 * the same name keeps that file.  An open keeps the cache only when the
 * previous open of the same path served the same image version and no
 * read of another version has happened since (an older open still reading
 * the replaced image puts its pages in the same cache).
 */
#ifndef SPARSEFS_PAGE_CACHE_H
#define SPARSEFS_PAGE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "file-version.h"

uint64_t page_cache_path_hash (const char *path);

/* At open of PATH_HASH serving VERSION: whether the cached pages are still
 * valid.  VERSION becomes what the path serves.
 */
bool page_cache_keep_at_open (uint64_t path_hash, const struct file_version *version);

/* At each read through an open of PATH_HASH serving VERSION. */
void page_cache_note_read (uint64_t path_hash, const struct file_version *version);

#endif
