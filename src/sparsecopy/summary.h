/* The --json summary printed at the end of a run.  Its fields are
 * documented in sparsecopy(1) as stable: add, never rename or remove.
 */
#ifndef SPARSECOPY_SUMMARY_H
#define SPARSECOPY_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include "copy.h"
#include "source.h"
#include "target.h"

struct summary {
  const struct source *source;
  const struct target *target;
  const struct copy_result *copy;
  const struct plan_policy *policy;
  enum hole_method method;      /* what holes ended up with */
  const char *checksum;         /* "ALG:HEX" of the raw disk, or NULL */
  bool verify_requested;
  bool verified;
  int exit_status;
};

void summary_print_json (FILE *fp, const struct summary *s);

#endif
