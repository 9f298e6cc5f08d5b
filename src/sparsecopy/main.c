/* sparsecopy: write an image onto a thin block device (or a file) without
 * allocating its zeros.  Options, the order of the steps, exit codes.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "error.h"
#include "messages.h"
#include "probe.h"
#include "progress.h"
#include "raw-digest.h"
#include "rbd-name.h"
#include "rounding.h"
#include "size.h"
#include "source.h"
#include "summary.h"
#include "target.h"

/* Exit codes (documented in sparsecopy(1)). */
enum {
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_SOURCE = 2,
  EXIT_TARGET = 3,
  EXIT_NOT_SUPPORTED = 4,
  EXIT_VERIFY = 5,
  EXIT_INTERRUPTED = 6,
};

#define MAX_ALLOWED_DIRS 32
#define MAX_HEADERS 32
/* Workers: at least 4 requests in flight, and one per core so that
 * decompression uses them all.
 */
#define MIN_DEFAULT_THREADS 4
#define MAX_THREADS 256
#define DEFAULT_REQUEST_SIZE (4 * 1024 * 1024)
/* Into RBD, 1 MiB requests beat 4 MiB ones (whole 4 MiB objects) by about
 * a third on the test cluster (bench-rbd.sh), at any -j.
 */
#define RBD_REQUEST_SIZE (1024 * 1024)
#define MAX_REQUEST_SIZE (64 * 1024 * 1024)
#define DEFAULT_STREAM_BUFFER (UINT64_C (256) << 20)
/* Copies of data that finished ahead of the raw digest (raw-digest.h):
 * room for the pieces of a few rounds of every worker, 64 MiB by default,
 * at most this.
 */
#define DIGEST_WINDOW_ROUNDS 4
#define DIGEST_WINDOW_MAX (UINT64_C (256) << 20)

struct settings {
  const char *source_path;
  const char *target_path;
  struct source_options source;
  struct target_options target;
  struct copy_options copy;
  const char *allowed_dirs[MAX_ALLOWED_DIRS + 1];
  size_t n_allowed_dirs;
  const char *headers[MAX_HEADERS];
  struct checksum_spec source_checksum;
  struct checksum_spec checksum;        /* of the raw disk */
  bool want_checksum;
  enum progress_mode progress_mode;
  int progress_fd;
  struct progress progress;
  bool target_is_zero;
  bool json;
  bool verify;
  bool dry_run;
  bool show_probe;
};

enum {
  OPT_CACHE = 256, OPT_HOLES, OPT_TARGET_IS_ZERO, OPT_DISCARD_ZEROES,
  OPT_FORCE, OPT_NO_CREATE, OPT_DRY_RUN, OPT_SHOW_PROBE, OPT_JSON, OPT_VERIFY, OPT_ALLOW_DIR,
  OPT_REQUEST_SIZE, OPT_STREAM_BUFFER, OPT_HEADER, OPT_CHECKSUM,
  OPT_SOURCE_CHECKSUM, OPT_PROGRESS_FD,
  OPT_SNAPSHOT,
  OPT_DISK,
};

static const struct option long_options[] = {
  { "format", required_argument, NULL, 'f' },
  { "sparse", required_argument, NULL, 'S' },
  { "jobs", required_argument, NULL, 'j' },
  { "progress", optional_argument, NULL, 'p' },
  { "progress-fd", required_argument, NULL, OPT_PROGRESS_FD },
  { "cache", required_argument, NULL, OPT_CACHE },
  { "holes", required_argument, NULL, OPT_HOLES },
  { "target-is-zero", no_argument, NULL, OPT_TARGET_IS_ZERO },
  { "discard-zeroes", no_argument, NULL, OPT_DISCARD_ZEROES },
  { "force", no_argument, NULL, OPT_FORCE },
  { "no-create", no_argument, NULL, OPT_NO_CREATE },
  { "dry-run", no_argument, NULL, OPT_DRY_RUN },
  { "show-probe", no_argument, NULL, OPT_SHOW_PROBE },
  { "json", no_argument, NULL, OPT_JSON },
  { "verify", no_argument, NULL, OPT_VERIFY },
  { "allow-dir", required_argument, NULL, OPT_ALLOW_DIR },
  { "request-size", required_argument, NULL, OPT_REQUEST_SIZE },
  { "stream-buffer", required_argument, NULL, OPT_STREAM_BUFFER },
  { "header", required_argument, NULL, OPT_HEADER },
  { "checksum", required_argument, NULL, OPT_CHECKSUM },
  { "source-checksum", required_argument, NULL, OPT_SOURCE_CHECKSUM },
  { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
  { "disk", required_argument, NULL, OPT_DISK },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'V' },
  { NULL, 0, NULL, 0 },
};

