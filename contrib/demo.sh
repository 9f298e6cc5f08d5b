#!/usr/bin/env bash
# demo.sh BUILDDIR SAMPLE: the main job on the bundled sample (run by
# `make demo`, as root).  sparsecopy writes the qcow2 image onto a loop
# device whose backing file is full of garbage, zeroing the holes without
# allocating them; then sparsefs shows the same image as a raw file.
set -euo pipefail
builddir=$1 sample=$2
work=$(mktemp -d)
dev= mounted=
cleanup ()
{
    [ -z "$mounted" ] || fusermount3 -u "$work/view" 2>/dev/null || true
    [ -z "$dev" ] || losetup -d "$dev"
    rm -rf "$work"
}
trap cleanup EXIT

size=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(24); print(struct.unpack(">Q", f.read(8))[0])' "$sample")
echo "== a 'thin device': a loop device over a file of $size bytes of garbage"
python3 -c 'import sys; open(sys.argv[1],"wb").write(b"\xaa" * int(sys.argv[2]))' "$work/disk" "$size"
dev=$(losetup -f --show "$work/disk")
echo "backing file allocated: $(du -k "$work/disk" | cut -f1) KiB"

echo "== sparsecopy $sample $dev"
"$builddir/src/sparsecopy/sparsecopy" --show-probe --verify --json "$sample" "$dev"
echo "backing file allocated: $(du -k "$work/disk" | cut -f1) KiB (the image holds $(du -k "$sample" | cut -f1) KiB)"

echo "== sparsefs: the same image as a raw file"
mkdir "$work/view"
"$builddir/src/sparsefs/sparsefs" "$sample" "$work/view"
mounted=yes
ls -ls "$work/view"
raw=$(ls "$work/view"/*.raw)
echo "file -s: $(file -s "$raw" 2>/dev/null || echo '(file not installed)')"
cmp "$raw" "$dev" && echo "the raw view and the device are identical"
