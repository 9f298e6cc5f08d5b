/* Extended attributes of the raw files (see xattr.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file-info.h"
#include "image-table.h"
#include "xattr.h"

#define PREFIX "user.sparsefs."

enum attribute {
  FORMAT, VIRTUAL_SIZE, CLUSTER_SIZE, COMPRESSION, SUBFORMAT, CREATOR,
  BACKING_CHAIN, DATA_FILE, DATA_BYTES, SNAPSHOT, ERROR, ATTRIBUTES
};

static const char *const names[ATTRIBUTES] = {
  [FORMAT] = PREFIX "format",
  [VIRTUAL_SIZE] = PREFIX "virtual_size",
  [CLUSTER_SIZE] = PREFIX "cluster_size",
  [COMPRESSION] = PREFIX "compression",
  [SUBFORMAT] = PREFIX "subformat",
  [CREATOR] = PREFIX "creator",
  [BACKING_CHAIN] = PREFIX "backing_chain",
  [DATA_FILE] = PREFIX "data_file",
  [DATA_BYTES] = PREFIX "data_bytes",
  [SNAPSHOT] = PREFIX "snapshot",
  [ERROR] = PREFIX "error",
};

/* What the attributes of one raw file are made from. */
struct described {
  struct open_image *open_image;        /* NULL if the image failed */
  struct raw_view_size size;
  char error[1024];
};

static int
describe_node (const struct node *node, struct described *d)
{
  struct view_choice choice = node_choice (node);

  *d = (struct described) { 0 };
  if (file_info_measure (node->source, &node->st, &choice, &d->size) == 0)
    d->open_image = image_table_acquire (node->source, &choice);
  if (file_info_error (&node->st, d->error, sizeof d->error) || d->open_image)
    return 0;
  return errno == ENOMEM ? -ENOMEM : -EIO;
}

/* "PATH (FORMAT)\n" for each image below the top. */
static char *
backing_chain (const struct image *top)
{
  const struct image *image;
  char *chain = NULL;
  size_t length = 0;
  FILE *out = open_memstream (&chain, &length);

  if (out == NULL)
    return NULL;
  for (image = image_backing (top); image; image = image_backing (image))
    fprintf (out, "%s%s (%s)", image == image_backing (top) ? "" : "\n",
             image_describe (image)->path,
             image_format_name (image_describe (image)->format));
  if (fclose (out) != 0) {
    free (chain);
    return NULL;
  }
  return chain;
}

/* TEXT as an attribute's value: 1 with *VALUE malloc'd, 0 when TEXT is
 * NULL (no such attribute), -ENOMEM.
 */
static int
optional_string (const char *text, char **value)
{
  if (text == NULL)
    return 0;
  *value = strdup (text);
  return *value ? 1 : -ENOMEM;
}

/* The value of ATTRIBUTE: 1 with *VALUE malloc'd, 0 when the raw file has
 * no such attribute, -ENOMEM.
 */
static int
value_of (const struct described *d, enum attribute attribute, char **value)
{
  const struct image_description *desc;
  int r = -1;

  *value = NULL;
  if (attribute == ERROR) {
    if (d->error[0] == '\0')
      return 0;
    *value = strdup (d->error);
    return *value ? 1 : -ENOMEM;
  }
  if (d->open_image == NULL)
    return 0;
  desc = image_describe (d->open_image->image);
  switch (attribute) {
  case FORMAT:
    r = asprintf (value, "%s", image_format_name (desc->format));
    break;
  case VIRTUAL_SIZE:
    /* What qemu-img info shows: whole sectors, as read. */
    r = asprintf (value, "%" PRIu64, image_size (d->open_image->image));
    break;
  case CLUSTER_SIZE:
    if (desc->cluster_size == 0)
      return 0;
    r = asprintf (value, "%" PRIu32, desc->cluster_size);
    break;
  case COMPRESSION:
    return optional_string (desc->compression, value);
  case SUBFORMAT:
    return optional_string (desc->subformat, value);
  case CREATOR:
    return optional_string (desc->creator, value);
  case BACKING_CHAIN:
    if (image_backing (d->open_image->image) == NULL)
      return 0;
    *value = backing_chain (d->open_image->image);
    return *value ? 1 : -ENOMEM;
  case DATA_FILE:
    return optional_string (desc->data_file, value);
  case DATA_BYTES:
    if (!d->size.data_bytes_known)
      return 0;
    r = asprintf (value, "%" PRIu64, d->size.data_bytes);
    break;
  case SNAPSHOT:
    if (desc->snapshot_id == NULL)
      return 0;
    r = asprintf (value, "%s\n%s", desc->snapshot_id, desc->snapshot_name);
    break;
  case ERROR:                   /* answered above */
  case ATTRIBUTES:
    return 0;
  }
  if (r == -1) {
    *value = NULL;
    return -ENOMEM;
  }
  return 1;
}

