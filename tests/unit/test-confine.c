/* confine_path(): a backing or data file name is followed only when it
 * resolves, symlinks and all, inside the image's folder or an allowed one.
 * Everything happens in a fresh temporary folder:
 *
 *   T/images/             the image's folder (root 0)
 *       image.qcow2 base.qcow2 sub/b.qcow2 "a:b"
 *       inlink -> base.qcow2          outlink -> ../outside/secret
 *       dirlink -> ../outside         abslink -> /etc/passwd
 *       loop1 -> loop2 -> loop1
 *   T/outside/secret
 *   T/imagesx/f           shares the prefix "images"
 *   T/allowed/other.qcow2
 *   T/imglink -> images
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"
#include "test-capture.h"

/* Short buffers for the folders, so that names built from them always fit
 * the PATH_MAX buffers (and the compiler can tell).
 */
static char top[256];                 /* canonical T */
static char images[512];              /* T/images */
static char allowed[512];             /* T/allowed */
static char image[600];               /* T/images/image.qcow2 */
static void
make_file (const char *rel)
{
  char path[PATH_MAX];
  FILE *f;

  snprintf (path, sizeof path, "%s/%s", top, rel);
  f = fopen (path, "w");
  assert_non_null (f);
  fputs ("x", f);
  fclose (f);
}

static void
make_dir (const char *rel)
{
  char path[PATH_MAX];

  snprintf (path, sizeof path, "%s/%s", top, rel);
  assert_int_equal (mkdir (path, 0755), 0);
}

static void
make_link (const char *target, const char *rel)
{
  char path[PATH_MAX];

  snprintf (path, sizeof path, "%s/%s", top, rel);
  assert_int_equal (symlink (target, path), 0);
}

static int
setup (void **state)
{
  char tmpl[] = "/tmp/test-confine.XXXXXX", resolved[PATH_MAX];

  if (mkdtemp (tmpl) == NULL || realpath (tmpl, resolved) == NULL
      || strlen (resolved) >= sizeof top)
    return -1;
  strcpy (top, resolved);
  snprintf (images, sizeof images, "%s/images", top);
  snprintf (allowed, sizeof allowed, "%s/allowed", top);
  snprintf (image, sizeof image, "%s/image.qcow2", images);
  make_dir ("images");
  make_dir ("images/sub");
  make_dir ("outside");
  make_dir ("imagesx");
  make_dir ("allowed");
  make_file ("images/image.qcow2");
  make_file ("images/base.qcow2");
  make_file ("images/sub/b.qcow2");
  make_file ("images/a:b");
  make_file ("outside/secret");
  make_file ("imagesx/f");
  make_file ("allowed/other.qcow2");
  make_link ("base.qcow2", "images/inlink");
  make_link ("../outside/secret", "images/outlink");
  make_link ("../outside", "images/dirlink");
  make_link ("/etc/passwd", "images/abslink");
  make_link ("loop2", "images/loop1");
  make_link ("loop1", "images/loop2");
  make_link ("images", "imglink");
  capture_start ();
  return 0;
}

static int
remove_entry (const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
  return remove (path);
}

