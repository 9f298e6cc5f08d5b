#!/bin/bash
# Memory stays bounded by the cache limit, whatever the amount of data read:
# reading 128 MiB of compressed images (4 at once) with -o cache=32M, the
# daemon's peak resident memory stays under the cache plus a fixed margin
# for threads and request buffers, far below what the images decompress to.
# The margin is smaller than the cache: memory freed by one thread and
# kept by the allocator for that thread alone (one malloc arena per
# thread) would count the cache several times.
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

cache_mib=32
margin_mib=24

# mount_with_cache: $src on $mnt with the cache of $cache_mib MiB.  Under
# AddressSanitizer, freed memory is held in a quarantine: not ours.
mount_with_cache ()
{
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
        start_sparsefs "$src" "$mnt" -o cache=${cache_mib}M
}

# check_peak LABEL CONTEXT: the daemon's peak resident memory so far is under the
# cache plus the margin.
check_peak ()
{
    local peak_kib
    peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$sparsefs_pid/status")
    echo "peak resident memory$1: $((peak_kib / 1024)) MiB (cache ${cache_mib} MiB)"
    [ "$peak_kib" -lt $(( (cache_mib + margin_mib) * 1024 )) ] ||
        fail "peak resident memory $((peak_kib / 1024)) MiB$2, over ${cache_mib} MiB of cache + ${margin_mib} MiB"
}

mount_with_cache
pids=()
for i in 1 2 3 4; do
    cmp "$tmp/image$i.expected" "$mnt/image$i.raw" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || fail "a raw file differs from its data"
done
check_peak "" ""

# The cache full of L2 tables, filled and emptied by several threads at
# once: four sparse images, each with 512 clusters scattered over 1 TiB
# (one 64 KiB L2 table each: 32 MiB of tables per image), copied at once
# with cp --sparse (SEEK_DATA, then reads).
stop_sparsefs "$mnt" "$sparsefs_pid"
rm "$src"/*.qcow2 "$tmp"/*.expected
for i in 1 2 3 4; do
    qemu-img create -q -f qcow2 "$src/sparse$i.qcow2" 1T
    python3 -c '
import random, sys
rng = random.Random(int(sys.argv[1]))
for c in sorted(rng.sample(range(1 << 24), 512)):
    print("write -P %d %d 64k" % (c % 251 + 1, c << 16))' "$i" |
        qemu-io -f qcow2 "$src/sparse$i.qcow2" > /dev/null
done
mount_with_cache
huge_file_dir
copies=$huge
pids=()
for i in 1 2 3 4; do
    cp --sparse=always "$mnt/sparse$i.raw" "$copies/sparse$i.raw" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || fail "cp --sparse of a raw file failed"
done
for i in 1 2 3 4; do
    qemu-img convert -O raw "$src/sparse$i.qcow2" "$copies/expected.raw"
    python3 "$srcdir/sparse-check.py" cmp "$copies/expected.raw" "$copies/sparse$i.raw" ||
        fail "sparse$i.raw differs from qemu-img convert"
    rm "$copies/expected.raw"
done
check_peak ", sparse images" " reading sparse images"
