#!/bin/bash
# Backing chains 64 images deep (issue 10, item 5): an unallocated run asks
# the layer below, and an extent query asks for the next run too, to see
# whether it merges.  The map must equal qemu-img's at every depth, and the
# mapping work (lookups counted by extent-work, not time) must grow at most
# linearly with the depth: a full walk looks each unit up at most twice
# per layer it passes (once more when a change of type ends an extent).
#   c*: layers alternating zero and unallocated units over a base;
#   e*: empty overlays over a base alternating data and unallocated units,
#       where a look-ahead asked of each layer once doubled the work with
#       every layer (2^depth lookups).
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires prlimit --version

UNIT=4096
UNITS=512
DEPTH=64
tmp=$(make_tmpdir)
cd "$tmp"

# units IMAGE FIRST STEP VERB: a fresh IMAGE of UNITS units, and qemu-io
# "VERB OFFSET LENGTH" on units FIRST, FIRST + STEP, ...
units ()
{
    local image=$1 first=$2 step=$3 verb=$4 commands=() i
    qemu-img create -q -f qcow2 -o cluster_size=$UNIT "$image" $((UNIT * UNITS))
    for i in $(seq "$first" "$step" $((UNITS - 1))); do
        commands+=("$verb $((i * UNIT)) $UNIT")
    done
    io "$image" "${commands[@]}"
}

# c1: data in units 1 mod 4, the rest unallocated.  Every layer above:
# zero at even units, odd units unallocated (so they go down to the base).
# One layer is made, then copied and chained.
units c1.qcow2 1 4 "write -P 0x5a"
units layer.qcow2 0 2 "write -z"
for k in $(seq 2 $DEPTH); do
    cp layer.qcow2 c$k.qcow2
    qemu-img rebase -u -b c$((k - 1)).qcow2 -F qcow2 c$k.qcow2
done
# e1: data in the odd units; empty overlays above.
units e1.qcow2 1 2 "write -P 0x5b"
for k in $(seq 2 $DEPTH); do
    qemu-img create -q -f qcow2 -o cluster_size=$UNIT -u \
             -b e$((k - 1)).qcow2 -F qcow2 e$k.qcow2 $((UNIT * UNITS))
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

# bounded_work IMAGE DEPTH: extent-work's lookups on IMAGE stay within the
# bound.  A work limit stops a runaway walk (2^64 lookups) long before.
bounded_work ()
{
    local image=$1 depth=$2 bound=$((2 * UNITS * $2)) walk count
    prlimit --cpu=10 -- "$EXTENT_WORK" "$image" > work.out ||
        fail "$image: extent-work failed or was killed (status $?)"
    read -r _ _ _ walk < <(grep '^extents ' work.out)
    read -r _ _ _ count < <(grep '^data-bytes ' work.out)
    echo "$image: map walk $walk lookups, data count $count lookups (bound $bound)"
    [ "$walk" -le "$bound" ] ||
        fail "$image: the map walk made $walk lookups (at most $bound)"
    [ "$count" -le "$bound" ] ||
        fail "$image: image_data_bytes made $count lookups (at most $bound)"
}

for depth in 1 2 8 64; do
    for chain in c e; do
        bounded_work $chain$depth.qcow2 $depth
        same_map $chain$depth.qcow2
    done
done

# The maps (checked against qemu above) are not trivial: c*, data at units
# 1 mod 4 and zeros between; e*, data and zeros in turn.
[ "$(wc -l < c$DEPTH.qcow2.map)" -eq $((UNITS / 2 + 1)) ] ||
    fail "c$DEPTH.qcow2: expected $((UNITS / 2 + 1)) runs"
[ "$(wc -l < e$DEPTH.qcow2.map)" -eq $UNITS ] ||
    fail "e$DEPTH.qcow2: expected $UNITS runs"
