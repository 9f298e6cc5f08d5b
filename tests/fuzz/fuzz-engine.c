/* Fuzz target for the image engine (libFuzzer; also a replay driver).
 *
 * One input is up to three files, split at the marker "@@PART@@":
 *   IMAGE [@@PART@@ BACKING [@@PART@@ DATA]]
 * written as "i", "b" and "d" in a private folder (in $FUZZ_TMPDIR, or tmpfs
 * when there is one), so that an image naming "b" as its backing file or "d"
 * as its data file reaches the fuzzer's bytes.  A part left out is no file
 * at all.  A part is sparse: HEAD ["@@AT@@" OFFSET PIECE]..., each OFFSET
 * 16 hex digits below 2^62 and not below the end of what came before,
 * writes PIECE at OFFSET and leaves a hole between (at most MAX_PIECES
 * pieces; a malformed marker is plain data).  So an input of a few hundred
 * bytes lays out a VHDX file's headers, region table and metadata at their
 * 64 KiB boundaries, or reaches offsets past 2^56 (only tmpfs holds such
 * files): small inputs are what keeps the fuzzer fast.
 *
 * Each input is opened, described down its chain, mapped extent by extent
 * (at most MAX_EXTENTS; image_run must merge them alike) and read: the data
 * extents up to READ_BUDGET bytes, a sample of every hole (which must read
 * as zeros), and one window read whole and in odd-sized pieces (which must
 * agree).  Besides the sanitizers, the target aborts when the engine breaks
 * image.h's contract: an extent that does not start where asked or runs
 * past the end, a failure with errno 0 or without a message, a file
 * descriptor left open.
 *
 * Then the image part goes through the stream decoder (stream.h) too, as
 * a pipe would bring it: once with no way to read again and once able to
 * read ranges again through a small buffer (so that held bytes are
 * dropped and fetched again).  Besides the sanitizers, the target aborts
 * when the events break stream.h's contract (outside the raw view,
 * overlapping, not covering it at the end, a failure without a message),
 * or when a range read both ways reads differently.
 *
 * $FUZZ_FORMAT narrows a campaign to one format, so that its executions
 * go where its coverage is: a format name (qcow2, vmdk, vpc, vhdx, vdi,
 * raw) opens every input as that format (image_open's explicit format,
 * past the probe) and skips the stream decoder; "stream" runs the stream
 * decoder and opens the image only to compare bytes with.  Unset, every
 * input runs everything (what `make check` replays).
 *
 * Built with -DFUZZ_REPLAY_MAIN it is a plain program: each argument (a
 * file, or a folder of files) is run once, stdin when there is none.  That
 * serves `make check` (regressions and seeds) and AFL++ (`@@`).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "error.h"
#include "image.h"
#include "iszero.h"
#include "stream.h"

#define PART_MARKER "@@PART@@"
#define AT_MARKER "@@AT@@"
#define AT_DIGITS 16
#define MAX_AT (1ull << 62)
#define MAX_PIECES 64
#define MAX_PARTS 3
#define MAX_EXTENTS 1024
#define READ_BUDGET (8u << 20)
#define READ_CHUNK (1u << 20)
#define HOLE_SAMPLE 4096
#define WINDOW_BYTES (128u << 10)
#define WINDOW_PIECE 509        /* prime: pieces straddle every boundary */
#define BLOCK 4096
/* Of a part's file, streamed: past the few MiB a seed spans, the stream of
 * a far piece is zeros, and reading 64 MiB of them cost two seconds an
 * input.
 */
#define STREAM_MAX_BYTES (4u << 20)
#define STREAM_DATA_MAX (64u << 10)
#define STREAM_MAX_EVENTS 4096
#define STREAM_SMALL_BUFFER (64u << 10)
#define STREAM_BUFFER (1u << 20)
/* A compressed payload: at most two VMDK grains of 2 MiB. */
#define STREAM_MAX_PAYLOAD (4u << 20)

