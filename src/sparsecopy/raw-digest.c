/* The raw disk digest (see raw-digest.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "raw-digest.h"
#include "rounding.h"

/* Holes are hashed from this many zeros at a time, and ranges read back
 * from the target through a buffer of this size.
 */
#define CHUNK_BYTES (UINT64_C (1) << 20)

enum pending_kind {
  PENDING_ZEROS,
  PENDING_BYTES,                /* a copy in bytes */
  PENDING_TARGET,               /* read back from the target */
};

/* A range that finished ahead of its turn. */
struct pending {
  struct pending *next;         /* by offset */
  enum pending_kind kind;
  uint64_t offset, length;
  unsigned char *bytes;
};

struct raw_digest {
  struct checksum_spec spec;
  struct target *target;
  uint64_t window;
  bool in_order;
  EVP_MD_CTX *ctx;              /* used by the hashing thread only */
  unsigned char *zeros;
  unsigned char *read_back;     /* for PENDING_TARGET, allocated on need */

  pthread_mutex_t lock;         /* guards everything below */
  pthread_cond_t turn;          /* hashed went forward, or stopped */
  uint64_t hashed;              /* [0, hashed) is in the digest */
  bool hashing;                 /* a thread is hashing */
  bool stopped;
  bool failed;                  /* a read back failed */
  uint64_t held;                /* bytes of PENDING_BYTES copies */
  struct pending *pending;
};

struct raw_digest *
raw_digest_new (const struct checksum_spec *spec, struct target *target,
                uint64_t window, bool in_order)
{
  struct raw_digest *d = calloc (1, sizeof *d);

  if (d == NULL || (d->zeros = calloc (1, CHUNK_BYTES)) == NULL
      || (d->ctx = EVP_MD_CTX_new ()) == NULL
      || !EVP_DigestInit_ex (d->ctx, EVP_get_digestbyname (spec->algorithm),
                             NULL)) {
    report_error ("%s: cannot start the %s digest of the raw disk",
                  target->path, spec->algorithm);
    raw_digest_free (d);
    return NULL;
  }
  d->spec = *spec;
  d->target = target;
  d->window = window;
  d->in_order = in_order;
  pthread_mutex_init (&d->lock, NULL);
  pthread_cond_init (&d->turn, NULL);
  return d;
}

void
raw_digest_free (struct raw_digest *d)
{
  struct pending *p, *next;

  if (d == NULL)
    return;
  for (p = d->pending; p; p = next) {
    next = p->next;
    free (p->bytes);
    free (p);
  }
  if (d->ctx) {
    pthread_cond_destroy (&d->turn);
    pthread_mutex_destroy (&d->lock);
  }
  EVP_MD_CTX_free (d->ctx);
  free (d->zeros);
  free (d->read_back);
  free (d);
}

void
raw_digest_stop (struct raw_digest *d)
{
  pthread_mutex_lock (&d->lock);
  d->stopped = true;
  pthread_cond_broadcast (&d->turn);
  pthread_mutex_unlock (&d->lock);
}

static void
hash_zeros (struct raw_digest *d, uint64_t length)
{
  uint64_t n;

  for (; length > 0; length -= n) {
    n = MIN (length, CHUNK_BYTES);
    EVP_DigestUpdate (d->ctx, d->zeros, n);
  }
}

static int
hash_from_target (struct raw_digest *d, uint64_t offset, uint64_t length)
{
  uint64_t n;

  if (d->read_back == NULL
      && (d->read_back = alloc_io_buffer (CHUNK_BYTES)) == NULL)
    return -1;
  for (; length > 0; offset += n, length -= n) {
    n = MIN (length, CHUNK_BYTES);
    if (target_pread (d->target, d->read_back, n, offset) == -1)
      return -1;
    EVP_DigestUpdate (d->ctx, d->read_back, n);
  }
  return 0;
}

/* Hash P, outside the lock (only the hashing thread gets here). */
static int
hash_pending (struct raw_digest *d, const struct pending *p)
{
  switch (p->kind) {
  case PENDING_ZEROS: hash_zeros (d, p->length); return 0;
  case PENDING_BYTES: EVP_DigestUpdate (d->ctx, p->bytes, p->length); return 0;
  default: return hash_from_target (d, p->offset, p->length);
  }
}

/* Hash the waiting ranges that are next, then give up the hashing turn.
 * Called with the lock held and d->hashing set; returns with the lock held.
 */