static void
usage (FILE *fp)
{
  fprintf (fp,
"Usage: sparsecopy [OPTIONS] SOURCE TARGET\n"
"Write SOURCE (a qcow2, VDI, VHD, VHDX or VMDK image, or any file read as\n"
"raw) onto TARGET without allocating its zeros.  TARGET is one of:\n"
"  a block device or a regular file\n"
"  an NBD export: nbd://HOST[:PORT]/EXPORT, nbds://HOST[:PORT]/EXPORT (TLS),\n"
"    nbd+unix:///EXPORT?socket=PATH or nbds+unix:///EXPORT?socket=PATH\n"
"  a Ceph RBD image: rbd:POOL[/NAMESPACE]/IMAGE[:conf=FILE][:id=USER]\n"
"SOURCE may also be an NBD export (the same URIs), or be read once, front\n"
"to back, as a stream: - (standard input), a FIFO, or an http:// or\n"
"https:// URL: raw, qcow2 or streamOptimized VMDK, bare or compressed\n"
"with gzip, xz or zstd.\n"
"\n"
"  -f, --format=FORMAT      raw, qcow2, vdi, vpc (VHD), vhdx or vmdk (default:\n"
"                           probe)\n"
"      --snapshot=ID|NAME   copy this internal snapshot of a qcow2 image\n"
"      --disk=N|NAME        copy this disk of an OVA archive (index from 0, or\n"
"                           name; default: its only disk)\n"
"  -S, --sparse=SIZE        all-zero blocks of SIZE become holes (default 4k,\n"
"                           0 disables)\n"
"      --holes=METHOD       auto, skip, punch, discard, zeroout or write\n"
"      --target-is-zero     the target already reads as zeros: skip holes\n"
"      --discard-zeroes     the target reads discarded blocks as zeros: holes\n"
"                           may be discarded\n"
"  -j, --jobs=N             requests in flight (default: cores, at least %d)\n"
"      --request-size=SIZE  bytes per data request (default 4M, 1M into RBD)\n"
"      --cache=none|writeback  O_DIRECT on block devices or not (default none)\n"
"  -p, --progress           show a progress bar on a terminal\n"
"      --progress=json      JSON progress lines on stderr\n"
"      --progress-fd=N      JSON progress lines on file descriptor N\n"
"      --json               print a JSON summary on stdout at the end\n"
"      --verify             read the target back and compare\n"
"      --show-probe         print what was found about the target\n"
"      --dry-run            probe and plan, write nothing\n"
"      --force              write to a device in use (no O_EXCL)\n"
"      --no-create          refuse a missing target file or RBD image\n"
"      --allow-dir=DIR      a folder backing files may come from\n"
"      --stream-buffer=SIZE memory for a stream's data that comes before its\n"
"                           L2 table (default 256M)\n"
"      --header='NAME: VALUE'  an HTTP header to send (repeatable)\n"
"      --checksum=ALG[:HEX] print (and check) the sha256 or sha512 of the\n"
"                           raw disk written\n"
"      --source-checksum=ALG:HEX  check a streamed source's bytes as they\n"
"                           came (sha256 or sha512)\n"
"  -h, --help               this text\n"
"  -V, --version            the version\n"
"\n"
"Exit: 0 done, 1 usage, 2 source error, 3 target error, 4 not supported,\n"
"5 verify or checksum mismatch, 6 interrupted.  See sparsecopy(1).\n",
           MIN_DEFAULT_THREADS);
}

static void __attribute__ ((noreturn, format (printf, 1, 2)))
usage_error (const char *fmt, ...)
{
  va_list args;

  fprintf (stderr, "%s: ", program_invocation_short_name);
  va_start (args, fmt);
  vfprintf (stderr, fmt, args);
  va_end (args);
  fprintf (stderr, "\nTry 'sparsecopy --help'.\n");
  exit (EXIT_USAGE);
}