static const char *const part_names[MAX_PARTS] = { "i", "b", "d" };

static char workdir[256];
static char image_path[300];
static unsigned char *read_buf, *window_buf;
static unsigned reports;        /* report_error() calls since reset */
static struct image_extent walked[MAX_EXTENTS];
static unsigned walked_count;

/* A part's bytes as its file holds them: pieces in file order, holes
 * between; the first piece, its head, at 0.
 */
struct piece {
  const uint8_t *bytes;
  size_t len;
  uint64_t at;
};
struct layout {
  struct piece pieces[MAX_PIECES];
  unsigned count;
  uint64_t size;                /* of the file: the last piece's end */
};

/* The image part as its file reads, for the stream decoder; cut at
 * STREAM_MAX_BYTES.
 */
struct streamed_part {
  struct layout layout;
  uint64_t end, pos;
};
static struct streamed_part image_part;

/* What a campaign runs (see $FUZZ_FORMAT above). */
static enum image_format forced_format = IMAGE_FORMAT_AUTO;
static bool run_image = true, run_stream = true;
static struct stream_event stream_events[STREAM_MAX_EVENTS];
static unsigned stream_event_count;
static unsigned char *stream_buf, *stream_out, *image_bytes;

static void __attribute__ ((noreturn, format (printf, 1, 2)))
contract_broken (const char *fmt, ...)
{
  va_list args;

  fprintf (stderr, "fuzz-engine: contract broken: ");
  va_start (args, fmt);
  vfprintf (stderr, fmt, args);
  va_end (args);
  fprintf (stderr, " (last engine message: \"%s\")\n", last_error ());
  abort ();
}

static void
count_report (const char *message)
{
  if (message[0] == '\0')
    contract_broken ("an empty error message");
  reports++;
  if (getenv ("FUZZ_VERBOSE"))
    fprintf (stderr, "engine: %s\n", message);
}

/* Before each engine call whose failure we then check with failed(). */
static void
expect_call (void)
{
  errno = 0;
  reports = 0;
}

static void
check_failure (const char *call)
{
  if (errno == 0)
    contract_broken ("%s failed with errno 0", call);
  if (reports == 0)
    contract_broken ("%s failed without reporting an error", call);
}

static void
remove_workdir (void)
{
  char path[320];
  int i;

  for (i = 0; i < MAX_PARTS; i++) {
    snprintf (path, sizeof path, "%s/%s", workdir, part_names[i]);
    unlink (path);
  }
  rmdir (workdir);
}

static void
choose_mode (void)
{
  const char *mode = getenv ("FUZZ_FORMAT");

  if (mode == NULL || mode[0] == '\0')
    return;
  if (strcmp (mode, "stream") == 0)
    run_image = false;
  else if (image_format_from_name (mode, &forced_format) == 0)
    run_stream = false;
  else {
    fprintf (stderr, "fuzz-engine: FUZZ_FORMAT=%s: not a format name nor "
             "\"stream\"\n", mode);
    exit (1);
  }
}

static void
setup (void)
{
  /* A crash leaves the folder behind: tests name one they remove. */
  const char *base = getenv ("FUZZ_TMPDIR") ? getenv ("FUZZ_TMPDIR")
                     : access ("/dev/shm", W_OK) == 0 ? "/dev/shm"
                     : getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";

  snprintf (workdir, sizeof workdir, "%s/sparsefs-fuzz.%ld", base,
            (long) getpid ());
  if (mkdir (workdir, 0700) == -1 && errno != EEXIST) {
    perror (workdir);
    exit (1);
  }
  snprintf (image_path, sizeof image_path, "%s/%s", workdir, part_names[0]);
  atexit (remove_workdir);
  choose_mode ();
  set_error_sink (count_report);
  read_buf = malloc (READ_CHUNK);
  window_buf = malloc (WINDOW_BYTES);
  stream_buf = malloc (STREAM_DATA_MAX + STREAM_MAX_PAYLOAD);
  stream_out = malloc (2u << 20);
  image_bytes = malloc (2u << 20);
  if (read_buf == NULL || window_buf == NULL || stream_buf == NULL
      || stream_out == NULL || image_bytes == NULL)
    abort ();
}


