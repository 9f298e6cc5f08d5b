/* Inspecting one image: its chain as far as it may be followed, and the
 * verdict an import service acts on.
 */
#ifndef SPARSEINFO_INSPECT_H
#define SPARSEINFO_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* Why an image is unsafe; the names (reason_name) are stable. */
enum reason_kind {
  REASON_OUTSIDE,               /* names a file outside the allowed folders */
  REASON_PROTOCOL,              /* names a json: or protocol: file */
  REASON_ENCRYPTED,
  REASON_DAMAGED,               /* a damaged structure, a loop, too deep */
  REASON_UNSUPPORTED,           /* a format feature we refuse */
  REASON_UNREADABLE_FILE,       /* names a file that cannot be opened */
  REASON_DIRTY,                 /* qcow2 dirty bit: refcounts not flushed */
  REASON_CORRUPT,               /* qcow2 corrupt bit */
};

struct reason {
  enum reason_kind kind;
  const char *file;             /* the layer it is about */
  char *message;                /* malloc'd: what is wrong, naming it */
};

/* Bounded: each layer gives at most one reason of each kind it can. */
#define MAX_REASONS (IMAGE_MAX_CHAIN_DEPTH * 5 + 1)

enum verdict {
  VERDICT_SAFE,
  VERDICT_UNSAFE,
  VERDICT_UNREADABLE,           /* the image itself cannot be read */
};

struct inspection {
  const char *path;
  const struct image_disk *disk;  /* the disk of an OVA PATH, or NULL */
  enum verdict verdict;
  struct image *image;          /* opened to describe, or NULL */
  bool have_data_bytes;         /* safe images only */
  uint64_t data_bytes;
  struct reason reasons[MAX_REASONS];
  size_t n_reasons;
  char *error;                  /* VERDICT_UNREADABLE: why (malloc'd) */
};

/* Inspect PATH (its DISK when PATH is an OVA, else NULL; DISK must live
 * as long as *I), confined to its folder and ALLOWED_DIRS (NULL-terminated,
 * or NULL), into *I.  Never fails: an image that cannot be read gets
 * VERDICT_UNREADABLE.  Free with inspection_free().
 */
void inspect_image (const char *path, const struct image_disk *disk,
                    const char *const *allowed_dirs, struct inspection *i);
void inspection_free (struct inspection *i);

const char *reason_name (enum reason_kind kind);
const char *verdict_name (enum verdict verdict);

#endif
