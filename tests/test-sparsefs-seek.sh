#!/bin/bash
# SEEK_DATA / SEEK_HOLE on every raw file of the corpus:
#  - the map they give is exactly the engine's (`imgdump map`), run for run;
#  - lseek(2)'s semantics hold at the start, middle and end of every run
#    and past the end (ENXIO);
#  - against qemu-img map: every data run lies inside qemu's "data": true
#    extents, every hole reads as zeros in qemu's output, and every extent
#    qemu knows holds data ("data": true, "zero": false) is data for us.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

corpus=$(corpus)
tmp=$(make_tmpdir)
mnt=$tmp/mnt
mkdir "$mnt"
start_sparsefs "$corpus/images" "$mnt"
check="python3 $srcdir/sparse-check.py"

# qemu_data_map JSON: qemu's "data": true, "zero": false extents in
# `imgdump map` form (the runs that hold real data for qemu).
qemu_data_map ()
{
    python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["data"] and not e["zero"]:
        print(e["start"], e["length"], "data")' "$1"
}

# inside_data MAP QEMU: every run of QEMU lies inside data runs of MAP.
inside_data ()
{
    python3 -c '
import sys
def runs(p, kind):
    return [(int(o), int(o) + int(n)) for o, n, k in (l.split() for l in open(p)) if k == kind]
ours = runs(sys.argv[1], "data")
for start, end in runs(sys.argv[2], "data"):
    if not any(s <= start and end <= e for s, e in ours):
        sys.exit(f"qemu data [{start}, {end}) is not data in {sys.argv[1]}")' "$1" "$2"
}

check_seek ()
{
    local name=$1 raw=$mnt/$(shown_name "$1") exp=$corpus/expected/$1
    $LSEEK map "$raw" > "$tmp/seek.map" &&
    $IMGDUMP map "$corpus/images/$name" > "$tmp/engine.map" &&
    diff -u "$tmp/engine.map" "$tmp/seek.map" &&
    $LSEEK check "$raw" "$tmp/seek.map" &&
    $check covered "$tmp/seek.map" "$exp.map.json" &&
    $check zeros "$exp.raw" "$tmp/seek.map" &&
    qemu_data_map "$exp.map.json" > "$tmp/qemu.map" &&
    inside_data "$tmp/seek.map" "$tmp/qemu.map"
}

failed=()
while read -r name; do
    if check_seek "$name"; then
        echo "ok: $name"
    else
        echo "FAIL: $name" >&2
        failed+=("$name")
    fi
done < <(qcow2_manifest "$corpus")
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} map(s) differ: ${failed[*]}"