/* Write LEN bytes as file NAME, leaving zero blocks as holes: cheap, and
 * raw files then have holes for SEEK_DATA/SEEK_HOLE to find.
 */
static void
write_blocks (int fd, const char *path, const uint8_t *data, size_t len,
              uint64_t at)
{
  size_t off;

  for (off = 0; off < len; off += BLOCK) {
    size_t n = len - off < BLOCK ? len - off : BLOCK;

    if (!is_zero (data + off, n)
        && pwrite (fd, data + off, n, at + off) != (ssize_t) n) {
      perror (path);
      abort ();
    }
  }
}

/* The offset a well-formed "@@AT@@" OFFSET at AT (of the LEFT bytes
 * from AT on) names, or -1: malformed, or before MIN.
 */
static int64_t
marker_offset (const uint8_t *at, size_t left, uint64_t min)
{
  size_t marker = strlen (AT_MARKER);
  char digits[AT_DIGITS + 1], *end;
  uint64_t offset;

  if (left < marker + AT_DIGITS)
    return -1;
  memcpy (digits, at + marker, AT_DIGITS);
  digits[AT_DIGITS] = '\0';
  offset = strtoull (digits, &end, 16);
  if (*end != '\0' || offset < min || offset >= MAX_AT)
    return -1;
  return offset;
}

/* Split a part DATA of LEN bytes into its pieces (see the top comment). */
static void
lay_out (const uint8_t *data, size_t len, struct layout *l)
{
  size_t marker = strlen (AT_MARKER);
  const uint8_t *end = data + len, *search = data;
  struct piece *p = &l->pieces[0];

  *p = (struct piece) { data, len, 0 };
  l->count = 1;
  while (l->count < MAX_PIECES) {
    const uint8_t *at = memmem (search, end - search, AT_MARKER, marker);
    int64_t offset;

    if (at == NULL)
      break;
    offset = marker_offset (at, end - at, p->at + (at - p->bytes));
    if (offset == -1) {
      search = at + 1;
      continue;
    }
    p->len = at - p->bytes;
    p++;
    search = at + marker + AT_DIGITS;
    *p = (struct piece) { search, end - search, offset };
    l->count++;
  }
  l->size = p->at + p->len;
}

/* A structure of a format guarded by a checksum, found by its signature
 * at AT (from the end of the file when FROM_END).
 */
struct checksummed {
  enum image_format format;
  uint64_t at;
  bool from_end;
  size_t len;
  const char *signature;
  size_t checksum_at;
};

/* The checksum of BUF (LEN bytes), its checksum field zero, as stored. */
static void
store_checksum (enum image_format format, unsigned char *buf, size_t len,
                size_t checksum_at)
{
  uint32_t sum = 0;
  size_t i;

  memset (buf + checksum_at, 0, 4);
  if (format == IMAGE_FORMAT_VHDX) {
    sum = crc32c_end (crc32c_update (crc32c_begin (), buf, len));
    for (i = 0; i < 4; i++)
      buf[checksum_at + i] = sum >> (8 * i);
    return;
  }
  for (i = 0; i < len; i++)       /* VHD: the complement of the byte sum */
    sum += buf[i];
  for (i = 0; i < 4; i++)
    buf[checksum_at + 3 - i] = ~sum >> (8 * i);
}

/* In a campaign on VHD or VHDX, the file's checksums are made to hold
 * before the engine reads it: mutations then reach what the checksums
 * guard instead of stopping at them.  (Unset $FUZZ_FORMAT leaves them as
 * they are, and so do the damaged-case tests.)
 */
