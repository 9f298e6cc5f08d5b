/* The kernel's readahead window for the mount.
 *
 * FUSE mounts start with 128 KiB of readahead, so a sequential reader
 * (cat, cp, dd) sends one 128 KiB request at a time and waits for each.
 * A larger window lets the kernel send 1 MiB requests, several at once,
 * which the daemon's threads serve in parallel.  The window is the bdi's
 * read_ahead_kb in sysfs (root only), and the kernel lowers it to its own
 * proposal while it processes FUSE_INIT, so it is raised after that: at
 * the first open.
 */
#ifndef SPARSEFS_READAHEAD_H
#define SPARSEFS_READAHEAD_H

#include <stddef.h>

/* After mounting MOUNTPOINT (absolute): find its bdi, remember to set its
 * window to BYTES (0: leave the kernel's).  Failing is not an error: the
 * mount works with the default window.
 */
void readahead_prepare (const char *mountpoint, size_t bytes);

/* Set the window, once; call at each open. */
void readahead_apply (void);

#endif
