/* Strings read from image headers, printed safely (see output.h). */
#include <config.h>

#include <stddef.h>

#include "output.h"

/* The length of the valid UTF-8 sequence at S, or 0. */
static size_t
utf8_length (const unsigned char *s)
{
  size_t n, i;
  unsigned c = s[0];
  unsigned long cp;

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  /* Overlong forms, surrogates and values past U+10FFFF. */
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
      || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void
print_json_string (FILE *out, const char *string)
{
  const unsigned char *s = (const unsigned char *) string;

  fputc ('"', out);
  while (*s) {
    size_t n = utf8_length (s);

    if (n == 0) {
      fputs ("\\ufffd", out);
      s++;
    }
    else if (*s == '"' || *s == '\\')
      fprintf (out, "\\%c", *s++);
    else if (*s < 0x20 || *s == 0x7f)
      fprintf (out, "\\u%04x", *s++);
    else {
      fwrite (s, 1, n, out);
      s += n;
    }
  }
  fputc ('"', out);
}

void
print_text_string (FILE *out, const char *string)
{
  const unsigned char *s = (const unsigned char *) string;

  for (; *s; s++)
    if (*s < 0x20 || *s == 0x7f || *s == '\\')
      fprintf (out, "\\x%02x", *s);
    else
      fputc (*s, out);
}
