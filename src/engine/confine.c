#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confine.h"
#include "error.h"
#include "image.h"

/* qemu reads "PROTOCOL:rest" as a protocol name ("json:", "file:", "nbd:",
 * "http:") when the part before the first colon holds no slash.
 */
bool
image_name_is_protocol (const char *name)
{
  size_t prefix = strcspn (name, ":/");

  return name[prefix] == ':';
}

static bool
is_under (const char *path, const char *root)
{
  size_t n = strlen (root);

  if (strcmp (root, "/") == 0)
    return true;
  return strncmp (path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static char *
join_with_parent (const char *image_path, const char *name)
{
  const char *slash = strrchr (image_path, '/');
  char *joined;
  int dir_len;

  if (name[0] == '/' || slash == NULL)
    return strdup (name);
  dir_len = (int) (slash - image_path);
  if (asprintf (&joined, "%.*s/%s", dir_len == 0 ? 1 : dir_len,
                image_path, name) == -1)
    return NULL;
  return joined;
}

char *
confine_path (const char *image_path, const char *what, const char *name,
              const char *const *roots)
{
  char *joined, *resolved;
  size_t i;

  if (name[0] == '\0') {
    report_error ("%s: %s name is empty", image_path, what);
    errno = EINVAL;
    return NULL;
  }
  if (image_name_is_protocol (name)) {
    report_error ("%s: %s \"%s\" is refused: protocol and json: names are "
                  "never followed", image_path, what, name);
    errno = EACCES;
    return NULL;
  }
  joined = join_with_parent (image_path, name);
  if (joined == NULL) {
    report_error ("%s: %s \"%s\": %m", image_path, what, name);
    return NULL;
  }
  resolved = realpath (joined, NULL);
  free (joined);
  if (resolved == NULL) {
    report_error ("%s: %s \"%s\": %m", image_path, what, name);
    return NULL;
  }
  for (i = 0; roots[i] != NULL; i++)
    if (is_under (resolved, roots[i]))
      return resolved;

  report_error ("%s: %s \"%s\" is refused: it resolves to %s, outside the "
                "image's folder %s (allow its folder explicitly with "
                "--allow-dir)", image_path, what, name, resolved, roots[0]);
  free (resolved);
  errno = EACCES;
  return NULL;
}

char *
canonical_dir (const char *dir)
{
  char *resolved = realpath (dir, NULL);

  if (resolved == NULL)
    report_error ("%s: %m", dir);
  return resolved;
}

char *
canonical_parent (const char *path)
{
  const char *slash = strrchr (path, '/');
  char *dir, *resolved;

  if (slash == NULL)
    return canonical_dir (".");
  dir = strndup (path, slash == path ? 1 : (size_t) (slash - path));
  if (dir == NULL) {
    report_error ("%s: %m", path);
    return NULL;
  }
  resolved = canonical_dir (dir);
  free (dir);
  return resolved;
}
