# Tests of sparseinfo (see Makefile.am): against qemu-img info on the
# oracle corpus, and its verdicts on hostile and damaged images.
EXTRA_DIST += sparseinfo-compare.py

SPARSEINFO_TESTS = \
	test-sparseinfo.sh \
	test-sparseinfo-damaged.sh \
	test-sparseinfo-ova.sh

TESTS += $(SPARSEINFO_TESTS)
EXTRA_DIST += $(SPARSEINFO_TESTS)
