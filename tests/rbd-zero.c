/* rbd-zero POOL/IMAGE CALL OFFSET LENGTH: run one librbd zeroing call on
 * an image of the cluster named by $CEPH_CONF, for the tests that prove
 * what each call leaves (test-sparsecopy-rbd-zeroing.sh).  CALL is
 * discard (rbd_discard), write-zeroes (rbd_write_zeroes, no flags) or
 * write-zeroes-thick (RBD_WRITE_ZEROES_FLAG_THICK_PROVISION).  Ceph
 * options come from $CEPH_ARGS too.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

static int
fail (const char *what, int err)
{
  fprintf (stderr, "rbd-zero: %s: %s\n", what, strerror (-err));
  return 1;
}

static ssize_t
zero (rbd_image_t image, const char *call, uint64_t offset, uint64_t length)
{
  if (strcmp (call, "discard") == 0)
    return rbd_discard (image, offset, length);
  if (strcmp (call, "write-zeroes") == 0)
    return rbd_write_zeroes (image, offset, length, 0, 0);
  if (strcmp (call, "write-zeroes-thick") == 0)
    return rbd_write_zeroes (image, offset, length,
                             RBD_WRITE_ZEROES_FLAG_THICK_PROVISION, 0);
  return -EINVAL;
}

int
main (int argc, char **argv)
{
  rados_t cluster;
  rados_ioctx_t io;
  rbd_image_t image;
  char *pool, *name;
  ssize_t r;

  if (argc != 5) {
    fprintf (stderr, "usage: rbd-zero POOL/IMAGE CALL OFFSET LENGTH\n");
    return 2;
  }
  pool = strdup (argv[1]);
  name = strchr (pool, '/');
  if (name == NULL)
    return fail ("POOL/IMAGE", -EINVAL);
  *name++ = '\0';
  if ((r = rados_create (&cluster, NULL)) < 0
      || (r = rados_conf_read_file (cluster, NULL)) < 0
      || (r = rados_conf_parse_env (cluster, NULL)) < 0
      || (r = rados_connect (cluster)) < 0)
    return fail ("connect", r);
  if ((r = rados_ioctx_create (cluster, pool, &io)) < 0)
    return fail (pool, r);
  if ((r = rbd_open (io, name, &image, NULL)) < 0)
    return fail (name, r);
  r = zero (image, argv[2], strtoull (argv[3], NULL, 0),
            strtoull (argv[4], NULL, 0));
  if (r < 0)
    return fail (argv[2], r);
  rbd_close (image);
  rados_ioctx_destroy (io);
  rados_shutdown (cluster);
  free (pool);
  return 0;
}
