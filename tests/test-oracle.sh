#!/bin/bash
# Every corpus image must read back exactly as `qemu-img convert -O raw`
# writes it, and the engine's map must agree with qemu's:
#  - the raw view is byte-identical (holes compared as zeros, so the 4 TiB
#    image costs only its data);
#  - the map tiles the image in merged runs;
#  - every "zero" run reads as zeros in qemu's output;
#  - every "data" run lies inside qemu-img map's "data": true extents.
# All images are checked; the test fails at the end if any failed.
. "$srcdir/functions.sh"
requires qemu-img --version
requires python3 --version

corpus=$(corpus)
tmp=$(make_tmpdir)
check="python3 $srcdir/sparse-check.py"
failed=()

# corpus_holds IMAGE WHAT EXPR: the corpus really holds the on-disk case
# it is meant to cover (EXPR, over qcow2-edit.py names, prints True), so
# that a different qemu cannot quietly make a test vacuous.
corpus_holds ()
{
    [ "$(python3 "$srcdir/qcow2-edit.py" "$corpus/images/$1" --get "$3")" = True ] ||
        fail "$1: the corpus lacks $2"
}
zero=1 compressed='1 << 62' copied='1 << 63' offset=0x00fffffffffffe00
corpus_holds tiny-compressed.qcow2 "a compressed cluster ending past EOF" \
    'compressed_end(l2[0][1]) > file_size'
corpus_holds zero-clusters.qcow2 "a preallocated zero cluster" \
    "any(l2[0][j] & $zero and l2[0][j] & $offset for j in range(32))"
corpus_holds zero-clusters.qcow2 "a plain zero cluster" \
    "any(l2[0][j] == $zero for j in range(32))"
corpus_holds zstd-c64k.qcow2 "zstd-compressed clusters" \
    "compression_type == 1 and any(l2[0][j] & $compressed for j in range(24))"
corpus_holds el2-c64k.qcow2 "allocated and zero subclusters in one cluster" \
    "any(l2bitmap[0][j] & 0xffffffff and l2bitmap[0][j] >> 32 for j in range(32))"
corpus_holds el2-c64k.qcow2 "a compressed cluster with extended L2" \
    "any(l2[0][j] & $compressed for j in range(32))"
corpus_holds snapshots.qcow2 "clusters shared with a snapshot (no copied bit)" \
    "any(l2[0][j] & $offset and not l2[0][j] & $copied for j in range(32))"

# vhdx_holds IMAGE WHAT EXPR: the same for a VHDX image, EXPR over
# vhdx-edit.py names (bat(I): BAT entry I; its state is bits 0-2).
vhdx_holds ()
{
    [ "$(python3 "$srcdir/vhdx-edit.py" "$corpus/images/$1" --get "$3")" = True ] ||
        fail "$1: the corpus lacks $2"
}
vhdx_holds vhdx-dynamic-1m.vhdx "fully present and zero blocks" \
    "bat(0) & 7 == 6 and bat(3) & 7 == 2"
vhdx_holds vhdx-states.vhdx "unmapped, undefined, v0.95 unmapped, absent blocks" \
    "[bat(i) & 7 for i in (1, 3, 7, 9)] == [3, 1, 5, 0]"
vhdx_holds vhdx-sparse-64g.vhdx "payload entries after a sector bitmap entry" \
    "bat(4095) & 7 == 6 and bat(4096) & 7 == 0 and bat(4097) & 7 == 6"

check_image ()
{
    local name=$1 img=$corpus/images/$1 exp=$corpus/expected/$1
    $IMGDUMP raw "$img" "$tmp/raw" &&
    $IMGDUMP map "$img" > "$tmp/map" &&
    $check all "$exp.raw" "$tmp/raw" "$tmp/map" "$exp.map.json"
}

while read -r name; do
    if check_image "$name"; then
        echo "ok: $name"
    else
        echo "FAIL: $name" >&2
        failed+=("$name")
    fi
done < "$corpus/images/MANIFEST"

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} image(s) differ from qemu: ${failed[*]}"
