# Unit tests of common (see Makefile.am).
