#!/bin/bash
# Memory stays bounded by the cache limit, whatever the amount of data read:
# reading 128 MiB of compressed images (4 at once) with -o cache=8M, the
# daemon's peak resident memory stays under the cache plus a fixed margin
# for threads and request buffers, far below what the images decompress to.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires qemu-img --version

tmp=$(make_tmpdir)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
for i in 1 2 3 4; do
    seq "$i" 4 100000000 | head -c 32M > "$tmp/data.raw"
    qemu-img convert -q -c -O qcow2 -o compression_type=zstd,cluster_size=65536 \
        "$tmp/data.raw" "$src/image$i.qcow2"
    cp "$tmp/data.raw" "$tmp/image$i.expected"
done
rm "$tmp/data.raw"

cache_mib=8
margin_mib=40
# Under AddressSanitizer, freed memory is held in a quarantine: not ours.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
    start_sparsefs "$src" "$mnt" -o cache=${cache_mib}M
pids=()
for i in 1 2 3 4; do
    cmp "$tmp/image$i.expected" "$mnt/image$i.raw" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || fail "a raw file differs from its data"
done
peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$sparsefs_pid/status")
echo "peak resident memory: $((peak_kib / 1024)) MiB (cache ${cache_mib} MiB)"
[ "$peak_kib" -lt $(( (cache_mib + margin_mib) * 1024 )) ] ||
    fail "peak resident memory $((peak_kib / 1024)) MiB, over ${cache_mib} MiB of cache + ${margin_mib} MiB"
