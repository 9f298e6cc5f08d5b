/* An RBD target's name, in qemu's syntax:
 *   rbd:POOL/IMAGE[:OPTION=VALUE...]
 *   rbd:POOL/NAMESPACE/IMAGE[:OPTION=VALUE...]
 * conf=FILE names the ceph.conf to read and id=USER the client (without
 * "client."); any other OPTION=VALUE is a Ceph option, set as given
 * (rados_conf_set).  A backslash escapes the next character (a ':' or a
 * '/' inside a name).  Snapshots (@SNAP) are refused: a target is written.
 */
#ifndef SPARSECOPY_RBD_NAME_H
#define SPARSECOPY_RBD_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define RBD_NAME_PREFIX "rbd:"
#define RBD_NAME_MAX_OPTIONS 16

struct rbd_option {
  const char *key;
  const char *value;
};

struct rbd_name {
  char *buffer;                 /* owns every string below */
  const char *pool;
  const char *ns;               /* "" without a namespace */
  const char *image;
  const char *conf;             /* NULL: Ceph's default search */
  const char *id;               /* NULL: "admin" */
  struct rbd_option options[RBD_NAME_MAX_OPTIONS];
  size_t option_count;
};

/* Whether NAME names an RBD image (starts with "rbd:"). */
bool is_rbd_name (const char *name);

/* Parse NAME.  Returns 0, or -1 (reported, EINVAL) for a malformed name. */
int rbd_name_parse (const char *name, struct rbd_name *out);

void rbd_name_free (struct rbd_name *n);

#endif
