/* Whole target blocks from a stream's smaller ranges.
 *
 * The stream decoder hands out ranges of 512-byte sectors in file order
 * (an image of 512-byte clusters, a zero range of one sector); a target
 * with 4 KiB logical blocks takes only whole blocks.  The part of a range
 * that covers a block only in part is kept here, in a block of its own,
 * until the rest of that block has come (from other ranges, in any
 * order); the block is then ready to be written whole: as a hole when
 * every part of it was one.
 *
 * The blocks kept cost memory until they are complete; LIMIT bounds it
 * (the stream buffer), as it bounds the decoder's own.
 */
#ifndef SPARSECOPY_STREAM_BLOCKS_H
#define SPARSECOPY_STREAM_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct partial_block;

struct stream_blocks {
  const char *path;             /* for messages */
  uint64_t block;               /* the target's: 512 * 2^n, <= 32 KiB */
  uint64_t limit;               /* bytes of blocks kept, at most */
  struct partial_block *kept;
  size_t n_kept, cap;
};

/* Whether [OFFSET, OFFSET + LENGTH) can go to the target as it is: whole
 * blocks, the last one allowed to end at the end of the image (SIZE).
 */
bool stream_blocks_aligned (const struct stream_blocks *b, uint64_t offset,
                            uint64_t length, uint64_t size);

/* The range [OFFSET, OFFSET + LENGTH) with its BYTES (NULL: zeros, a
 * hole), of an image of SIZE bytes: the parts that cover blocks in part
 * are kept; the whole blocks between them, if any, are left to the
 * caller in *MIDDLE and *MIDDLE_LENGTH.  Returns 0, or -1 (reported,
 * ENOBUFS) when the blocks kept would pass the limit.
 */
int stream_blocks_add (struct stream_blocks *b, uint64_t offset,
                       uint64_t length, const unsigned char *bytes,
                       uint64_t size, uint64_t *middle,
                       uint64_t *middle_length);

/* A complete block of an image of SIZE bytes, taken out: 1 with its
 * offset and length (the last block of the image may be shorter) and
 * whether it is a hole; its bytes in BUF (block bytes) unless it is.  0
 * when none is complete.
 */
int stream_blocks_take (struct stream_blocks *b, uint64_t *offset,
                        uint64_t *length, bool *hole, unsigned char *buf,
                        uint64_t size);

/* Blocks still waiting for the rest of their bytes. */
size_t stream_blocks_waiting (const struct stream_blocks *b);

void stream_blocks_free (struct stream_blocks *b);

#endif
