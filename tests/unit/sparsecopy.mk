# Unit tests of sparsecopy (see Makefile.am).
TESTS += test-sparsecopy-planner
check_PROGRAMS += test-sparsecopy-planner

test_sparsecopy_planner_SOURCES = test-sparsecopy-planner.c
test_sparsecopy_planner_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/sparsecopy
test_sparsecopy_planner_LDADD = \
	$(top_builddir)/src/sparsecopy/libsparsecopy.a \
	$(top_builddir)/src/common/libcommon.a \
	$(CMOCKA_LIBS)

TESTS += test-stream-runs
check_PROGRAMS += test-stream-runs

test_stream_runs_SOURCES = test-stream-runs.c
test_stream_runs_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/sparsecopy
test_stream_runs_LDADD = \
	$(top_builddir)/src/sparsecopy/libsparsecopy.a \
	$(top_builddir)/src/common/libcommon.a \
	$(CMOCKA_LIBS)
