/* The tar header reader (see tar-header.h).
 *
 * Extended headers (GNU long names, pax records) describe the member whose
 * header follows them, so the reader is a small state machine: a header
 * block either describes a member at once or starts an extended header,
 * whose data blocks it collects before the member's header comes.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-arith.h"
#include "error.h"
#include "iszero.h"
#include "tar-header.h"

/* Field offsets and widths of a ustar header block. */
#define TAR_NAME 0
#define TAR_NAME_BYTES 100
#define TAR_SIZE 124
#define TAR_SIZE_BYTES 12
#define TAR_CHECKSUM 148
#define TAR_CHECKSUM_BYTES 8
#define TAR_TYPEFLAG 156
#define TAR_MAGIC 257
#define TAR_PREFIX 345
#define TAR_PREFIX_BYTES 155

#define USTAR_MAGIC "ustar\0" "00"     /* POSIX: magic and version */
#define GNU_MAGIC "ustar  "             /* GNU, with its NUL: 8 bytes */
#define TAR_MAGIC_BYTES 8

/* The longest decimal length a pax record may state (its digits). */
#define PAX_MAX_LENGTH_DIGITS 7

enum reader_state { EXPECT_HEADER, EXPECT_EXTENDED_DATA, FINISHED };

struct tar_reader {
  const char *archive;
  uint64_t offset;              /* of the next block */
  unsigned headers;             /* header blocks seen, extended ones too */
  unsigned members;             /* members described */
  enum reader_state state;
  /* The extended header being collected. */
  char extended_type;
  uint64_t extended_offset;     /* of its header block */
  size_t extended_size, extended_have;
  /* What the extended headers said about the coming member. */
  bool has_long_name, has_pax_path, has_pax_size, pax_sparse;
  uint64_t pax_size;
  char long_name[TAR_MAX_NAME + 1];
  char pax_path[TAR_MAX_NAME + 1];
  unsigned char extended[TAR_MAX_EXTENDED_BYTES];
};

struct tar_reader *
tar_reader_new (const char *archive)
{
  struct tar_reader *r = calloc (1, sizeof *r);

  if (r == NULL) {
    report_error ("%s: %m", archive);
    return NULL;
  }
  r->archive = archive;
  return r;
}

void
tar_reader_free (struct tar_reader *reader)
{
  free (reader);
}

uint64_t
tar_reader_offset (const struct tar_reader *reader)
{
  return reader->offset;
}

/* Report a damaged header: the member the header at AT belongs to. */
static int
damaged (struct tar_reader *r, uint64_t at, const char *what)
{
  report_error ("%s: tar member %u (header at offset 0x%" PRIx64 "): %s",
                r->archive, r->members, at, what);
  r->state = FINISHED;
  errno = EINVAL;
  return -1;
}

/* A numeric field as tar writes it: octal digits, optionally led by
 * spaces and ended by a NUL or a space; or GNU's base-256 (first byte
 * 0x80, the rest big-endian).  Negative base-256 values are refused.
 * Returns 0, or -1 (nothing reported).
 */
static int
parse_number (const unsigned char *field, size_t width, uint64_t *value)
{
  size_t i = 0;
  uint64_t v = 0;

  if (field[0] & 0x80) {
    if (field[0] != 0x80)
      return -1;
    for (i = 1; i < width; i++) {
      if (v > UINT64_MAX >> 8)
        return -1;
      v = v << 8 | field[i];
    }
    *value = v;
    return 0;
  }
  while (i < width && field[i] == ' ')
    i++;
  if (i == width || field[i] < '0' || field[i] > '7')
    return -1;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; i++) {
    if (v > UINT64_MAX >> 3)
      return -1;
    v = v << 3 | (uint64_t) (field[i] - '0');
  }
  for (; i < width; i++)
    if (field[i] != ' ' && field[i] != '\0')
      return -1;
  *value = v;
  return 0;
}

