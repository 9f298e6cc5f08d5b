/* The source endpoint, an interface with one implementation per kind of
 * source (after libnbd's copy/ rw_ops):
 *   source-image.c   a seekable file read through the engine: a qcow2
 *                    image, or any other file as raw with its holes found
 *                    by SEEK_DATA/SEEK_HOLE (a sparse raw file, a file on a
 *                    sparsefs mount; a block device is all data);
 *   source-stream.c  standard input, a FIFO or a URL, decoded in file
 *                    order by the engine's stream decoder (stream.h);
 *   source-nbd.c     an NBD export (nbd://, nbds://, nbd+unix://), its
 *                    holes from base:allocation block status.
 * The copier's workers take pieces with source_next() (one at a time, under
 * the copier's lock) and read their bytes with source_read() (in parallel:
 * decompression runs there, on every core), or write them from where the
 * source holds them (source_peek()); then source_done().  They never ask
 * where the bytes come from.
 */
#ifndef SPARSECOPY_SOURCE_H
#define SPARSECOPY_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "input.h"

struct source;

enum source_piece_type { SOURCE_PIECE_DATA, SOURCE_PIECE_HOLE };

struct source_piece {
  enum source_piece_type type;
  uint64_t offset;
  uint64_t length;
  unsigned slot;                /* the source's own note for source_read */
};

/* How the copier wants the source cut. */
struct source_cut {
  uint64_t block;               /* the target's logical block size */
  uint64_t data_max;            /* bytes of one data piece */
  uint64_t hole_max;            /* bytes of one hole piece */
};

struct source_ops {
  /* The next piece: holes are rounded inward to CUT->block and data
   * outward.  Called by one thread at a time.  Returns 1, 0 at the end,
   * -1 (reported).
   */
  int (*next) (struct source *s, const struct source_cut *cut,
               struct source_piece *piece);
  /* The bytes of data piece PIECE into BUF; any thread.  Returns 0 or -1
   * (reported, as for source_pread), *GOOD bytes before the damage good.
   */
  int (*read) (struct source *s, const struct source_piece *piece,
               void *buf, uint64_t *good);
  /* Where the bytes of data piece PIECE already are, in memory fit for
   * the target (aligned as alloc_io_buffer's), to be written from there
   * rather than read() into the copier's buffer: one copy fewer.  Valid
   * until done(PIECE).  Returns NULL when PIECE must be read(); a NULL
   * hook: every piece is read().
   */
  const void *(*peek) (struct source *s, const struct source_piece *piece);
  /* The copier is done with PIECE (written, or given up): what the source
   * keeps for it may go.  Called once for every piece next() handed out;
   * NULL when the source keeps nothing.
   */
  void (*done) (struct source *s, const struct source_piece *piece);
  /* Start again from the first piece (--verify); NULL when the source
   * is read once, as is pread.
   */
  void (*rewind) (struct source *s);
  /* Random access, for --verify; NULL when the source is read once. */
  int (*pread) (struct source *s, void *buf, size_t count, uint64_t offset,
                uint64_t *good);
  /* What can be checked only after the copy (--source-checksum); NULL when
   * nothing.  Returns 0 or -1 (reported).
   */
  int (*finish) (struct source *s);
  /* Bytes of data (for --dry-run); NULL when not known before the copy. */
  int (*data_bytes) (struct source *s, uint64_t *bytes);
  void (*close) (struct source *s);
};

struct source {
  const struct source_ops *ops;
  const char *path;
  uint64_t size;                /* raw: rounded up to 512, as qemu does;
                                 * a raw stream: 0 until its end */
  bool size_known;
  bool in_order;                /* pieces come in guest-offset order */
  const char *format;           /* "qcow2", "raw" */
};

struct source_options {
  enum image_format format;     /* AUTO: qcow2 by its magic, else raw */
  const char *const *allowed_dirs;
  uint64_t stream_buffer;       /* bytes held for data before its table */
  const struct checksum_spec *checksum;  /* or NULL */
  struct http_options http;
  /* A qcow2 internal snapshot to copy instead of the active layer, as
   * qemu-img convert -l names it (image_snapshot_from_text), or NULL.
   * Local image files only.
   */
  const char *snapshot;
  /* The disk of an OVA archive to copy (image_options.disk), or NULL.
   * Local files only.
   */
  const char *disk;
};

/* Open PATH: an NBD URI is an export; "-" (standard input), an http:// or
 * https:// URL, a FIFO or another file that cannot seek is a stream,
 * anything else an image.
 * Returns NULL (reported).
 */
struct source *source_open (const char *path,
                            const struct source_options *options);
void source_close (struct source *s);

/* Whether the source can be read again (--verify), and rewinding it so
 * that source_next() starts from the first piece again.
 */
bool source_can_reread (const struct source *s);
void source_rewind (struct source *s);

int source_next (struct source *s, const struct source_cut *cut,
                 struct source_piece *piece);
int source_read (struct source *s, const struct source_piece *piece,
                 void *buf, uint64_t *good);
const void *source_peek (struct source *s, const struct source_piece *piece);
void source_done (struct source *s, const struct source_piece *piece);

/* Read exactly COUNT bytes at OFFSET (only when source_can_reread).
 * Returns 0 or -1, reported as "PATH: read failed at offset N: why" (the
 * engine's reason included), with N where the damage starts; then the
 * first *GOOD bytes of BUF (those before N) were read correctly.  GOOD may
 * be NULL.
 */
int source_pread (struct source *s, void *buf, size_t count, uint64_t offset,
                  uint64_t *good);

/* After a complete copy: 0, or -1 (reported) when the source turns out
 * not to be the one expected (--source-checksum).
 */
int source_finish (struct source *s);

/* Bytes of DATA extents (for --dry-run).  Returns 1 with *BYTES, 0 when
 * the source cannot tell before it is read, -1 (reported).
 */
int source_data_bytes (struct source *s, uint64_t *bytes);

/* The implementations' constructors (source_open chooses). */
struct source *source_image_open (const char *path,
                                  const struct source_options *options);
struct source *source_stream_open (const char *path, struct input *input,
                                   const struct source_options *options);
struct source *source_nbd_open (const char *uri);

/* Fold the last message (the engine's) into "PATH: WHAT failed at offset
 * N: reason" and report that instead.
 */
void source_report_failure (const struct source *s, const char *what,
                            uint64_t offset);

#endif
