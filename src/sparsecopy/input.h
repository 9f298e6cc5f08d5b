/* The bytes of a streamed source as they arrive, before any image format:
 * a pipe (input-fd.c), a URL (input-http.c), their digest
 * (input-checksum.c, --source-checksum), and compressed wrappers around
 * another input (input-unwrap.c: gzip, xz, zstd, found by their magic).
 */
#ifndef SPARSECOPY_INPUT_H
#define SPARSECOPY_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct input;

struct input_ops {
  /* Up to COUNT bytes into BUF; 0 at the end; -1 (reported). */
  ssize_t (*read) (struct input *in, void *buf, size_t count);
  /* Exactly COUNT bytes at OFFSET again, when can_pread; 0 or -1
   * (reported).
   */
  int (*pread) (struct input *in, void *buf, size_t count, uint64_t offset);
  void (*close) (struct input *in);
};

struct input {
  const struct input_ops *ops;
  const char *path;             /* for messages */
  const char *wrapper;          /* "gzip", "xz", "zstd", or NULL */
  bool can_pread;               /* known once the first bytes came */
};

/* Read FD (owned from here on) to its end.  Returns NULL (reported). */
struct input *input_fd_open (const char *path, int fd);

struct http_options {
  const char *const *headers;   /* "Name: value" lines to send */
  size_t n_headers;
};

/* Whether PATH is an http:// or https:// URL. */
bool input_is_url (const char *path);

/* Download URL (O must outlive the input).  Returns NULL (reported). */
struct input *input_http_open (const char *url,
                               const struct http_options *o);

/* --source-checksum=ALG:HEX and --checksum=ALG[:HEX], ALG sha256 or
 * sha512.
 */
struct checksum_spec {
  char algorithm[8];
  char hex[129];                /* lower case; "" when not given */
};

/* Returns 0, or -1 when TEXT is not ALG:HEX (or ALG alone unless
 * HEX_REQUIRED) of a known ALG (not reported: a usage error).
 */
int checksum_parse (const char *text, bool hex_required,
                    struct checksum_spec *spec);

/* IN, with a digest of every byte read through it.  Takes IN over.
 * Returns NULL (reported; IN is closed).
 */
struct input *input_checksum (struct input *in,
                              const struct checksum_spec *spec);

/* After the end of the input: 0 when the digest is the one expected, -1
 * (reported, saying the target is not to be trusted) when not, or when
 * the input was not read to its end.
 */
int input_checksum_check (struct input *in);

/* IN itself, or a decompressor reading it when its first bytes are the
 * magic of gzip, xz or zstd.  Takes IN over either way.  Returns NULL
 * (reported; IN is closed).
 */
struct input *input_unwrap (struct input *in);

static inline ssize_t
input_read (struct input *in, void *buf, size_t count)
{
  return in->ops->read (in, buf, count);
}

static inline void
input_close (struct input *in)
{
  if (in != NULL)
    in->ops->close (in);
}

#endif