/* The field as text for a message, printable bytes only. */
static void
field_text (const unsigned char *field, size_t width, char *text)
{
  size_t i;

  for (i = 0; i < width && field[i] != '\0'; i++)
    text[i] = field[i] >= 0x20 && field[i] < 0x7f ? field[i] : '?';
  text[i] = '\0';
}

/* The sum tar stores: every byte, the checksum field counted as spaces.
 * Old tars summed signed chars; both sums are accepted, as GNU tar does.
 */
static bool
checksum_holds (const unsigned char *block, uint64_t stored)
{
  uint64_t sum = 0;
  int64_t signed_sum = 0;
  size_t i;

  for (i = 0; i < TAR_BLOCK_SIZE; i++) {
    bool in_field = i >= TAR_CHECKSUM && i < TAR_CHECKSUM + TAR_CHECKSUM_BYTES;
    unsigned char c = in_field ? ' ' : block[i];

    sum += c;
    signed_sum += (signed char) c;
  }
  return stored == sum || (int64_t) stored == signed_sum;
}

static bool
is_posix (const unsigned char *block)
{
  return memcmp (block + TAR_MAGIC, USTAR_MAGIC, TAR_MAGIC_BYTES) == 0;
}

static bool
is_gnu (const unsigned char *block)
{
  return memcmp (block + TAR_MAGIC, GNU_MAGIC, TAR_MAGIC_BYTES) == 0;
}

int
tar_header_looks_valid (const unsigned char block[TAR_BLOCK_SIZE])
{
  uint64_t stored;

  return (is_posix (block) || is_gnu (block))
         && parse_number (block + TAR_CHECKSUM, TAR_CHECKSUM_BYTES,
                          &stored) == 0
         && checksum_holds (block, stored);
}

static int
check_header (struct tar_reader *r, const unsigned char *block)
{
  char text[TAR_MAGIC_BYTES + 1];
  char message[96];
  uint64_t stored;

  if (!is_posix (block) && !is_gnu (block)) {
    field_text (block + TAR_MAGIC, TAR_MAGIC_BYTES, text);
    snprintf (message, sizeof message, "magic \"%s\" is not ustar's or "
              "GNU's", text);
    return damaged (r, r->offset, message);
  }
  if (parse_number (block + TAR_CHECKSUM, TAR_CHECKSUM_BYTES, &stored) == -1
      || !checksum_holds (block, stored)) {
    field_text (block + TAR_CHECKSUM, TAR_CHECKSUM_BYTES, text);
    snprintf (message, sizeof message, "header checksum \"%s\" does not "
              "match the header", text);
    return damaged (r, r->offset, message);
  }
  if (r->headers == TAR_MAX_MEMBERS) {
    snprintf (message, sizeof message, "the archive has more than %d "
              "headers", TAR_MAX_MEMBERS);
    return damaged (r, r->offset, message);
  }
  r->headers++;
  return 0;
}

static int
header_size (struct tar_reader *r, const unsigned char *block, uint64_t *size)
{
  char text[TAR_SIZE_BYTES + 1], message[64];

  if (parse_number (block + TAR_SIZE, TAR_SIZE_BYTES, size) == 0)
    return 0;
  field_text (block + TAR_SIZE, TAR_SIZE_BYTES, text);
  snprintf (message, sizeof message, "size field \"%s\" is not a number",
            text);
  return damaged (r, r->offset, message);
}

/* ---- extended headers ---- */

static int
take_long_name (struct tar_reader *r)
{
  size_t n = strnlen ((const char *) r->extended, r->extended_size);

  if (n > TAR_MAX_NAME) {
    char message[64];

    snprintf (message, sizeof message, "long name of %zu bytes is longer "
              "than %d", n, TAR_MAX_NAME);
    return damaged (r, r->extended_offset, message);
  }
  memcpy (r->long_name, r->extended, n);
  r->long_name[n] = '\0';
  r->has_long_name = true;
  return 0;
}

