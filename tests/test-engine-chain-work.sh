#!/bin/bash
# A backing chain 64 images deep whose layers alternate zero and
# unallocated units (issue 10, item 5): each unallocated unit asks the layer
# below, and one extent query merges up to 256 runs per layer.  The map
# must equal qemu-img's at every depth, and the mapping work (lookups
# counted by extent-work, not time) must grow at most linearly with the
# depth: a full walk looks each unit up at most twice per layer it passes
# (once more when a change of type ends an extent).
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version

UNIT=4096
UNITS=1024
DEPTH=64
tmp=$(make_tmpdir)
cd "$tmp"

# The base: data in units 1 mod 4, the rest unallocated.
qemu-img create -q -f qcow2 -o cluster_size=$UNIT c1.qcow2 $((UNIT * UNITS))
writes=()
for i in $(seq 1 4 $((UNITS - 1))); do
    writes+=("write -P 0x5a $((i * UNIT)) $UNIT")
done
io c1.qcow2 "${writes[@]}"
# Every layer above: zero at even units, odd units unallocated (so they go
# down to the base).  One layer is made, then copied and chained.
qemu-img create -q -f qcow2 -o cluster_size=$UNIT layer.qcow2 $((UNIT * UNITS))
writes=()
for i in $(seq 0 2 $((UNITS - 1))); do
    writes+=("write -z $((i * UNIT)) $UNIT")
done
io layer.qcow2 "${writes[@]}"
for k in $(seq 2 $DEPTH); do
    cp layer.qcow2 c$k.qcow2
    qemu-img rebase -u -b c$((k - 1)).qcow2 -F qcow2 c$k.qcow2
done

# same_map IMAGE: imgdump's map equals qemu-img's, merged alike.
same_map ()
{
    "$IMGDUMP" map "$1" > "$1.map"
    qemu-img map --output=json "$1" > "$1.json"
    python3 - "$1.map" "$1.json" <<'PY'
import json, sys
ours = [(int(o), int(n), t) for o, n, t in
        (line.split() for line in open(sys.argv[1]))]
theirs = []
for e in json.load(open(sys.argv[2])):
    t = "data" if e["data"] else "zero"
    if theirs and theirs[-1][2] == t:
        theirs[-1] = (theirs[-1][0], theirs[-1][1] + e["length"], t)
    else:
        theirs.append((e["start"], e["length"], t))
if ours != theirs:
    sys.exit(f"{sys.argv[1]}: imgdump map differs from qemu-img map: "
             f"{len(ours)} runs, first {ours[:3]}; qemu {len(theirs)} runs, "
             f"first {theirs[:3]}")
PY
}

# The map: data at units 1 mod 4, zeros between, whatever the depth.
[ "$(wc -l < <("$IMGDUMP" map c$DEPTH.qcow2))" -eq $((UNITS / 2 + 1)) ] ||
    fail "c$DEPTH.qcow2: expected $((UNITS / 2 + 1)) runs"

for depth in 1 2 4 8 16 32 64; do
    same_map c$depth.qcow2
    "$EXTENT_WORK" c$depth.qcow2 > work.out
    read -r _ _ _ walk < <(grep '^extents ' work.out)
    read -r _ _ _ count < <(grep '^data-bytes ' work.out)
    bound=$((2 * UNITS * depth))
    echo "depth $depth: map walk $walk lookups, data count $count lookups (bound $bound)"
    [ "$walk" -le "$bound" ] ||
        fail "depth $depth: the map walk made $walk lookups (at most $bound)"
    [ "$count" -le "$bound" ] ||
        fail "depth $depth: image_data_bytes made $count lookups (at most $bound)"
done
