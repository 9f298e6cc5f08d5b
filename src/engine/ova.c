/* OVA archives (see ova.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "checked-arith.h"
#include "error.h"
#include "image-internal.h"
#include "ova.h"
#include "ovf-references.h"
#include "tar-header.h"

/* A message's list of disks is cut here (report_error keeps 1024). */
#define DISK_LIST_BYTES 640

struct member {
  struct image_disk at;         /* index: in the archive */
  bool regular;
};

struct archive {
  const char *path;
  int fd;
  uint64_t size;
  struct member *members;
  size_t n_members;
  const struct member *ovf;
  struct ova *ova;
};

const char *
ova_plain_name (const char *name)
{
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  return name;
}

bool
ova_names_ovf (const char *name)
{
  size_t n = strlen (name);

  return n > 4 && strcasecmp (name + n - 4, ".ovf") == 0;
}

int
ova_missing_reference (const char *path, const char *ovf, const char *href,
                       unsigned index, const char *what)
{
  report_error ("%s: %s: File \"%s\" (reference %u) is %s of the archive",
                path, ovf, href, index, what);
  errno = EINVAL;
  return -1;
}

int
ova_data_past_end (const char *path, const struct tar_member *m,
                   uint64_t archive_size)
{
  report_error ("%s: tar member %u \"%s\" (header at offset 0x%" PRIx64
                "): its %" PRIu64 " bytes of data pass the end of the "
                "archive (%" PRIu64 " bytes)", path, m->index, m->name,
                m->header_offset, m->size, archive_size);
  errno = EINVAL;
  return -1;
}

int
ova_read_ovf (const char *path, const char *ovf, uint64_t bytes,
              ova_read_fn *read, void *read_opaque,
              ovf_reference_fn *fn, void *opaque)
{
  char where[TAR_MAX_NAME + 64];
  char *text;
  int r;

  if (bytes > OVA_MAX_OVF_BYTES) {
    report_error ("%s: %s: the OVF is %" PRIu64 " bytes, more than the %d "
                  "the engine reads", path, ovf, bytes, OVA_MAX_OVF_BYTES);
    errno = EINVAL;
    return -1;
  }
  text = malloc (bytes + 1);
  if (text == NULL) {
    report_error ("%s: %m", path);
    return -1;
  }
  r = read (read_opaque, text, bytes);
  if (r == 0) {
    text[bytes] = '\0';
    snprintf (where, sizeof where, "%s: %s", path, ovf);
    r = ovf_references (where, text, fn, opaque);
  }
  free (text);
  return r;
}

static int
read_exactly (const struct archive *a, const char *what, void *buf,
              size_t count, uint64_t offset)
{
  char *p = buf;

  while (count > 0) {
    ssize_t r = pread (a->fd, p, count, offset);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = EIO;
      report_error ("%s: reading %s at offset 0x%" PRIx64 ": %s", a->path,
                    what, offset, r == 0 ? "unexpected end of file"
                                         : strerror (errno));
      return -1;
    }
    p += r;
    count -= (size_t) r;
    offset += (uint64_t) r;
  }
  return 0;
}

static int
read_header_block (const struct archive *a, uint64_t at,
                   unsigned char *block)
{
  if (!range_fits (at, TAR_BLOCK_SIZE, a->size)) {
    report_error ("%s: the tar archive is truncated: it ends at offset 0x%"
                  PRIx64 ", before the header expected at 0x%" PRIx64
                  " (or its end-of-archive block)", a->path, a->size, at);
    errno = EINVAL;
    return -1;
  }
  return read_exactly (a, "a tar header", block, TAR_BLOCK_SIZE, at);
}

