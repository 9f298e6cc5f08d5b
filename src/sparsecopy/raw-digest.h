/* --checksum=ALG[:HEX]: the digest of the raw disk written, the value
 * `qemu-img convert -O raw SOURCE - | sha256sum` gives, computed during the
 * copy.  Holes are hashed from a buffer of zeros, never read back.
 *
 * A digest runs in guest-offset order, but the copier's workers finish
 * their ranges out of order, and a stream hands out data in file order.
 * Ranges that finish ahead of the next offset to hash wait in a reorder
 * window: holes as their bounds only, data as a copy of their bytes up to
 * a budget.  Beyond the budget a range is not copied:
 *  - from a source whose pieces come in guest order (an image, an NBD
 *    export), its worker waits until its range is next, and hashes its
 *    own buffer: the worker holding the next range never waits, so the
 *    copy goes on;
 *  - from a stream (file order: the next range may come last), the
 *    range's bounds are kept and its bytes are read back from the target
 *    when their turn comes.
 * So memory stays within the budget plus the workers' own buffers.
 *
 * Thread-safe: every worker adds its ranges.  Whoever adds the next range
 * hashes it and then every waiting range that follows, one thread at a
 * time; the others go on copying.
 */
#ifndef SPARSECOPY_RAW_DIGEST_H
#define SPARSECOPY_RAW_DIGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "input.h"
#include "target.h"

struct raw_digest;

/* A digest of SPEC's algorithm over TARGET's raw bytes, holding up to
 * WINDOW bytes of copies; IN_ORDER: the source's pieces come in guest
 * order.  Returns NULL (reported).
 */
struct raw_digest *raw_digest_new (const struct checksum_spec *spec,
                                   struct target *target, uint64_t window,
                                   bool in_order);
void raw_digest_free (struct raw_digest *d);

/* [OFFSET, OFFSET + LENGTH) of the target is final: its bytes are BUF, or
 * zeros when BUF is NULL.  Ranges never overlap.  Returns 0, or -1
 * (reported: a read back failed, or the digest was stopped).
 */
int raw_digest_add (struct raw_digest *d, uint64_t offset, uint64_t length,
                    const void *buf);

/* The copy failed: wake and fail every waiting worker.  Any thread. */
void raw_digest_stop (struct raw_digest *d);

/* Once every range of [0, SIZE) was added: the digest "ALG:HEX" into
 * TEXT (at least RAW_DIGEST_TEXT_MAX bytes).  Returns 0, or -1 (reported)
 * when ranges are missing.
 */
#define RAW_DIGEST_TEXT_MAX (8 + 1 + 128 + 1)
int raw_digest_result (struct raw_digest *d, uint64_t size, char *text);

/* Whether the result is the HEX of the spec (always true without one).
 * Reports a mismatch, saying the target's content is not to be trusted.
 */
bool raw_digest_matches (const struct raw_digest *d, const char *text);

#endif
