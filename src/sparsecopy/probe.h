/* Probing the target: its size and block sizes (ioctls), its queue limits
 * and driver (sysfs, the device-mapper table).  The probe only reads: it
 * never tries a zeroing operation "to see" (on a loop device a trial
 * BLKZEROOUT makes the kernel write zeros and then turn write-zeroes off).
 * Methods are proven on the first real hole instead.
 *
 * The sysfs and device-mapper facts come through a struct fact_reader, so
 * tests can describe devices this machine does not have.
 */
#ifndef SPARSECOPY_PROBE_H
#define SPARSECOPY_PROBE_H

#include <stddef.h>
#include <stdio.h>

#include "facts.h"

struct fact_reader {
  /* Read the attribute PATH of the whole disk's sysfs folder (e.g.
   * "queue/discard_granularity"; one component may be "*", matching the
   * first entry) into BUF without the trailing newline.  Returns 0, or -1
   * with errno (ENOENT: no such attribute).
   */
  int (*read_attr) (void *opaque, const char *path, char *buf, size_t size);

  /* The device-mapper table, one target a line as `dmsetup table` prints
   * it ("START LENGTH TYPE PARAMS").  Returns 0, or -1 with errno.
   */
  int (*dm_table) (void *opaque, char *buf, size_t size);

  void *opaque;
};

/* Fill the sysfs and driver facts (queue limits, rotational, driver,
 * dm target, origin, clone, scsi modes) of the disk called NAME.  Missing
 * attributes leave their defaults (0, unknown).  Returns 0 or -1.
 */
int probe_disk_facts (const struct fact_reader *reader, const char *name,
                      struct device_facts *facts);

/* Probe the target open as FD (PATH for messages): a regular file, or a
 * block device (also its partition offset and all of the above).
 * Returns 0 or -1 (reported).
 */
int probe_target (const char *path, int fd, struct device_facts *facts);

/* Re-read the queue limits (discard_granularity, discard_max_bytes,
 * write_zeroes_max_bytes, ...), which the kernel may set to 0 at run time
 * when the device refused an operation (loop: discard after a refused
 * punch or discard, write-zeroes after a refused zero range; SCSI after a
 * failed WRITE SAME or UNMAP).  A regular file has none.  Returns 0, or -1
 * with errno (not reported) if they cannot be read: FACTS keeps what it
 * had for those that could not.
 */
int probe_refresh_limits (struct device_facts *facts);

struct plan_policy;

/* Describe the facts for people (--show-probe, --dry-run), and the method
 * POLICY would pick for holes.
 */
void probe_print (FILE *fp, const char *path,
                  const struct device_facts *facts,
                  const struct plan_policy *policy);

#endif
