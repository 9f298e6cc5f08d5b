#!/bin/bash
# The damaged-image table of test-damaged.sh, through sparsecopy's stream
# path: each case piped (a FIFO), never seeked.
THROUGH=stream exec bash "$srcdir/test-damaged.sh"
