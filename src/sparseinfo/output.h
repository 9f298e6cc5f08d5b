/* What sparseinfo prints about an inspection: text for people, JSON for
 * programs (field names documented in sparseinfo(1), stable).
 */
#ifndef SPARSEINFO_OUTPUT_H
#define SPARSEINFO_OUTPUT_H

#include <stdio.h>

#include "inspect.h"

/* A block of "key: value" lines per layer, then the verdict and reasons. */
void print_text (FILE *out, const struct inspection *i);

/* One JSON object (no newline after it). */
void print_json (FILE *out, const struct inspection *i);

/* STRING as a JSON string, quotes included: control characters escaped,
 * bytes that are not UTF-8 replaced by U+FFFD (names come from strangers).
 */
void print_json_string (FILE *out, const char *string);

/* STRING for a terminal: bytes below 0x20 and 0x7f as \xHH, so that a
 * name cannot move the cursor or start a new line.
 */
void print_text_string (FILE *out, const char *string);

#endif
