# Unit tests of engine (see Makefile.am).
