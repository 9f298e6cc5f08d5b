# Tests of the engine (see Makefile.am).

# The engine's dump tool: the tests compare what it reads with qemu-img.
check_PROGRAMS += imgdump
imgdump_SOURCES = imgdump.c
imgdump_LDADD = $(top_builddir)/src/engine/libengine.a \
	$(top_builddir)/src/common/libcommon.a \
	$(ZLIB_LIBS) $(ZSTD_LIBS) $(LIBDEFLATE_LIBS) $(PTHREAD_LIBS)

# Counts the engine's mapping lookups (see extent-work.c): the wrapped
# symbol is reached from the format driver, not from within qcow2-map.c.
check_PROGRAMS += extent-work
extent_work_SOURCES = extent-work.c
extent_work_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=qcow2_map
extent_work_LDADD = $(imgdump_LDADD)

# Helpers: the corpus builder and the tools the tests run.
EXTRA_DIST += make-corpus.sh image-helpers.sh qcow2-edit.py qcow2-mutate.py sparse-check.py \
	block-edit.py vhdx-edit.py field_edit.py corpus-vhdx.sh \
	damaged-cases.sh \
	corpus-vhd.sh \
	corpus-snapshots.sh \
	corpus-vmdk.sh vmdk-footer-layout.py \
	corpus-ova.sh \
	data/sample.qcow2 data/make-sample.sh

ENGINE_TESTS = \
	test-oracle.sh \
	test-engine-ova.sh \
	test-engine-info.sh \
	test-engine-sample.sh \
	test-damaged.sh \
	test-damaged-stream.sh \
	test-engine-cli.sh \
	test-damaged-fuzz.sh \
	test-engine-chain-work.sh \
	test-snapshots.sh \
	test-engine-block-runs.sh

TESTS += $(ENGINE_TESTS)
EXTRA_DIST += $(ENGINE_TESTS)
