/* An RBD target's name (see rbd-name.h). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rbd-name.h"

bool
is_rbd_name (const char *name)
{
  return strncmp (name, RBD_NAME_PREFIX, strlen (RBD_NAME_PREFIX)) == 0;
}

/* Cut S at the first unescaped SEP, removing the escapes before it: S is
 * the first field, the return value the rest (NULL if SEP was not found).
 */
static char *
cut_field (char *s, char sep)
{
  char *in = s, *out = s;

  while (*in != '\0' && *in != sep) {
    if (*in == '\\' && in[1] != '\0')
      in++;
    *out++ = *in++;
  }
  if (*in == '\0') {
    *out = '\0';
    return NULL;
  }
  *out = '\0';
  return in + 1;
}

static int
malformed (const char *name, const char *why)
{
  report_error ("%s: not an RBD name (rbd:POOL[/NAMESPACE]/IMAGE"
                "[:conf=FILE][:id=USER]): %s", name, why);
  errno = EINVAL;
  return -1;
}

static int
add_option (const char *name, struct rbd_name *n, char *field)
{
  char *value = strchr (field, '=');

  if (value == NULL || value == field)
    return malformed (name, "an option is not KEY=VALUE");
  *value++ = '\0';
  if (strcmp (field, "conf") == 0)
    n->conf = value;
  else if (strcmp (field, "id") == 0)
    n->id = value;
  else if (n->option_count == RBD_NAME_MAX_OPTIONS)
    return malformed (name, "too many options");
  else
    n->options[n->option_count++] = (struct rbd_option) { field, value };
  return 0;
}

/* POOL/IMAGE or POOL/NAMESPACE/IMAGE, with its escapes. */
static int
split_path (const char *name, struct rbd_name *n, char *path)
{
  char *second = cut_field (path, '/'), *third;

  if (second == NULL)
    return malformed (name, "no '/' between the pool and the image");
  third = cut_field (second, '/');
  n->pool = path;
  n->ns = "";
  n->image = second;
  if (third != NULL) {
    if (cut_field (third, '/') != NULL)
      return malformed (name, "more than POOL/NAMESPACE/IMAGE");
    n->ns = second;
    n->image = third;
  }
  if (*n->pool == '\0' || *n->image == '\0')
    return malformed (name, "an empty pool or image name");
  if (strchr (n->image, '@'))
    return malformed (name, "a snapshot cannot be written");
  return 0;
}

int
rbd_name_parse (const char *name, struct rbd_name *n)
{
  char *rest, *field;

  memset (n, 0, sizeof *n);
  n->buffer = strdup (name + strlen (RBD_NAME_PREFIX));
  if (n->buffer == NULL) {
    report_error ("%s: %m", name);
    return -1;
  }
  /* The path keeps its escapes until it is split on '/'. */
  rest = n->buffer;
  while (*rest != '\0' && *rest != ':')
    rest += (*rest == '\\' && rest[1] != '\0') ? 2 : 1;
  if (*rest == ':')
    *rest++ = '\0';
  else
    rest = NULL;
  while (rest != NULL) {
    field = rest;
    rest = cut_field (field, ':');
    if (add_option (name, n, field) == -1)
      goto fail;
  }
  if (split_path (name, n, n->buffer) == -1)
    goto fail;
  return 0;

 fail:
  rbd_name_free (n);
  return -1;
}

void
rbd_name_free (struct rbd_name *n)
{
  free (n->buffer);
  n->buffer = NULL;
}
