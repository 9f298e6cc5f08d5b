/* sparseinfo: what an image is and names, and whether an import service
 * may take it (see sparseinfo(1)).
 *
 * Exit status: 0 every image safe, 2 one or more unsafe, 3 one or more
 * could not be read, or a usage error (3 wins over 2).
 */
#include <config.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "inspect.h"
#include "output.h"

#define EXIT_UNSAFE 2
#define EXIT_UNREADABLE 3

static void
usage (FILE *stream)
{
  fprintf (stream,
           "Usage: sparseinfo [--json] [--allow-dir=DIR]... IMAGE...\n"
           "\n"
           "Describe each IMAGE and its backing chain as qemu-img info\n"
           "--backing-chain does, read by the sparsefs engine alone, and\n"
           "give a verdict: safe, or unsafe with the reasons.  An OVA\n"
           "archive gets one report per disk.\n"
           "\n"
           "  --json            print a JSON array, one object per IMAGE\n"
           "  --allow-dir=DIR   a backing or data file may also lie under DIR\n"
           "                    (repeatable; the image's folder always may)\n"
           "  --help            print this help\n"
           "\n"
           "Exit status: 0 all safe, 2 some unsafe, 3 some could not be read\n"
           "or a usage error.\n");
}

struct options {
  bool json;
  const char **allowed_dirs;    /* NULL-terminated, argv's strings */
  size_t allowed_count;
};

enum { OPT_JSON = 256, OPT_ALLOW_DIR, OPT_HELP };

static const struct option long_options[] = {
  { "json", no_argument, NULL, OPT_JSON },
  { "allow-dir", required_argument, NULL, OPT_ALLOW_DIR },
  { "help", no_argument, NULL, OPT_HELP },
  { NULL, 0, NULL, 0 },
};

/* Returns the index of the first IMAGE, or -1 after reporting. */
static int
parse_options (int argc, char **argv, struct options *options)
{
  int c;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_JSON:
      options->json = true;
      break;
    case OPT_ALLOW_DIR:
      /* At most argc folders: the array never grows. */
      options->allowed_dirs[options->allowed_count++] = optarg;
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
  if (optind == argc) {
    report_error ("no IMAGE given (see --help)");
    return -1;
  }
  return optind;
}

/* Messages about an image go into its report; the ones that matter are
 * printed by main.
 */
static void
keep_quiet (const char *message)
{
}

static int
exit_status (enum verdict verdict)
{
  return verdict == VERDICT_SAFE ? EXIT_SUCCESS
         : verdict == VERDICT_UNSAFE ? EXIT_UNSAFE : EXIT_UNREADABLE;
}

/* What the reports of all IMAGEs share. */
struct run {
  const struct options *options;
  bool first;                   /* no report printed yet */
  int status;                   /* the worst so far */
  const char *path;             /* the IMAGE being reported */
  unsigned disks;               /* of its reports, when an OVA */
};

/* Inspect PATH (its DISK, or NULL) and print the report. */
static void
report (struct run *run, const char *path, const struct image_disk *disk)
{
  struct inspection i;
  int image_status;

  inspect_image (path, disk, run->options->allowed_dirs, &i);
  if (run->options->json) {
    if (!run->first)
      fputc (',', stdout);
    print_json (stdout, &i);
  }
  else {
    if (!run->first)
      fputc ('\n', stdout);
    print_text (stdout, &i);
  }
  run->first = false;
  if (i.verdict == VERDICT_UNREADABLE)
    fprintf (stderr, "sparseinfo: %s\n", i.error ? i.error : "out of memory");
  image_status = exit_status (i.verdict);
  if (image_status > run->status)
    run->status = image_status;
  inspection_free (&i);
}

static int
report_disk (const struct image_disk *disk, void *opaque)
{
  struct run *run = opaque;

  report (run, run->path, disk);
  run->disks++;
  return 0;
}

/* An OVA gets one report per disk; any other file, or an OVA that cannot
 * be listed or holds no disk, one report (saying why, if it must).
 */
static void
report_image (struct run *run, const char *path)
{
  bool is_ova;

  run->path = path;
  run->disks = 0;
  if (image_ova_disks (path, &is_ova, report_disk, run) == -1 || !is_ova
      || run->disks == 0)
    report (run, path, NULL);
}

int
main (int argc, char **argv)
{
  struct options options = { 0 };
  struct run run = { .options = &options, .first = true,
                     .status = EXIT_SUCCESS };
  int first, n;

  options.allowed_dirs = calloc (argc + 1, sizeof *options.allowed_dirs);
  if (options.allowed_dirs == NULL) {
    perror ("sparseinfo");
    return EXIT_UNREADABLE;
  }
  first = parse_options (argc, argv, &options);
  if (first == -1) {
    free (options.allowed_dirs);
    return EXIT_UNREADABLE;
  }
  set_error_sink (keep_quiet);
  if (options.json)
    fputc ('[', stdout);
  for (n = first; n < argc; n++)
    report_image (&run, argv[n]);
  if (options.json)
    fputs ("]\n", stdout);
  free (options.allowed_dirs);
  if (fflush (stdout) == EOF || ferror (stdout)) {
    perror ("sparseinfo: standard output");
    return EXIT_UNREADABLE;
  }
  return run.status;
}