static int
pax_value (struct tar_reader *r, const char *key, const char *value,
           size_t length)
{
  char message[96];

  if (strcmp (key, "path") == 0) {
    if (length > TAR_MAX_NAME || memchr (value, '\0', length) != NULL) {
      snprintf (message, sizeof message, "pax path of %zu bytes is longer "
                "than %d or holds a NUL", length, TAR_MAX_NAME);
      return damaged (r, r->extended_offset, message);
    }
    memcpy (r->pax_path, value, length);
    r->pax_path[length] = '\0';
    r->has_pax_path = true;
  }
  else if (strcmp (key, "size") == 0) {
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < length; i++)
      if (value[i] < '0' || value[i] > '9' || v > (UINT64_MAX - 9) / 10)
        return damaged (r, r->extended_offset, "pax size is not a number");
      else
        v = v * 10 + (uint64_t) (value[i] - '0');
    if (length == 0)
      return damaged (r, r->extended_offset, "pax size is empty");
    r->pax_size = v;
    r->has_pax_size = true;
  }
  else if (strncmp (key, "GNU.sparse.", strlen ("GNU.sparse.")) == 0)
    r->pax_sparse = true;       /* the data is a sparse map, not the file */
  return 0;
}

/* One record "LENGTH KEY=VALUE\n" at P (AVAILABLE bytes left); its length
 * in *USED.
 */
static int
pax_record (struct tar_reader *r, char *p, size_t available, size_t *used)
{
  size_t length = 0, digits = 0;
  char *key, *equals, message[96];

  while (digits < available && p[digits] >= '0' && p[digits] <= '9') {
    if (digits == PAX_MAX_LENGTH_DIGITS)
      return damaged (r, r->extended_offset, "pax record length is too long");
    length = length * 10 + (size_t) (p[digits] - '0');
    digits++;
  }
  if (digits == 0 || length <= digits + 1 || length > available
      || p[digits] != ' ' || p[length - 1] != '\n') {
    snprintf (message, sizeof message, "pax record at byte %zu is not "
              "\"LENGTH KEY=VALUE\\n\" within the header",
              (size_t) (p - (char *) r->extended));
    return damaged (r, r->extended_offset, message);
  }
  key = p + digits + 1;
  p[length - 1] = '\0';
  equals = memchr (key, '=', (size_t) (p + length - 1 - key));
  if (equals == NULL || equals == key)
    return damaged (r, r->extended_offset, "pax record has no KEY=");
  *equals = '\0';
  *used = length;
  return pax_value (r, key, equals + 1, (size_t) (p + length - 1 - equals - 1));
}

static int
take_pax_records (struct tar_reader *r)
{
  char *p = (char *) r->extended;
  size_t left = r->extended_size, used;

  while (left > 0) {
    if (pax_record (r, p, left, &used) == -1)
      return -1;
    p += used;
    left -= used;
  }
  return 0;
}

static int
finish_extended (struct tar_reader *r)
{
  r->state = EXPECT_HEADER;
  switch (r->extended_type) {
  case 'L':
    return take_long_name (r);
  case 'x':
    return take_pax_records (r);
  default:                      /* 'K' (long link name), 'g' (global) */
    return 0;
  }
}

static int
start_extended (struct tar_reader *r, char type, uint64_t size)
{
  char message[96];

  if (size > TAR_MAX_EXTENDED_BYTES) {
    snprintf (message, sizeof message, "extended header '%c' of %" PRIu64
              " bytes is larger than %d", type, size, TAR_MAX_EXTENDED_BYTES);
    return damaged (r, r->offset, message);
  }
  r->extended_type = type;
  r->extended_offset = r->offset;
  r->extended_size = size;
  r->extended_have = 0;
  r->offset += TAR_BLOCK_SIZE;
  if (size == 0)
    return finish_extended (r) == -1 ? -1 : TAR_STEP_MORE;
  r->state = EXPECT_EXTENDED_DATA;
  return TAR_STEP_MORE;
}

