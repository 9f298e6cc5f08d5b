/* The --json summary printed at the end of a run. */
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
  enum hole_method method;      /* what holes ended up with */
  bool verify_requested;
  bool verified;
  int exit_status;
};

void summary_print_json (FILE *fp, const struct summary *s);

#endif
