#!/bin/bash
# 16 processes read random ranges of compressed, plain and backed images at
# once (one shared engine cache, one shared open per image): every read
# returns qemu-img's bytes, whether served by the daemon or the page cache.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

corpus=$(corpus)
tmp=$(make_tmpdir)
mnt=$tmp/mnt
mkdir "$mnt"
# A cache far smaller than the data read: entries are evicted under load.
start_sparsefs "$corpus/images" "$mnt" -o cache=4M

images=(zstd-c2m.qcow2 zlib-c64k.qcow2 v3-c2m.qcow2 chain-top.qcow2)
pids=()
for i in $(seq 16); do
    name=${images[i % ${#images[@]}]}
    $LSEEK random-read "$mnt/$(shown_name "$name")" \
        "$corpus/expected/$name.raw" 300 "$i" &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done
[ "$failed" = 0 ] || fail "$failed of 16 readers got wrong bytes"
kill -0 "$sparsefs_pid" || fail "sparsefs died"
