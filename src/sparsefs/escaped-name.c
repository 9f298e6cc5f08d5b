/* Escaping names for shown file names (see escaped-name.h). */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>

#include "escaped-name.h"

static bool
escaped_byte (unsigned char c)
{
  return c == '%' || c == '/' || c < 0x20 || c == 0x7f;
}

size_t
escaped_length (const char *text)
{
  size_t length = 0;

  for (; *text; text++)
    length += escaped_byte (*text) ? 3 : 1;
  return length;
}

char *
put_escaped (char *to, const char *text)
{
  for (; *text; text++)
    if (escaped_byte (*text))
      to += sprintf (to, "%%%02X", (unsigned char) *text);
    else
      *to++ = *text;
  return to;
}
