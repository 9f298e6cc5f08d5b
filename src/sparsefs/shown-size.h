/* The size the kernel was last told for each path of a raw file.
 *
 * The kernel keeps one inode, so one size, per name: an image replaced
 * under the same name by one of another size changes the size that earlier
 * opens of the old image see too (fstat, and the end of their reads, which
 * the kernel cuts there).  Such an open can no longer read its image
 * whole and nothing else, so its reads fail with EIO instead of serving
 * the old bytes under the new size.
 *
 * A direct-mapped table: a path whose slot another path took is not
 * checked, and memory stays fixed.
 */
#ifndef SPARSEFS_SHOWN_SIZE_H
#define SPARSEFS_SHOWN_SIZE_H

#include <stdbool.h>
#include <stdint.h>

/* The path PATH_HASH was just shown with SIZE bytes (getattr). */
void shown_size_set (uint64_t path_hash, uint64_t size);

/* Whether the path PATH_HASH was last shown with another size than SIZE. */
bool shown_size_differs (uint64_t path_hash, uint64_t size);

#endif
