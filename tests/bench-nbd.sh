#!/bin/bash
# Benchmark (not part of make check): write a realistic image into an NBD
# export with sparsecopy and its peers, side by side:
#   sparsecopy IMG URI
#   qemu-img convert -n -O raw IMG URI
#   nbdcopy SOURCE-URI URI       the image served by qemu-nbd (-r)
# for the image as plain, zlib and zstd qcow2 (bench-functions.sh:
# make_bench_images).  The target is a new nbdkit memory export of the
# image's size on a Unix socket for every run (empty: what a fresh thin
# volume is); after the run its content is compared with the raw file
# and its allocation read with `nbdinfo --map`.  Prints seconds (best of
# the rounds), the ratio to the best peer, and the bytes the export holds.
# Targets (issue 13): <= 0.5x the best peer on compressed images, no slower
# than the best on plain.
#
# The floor: `nbdcopy RAW-FILE URI`, the raw file (on tmpfs, nothing to
# decode) written into the same kind of export, which is nbdkit's own write
# rate.  On a virtual machine most of it is nbdkit's first touch of the
# pages it stores the data in (page faults and copies, in perf): no client
# can go below it, whatever it does on its side.
#
# Usage: bench-nbd.sh [SPARSECOPY]
# Environment: BENCH_TREE (default /usr/share), BENCH_FS_SIZE (default 4G),
# BENCH_RUNS (default 3).
# Needs root (tmpfs), nbdkit, qemu-nbd, nbdcopy, nbdinfo; memory for the
# images, the export's data and the raw file (about 4 x the tree's size).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-functions.sh"
sparsecopy=${1:-${SPARSECOPY:-$here/../src/sparsecopy/sparsecopy}}
tree=${BENCH_TREE:-/usr/share}
fs_size=${BENCH_FS_SIZE:-4G}
runs=${BENCH_RUNS:-3}

for tool in qemu-img qemu-nbd nbdkit nbdcopy nbdinfo mkfs.ext4 python3 bc; do
    command -v $tool >/dev/null || { echo "bench-nbd.sh: needs $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench-nbd.sh: needs root" >&2; exit 1; }
[ -x "$sparsecopy" ] || { echo "bench-nbd.sh: no $sparsecopy (build first)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-nbd.XXXXXX)
target_pid='' source_pid=''
stop () { [ -z "$1" ] || { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; }
cleanup ()
{
    stop "$target_pid"
    stop "$source_pid"
    umount -l "$work" 2>/dev/null || true
    rmdir "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=16G bench-nbd "$work"
make_bench_images "$work" "$work"
settle_mib=$(( data * 2 / 1048576 ))
target_uri="nbd+unix:///?socket=$work/target.sock"
source_uri="nbd+unix:///?socket=$work/source.sock"

wait_for_export () { wait_until nbdinfo --size "$1" > /dev/null 2>&1; }

# new_target: a new, empty nbdkit memory export of $size bytes.
new_target ()
{
    stop "$target_pid"
    rm -f "$work/target.sock"
    nbdkit -f -U "$work/target.sock" memory size="$size" &
    target_pid=$!
    wait_for_export "$target_uri"
}

# serve_source IMAGE: IMAGE read-only through qemu-nbd, one client after
# another.
serve_source ()
{
    stop "$source_pid"
    rm -f "$work/source.sock"
    qemu-nbd -r -t -f qcow2 -k "$work/source.sock" "$1" &
    source_pid=$!
    wait_for_export "$source_uri"
}

run_tool ()             # TOOL IMAGE
{
    case $1 in
        sparsecopy) "$sparsecopy" "$2" "$target_uri" ;;
        qemu-img) qemu-img convert -n -O raw "$2" "$target_uri" ;;
        nbdcopy) nbdcopy "$source_uri" "$target_uri" ;;
    esac
}

# check_target TOOL: the export holds the raw file's bytes; its allocated
# bytes in $held.
check_target ()
{
    rm -f "$work/check.raw"
    nbdcopy "$target_uri" "$work/check.raw"
    python3 "$here/sparse-check.py" cmp "$work/fs.raw" "$work/check.raw" ||
        { echo "bench-nbd.sh: $1 wrote a wrong copy" >&2; exit 1; }
    rm -f "$work/check.raw"
    held=$(nbdinfo --map "$target_uri" |
               awk '!($4 ~ /hole/) { sum += $2 } END { print sum + 0 }')
}

# floor: the best of $runs rounds of nbdcopy from the raw file, in $floor.
measure_floor ()
{
    local round took
    floor=''
    for round in $(seq "$runs"); do
        new_target
        drop_caches
        settle_memory "$settle_mib"
        t0=$(now)
        nbdcopy "$work/fs.raw" "$target_uri"
        took=$(seconds_since "$t0")
        if [ -z "$floor" ] || is_less "$took" "$floor"; then floor=$took; fi
    done
}

declare -A best held_by
tools="sparsecopy qemu-img nbdcopy"
measure_floor
printf 'floor (nbdcopy from the raw file): %.2f s\n' "$floor"
printf '%-6s %-11s %9s %8s %14s\n' image tool seconds "/best" "export holds"
for image in plain zlib zstd; do
    serve_source "$work/$image.qcow2"
    best=()
    for round in $(seq "$runs"); do
        for tool in $tools; do
            new_target
            drop_caches
            settle_memory "$settle_mib"
            t0=$(now)
            run_tool "$tool" "$work/$image.qcow2" > /dev/null
            took=$(seconds_since "$t0")
            if [ -z "${best[$tool]:-}" ] || is_less "$took" "${best[$tool]}"; then
                best[$tool]=$took
            fi
            if [ "$round" = 1 ]; then check_target "$tool"; held_by[$tool]=$held; fi
        done
    done
    peer=''
    for tool in qemu-img nbdcopy; do
        if [ -z "$peer" ] || is_less "${best[$tool]}" "${best[$peer]}"; then peer=$tool; fi
    done
    for tool in $tools; do
        printf '%-6s %-11s %9.2f %8s %14s\n' "$image" "$tool" "${best[$tool]}" \
            "$(ratio "${best[$tool]}" "${best[$peer]}")x" "${held_by[$tool]}"
    done
    target=1.00
    [ "$image" = plain ] || target=0.50
    echo "$image: sparsecopy <= ${target}x the best peer ($peer):" \
         "$(is_less "$(echo "$target * ${best[$peer]}" | bc -l)" "${best[sparsecopy]}" && echo NO || echo yes);" \
         "$(ratio "${best[sparsecopy]}" "$floor")x the floor"
done
echo "(image size $size, data $data; seconds: best of $runs rounds, caches dropped;"
echo " export holds: bytes nbdinfo --map shows allocated after the first round)"