static void
make_checksums_hold (int fd, const char *path, uint64_t size)
{
  static const struct checksummed sums[] = {
    { IMAGE_FORMAT_VPC, 0, false, 512, "conectix", 64 },
    { IMAGE_FORMAT_VPC, 512, true, 512, "conectix", 64 },
    { IMAGE_FORMAT_VHDX, 64 << 10, false, 4096, "head", 4 },
    { IMAGE_FORMAT_VHDX, 128 << 10, false, 4096, "head", 4 },
    { IMAGE_FORMAT_VHDX, 192 << 10, false, 64 << 10, "regi", 4 },
    { IMAGE_FORMAT_VHDX, 256 << 10, false, 64 << 10, "regi", 4 },
  };
  size_t i;

  for (i = 0; i < sizeof sums / sizeof *sums; i++) {
    const struct checksummed *c = &sums[i];
    uint64_t at = c->from_end ? size - c->at : c->at;

    if (c->format != forced_format || size < c->at + (c->from_end ? 0 : c->len)
        || pread (fd, read_buf, c->len, at) != (ssize_t) c->len
        || memcmp (read_buf, c->signature, strlen (c->signature)) != 0)
      continue;
    store_checksum (c->format, read_buf, c->len, c->checksum_at);
    if (pwrite (fd, read_buf + c->checksum_at, 4, at + c->checksum_at) != 4) {
      perror (path);
      abort ();
    }
  }
}

static void
write_part (const char *name, const uint8_t *data, size_t len)
{
  char path[320];
  struct layout l;
  unsigned i;
  int fd;

  lay_out (data, len, &l);
  snprintf (path, sizeof path, "%s/%s", workdir, name);
  fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    perror (path);
    abort ();
  }
  for (i = 0; i < l.count; i++)
    write_blocks (fd, path, l.pieces[i].bytes, l.pieces[i].len,
                  l.pieces[i].at);
  if (ftruncate (fd, l.size) == -1) {
    perror (path);
    abort ();
  }
  make_checksums_hold (fd, path, l.size);
  close (fd);
  if (strcmp (name, part_names[0]) == 0) {
    image_part.layout = l;
    image_part.end = l.size < STREAM_MAX_BYTES ? l.size : STREAM_MAX_BYTES;
  }
}

static void
write_parts (const uint8_t *data, size_t size)
{
  size_t marker = strlen (PART_MARKER);
  int i;

  for (i = 0; i < MAX_PARTS; i++) {
    const uint8_t *end = NULL;
    size_t len = size;

    if (i < MAX_PARTS - 1 && data != NULL)
      end = memmem (data, size, PART_MARKER, marker);
    if (end != NULL)
      len = end - data;
    if (data == NULL) {
      char path[320];

      snprintf (path, sizeof path, "%s/%s", workdir, part_names[i]);
      unlink (path);
      continue;
    }
    write_part (part_names[i], data, len);
    if (end == NULL)
      data = NULL;
    else {
      data = end + marker;
      size -= len + marker;
    }
  }
}

static void
touch_string (const char *s)
{
  if (s != NULL && strlen (s) > 4096)
    contract_broken ("a description string of %zu bytes", strlen (s));
}

static void
describe_chain (const struct image *img)
{
  unsigned depth = 0;

  for (; img != NULL; img = image_backing (img)) {
    const struct image_description *d = image_describe (img);

    if (++depth > IMAGE_MAX_CHAIN_DEPTH)
      contract_broken ("a chain deeper than %d", IMAGE_MAX_CHAIN_DEPTH);
    touch_string (d->path);
    touch_string (d->compression);
    touch_string (d->subformat);
    touch_string (d->creator);
    touch_string (d->backing_name);
    touch_string (d->backing_format);
    touch_string (d->data_file);
    touch_string (image_format_name (d->format));
    if (d->format == IMAGE_FORMAT_QCOW2
        && image_size (img) != (d->virtual_size & ~511ull))
      contract_broken ("qcow2 size %llu for a virtual size of %llu",
                       (unsigned long long) image_size (img),
                       (unsigned long long) d->virtual_size);
  }
}

