#!/bin/bash
# The OSD killed in the middle of a copy into an RBD image: sparsecopy must
# end, within the client timeouts the test cluster sets (10 s), with exit
# status 3 (the target failed), a message naming the failed operation and
# "the target is incomplete"; never hang, never claim success.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/ceph-functions.sh"
requires_ceph

start_ceph_cluster
dir=$(make_tmpdir)
MiB=$(( 1024 * 1024 ))

copy_started ()
{
    [ "$(rbd_object_count rbd/victim 2>/dev/null || echo 0)" -gt 2 ]
}

# A source of random data (every byte is data), written in small requests
# by one worker so that the copy is still running when the OSD dies.
garbage "$dir/src.raw" $(( 256 * MiB ))
status=0
timeout 120 "$SPARSECOPY" -f raw -j 1 --request-size=64k "$dir/src.raw" \
    rbd:rbd/victim 2>"$dir/err" &
copy=$!
wait_for copy_started
kill -9 "$ceph_osd_pid"
wait "$copy" || status=$?
cat "$dir/err" >&2
[ "$status" = 3 ] || fail "exit status $status, not 3 (124: it hung)"
grep -q "rbd:rbd/victim: write failed at offset [0-9]*: " "$dir/err" ||
    fail "no message naming the failed write"
grep -q "the target is incomplete" "$dir/err" ||
    fail "no message saying the target is incomplete"
echo "ok: the OSD killed mid-copy: exit 3, $(head -1 "$dir/err")"
