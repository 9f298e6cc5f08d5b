#!/bin/bash
# What librbd's zeroing calls leave in an existing, dirty image: the facts
# the RBD target's hole ladder stands on (see docs/rbd-zeroing.md).
#  - rbd_write_zeroes (no flags): any range reads zeros; an object covered
#    whole is removed.
#  - rbd_discard: whole objects are removed (read zeros); a piece smaller
#    than rbd_discard_granularity_bytes (64 KiB) keeps its old bytes, unless
#    rbd_skip_partial_discard is false; whole granules read zeros.
#  - rbd_write_zeroes with THICK_PROVISION reads zeros and keeps the object.
. "$srcdir/functions.sh"
. "$srcdir/ceph-functions.sh"
requires_ceph
requires jq --version
requires python3 --version

start_ceph_cluster
dir=$(make_tmpdir)
MiB=$((1024 * 1024))
object=$((4 * MiB))

# dirty NAME: a 12 MiB image (3 objects) full of random bytes, kept in
# $dir/NAME.orig.
dirty ()
{
    head -c $((3 * object)) /dev/urandom > "$dir/$1.orig"
    rbd import --no-progress "$dir/$1.orig" "rbd/$1"
}

# reads_zero NAME OFFSET LENGTH
reads_zero ()
{
    rbd export --no-progress "rbd/$1" - > "$dir/$1.now" 2>/dev/null
    cmp -s <(tail -c +$(( $2 + 1 )) "$dir/$1.now" | head -c "$3") \
           <(head -c "$3" /dev/zero)
}

# unchanged NAME OFFSET LENGTH: the range still holds the random bytes.
unchanged ()
{
    rbd export --no-progress "rbd/$1" - > "$dir/$1.now" 2>/dev/null
    cmp -s <(tail -c +$(( $2 + 1 )) "$dir/$1.now" | head -c "$3") \
           <(tail -c +$(( $2 + 1 )) "$dir/$1.orig" | head -c "$3")
}

# has_object NAME N: object N of the image exists in RADOS.
has_object ()
{
    local prefix
    prefix=$(rbd info --format json "rbd/$1" | jq -r .block_name_prefix)
    rados -p rbd stat "$prefix.$(printf %016x "$2")" >/dev/null 2>&1
}

# write-zeroes: partial pieces read zero, a whole object is removed.
dirty wz
"$RBD_ZERO" rbd/wz write-zeroes 4096 8192
reads_zero wz 4096 8192 || fail "write-zeroes: 8 KiB inside an object not zeroed"
unchanged wz 0 4096 && unchanged wz 12288 $((object - 12288)) ||
    fail "write-zeroes: bytes around the range changed"
"$RBD_ZERO" rbd/wz write-zeroes $((object + 100)) $((object - 100))
reads_zero wz $((object + 100)) $((object - 100)) ||
    fail "write-zeroes: the tail of an object not zeroed"
"$RBD_ZERO" rbd/wz write-zeroes $((2 * object)) "$object"
reads_zero wz $((2 * object)) "$object" ||
    fail "write-zeroes: a whole object not zeroed"
! has_object wz 2 || fail "write-zeroes: a whole object zeroed still exists"
has_object wz 0 || fail "write-zeroes: a partly zeroed object vanished"
echo "ok: rbd_write_zeroes zeroes any range, removes whole objects"

# discard, default settings: a piece under 64 KiB is skipped, whole
# granules are zeroed, whole objects removed.
dirty dc
"$RBD_ZERO" rbd/dc discard 4096 8192
unchanged dc 4096 8192 ||
    fail "discard: 8 KiB inside an object was not skipped (librbd changed?)"
"$RBD_ZERO" rbd/dc discard 65536 65536
reads_zero dc 65536 65536 || fail "discard: a whole 64 KiB granule not zeroed"
"$RBD_ZERO" rbd/dc discard 1000 $((3 * 65536))
unchanged dc 1000 $((65536 - 1000)) ||
    fail "discard: the partial granule at the head was not skipped"
"$RBD_ZERO" rbd/dc discard "$object" "$object"
reads_zero dc "$object" "$object" || fail "discard: a whole object not zeroed"
! has_object dc 1 || fail "discard: a whole object discarded still exists"
echo "ok: rbd_discard skips pieces under its granularity, removes whole objects"

# rbd_skip_partial_discard=false: discard zeroes any piece.
dirty dz
CEPH_ARGS="$CEPH_ARGS --rbd_skip_partial_discard=false" \
    "$RBD_ZERO" rbd/dz discard 4096 8192
reads_zero dz 4096 8192 ||
    fail "discard without skip_partial_discard: 8 KiB not zeroed"
echo "ok: rbd_skip_partial_discard=false makes discard zero any piece"

# THICK_PROVISION: zeros written, the object stays.
dirty wt
"$RBD_ZERO" rbd/wt write-zeroes-thick "$object" "$object"
reads_zero wt "$object" "$object" || fail "thick write-zeroes: not zeroed"
has_object wt 1 || fail "thick write-zeroes: the object was removed"
echo "ok: thick write-zeroes writes"