static void
parse_option (struct settings *s, int opt, const char *arg)
{
  uint64_t n;
  int m;

  switch (opt) {
  case 'f':
    if (image_format_from_name (arg, &s->source.format) == -1)
      usage_error ("--format: '%s' is not raw, qcow2, vdi, vpc, vhdx or vmdk",
                   arg);
    break;
  case 'S':
    if (parse_size (arg, &n) == -1 || (n != 0 && n % 512 != 0)
        || n > MAX_REQUEST_SIZE)
      usage_error ("--sparse: '%s' is not 0 or a multiple of 512 up to 64M",
                   arg);
    s->copy.zero_block = n;
    break;
  case 'j':
    if (parse_size (arg, &n) == -1 || n < 1 || n > MAX_THREADS)
      usage_error ("--jobs: '%s' is not a number from 1 to %d", arg,
                   MAX_THREADS);
    s->copy.threads = n;
    break;
  case 'p':
    if (arg != NULL && strcmp (arg, "json") != 0)
      usage_error ("--progress: '%s' is not json", arg);
    s->progress_mode = arg ? PROGRESS_JSON : PROGRESS_BAR;
    break;
  case OPT_PROGRESS_FD:
    if (parse_size (arg, &n) == -1 || n > INT_MAX
        || fcntl ((int) n, F_GETFD) == -1)
      usage_error ("--progress-fd: '%s' is not an open file descriptor",
                   arg);
    s->progress_fd = n;
    s->progress_mode = PROGRESS_JSON;
    break;
  case OPT_CACHE:
    if (strcmp (arg, "none") == 0)
      s->target.cache = CACHE_NONE;
    else if (strcmp (arg, "writeback") == 0)
      s->target.cache = CACHE_WRITEBACK;
    else
      usage_error ("--cache: '%s' is not none or writeback", arg);
    break;
  case OPT_HOLES:
    m = method_from_name (arg);
    if (m == -1)
      usage_error ("--holes: '%s' is not auto, skip, punch, discard, zeroout "
                   "or write", arg);
    s->copy.policy.forced = m;
    break;
  case OPT_TARGET_IS_ZERO: s->target_is_zero = true; break;
  case OPT_DISCARD_ZEROES: s->copy.policy.discard_zeroes = true; break;
  case OPT_FORCE: s->target.force = true; break;
  case OPT_NO_CREATE: s->target.no_create = true; break;
  case OPT_DRY_RUN: s->dry_run = true; break;
  case OPT_SHOW_PROBE: s->show_probe = true; break;
  case OPT_JSON: s->json = true; break;
  case OPT_VERIFY: s->verify = true; break;
  case OPT_ALLOW_DIR:
    if (s->n_allowed_dirs == MAX_ALLOWED_DIRS)
      usage_error ("--allow-dir: more than %d folders", MAX_ALLOWED_DIRS);
    s->allowed_dirs[s->n_allowed_dirs++] = arg;
    break;
  case OPT_REQUEST_SIZE:
    if (parse_size (arg, &n) == -1 || n < 65536 || n > MAX_REQUEST_SIZE
        || n % 65536 != 0)
      usage_error ("--request-size: '%s' is not a multiple of 64k up to 64M",
                   arg);
    s->copy.request_size = n;
    break;
  case OPT_STREAM_BUFFER:
    if (parse_size (arg, &n) == -1)
      usage_error ("--stream-buffer: '%s' is not a size", arg);
    s->source.stream_buffer = n;
    break;
  case OPT_HEADER:
    if (s->source.http.n_headers == MAX_HEADERS)
      usage_error ("--header: more than %d headers", MAX_HEADERS);
    if (strchr (arg, ':') == NULL)
      usage_error ("--header: '%s' is not NAME: VALUE", arg);
    s->headers[s->source.http.n_headers++] = arg;
    break;
  case OPT_CHECKSUM:
    if (checksum_parse (arg, false, &s->checksum) == -1)
      usage_error ("--checksum: '%s' is not sha256, sha512, sha256:HEX or "
                   "sha512:HEX", arg);
    s->want_checksum = true;
    break;
  case OPT_SOURCE_CHECKSUM:
    if (checksum_parse (arg, true, &s->source_checksum) == -1)
      usage_error ("--source-checksum: '%s' is not sha256:HEX or sha512:HEX",
                   arg);
    s->source.checksum = &s->source_checksum;
    break;
  case OPT_SNAPSHOT: s->source.snapshot = arg; break;
  case OPT_DISK: s->source.disk = arg; break;
  case 'h':
    usage (stdout);
    exit (EXIT_OK);
  case 'V':
    printf ("sparsecopy %s\n", PACKAGE_VERSION);
    exit (EXIT_OK);
  default:
    fprintf (stderr, "Try 'sparsecopy --help'.\n");
    exit (EXIT_USAGE);
  }
}

static unsigned
default_threads (void)
{
  long cores = sysconf (_SC_NPROCESSORS_ONLN);

  return MIN (MAX_THREADS, MAX (MIN_DEFAULT_THREADS, cores));
}