static int
add_member (struct archive *a, const struct tar_member *m)
{
  struct member *slot;

  if (!range_fits (m->data_offset, m->size, a->size))
    return ova_data_past_end (a->path, m, a->size);
  slot = &a->members[a->n_members];
  slot->at.index = m->index;
  slot->at.offset = m->data_offset;
  slot->at.size = m->size;
  slot->regular = m->type == TAR_REGULAR;
  slot->at.name = strdup (ova_plain_name (m->name));
  if (slot->at.name == NULL) {
    report_error ("%s: %m", a->path);
    return -1;
  }
  a->n_members++;
  return 0;
}

/* Every member, in order, checked against the archive's size. */
static int
read_members (struct archive *a)
{
  struct tar_reader *r = tar_reader_new (a->path);
  unsigned char block[TAR_BLOCK_SIZE];
  struct tar_member *m = malloc (sizeof *m);
  int step = -1;

  a->members = calloc (TAR_MAX_MEMBERS, sizeof *a->members);
  if (r == NULL || m == NULL || a->members == NULL) {
    report_error ("%s: %m", a->path);
    goto out;
  }
  do {
    if (read_header_block (a, tar_reader_offset (r), block) == -1) {
      step = -1;
      break;
    }
    step = tar_reader_block (r, block, m);
    if (step == TAR_STEP_MEMBER && add_member (a, m) == -1)
      step = -1;
  } while (step == TAR_STEP_MORE || step == TAR_STEP_MEMBER);

 out:
  free (m);
  tar_reader_free (r);
  return step == TAR_STEP_END ? 0 : -1;
}

static const struct member *
find_member (const struct archive *a, const char *name)
{
  size_t i;

  name = ova_plain_name (name);
  for (i = 0; i < a->n_members; i++)
    if (strcmp (a->members[i].at.name, name) == 0)
      return &a->members[i];
  return NULL;
}

static const struct member *
find_ovf (const struct archive *a)
{
  size_t i;

  for (i = 0; i < a->n_members; i++)
    if (a->members[i].regular && ova_names_ovf (a->members[i].at.name))
      return &a->members[i];
  return NULL;
}

static int
add_disk (struct archive *a, const struct member *m)
{
  struct ova *ova = a->ova;
  struct image_disk *d = &ova->disks[ova->n_disks];

  *d = m->at;
  d->index = ova->n_disks;
  d->name = strdup (m->at.name);
  if (d->name == NULL) {
    report_error ("%s: %m", a->path);
    return -1;
  }
  ova->n_disks++;
  return 0;
}

static int
take_reference (const char *href, unsigned index, void *opaque)
{
  struct archive *a = opaque;
  const struct member *m = find_member (a, href);

  if (m == NULL || !m->regular)
    return ova_missing_reference (a->path, a->ovf->at.name, href, index,
                                  m == NULL ? "not a member"
                                            : "not a regular member");
  return add_disk (a, m);
}

static int
read_ovf_text (void *opaque, void *buf, size_t bytes)
{
  const struct archive *a = opaque;

  return read_exactly (a, "the OVF", buf, bytes, a->ovf->at.offset);
}

static int
disks_from_ovf (struct archive *a)
{
  return ova_read_ovf (a->path, a->ovf->at.name, a->ovf->at.size,
                       read_ovf_text, a, take_reference, a);
}

/* No File listed: the members that probe as an image format. */
static int
disks_by_content (struct archive *a)
{
  unsigned char head[TAR_BLOCK_SIZE];
  enum image_format format;
  size_t i, n;

  for (i = 0; i < a->n_members; i++) {
    const struct member *m = &a->members[i];
    struct probe_span span = { a->fd, m->at.offset, m->at.size };

    if (!m->regular || m == a->ovf || m->at.size == 0)
      continue;
    n = m->at.size < sizeof head ? m->at.size : sizeof head;
    if (read_exactly (a, "a member's first block", head, n, m->at.offset)
        == -1)
      return -1;
    if (probe_span_format (&span, head, n, &format) == -1) {
      report_error ("%s: probing member \"%s\": %m", a->path, m->at.name);
      return -1;
    }
    if (format != IMAGE_FORMAT_RAW && add_disk (a, m) == -1)
      return -1;
  }
  return 0;
}

