/* sparsefs: command line, mounting, pidfile and the FUSE loop.
 *
 *   sparsefs [OPTIONS] SOURCE MOUNTPOINT
 *
 * Options of our own come in two spellings, --name=VALUE for the command
 * line and -o name=VALUE for /etc/fstab (mount.fuse3 passes only -o);
 * everything else is libfuse's.  Checks that can fail (SOURCE, a single
 * image's header) run before mounting, so that a mistake is an exit
 * status, not a mount that fails later.  Once mounted the daemon never
 * exits because of an image: it replies errors to that image's requests.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sparsefs.h"           /* before fuse_lowlevel.h: FUSE_USE_VERSION */
#include <fuse_lowlevel.h>

#include "error.h"
#include "log.h"
#include "readahead.h"
#include "size.h"

#define DEFAULT_CACHE_BYTES (64 * 1024 * 1024)
#define DEFAULT_READAHEAD_BYTES (4 * 1024 * 1024)

struct sparsefs_settings settings;

/* What the command line gave, before checking. */
struct command_line {
  char *source;
  char *pidfile;
  char *cache;
  char *readahead;
  char **allow_dirs;            /* NULL-terminated, room for one more */
  size_t allow_dirs_count;
  int help, version;
};

enum { KEY_PIDFILE, KEY_CACHE, KEY_READAHEAD, KEY_ALLOW_DIR, KEY_HELP, KEY_VERSION };

/* "--NAME VALUE" also matches "--NAME=VALUE"; a template for the latter
 * would match it a second time.
 */
static const struct fuse_opt sparsefs_options[] = {
  FUSE_OPT_KEY ("--pidfile ", KEY_PIDFILE),
  FUSE_OPT_KEY ("pidfile=", KEY_PIDFILE),
  FUSE_OPT_KEY ("--cache ", KEY_CACHE),
  FUSE_OPT_KEY ("cache=", KEY_CACHE),
  FUSE_OPT_KEY ("--readahead ", KEY_READAHEAD),
  FUSE_OPT_KEY ("readahead=", KEY_READAHEAD),
  FUSE_OPT_KEY ("--allow-dir ", KEY_ALLOW_DIR),
  FUSE_OPT_KEY ("allow_dir=", KEY_ALLOW_DIR),
  FUSE_OPT_KEY ("-h", KEY_HELP),
  FUSE_OPT_KEY ("--help", KEY_HELP),
  FUSE_OPT_KEY ("-V", KEY_VERSION),
  FUSE_OPT_KEY ("--version", KEY_VERSION),
  FUSE_OPT_END
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: %s [OPTIONS] SOURCE MOUNTPOINT\n"
           "Show each qcow2, VDI, VHD, VHDX or VMDK image in folder SOURCE (or the one\n"
           "image SOURCE) as a read-only sparse raw file under MOUNTPOINT.\n"
           "\n"
           "Options:\n"
           "    --cache=SIZE, -o cache=SIZE  engine cache shared by all images\n"
           "                                 (bytes, or with K, M, G, T, P; default 64M)\n"
           "    --readahead=SIZE, -o readahead=SIZE\n"
           "                                 kernel readahead for the mount (root;\n"
           "                                 0 keeps the kernel's; default 4M)\n"
           "    --allow-dir=DIR, -o allow_dir=DIR\n"
           "                                 also open backing and data files in DIR\n"
           "    --pidfile=FILE, -o pidfile=FILE\n"
           "                                 write the daemon's pid once mounted\n"
           "    -h, --help                   this help, then libfuse's options\n"
           "    -V, --version                print the version\n",
           program_invocation_short_name);
}

/* The value of one of our options as fuse_opt hands it over:
 * "name=VALUE" (-o), "--nameVALUE" (two arguments) or "--name=VALUE".
 */
static const char *
option_value (const char *arg, const char *long_name)
{
  size_t length = strlen (long_name);

  if (strncmp (arg, long_name, length) != 0)
    return strchr (arg, '=') + 1;
  return arg[length] == '=' ? arg + length + 1 : arg + length;
}

