/* A tar header reader: one 512-byte block in, at most one member out.
 *
 * The reader does no I/O.  A caller that can seek (the engine opening an
 * OVA in place) reads the block at tar_reader_offset() each time; a caller
 * reading a pipe feeds the blocks as they come and skips (or consumes) a
 * member's data itself.  Either way the reader knows where in the archive
 * each block lies, so its messages name the archive, the member's index
 * and header offset, and the bad field, e.g.
 *   vm.ova: tar member 3 (header at offset 0x2400): size field "12x" is
 *   not an octal number
 *
 * Formats read: POSIX ustar (name with its prefix), GNU (././@LongLink
 * long names, base-256 sizes) and pax (path= and size= records of an
 * extended header; global headers are skipped).  Every header's checksum
 * is checked.  Names are at most TAR_MAX_NAME bytes, extended headers at
 * most TAR_MAX_EXTENDED_BYTES, and an archive at most TAR_MAX_MEMBERS
 * headers: a hostile archive costs bounded memory and work.
 */
#ifndef SPARSEFS_TAR_HEADER_H
#define SPARSEFS_TAR_HEADER_H

#include <stdint.h>

#define TAR_BLOCK_SIZE 512
#define TAR_MAX_NAME 1024
#define TAR_MAX_EXTENDED_BYTES 65536
#define TAR_MAX_MEMBERS 1024

enum tar_member_type {
  TAR_REGULAR,                  /* '0' or NUL (or a contiguous file, '7') */
  TAR_DIRECTORY,                /* '5' */
  TAR_OTHER,                    /* links, devices, FIFOs, GNU sparse... */
};

struct tar_member {
  unsigned index;               /* from 0, in archive order */
  uint64_t header_offset;       /* of its own header block */
  uint64_t data_offset;         /* of its first data byte */
  uint64_t size;                /* of its data */
  enum tar_member_type type;
  char name[TAR_MAX_NAME + 1];
};

enum tar_step {
  TAR_STEP_MORE,                /* the block was consumed: feed the next */
  TAR_STEP_MEMBER,              /* a member is described: its data
                                   follows (round it up to a block) */
  TAR_STEP_END,                 /* the end-of-archive block */
};

struct tar_reader;

/* A reader for the archive ARCHIVE (its name, for messages only, kept by
 * reference), expecting its first header at offset 0.  NULL after
 * reporting when out of memory.
 */
struct tar_reader *tar_reader_new (const char *archive);
void tar_reader_free (struct tar_reader *reader);

/* Where the next block the reader expects lies in the archive. */
uint64_t tar_reader_offset (const struct tar_reader *reader);

/* Feed the block at tar_reader_offset().  Returns a tar_step (filling
 * *MEMBER for TAR_STEP_MEMBER), or -1 with errno EINVAL after reporting
 * a damaged header.  After TAR_STEP_END or -1 the reader takes no more.
 */
int tar_reader_block (struct tar_reader *reader,
                      const unsigned char block[TAR_BLOCK_SIZE],
                      struct tar_member *member);

/* Whether BLOCK is a ustar or GNU header whose checksum holds: the test
 * a probe makes on a file's first block.
 */
int tar_header_looks_valid (const unsigned char block[TAR_BLOCK_SIZE]);

#endif