static int
teardown (void **state)
{
  capture_stop ();
  return nftw (top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ---- */

static const char *const *
roots_of (const char *first, const char *second)
{
  static const char *roots[3];

  roots[0] = first;
  roots[1] = second;
  roots[2] = NULL;
  return roots;
}

/* NAME, named by IMAGE_PATH, resolves to T/EXPECTED_REL. */
static void
expect_path (const char *image_path, const char *name,
             const char *const *roots, const char *expected_rel)
{
  char expected[PATH_MAX];
  char *got;

  snprintf (expected, sizeof expected, "%s/%s", top, expected_rel);
  reports = 0;
  got = confine_path (image_path, "backing file", name, roots);
  if (got == NULL)
    fail_msg ("\"%s\" refused: %s", name, message);
  assert_string_equal (got, expected);
  assert_int_equal (reports, 0);
  free (got);
}

/* NAME is refused with ERR, after exactly one report. */
static void
expect_refused (const char *image_path, const char *name,
                const char *const *roots, int err)
{
  char *got;

  reports = 0;
  message[0] = '\0';
  errno = 0;
  got = confine_path (image_path, "backing file", name, roots);
  if (got != NULL) {
    fail_msg ("\"%s\" accepted as %s", name, got);
    free (got);
  }
  assert_int_equal (errno, err);
  assert_int_equal (reports, 1);
}

/* The refusal of a name that resolves outside: T/RESOLVED_REL. */
static void
expect_outside (const char *name, const char *resolved_rel)
{
  char expected[PATH_MAX * 3];

  expect_refused (image, name, roots_of (images, NULL), EACCES);
  snprintf (expected, sizeof expected, "%s: backing file \"%s\" is refused: "
            "it resolves to %s/%s, outside the image's folder %s (allow its "
            "folder explicitly with --allow-dir)", image, name, top,
            resolved_rel, images);
  assert_string_equal (message, expected);
}

static void
expect_protocol (const char *name)
{
  char expected[PATH_MAX * 2];

  expect_refused (image, name, roots_of (images, NULL), EACCES);
  snprintf (expected, sizeof expected, "%s: backing file \"%s\" is refused: "
            "protocol and json: names are never followed", image, name);
  assert_string_equal (message, expected);
}

/* ---- tests ---- */

static void
test_relative_inside (void **state)
{
  const char *const *roots = roots_of (images, NULL);

  expect_path (image, "base.qcow2", roots, "images/base.qcow2");
  expect_path (image, "./base.qcow2", roots, "images/base.qcow2");
  expect_path (image, "sub/b.qcow2", roots, "images/sub/b.qcow2");
  expect_path (image, "sub/../base.qcow2", roots, "images/base.qcow2");
  expect_path (image, "sub//./b.qcow2", roots, "images/sub/b.qcow2");
  /* ".." that leaves and comes back. */
  expect_path (image, "../images/base.qcow2", roots, "images/base.qcow2");
}

/* Relative names are relative to the image's folder, not to the working
 * folder; the image itself may be named relatively.
 */
static void
test_relative_to_image_folder (void **state)
{
  char cwd[PATH_MAX];
  const char *const *roots = roots_of (images, NULL);

  assert_non_null (getcwd (cwd, sizeof cwd));
  assert_int_equal (chdir (top), 0);
  expect_path ("images/image.qcow2", "base.qcow2", roots, "images/base.qcow2");
  expect_path ("images/sub/b.qcow2", "../base.qcow2", roots,
               "images/base.qcow2");
  expect_refused ("images/image.qcow2", "outside/secret", roots, ENOENT);
  assert_int_equal (chdir (images), 0);
  expect_path ("image.qcow2", "sub/b.qcow2", roots, "images/sub/b.qcow2");
  assert_int_equal (chdir (cwd), 0);
  /* Through a symlinked folder: still the canonical image folder. */
  {
    char via_link[PATH_MAX];

    snprintf (via_link, sizeof via_link, "%s/imglink/image.qcow2", top);
    expect_path (via_link, "base.qcow2", roots, "images/base.qcow2");
  }
}

static void
test_dotdot_escape (void **state)
{
  expect_outside ("../outside/secret", "outside/secret");
  expect_outside ("sub/../../outside/secret", "outside/secret");
  expect_refused (image, "..", roots_of (images, NULL), EACCES);
  assert_non_null (strstr (message, "is refused: it resolves to "));
  /* A sibling whose name starts with the root's name is outside. */
  expect_outside ("../imagesx/f", "imagesx/f");
}

static void
test_absolute (void **state)
{
  char name[PATH_MAX];

  snprintf (name, sizeof name, "%s/sub/b.qcow2", images);
  expect_path (image, name, roots_of (images, NULL), "images/sub/b.qcow2");
  snprintf (name, sizeof name, "%s/outside/secret", top);
  expect_outside (name, "outside/secret");
  expect_refused (image, "/etc/passwd", roots_of (images, NULL), EACCES);
  assert_non_null (strstr (message, "it resolves to /etc/passwd, outside"));
  expect_refused (image, "/", roots_of (images, NULL), EACCES);
}

static void
test_symlinks (void **state)
{
  expect_path (image, "inlink", roots_of (images, NULL), "images/base.qcow2");
  expect_outside ("outlink", "outside/secret");
  expect_outside ("dirlink/secret", "outside/secret");
  expect_refused (image, "abslink", roots_of (images, NULL), EACCES);
  assert_non_null (strstr (message, "it resolves to /etc/passwd, outside"));
  expect_refused (image, "loop1", roots_of (images, NULL), ELOOP);
}

static void
test_protocols (void **state)
{
  expect_protocol ("json:{\"file.filename\":\"/etc/passwd\"}");
  expect_protocol ("json:{}");
  expect_protocol ("nbd://localhost:10809/export");
  expect_protocol ("nbd:localhost:10809");
  expect_protocol ("file:base.qcow2");
  expect_protocol ("file:/etc/passwd");
  expect_protocol ("http://example.com/disk.qcow2");
  expect_protocol ("a:b");
  /* A colon after a slash is a plain file name (qemu's rule too). */
  expect_path (image, "./a:b", roots_of (images, NULL), "images/a:b");
}

static void
test_allowed_dir (void **state)
{
  expect_path (image, "../allowed/other.qcow2", roots_of (images, allowed),
               "allowed/other.qcow2");
  {
    char name[PATH_MAX];

    snprintf (name, sizeof name, "%s/other.qcow2", allowed);
    expect_path (image, name, roots_of (images, allowed),
                 "allowed/other.qcow2");
  }
  /* Not allowed: refused, naming the image's folder. */
  expect_outside ("../allowed/other.qcow2", "allowed/other.qcow2");
  /* Allowing one folder does not allow its siblings. */
  expect_refused (image, "../outside/secret", roots_of (images, allowed),
                  EACCES);
  /* Allowing / allows everything. */
  expect_path (image, "../outside/secret", roots_of (images, "/"),
               "outside/secret");
}

static void
test_missing_and_empty (void **state)
{
  char expected[PATH_MAX * 2];

  expect_refused (image, "missing.qcow2", roots_of (images, NULL), ENOENT);
  snprintf (expected, sizeof expected, "%s: backing file \"missing.qcow2\": "
            "No such file or directory", image);
  assert_string_equal (message, expected);
  expect_refused (image, "", roots_of (images, NULL), EINVAL);
  snprintf (expected, sizeof expected, "%s: backing file name is empty",
            image);
  assert_string_equal (message, expected);
}

/* The WHAT argument names the file in messages. */
static void
test_data_file_wording (void **state)
{
  char *got;

  reports = 0;
  got = confine_path (image, "data file", "../outside/secret",
                      roots_of (images, NULL));
  assert_null (got);
  assert_int_equal (errno, EACCES);
  assert_non_null (strstr (message, ": data file \"../outside/secret\" is "
                           "refused"));
}

static void
test_canonical_dirs (void **state)
{
  char path[PATH_MAX], expected[PATH_MAX + 64], cwd[PATH_MAX];
  char *got;

  snprintf (path, sizeof path, "%s/imglink/sub/../image.qcow2", top);
  got = canonical_parent (path);
  assert_non_null (got);
  assert_string_equal (got, images);
  free (got);

  snprintf (path, sizeof path, "%s/dirlink", images);
  snprintf (expected, sizeof expected, "%s/outside", top);
  got = canonical_dir (path);
  assert_non_null (got);
  assert_string_equal (got, expected);
  free (got);

  assert_non_null (getcwd (cwd, sizeof cwd));
  assert_int_equal (chdir (images), 0);
  got = canonical_parent ("image.qcow2");
  assert_int_equal (chdir (cwd), 0);
  assert_non_null (got);
  assert_string_equal (got, images);
  free (got);

  got = canonical_parent ("/image.qcow2");
  assert_non_null (got);
  assert_string_equal (got, "/");
  free (got);

  reports = 0;
  snprintf (path, sizeof path, "%s/nowhere", top);
  assert_null (canonical_dir (path));
  assert_int_equal (errno, ENOENT);
  assert_int_equal (reports, 1);
  snprintf (expected, sizeof expected, "%s: No such file or directory", path);
  assert_string_equal (message, expected);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_relative_inside),
    T (test_relative_to_image_folder),
    T (test_dotdot_escape),
    T (test_absolute),
    T (test_symlinks),
    T (test_protocols),
    T (test_allowed_dir),
    T (test_missing_and_empty),
    T (test_data_file_wording),
    T (test_canonical_dirs),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
