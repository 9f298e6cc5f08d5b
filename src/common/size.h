/* Sizes on the command line, one rule for every size option of both
 * programs (documented in sparsefs(1) and sparsecopy(1)):
 *
 *   a decimal number of bytes, optionally followed by K, M, G, T or P
 *   (powers of 1024), optionally followed by iB, in any case:
 *   "4096", "4k", "4K", "4KiB", "64m".
 *
 * Nothing else: no sign, no spaces, no fractions, no "B" alone (it would
 * read as 1000-based to some).
 */
#ifndef SPARSEFS_SIZE_H
#define SPARSEFS_SIZE_H

#include <stdint.h>

/* Store TEXT's value in *BYTES and return 0; or return -1 with errno
 * EINVAL (not a size) or ERANGE (above 2^64 - 1), *BYTES untouched.
 * Reports nothing: the caller names the option.
 */
int parse_size (const char *text, uint64_t *bytes);

#endif /* SPARSEFS_SIZE_H */
