#!/bin/bash
# bench-sparsefs.sh: sparsefs against qemu-storage-daemon's FUSE export.
#
#   bench-sparsefs.sh [SOURCE_FOLDER [FS_SIZE]]     (root; not part of make check)
#
# Makes an ext4 file system of FS_SIZE (default 4G) from SOURCE_FOLDER
# (default /usr/share) with mkfs.ext4 -d, converts it to plain, zlib and
# zstd qcow2, then mounts each image with both daemons side by side (each
# over a regular file) and times, with page caches dropped before every run:
#   cp --sparse=always   to a tmpfs (sparsefs: SEEK_DATA/SEEK_HOLE skip holes)
#   dense cat            the whole raw file, holes included, to /dev/null
#   fio random 4 KiB     O_DIRECT reads, 4 jobs, $FIO_SECONDS s each (IOPS)
# and prints sparsefs/qemu ratios of time (of 1/IOPS for fio): below 1 is
# faster.  Targets: cp <= 0.5, cat <= 0.3.
#
# Environment: SPARSEFS (default: the build tree's), BENCH_DIR (scratch
# folder, default /var/tmp), FIO_SECONDS (default 10), REPEAT (runs per
# timing, the median is shown; default 3).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_folder=${1:-/usr/share}
fs_size=${2:-4G}
fio_seconds=${FIO_SECONDS:-10}
repeat=${REPEAT:-3}
sparsefs=${SPARSEFS:-$here/../src/sparsefs/sparsefs}
[ -x "$sparsefs" ] || sparsefs=$(command -v sparsefs)

[ "$(id -u)" = 0 ] || { echo "bench-sparsefs.sh: needs root" >&2; exit 1; }
for tool in qemu-storage-daemon qemu-img fio mkfs.ext4 fusermount3 python3; do
    command -v $tool >/dev/null ||
        { echo "bench-sparsefs.sh: needs $tool" >&2; exit 1; }
done

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/bench-sparsefs.XXXXXX")
cleanup ()
{
    local view
    for view in sparsefs qsd; do
        if findmnt -n -M "$work/$view.raw" >/dev/null; then
            fusermount3 -u -z "$work/$view.raw"
        fi
        if [ -s "$work/$view.pid" ]; then kill "$(cat "$work/$view.pid")" 2>/dev/null; fi
    done
    if findmnt -n -M "$work/out" >/dev/null; then umount "$work/out"; fi
    rm -rf "$work"
}
trap cleanup EXIT

drop_caches () { sync; echo 3 > /proc/sys/vm/drop_caches; }

# seconds CMD...: run CMD $REPEAT times, caches dropped before each, and
# print the median wall time (the virtual disk here is noisy).
seconds ()
{
    local start end i
    for i in $(seq "$repeat"); do
        drop_caches
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        echo "$end - $start" | bc -l
    done | sort -n | sed -n "$(( (repeat + 1) / 2 ))p"
}

# ---- the image ------------------------------------------------------------
echo "Making a $fs_size ext4 file system from $source_folder ..." >&2
truncate -s "$fs_size" "$work/fs.raw"
mkfs.ext4 -q -F -d "$source_folder" "$work/fs.raw"
qemu-img convert -O qcow2 "$work/fs.raw" "$work/plain.qcow2"
qemu-img convert -c -O qcow2 -o compression_type=zlib "$work/fs.raw" "$work/zlib.qcow2"
qemu-img convert -c -O qcow2 -o compression_type=zstd "$work/fs.raw" "$work/zstd.qcow2"
data_mib=$(( $(qemu-img map --output=json "$work/plain.qcow2" |
               python3 -c 'import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))') / 1048576 ))
echo "File system: $fs_size, $data_mib MiB of data" >&2

mkdir "$work/out"
mount -t tmpfs -o size=$(( data_mib * 2 + 1024 ))M tmpfs "$work/out"

# ---- mounting -------------------------------------------------------------
wait_until () { local i; for i in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }
is_fuse () { findmnt -n -M "$1" -o FSTYPE | grep -q '^fuse'; }

mount_sparsefs ()       # IMAGE FILE
{
    : > "$2"
    "$sparsefs" --pidfile="$work/sparsefs.pid" "$1" "$2"
    wait_until is_fuse "$2"
}

mount_qsd ()            # IMAGE FILE
{
    : > "$2"
    qemu-storage-daemon \
        --blockdev driver=file,node-name=file,filename="$1",read-only=on \
        --blockdev driver=qcow2,node-name=qcow2,file=file,read-only=on \
        --export type=fuse,id=export,node-name=qcow2,mountpoint="$2",writable=off \
        --pidfile "$work/qsd.pid" --daemonize
    wait_until is_fuse "$2"
}

# unmount FILE PIDFILE: unmount, then wait for the daemon (qemu-storage-daemon
# 7.2 does not exit after an external unmount: it is killed).
unmount ()
{
    local pid
    pid=$(cat "$2")
    fusermount3 -u "$1"
    if ! wait_until eval "! kill -0 $pid 2>/dev/null"; then
        kill "$pid" 2>/dev/null || true
    fi
    wait_until eval "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
}

# ---- the runs -------------------------------------------------------------
run_cp () { cp --sparse=always "$1" "$work/out/copy"; rm "$work/out/copy"; }
run_cat () { cat "$1"; }

# fio_iops FILE: random 4 KiB O_DIRECT reads per second.
fio_iops ()
{
    drop_caches
    fio --name=rand --filename="$1" --readonly --rw=randread --bs=4k --direct=1 \
        --ioengine=psync --numjobs=4 --runtime="$fio_seconds" --time_based \
        --group_reporting --output-format=json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["read"]["iops"])'
}

ratio () { echo "scale=2; $1 / $2" | bc -l; }

printf '%-6s %-20s %12s %12s %8s\n' format test sparsefs qemu ratio
for format in plain zlib zstd; do
    image=$work/$format.qcow2
    mount_sparsefs "$image" "$work/sparsefs.raw"
    mount_qsd "$image" "$work/qsd.raw"
    cmp "$work/sparsefs.raw" "$work/qsd.raw" ||
        { echo "bench-sparsefs.sh: the two views of $image differ" >&2; exit 1; }

    ours=$(seconds run_cp "$work/sparsefs.raw")
    theirs=$(seconds run_cp "$work/qsd.raw")
    printf '%-6s %-20s %11.2fs %11.2fs %8s\n' $format "cp --sparse=always" \
        "$ours" "$theirs" "$(ratio "$ours" "$theirs")"

    ours=$(seconds run_cat "$work/sparsefs.raw")
    theirs=$(seconds run_cat "$work/qsd.raw")
    printf '%-6s %-20s %11.2fs %11.2fs %8s\n' $format "dense cat" \
        "$ours" "$theirs" "$(ratio "$ours" "$theirs")"

    ours=$(fio_iops "$work/sparsefs.raw")
    theirs=$(fio_iops "$work/qsd.raw")
    printf '%-6s %-20s %9.0fiops %9.0fiops %8s\n' $format "fio randread 4k" \
        "$ours" "$theirs" "$(ratio "$theirs" "$ours")"

    unmount "$work/sparsefs.raw" "$work/sparsefs.pid"
    unmount "$work/qsd.raw" "$work/qsd.pid"
done
