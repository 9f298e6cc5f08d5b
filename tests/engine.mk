# Tests of the engine (see Makefile.am).