static int
checked_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  expect_call ();
  if (image_pread (img, buf, count, offset) == 0)
    return 0;
  check_failure ("image_pread");
  return -1;
}

/* Read the first and the last chunk of a data extent, within *BUDGET. */
static void
read_data (struct image *img, const struct image_extent *e, size_t *budget)
{
  uint64_t n = e->length < READ_CHUNK ? e->length : READ_CHUNK;

  if (*budget < n)
    return;
  *budget -= n;
  if (checked_pread (img, read_buf, n, e->offset) == -1 || e->length == n)
    return;
  if (*budget < n)
    return;
  *budget -= n;
  checked_pread (img, read_buf, n, e->offset + e->length - n);
}

/* The start and the end of a hole must read as zeros. */
static void
read_hole (struct image *img, const struct image_extent *e)
{
  uint64_t n = e->length < HOLE_SAMPLE ? e->length : HOLE_SAMPLE;
  uint64_t at[2] = { e->offset, e->offset + e->length - n };
  int i;

  for (i = 0; i < 2; i++)
    if (checked_pread (img, read_buf, n, at[i]) == 0
        && !is_zero (read_buf, n))
      contract_broken ("the hole at %llu (%llu bytes) reads non-zero bytes "
                       "near %llu", (unsigned long long) e->offset,
                       (unsigned long long) e->length,
                       (unsigned long long) at[i]);
}

/* Walk the map; returns true when it reached the end of the image. */
static bool
walk_map (struct image *img, uint64_t *data_bytes)
{
  uint64_t size = image_size (img), offset = 0;
  size_t budget = READ_BUDGET;
  unsigned steps;

  *data_bytes = 0;
  walked_count = 0;
  for (steps = 0; offset < size && steps < MAX_EXTENTS; steps++) {
    struct image_extent e;

    expect_call ();
    if (image_extent (img, offset, &e) == -1) {
      check_failure ("image_extent");
      return false;
    }
    if (e.offset != offset || e.length == 0 || e.length > size - offset
        || (e.type != IMAGE_EXTENT_DATA && e.type != IMAGE_EXTENT_ZERO))
      contract_broken ("image_extent at %llu: offset %llu length %llu type %d"
                       " (size %llu)", (unsigned long long) offset,
                       (unsigned long long) e.offset,
                       (unsigned long long) e.length, (int) e.type,
                       (unsigned long long) size);
    walked[walked_count++] = e;
    if (e.type == IMAGE_EXTENT_DATA) {
      *data_bytes += e.length;
      read_data (img, &e, &budget);
    } else
      read_hole (img, &e);
    offset += e.length;
  }
  return offset == size;
}

/* image_run over the walked part merges exactly the walk's extents of one
 * type.
 */
static void
compare_runs (struct image *img)
{
  uint64_t limit;
  unsigned i = 0, j;

  if (walked_count == 0)
    return;
  limit = walked[walked_count - 1].offset + walked[walked_count - 1].length;
  while (i < walked_count) {
    struct image_extent merged = walked[i], run;

    for (j = i + 1; j < walked_count && walked[j].type == merged.type; j++)
      merged.length += walked[j].length;
    expect_call ();
    if (image_run (img, merged.offset, limit, &run) == -1)
      contract_broken ("image_run at %llu failed where image_extent did not",
                       (unsigned long long) merged.offset);
    if (run.offset != merged.offset || run.length != merged.length
        || run.type != merged.type)
      contract_broken ("image_run at %llu: %llu bytes of type %d, the walk "
                       "merges %llu bytes of type %d",
                       (unsigned long long) merged.offset,
                       (unsigned long long) run.length, (int) run.type,
                       (unsigned long long) merged.length, (int) merged.type);
    i = j;
  }
}

