#!/bin/bash
# RBD with cephx: a client whose caps allow reading only (profile
# rbd-read-only) is refused with a message that names the image and says
# permission denied, for an existing image and for one it would create,
# and nothing is written; client.admin, on the same cluster, copies (the
# content checked against qemu-img), so the refusal is the caps' doing.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/ceph-functions.sh"
requires_ceph
requires ceph-authtool --version
requires qemu-img --version

CEPH_AUTH=cephx start_ceph_cluster
ceph_add_client reader mon 'profile rbd' osd 'profile rbd-read-only pool=rbd'
dir=$(make_tmpdir)

src=$dir/src.qcow2
qemu-img create -q -f qcow2 "$src" 4M
qemu-io -f qcow2 -c "write -P 0x6b 0 1M" "$src" > /dev/null
qemu-img convert -O raw "$src" "$dir/expected.raw"

# refused NAME TARGET: sparsecopy to TARGET exits 3 with a message that
# names TARGET and says permission denied.
refused ()
{
    local rc=0
    timeout 120 "$SPARSECOPY" "$src" "$2" > /dev/null 2> "$dir/err" || rc=$?
    [ $rc -eq 3 ] || fail "$1: exit $rc, not 3: $(cat "$dir/err")"
    grep -qF "sparsecopy: $2: " "$dir/err" || fail "$1: $(cat "$dir/err")"
    grep -q "permission denied" "$dir/err" || fail "$1: $(cat "$dir/err")"
    echo "$1: $(cat "$dir/err")"
}

rbd create --size 4M rbd/existing || fail "rbd create"
refused "existing image" rbd:rbd/existing:id=reader
rbd export --no-progress rbd/existing "$dir/back.raw" > /dev/null 2>&1 ||
    fail "rbd export"
cmp -s "$dir/back.raw" <(head -c 4M /dev/zero) ||
    fail "existing image: written by a client that may only read"
refused "new image" rbd:rbd/new:id=reader
! rbd info rbd/new > /dev/null 2>&1 || fail "new image: created"
echo "ok: read-only caps: permission denied, nothing written"

"$SPARSECOPY" "$src" rbd:rbd/existing 2> "$dir/err" ||
    fail "client.admin: $(cat "$dir/err")"
rm -f "$dir/back.raw"
rbd export --no-progress rbd/existing "$dir/back.raw" > /dev/null 2>&1 ||
    fail "rbd export"
cmp "$dir/expected.raw" "$dir/back.raw" || fail "client.admin: content"
echo "ok: client.admin writes"