static void
hash_waiting (struct raw_digest *d)
{
  struct pending *p;
  int r;

  while ((p = d->pending) != NULL && p->offset == d->hashed && !d->failed) {
    d->pending = p->next;
    pthread_mutex_unlock (&d->lock);
    r = hash_pending (d, p);
    pthread_mutex_lock (&d->lock);
    if (p->kind == PENDING_BYTES)
      d->held -= p->length;
    if (r == -1)
      d->failed = true;
    else
      d->hashed += p->length;
    free (p->bytes);
    free (p);
    pthread_cond_broadcast (&d->turn);
  }
  d->hashing = false;
  pthread_cond_broadcast (&d->turn);
}

/* Hash BUF (or zeros), ours as the next range; lock held on entry and on
 * return.
 */
static void
hash_ours (struct raw_digest *d, uint64_t length, const void *buf)
{
  d->hashing = true;
  pthread_mutex_unlock (&d->lock);
  if (buf)
    EVP_DigestUpdate (d->ctx, buf, length);
  else
    hash_zeros (d, length);
  pthread_mutex_lock (&d->lock);
  d->hashed += length;
  hash_waiting (d);
}

/* Put P in the list, by offset.  Ranges mostly come in order, so the
 * search from the head is short.
 */
static void
insert_pending (struct raw_digest *d, struct pending *p)
{
  struct pending **at = &d->pending;

  while (*at && (*at)->offset < p->offset)
    at = &(*at)->next;
  p->next = *at;
  *at = p;
}

/* Keep [OFFSET, OFFSET + LENGTH) for later: zeros, a copy within the
 * window, or (for a stream) its bounds only.  Lock held.  Returns 0, 1
 * when the range must wait for its turn instead, -1 (reported).
 */
static int
hold (struct raw_digest *d, uint64_t offset, uint64_t length, const void *buf)
{
  struct pending *p;
  bool copy = buf != NULL && d->held + length <= d->window;

  if (buf != NULL && !copy && d->in_order)
    return 1;
  p = calloc (1, sizeof *p);
  if (p == NULL || (copy && (p->bytes = malloc (length)) == NULL)) {
    free (p);
    report_error ("%s: cannot hold %" PRIu64 " bytes for the digest: %m",
                  d->target->path, length);
    return -1;
  }
  p->kind = buf == NULL ? PENDING_ZEROS : copy ? PENDING_BYTES
    : PENDING_TARGET;
  p->offset = offset;
  p->length = length;
  if (copy) {
    memcpy (p->bytes, buf, length);
    d->held += length;
  }
  insert_pending (d, p);
  return 0;
}

static int
stopped_or_failed (struct raw_digest *d)
{
  if (d->failed)
    return -1;                  /* the read back said why */
  report_error ("%s: the digest of the raw disk stopped", d->target->path);
  errno = EINTR;
  return -1;
}

int
raw_digest_add (struct raw_digest *d, uint64_t offset, uint64_t length,
                const void *buf)
{
  int r = 0;

  pthread_mutex_lock (&d->lock);
  for (;;) {
    if (d->stopped || d->failed) {
      r = stopped_or_failed (d);
      break;
    }
    if (offset == d->hashed && !d->hashing) {
      hash_ours (d, length, buf);
      break;
    }
    r = hold (d, offset, length, buf);
    if (r != 1)
      break;
    pthread_cond_wait (&d->turn, &d->lock);
    r = 0;
  }
  if (d->failed && r == 0)
    r = -1;
  pthread_mutex_unlock (&d->lock);
  return r;
}

int
raw_digest_result (struct raw_digest *d, uint64_t size, char *text)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len, i;
  int n;

  pthread_mutex_lock (&d->lock);
  d->hashing = true;
  hash_waiting (d);
  pthread_mutex_unlock (&d->lock);
  if (d->failed)
    return -1;
  if (d->hashed != size || d->pending != NULL) {
    report_error ("%s: the digest of the raw disk is incomplete: %" PRIu64
                  " of %" PRIu64 " bytes hashed", d->target->path, d->hashed,
                  size);
    errno = EIO;
    return -1;
  }
  EVP_DigestFinal_ex (d->ctx, digest, &len);
  n = snprintf (text, RAW_DIGEST_TEXT_MAX, "%s:", d->spec.algorithm);
  for (i = 0; i < len; i++)
    n += snprintf (text + n, RAW_DIGEST_TEXT_MAX - n, "%02x", digest[i]);
  return 0;
}

bool
raw_digest_matches (const struct raw_digest *d, const char *text)
{
  const char *got = strchr (text, ':') + 1;

  if (d->spec.hex[0] == '\0' || strcmp (got, d->spec.hex) == 0)
    return true;
  report_error ("%s: %s checksum of the raw disk mismatch: expected %s, got "
                "%s: the target's content is not to be trusted",
                d->target->path, d->spec.algorithm, d->spec.hex, got);
  return false;
}
