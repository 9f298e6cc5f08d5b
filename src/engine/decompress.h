/* Decompression of qcow2 compressed clusters.
 *
 * Success means exactly OUT_SIZE bytes came out, as qemu requires; input
 * left over after that is ignored (the payload's last sector is padding).
 */
#ifndef SPARSEFS_DECOMPRESS_H
#define SPARSEFS_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* Raw deflate (no zlib header), as qemu writes with window bits -12. */
int inflate_cluster (void *out, size_t out_size, const void *in, size_t in_size);

/* One or more zstd frames, no length prefix. */
int unzstd_cluster (void *out, size_t out_size, const void *in, size_t in_size);

/* Both return 0, or -1 if the payload does not decode to OUT_SIZE bytes.
 * They do not report: the caller knows which cluster it was.
 */

/* Where a compressed cluster lies, for the message when it fails. */
struct compressed_cluster {
  const char *path;
  uint64_t l1_index, l2_index;
  uint64_t host;                /* the payload's offset in the file */
  int compression_type;         /* QCOW2_COMPRESSION_* */
};

/* Decompress C's payload IN (IN_SIZE bytes) into OUT (OUT_SIZE bytes) with
 * its compression type.  Returns 0, or -1 after reporting "PATH: L2 entry
 * J of L1 entry I: compressed cluster at 0xHOST (N bytes) does not
 * decompress to M bytes (TYPE)" with errno EIO.
 */
int decompress_cluster (const struct compressed_cluster *c, void *out,
                        size_t out_size, const void *in, size_t in_size);

#endif
