# Tests of the sparsecopy (see Makefile.am).
# They need root and loop devices (they skip without them), qemu-img and
# qemu-io as the oracle, jq for the --json summary.

# hostile-images.sh: also used by test-sparsefs-faults.sh.
EXTRA_DIST += sparsecopy-functions.sh http-server.py serve-nginx.sh bench-sparsecopy.sh bench-stream.sh bench-write-floor.py bench-functions.sh hostile-images.sh nbd-functions.sh

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
	test-sparsecopy-ova.sh \
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
	test-sparsecopy-nbd.sh \
	test-sparsecopy-nbd-faults.sh \
	test-sparsecopy-nbd-tls.sh \
	test-sparsecopy-stream-blocks.sh \
	test-sparsecopy-stream-scratch.sh \
	test-sparsecopy-stream-memory.sh \
	test-sparsecopy-stream-runs.sh \
	test-sparsecopy-progress.sh \
	test-sparsecopy-checksum.sh

TESTS += $(SPARSECOPY_TESTS)
EXTRA_DIST += $(SPARSECOPY_TESTS)

# The RBD tests: a one-host Ceph cluster (ceph-functions.sh), and a helper
# that runs one librbd zeroing call, to prove what each call leaves.
EXTRA_DIST += ceph-functions.sh bench-rbd.sh
check_PROGRAMS += rbd-zero
rbd_zero_SOURCES = rbd-zero.c
rbd_zero_LDADD = $(RBD_LIBS)

RBD_TESTS = \
	test-sparsecopy-rbd-zeroing.sh \
	test-sparsecopy-rbd.sh \
	test-sparsecopy-rbd-faults.sh \
	test-sparsecopy-rbd-auth.sh
TESTS += $(RBD_TESTS)
EXTRA_DIST += $(RBD_TESTS)