/* Copy LENGTH bytes into BUF as the xattr calls do: SIZE 0 asks only for
 * the length, a smaller buffer is ERANGE.
 */
static int
reply_bytes (const char *bytes, size_t length, char *buf, size_t size)
{
  if (size == 0)
    return length;
  if (size < length)
    return -ERANGE;
  memcpy (buf, bytes, length);
  return length;
}

static int
list_described (const struct described *d, char *buf, size_t size)
{
  char list[512];
  size_t length = 0;
  char *value;
  int a, r;

  for (a = 0; a < ATTRIBUTES; a++) {
    r = value_of (d, a, &value);
    free (value);
    if (r < 0)
      return r;
    if (r == 1) {
      memcpy (list + length, names[a], strlen (names[a]) + 1);
      length += strlen (names[a]) + 1;
    }
  }
  return reply_bytes (list, length, buf, size);
}

static int
get_described (const struct described *d, const char *name, char *buf, size_t size)
{
  char *value;
  int a, r;

  for (a = 0; a < ATTRIBUTES && strcmp (name, names[a]) != 0; a++)
    ;
  if (a == ATTRIBUTES)
    return -ENODATA;
  r = value_of (d, a, &value);
  if (r == 1)
    r = reply_bytes (value, strlen (value), buf, size);
  else if (r == 0)
    r = -ENODATA;
  free (value);
  return r;
}

/* ---- folders ---------------------------------------------------------- */

static const char *const folder_names[] = {
  PREFIX "listing_entries", PREFIX "listing_bytes",
};

static int
folder_list (const struct node *node, char *buf, size_t size)
{
  size_t entries, bytes;
  char list[64];
  int r = namespace_listing_memory (node, &entries, &bytes);

  if (r == -ENODATA)
    return 0;
  if (r < 0)
    return r;
  r = snprintf (list, sizeof list, "%s%c%s", folder_names[0], '\0', folder_names[1]);
  return reply_bytes (list, r + 1, buf, size);
}

static int
folder_get (const struct node *node, const char *name, char *buf, size_t size)
{
  size_t entries, bytes;
  char value[32];
  int r;

  if (strcmp (name, folder_names[0]) != 0 && strcmp (name, folder_names[1]) != 0)
    return -ENODATA;
  r = namespace_listing_memory (node, &entries, &bytes);
  if (r < 0)
    return r;
  r = snprintf (value, sizeof value, "%zu",
                strcmp (name, folder_names[0]) == 0 ? entries : bytes);
  return reply_bytes (value, r, buf, size);
}

/* ---- calls -------------------------------------------------------------- */

bool
xattr_is_ours (const char *name)
{
  return strncmp (name, PREFIX, strlen (PREFIX)) == 0;
}

int
xattr_list (const struct node *node, char *buf, size_t size)
{
  struct described d;
  int r;

  if (node->kind != NODE_IMAGE)
    return folder_list (node, buf, size);
  r = describe_node (node, &d);
  if (r == 0)
    r = list_described (&d, buf, size);
  if (d.open_image)
    image_table_release (d.open_image);
  return r;
}

int
xattr_get (const struct node *node, const char *name, char *buf, size_t size)
{
  struct described d;
  int r;

  if (node->kind != NODE_IMAGE)
    return folder_get (node, name, buf, size);
  r = describe_node (node, &d);
  if (r == 0)
    r = get_described (&d, name, buf, size);
  if (d.open_image)
    image_table_release (d.open_image);
  return r;
}