static void
parse_command_line (struct settings *s, int argc, char **argv)
{
  int opt;

  memset (s, 0, sizeof *s);
  s->copy.threads = default_threads ();
  s->copy.zero_block = 4096;
  s->copy.policy.forced = METHOD_AUTO;
  s->source.stream_buffer = DEFAULT_STREAM_BUFFER;
  s->progress_fd = STDERR_FILENO;
  while ((opt = getopt_long (argc, argv, "f:S:j:phV", long_options,
                             NULL)) != -1)
    parse_option (s, opt, optarg);
  if (argc - optind != 2)
    usage_error ("%s", "expected SOURCE and TARGET");
  s->source_path = argv[optind];
  s->target_path = argv[optind + 1];
  if (s->copy.request_size == 0)        /* no --request-size */
    s->copy.request_size = is_rbd_name (s->target_path) ? RBD_REQUEST_SIZE
      : DEFAULT_REQUEST_SIZE;
  s->source.allowed_dirs = s->n_allowed_dirs ? s->allowed_dirs : NULL;
  s->source.http.headers = s->headers;
  s->target.dry_run = s->dry_run;
  progress_init (&s->progress, s->progress_mode, s->progress_fd);
  s->copy.progress = &s->progress;
}

static void
on_signal (int signum)
{
  copy_interrupt (signum);
}

