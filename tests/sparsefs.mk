# Tests of the sparsefs (see Makefile.am).
