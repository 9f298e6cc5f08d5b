/* Path confinement for the files an image names: its backing file and its
 * external data file.
 *
 * Such a name is data from a stranger.  qemu follows absolute names,
 * `json:{...}` and protocol names, which lets an image read any host file
 * (CVE-2022-47951, CVE-2024-32498).  We open a named file only when, after
 * resolving it against the naming image's folder and following every
 * symlink, it lies inside one of the ROOTS: the top image's folder and the
 * folders the operator allowed.
 */
#ifndef SPARSEFS_CONFINE_H
#define SPARSEFS_CONFINE_H

/* Resolve NAME, found in IMAGE_PATH's header as its WHAT ("backing file",
 * "data file"), to a canonical path inside one of ROOTS (NULL-terminated,
 * canonical folders).  Returns a malloc'd path, or NULL with errno set
 * (EACCES when refused) after reporting why.
 */
char *confine_path (const char *image_path, const char *what, const char *name,
                    const char *const *roots);

/* The canonical form of folder DIR (malloc'd), or NULL after reporting. */
char *canonical_dir (const char *dir);

/* The canonical folder holding PATH (malloc'd), or NULL after reporting. */
char *canonical_parent (const char *path);

#endif
