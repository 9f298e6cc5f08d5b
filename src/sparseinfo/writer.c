/* JSON or indented "key: value" text (see writer.h).  Text: an object or
 * array opens with "key:" (an array element with "-") and indents what
 * is inside by two spaces.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>

#include "output.h"
#include "writer.h"

void
writer_init (struct writer *w, FILE *out, bool json)
{
  w->out = out;
  w->json = json;
  w->depth = 0;
  w->first[0] = true;
}

/* What goes before a value: the separator and the key. */
static void
start (struct writer *w, const char *key)
{
  if (w->json) {
    if (!w->first[w->depth])
      fputc (',', w->out);
    if (key != NULL) {
      print_json_string (w->out, key);
      fputc (':', w->out);
    }
  }
  else {
    fprintf (w->out, "%*s%s%s", 2 * (w->depth > 1 ? w->depth - 1 : 0), "",
             key != NULL ? key : "-", key != NULL ? ":" : "");
  }
  w->first[w->depth] = false;
}

void
write_string (struct writer *w, const char *key, const char *value)
{
  start (w, key);
  if (w->json)
    print_json_string (w->out, value);
  else {
    fputc (' ', w->out);
    print_text_string (w->out, value);
    fputc ('\n', w->out);
  }
}

void
write_uint (struct writer *w, const char *key, uint64_t value)
{
  start (w, key);
  fprintf (w->out, w->json ? "%" PRIu64 : " %" PRIu64 "\n", value);
}

void
write_bool (struct writer *w, const char *key, bool value)
{
  start (w, key);
  fprintf (w->out, w->json ? "%s" : " %s\n", value ? "true" : "false");
}

void
write_begin (struct writer *w, const char *key, char bracket)
{
  if (w->depth + 1 >= WRITER_MAX_DEPTH)
    abort ();                   /* output.c nests three deep at most */
  if (w->depth > 0 || w->json)
    start (w, key);
  if (w->json)
    fputc (bracket, w->out);
  else if (w->depth > 0)
    fputc ('\n', w->out);
  w->depth++;
  w->first[w->depth] = true;
}

void
write_end (struct writer *w, char bracket)
{
  w->depth--;
  if (w->json)
    fputc (bracket == '{' ? '}' : ']', w->out);
}
