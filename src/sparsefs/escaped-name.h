/* How a name read from inside a file (a qcow2 snapshot's, an OVA disk's)
 * becomes part of a shown file name: '%', '/' and control bytes are
 * written as %XX, everything else as it is (see sparsefs(1)).
 */
#ifndef SPARSEFS_ESCAPED_NAME_H
#define SPARSEFS_ESCAPED_NAME_H

#include <stddef.h>

/* The length of TEXT with escaped bytes written as %XX. */
size_t escaped_length (const char *text);

/* TEXT with escaped bytes written as %XX at TO (escaped_length bytes, no
 * NUL); returns the end.
 */
char *put_escaped (char *to, const char *text);

#endif