static int
add_allow_dir (struct command_line *cl, const char *dir)
{
  char **dirs = realloc (cl->allow_dirs, (cl->allow_dirs_count + 2) * sizeof *dirs);

  if (dirs == NULL)
    return -1;
  cl->allow_dirs = dirs;
  dirs[cl->allow_dirs_count] = strdup (dir);
  if (dirs[cl->allow_dirs_count] == NULL)
    return -1;
  dirs[++cl->allow_dirs_count] = NULL;
  return 0;
}

static int
option_processor (void *data, const char *arg, int key, struct fuse_args *outargs)
{
  struct command_line *cl = data;

  switch (key) {
  case KEY_PIDFILE:
    free (cl->pidfile);
    return (cl->pidfile = strdup (option_value (arg, "--pidfile"))) ? 0 : -1;
  case KEY_CACHE:
    free (cl->cache);
    return (cl->cache = strdup (option_value (arg, "--cache"))) ? 0 : -1;
  case KEY_READAHEAD:
    free (cl->readahead);
    return (cl->readahead = strdup (option_value (arg, "--readahead"))) ? 0 : -1;
  case KEY_ALLOW_DIR:
    return add_allow_dir (cl, option_value (arg, "--allow-dir"));
  case KEY_HELP:
    cl->help = 1;
    return 0;
  case KEY_VERSION:
    cl->version = 1;
    return 0;
  case FUSE_OPT_KEY_OPT:
    /* x-systemd.automount and other fstab options meant for mount tools */
    return strncmp (arg, "x-", 2) == 0 ? 0 : 1;
  case FUSE_OPT_KEY_NONOPT:
    if (cl->source)
      return 1;                 /* MOUNTPOINT: for fuse_parse_cmdline */
    cl->source = strdup (arg);
    return cl->source ? 0 : -1;
  default:
    return 1;
  }
}

/* --NAME TEXT, a size by the rule of size.h, into *BYTES. */
static int
size_option (const char *name, const char *text, size_t *bytes)
{
  uint64_t value;

  if (parse_size (text, &value) == -1 || value > SIZE_MAX) {
    report_error ("--%s %s: not a size (bytes, or with K, M, G, T or P)", name, text);
    return -1;
  }
  *bytes = value;
  return 0;
}

/* ---- checking SOURCE and MOUNTPOINT --------------------------------- */

static int
check_single_image (const char *source)
{
  const struct image_options options = {
    .cache = settings.cache, .allowed_dirs = settings.allowed_dirs,
  };
  struct image *image = image_open (source, &options);

  if (image == NULL)
    return -1;
  image_close (image);
  return 0;
}

/* Whether absolute PATH is FOLDER or inside it (both symlink-free). */
static bool
is_inside (const char *path, const char *folder)
{
  size_t length = strlen (folder);

  if (strcmp (folder, "/") == 0)
    return true;
  return strncmp (path, folder, length) == 0
    && (path[length] == '/' || path[length] == '\0');
}

static int
decide_source_kind (const char *mountpoint)
{
  struct stat source, target;

  if (stat (settings.source, &source) == -1) {
    report_error ("%s: %m", settings.source);
    return -1;
  }
  if (stat (mountpoint, &target) == -1) {
    report_error ("%s: %m", mountpoint);
    return -1;
  }
  if (S_ISDIR (source.st_mode)) {
    if (!S_ISDIR (target.st_mode)) {
      report_error ("%s: SOURCE is a folder, so MOUNTPOINT must be one", mountpoint);
      return -1;
    }
    /* The mount would list itself, and a lookup in it would call itself. */
    if (is_inside (mountpoint, settings.source)) {
      report_error ("%s: MOUNTPOINT is inside SOURCE %s", mountpoint, settings.source);
      return -1;
    }
    settings.kind = SOURCE_FOLDER;
    return 0;
  }
  if (!S_ISREG (source.st_mode)) {
    report_error ("%s: neither a folder nor a regular file", settings.source);
    return -1;
  }
  if (S_ISDIR (target.st_mode))
    settings.kind = SOURCE_IMAGE_IN_FOLDER;
  else if (S_ISREG (target.st_mode))
    settings.kind = SOURCE_IMAGE_ON_FILE;
  else {
    report_error ("%s: neither a folder nor a regular file", mountpoint);
    return -1;
  }
  return check_single_image (settings.source);
}

