#!/bin/bash
# bench-folders.sh: sparsefs on folders of many images and under many readers.
#
#   bench-folders.sh [COUNTS]      (root; not part of make check)
#
# 1. Folders: for each count in COUNTS (default "1000 10000 50000"; 0:
#    none), a
#    folder of that many small qcow2 images (1 GiB virtual, 8 KiB of data,
#    each a copy of its own file) on the scratch file system.  Mounts it and
#    times `ls -l` through sparsefs the first time after mounting and again
#    at once, beside `ls -l` of the folder itself (image files in the page
#    cache for all three).  Prints the time per 1,000 images, so that linear
#    growth shows as a flat column, and what the daemon's listing of the
#    folder holds in memory (user.sparsefs.listing_bytes).
#    Targets at 10,000: first <= 1.0 s, again <= 0.5 s.
# 2. Readers: $READERS processes at once, each reading in full ("cat") a
#    different image of $IMAGE_MIB MiB, one MiB of data in every
#    $DATA_EVERY, through sparsefs and from sparse raw files of the same
#    content, caches dropped and memory settled before each
#    (bench-functions.sh).  Prints both times, their ratio (target <= 1.5)
#    and the daemon's peak resident memory (VmHWM) beside its --cache.
#
# Environment: SPARSEFS (default: the build tree's), BENCH_DIR (scratch
# folder, default /var/tmp), READERS (64; 0: no readers), IMAGE_MIB (256), DATA_EVERY (4),
# CACHE (the daemon's --cache, default 64M), REPEAT (rounds of the readers'
# timing, the best is shown; default 1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-functions.sh"
counts=${1:-1000 10000 50000}
readers=${READERS:-64}
image_mib=${IMAGE_MIB:-256}
data_every=${DATA_EVERY:-4}
cache=${CACHE:-64M}
repeat=${REPEAT:-1}
sparsefs=${SPARSEFS:-$here/../src/sparsefs/sparsefs}
[ -x "$sparsefs" ] || sparsefs=$(command -v sparsefs)

[ "$(id -u)" = 0 ] || { echo "bench-folders.sh: needs root" >&2; exit 1; }
for tool in qemu-img qemu-io getfattr fusermount3 python3 bc; do
    command -v $tool >/dev/null ||
        { echo "bench-folders.sh: needs $tool" >&2; exit 1; }
