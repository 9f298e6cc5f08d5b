/* The mounted tree: which source file or folder a FUSE path stands for.
 *
 * In a source folder, every qcow2, VDI or VHD image (probed by content)
 * shows as NAME.raw, where NAME is its file name without a ".qcow2",
 * ".img", ".vdi", ".vhd" or ".vpc" suffix.  Where two entries of a folder would show under one name, each
 * image among them keeps its full file name plus ".raw" instead; an image
 * whose name still collides with a subfolder is not shown.  Subfolders
 * show under their own names; symlinks to files are followed, symlinks to
 * folders are not shown.  Images added, removed or replaced (renamed over)
 * show at once; a file rewritten in place into an image, or out of being
 * one, within a second (namespace.c keeps folder listings that long).
 *
 * Each internal snapshot of a qcow2 image shows beside it as a read-only
 * raw file NAME@SNAPSHOT.raw: NAME is the image's shown name without
 * ".raw", SNAPSHOT the snapshot's name with '%', '/' and control bytes
 * written as %XX (its ID when its name is empty).  Where two snapshots of
 * an image show under one name, the first in table order shows (qemu's
 * lookup by name); a snapshot name that collides with any other entry
 * (image, folder, or another image's snapshot) is not shown, nor is one
 * longer than NAME_MAX.  Snapshot tables are read only for images whose
 * header counts snapshots.
 *
 * An OVA archive (image_ova_disks, by content) shows as a folder under its
 * file name, holding one raw file per disk (archive-folder.h); its folder
 * and disks are found by listing the archive, not kept.
 *
 * A listing also remembers the size and data bytes of each image it
 * shows, per file version, so that listing a folder again measures only
 * the images that changed.  What kept listings hold is counted and capped
 * (LISTINGS_MAX_BYTES in namespace.c).
 */
#ifndef SPARSEFS_NAMESPACE_H
#define SPARSEFS_NAMESPACE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "file-info.h"
#include "tar-header.h"

enum node_kind {
  NODE_FOLDER,
  NODE_IMAGE,
};

struct node {
  enum node_kind kind;
  char source[PATH_MAX];        /* absolute path of the source file or folder */
  struct stat st;               /* its stat, symlinks followed */
  /* Images, when asked for: the measure of version ST, or zeros with
   * measure_failed if the engine can't open it (file_info_error says why).
   */
  bool measure_failed;
  struct raw_view_size size;
  /* Images: the internal snapshot shown (as image_options.snapshot), or
   * "" for the active layer.
   */
  char snapshot[NAME_MAX + 1];
  enum image_snapshot_key snapshot_key;
  /* Folders: whether SOURCE is an OVA archive shown as a folder.  Images:
   * the OVA disk shown (as image_options.disk), or "".
   */
  bool archive;
  char disk[TAR_MAX_NAME + 1];
};

/* NODE's snapshot as image_options takes it: NULL for the active layer. */
static inline const char *
node_snapshot (const struct node *node)
{
  return node->snapshot[0] ? node->snapshot : NULL;
}

/* The view of its source file image NODE shows. */
static inline struct view_choice
node_choice (const struct node *node)
{
  struct view_choice choice = {
    .snapshot = node_snapshot (node),
    .snapshot_key = node->snapshot_key,
    .disk = node->disk[0] ? node->disk : NULL,
  };

  return choice;
}

/* Find the node of PATH (as FUSE gives it, starting with "/").
 * namespace_resolve_measured also measures an image (or finds its measure
 * remembered).  Returns 0 or -errno.
 */
int namespace_resolve (const char *path, struct node *node);
int namespace_resolve_measured (const char *path, struct node *node);

/* An open folder of the mounted tree: one listing of it, from opendir to
 * releasedir, so that the chunks of one pass of readdir number the same
 * entries the same way.
 */
struct open_folder;

/* Open folder PATH for listing.  Returns 0 or -errno. */
int namespace_open_folder (const char *path, struct open_folder **folder);
void namespace_close_folder (struct open_folder *folder);

/* Call EMIT with each entry of FOLDER (not "." and "..") from entry
 * number FROM on: its name, its number, and if WITH_NODES its node as
 * namespace_resolve_measured finds it (NULL if the entry vanished
 * meanwhile).  EMIT returns nonzero to stop.
 */
void namespace_list (struct open_folder *folder, size_t from, bool with_nodes,
                     int (*emit) (void *opaque, const char *name, size_t number,
                                  const struct node *node),
                     void *opaque);

/* What the listing of source folder FOLDER holds: its entries shown and
 * the bytes of memory it takes (read now if none is kept).  Returns 0,
 * -ENODATA if sparsefs keeps no listings for it (a single image), -errno.
 */
int namespace_listing_memory (const struct node *folder, size_t *entries,
                              size_t *bytes);

#endif
