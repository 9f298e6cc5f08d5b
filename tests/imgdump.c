/* imgdump: the engine's dump tool, used by the tests to compare the engine
 * with qemu-img.
 *
 *   imgdump [--allow-dir DIR]... [--format auto|raw|qcow2|vdi|vpc|vhdx|vmdk] [--cache BYTES]
 *           [--snapshot ID|NAME|snapshot.id=ID|snapshot.name=NAME]
 *           [--disk N|NAME] info IMAGE
 *   imgdump [...] map IMAGE           lines "OFFSET LENGTH data|zero", merged runs
 *   imgdump [...] raw IMAGE OUTPUT    the raw view, written sparsely
 *   imgdump disks IMAGE               an OVA's disks, "INDEX NAME OFFSET SIZE"
 *                                     lines (nothing for another file)
 *
 * Every failure is reported once through report_error() (stderr:
 * "imgdump: message") and the tool exits 1.  The engine reports its own
 * failures, so a -1 from it is passed up without a second message.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "rounding.h"

/* How much of a data run `raw` reads and writes at a time. */
#define RAW_CHUNK_BYTES (1024 * 1024)

static void
usage (FILE *stream)
{
  fprintf (stream,
           "Usage: imgdump [OPTION]... info IMAGE\n"
           "       imgdump [OPTION]... map IMAGE\n"
           "       imgdump [OPTION]... raw IMAGE OUTPUT\n"
           "       imgdump disks IMAGE\n"
           "\n"
           "Dump what the sparsefs image engine reads from IMAGE.\n"
           "\n"
           "  info   describe each image of the backing chain, then the bytes\n"
           "         of data in the raw view\n"
           "  map    print the runs of the raw view, one per line:\n"
           "         OFFSET LENGTH data|zero (decimal bytes)\n"
           "  raw    write the raw view to OUTPUT, leaving holes unwritten\n"
           "  disks  list the disks of an OVA archive, one per line:\n"
           "         INDEX NAME OFFSET SIZE (nothing for another file)\n"
           "\n"
           "Options:\n"
           "  --allow-dir DIR   also open backing and data files under DIR\n"
           "                    (repeatable; the image's folder is always allowed)\n"
           "  --format FORMAT   auto (default, probe), raw, qcow2, vdi, vpc, vhdx or vmdk\n"
           "  --cache BYTES     metadata and cluster cache budget\n"
           "                    (suffixes K, M, G; default %d MiB)\n"
           "  --snapshot SNAP   read this internal snapshot of a qcow2 image,\n"
           "                    named as qemu-img convert -l names it\n"
           "  --disk N|NAME     read this disk of an OVA archive (index from 0,\n"
           "                    or name; default: its only disk)\n"
           "  --help            print this help\n"
           "\n"
           "Exit status: 0 on success, 1 on any error.\n",
           IMAGE_DEFAULT_CACHE_BYTES / (1024 * 1024));
}

/* ---- options ------------------------------------------------------------ */

struct options {
  struct image_options image;
  size_t cache_bytes;           /* 0: the engine's default private cache */
  const char **allowed_dirs;    /* NULL-terminated */
  size_t allowed_count;
};

static int
parse_format (const char *text, enum image_format *format)
{
  if (strcmp (text, "auto") == 0)
    *format = IMAGE_FORMAT_AUTO;
  else if (image_format_from_name (text, format) == -1) {
    report_error ("--format: unknown format '%s' (auto, raw, qcow2, vdi, vpc, "
                  "vhdx or vmdk)", text);
    return -1;
  }
  return 0;
}

/* Decimal bytes with an optional K, M or G suffix (powers of 1024). */
static int
parse_bytes (const char *text, size_t *bytes)
{
  char *end;
  unsigned long long value;
  unsigned shift = 0;

  errno = 0;
  value = strtoull (text, &end, 10);
  if (errno != 0 || end == text || text[0] == '-')
    goto invalid;
  switch (*end) {
  case 'K': case 'k': shift = 10; end++; break;
  case 'M': case 'm': shift = 20; end++; break;
  case 'G': case 'g': shift = 30; end++; break;
  }
  if (*end != '\0' || value == 0 || value > (SIZE_MAX >> shift))
    goto invalid;
  *bytes = (size_t) value << shift;
  return 0;

 invalid:
  report_error ("--cache: invalid size '%s'", text);
  return -1;
}

