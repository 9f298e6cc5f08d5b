#!/bin/bash
# bench-sparsefs.sh: sparsefs against qemu-storage-daemon's FUSE export.
#
#   bench-sparsefs.sh [SOURCE_FOLDER [FS_SIZE]]     (root; not part of make check)
#
# Makes an ext4 file system of FS_SIZE (default 4G) from SOURCE_FOLDER
# (default /usr/share) with mkfs.ext4 -d, converts it to plain, zlib and
# zstd qcow2, streamOptimized VMDK and dynamic VHDX, then mounts each image with both daemons side by side (each
# over a regular file) and times, with page caches dropped and memory
# settled before every run (bench-functions.sh), beside the same command on
# the file system's raw file itself:
#   cp --sparse=always   to a tmpfs (sparsefs: SEEK_DATA/SEEK_HOLE skip holes)
#   dense cat            the whole raw file, holes included, to /dev/null
#   fio random 4 KiB     O_DIRECT reads, 4 jobs, $FIO_SECONDS s each (IOPS)
# and prints sparsefs/qemu ratios of time (of 1/IOPS for fio): below 1 is
# faster.  Targets: cp <= 0.5, cat <= 0.3; VHDX through sparsefs no
# slower than plain qcow2 per GiB of the file system's data.
#
# Environment: SPARSEFS (default: the build tree's), BENCH_DIR (scratch
# folder, default /var/tmp), FIO_SECONDS (default 10), REPEAT (rounds of
# each timing, the best is shown; default 3), BENCH_IMAGES (default
# "plain zlib zstd vmdk vhdx"; also vdi, vhd).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-functions.sh"
source_folder=${1:-/usr/share}
fs_size=${2:-4G}
fio_seconds=${FIO_SECONDS:-10}
repeat=${REPEAT:-3}
images=${BENCH_IMAGES:-plain zlib zstd vmdk vhdx}
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

# ---- the image ------------------------------------------------------------
tree=$source_folder
make_bench_images "$work" "$work" $(printf '%s\n' $images | grep -vx 'plain\|zlib\|zstd')
data_mib=$(( $(qemu-img map --output=json "$work/plain.qcow2" |
               python3 -c 'import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))') / 1048576 ))
echo "File system: $fs_size, $data_mib MiB of data" >&2

settle_mib=$(( $(stat -c %s "$work/fs.raw") / 1048576 + 1024 ))
mkdir "$work/out"
mount -t tmpfs -o size=$(( data_mib * 2 + 1024 ))M tmpfs "$work/out"

# ---- the runs -------------------------------------------------------------
run_cp () { cp --sparse=always "$1" "$work/out/copy"; rm "$work/out/copy"; }
run_cat () { cat "$1"; }

view_file ()
{
    case $1 in
        raw) echo "$work/fs.raw" ;;
        *) echo "$work/$1.raw" ;;
    esac
}

# time_views TEST: $repeat rounds of run_TEST on each view in turn (the raw
# file itself, then the two daemons' views of the image), caches dropped
# and memory settled before each; sets best[VIEW], the best wall time, and
# reader[VIEW], the reader's own CPU time in that run: work done in the
# reader's context (page cache for every page it reads, the copy out) that
# no daemon can take away.  Runs in this shell: children_cpu needs it.
declare -A best reader
time_views ()
{
    local round view t0 c0 wall
    best=() reader=()
    for round in $(seq "$repeat"); do
        for view in raw sparsefs qsd; do
            drop_caches
            settle_memory "$settle_mib"
            children_cpu
            c0=$children
            t0=$(now)
            "run_$1" "$(view_file $view)" > /dev/null
            wall=$(seconds_since "$t0")
            children_cpu
            if [ -z "${best[$view]:-}" ] || is_less "$wall" "${best[$view]}"; then
                best[$view]=$wall
                reader[$view]=$(echo "$children - $c0" | bc -l)
            fi
        done
    done
}

# report FORMAT TEST: a line of the table from time_views.
report ()
{
    printf '%-6s %-20s %8.2fs %8.2fs %8.2fs %6s %10.2fs %6s\n' "$1" "$2" \
        "${best[raw]}" "${best[sparsefs]}" "${best[qsd]}" \
        "$(ratio "${best[sparsefs]}" "${best[qsd]}")" "${reader[sparsefs]}" \
        "$(ratio "${reader[sparsefs]}" "${best[qsd]}")"
}

# per_gib SECONDS: SECONDS per GiB of the file system's data.
per_gib () { echo "scale=3; $1 * 1024 / $data_mib" | bc -l; }

# fio_iops FILE: random 4 KiB O_DIRECT reads per second.
fio_iops ()
{
    drop_caches
    fio --name=rand --filename="$1" --readonly --rw=randread --bs=4k --direct=1 \
        --ioengine=psync --numjobs=4 --runtime="$fio_seconds" --time_based \
        --group_reporting --output-format=json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["read"]["iops"])'
}

printf '%-6s %-20s %9s %9s %9s %6s %11s %6s\n' format test "raw file" sparsefs \
    qemu ratio "reader cpu" floor
declare -A cp_per_gib cat_per_gib
for format in $images; do
    image=$work/$(bench_image $format)
    mount_sparsefs "$image" "$work/sparsefs.raw"
    mount_qsd "$image" "$work/qsd.raw" "$(bench_format $format)"
    cmp "$work/sparsefs.raw" "$work/qsd.raw" ||
        { echo "bench-sparsefs.sh: the two views of $image differ" >&2; exit 1; }

    time_views cp
    report $format "cp --sparse=always"
    cp_per_gib[$format]=$(per_gib "${best[sparsefs]}")
    time_views cat
    report $format "dense cat"
    cat_per_gib[$format]=$(per_gib "${best[sparsefs]}")

    ours=$(fio_iops "$work/sparsefs.raw")
    theirs=$(fio_iops "$work/qsd.raw")
    printf '%-6s %-20s %9s %7.0f/s %7.0f/s %6s\n' $format "fio randread 4k" "" \
        "$ours" "$theirs" "$(ratio "$theirs" "$ours")"

    unmount "$work/sparsefs.raw" "$work/sparsefs.pid"
    unmount "$work/qsd.raw" "$work/qsd.pid"
done
if [ -n "${cp_per_gib[vhdx]:-}" ] && [ -n "${cp_per_gib[plain]:-}" ]; then
    for test in cp cat; do
        declare -n of=${test}_per_gib
        echo "vhdx: sparsefs $test ${of[vhdx]} s/GiB of data, plain qcow2" \
             "${of[plain]} s/GiB: no slower: $(is_less "${of[plain]}" "${of[vhdx]}" &&
             echo NO || echo yes)"
        unset -n of
    done
fi
echo "(best of $repeat rounds; raw file: the same command on the file system's raw"
echo " file; ratio: sparsefs / qemu (fio: of 1/IOPS); reader cpu: cp's or cat's"
echo " own CPU time through sparsefs; floor: that over qemu's time, the best"
echo " ratio any daemon could reach here)"
