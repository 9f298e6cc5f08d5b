/* sparsefs: a FUSE daemon showing every image of a folder as a read-only
 * sparse raw file.  This header fixes the FUSE API version for every file
 * of the daemon and holds the settings main.c fills in from the command
 * line.
 */
#ifndef SPARSEFS_SPARSEFS_H
#define SPARSEFS_SPARSEFS_H

/* 3.12: the loop configuration of fuse_loop_cfg_create() (see main.c) */
#define FUSE_USE_VERSION 312
#include <fuse.h>

#include <stdbool.h>
#include <stddef.h>

#include "image.h"

/* What SOURCE and MOUNTPOINT are, decided once at start-up. */
enum source_kind {
  SOURCE_FOLDER,                /* a tree of images */
  SOURCE_IMAGE_IN_FOLDER,       /* one image, shown as NAME.raw in MOUNTPOINT */
  SOURCE_IMAGE_ON_FILE,         /* one image, mounted over a regular file */
};

struct sparsefs_settings {
  enum source_kind kind;
  const char *source;           /* absolute, symlinks resolved */
  struct image_cache *cache;    /* the one cache every image shares */
  const char *const *allowed_dirs;  /* NULL-terminated, for image_open */
  size_t readahead_bytes;       /* kernel readahead window, 0: the kernel's */
};

/* Set by main.c before the file system is mounted, read-only afterwards. */
extern struct sparsefs_settings settings;

/* The fuse_operations table (operations.c). */
extern const struct fuse_operations sparsefs_operations;

#endif
