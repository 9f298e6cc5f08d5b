/* The files an OVF descriptor lists: just enough XML to read them.
 *
 * An OVF names its files in <References>, one <File ovf:href="NAME" .../>
 * each, in order; nothing else in the descriptor matters to the engine.
 * Namespace prefixes are ignored (any prefix, or none, names the same
 * element or attribute), comments, processing instructions and
 * declarations are skipped, and the five predefined entities and numeric
 * ASCII character references are decoded in a name.
 */
#ifndef SPARSEFS_OVF_REFERENCES_H
#define SPARSEFS_OVF_REFERENCES_H

#include <stddef.h>

/* The most files an OVF may list. */
#define OVF_MAX_REFERENCES 256

typedef int ovf_reference_fn (const char *href, unsigned index, void *opaque);

/* Call FN on each File's href in the <References> of the NUL-terminated
 * TEXT (the descriptor WHERE names, for messages), in order, until FN
 * returns non-zero.  Returns 0, FN's value, or -1 with errno EINVAL after
 * reporting a malformed element or too many files.
 */
int ovf_references (const char *where, const char *text,
                    ovf_reference_fn *fn, void *opaque);

#endif
