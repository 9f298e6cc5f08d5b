/* Inspecting one image (see inspect.h).
 *
 * The image is opened twice.  First to describe it (describe_only): every
 * layer's header is checked, and a backing or data file the engine will
 * not open ends the chain where it is named, the refusal kept in that
 * layer's description with its errno, so that the verdict says what the
 * image names and why it is unsafe.  Then, only when nothing was found,
 * to read it: the data bytes walk every mapping table, which finds the
 * damage a header does not show.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "inspect.h"

static const char *const reason_names[] = {
  [REASON_OUTSIDE] = "outside-allowed-dirs",
  [REASON_PROTOCOL] = "protocol-name",
  [REASON_ENCRYPTED] = "encrypted",
  [REASON_DAMAGED] = "damaged",
  [REASON_UNSUPPORTED] = "unsupported-feature",
  [REASON_UNREADABLE_FILE] = "unreadable-file",
  [REASON_DIRTY] = "dirty",
  [REASON_CORRUPT] = "corrupt",
};

const char *
reason_name (enum reason_kind kind)
{
  return reason_names[kind];
}

const char *
verdict_name (enum verdict verdict)
{
  return verdict == VERDICT_SAFE ? "safe"
         : verdict == VERDICT_UNSAFE ? "unsafe" : "unreadable";
}

static void
add_reason (struct inspection *i, enum reason_kind kind, const char *file,
            const char *message)
{
  struct reason *r;

  if (i->n_reasons == MAX_REASONS)
    abort ();                   /* MAX_REASONS counts every reason a chain gives */
  r = &i->reasons[i->n_reasons++];
  r->kind = kind;
  r->file = file;
  r->message = strdup (message ? message : strerror (errno));
  i->verdict = VERDICT_UNSAFE;
}

/* The kind of a refusal by its errno (see image.h), for a file named NAME
 * in a header (NULL for the image itself).
 */
static enum reason_kind
kind_of_error (int error, const char *name)
{
  switch (error) {
  case EACCES:
    return name != NULL && image_name_is_protocol (name) ? REASON_PROTOCOL
                                                         : REASON_OUTSIDE;
  case EINVAL:
  case EFBIG:                   /* a size past the format's limits */
  case ELOOP:
  case EIO:
    return REASON_DAMAGED;
  case ENOTSUP:
  case EPERM:                   /* a VHDX log that needs replaying */
    return REASON_UNSUPPORTED;
  default:
    return REASON_UNREADABLE_FILE;
  }
}

static void
add_companion_reason (struct inspection *i, const char *file, int error,
                      const char *name, const char *message)
{
  if (error == 0)
    return;
  errno = error;
  add_reason (i, kind_of_error (error, name), file, message);
}

static void
judge_layer (struct inspection *i, const struct image_description *d)
{
  if (d->encryption != NULL) {
    char message[256];

    snprintf (message, sizeof message, "the image is encrypted (%s)",
              d->encryption);
    add_reason (i, REASON_ENCRYPTED, d->path, message);
  }
  if (d->corrupt)
    add_reason (i, REASON_CORRUPT, d->path,
                "the corrupt bit is set: qemu found its metadata inconsistent");
  if (d->dirty)
    add_reason (i, REASON_DIRTY, d->path,
                "the dirty bit is set: it was not closed cleanly");
  add_companion_reason (i, d->path, d->backing_errno, d->backing_name,
                        d->backing_error);
  add_companion_reason (i, d->path, d->data_file_errno, d->data_file,
                        d->data_file_error);
}

/* Open the chain to read it, and count its data bytes. */
static void
count_data (struct inspection *i, const char *const *allowed_dirs,
            const char *disk)
{
  struct image_options options = { .allowed_dirs = allowed_dirs,
                                   .disk = disk };
  struct image *image = image_open (i->path, &options);

  if (image != NULL && image_data_bytes (image, &i->data_bytes) == 0)
    i->have_data_bytes = true;
  else
    add_reason (i, kind_of_error (errno, NULL), i->path, last_error ());
  image_close (image);
}

/* The top file must be there and be a file: otherwise it is no image
 * (and the engine's EINVAL for it would read as damage).
 */
static int
check_file (struct inspection *i)
{
  struct stat st;

  if (stat (i->path, &st) == -1) {
    if (asprintf (&i->error, "%s: %m", i->path) == -1)
      i->error = NULL;
    return -1;
  }
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    if (asprintf (&i->error, "%s: not a regular file or block device",
                  i->path) == -1)
      i->error = NULL;
    return -1;
  }
  /* So that EACCES from the open below can only mean a file it names. */
  if (access (i->path, R_OK) == -1) {
    if (asprintf (&i->error, "%s: %m", i->path) == -1)
      i->error = NULL;
    return -1;
  }
  return 0;
}

void
inspect_image (const char *path, const struct image_disk *disk,
               const char *const *allowed_dirs, struct inspection *i)
{
  struct image_options options = {
    .allowed_dirs = allowed_dirs,
    .describe_only = true,
  };
  const struct image *layer;
  char index[16];

  memset (i, 0, sizeof *i);
  i->path = path;
  i->disk = disk;
  if (disk != NULL) {
    snprintf (index, sizeof index, "%u", disk->index);
    options.disk = index;
  }
  i->verdict = VERDICT_SAFE;
  if (check_file (i) == -1) {
    i->verdict = VERDICT_UNREADABLE;
    return;
  }
  i->image = image_open (path, &options);
  if (i->image == NULL) {
    /* The top file's own failures come here, and a refused file that a
     * format names outside its backing chain (a VMDK extent, EACCES): a
     * describe-only open keeps those of backing and data files.
     */
    if (errno == EINVAL || errno == EFBIG || errno == EIO || errno == ENOTSUP
        || errno == EACCES || errno == ELOOP || errno == EPERM)
      add_reason (i, kind_of_error (errno, NULL), path, last_error ());
    else {
      i->verdict = VERDICT_UNREADABLE;
      i->error = strdup (last_error ());
    }
    return;
  }
  for (layer = i->image; layer != NULL; layer = image_backing (layer))
    judge_layer (i, image_describe (layer));
  if (i->verdict == VERDICT_SAFE)
    count_data (i, allowed_dirs, options.disk);
}

void
inspection_free (struct inspection *i)
{
  size_t n;

  for (n = 0; n < i->n_reasons; n++)
    free (i->reasons[n].message);
  free (i->error);
  image_close (i->image);
}
