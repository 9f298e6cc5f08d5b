#!/bin/bash
# sparsecopy into Ceph RBD images (rbd:POOL/IMAGE), on a one-host cluster:
# representative corpus images (plain, compressed, subclusters, odd sizes)
# into new images and into existing images full of garbage.  `rbd export`
# must equal `qemu-img convert -O raw`, and the image must hold no object
# beyond those the data touches (plus, in a dirty image, those past the
# source's end, which keep their bytes).  Objects are 64 KiB here
# (rbd_default_order=16) so that thinness shows on small images.  Then the
# name's forms (namespace, conf=, id=) and the refusals: a missing pool, a
# missing image with --no-create, an image too small, no monitor; streams.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/ceph-functions.sh"
requires_ceph
requires qemu-img --version
requires jq --version
requires python3 --version

corpus=$(corpus)
start_ceph_cluster
export CEPH_ARGS="$CEPH_ARGS --rbd_default_order=16"
object=65536
dir=$(make_tmpdir)
images="v3-c64k.qcow2 zlib-c64k.qcow2 zstd-c2m.qcow2 el2-c64k.qcow2
        odd-size.qcow2 tiny-compressed.qcow2 raw-sparse.img"

# allowed_objects NAME EXTRA_START EXTRA_END: how many objects the copy of
# NAME may hold: those the image's data touches (qemu-img map), and those
# of the byte range [EXTRA_START, EXTRA_END) (a dirty image's tail).
allowed_objects ()
{
    jq -r --argjson o "$object" --argjson s "$2" --argjson e "$3" '
        [ (.[] | select(.data) | range(.start / $o | floor;
                                       (.start + .length + $o - 1) / $o | floor)),
          (if $e > $s then range($s / $o | floor; ($e + $o - 1) / $o | floor)
           else empty end) ] | unique | length' \
        "$corpus/expected/$1.map.json"
}

# check_image NAME IMAGE EXTRA_START EXTRA_END
check_image ()
{
    local name=$1 image=$2 size used allowed
    size=$(image_size "$name")
    rbd export --no-progress "$image" - 2>/dev/null | head -c "$size" |
        cmp - "$corpus/expected/$name.raw" ||
        fail "$name: rbd export differs from qemu-img's output"
    used=$(rbd_object_count "$image")
    allowed=$(allowed_objects "$name" "$3" "$4")
    [ "$used" -le "$allowed" ] ||
        fail "$name: $image holds $used objects, the data only $allowed"
    echo "ok: $name -> $image ($used objects, at most $allowed)"
}

for name in $images; do
    size=$(image_size "$name")
    "$SPARSECOPY" --json "$corpus/images/$name" "rbd:rbd/new-$name" \
        > "$dir/json" || fail "$name: sparsecopy to a new image failed"
    [ "$(json_field "$dir/json" .complete)" = true ] ||
        fail "$name: summary says incomplete"
    [ "$(rbd info --format json "rbd/new-$name" | jq .size)" = "$size" ] ||
        fail "$name: the new image does not have the source's size"
    check_image "$name" "rbd/new-$name" 0 0

    # Dirty: garbage over the image's range and one object past it.
    garbage "$dir/garbage" $(( size + object ))
    rbd import --no-progress "$dir/garbage" "rbd/dirty-$name"
    "$SPARSECOPY" --verify "$corpus/images/$name" "rbd:rbd/dirty-$name" \
        2>"$dir/err" || fail "$name: sparsecopy to a dirty image failed"
    check_image "$name" "rbd/dirty-$name" "$size" $(( size + object ))
    cmp <(rbd export --no-progress "rbd/dirty-$name" - 2>/dev/null |
          tail -c +$(( size + 1 ))) <(tail -c +$(( size + 1 )) "$dir/garbage") ||
        fail "$name: bytes past the source changed"
    rm -f "$dir/garbage"
done

# A namespace, and the cluster named in the name rather than $CEPH_CONF.
name=zlib-c64k.qcow2
rbd namespace create rbd/ns1
( conf=$CEPH_CONF; unset CEPH_CONF
  "$SPARSECOPY" "$corpus/images/$name" "rbd:rbd/ns1/img:conf=$conf:id=admin" ) ||
    fail "sparsecopy into a namespace, with conf= and id=, failed"
check_image "$name" rbd/ns1/img 0 0
rbd info rbd/img >/dev/null 2>&1 && fail "the image landed outside the namespace"

# --dry-run on a missing image creates nothing and says what it would do.
"$SPARSECOPY" --dry-run --show-probe "$corpus/images/$name" rbd:rbd/dry \
    > "$dir/out" || fail "--dry-run on a missing image failed"
grep -q "RBD image" "$dir/out" || fail "--show-probe does not name an RBD image"
grep -q "holes will use: skip" "$dir/out" ||
    fail "--dry-run: a new image's holes are not skipped"
rbd info rbd/dry >/dev/null 2>&1 && fail "--dry-run created the image"

# expect_refusal WHAT PATTERN SPARSECOPY-ARGS...
expect_refusal ()
{
    local what=$1 pattern=$2
    shift 2
    if timeout 120 "$SPARSECOPY" "$@" 2>"$dir/err"; then
        fail "$what: sparsecopy succeeded"
    fi
    grep -q -- "$pattern" "$dir/err" ||
        fail "$what: no clear message: $(cat "$dir/err")"
    echo "ok: $what: $(grep -- "$pattern" "$dir/err")"
}

src=$corpus/images/$name
expect_refusal "missing pool" "the pool nopool does not exist" \
    "$src" rbd:nopool/x
expect_refusal "--no-create" "does not exist" --no-create "$src" rbd:rbd/absent
rbd info rbd/absent >/dev/null 2>&1 && fail "--no-create created the image"
rbd create --size 64K rbd/small
expect_refusal "image too small" "smaller than the source" "$src" rbd:rbd/small
[ "$(rbd_object_count rbd/small)" = 0 ] || fail "the small image was written to"
expect_refusal "snapshot" "a snapshot cannot be written" "$src" rbd:rbd/x@snap
sed "s/^mon host = .*/mon host = v1:127.0.0.1:$(_ceph_port)/;
     s/^client mount timeout = .*/client mount timeout = 3/" \
    "$CEPH_CONF" > "$dir/nomon.conf"
expect_refusal "no monitor" "cannot connect to the Ceph cluster" \
    "$src" "rbd:rbd/x:conf=$dir/nomon.conf"

# A qcow2 stream knows its size up front: a new image is made for it.  A
# raw stream does not, so a new image cannot be sized: refused.
cat "$src" | "$SPARSECOPY" - rbd:rbd/stream ||
    fail "a qcow2 stream into a new image failed"
check_image "$name" rbd/stream 0 0
if head -c 100000 /dev/urandom | "$SPARSECOPY" -f raw - rbd:rbd/rawstream \
       2>"$dir/err"; then
    fail "a raw stream into a missing image succeeded"
fi
grep -q "size is not known" "$dir/err" ||
    fail "a raw stream into a missing image: no clear message: $(cat "$dir/err")"
echo "ok: raw stream: $(cat "$dir/err")"
