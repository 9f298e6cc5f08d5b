/* The VMDK text descriptor, read as qemu's block/vmdk.c reads it: fields
 * are found by the first occurrence of their name anywhere in the text,
 * and extent lines are scanned with qemu's own pattern, so that an image
 * means here exactly what it means to qemu.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vmdk-format.h"
#include "vmdk-internal.h"

static int
refused (int err)
{
  errno = err;
  return -1;
}

/* Text up to the first NUL, NULs after it (qemu pads a descriptor file to
 * a whole sector).
 */
int
vmdk_check_text (const char *path, const char *text, size_t len)
{
  size_t i, end = strnlen (text, len);

  for (i = 0; i < len; i++) {
    unsigned char c = text[i];

    if (i < end ? c < 0x20 && c != '\t' && c != '\n' && c != '\r' : c != 0) {
      report_error ("%s: VMDK descriptor: byte 0x%02x at offset %zu is not "
                    "text", path, c, i);
      return refused (EINVAL);
    }
  }
  return 0;
}

int
vmdk_desc_string (const char *path, const char *desc, const char *name,
                  size_t max, char **value)
{
  const char *p = strstr (desc, name), *end;
  size_t skip = strlen (name) + 2;      /* name=" */

  if (p == NULL)
    return 0;
  if (strnlen (p, skip) < skip) {
    report_error ("%s: VMDK descriptor: %s has no value", path, name);
    return refused (EINVAL);
  }
  p += skip;
  end = strchr (p, '"');
  if (end == NULL) {
    report_error ("%s: VMDK descriptor: %s has no closing quote", path, name);
    return refused (EINVAL);
  }
  if ((size_t) (end - p) > max) {
    report_error ("%s: VMDK descriptor: %s of %zu bytes is too long (at "
                  "most %zu)", path, name, (size_t) (end - p), max);
    return refused (EINVAL);
  }
  *value = strndup (p, end - p);
  if (*value == NULL) {
    report_error ("%s: %m", path);
    return -1;
  }
  return 1;
}

int
vmdk_desc_cid (const char *path, const char *desc, const char *name,
               uint32_t *cid)
{
  const char *p = strstr (desc, name);
  size_t skip = strlen (name) + 1;      /* name= */

  if (p == NULL || strnlen (p, skip) < skip
      || sscanf (p + skip, "%" SCNx32, cid) != 1) {
    report_error ("%s: VMDK descriptor: no %s (qemu needs it)", path, name);
    return refused (EINVAL);
  }
  return 0;
}

int
vmdk_desc_identity (const char *path, const char *desc, char **parent_name,
                    uint32_t *cid, uint32_t *parent_cid)
{
  char *head = strndup (desc, VMDK_DESC_BYTES);
  int r = -1;

  if (head == NULL) {
    report_error ("%s: %m", path);
    return -1;
  }
  if (vmdk_desc_string (path, head, "parentFileNameHint",
                        VMDK_MAX_PARENT_NAME, parent_name) != -1
      && vmdk_desc_cid (path, head, "CID", cid) == 0
      && vmdk_desc_cid (path, head, "parentCID", parent_cid) == 0)
    r = 0;
  free (head);
  return r;
}

static const char *
next_line (const char *p, unsigned *line)
{
  const char *nl = strchr (p, '\n');

  if (nl == NULL)
    return p + strlen (p);
  (*line)++;
  return nl + 1;
}

static bool
is_known_type (const char *type)
{
  static const char *const types[] = {
    "FLAT", "SPARSE", "VMFS", "VMFSSPARSE", "SESPARSE",
  };
  size_t i;

  for (i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp (type, types[i]) == 0)
      return true;
  return false;
}

/* Whether L (MATCHES fields scanned) has the fields its type needs: FLAT
 * an offset, every other type none (VMFS then starts at 0).
 */
static bool
has_right_fields (struct vmdk_extent_line *l, int matches)
{
  if (strcmp (l->type, "FLAT") == 0)
    return matches == 5 && l->flat_offset >= 0;
  if (strcmp (l->type, "VMFS") == 0)
    l->flat_offset = 0;
  return matches == 4;
}

int
vmdk_desc_extents (const char *path, const char *desc,
                   vmdk_extent_line_fn *each, void *opaque)
{
  struct vmdk_extent_line l;
  char access[11];
  unsigned line = 1;
  const char *p;
  int matches, r;

  for (p = desc; *p; p = next_line (p, &line)) {
    memset (&l, 0, sizeof l);
    l.line = line;
    l.flat_offset = -1;
    /* qemu's pattern, whitespace (newlines too) between fields included. */
    matches = sscanf (p, "%10s %" SCNd64 " %10s \"%511[^\n\r\"]\" %" SCNd64,
                      access, &l.sectors, l.type, l.name, &l.flat_offset);
    if (matches < 4 || strcmp (access, "RW") != 0)
      continue;
    if (!has_right_fields (&l, matches)) {
      report_error ("%s: VMDK descriptor line %u: invalid extent line",
                    path, line);
      return refused (EINVAL);
    }
    if (l.sectors <= 0 || !is_known_type (l.type))
      continue;
    r = each (&l, opaque);
    if (r != 0)
      return r;
  }
  return 0;
}