/* A window read whole must equal the same window read in pieces. */
static void
compare_window (struct image *img)
{
  uint64_t size = image_size (img);
  size_t n = size < WINDOW_BYTES ? size : WINDOW_BYTES, off;

  if (n == 0 || checked_pread (img, window_buf, n, 0) == -1)
    return;
  for (off = 0; off < n; off += WINDOW_PIECE) {
    size_t piece = n - off < WINDOW_PIECE ? n - off : WINDOW_PIECE;

    if (checked_pread (img, read_buf, piece, off) == -1)
      return;
    if (memcmp (read_buf, window_buf + off, piece) != 0)
      contract_broken ("bytes at %zu read differently whole and in pieces",
                       off);
  }
}

/* Requests past the end must fail with EINVAL. */
static void
check_bounds (struct image *img)
{
  uint64_t size = image_size (img);
  struct image_extent e;
  char byte;

  expect_call ();
  if (image_pread (img, &byte, 0, size) != 0)
    contract_broken ("an empty read at the end failed");
  expect_call ();
  if (image_pread (img, &byte, 1, size) != -1 || errno != EINVAL)
    contract_broken ("a read past the end did not fail with EINVAL");
  check_failure ("image_pread past the end");
  expect_call ();
  if (image_extent (img, size, &e) != -1 || errno != EINVAL)
    contract_broken ("an extent at the end did not fail with EINVAL");
  check_failure ("image_extent at the end");
}

/* The probe sees the format image_open() chose; an OVA's archive probes as
 * raw (a tar header carries no format magic) while the disk image_open()
 * found inside it has its own format.
 */
static void
check_probe (const struct image *img)
{
  const struct image_description *d = image_describe (img);
  enum image_format expected = d->archive ? IMAGE_FORMAT_RAW : d->format;
  enum image_format format;
  int fd = open (image_path, O_RDONLY | O_CLOEXEC);

  if (fd == -1 || image_probe_fd (fd, &format) == -1)
    contract_broken ("image_probe_fd failed on an image that opened: %s",
                     strerror (errno));
  close (fd);
  if (format != expected)
    contract_broken ("image_probe_fd says %s, image_open %s%s",
                     image_format_name (format), image_format_name (d->format),
                     d->archive ? " inside an OVA" : "");
}

static void
exercise (struct image *img)
{
  uint64_t walked_data, counted;
  bool complete;

  describe_chain (img);
  check_bounds (img);
  compare_window (img);
  complete = walk_map (img, &walked_data);
  compare_runs (img);
  if (!complete)
    return;
  expect_call ();
  if (image_data_bytes (img, &counted) == -1)
    contract_broken ("image_data_bytes failed on a map that walked");
  if (counted != walked_data)
    contract_broken ("image_data_bytes says %llu, the map %llu",
                     (unsigned long long) counted,
                     (unsigned long long) walked_data);
}

/* Open descriptors of this process: the same after an input as before. */
static int
count_descriptors (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  int n = 0;

  if (dir == NULL)
    abort ();
  while (readdir (dir) != NULL)
    n++;
  closedir (dir);
  return n;
}

/* ---- the stream decoder ---- */

/* Bytes [OFFSET, OFFSET + COUNT) of the image part's file. */
static void
part_bytes (const struct streamed_part *p, uint8_t *buf, size_t count,
            uint64_t offset)
{
  const struct layout *l = &p->layout;
  unsigned i = 0;

  while (count > 0) {
    const struct piece *piece;
    size_t n;

    while (i + 1 < l->count && l->pieces[i + 1].at <= offset)
      i++;
    piece = &l->pieces[i];
    if (offset - piece->at < piece->len) {
      n = piece->len - (offset - piece->at);
      n = n < count ? n : count;
      memcpy (buf, piece->bytes + (offset - piece->at), n);
    }
    else {
      n = count;
      if (i + 1 < l->count && l->pieces[i + 1].at - offset < count)
        n = l->pieces[i + 1].at - offset;
      memset (buf, 0, n);
    }
    buf += n;
    offset += n;
    count -= n;
  }
}

