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

# The corpus must hold what the engine has to tolerate: a compressed
# cluster whose last sector runs past the end of the file.
past_eof=$(python3 "$srcdir/qcow2-edit.py" "$corpus/images/tiny-compressed.qcow2" \
               --get 'compressed_end(l2[0][1]) - file_size')
[ "$past_eof" -gt 0 ] ||
    fail "tiny-compressed.qcow2: its compressed cluster ends inside the file"

check_image ()
{
    local name=$1 img=$corpus/images/$1 exp=$corpus/expected/$1
    $IMGDUMP raw "$img" "$tmp/raw" &&
    $check cmp "$exp.raw" "$tmp/raw" &&
    $IMGDUMP map "$img" > "$tmp/map" &&
    $check tiles "$tmp/map" "$(stat -c %s "$exp.raw")" &&
    $check zeros "$exp.raw" "$tmp/map" &&
    $check covered "$tmp/map" "$exp.map.json"
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