static int
extended_block (struct tar_reader *r, const unsigned char *block)
{
  size_t n = r->extended_size - r->extended_have;

  if (n > TAR_BLOCK_SIZE)
    n = TAR_BLOCK_SIZE;
  memcpy (r->extended + r->extended_have, block, n);
  r->extended_have += n;
  r->offset += TAR_BLOCK_SIZE;
  if (r->extended_have == r->extended_size && finish_extended (r) == -1)
    return -1;
  return TAR_STEP_MORE;
}

/* ---- members ---- */

/* The ustar name: "PREFIX/NAME" when the POSIX prefix is set. */
static void
ustar_name (const unsigned char *block, char *name)
{
  size_t n = 0, p = 0;

  if (is_posix (block)) {
    p = strnlen ((const char *) block + TAR_PREFIX, TAR_PREFIX_BYTES);
    memcpy (name, block + TAR_PREFIX, p);
    if (p > 0)
      name[p++] = '/';
  }
  n = strnlen ((const char *) block + TAR_NAME, TAR_NAME_BYTES);
  memcpy (name + p, block + TAR_NAME, n);
  name[p + n] = '\0';
}

static enum tar_member_type
member_type (char typeflag, bool sparse)
{
  if (sparse)
    return TAR_OTHER;
  switch (typeflag) {
  case '0': case '\0': case '7':
    return TAR_REGULAR;
  case '5':
    return TAR_DIRECTORY;
  default:
    return TAR_OTHER;
  }
}

/* Links and device nodes have no data, whatever their size field says. */
static bool
has_no_data (char typeflag)
{
  return typeflag >= '1' && typeflag <= '6' && typeflag != '5';
}

static int
describe_member (struct tar_reader *r, const unsigned char *block,
                 uint64_t size, struct tar_member *m)
{
  char typeflag = (char) block[TAR_TYPEFLAG];
  uint64_t next;

  if (r->has_pax_size)
    size = r->pax_size;
  if (has_no_data (typeflag))
    size = 0;
  m->index = r->members;
  m->header_offset = r->offset;
  m->data_offset = r->offset + TAR_BLOCK_SIZE;
  m->size = size;
  m->type = member_type (typeflag, r->pax_sparse);
  if (r->has_pax_path)
    strcpy (m->name, r->pax_path);
  else if (r->has_long_name)
    strcpy (m->name, r->long_name);
  else
    ustar_name (block, m->name);
  if (m->name[0] == '\0')
    return damaged (r, r->offset, "the member has an empty name");
  if (checked_add (size, TAR_BLOCK_SIZE - 1, &next)
      || checked_add (m->data_offset, next & ~(uint64_t) (TAR_BLOCK_SIZE - 1),
                      &next))
    return damaged (r, r->offset, "member size passes 2^64");
  r->offset = next;
  r->members++;
  r->has_long_name = r->has_pax_path = r->has_pax_size = false;
  r->pax_sparse = false;
  return TAR_STEP_MEMBER;
}

static int
header_block (struct tar_reader *r, const unsigned char *block,
              struct tar_member *member)
{
  char typeflag = (char) block[TAR_TYPEFLAG];
  uint64_t size;

  if (is_zero (block, TAR_BLOCK_SIZE)) {
    if (r->has_long_name || r->has_pax_path || r->has_pax_size)
      return damaged (r, r->offset, "the archive ends after an extended "
                      "header, without its member");
    r->state = FINISHED;
    return TAR_STEP_END;
  }
  if (check_header (r, block) == -1 || header_size (r, block, &size) == -1)
    return -1;
  switch (typeflag) {
  case 'L': case 'K': case 'x': case 'g':
    return start_extended (r, typeflag, size);
  default:
    return describe_member (r, block, size, member);
  }
}

int
tar_reader_block (struct tar_reader *r,
                  const unsigned char block[TAR_BLOCK_SIZE],
                  struct tar_member *member)
{
  switch (r->state) {
  case EXPECT_HEADER:
    return header_block (r, block, member);
  case EXPECT_EXTENDED_DATA:
    return extended_block (r, block);
  default:
    report_error ("%s: tar reader fed after the end of the archive",
                  r->archive);
    errno = EINVAL;
    return -1;
  }
}
