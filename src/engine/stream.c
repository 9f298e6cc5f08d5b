/* Reading an image front to back (see stream.h): the input, the format
 * probe, and raw streams.  qcow2 is in stream-qcow2.c, streamOptimized
 * VMDK in stream-vmdk.c; an OVA, in stream-ova.c, makes one of its disks
 * the input, probed here in turn.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "error.h"
#include "image-internal.h"
#include "qcow2-format.h"
#include "rounding.h"
#include "stream-internal.h"
#include "tar-header.h"
#include "vhd-format.h"

ssize_t
stream_read_some (struct stream *s, void *buf, size_t count)
{
  size_t done = 0;
  ssize_t n;

  if (s->probe_used < s->probe_len) {
    done = MIN (count, s->probe_len - s->probe_used);
    memcpy (buf, s->probe + s->probe_used, done);
    s->probe_used += done;
  }
  while (done < count && !s->ended) {
    n = s->in.read (s->in.opaque, (char *) buf + done, count - done);
    if (n == -1)
      return -1;
    if (n == 0)
      s->ended = true;
    done += n;
  }
  s->pos += done;
  return done;
}

int
stream_read_exact (struct stream *s, void *buf, size_t count,
                   const char *what)
{
  ssize_t n = stream_read_some (s, buf, count);

  if (n == -1)
    return -1;
  if ((size_t) n < count) {
    report_error ("%s: the stream ended at byte %" PRIu64 ", before the end "
                  "of %s", s->path, s->pos, what);
    errno = EIO;
    return -1;
  }
  return 0;
}

int
stream_drain (struct stream *s, void *scratch, size_t step_bytes)
{
  ssize_t n;

  do
    n = stream_read_some (s, scratch, step_bytes);
  while (n > 0);
  return n == -1 ? -1 : 0;
}

/* Bytes read before deciding: enough for the VDI signature, the VHD
 * cookie, the VHDX signature and a VMDK descriptor's first line as well as
 * the qcow2 magic.
 */
#define PROBE_BYTES 512

/* What the engine reads from files but not from streams ("a VDI image"),
 * or NULL.  Read as raw, such an image would write its own metadata onto
 * the target.  (Which VMDK images stream is for stream-vmdk.c to say.)
 */
static const char *
unstreamable_format (const unsigned char *head, size_t len)
{
  if (vdi_probe (-1, head, len) == 1)
    return "a VDI image";
  if (len >= VHD_COOKIE_BYTES && memcmp (head, VHD_COOKIE, VHD_COOKIE_BYTES) == 0)
    return "a VHD image";
  if (vhdx_probe (-1, head, len) == 1)
    return "a VHDX image";
  return NULL;
}

/* Whether the probed bytes start a tar archive, to be read as an OVA. */
static bool
is_archive (const struct stream *s)
{
  return s->probe_len >= TAR_BLOCK_SIZE && tar_header_looks_valid (s->probe);
}

/* Read the first bytes, to be handed out again. */
static int
read_probe (struct stream *s)
{
  size_t n = 0;
  ssize_t r;

  while (n < PROBE_BYTES && !s->ended) {
    r = s->in.read (s->in.opaque, s->probe + n, sizeof s->probe - n);
    if (r == -1)
      return -1;
    if (r == 0)
      s->ended = true;
    n += r;
  }
  s->probe_len = n;
  return 0;
}

/* Decide the format from the probed bytes. */
static int
probe_format (struct stream *s, enum image_format wanted)
{
  const char *refused;
  char wanted_image[32];
  size_t n = s->probe_len;

  if (wanted == IMAGE_FORMAT_AUTO)
    refused = unstreamable_format (s->probe, n);
  else if (wanted != IMAGE_FORMAT_RAW && wanted != IMAGE_FORMAT_QCOW2
           && wanted != IMAGE_FORMAT_VMDK) {
    snprintf (wanted_image, sizeof wanted_image, "a %s image",
              image_format_name (wanted));
    refused = wanted_image;
  }
  else
    refused = NULL;
  if (refused) {
    report_error ("%s: %s cannot be read as a stream yet: copy it "
                  "from a local file", s->path, refused);
    errno = ENOTSUP;
    return -1;
  }
  s->format = wanted;
  if (wanted != IMAGE_FORMAT_AUTO)
    return 0;
  if (n >= 8 && load_be32 (s->probe) == QCOW2_MAGIC
      && load_be32 (s->probe + 4) >= 1)
    s->format = IMAGE_FORMAT_QCOW2;
  else if (vmdk_probe (-1, s->probe, n) == 1)
    s->format = IMAGE_FORMAT_VMDK;
  else
    s->format = IMAGE_FORMAT_RAW;
  return 0;
}

