/* Extended attributes describing each raw file's image, for inspection
 * with getfattr -d -m - NAME.raw.  All are read-only, under "user.sparsefs.":
 *   format         "qcow2", "vdi", "vpc" (VHD) or "raw"
 *   virtual_size   bytes, decimal (whole sectors, as qemu-img info shows)
 *   cluster_size   bytes (qcow2; the block size of VDI and dynamic VHD)
 *   compression    "zlib" or "zstd" (qcow2)
 *   subformat      "static" or "dynamic" (VDI), "fixed" or "dynamic" (VHD)
 *   creator        the application that made a VHD ("vpc", "win", "qemu")
 *   backing_chain  one line per backing file, top down: "PATH (FORMAT)"
 *   data_file      the external data file's name (qcow2 with one)
 *   data_bytes     bytes of the raw view with data behind them
 *   snapshot       NAME@SNAPSHOT.raw only: the internal snapshot's ID, a
 *                  newline, and its name
 *   error          only when the image can't be opened or its map walked:
 *                  the engine's message
 * and of folders (in a mounted folder of images):
 *   listing_entries  entries the folder shows
 *   listing_bytes    bytes of memory the daemon's listing of it holds
 */
#ifndef SPARSEFS_XATTR_H
#define SPARSEFS_XATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "namespace.h"

/* Whether NAME is one of ours (under "user.sparsefs."). */
bool xattr_is_ours (const char *name);

/* listxattr(2) and getxattr(2) of NODE: the length, or -errno. */
int xattr_list (const struct node *node, char *buf, size_t size);
int xattr_get (const struct node *node, const char *name, char *buf, size_t size);

#endif