done

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/bench-folders.XXXXXX")
mnt=$work/mnt
mkdir "$mnt"
cleanup ()
{
    if findmnt -n -M "$mnt" >/dev/null; then fusermount3 -u -z "$mnt"; fi
    if [ -s "$work/sparsefs.pid" ]; then kill "$(cat "$work/sparsefs.pid")" 2>/dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT

wait_until () { local i; for i in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }
is_fuse () { findmnt -n -M "$1" -o FSTYPE | grep -q '^fuse'; }

# mount_folder FOLDER: sparsefs on $mnt; sets $pid.
mount_folder ()
{
    rm -f "$work/sparsefs.pid"
    "$sparsefs" --pidfile="$work/sparsefs.pid" --cache="$cache" "$1" "$mnt"
    wait_until test -s "$work/sparsefs.pid"
    wait_until is_fuse "$mnt"
    pid=$(cat "$work/sparsefs.pid")
}

# unmount_folder: unmount, and wait for the daemon to end.
unmount_folder ()
{
    fusermount3 -u "$mnt"
    wait_until eval '! kill -0 "$pid" 2>/dev/null'
    rm -f "$work/sparsefs.pid"
}

# timed COMMAND...: run COMMAND with its output discarded; seconds in $took.
timed ()
{
    local t0
    t0=$(now)
    "$@" > /dev/null
    took=$(seconds_since "$t0")
}

per_k () { echo "scale=3; $1 * 1000 / $2" | bc -l; }

# ---- folders ------------------------------------------------------------------
qemu-img create -q -f qcow2 -o cluster_size=4096 "$work/small.qcow2" 1G
qemu-io -c 'write -P 7 0 4k' -c 'write -P 9 100M 4k' "$work/small.qcow2" > /dev/null

echo
echo "ls -l of a folder of N images (seconds; per 1,000 images in brackets;"
echo "ratios to native ls -l of the folder, which the machine's load slows alike)"
printf '%8s  %16s  %16s  %16s  %6s  %6s  %14s\n' N "sparsefs first" "sparsefs again" \
       "native" first again "listing bytes"
for n in $counts; do
    [ "$n" -gt 0 ] || continue
    folder=$work/folder-$n
    python3 - "$work/small.qcow2" "$folder" "$n" <<'EOF'
import os, sys
source, folder, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(source, 'rb').read()
os.mkdir(folder)
for i in range(count):
    with open(os.path.join(folder, 'image%06d.qcow2' % i), 'wb') as f:
        f.write(data)
EOF
    find "$folder" -type f -exec cat {} + > /dev/null
    timed ls -l "$folder"
    native=$took
    mount_folder "$folder"
    timed ls -l "$mnt"
    first=$took
    timed ls -l "$mnt"
    again=$took
    lines=$(ls "$mnt" | wc -l)
    [ "$lines" = "$n" ] || { echo "bench-folders.sh: $lines names shown, not $n" >&2; exit 1; }
    bytes=$(getfattr --only-values -n user.sparsefs.listing_bytes "$mnt" 2>/dev/null ||
                echo unknown)
    unmount_folder
    printf '%8s  %7.3f (%6.3f)  %7.3f (%6.3f)  %7.3f (%6.3f)  %6s  %6s  %14s\n' "$n" \
           "$first" "$(per_k "$first" "$n")" "$again" "$(per_k "$again" "$n")" \
           "$native" "$(per_k "$native" "$n")" "$(ratio "$first" "$native")" \
           "$(ratio "$again" "$native")" "$bytes"
    rm -rf "$folder"
done

# ---- many readers -------------------------------------------------------------
[ "$readers" -gt 0 ] || exit 0
echo
echo "Making $readers images of $image_mib MiB, 1 MiB of data in every $data_every ..." >&2
mkdir "$work/images" "$work/raw"
for i in $(seq "$readers"); do
    python3 - "$work/raw/image$i.raw" "$i" "$image_mib" "$data_every" <<'EOF'
import sys
path, seed, mib, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
chunk = bytes((seed * 7 + i) % 251 for i in range(4096)) * 256
with open(path, 'wb') as f:
    f.truncate(mib << 20)
    for m in range(0, mib, every):
        f.seek(m << 20)
        f.write(chunk)
EOF
    qemu-img convert -O qcow2 "$work/raw/image$i.raw" "$work/images/image$i.qcow2"
done
settle_mib=$(( readers * image_mib / data_every + 1024 ))

# read_all FOLDER SUFFIX: cat every image of FOLDER at once.
read_all ()
{
    local i pids=()
    for i in $(seq "$readers"); do
        cat "$1/image$i$2" > /dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
}

mount_folder "$work/images"
best_native='' best_sparsefs=''
for round in $(seq "$repeat"); do
    drop_caches
    settle_memory "$settle_mib"
    timed read_all "$work/raw" .raw
    if [ -z "$best_native" ] || is_less "$took" "$best_native"; then best_native=$took; fi
    drop_caches
    settle_memory "$settle_mib"
    timed read_all "$mnt" .raw
    if [ -z "$best_sparsefs" ] || is_less "$took" "$best_sparsefs"; then best_sparsefs=$took; fi
done
peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
unmount_folder

echo "$readers readers, each a different $image_mib MiB image in full (seconds)"
printf '%12s  %12s  %8s  %18s  %8s\n' native sparsefs ratio "peak RSS (--cache)" threads
printf '%12.2f  %12.2f  %8s  %11s (%4s)  %8s\n' "$best_native" "$best_sparsefs" \
       "$(ratio "$best_sparsefs" "$best_native")" "$((peak_kib / 1024)) MiB" "$cache" \
       "$threads"
