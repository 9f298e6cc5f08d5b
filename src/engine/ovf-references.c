/* The OVF's file list (see ovf-references.h).  A scan over tags, not an
 * XML parser: the engine needs one attribute of one element, and every
 * step is bounded by the text's length.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ovf-references.h"
#include "tar-header.h"

struct scan {
  const char *where;
  const char *text;
  bool in_references;
  unsigned files;
  ovf_reference_fn *fn;
  void *opaque;
};

static int
malformed (const struct scan *s, const char *at, const char *what)
{
  report_error ("%s: byte %zu: %s", s->where, (size_t) (at - s->text), what);
  errno = EINVAL;
  return -1;
}

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
ends_name (char c)
{
  return c == '\0' || c == '>' || c == '/' || c == '=' || is_space (c);
}

/* Whether the name of LENGTH bytes at NAME is WANT after any prefix. */
static bool
local_name_is (const char *name, size_t length, const char *want)
{
  const char *colon = memchr (name, ':', length);

  while (colon != NULL) {
    length -= (size_t) (colon + 1 - name);
    name = colon + 1;
    colon = memchr (name, ':', length);
  }
  return length == strlen (want) && memcmp (name, want, length) == 0;
}

static const char *
skip_spaces (const char *p)
{
  while (is_space (*p))
    p++;
  return p;
}

/* One entity or character reference at P (after '&'): its byte in *C,
 * its length through ';' in *USED.  0, or -1 when not one we decode.
 */
static int
decode_reference (const char *p, char *c, size_t *used)
{
  static const struct { const char *name; char c; } named[] = {
    { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
    { "quot;", '"' }, { "apos;", '\'' },
  };
  unsigned long v;
  char *end;
  size_t i;

  for (i = 0; i < sizeof named / sizeof named[0]; i++)
    if (strncmp (p, named[i].name, strlen (named[i].name)) == 0) {
      *c = named[i].c;
      *used = strlen (named[i].name);
      return 0;
    }
  if (*p != '#')
    return -1;
  if (p[1] == 'x')
    v = strtoul (p + 2, &end, 16);
  else
    v = strtoul (p + 1, &end, 10);
  if (*end != ';' || end == p + 1 || end == p + 2 || v == 0 || v > 0x7f)
    return -1;
  *c = (char) v;
  *used = (size_t) (end + 1 - p);
  return 0;
}

/* The attribute value of LENGTH bytes at VALUE, decoded into HREF. */
static int
decode_value (const struct scan *s, const char *value, size_t length,
              char *href)
{
  size_t i = 0, n = 0, used;
  char c;

  while (i < length) {
    if (n == TAR_MAX_NAME)
      return malformed (s, value, "File href is longer than a tar name");
    if (value[i] != '&') {
      href[n++] = value[i++];
      continue;
    }
    if (decode_reference (value + i + 1, &c, &used) == -1
        || i + 1 + used > length)
      return malformed (s, value + i, "File href holds an entity other than "
                        "&amp; &lt; &gt; &quot; &apos; or an ASCII &#N;");
    href[n++] = c;
    i += 1 + used;
  }
  href[n] = '\0';
  return 0;
}

/* A File element's attributes from P; its href decoded into HREF, or an
 * empty HREF when it has none.  *END: past the tag.
 */
static int
file_attributes (const struct scan *s, const char *p, char *href,
                 const char **end)
{
  href[0] = '\0';
  for (;;) {
    const char *name, *value, *close;
    size_t name_length;
    char quote;

    p = skip_spaces (p);
    if (*p == '>' || (p[0] == '/' && p[1] == '>')) {
      *end = p + (*p == '>' ? 1 : 2);
      return 0;
    }
    for (name = p; !ends_name (*p); p++)
      ;
    name_length = (size_t) (p - name);
    p = skip_spaces (p);
    if (p == name || *p != '=')
      return malformed (s, name, "File element: attribute without a value");
    p = skip_spaces (p + 1);
    quote = *p;
    if (quote != '"' && quote != '\'')
      return malformed (s, p, "File element: attribute value not quoted");
    value = p + 1;
    close = strchr (value, quote);
    if (close == NULL)
      return malformed (s, p, "File element: attribute value not closed");
    if (local_name_is (name, name_length, "href")
        && decode_value (s, value, (size_t) (close - value), href) == -1)
      return -1;
    p = close + 1;
  }
}

static int
take_file (struct scan *s, const char *tag, const char *attributes,
           const char **end)
{
  char href[TAR_MAX_NAME + 1];

  if (file_attributes (s, attributes, href, end) == -1)
    return -1;
  if (href[0] == '\0')
    return malformed (s, tag, "File element has no href");
  if (s->files == OVF_MAX_REFERENCES)
    return malformed (s, tag, "References lists more files than the "
                      "engine takes (256)");
  return s->fn (href, s->files++, s->opaque);
}

/* Past the end of the markup at P that is not an element: a comment, a
 * processing instruction, a declaration or CDATA.
 */
static int
skip_other_markup (const struct scan *s, const char *p, const char **end)
{
  const char *close;

  if (strncmp (p, "<!--", 4) == 0)
    close = strstr (p + 4, "-->");
  else if (strncmp (p, "<![CDATA[", 9) == 0)
    close = strstr (p + 9, "]]>");
  else
    close = strchr (p, '>');
  if (close == NULL)
    return malformed (s, p, "markup is not closed");
  *end = close + (close[0] == '>' ? 1 : 3);
  return 0;
}

/* The element tag at P ('<'); *END past its name at least. */
static int
element (struct scan *s, const char *p, const char **end)
{
  bool closing = p[1] == '/';
  const char *name = p + 1 + closing, *q = name;
  size_t length;

  while (!ends_name (*q))
    q++;
  length = (size_t) (q - name);
  *end = q;
  if (local_name_is (name, length, "References")) {
    const char *gt = strchr (q, '>');

    if (gt == NULL)
      return malformed (s, p, "References tag is not closed");
    s->in_references = !closing && gt[-1] != '/';
    *end = gt + 1;
    return 0;
  }
  if (s->in_references && !closing && local_name_is (name, length, "File"))
    return take_file (s, p, q, end);
  return 0;
}

int
ovf_references (const char *where, const char *text, ovf_reference_fn *fn,
                void *opaque)
{
  struct scan s = { .where = where, .text = text, .fn = fn,
                    .opaque = opaque };
  const char *p = text;
  int r;

  while ((p = strchr (p, '<')) != NULL) {
    if (p[1] == '!' || p[1] == '?')
      r = skip_other_markup (&s, p, &p);
    else
      r = element (&s, p, &p);
    if (r != 0)
      return r;
  }
  return 0;
}