/* Allowed folders as absolute paths: the daemon changes to / when it
 * detaches.
 */
static int
resolve_allowed_dirs (struct command_line *cl)
{
  char *resolved;
  size_t i;

  if (cl->allow_dirs == NULL && (cl->allow_dirs = calloc (1, sizeof (char *))) == NULL)
    return -1;
  for (i = 0; i < cl->allow_dirs_count; i++) {
    resolved = realpath (cl->allow_dirs[i], NULL);
    if (resolved == NULL) {
      report_error ("--allow-dir %s: %m", cl->allow_dirs[i]);
      return -1;
    }
    free (cl->allow_dirs[i]);
    cl->allow_dirs[i] = resolved;
  }
  return 0;
}

static int
setup_settings (struct command_line *cl, const char *mountpoint)
{
  size_t cache_bytes = DEFAULT_CACHE_BYTES;

  if (cl->cache && size_option ("cache", cl->cache, &cache_bytes) == -1)
    return -1;
  settings.readahead_bytes = DEFAULT_READAHEAD_BYTES;
  if (cl->readahead
      && size_option ("readahead", cl->readahead, &settings.readahead_bytes) == -1)
    return -1;
  settings.source = realpath (cl->source, NULL);
  if (settings.source == NULL) {
    report_error ("%s: %m", cl->source);
    return -1;
  }
  if (resolve_allowed_dirs (cl) == -1)
    return -1;
  settings.allowed_dirs = (const char *const *) cl->allow_dirs;
  settings.cache = image_cache_new (cache_bytes);
  if (settings.cache == NULL || decide_source_kind (mountpoint) == -1)
    return -1;
  /* Images in subfolders may use backing files anywhere in the tree. */
  if (settings.kind == SOURCE_FOLDER) {
    if (add_allow_dir (cl, settings.source) == -1)
      return -1;
    settings.allowed_dirs = (const char *const *) cl->allow_dirs;
  }
  return 0;
}

/* ---- mounting and running ------------------------------------------- */

/* Mount options we always pass: the source as fsname (so mount and df
 * show it) and the subtype before the user's options, which may override
 * them; read-only, nosuid and nodev after them, which may not (mount.fuse3
 * adds "dev,suid" for root).  default_permissions lets
 * the kernel check the owner and mode copied from each image.
 */
static int
add_mount_options (struct fuse_args *args)
{
  char *escaped = NULL, *fsname = NULL;
  int r;

  if (fuse_opt_add_opt_escaped (&escaped, settings.source) == -1
      || asprintf (&fsname, "-ofsname=%s", escaped) == -1) {
    free (escaped);
    return -1;
  }
  r = fuse_opt_insert_arg (args, 1, fsname) == -1
    || fuse_opt_insert_arg (args, 1, "-osubtype=sparsefs,default_permissions") == -1
    || fuse_opt_add_arg (args, "-oro,nosuid,nodev") == -1 ? -1 : 0;
  free (escaped);
  free (fsname);
  return r;
}

/* Written once mounted and detached, atomically (write, then rename), so
 * that whoever waits for it finds either nothing or the daemon's pid.
 */
static int
write_pidfile (const char *pidfile)
{
  char *temporary;
  FILE *out;
  int r = -1;

  if (asprintf (&temporary, "%s.tmp", pidfile) == -1)
    return -1;
  out = fopen (temporary, "we");
  if (out != NULL) {
    fprintf (out, "%d\n", (int) getpid ());
    r = fclose (out) == 0 && rename (temporary, pidfile) == 0 ? 0 : -1;
  }
  if (r == -1) {
    report_error ("%s: %m", pidfile);
    unlink (temporary);
  }
  free (temporary);
  return r;
}

/* The loop as -s, -o clone_fd, max_threads and max_idle_threads ask.  An
 * unset max_idle_threads is UINT_MAX, which libfuse 3.14 would report as
 * invalid if set: its own default stands then.
 */
