# Unit tests of engine (see Makefile.am).
ENGINE_TESTS = \
	test-qcow2-header \
	test-qcow2-entry \
	test-decompress \
	test-cache \
	test-confine \
	test-qcow2-image \
	test-host-holes \
	test-block-formats
TESTS += $(ENGINE_TESTS)
check_PROGRAMS += $(ENGINE_TESTS)

ENGINE_TEST_LDADD = \
	$(top_builddir)/src/engine/libengine.a \
	$(top_builddir)/src/common/libcommon.a \
	$(ZLIB_LIBS) $(ZSTD_LIBS) $(LIBDEFLATE_LIBS) $(PTHREAD_LIBS) \
	$(CMOCKA_LIBS)

test_qcow2_header_SOURCES = test-qcow2-header.c test-qcow2-build.h \
	test-capture.h
test_qcow2_header_LDADD = $(ENGINE_TEST_LDADD)

test_qcow2_entry_SOURCES = test-qcow2-entry.c test-qcow2-build.h
test_qcow2_entry_LDADD = $(ENGINE_TEST_LDADD)

test_decompress_SOURCES = test-decompress.c test-compress.h
test_decompress_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(ZSTD_CFLAGS)
test_decompress_LDADD = $(ENGINE_TEST_LDADD)

test_cache_SOURCES = test-cache.c test-capture.h
test_cache_LDADD = $(ENGINE_TEST_LDADD)

test_confine_SOURCES = test-confine.c test-capture.h
test_confine_LDADD = $(ENGINE_TEST_LDADD)

test_qcow2_image_SOURCES = test-qcow2-image.c test-qcow2-build.h \
	test-compress.h test-capture.h
test_qcow2_image_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(ZSTD_CFLAGS)
test_qcow2_image_LDADD = $(ENGINE_TEST_LDADD)

# Counts the engine's SEEK_DATA/SEEK_HOLE questions by wrapping lseek.
test_host_holes_SOURCES = test-host-holes.c test-qcow2-build.h test-capture.h
test_host_holes_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=lseek
test_host_holes_LDADD = $(ENGINE_TEST_LDADD)

test_block_formats_SOURCES = test-block-formats.c test-capture.h
test_block_formats_LDADD = $(ENGINE_TEST_LDADD)
