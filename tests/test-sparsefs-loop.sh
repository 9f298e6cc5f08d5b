#!/bin/bash
# One image mounted over a regular file (as qemu-storage-daemon's FUSE
# export does), attached read-only to a loop device, and the ext4 file
# system inside mounted: its files are the ones the image was made from.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires_loop
requires mkfs.ext4 -V
requires qemu-img --version

tmp=$(make_tmpdir)
files=$tmp/files
mkdir -p "$files/deep/er"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom > "$files/random.bin"
seq 1 200000 > "$files/deep/numbers.txt"
truncate -s 10M "$files/deep/er/sparse.bin"
echo "middle" | dd of="$files/deep/er/sparse.bin" bs=1 seek=5000000 conv=notrunc status=none
cp "$files/deep/numbers.txt" "$files/deep/er/copy.txt"

truncate -s 64M "$tmp/fs.raw"
mkfs.ext4 -q -F -d "$files" "$tmp/fs.raw"
qemu-img convert -q -c -O qcow2 -o compression_type=zstd,cluster_size=65536 \
    "$tmp/fs.raw" "$tmp/fs.qcow2"

: > "$tmp/disk"
start_sparsefs "$tmp/fs.qcow2" "$tmp/disk"
[ -f "$tmp/disk" ] || fail "the mount over a file is not a regular file"
[ "$(stat -c %s "$tmp/disk")" = "$(stat -c %s "$tmp/fs.raw")" ] ||
    fail "$tmp/disk: size $(stat -c %s "$tmp/disk"), want $(stat -c %s "$tmp/fs.raw")"
cmp "$tmp/fs.raw" "$tmp/disk"

loop=$(losetup -r -f --show "$tmp/disk")
cleanup_fn losetup -d "$loop"
mkdir "$tmp/mnt"
mount -t ext4 -o ro "$loop" "$tmp/mnt"
cleanup_fn umount "$tmp/mnt"
diff -r --exclude=lost+found "$files" "$tmp/mnt" ||
    fail "the files inside the image differ from the ones it was made from"
