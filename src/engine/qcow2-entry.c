#include <config.h>

#include "qcow2-entry.h"

#define ALL_ALLOC_BITS 0xffffffffull

static enum qcow2_sc_type
cluster_type (const struct qcow2_layout *layout, uint64_t entry)
{
  if (entry & QCOW2_OFLAG_COMPRESSED)
    return QCOW2_SC_COMPRESSED;
  if ((entry & QCOW2_OFLAG_ZERO) && !layout->extended_l2)
    return QCOW2_SC_ZERO;
  if (qcow2_entry_offset (entry) != 0)
    return QCOW2_SC_DATA;
  /* Offset 0 is a real cluster in an external data file; the COPIED flag
   * (refcount 1, always true there) tells it from an unallocated entry.
   */
  if (layout->has_data_file && (entry & QCOW2_OFLAG_COPIED))
    return QCOW2_SC_DATA;
  return QCOW2_SC_UNALLOCATED;
}

enum qcow2_sc_type
qcow2_subcluster_type (const struct qcow2_layout *layout, uint64_t entry,
                       uint64_t bitmap, unsigned sc)
{
  enum qcow2_sc_type type = cluster_type (layout, entry);
  uint64_t alloc = bitmap & ALL_ALLOC_BITS, zero = bitmap >> 32;

  if (!layout->extended_l2 || type == QCOW2_SC_COMPRESSED)
    return type;
  if (type == QCOW2_SC_DATA) {
    if (alloc & zero)
      return QCOW2_SC_INVALID;
    if (zero & (1ull << sc))
      return QCOW2_SC_ZERO;
    return (alloc & (1ull << sc)) ? QCOW2_SC_DATA : QCOW2_SC_UNALLOCATED;
  }
  /* No host cluster. */
  if (alloc != 0)
    return QCOW2_SC_INVALID;
  return (zero & (1ull << sc)) ? QCOW2_SC_ZERO : QCOW2_SC_UNALLOCATED;
}

void
qcow2_decode_compressed (uint32_t cluster_bits, uint64_t entry,
                         struct qcow2_compressed *c)
{
  unsigned shift = 62 - (cluster_bits - 8);
  uint64_t sectors = ((entry >> shift) & ((1ull << (cluster_bits - 8)) - 1))
                     + 1;

  c->offset = entry & ((1ull << shift) - 1);
  c->size = sectors * QCOW2_COMPRESSED_SECTOR
            - (c->offset & (QCOW2_COMPRESSED_SECTOR - 1));
}
