/* Sizes on the command line (see size.h). */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "size.h"

/* The power of 1024 SUFFIX stands for: 0 for none, -1 if not a suffix. */
static int
suffix_power (const char *suffix)
{
  static const char units[] = "kmgtp";
  const char *unit;

  if (*suffix == '\0')
    return 0;
  unit = strchr (units, tolower ((unsigned char) *suffix));
  if (unit == NULL || *unit == '\0')
    return -1;
  if (suffix[1] != '\0' && strcasecmp (suffix + 1, "iB") != 0)
    return -1;
  return unit - units + 1;
}

int
parse_size (const char *text, uint64_t *bytes)
{
  unsigned long long value;
  unsigned shift;
  int power;
  char *end;

  /* strtoull would also take spaces and a sign. */
  if (!isdigit ((unsigned char) text[0])) {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  value = strtoull (text, &end, 10);
  power = suffix_power (end);
  if (power == -1) {
    errno = EINVAL;
    return -1;
  }
  shift = 10 * (unsigned) power;
  if (errno == ERANGE || (shift > 0 && value > (UINT64_MAX >> shift))) {
    errno = ERANGE;
    return -1;
  }
  *bytes = (uint64_t) value << shift;
  return 0;
}
