# Tests of the sparsecopy (see Makefile.am).