/* Probe the input; when it is an OVA (as a file, before any format), the
 * disk OPTIONS select becomes the input, probed in turn for its format
 * only: a tar inside an OVA is a raw disk, as the engine reads it from a
 * file.
 */
static int
probe_input (struct stream *s, const struct stream_options *options)
{
  if (read_probe (s) == -1)
    return -1;
  if (options->format == IMAGE_FORMAT_AUTO && is_archive (s)) {
    if (ova_stream_open (s, options->disk) == -1 || read_probe (s) == -1)
      return -1;
  }
  else if (options->disk != NULL) {
    report_error ("%s: a disk (\"%s\") is selected, but this is not an OVA "
                  "archive", s->path, options->disk);
    errno = ENOTSUP;
    return -1;
  }
  return probe_format (s, options->format);
}

struct stream *
stream_open (const char *path, const struct stream_input *in,
             const struct stream_options *options)
{
  struct stream *s = calloc (1, sizeof *s);

  if (s == NULL || (s->path = strdup (path)) == NULL) {
    report_error ("%s: %m", path);
    free (s);
    return NULL;
  }
  s->in = *in;
  s->buffer_limit = options->buffer_bytes;
  if (probe_input (s, options) == -1
      || (s->format == IMAGE_FORMAT_QCOW2 && qcow2_stream_open (s) == -1)
      || (s->format == IMAGE_FORMAT_VMDK && vmdk_stream_open (s) == -1)) {
    stream_close (s);
    return NULL;
  }
  return s;
}

void
stream_close (struct stream *s)
{
  if (s == NULL)
    return;
  qcow2_stream_close (s);
  vmdk_stream_close (s);
  ova_stream_close (s);
  free (s->path);
  free (s);
}

enum image_format
stream_format (const struct stream *s)
{
  return s->format;
}

uint64_t
stream_size (const struct stream *s)
{
  return s->size;
}

uint64_t
stream_position (const struct stream *s)
{
  return s->ova ? ova_stream_position (s) : s->pos;
}

size_t
stream_max_payload (const struct stream *s)
{
  switch (s->format) {
  case IMAGE_FORMAT_QCOW2:
    return qcow2_stream_max_payload (s);
  case IMAGE_FORMAT_VMDK:
    return vmdk_stream_max_payload (s);
  default:
    return 0;
  }
}

/* Raw: the bytes as they come, the last piece padded to 512 with zeros. */
static int
raw_next (struct stream *s, void *buf, size_t max_data,
          struct stream_event *event)
{
  ssize_t n = stream_read_some (s, buf, max_data);
  size_t padded;

  if (n <= 0)
    return n;
  padded = round_up (n, 512);
  memset ((char *) buf + n, 0, padded - n);
  event->type = STREAM_DATA;
  event->offset = event->host = s->size;
  event->length = event->payload_bytes = padded;
  s->size += padded;
  return 1;
}

int
stream_next (struct stream *s, void *buf, size_t buf_size, size_t max_data,
             struct stream_event *event)
{
  if (s->format == IMAGE_FORMAT_QCOW2)
    return qcow2_stream_next (s, buf, buf_size, max_data, event);
  if (s->format == IMAGE_FORMAT_VMDK)
    return vmdk_stream_next (s, buf, buf_size, max_data, event);
  return raw_next (s, buf, round_down (MIN (max_data, buf_size), 512),
                   event);
}

int
stream_decode_unit (const struct stream *s, const struct stream_event *event,
                    const void *payload, void *out, size_t unit_bytes,
                    stream_decode_fn *decode)
{
  unsigned char *unit = out;
  int r;

  if (event->length < unit_bytes && (unit = malloc (unit_bytes)) == NULL) {
    report_error ("%s: %m", s->path);
    return -1;
  }
  r = decode (s, event, payload, unit, unit_bytes);
  if (r == -1)
    errno = EINVAL;             /* a damaged stream, as stream.h says */
  else if (unit != out)
    memcpy (out, unit, event->length);
  if (unit != out)
    free (unit);
  return r;
}

int
stream_decompress (const struct stream *s, const struct stream_event *event,
                   const void *payload, void *out)
{
  if (s->format == IMAGE_FORMAT_VMDK)
    return vmdk_stream_decompress (s, event, payload, out);
  return qcow2_stream_decompress (s, event, payload, out);
}
