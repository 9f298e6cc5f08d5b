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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "ovf-references.h"
#include "tar-header.h"

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

/* What the archive's reader and its stream reader (stream-ova.c) share. */

/* NAME without its leading "./": "./disk.vmdk" and "disk.vmdk" name the
 * same member.
 */
const char *ova_plain_name (const char *name);

/* Whether a member called NAME is an OVF descriptor (by its suffix). */
bool ova_names_ovf (const char *name);

/* Report that the OVF OVF of the archive PATH names a File HREF (its
 * reference INDEX) that is WHAT ("not a member", "not a regular member")
 * of the archive.  Returns -1 (EINVAL).
 */
int ova_missing_reference (const char *path, const char *ovf,
                           const char *href, unsigned index,
                           const char *what);

/* Report that member M's data pass the end of the archive PATH, of
 * ARCHIVE_SIZE bytes.  Returns -1 (EINVAL).
 */
int ova_data_past_end (const char *path, const struct tar_member *m,
                       uint64_t archive_size);

/* Read exactly BYTES into BUF.  Returns 0, or -1 after reporting. */
typedef int ova_read_fn (void *opaque, void *buf, size_t bytes);

/* Read the OVF called OVF of the archive PATH, BYTES long (refused above
 * OVA_MAX_OVF_BYTES), with READ, and call FN on each File's href in order
 * (ovf_references).  Returns 0, FN's value, or -1 after reporting.
 */
int ova_read_ovf (const char *path, const char *ovf, uint64_t bytes,
                  ova_read_fn *read, void *read_opaque,
                  ovf_reference_fn *fn, void *opaque);

#endif
