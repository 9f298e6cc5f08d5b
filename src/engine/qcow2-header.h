/* Parsing and validating a qcow2 header (and the extensions and backing
 * name that live in its first cluster), before anything else is read.
 */
#ifndef SPARSEFS_QCOW2_HEADER_H
#define SPARSEFS_QCOW2_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qcow2-format.h"

struct qcow2_header {
  uint32_t version;
  uint64_t backing_file_offset;
  uint32_t backing_file_size;
  uint32_t cluster_bits;
  uint64_t size;                        /* as stored */
  uint32_t crypt_method;
  uint32_t l1_size;
  uint64_t l1_table_offset;
  uint64_t refcount_table_offset;
  uint32_t refcount_table_clusters;
  uint32_t nb_snapshots;
  uint64_t snapshots_offset;
  uint64_t incompatible;
  uint64_t compatible;
  uint64_t autoclear;
  uint32_t refcount_order;
  uint32_t header_length;
  uint8_t compression_type;

  /* From the first cluster; strings are NUL-terminated, "" when absent. */
  char backing_name[QCOW2_MAX_BACKING_NAME + 1];
  char backing_format[16];
  char *data_file;                      /* malloc'd, or NULL */
};

/* Parse the fixed header at the start of BUF (LEN bytes: the first cluster
 * of the file, or the whole file if shorter) and validate every field that
 * needs no other read.  FILE_SIZE bounds every table.  Returns 0, or -1
 * after reporting with PATH.  On success free h->data_file when done.
 */
int qcow2_parse_header (const char *path, const unsigned char *buf, size_t len,
                        uint64_t file_size, struct qcow2_header *h);

/* The same checks, but an encrypted image is accepted (h->crypt_method
 * says how): to describe it, never to read it.
 */
int qcow2_parse_header_to_describe (const char *path, const unsigned char *buf,
                                    size_t len, uint64_t file_size,
                                    struct qcow2_header *h);

/* Bytes of the fixed header a parser needs before it knows the cluster
 * size.
 */
#define QCOW2_FIXED_HEADER_BYTES 112

/* Entries per L2 table, and the virtual bytes one L1 entry covers. */
static inline uint64_t
qcow2_l2_entries (uint32_t cluster_bits, bool extended_l2)
{
  return ((uint64_t) 1 << cluster_bits) / (extended_l2 ? 16 : 8);
}

#endif