static void
free_members (struct archive *a)
{
  size_t i;

  for (i = 0; i < a->n_members; i++)
    free ((char *) a->members[i].at.name);
  free (a->members);
}

int
ova_open (const char *path, int fd, uint64_t size, struct ova *ova)
{
  struct archive a = { .path = path, .fd = fd, .size = size, .ova = ova };
  unsigned char block[TAR_BLOCK_SIZE];
  int r = -1;

  memset (ova, 0, sizeof *ova);
  if (size < TAR_BLOCK_SIZE)
    return 0;
  if (read_exactly (&a, "the first block", block, sizeof block, 0) == -1)
    return -1;
  if (!tar_header_looks_valid (block))
    return 0;
  if (read_members (&a) == -1)
    goto out;
  a.ovf = find_ovf (&a);
  r = 0;
  if (a.ovf == NULL)
    goto out;
  ova->disks = calloc (OVF_MAX_REFERENCES > TAR_MAX_MEMBERS
                       ? OVF_MAX_REFERENCES : TAR_MAX_MEMBERS,
                       sizeof *ova->disks);
  if (ova->disks == NULL) {
    report_error ("%s: %m", path);
    r = -1;
    goto out;
  }
  r = disks_from_ovf (&a);
  if (r == 0 && ova->n_disks == 0)
    r = disks_by_content (&a);
  if (r != 0) {
    ova_free (ova);
    r = -1;
  }
  else
    r = 1;

 out:
  free_members (&a);
  return r;
}

void
ova_free (struct ova *ova)
{
  size_t i;

  for (i = 0; i < ova->n_disks; i++)
    free ((char *) ova->disks[i].name);
  free (ova->disks);
  ova->disks = NULL;
  ova->n_disks = 0;
}

/* "0 NAME, 1 NAME", cut to fit a message. */
static void
list_disks (const struct ova *ova, char *list, size_t bytes)
{
  size_t i, used = 0;
  int n;

  list[0] = '\0';
  for (i = 0; i < ova->n_disks && used < bytes; i++) {
    n = snprintf (list + used, bytes - used, "%s%zu %s", i ? ", " : "", i,
                  ova->disks[i].name);
    if (n < 0 || (size_t) n >= bytes - used) {
      snprintf (list + used, bytes - used, ", ...");
      break;
    }
    used += (size_t) n;
  }
}

static const struct image_disk *
by_selector (const struct ova *ova, const char *selector)
{
  size_t i, digits = strspn (selector, "0123456789");

  if (digits > 0 && selector[digits] == '\0' && digits < 10) {
    i = strtoul (selector, NULL, 10);
    return i < ova->n_disks ? &ova->disks[i] : NULL;
  }
  selector = ova_plain_name (selector);
  for (i = 0; i < ova->n_disks; i++)
    if (strcmp (ova->disks[i].name, selector) == 0)
      return &ova->disks[i];
  return NULL;
}

const struct image_disk *
ova_select (const char *path, const struct ova *ova, const char *selector)
{
  const struct image_disk *d = NULL;
  char list[DISK_LIST_BYTES];

  if (ova->n_disks == 0) {
    report_error ("%s: the OVA holds no disk", path);
    errno = EINVAL;
    return NULL;
  }
  if (selector == NULL && ova->n_disks == 1)
    return &ova->disks[0];
  if (selector != NULL)
    d = by_selector (ova, selector);
  if (d != NULL)
    return d;
  list_disks (ova, list, sizeof list);
  if (selector == NULL)
    report_error ("%s: the OVA holds %zu disks: select one by index or name "
                  "(%s)", path, ova->n_disks, list);
  else
    report_error ("%s: the OVA holds no disk \"%s\" (its disks: %s)", path,
                  selector, list);
  errno = EINVAL;
  return NULL;
}
