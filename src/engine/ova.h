/* OVA archives: which disks a tar holding an OVF carries, and where.
 *
 * The archive's headers are read in place (tar-header.h), one block at a
 * time, and checked against the file: every member's data must lie inside
 * it.  The disks are the OVF's <References> files in order
 * (ovf-references.h), each of which must be a regular member, or, when it
 * lists none, the regular members other than the OVF that probe as an
 * image format other than raw.  Memory: the member list, at most
 * TAR_MAX_MEMBERS names, and the OVF text, at most OVA_MAX_OVF_BYTES.
 */
#ifndef SPARSEFS_OVA_H
#define SPARSEFS_OVA_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define OVA_MAX_OVF_BYTES (1024 * 1024)

struct ova {
  struct image_disk *disks;     /* names owned */
  size_t n_disks;
};

/* Read the file FD (PATH, SIZE bytes).  Returns 1 with *OVA filled when it
 * is an OVA, 0 when it is not (it does not start with a valid tar header,
 * or no member's name ends in ".ovf"), or -1 after reporting a damaged
 * archive or OVF.
 */
int ova_open (const char *path, int fd, uint64_t size, struct ova *ova);
void ova_free (struct ova *ova);

/* The disk SELECTOR names (image_options.disk; NULL: the only one), or
 * NULL after reporting (EINVAL), the message listing the disks.
 */
const struct image_disk *ova_select (const char *path, const struct ova *ova,
                                     const char *selector);

#endif
