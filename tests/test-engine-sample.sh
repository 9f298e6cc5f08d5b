#!/bin/bash
# The README's sample image (tests/data/sample.qcow2: ext4 with compressed,
# normal and zero clusters) reads back exactly as qemu-img converts it.
. "$srcdir/functions.sh"
requires qemu-img --version
requires python3 --version

tmp=$(make_tmpdir)
sample=$srcdir/data/sample.qcow2

qemu-img convert -O raw "$sample" "$tmp/expected.raw"
qemu-img map --output=json "$sample" > "$tmp/expected.map.json"
$IMGDUMP raw "$sample" "$tmp/actual.raw"
$IMGDUMP map "$sample" > "$tmp/map"
python3 "$srcdir/sparse-check.py" all "$tmp/expected.raw" "$tmp/actual.raw" \
        "$tmp/map" "$tmp/expected.map.json"
