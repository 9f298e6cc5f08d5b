/* What sparsecopy knows about its target: the facts the hole planner
 * decides from.  probe.c fills them from ioctls, sysfs and the
 * device-mapper table; unit tests fill them by hand (or through a made-up
 * struct fact_reader) to describe devices this machine does not have.
 */
#ifndef SPARSECOPY_FACTS_H
#define SPARSECOPY_FACTS_H

#include <stdbool.h>
#include <stdint.h>

enum target_kind {
  TARGET_REGULAR_FILE,
  TARGET_BLOCK_DEVICE,
  TARGET_NBD,                   /* an NBD export */
  TARGET_RBD,                   /* a Ceph RBD image, through librbd */
};

/* The driver behind a block device, as far as it changes zeroing. */
enum device_driver {
  DRIVER_UNKNOWN,
  DRIVER_LOOP,
  DRIVER_DM,                    /* see dm_target */
  DRIVER_RBD,
  DRIVER_NVME,
  DRIVER_SD,
};

#define FACT_STRING_MAX 64

struct device_facts {
  enum target_kind kind;
  char name[FACT_STRING_MAX];   /* sysfs name of the disk, e.g. "loop0" */
  unsigned disk_major, disk_minor;  /* of the whole disk */
  bool is_partition;
  uint64_t size;                /* bytes */
  uint32_t logical_block_size;  /* regular file: 1 */
  uint32_t physical_block_size;
  uint64_t partition_offset;    /* bytes from the start of the whole disk */

  /* /sys/block/DEV/queue limits, in bytes (0: the operation is absent). */
  uint64_t discard_granularity;
  uint64_t discard_max_bytes;
  uint64_t write_zeroes_max_bytes;
  bool has_write_zeroes_unmap;  /* the kernel shows the attribute (6.17+) */
  uint64_t write_zeroes_unmap_max_bytes;
  int rotational;               /* 0, 1, or -1: unknown */

  enum device_driver driver;
  char dm_target[FACT_STRING_MAX];  /* "thin", "linear", "mixed", ... */
  bool thin_external_origin;    /* dm thin: reads of unmapped chunks
                                   come from an origin device */
  bool rbd_clone;               /* rbd: the image has a parent */
  char scsi_zeroing_mode[FACT_STRING_MAX];       /* sd only */
  char scsi_provisioning_mode[FACT_STRING_MAX];  /* sd only */

  /* Remote targets (TARGET_NBD, TARGET_RBD): what the server or the image
   * offers.  The planner's ladder there: punch (write-zeroes that may
   * deallocate, fast where offered), discard (only where discarded ranges
   * are known to read zero: granules in discard_granularity), zeroout
   * (write-zeroes without fast: may allocate), write.
   */
  bool can_write_zeroes;        /* NBD WRITE_ZEROES, rbd_write_zeroes */
  bool can_fast_zero;           /* NBD FAST_ZERO: refused when slow */
  bool can_trim;                /* NBD TRIM (never used for a hole) */
  bool can_multi_conn;          /* NBD: consistent across connections */
  bool all_zero;                /* block status: the whole target reads
                                   zeros now (holes are skipped) */
  char remote_info[FACT_STRING_MAX];  /* the server, for --show-probe */
};

/* Whether the driver is known to read discarded blocks back as zeros: a dm
 * thin target without an external origin, an rbd image that is not a
 * clone.  Nothing else is trusted (a discard may be dropped), not even loop
 * (see facts.c); --discard-zeroes says so for a given device.
 */
bool facts_discard_reads_zero (const struct device_facts *facts);

/* Whether the device's write-zeroes is known to unmap rather than write:
 * 6.17+ shows it (write_zeroes_unmap_max_bytes); before that, drivers
 * that implement it by unmapping (loop, rbd, sd with an *_unmap zeroing
 * mode).  false also means "unknown".
 */
bool facts_write_zeroes_unmaps (const struct device_facts *facts);

const char *driver_name (enum device_driver driver);

/* "regular file", "block device", "NBD export", "RBD image". */
const char *target_kind_name (enum target_kind kind);

#endif
