/* Decoding of qcow2 L2 entries: what one (sub)cluster of the guest reads
 * as, and where a compressed cluster's payload lies.  Pure functions on the
 * entry's bits; range checks against the file are the driver's.
 */
#ifndef SPARSEFS_QCOW2_ENTRY_H
#define SPARSEFS_QCOW2_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "qcow2-format.h"

enum qcow2_sc_type {
  QCOW2_SC_UNALLOCATED,         /* read from the backing file */
  QCOW2_SC_ZERO,                /* reads zeros (plain or preallocated) */
  QCOW2_SC_DATA,                /* at the host offset */
  QCOW2_SC_COMPRESSED,          /* the whole cluster is compressed */
  QCOW2_SC_INVALID,             /* contradictory bits */
};

struct qcow2_layout {
  bool extended_l2;
  bool has_data_file;
};

/* The type of subcluster SC (0 for standard entries) of the cluster whose L2
 * entry is ENTRY and, with extended L2, whose bitmap is BITMAP.  Mirrors
 * qemu's qcow2_get_cluster_type() and qcow2_get_subcluster_type().
 */
enum qcow2_sc_type qcow2_subcluster_type (const struct qcow2_layout *layout,
                                          uint64_t entry, uint64_t bitmap,
                                          unsigned sc);

/* The host cluster of a DATA or preallocated ZERO entry. */
static inline uint64_t
qcow2_entry_offset (uint64_t entry)
{
  return entry & QCOW2_OFFSET_MASK;
}

/* A zero entry that still owns a host cluster (preallocated zeros). */
static inline bool
qcow2_entry_is_zero_flagged (uint64_t entry)
{
  return (entry & QCOW2_OFLAG_ZERO) != 0
    && (entry & QCOW2_OFLAG_COMPRESSED) == 0;
}

struct qcow2_compressed {
  uint64_t offset;              /* host offset of the payload */
  uint64_t size;                /* bytes from there, may pass EOF */
};

/* The payload of a compressed cluster (cluster_bits 9..21). */
void qcow2_decode_compressed (uint32_t cluster_bits, uint64_t entry,
                              struct qcow2_compressed *c);

#endif
