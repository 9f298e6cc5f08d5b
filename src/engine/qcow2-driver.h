/* State of an open qcow2 layer, shared by the driver's files. */
#ifndef SPARSEFS_QCOW2_DRIVER_H
#define SPARSEFS_QCOW2_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "host-holes.h"
#include "image-internal.h"
#include "qcow2-entry.h"
#include "qcow2-header.h"

struct qcow2 {
  struct qcow2_layout layout;
  unsigned version;
  uint32_t cluster_bits;
  uint32_t unit_bits;           /* a subcluster, or a cluster without them */
  uint32_t l2_bits;             /* log2 of the entries per L2 table */
  uint32_t entry_bytes;         /* 8, or 16 with extended L2 */
  uint64_t l1_offset;
  uint32_t l1_size;
  uint8_t compression_type;
  int data_fd;                  /* the external data file, or the image's fd */
  uint64_t data_size;
  char *data_path;              /* resolved, or NULL */
  struct host_holes data_holes; /* of data_fd; .img is NULL until set up */
  struct qcow2_header header;   /* names the description points into */
  char *snapshot_id;            /* of the snapshot read, or NULL */
  char *snapshot_name;
};

/* The snapshot table (qcow2-snapshot.c): checked at open; listed for
 * image_snapshots() (the format_ops hook); and searched for IMG->snapshot, whose L1
 * table then replaces the active one (l1_offset, l1_size, snapshot_id and
 * snapshot_name set).  Each returns 0, or -1 after reporting.
 */
int qcow2_check_snapshots (struct image *img, const struct qcow2_header *h);
int qcow2_snapshots (const struct image *img, image_snapshot_fn *fn,
                     void *opaque);
int qcow2_open_snapshot (struct image *img);


/* A run of guest bytes that read the same way (qcow2-map.c). */
struct qcow2_run {
  enum qcow2_sc_type type;      /* never QCOW2_SC_INVALID */
  uint64_t length;
  uint64_t host;                /* DATA: host offset of the run's start */
  bool contiguous;              /* DATA: all at host..host+length */
  uint64_t entry;               /* COMPRESSED: the L2 entry */
  uint64_t l1_index, l2_index;  /* where the run starts, for messages */
};

enum qcow2_map_mode {
  QCOW2_MAP_READ,               /* runs a read can serve in one go */
  QCOW2_MAP_EXTENT,             /* runs of one extent type */
};

/* The run starting at guest OFFSET, at most LENGTH bytes; it ends at the
 * end of an L2 table or at a change of type.  For reads, a DATA run also
 * ends where host clusters stop being contiguous and a COMPRESSED run
 * stays inside its cluster; for extents, compressed and data units make
 * one DATA run (contiguous tells whether it is one host range).
 * Returns 0, or -1 after reporting a damaged table.
 */
int qcow2_map (struct image *img, uint64_t offset, uint64_t length,
               enum qcow2_map_mode mode, struct qcow2_run *run);
#endif
