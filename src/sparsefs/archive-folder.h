/* An OVA archive shown as a folder: one raw file per disk of its disk
 * list (image_ova_disks), named NAME.raw where NAME is the disk's name
 * with '%', '/' and control bytes written as %XX (escaped-name.h).  A
 * name shown twice shows the first disk; a name longer than NAME_MAX is
 * not shown.  Memory: the names, at most TAR_MAX_MEMBERS of them.
 */
#ifndef SPARSEFS_ARCHIVE_FOLDER_H
#define SPARSEFS_ARCHIVE_FOLDER_H

#include <stdbool.h>
#include <stddef.h>

struct archive_entry {
  char *shown;                  /* NAME.raw */
  char *disk;                   /* the disk's name, as image_options.disk */
};

struct archive_folder {
  struct archive_entry *entries;
  size_t count;
};

/* Whether the regular file PATH is an OVA archive that can be listed. */
bool archive_is_ova (const char *path);

/* The disks of the OVA archive PATH into *FOLDER.  Returns 0, or -errno
 * (-ENOENT when PATH is not an OVA).
 */
int archive_folder_read (const char *path, struct archive_folder *folder);
void archive_folder_free (struct archive_folder *folder);

/* The entry shown as NAME, or NULL. */
const struct archive_entry *archive_folder_find (const struct archive_folder *folder,
                                                 const char *name);

#endif
