/* One description, two notations: the fields are written once (output.c)
 * through a writer that prints them as JSON or as indented text.
 */
#ifndef SPARSEINFO_WRITER_H
#define SPARSEINFO_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define WRITER_MAX_DEPTH 8

struct writer {
  FILE *out;
  bool json;
  int depth;
  bool first[WRITER_MAX_DEPTH]; /* nothing written yet at that depth */
};

void writer_init (struct writer *w, FILE *out, bool json);

/* KEY is NULL inside an array. */
void write_string (struct writer *w, const char *key, const char *value);
void write_uint (struct writer *w, const char *key, uint64_t value);
void write_bool (struct writer *w, const char *key, bool value);
/* An object ('{') or an array ('['), closed by write_end. */
void write_begin (struct writer *w, const char *key, char bracket);
void write_end (struct writer *w, char bracket);

#endif
