#!/bin/bash
# Blocks that follow one another in the image file are one extent (issue
# 14's VHDX speed): a dynamic VHDX written front to back, whose blocks
# qemu allocates in order, maps as one run, where each block was an
# extent of its own (and a question to the file system) before.  Blocks
# out of order (written back to front) are still one extent each.  Both
# read byte-exact and map as qemu-img maps them.  The count is of
# image_extent() calls in a full walk (extent-work), not of time.
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version

MiB=$((1024 * 1024))
BLOCKS=16
tmp=$(make_tmpdir)
cd "$tmp"

# vhdx NAME FIRST STEP: a dynamic VHDX of BLOCKS 1 MiB blocks, each
# written whole, in the order FIRST, FIRST + STEP, ... (a partial last
# block too: the disk ends 512 bytes into it).
vhdx ()
{
    local commands=() i
    qemu-img create -q -f vhdx -o subformat=dynamic,block_size=1M "$1" \
             $(((BLOCKS - 1) * MiB + 512))
    for i in $(seq "$2" "$3" $(((BLOCKS - 1) * ($3 < 0 ? 0 : 1)))); do
        commands+=("write -P $((0x40 + i)) $((i * MiB)) $((i == BLOCKS - 1 ? 512 : MiB))")
    done
    io_as vhdx "$1" "${commands[@]}"
}
vhdx in-order.vhdx 0 1
vhdx reversed.vhdx $((BLOCKS - 1)) -1

# extents IMAGE: image_extent() calls in a full walk of IMAGE's map.
extents ()
{
    "$EXTENT_WORK" "$1" > "$1.work" || fail "$1: extent-work failed"
    sed -n 's/^extents \([0-9]*\) .*/\1/p' "$1.work"
}

for image in in-order.vhdx reversed.vhdx; do
    qemu-img convert -f vhdx -O raw "$image" "$image.expected"
    "$IMGDUMP" raw "$image" "$image.raw"
    cmp "$image.expected" "$image.raw" || fail "$image: raw view differs from qemu-img's"
    "$IMGDUMP" map "$image" > "$image.map"
    [ "$(cat "$image.map")" = "0 $(((BLOCKS - 1) * MiB + 512)) data" ] ||
        fail "$image: map is not one data run: $(head -3 "$image.map")"
    [ "$(qemu-img map --output=json "$image" |
         python3 -c 'import json, sys; print(all(e["data"] for e in json.load(sys.stdin)))')" = True ] ||
        fail "$image: qemu-img map has holes"
done

n=$(extents in-order.vhdx)
echo "in-order.vhdx: $n extents"
[ "$n" -eq 1 ] || fail "in-order.vhdx: $n extents for $BLOCKS contiguous blocks (expected 1)"
n=$(extents reversed.vhdx)
echo "reversed.vhdx: $n extents"
[ "$n" -eq $BLOCKS ] || fail "reversed.vhdx: $n extents for $BLOCKS blocks out of order (expected $BLOCKS)"
