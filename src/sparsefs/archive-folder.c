/* OVA archives shown as folders (see archive-folder.h). */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "archive-folder.h"
#include "escaped-name.h"
#include "image.h"
#include "tar-header.h"

static const char raw_suffix[] = ".raw";

static int
ignore_disk (const struct image_disk *disk, void *opaque)
{
  return 0;
}

bool
archive_is_ova (const char *path)
{
  bool is_ova;

  return image_ova_disks (path, &is_ova, ignore_disk, NULL) == 0 && is_ova;
}

static int
add_disk (const struct image_disk *disk, void *opaque)
{
  struct archive_folder *folder = opaque;
  size_t length = escaped_length (disk->name) + sizeof raw_suffix;
  struct archive_entry *entry;
  char *shown;

  if (length - 1 > NAME_MAX)
    return 0;
  shown = malloc (length);
  if (shown == NULL)
    return -ENOMEM;
  memcpy (put_escaped (shown, disk->name), raw_suffix, sizeof raw_suffix);
  if (archive_folder_find (folder, shown) != NULL) {
    free (shown);
    return 0;
  }
  entry = &folder->entries[folder->count];
  entry->shown = shown;
  entry->disk = strdup (disk->name);
  if (entry->disk == NULL) {
    free (shown);
    return -ENOMEM;
  }
  folder->count++;
  return 0;
}

int
archive_folder_read (const char *path, struct archive_folder *folder)
{
  bool is_ova;
  int r;

  folder->count = 0;
  folder->entries = calloc (TAR_MAX_MEMBERS, sizeof *folder->entries);
  if (folder->entries == NULL)
    return -ENOMEM;
  r = image_ova_disks (path, &is_ova, add_disk, folder);
  if (r == 0 && !is_ova)
    r = -ENOENT;
  else if (r == -1)
    r = errno == ENOMEM ? -ENOMEM : -EIO;
  if (r < 0)
    archive_folder_free (folder);
  return r;
}

void
archive_folder_free (struct archive_folder *folder)
{
  size_t i;

  for (i = 0; i < folder->count; i++) {
    free (folder->entries[i].shown);
    free (folder->entries[i].disk);
  }
  free (folder->entries);
  folder->entries = NULL;
  folder->count = 0;
}

const struct archive_entry *
archive_folder_find (const struct archive_folder *folder, const char *name)
{
  size_t i;

  for (i = 0; i < folder->count; i++)
    if (strcmp (folder->entries[i].shown, name) == 0)
      return &folder->entries[i];
  return NULL;
}