static ssize_t
part_read (void *opaque, void *buf, size_t count)
{
  struct streamed_part *p = opaque;

  /* Short reads, as a pipe gives them. */
  if (count > 4093)
    count = 4093;
  if (count > p->end - p->pos)
    count = p->end - p->pos;
  part_bytes (p, buf, count, p->pos);
  p->pos += count;
  return count;
}

static int
part_read_at (void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct streamed_part *p = opaque;

  if (offset > p->end || count > p->end - offset) {
    report_error ("fuzz: a range past the end of the stream");
    errno = EIO;
    return -1;
  }
  part_bytes (p, buf, count, offset);
  return 0;
}

/* The event's bytes, as the image engine reads them: the same, when it
 * reads them at all.
 */
static void
compare_with_image (const struct stream *st, struct image *img,
                    const struct stream_event *e, const unsigned char *bytes)
{
  /* A VMDK stream places grains by their markers, the image by its grain
   * tables; the stream compares the two only at its end.
   */
  if (img == NULL || image_describe (img)->format != stream_format (st)
      || stream_format (st) == IMAGE_FORMAT_VMDK
      || e->offset + e->length > image_size (img)
      || e->length > (2u << 20))
    return;
  expect_call ();
  if (image_pread (img, image_bytes, e->length, e->offset) == -1)
    return;
  if (memcmp (image_bytes, bytes, e->length) != 0)
    contract_broken ("the stream's %llu bytes at %llu (event type %d) differ "
                     "from the image's", (unsigned long long) e->length,
                     (unsigned long long) e->offset, (int) e->type);
}

