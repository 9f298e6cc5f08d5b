/* Whole target blocks from a stream's smaller ranges (see stream-blocks.h).
 *
 * A block kept has a bit per 512-byte sector that has come; the decoder
 * never hands out a sector twice, so the block is complete when every
 * sector up to the end of the block (or of the image) has its bit.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rounding.h"
#include "stream-blocks.h"

#define SECTOR 512

struct partial_block {
  uint64_t offset;
  uint64_t sectors;             /* bit i: sector i has come */
  bool data;                    /* some sector was data, not a hole */
  unsigned char *bytes;         /* zeros where holes or nothing came */
};

bool
stream_blocks_aligned (const struct stream_blocks *b, uint64_t offset,
                       uint64_t length, uint64_t size)
{
  return is_aligned (offset, b->block)
    && (is_aligned (length, b->block) || offset + length == size);
}

static bool
complete (const struct stream_blocks *b, const struct partial_block *p,
          uint64_t size)
{
  uint64_t sectors = (MIN (p->offset + b->block, size) - p->offset) / SECTOR;

  return sectors > 0 && p->sectors == (UINT64_MAX >> (64 - sectors));
}

/* The block kept at OFFSET, a new one if none; NULL (reported). */
static struct partial_block *
kept_block (struct stream_blocks *b, uint64_t offset)
{
  struct partial_block *grown;
  size_t i;

  for (i = 0; i < b->n_kept; i++)
    if (b->kept[i].offset == offset)
      return &b->kept[i];
  if ((b->n_kept + 1) * b->block > b->limit) {
    report_error ("%s: %zu target blocks of %" PRIu64 " bytes wait for the "
                  "rest of their bytes, more than the stream buffer holds "
                  "(%" PRIu64 " bytes): give a larger stream buffer, or "
                  "copy from a seekable file", b->path, b->n_kept + 1,
                  b->block, b->limit);
    errno = ENOBUFS;
    return NULL;
  }
  if (b->n_kept == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 16;
    grown = realloc (b->kept, cap * sizeof *grown);
    if (grown == NULL)
      goto oom;
    b->kept = grown;
    b->cap = cap;
  }
  b->kept[b->n_kept] = (struct partial_block) { .offset = offset };
  b->kept[b->n_kept].bytes = calloc (1, b->block);
  if (b->kept[b->n_kept].bytes == NULL)
    goto oom;
  return &b->kept[b->n_kept++];

 oom:
  report_error ("%s: %m", b->path);
  return NULL;
}

/* Keep [OFFSET, OFFSET + LENGTH), inside one block, from BYTES (or
 * zeros).
 */
static int
keep (struct stream_blocks *b, uint64_t offset, uint64_t length,
      const unsigned char *bytes)
{
  struct partial_block *p;
  uint64_t first, count;

  if (length == 0)
    return 0;
  p = kept_block (b, round_down (offset, b->block));
  if (p == NULL)
    return -1;
  if (bytes) {
    memcpy (p->bytes + (offset - p->offset), bytes, length);
    p->data = true;
  }
  first = (offset - p->offset) / SECTOR;
  count = length / SECTOR;
  p->sectors |= (UINT64_MAX >> (64 - count)) << first;
  return 0;
}

int
stream_blocks_add (struct stream_blocks *b, uint64_t offset, uint64_t length,
                   const unsigned char *bytes, uint64_t size,
                   uint64_t *middle, uint64_t *middle_length)
{
  uint64_t end = offset + length;
  uint64_t mid_start = MIN (round_up (offset, b->block), end);
  uint64_t mid_end = end == size ? end : round_down (end, b->block);

  if (mid_end < mid_start)
    mid_end = mid_start;
  *middle = mid_start;
  *middle_length = mid_end - mid_start;
  if (keep (b, offset, mid_start - offset, bytes) == -1)
    return -1;
  return keep (b, mid_end, end - mid_end,
               bytes ? bytes + (mid_end - offset) : NULL);
}

int
stream_blocks_take (struct stream_blocks *b, uint64_t *offset,
                    uint64_t *length, bool *hole, unsigned char *buf,
                    uint64_t size)
{
  struct partial_block *p;
  size_t i;

  for (i = 0; i < b->n_kept; i++) {
    p = &b->kept[i];
    if (!complete (b, p, size))
      continue;
    *offset = p->offset;
    *length = MIN (p->offset + b->block, size) - p->offset;
    *hole = !p->data;
    if (p->data)
      memcpy (buf, p->bytes, *length);
    free (p->bytes);
    *p = b->kept[--b->n_kept];
    return 1;
  }
  return 0;
}

size_t
stream_blocks_waiting (const struct stream_blocks *b)
{
  return b->n_kept;
}

void
stream_blocks_free (struct stream_blocks *b)
{
  size_t i;

  for (i = 0; i < b->n_kept; i++)
    free (b->kept[i].bytes);
  free (b->kept);
  b->kept = NULL;
  b->n_kept = b->cap = 0;
}