static int
serve (struct fuse *fuse, const struct fuse_cmdline_opts *opts)
{
  struct fuse_loop_config *config;
  int r;

  if (opts->singlethread)
    return fuse_loop (fuse);
  config = fuse_loop_cfg_create ();
  if (config == NULL) {
    report_error ("FUSE loop configuration: %m");
    return -1;
  }
  fuse_loop_cfg_set_clone_fd (config, opts->clone_fd);
  fuse_loop_cfg_set_max_threads (config, opts->max_threads);
  if (opts->max_idle_threads != UINT_MAX)
    fuse_loop_cfg_set_idle_threads (config, opts->max_idle_threads);
  r = fuse_loop_mt (fuse, config);
  fuse_loop_cfg_destroy (config);
  return r;
}

/* Mount, detach unless -f, run until unmounted or signalled, unmount. */
static int
run (struct fuse_args *args, const struct fuse_cmdline_opts *opts,
     const char *pidfile)
{
  struct fuse_session *session;
  struct fuse *fuse;
  int r = -1;

  fuse = fuse_new (args, &sparsefs_operations, sizeof sparsefs_operations, NULL);
  if (fuse == NULL)
    return -1;
  if (fuse_mount (fuse, opts->mountpoint) == 0) {
    readahead_prepare (opts->mountpoint, settings.readahead_bytes);
    session = fuse_get_session (fuse);
    if (fuse_set_signal_handlers (session) == 0) {
      if (fuse_daemonize (opts->foreground) == 0) {
        if (!opts->foreground)
          log_to_syslog ();
        if (pidfile == NULL || write_pidfile (pidfile) == 0)
          r = serve (fuse, opts) == 0 ? 0 : -1;
        if (pidfile)
          unlink (pidfile);
      }
      fuse_remove_signal_handlers (session);
    }
    fuse_unmount (fuse);
  }
  fuse_destroy (fuse);
  return r;
}

static void
free_command_line (struct command_line *cl)
{
  size_t i;

  for (i = 0; i < cl->allow_dirs_count; i++)
    free (cl->allow_dirs[i]);
  free (cl->allow_dirs);
  free (cl->source);
  free (cl->pidfile);
  free (cl->cache);
  free (cl->readahead);
}

int
main (int argc, char *argv[])
{
  struct fuse_args args = FUSE_ARGS_INIT (argc, argv);
  struct command_line cl = { 0 };
  struct fuse_cmdline_opts opts = { 0 };
  int status = EXIT_FAILURE;

  log_init ();
  /* One malloc arena for every thread: a cache block allocated by one
   * thread and freed by another goes back to the first thread's arena, and
   * with an arena per thread each one kept its share of freed blocks, the
   * daemon holding the cache several times over (--cache bounds memory).
   * The lock is taken per request and per block read, never per byte.
   */
  mallopt (M_ARENA_MAX, 1);
  if (fuse_opt_parse (&args, &cl, sparsefs_options, option_processor) == -1
      || fuse_parse_cmdline (&args, &opts) == -1)
    goto out;
  if (cl.help || cl.version) {
    if (cl.help) {
      usage (stdout);
      printf ("\nFUSE options:\n");
      fuse_cmdline_help ();
      fuse_lib_help (&args);
    }
    else
      printf ("sparsefs %s (libfuse %s)\n", PACKAGE_VERSION, fuse_pkgversion ());
    status = EXIT_SUCCESS;
    goto out;
  }
  if (cl.source == NULL || opts.mountpoint == NULL) {
    usage (stderr);
    goto out;
  }
  if (setup_settings (&cl, opts.mountpoint) == 0
      && add_mount_options (&args) == 0
      && run (&args, &opts, cl.pidfile) == 0)
    status = EXIT_SUCCESS;
 out:
  if (settings.cache)
    image_cache_free (settings.cache);
  free ((char *) settings.source);
  free_command_line (&cl);
  fuse_opt_free_args (&args);
  free (opts.mountpoint);
  return status;
}
