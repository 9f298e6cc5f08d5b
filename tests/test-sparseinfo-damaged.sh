#!/bin/bash
# The damaged-image table of test-damaged.sh, through sparseinfo: each
# case the engine refuses is unsafe with the engine's message and the
# reason its errno gives, exit 2, within 10 seconds.
THROUGH=sparseinfo exec bash "$srcdir/test-damaged.sh"
