# Tests of the sparsefs (see Makefile.am).
# They mount with the daemon: root and /dev/fuse (they skip without them).

EXTRA_DIST += sparsefs-functions.sh sparsefs-lseek.py

SPARSEFS_TESTS = \
	test-sparsefs-read.sh \
	test-sparsefs-seek.sh \
	test-sparsefs-attr.sh \
	test-sparsefs-change.sh \
	test-sparsefs-tools.sh \
	test-sparsefs-loop.sh \
	test-sparsefs-concurrent.sh \
	test-sparsefs-memory.sh \
	test-sparsefs-daemon.sh \
	test-sparsefs-faults.sh \
	test-sparsefs-faults-daemon.sh \
	test-sparsefs-stress.sh \
	test-sparsefs-replace.sh \
	test-sparsefs-folder.sh \
	test-sparsefs-snapshots.sh \
	test-sparsefs-ova.sh \
	test-sparsefs-vmdk-extents.sh

TESTS += $(SPARSEFS_TESTS)
EXTRA_DIST += $(SPARSEFS_TESTS) bench-sparsefs.sh bench-folders.sh
