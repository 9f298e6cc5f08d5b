#!/bin/bash
# make-sample.sh OUTPUT: how tests/data/sample.qcow2 was made (the committed
# binary is what the README demo and test-engine-sample.sh use; rerunning
# this gives an equivalent, not byte-identical, image).
#
# A 2 MiB ext4 file system (no journal, 1 KiB blocks) holding three files,
# converted to qcow2 with 4 KiB compressed clusters: text compresses, the
# random file stays an uncompressed cluster, free space stays unallocated;
# then zero clusters written over free space.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTPUT" >&2; exit 1; }
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/files"
printf 'Hello from a qcow2 image served by sparsefs.\n' > "$work/files/hello.txt"
for i in $(seq 0 299); do
    printf 'line %04d: the quick brown fox jumps over the lazy dog\n' "$i"
done > "$work/files/fox.txt"
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(1).randbytes(6000))' \
        > "$work/files/random.bin"
touch -d @1700000000 "$work/files"/*

E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -t ext4 -b 1024 \
    -O ^has_journal,^resize_inode -N 16 -m 0 \
    -U 5a5a5a5a-0000-4000-8000-000000000001 \
    -E root_owner=0:0,hash_seed=5a5a5a5a-0000-4000-8000-000000000002 \
    -d "$work/files" "$work/fs.img" 2M >/dev/null
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 "$work/fs.img" "$out"
qemu-io -f qcow2 -c 'write -z -u 1536k 64k' -c 'write -z 1900k 8k' "$out" >/dev/null
