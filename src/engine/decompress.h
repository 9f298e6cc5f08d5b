/* Decompression of qcow2 compressed clusters.
 *
 * Success means exactly OUT_SIZE bytes came out, as qemu requires; input
 * left over after that is ignored (the payload's last sector is padding).
 */
#ifndef SPARSEFS_DECOMPRESS_H
#define SPARSEFS_DECOMPRESS_H

#include <stddef.h>

/* Raw deflate (no zlib header), as qemu writes with window bits -12. */
int inflate_cluster (void *out, size_t out_size, const void *in, size_t in_size);

/* One or more zstd frames, no length prefix. */
int unzstd_cluster (void *out, size_t out_size, const void *in, size_t in_size);

/* Both return 0, or -1 if the payload does not decode to OUT_SIZE bytes.
 * They do not report: the caller knows which cluster it was.
 */

#endif
