#!/bin/bash
# SEEK_DATA / SEEK_HOLE on every raw file of the corpus:
#  - the map they give is exactly the engine's (`imgdump map`), run for run;
#  - lseek(2)'s semantics hold at the start, middle and end of every run
#    and past the end (ENXIO);
#  - against qemu-img map: every data run lies inside qemu's "data": true
#    extents, and every hole reads as zeros in qemu's output (so no data is
#    hidden; a range qemu maps as data may still be a hole for us where the
#    file behind it holds none, as the engine's contract says).
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

mount_corpus
check="python3 $srcdir/sparse-check.py"

check_seek ()
{
    local name=$1 raw=$mnt/$(shown_name "$1") exp=$corpus/expected/$1
    $LSEEK map "$raw" > "$tmp/seek.map" &&
    $IMGDUMP map "$corpus/images/$name" > "$tmp/engine.map" &&
    diff -u "$tmp/engine.map" "$tmp/seek.map" &&
    $LSEEK check "$raw" "$tmp/seek.map" &&
    $check covered "$tmp/seek.map" "$exp.map.json" &&
    $check zeros "$exp.raw" "$tmp/seek.map"
}

failed=()
while read -r name; do
    if check_seek "$name"; then
        echo "ok: $name"
    else
        echo "FAIL: $name" >&2
        failed+=("$name")
    fi
done < <(image_manifest "$corpus")
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} map(s) differ: ${failed[*]}"
