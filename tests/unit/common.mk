# Unit tests of common (see Makefile.am).
COMMON_TESTS = \
	test-checked-arith \
	test-byte-order \
	test-rounding \
	test-iszero \
	test-error \
	test-size \
	test-hash \
	test-tar-header
TESTS += $(COMMON_TESTS)
check_PROGRAMS += $(COMMON_TESTS)

test_checked_arith_SOURCES = test-checked-arith.c
test_byte_order_SOURCES = test-byte-order.c
test_rounding_SOURCES = test-rounding.c
test_iszero_SOURCES = test-iszero.c
test_error_SOURCES = test-error.c
test_hash_SOURCES = test-hash.c
test_size_SOURCES = test-size.c
test_tar_header_SOURCES = test-tar-header.c test-capture.h
test_tar_header_LDADD = $(top_builddir)/src/common/libcommon.a $(CMOCKA_LIBS)
test_size_LDADD = $(top_builddir)/src/common/libcommon.a $(CMOCKA_LIBS)
test_error_LDADD = $(top_builddir)/src/common/libcommon.a \
	$(PTHREAD_LIBS) $(CMOCKA_LIBS)