static int
add_allowed_dir (struct options *options, const char *dir)
{
  const char **grown = realloc (options->allowed_dirs,
                                (options->allowed_count + 2) * sizeof *grown);

  if (grown == NULL) {
    report_error ("--allow-dir: %m");
    return -1;
  }
  grown[options->allowed_count++] = dir;
  grown[options->allowed_count] = NULL;
  options->allowed_dirs = grown;
  return 0;
}

enum {
  OPT_ALLOW_DIR = 256, OPT_FORMAT, OPT_CACHE, OPT_SNAPSHOT, OPT_DISK, OPT_HELP
};

static const struct option long_options[] = {
  { "allow-dir", required_argument, NULL, OPT_ALLOW_DIR },
  { "format", required_argument, NULL, OPT_FORMAT },
  { "cache", required_argument, NULL, OPT_CACHE },
  { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
  { "disk", required_argument, NULL, OPT_DISK },
  { "help", no_argument, NULL, OPT_HELP },
  { NULL, 0, NULL, 0 },
};

/* Returns the index of the first operand, or -1. */
static int
parse_options (int argc, char **argv, struct options *options)
{
  int c;

  opterr = 0;                   /* our own messages, through report_error */
  while ((c = getopt_long (argc, argv, "+", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_ALLOW_DIR:
      if (add_allowed_dir (options, optarg) == -1)
        return -1;
      break;
    case OPT_FORMAT:
      if (parse_format (optarg, &options->image.format) == -1)
        return -1;
      break;
    case OPT_CACHE:
      if (parse_bytes (optarg, &options->cache_bytes) == -1)
        return -1;
      break;
    case OPT_SNAPSHOT:
      image_snapshot_from_text (optarg, &options->image);
      break;
    case OPT_DISK:
      options->image.disk = optarg;
      break;
    case OPT_HELP:
      usage (stdout);
      exit (EXIT_SUCCESS);
    default:
      report_error ("unknown or incomplete option '%s' (see --help)",
                    argv[optind - 1]);
      return -1;
    }
  }
  options->image.allowed_dirs = options->allowed_dirs;
  return optind;
}

/* ---- info --------------------------------------------------------------- */

static const char *
yes_no (bool value)
{
  return value ? "true" : "false";
}

static void
print_string (const char *key, const char *value)
{
  if (value != NULL)
    printf ("%s: %s\n", key, value);
}

/* The VDI, VHD and VHDX fields: the subformat, the block size (as qemu's
 * cluster_size, where qemu has one) and the VHD creator.
 */
static void
print_block_format (const struct image_description *d)
{
  if (d->cluster_size != 0)
    printf ("cluster_size: %" PRIu32 "\n", d->cluster_size);
  print_string ("subformat", d->subformat);
  print_string ("creator", d->creator);
}

/* One line per snapshot: "snapshot: ID NAME" (the name as stored). */
static int
print_snapshot (const struct image_snapshot *s, void *opaque)
{
  printf ("snapshot: %s %s\n", s->id, s->name);
  return 0;
}

/* The grain size (qemu's cluster_size), the create type as subformat,
 * and the parent.
 */
static void
print_vmdk (const struct image_description *d)
{
  print_block_format (d);
  print_string ("backing_file", d->backing_name);
  print_string ("backing_format", d->backing_format);
}

static void
print_qcow2 (const struct image_description *d)
{
  printf ("version: %u\n", d->version);
  printf ("cluster_size: %" PRIu32 "\n", d->cluster_size);
  printf ("extended_l2: %s\n", yes_no (d->extended_l2));
  print_string ("compression", d->compression);
  printf ("dirty: %s\n", yes_no (d->dirty));
  printf ("corrupt: %s\n", yes_no (d->corrupt));
  printf ("lazy_refcounts: %s\n", yes_no (d->lazy_refcounts));
  printf ("snapshots: %u\n", d->snapshots);
  if (d->snapshot_id != NULL)
    printf ("snapshot_read: %s %s\n", d->snapshot_id, d->snapshot_name);
  print_string ("backing_file", d->backing_name);
  print_string ("backing_format", d->backing_format);
  print_string ("data_file", d->data_file);
  if (d->data_file != NULL)
    printf ("data_file_raw: %s\n", yes_no (d->data_file_raw));
}

static void
print_description (const struct image_description *d)
{
  printf ("image: %s\n", d->path);
  print_string ("archive", d->archive);
  if (d->archive_disk != NULL)
    printf ("archive_disk: %u %s at %" PRIu64 "\n", d->archive_disk_index,
            d->archive_disk, d->archive_disk_offset);
  printf ("format: %s\n", image_format_name (d->format));
  printf ("virtual_size: %" PRIu64 "\n", d->virtual_size);
  printf ("file_size: %" PRIu64 "\n", d->file_size);
  switch (d->format) {
  case IMAGE_FORMAT_QCOW2:
    print_qcow2 (d);
    break;
  case IMAGE_FORMAT_VDI:
  case IMAGE_FORMAT_VPC:
  case IMAGE_FORMAT_VHDX:
    print_block_format (d);
    break;
  case IMAGE_FORMAT_VMDK:
    print_vmdk (d);
    break;
  case IMAGE_FORMAT_RAW:
  case IMAGE_FORMAT_AUTO:
    break;
  }
}

/* One block per image of the chain, top first, separated by blank lines,
 * then the data bytes of the whole raw view.
 */
static int
do_info (struct image *image)
{
  const struct image *layer;
  uint64_t data_bytes;

  for (layer = image; layer != NULL; layer = image_backing (layer)) {
    if (layer != image)
      printf ("\n");
    print_description (image_describe (layer));
    if (image_snapshots (layer, print_snapshot, NULL) == -1)
      return -1;
  }
  if (image_data_bytes (image, &data_bytes) == -1)
    return -1;
  printf ("\ndata_bytes: %" PRIu64 "\n", data_bytes);
  return 0;
}

/* ---- walking the map ---------------------------------------------------- */

typedef int (*run_fn) (struct image *image, const struct image_extent *run,
                       void *opaque);

/* The extent at OFFSET, checked against the contract: a broken answer
 * would make the callers loop forever or write past the end.
 */
static int
checked_extent (struct image *image, uint64_t offset,
                struct image_extent *extent)
{
  uint64_t size = image_size (image);

  if (image_extent (image, offset, extent) == -1)
    return -1;
  if (extent->offset != offset || extent->length == 0
      || extent->length > size - offset
      || (extent->type != IMAGE_EXTENT_DATA
          && extent->type != IMAGE_EXTENT_ZERO)) {
    report_error ("%s: engine returned a bad extent at offset %" PRIu64
                  ": offset %" PRIu64 " length %" PRIu64 " type %d",
                  image_describe (image)->path, offset, extent->offset,
                  extent->length, (int) extent->type);
    errno = EPROTO;
    return -1;
  }
  return 0;
}

/* Call FN for each maximal run of one type, in order. */
static int
for_each_run (struct image *image, run_fn fn, void *opaque)
{
  uint64_t size = image_size (image);
  struct image_extent run, next;

  if (size == 0)
    return 0;
  if (checked_extent (image, 0, &run) == -1)
    return -1;
  while (run.offset + run.length < size) {
    if (checked_extent (image, run.offset + run.length, &next) == -1)
      return -1;
    if (next.type == run.type)
      run.length += next.length;
    else {
      if (fn (image, &run, opaque) == -1)
        return -1;
      run = next;
    }
  }
  return fn (image, &run, opaque);
}

/* ---- map ---------------------------------------------------------------- */

static int
print_run (struct image *image, const struct image_extent *run, void *opaque)
{
  printf ("%" PRIu64 " %" PRIu64 " %s\n", run->offset, run->length,
          run->type == IMAGE_EXTENT_DATA ? "data" : "zero");
  return 0;
}

static int
do_map (struct image *image)
{
  return for_each_run (image, print_run, NULL);
}

/* ---- raw ---------------------------------------------------------------- */

struct raw_output {
  const char *path;
  int fd;
  char *buffer;                 /* RAW_CHUNK_BYTES */
};

static int
write_all (const struct raw_output *out, const char *buf, size_t count,
           uint64_t offset)
{
  while (count > 0) {
    ssize_t n = pwrite (out->fd, buf, count, offset);

    if (n == -1) {
      if (errno == EINTR)
        continue;
      report_error ("%s: write at offset %" PRIu64 ": %m", out->path, offset);
      return -1;
    }
    buf += n;
    count -= n;
    offset += n;
  }
  return 0;
}

/* Holes are skipped: the final ftruncate gives them their size. */
static int
copy_run (struct image *image, const struct image_extent *run, void *opaque)
{
  const struct raw_output *out = opaque;
  uint64_t offset = run->offset, end = run->offset + run->length;

  if (run->type == IMAGE_EXTENT_ZERO)
    return 0;
  while (offset < end) {
    size_t count = MIN (end - offset, RAW_CHUNK_BYTES);

    if (image_pread (image, out->buffer, count, offset) == -1
        || write_all (out, out->buffer, count, offset) == -1)
      return -1;
    offset += count;
  }
  return 0;
}

static int
do_raw (struct image *image, const char *path)
{
  struct raw_output out = { .path = path };
  int r = -1;

  out.buffer = malloc (RAW_CHUNK_BYTES);
  if (out.buffer == NULL) {
    report_error ("%s: buffer: %m", path);
    return -1;
  }
  out.fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out.fd == -1) {
    report_error ("%s: open: %m", path);
    goto out_free;
  }
  if (for_each_run (image, copy_run, &out) == -1)
    goto out_close;
  if (ftruncate (out.fd, image_size (image)) == -1) {
    report_error ("%s: truncate: %m", path);
    goto out_close;
  }
  r = 0;

 out_close:
  if (close (out.fd) == -1 && r == 0) {
    report_error ("%s: close: %m", path);
    r = -1;
  }
 out_free:
  free (out.buffer);
  return r;
}

/* ---- disks -------------------------------------------------------------- */

static int
print_disk (const struct image_disk *disk, void *opaque)
{
  printf ("%u %s %" PRIu64 " %" PRIu64 "\n", disk->index, disk->name,
          disk->offset, disk->size);
  return 0;
}

static int
do_disks (const char *path)
{
  bool is_ova;

  return image_ova_disks (path, &is_ova, print_disk, NULL);
}

/* ---- main --------------------------------------------------------------- */

/* Number of operands each command takes after its name. */
static int
command_operands (const char *command)
{
  if (strcmp (command, "info") == 0 || strcmp (command, "map") == 0
      || strcmp (command, "disks") == 0)
    return 1;
  if (strcmp (command, "raw") == 0)
    return 2;
  return -1;
}

static int
run_command (const char *command, char **operands, struct options *options)
{
  struct image_cache *cache = NULL;
  struct image *image;
  int r;

  if (strcmp (command, "disks") == 0)
    return do_disks (operands[0]);
  if (options->cache_bytes != 0) {
    cache = image_cache_new (options->cache_bytes);
    if (cache == NULL)
      return -1;
    options->image.cache = cache;
  }
  image = image_open (operands[0], &options->image);
  if (image == NULL)
    r = -1;
  else {
    if (strcmp (command, "info") == 0)
      r = do_info (image);
    else if (strcmp (command, "map") == 0)
      r = do_map (image);
    else
      r = do_raw (image, operands[1]);
    image_close (image);
  }
  if (cache != NULL)
    image_cache_free (cache);
  return r;
}

int
main (int argc, char **argv)
{
  struct options options = { 0 };
  const char *command;
  int first, r;

  first = parse_options (argc, argv, &options);
  if (first == -1)
    return EXIT_FAILURE;
  if (first >= argc) {
    report_error ("missing command (info, map, raw or disks; see --help)");
    return EXIT_FAILURE;
  }
  command = argv[first];
  if (command_operands (command) == -1) {
    report_error ("unknown command '%s' (info, map, raw or disks; see --help)",
                  command);
    return EXIT_FAILURE;
  }
  if (argc - first - 1 != command_operands (command)) {
    report_error ("%s takes %d operand(s) (see --help)", command,
                  command_operands (command));
    return EXIT_FAILURE;
  }
  r = run_command (command, &argv[first + 1], &options);
  if (fflush (stdout) == EOF && r == 0) {
    report_error ("standard output: %m");
    r = -1;
  }
  free (options.allowed_dirs);
  return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
