/* What stream.c shares with the stream decoders of qcow2 (stream-qcow2.c)
 * and streamOptimized VMDK (stream-vmdk.c).
 */
#ifndef SPARSEFS_STREAM_INTERNAL_H
#define SPARSEFS_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

struct qcow2_stream;
struct vmdk_stream;
struct ova_stream;

/* Bytes read at once while skipping or holding. */
#define STREAM_STEP_BYTES (1024 * 1024)

/* Room for the bytes read to probe the format. */
#define STREAM_PROBE_BUFFER 4096

struct stream {
  char *path;
  struct stream_input in;
  enum image_format format;
  uint64_t pos;                 /* bytes of input consumed */
  bool ended;                   /* the input said end of file */
  uint64_t size;                /* the raw view (raw: grows as it is read) */
  uint64_t buffer_limit;
  /* Bytes read to probe the format, handed out again first. */
  unsigned char probe[STREAM_PROBE_BUFFER];
  size_t probe_len, probe_used;
  struct qcow2_stream *qcow2;
  struct vmdk_stream *vmdk;
  struct ova_stream *ova;       /* the archive the input is a disk of */
};

/* Read up to COUNT bytes (less only at the end).  Returns the count, or -1
 * after reporting.
 */
ssize_t stream_read_some (struct stream *s, void *buf, size_t count);

/* Read exactly COUNT bytes of WHAT; an early end is reported (EIO).
 * Returns 0 or -1.
 */
int stream_read_exact (struct stream *s, void *buf, size_t count,
                       const char *what);

/* Read the rest of the input, STEP_BYTES at a time into SCRATCH.
 * Returns 0, or -1 after reporting.
 */
int stream_drain (struct stream *s, void *scratch, size_t step_bytes);

/* Decode one compressed unit (a cluster, a grain) of UNIT_BYTES into
 * UNIT; returns 0, or -1 after reporting.
 */
typedef int stream_decode_fn (const struct stream *s,
                              const struct stream_event *event,
                              const void *payload, void *unit,
                              size_t unit_bytes);

/* stream_decompress() for a format whose units are UNIT_BYTES: the last
 * unit may pass the end of the disk (EVENT's length is shorter), so it is
 * decoded whole elsewhere and cut.  A decoding failure is EINVAL.
 */
int stream_decode_unit (const struct stream *s,
                        const struct stream_event *event, const void *payload,
                        void *out, size_t unit_bytes, stream_decode_fn *decode);

/* The qcow2 decoder: open parses the header whose first LEN bytes are in
 * FIRST (the rest of the first cluster is read by it).
 */
int qcow2_stream_open (struct stream *s);
int qcow2_stream_next (struct stream *s, void *buf, size_t buf_size,
                       size_t max_data, struct stream_event *event);
int qcow2_stream_decompress (const struct stream *s,
                             const struct stream_event *event,
                             const void *payload, void *out);
size_t qcow2_stream_max_payload (const struct stream *s);
void qcow2_stream_close (struct stream *s);

/* The streamOptimized VMDK decoder, the same calls. */
int vmdk_stream_open (struct stream *s);
int vmdk_stream_next (struct stream *s, void *buf, size_t buf_size,
                      size_t max_data, struct stream_event *event);
int vmdk_stream_decompress (const struct stream *s,
                            const struct stream_event *event,
                            const void *payload, void *out);
size_t vmdk_stream_max_payload (const struct stream *s);
void vmdk_stream_close (struct stream *s);

/* An OVA (stream-ova.c): S's input and probe hold a tar archive.  Read
 * its OVF and on to the disk SELECTOR names (NULL: its only one), and make
 * that disk's bytes S's input, unprobed, and S's name "ARCHIVE/DISK".
 * Returns 0 or -1 after reporting (ENOTSUP: a tar that is not an OVA with
 * its OVF first).
 */
int ova_stream_open (struct stream *s, const char *selector);
void ova_stream_close (struct stream *s);
/* Bytes of the archive read so far. */
uint64_t ova_stream_position (const struct stream *s);

#endif