static void
catch_signals (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART | SA_RESETHAND;   /* a second ^C kills */
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

static int
exit_status_for (enum copy_failure failure)
{
  switch (failure) {
  case COPY_OK: return EXIT_OK;
  case COPY_SOURCE_FAILED: return EXIT_SOURCE;
  case COPY_NOT_SUPPORTED: return EXIT_NOT_SUPPORTED;
  case COPY_INTERRUPTED: return EXIT_INTERRUPTED;
  case COPY_VERIFY_FAILED: return EXIT_VERIFY;
  default: return EXIT_TARGET;
  }
}

/* Settle the hole policy against the target; -1 (reported) if a forced
 * method cannot be used there.
 */
static int
settle_policy (struct settings *s, const struct target *t)
{
  struct plan_policy *policy = &s->copy.policy;
  const char *why;

  policy->target_is_zero = s->target_is_zero || t->reads_zero;
  if (policy->forced != METHOD_AUTO
      && !forced_method_allowed (&t->facts, policy->forced,
                                 policy->discard_zeroes, &why)) {
    report_error ("%s: --holes=%s: %s", t->path,
                  method_name (policy->forced), why);
    return -1;
  }
  /* Zero detection works in whole logical blocks. */
  if (s->copy.zero_block % MAX (1, t->facts.logical_block_size) != 0)
    s->copy.zero_block = round_up (s->copy.zero_block,
                                   t->facts.logical_block_size);
  return 0;
}

static void
say_larger_target (const struct target *t, uint64_t source_size)
{
  if (t->facts.size > source_size)
    fprintf (stderr, "%s: %s is larger than the source (%" PRIu64 " > %"
             PRIu64 " bytes): only the first %" PRIu64 " bytes are written\n",
             program_invocation_short_name, t->path, t->facts.size,
             source_size, source_size);
}

static int
dry_run (struct source *src, const struct target *t,
         const struct settings *s)
{
  uint64_t data;
  char size_text[32], data_text[32];
  int known = source_data_bytes (src, &data);

  if (known == -1)
    return EXIT_SOURCE;
  format_bytes (size_text, sizeof size_text, src->size);
  printf ("%s: %s, %" PRIu64 " bytes (%s), ", src->path, src->format,
          src->size, size_text);
  if (known == 0)
    printf ("a stream: its data are known once read\n");
  else {
    format_bytes (data_text, sizeof data_text, data);
    printf ("%" PRIu64 " bytes of data (%s)\n", data, data_text);
  }
  probe_print (stdout, t->path, &t->facts, &s->copy.policy);
  if (t->would_create)
    printf ("  (would be created, %" PRIu64 " bytes)\n", src->size);
  printf ("dry run: nothing was written\n");
  return EXIT_OK;
}

static void
say_incomplete (const struct target *t, const struct copy_result *r)
{
  int sig = copy_interrupt_signal ();

  if (r->failure == COPY_INTERRUPTED)
    report_error ("%s: copy stopped at offset %" PRIu64 ": %s", t->path,
                  r->failed_at, sig ? strsignal (sig) : "interrupted");
  report_error ("%s: the target is incomplete", t->path);
}

/* A raw stream's size is known at its end: a target that can grow grows
 * to it (its last blocks may have been holes, never written).
 */
static int
grow_to_source (struct target *t, const struct source *src)
{
  return t->ops->grow ? t->ops->grow (t, src->size) : 0;
}

/* --checksum: the digest of the raw disk, printed (in the summary with
 * --json) and checked.  Returns the exit status.
 */
static int
finish_digest (const struct settings *s, struct raw_digest *d,
               const struct source *src, char *text)
{
  if (raw_digest_result (d, src->size, text) == -1)
    return EXIT_TARGET;
  if (!s->json)
    printf ("%s\n", text);
  return raw_digest_matches (d, text) ? EXIT_OK : EXIT_VERIFY;
}

static int
copy_and_verify (struct settings *s, struct source *src, struct target *t,
                 struct raw_digest *digest)
{
  struct copy_result result, checked;
  struct summary summary = { src, t, &result, &s->copy.policy, METHOD_WRITE,
                             NULL, s->verify, false, EXIT_OK };
  char digest_text[RAW_DIGEST_TEXT_MAX];
  int status;

  s->copy.digest = digest;
  copy_run (src, t, &s->copy, &result);
  if (result.failure == COPY_OK && grow_to_source (t, src) == -1)
    result.failure = COPY_TARGET_FAILED;
  if (result.failure == COPY_OK && source_finish (src) == -1)
    result.failure = COPY_VERIFY_FAILED;
  /* Flush what was written, even after a failure. */
  if (target_flush (t) == -1 && result.failure == COPY_OK)
    result.failure = COPY_TARGET_FAILED;
  status = exit_status_for (result.failure);
  if (status == EXIT_OK && digest) {
    status = finish_digest (s, digest, src, digest_text);
    summary.checksum = status == EXIT_TARGET ? NULL : digest_text;
  }
  if (status == EXIT_OK && s->verify) {
    verify_run (src, t, &s->copy, &checked);
    status = exit_status_for (checked.failure);
    summary.verified = status == EXIT_OK;
  }
  /* A checksum mismatch said itself what it means for the target. */
  if (result.failure != COPY_OK && result.failure != COPY_VERIFY_FAILED)
    say_incomplete (t, &result);

  summary.method = choose_method (&t->facts, &s->copy.policy,
                                  result.disabled);
  summary.exit_status = status;
  if (s->json)
    summary_print_json (stdout, &summary);
  return status;
}

/* Copy with the digest --checksum asks for; returns the exit status. */
static int
copy_with_digest (struct settings *s, struct source *src, struct target *t)
{
  struct raw_digest *digest = NULL;
  int status;

  if (s->want_checksum) {
    uint64_t window = MIN (DIGEST_WINDOW_MAX, DIGEST_WINDOW_ROUNDS
                           * s->copy.threads * s->copy.request_size);

    digest = raw_digest_new (&s->checksum, t, window, src->in_order);
    if (digest == NULL)
      return EXIT_TARGET;
  }
  status = copy_and_verify (s, src, t, digest);
  raw_digest_free (digest);
  return status;
}

/* Open both ends, copy (or describe), close both ends. */
static int
run (struct settings *s, struct source **srcp, struct target **tp)
{
  struct source *src;
  struct target *t;

  progress_phase (&s->progress, PHASE_PROBE, 0, true);
  src = *srcp = source_open (s->source_path, &s->source);
  if (src == NULL)
    return EXIT_SOURCE;
  if (s->verify && !source_can_reread (src)) {
    report_error ("%s: --verify reads the source twice, and a stream can be "
                  "read once", src->path);
    return EXIT_USAGE;
  }
  s->target.source_size = src->size;
  t = *tp = target_open (s->target_path, &s->target);
  if (t == NULL)
    return EXIT_TARGET;
  if (settle_policy (s, t) == -1)
    return EXIT_NOT_SUPPORTED;
  progress_end_phase (&s->progress, 0, 0);
  if (src->size_known)
    say_larger_target (t, src->size);
  else if (t->facts.kind == TARGET_REGULAR_FILE)
    t->facts.size = UINT64_MAX;   /* grows with the stream: see grow_to_source */

  if (s->dry_run)
    return dry_run (src, t, s);
  if (s->show_probe)
    probe_print (stdout, t->path, &t->facts, &s->copy.policy);
  return copy_with_digest (s, src, t);
}

int
main (int argc, char **argv)
{
  struct settings s;
  struct source *src = NULL;
  struct target *t = NULL;
  int status;

  /* First of all: a SIGUSR1 sent early must not kill us. */
  progress_catch_signal ();
  parse_command_line (&s, argc, argv);
  messages_install ();
  catch_signals ();

  status = run (&s, &src, &t);
  if (target_close (t) == -1 && status == EXIT_OK)
    status = EXIT_TARGET;
  source_close (src);
  return status;
}