static int
compare_events (const void *a, const void *b)
{
  const struct stream_event *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The events tile the raw view: no overlap; the whole of it once the
 * stream ended (COMPLETE).
 */
static void
check_tiling (const struct stream *st, bool complete)
{
  uint64_t at = 0;
  unsigned i;

  qsort (stream_events, stream_event_count, sizeof *stream_events,
         compare_events);
  for (i = 0; i < stream_event_count; i++) {
    if (stream_events[i].offset < at)
      contract_broken ("stream events overlap at %llu",
                       (unsigned long long) stream_events[i].offset);
    if (complete && stream_events[i].offset != at)
      contract_broken ("no stream event covers %llu",
                       (unsigned long long) at);
    at = stream_events[i].offset + stream_events[i].length;
  }
  if (complete && at != stream_size (st))
    contract_broken ("stream events end at %llu, the raw view at %llu",
                     (unsigned long long) at,
                     (unsigned long long) stream_size (st));
}

static void
check_event (const struct stream *st, struct image *img,
             const struct stream_event *e)
{
  const unsigned char *bytes = stream_buf;

  if (e->length == 0 || (stream_format (st) != IMAGE_FORMAT_RAW
                         && e->offset + e->length > stream_size (st)))
    contract_broken ("stream event at %llu, %llu bytes (size %llu)",
                     (unsigned long long) e->offset,
                     (unsigned long long) e->length,
                     (unsigned long long) stream_size (st));
  if (e->type == STREAM_COMPRESSED) {
    expect_call ();
    if (stream_decompress (st, e, stream_buf, stream_out) == -1) {
      check_failure ("stream_decompress");
      return;
    }
    bytes = stream_out;
  }
  if (e->type == STREAM_HOLE) {
    memset (stream_out, 0, e->length < (2u << 20) ? e->length : 2u << 20);
    bytes = stream_out;
  }
  compare_with_image (st, img, e, bytes);
}

/* Decode the image part as a stream, BUFFER bytes held at most; with
 * REREAD the input can read ranges again.
 */
static void
exercise_stream (struct image *img, uint64_t buffer, bool reread)
{
  struct stream_input in = { part_read, reread ? part_read_at : NULL,
                             &image_part };
  struct stream_options options = { IMAGE_FORMAT_AUTO, buffer };
  struct stream_event e;
  struct stream *st;
  size_t buf_size;
  int r = 1;

  image_part.pos = 0;
  stream_event_count = 0;
  expect_call ();
  st = stream_open (image_path, &in, &options);
  if (st == NULL) {
    check_failure ("stream_open");
    return;
  }
  buf_size = STREAM_DATA_MAX > stream_max_payload (st)
             ? STREAM_DATA_MAX : stream_max_payload (st);
  if (buf_size > STREAM_DATA_MAX + STREAM_MAX_PAYLOAD)
    contract_broken ("a payload of %zu bytes", buf_size);
  while (stream_event_count < STREAM_MAX_EVENTS) {
    expect_call ();
    r = stream_next (st, stream_buf, buf_size, STREAM_DATA_MAX, &e);
    if (r != 1)
      break;
    stream_events[stream_event_count++] = e;
    check_event (st, img, &e);
  }
  if (r == -1)
    check_failure ("stream_next");
  check_tiling (st, r == 0);
  stream_close (st);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct image_options options;
  struct image *img;
  int descriptors;

  if (workdir[0] == '\0')
    setup ();
  options = (struct image_options) { .format = forced_format };
  write_parts (data, size);
  descriptors = count_descriptors ();
  /* A small cache, so that eviction happens too. */
  options.cache = image_cache_new (0);
  if (options.cache == NULL)
    abort ();
  expect_call ();
  img = image_open (image_path, &options);
  if (img == NULL)
    check_failure ("image_open");
  else if (run_image) {
    /* A format named explicitly skips the probe, which may see another. */
    if (forced_format == IMAGE_FORMAT_AUTO)
      check_probe (img);
    exercise (img);
  }
  if (run_stream) {
    exercise_stream (img, STREAM_BUFFER, false);
    exercise_stream (img, STREAM_SMALL_BUFFER, true);
  }
  image_close (img);
  image_cache_free (options.cache);
  if (count_descriptors () != descriptors)
    contract_broken ("%d file descriptors were left open",
                     count_descriptors () - descriptors);
  return 0;
}

#ifdef FUZZ_REPLAY_MAIN
static int
run_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  uint8_t *data = NULL;
  size_t size = 0, cap = 0, n;

  if (f == NULL) {
    perror (path);
    return 1;
  }
  do {
    if (size == cap) {
      cap = cap ? 2 * cap : 65536;
      data = realloc (data, cap);
      if (data == NULL)
        abort ();
    }
    n = fread (data + size, 1, cap - size, f);
    size += n;
  } while (n > 0);
  fclose (f);
  fprintf (stderr, "fuzz-engine: %s (%zu bytes)\n", path, size);
  LLVMFuzzerTestOneInput (data, size);
  free (data);
  return 0;
}

static int
run_path (const char *path)
{
  struct stat st;
  struct dirent **names;
  int n, i, status = 0;

  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode)) {
    n = scandir (path, &names, NULL, alphasort);
    if (n < 0) {
      perror (path);
      return 1;
    }
    for (i = 0; i < n; i++) {
      char *child;

      if (names[i]->d_name[0] != '.'
          && asprintf (&child, "%s/%s", path, names[i]->d_name) != -1) {
        status |= run_path (child);
        free (child);
      }
      free (names[i]);
    }
    free (names);
    return status;
  }
  return run_file (path);
}

int
main (int argc, char **argv)
{
  int i, status = 0;

  if (argc < 2)
    return run_file ("/dev/stdin");
  for (i = 1; i < argc; i++)
    status |= run_path (argv[i]);
  return status;
}
#endif
