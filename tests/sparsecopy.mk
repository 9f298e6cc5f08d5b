# Tests of the sparsecopy (see Makefile.am).
# They need root and loop devices (they skip without them), qemu-img and
# qemu-io as the oracle, jq for the --json summary.

# hostile-images.sh: also used by test-sparsefs-faults.sh.
EXTRA_DIST += sparsecopy-functions.sh http-server.py serve-nginx.sh bench-sparsecopy.sh bench-stream.sh bench-functions.sh hostile-images.sh

# An LD_PRELOAD shim that makes a block device refuse zeroing methods,
# and a target fail or slow down its writes.
# Built without sanitizers: it is preloaded before their runtime.
check_PROGRAMS += sparsecopy-refuse.so
sparsecopy_refuse_so_SOURCES = sparsecopy-refuse.c
sparsecopy_refuse_so_CFLAGS = $(WARN_CFLAGS) -fPIC
sparsecopy_refuse_so_LDFLAGS = -shared
sparsecopy_refuse_so_LDADD = -ldl

SPARSECOPY_TESTS = \
	test-sparsecopy-corpus.sh \
	test-sparsecopy-methods.sh \
	test-sparsecopy-fallback.sh \
	test-sparsecopy-bindfs.sh \
	test-sparsecopy-file.sh \
	test-sparsecopy-errors.sh \
	test-sparsecopy-cli.sh \
	test-sparsecopy-sparsefs.sh \
	test-sparsecopy-faults.sh \
	test-sparsecopy-stream.sh \
	test-sparsecopy-stream-http.sh \
	test-sparsecopy-stream-blocks.sh \
	test-sparsecopy-stream-scratch.sh \
	test-sparsecopy-stream-memory.sh

TESTS += $(SPARSECOPY_TESTS)
EXTRA_DIST += $(SPARSECOPY_TESTS)
