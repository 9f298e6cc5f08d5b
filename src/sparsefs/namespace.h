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
 */
#ifndef SPARSEFS_NAMESPACE_H
#define SPARSEFS_NAMESPACE_H

#include <limits.h>
#include <sys/stat.h>

enum node_kind {
  NODE_FOLDER,
  NODE_IMAGE,
};

struct node {
  enum node_kind kind;
  char source[PATH_MAX];        /* absolute path of the source file or folder */
  struct stat st;               /* its stat, symlinks followed */
};

/* Find the node of PATH (as FUSE gives it, starting with "/").
 * Returns 0 or -errno.
 */
int namespace_resolve (const char *path, struct node *node);

/* Call EMIT with the name of each entry of folder PATH (not "." and "..").
 * EMIT returns nonzero to stop early.  Returns 0 or -errno.
 */
int namespace_list (const char *path,
                    int (*emit) (void *opaque, const char *name), void *opaque);

#endif
