/* --source-checksum: a digest of a streamed source's bytes exactly as they came
 * (before any wrapper is undone: the value a download page or an image
 * service publishes), compared at the end (see input.h).  OpenSSL's
 * libcrypto computes it.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "input.h"

struct checksum_input {
  struct input input;           /* first: the interface */
  struct input *inner;
  struct checksum_spec spec;
  EVP_MD_CTX *ctx;
  bool ended;
  unsigned char digest[EVP_MAX_MD_SIZE];
};

int
checksum_parse (const char *text, bool hex_required,
                struct checksum_spec *spec)
{
  const char *colon = strchr (text, ':');
  size_t name_len = colon ? (size_t) (colon - text) : strlen (text);
  const EVP_MD *md;
  size_t i, hex_len;

  if ((colon == NULL && hex_required) || name_len >= sizeof spec->algorithm)
    return -1;
  memcpy (spec->algorithm, text, name_len);
  spec->algorithm[name_len] = '\0';
  if (strcmp (spec->algorithm, "sha256") != 0
      && strcmp (spec->algorithm, "sha512") != 0)
    return -1;
  md = EVP_get_digestbyname (spec->algorithm);
  spec->hex[0] = '\0';
  if (md != NULL && colon == NULL)
    return 0;
  hex_len = strlen (colon + 1);
  if (md == NULL || hex_len != 2 * (size_t) EVP_MD_get_size (md))
    return -1;
  for (i = 0; i < hex_len; i++) {
    if (!isxdigit ((unsigned char) colon[1 + i]))
      return -1;
    spec->hex[i] = tolower ((unsigned char) colon[1 + i]);
  }
  spec->hex[hex_len] = '\0';
  return 0;
}

static ssize_t
checksum_read (struct input *in, void *buf, size_t count)
{
  struct checksum_input *c = (struct checksum_input *) in;
  ssize_t n = input_read (c->inner, buf, count);

  if (n > 0)
    EVP_DigestUpdate (c->ctx, buf, n);
  if (n == 0)
    c->ended = true;
  /* Whether the inner input can read again is known once bytes came. */
  c->input.can_pread = c->inner->can_pread;
  return n;
}

static int
checksum_pread (struct input *in, void *buf, size_t count, uint64_t offset)
{
  struct checksum_input *c = (struct checksum_input *) in;

  return c->inner->ops->pread (c->inner, buf, count, offset);
}

static void
checksum_close (struct input *in)
{
  struct checksum_input *c = (struct checksum_input *) in;

  EVP_MD_CTX_free (c->ctx);
  input_close (c->inner);
  free (c);
}

static const struct input_ops checksum_ops = {
  .read = checksum_read, .pread = checksum_pread, .close = checksum_close,
};

struct input *
input_checksum (struct input *inner, const struct checksum_spec *spec)
{
  struct checksum_input *c = calloc (1, sizeof *c);

  if (c == NULL || (c->ctx = EVP_MD_CTX_new ()) == NULL
      || !EVP_DigestInit_ex (c->ctx, EVP_get_digestbyname (spec->algorithm),
                             NULL)) {
    report_error ("%s: cannot start the %s digest", inner->path,
                  spec->algorithm);
    if (c)
      EVP_MD_CTX_free (c->ctx);
    free (c);
    input_close (inner);
    return NULL;
  }
  c->input = (struct input) { .ops = &checksum_ops, .path = inner->path,
                              .can_pread = inner->can_pread };
  c->inner = inner;
  c->spec = *spec;
  return &c->input;
}

int
input_checksum_check (struct input *in)
{
  struct checksum_input *c = (struct checksum_input *) in;
  char got[2 * EVP_MAX_MD_SIZE + 1];
  unsigned len, i;

  if (!c->ended) {
    report_error ("%s: the %s checksum cannot be checked: the source was "
                  "not read to its end", in->path, c->spec.algorithm);
    errno = EIO;
    return -1;
  }
  EVP_DigestFinal_ex (c->ctx, c->digest, &len);
  for (i = 0; i < len; i++)
    snprintf (got + 2 * i, 3, "%02x", c->digest[i]);
  if (strcmp (got, c->spec.hex) == 0)
    return 0;
  report_error ("%s: %s checksum mismatch: expected %s, got %s: the "
                "target's content is not to be trusted", in->path,
                c->spec.algorithm, c->spec.hex, got);
  errno = EINVAL;
  return -1;
}
