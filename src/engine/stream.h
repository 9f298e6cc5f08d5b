/* Reading an image front to back, as it arrives (a pipe, a download),
 * without ever seeking back: raw, or qcow2 in file order.
 *
 * Contract
 * --------
 * stream_open() reads the first bytes: the qcow2 magic makes a qcow2 stream
 * (its header is parsed and checked by qcow2-header.c, the same checks as
 * image_open()), anything else is raw.  A qcow2 image that needs another
 * file (a backing file, an external data file) is refused (ENOTSUP): a
 * stream cannot open files beside it.
 *
 * stream_next() then hands out the guest's ranges in the order the file
 * makes them known, never overlapping, together covering the whole raw view
 * once the stream has ended:
 *   STREAM_DATA        the bytes themselves,
 *   STREAM_COMPRESSED  one compressed cluster's payload, for
 *                      stream_decompress() (in any thread),
 *   STREAM_HOLE        a range that reads as zeros.
 * qcow2: the L1 table names the L2 tables, each L2 table names its data
 * clusters, and a cluster is handed out as soon as both its L2 entry and
 * its bytes have been read.  Bytes that come before the table that maps
 * them are held in memory, up to the buffer given to stream_open (held
 * runs of zeros cost nothing); the memory that names clusters still to
 * come counts against the same buffer.  Beyond it, an input that can read
 * ranges again (read_at) drops what it held and reads those bytes again
 * when their table comes; any other stream fails with ENOBUFS and a
 * message naming the buffer.  Images written in one pass by
 * `qemu-img convert` put every L2 table before its clusters and need no
 * buffer at all.  Once every L2 table has been read, bytes nobody maps are
 * read and dropped: the input is always read to its end, so that a checksum
 * of it covers every byte.
 *
 * Raw: the size is known only at the end (stream_size() is 0 before);
 * like qemu, a raw image is rounded up to 512 bytes with zeros.
 *
 * Threads: stream_next() is called by one thread at a time;
 * stream_decompress() by any number at once.
 *
 * Errors: as the rest of the engine (report once, -1 with errno): EINVAL
 * for a damaged image, EIO for a stream that ends early, ENOBUFS above.
 */
#ifndef SPARSEFS_STREAM_H
#define SPARSEFS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"

struct stream;

/* Where the bytes come from.  read() returns how many bytes it put in BUF
 * (at most COUNT), 0 at the end of the input, or -1 after reporting.
 */
struct stream_input {
  ssize_t (*read) (void *opaque, void *buf, size_t count);
  /* Read exactly COUNT bytes at OFFSET of the input again (a ranged
   * request), or NULL when the input cannot.  Returns 0 or -1 after
   * reporting.
   */
  int (*read_at) (void *opaque, void *buf, size_t count, uint64_t offset);
  void *opaque;
};

struct stream_options {
  enum image_format format;     /* AUTO: by the magic (an OVA too) */
  uint64_t buffer_bytes;        /* for data ahead of its L2 table */
  const char *disk;             /* an OVA's disk, as image_options.disk */
};

enum stream_event_type {
  STREAM_DATA,
  STREAM_COMPRESSED,
  STREAM_HOLE,
};

struct stream_event {
  enum stream_event_type type;
  uint64_t offset;              /* in the raw view */
  uint64_t length;
  size_t payload_bytes;         /* DATA: = length; COMPRESSED: payload */
  uint64_t host;                /* DATA, COMPRESSED: where the bytes were
                                 * in the input (for messages) */
};

/* PATH names the stream in messages.  Returns NULL after reporting. */
struct stream *stream_open (const char *path, const struct stream_input *in,
                            const struct stream_options *options);
void stream_close (struct stream *s);

enum image_format stream_format (const struct stream *s);

/* The raw view's size: qcow2 from the header; raw 0 until the end. */
uint64_t stream_size (const struct stream *s);

/* The largest payload stream_next() may put in its buffer besides
 * MAX_DATA bytes of data: a compressed cluster's.
 */
size_t stream_max_payload (const struct stream *s);

/* The next range: DATA of at most MAX_DATA bytes, a compressed payload, or a
 * hole, with the bytes in BUF (BUF_SIZE >= MAX (MAX_DATA,
 * stream_max_payload())).  Returns 1, 0 when the whole image has been
 * handed out and the input read to its end, or -1 after reporting.
 */
int stream_next (struct stream *s, void *buf, size_t buf_size,
                 size_t max_data, struct stream_event *event);

/* Decompress the COMPRESSED event's PAYLOAD into OUT (event->length bytes).
 * Returns 0 or -1 after reporting.
 */
int stream_decompress (const struct stream *s,
                       const struct stream_event *event,
                       const void *payload, void *out);

/* Bytes of input read so far. */
uint64_t stream_position (const struct stream *s);

#endif
