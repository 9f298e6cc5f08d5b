/* The open images: one engine image per version of a source file, shared
 * by every FUSE open of that version and closed on the last release.
 *
 * A file replaced in the source folder has a new version (file-version.h),
 * so new opens get a fresh engine image while earlier opens keep reading
 * the old one until they are released.
 */
#ifndef SPARSEFS_IMAGE_TABLE_H
#define SPARSEFS_IMAGE_TABLE_H

#include <stdbool.h>

#include "file-version.h"
#include "image.h"

/* Which view of a source file a raw file shows, as image_options takes
 * them: an internal snapshot, a disk of an OVA archive, or (both NULL) the
 * file's own image.
 */
struct view_choice {
  const char *snapshot;
  enum image_snapshot_key snapshot_key;
  const char *disk;
};

struct open_image {
  struct image *image;
  struct file_version version;
  /* private to image-table.c */
  const char *path;
  char *snapshot;               /* as view_choice, owned */
  enum image_snapshot_key snapshot_key;
  char *disk;
  unsigned references;
  struct open_image *next;
};

/* Open the image at PATH (absolute), or take another reference to the
 * already open image of the same version, reading the view CHOICE names.
 * On failure returns NULL with errno set; the engine has reported why.
 */
struct open_image *image_table_acquire (const char *path,
                                        const struct view_choice *choice);

/* Whether the file behind OPEN_IMAGE has changed since it was opened (a
 * rewrite in place or a truncation: its version differs).  The engine then
 * reads new bytes through old metadata: what it returns is neither the old
 * image nor the new one.  Logs the change once.  A deleted file has not
 * changed: its open keeps reading it.
 */
bool image_table_changed (const struct open_image *open_image);

/* Drop a reference; the last one closes the engine image. */
void image_table_release (struct open_image *open_image);

#endif
