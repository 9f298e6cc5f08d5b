/* Fuzz target for the image engine (libFuzzer; also a replay driver).
 *
 * One input is up to three files, split at the marker "@@PART@@":
 *   IMAGE [@@PART@@ BACKING [@@PART@@ DATA]]
 * written as "i", "b" and "d" in a private folder (in $FUZZ_TMPDIR, or tmpfs
 * when there is one), so that an image naming "b" as its backing file or "d"
 * as its data file reaches the fuzzer's bytes.  A part left out is no file
 * at all.  A part may end far away: HEAD "@@AT@@" OFFSET TAIL, OFFSET 16
 * hex digits below 2^62, writes TAIL at OFFSET, the file sparse between
 * (so that an input of a few KiB reaches offsets past 2^56; only tmpfs
 * holds such files).
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

#include "error.h"
#include "image.h"
#include "stream.h"

#define PART_MARKER "@@PART@@"
#define AT_MARKER "@@AT@@"
#define AT_DIGITS 16
#define MAX_AT (1ull << 62)
#define MAX_PARTS 3
#define MAX_EXTENTS 1024
#define READ_BUDGET (8u << 20)
#define READ_CHUNK (1u << 20)
#define HOLE_SAMPLE 4096
#define WINDOW_BYTES (128u << 10)
#define WINDOW_PIECE 509        /* prime: pieces straddle every boundary */
#define BLOCK 4096
#define STREAM_MAX_BYTES (64u << 20)    /* of a part's file, streamed */
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

/* The image part as its file reads, for the stream decoder: HEAD, zeros,
 * TAIL at TAIL_AT; cut at STREAM_MAX_BYTES.
 */
struct streamed_part {
  const uint8_t *head, *tail;
  size_t head_len, tail_len;
  uint64_t tail_at, end, pos;
};
static struct streamed_part image_part;
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

static bool
block_is_zero (const uint8_t *p, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
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

    if (!block_is_zero (data + off, n)
        && pwrite (fd, data + off, n, at + off) != (ssize_t) n) {
      perror (path);
      abort ();
    }
  }
}

/* Where the tail of a part DATA of LEN bytes goes: its "@@AT@@" OFFSET
 * split into *HEAD_LEN bytes, then the tail at the returned offset from
 * *TAIL on (*TAIL_LEN bytes).  Returns 0 when the part has no such marker,
 * or a malformed one (then the marker is plain data).
 */
static uint64_t
find_tail (const uint8_t *data, size_t len, size_t *head_len,
           const uint8_t **tail, size_t *tail_len)
{
  size_t marker = strlen (AT_MARKER);
  const uint8_t *at = memmem (data, len, AT_MARKER, marker);
  char digits[AT_DIGITS + 1], *end;
  uint64_t offset;

  if (at == NULL || (size_t) (data + len - at) < marker + AT_DIGITS)
    return 0;
  memcpy (digits, at + marker, AT_DIGITS);
  digits[AT_DIGITS] = '\0';
  offset = strtoull (digits, &end, 16);
  if (*end != '\0' || offset < (uint64_t) (at - data) || offset >= MAX_AT)
    return 0;
  *head_len = at - data;
  *tail = at + marker + AT_DIGITS;
  *tail_len = data + len - *tail;
  return offset;
}

static void
write_part (const char *name, const uint8_t *data, size_t len)
{
  char path[320];
  const uint8_t *tail = NULL;
  size_t head_len = len, tail_len = 0;
  uint64_t tail_at = find_tail (data, len, &head_len, &tail, &tail_len);
  int fd;

  snprintf (path, sizeof path, "%s/%s", workdir, name);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    perror (path);
    abort ();
  }
  write_blocks (fd, path, data, head_len, 0);
  if (tail_at == 0)
    tail_at = head_len;
  else
    write_blocks (fd, path, tail, tail_len, tail_at);
  if (ftruncate (fd, tail_at + tail_len) == -1) {
    perror (path);
    abort ();
  }
  close (fd);
  if (strcmp (name, part_names[0]) == 0) {
    image_part = (struct streamed_part) { data, tail, head_len, tail_len,
                                          tail_at, tail_at + tail_len, 0 };
    if (image_part.end > STREAM_MAX_BYTES)
      image_part.end = STREAM_MAX_BYTES;
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
        && !block_is_zero (read_buf, n))
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

/* The probe sees the format image_open() chose. */
static void
check_probe (const struct image *img)
{
  enum image_format format;
  int fd = open (image_path, O_RDONLY | O_CLOEXEC);

  if (fd == -1 || image_probe_fd (fd, &format) == -1)
    contract_broken ("image_probe_fd failed on an image that opened: %s",
                     strerror (errno));
  close (fd);
  if (format != image_describe (img)->format)
    contract_broken ("image_probe_fd says %s, image_open %s",
                     image_format_name (format),
                     image_format_name (image_describe (img)->format));
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
  size_t n;

  while (count > 0) {
    if (offset < p->head_len) {
      n = p->head_len - offset < count ? p->head_len - offset : count;
      memcpy (buf, p->head + offset, n);
    }
    else if (offset >= p->tail_at && offset - p->tail_at < p->tail_len) {
      n = p->tail_len - (offset - p->tail_at);
      n = n < count ? n : count;
      memcpy (buf, p->tail + (offset - p->tail_at), n);
    }
    else {
      n = offset < p->tail_at && p->tail_at - offset < count
          ? p->tail_at - offset : count;
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
  struct image_options options = { .format = IMAGE_FORMAT_AUTO };
  struct image *img;
  int descriptors;

  if (workdir[0] == '\0')
    setup ();
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
  else {
    check_probe (img);
    exercise (img);
  }
  exercise_stream (img, STREAM_BUFFER, false);
  exercise_stream (img, STREAM_SMALL_BUFFER, true);
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
