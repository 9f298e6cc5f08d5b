# Unit tests of sparsecopy (see Makefile.am).
