#!/bin/bash
# Benchmark (not part of make check): write a realistic image onto a loop
# device over a tmpfs file with sparsecopy and its peers, side by side:
#   sparsecopy                       (default options)
#   qemu-img convert -n -O raw -t none            (qemu's default)
#   qemu-img convert -n -O raw -t none -m 16 -W   (qemu tuned)
#   nbdcopy from qemu-nbd            (libnbd-bin, qemu-utils)
# for the image as plain, zlib and zstd qcow2.  The image is an ext4 file
# system made with `mkfs.ext4 -d` from a real folder.  Prints seconds, the
# ratio to qemu-img's default time, and how much the target's backing file
# holds afterwards (thin means about the image's data).
#
# Usage: bench-sparsecopy.sh [SPARSECOPY]
# Environment: BENCH_TREE (default /usr/share), BENCH_FS_SIZE (default 4G),
# BENCH_RUNS (default 3; the best time is kept).
# Needs root (loop devices, tmpfs), about 3 x the tree's size of memory.
set -euo pipefail

sparsecopy=${1:-${SPARSECOPY:-$(dirname "$0")/../src/sparsecopy/sparsecopy}}
tree=${BENCH_TREE:-/usr/share}
fs_size=${BENCH_FS_SIZE:-4G}
runs=${BENCH_RUNS:-3}

for tool in qemu-img qemu-nbd nbdcopy mkfs.ext4 losetup; do
    command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 77; }
[ -x "$sparsecopy" ] || { echo "bench: no $sparsecopy (build first)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-sparsecopy.XXXXXX)
nbd_pid=
loop=
cleanup ()
{
    [ -z "$nbd_pid" ] || kill "$nbd_pid" 2>/dev/null || true
    [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
    umount -l "$work" 2>/dev/null || true
    rmdir "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=16G bench-sparsecopy "$work"

echo "== image: ext4 of $fs_size from $tree" >&2
mkfs.ext4 -q -d "$tree" "$work/fs.raw" "$fs_size"
size=$(stat -c %s "$work/fs.raw")
data=$(( $(stat -c %b "$work/fs.raw") * 512 ))
qemu-img convert -O qcow2 -f raw "$work/fs.raw" "$work/plain.qcow2"
qemu-img convert -W -m 16 -c -O qcow2 -o compression_type=zlib -f raw \
    "$work/fs.raw" "$work/zlib.qcow2"
qemu-img convert -W -m 16 -c -O qcow2 -o compression_type=zstd -f raw \
    "$work/fs.raw" "$work/zstd.qcow2"
echo "== size $size, data $data bytes; qcow2: $(du -h "$work"/*.qcow2 | tr '\t\n' ': ')" >&2

# fresh_target: a loop device over a new, empty backing file (a fresh thin
# volume), the same for every tool.
fresh_target ()
{
    [ -z "$loop" ] || losetup -d "$loop"
    rm -f "$work/target"
    truncate -s "$size" "$work/target"
    loop=$(losetup -f --show "$work/target")
}

start_nbd ()
{
    rm -f "$work/nbd.sock"
    qemu-nbd -r -f qcow2 --shared=16 -k "$work/nbd.sock" "$1" &
    nbd_pid=$!
    for _ in $(seq 100); do [ -S "$work/nbd.sock" ] && return; sleep 0.1; done
    echo "bench: qemu-nbd did not start" >&2
    exit 1
}

# qemu-nbd exits by itself when nbdcopy disconnects; make sure it is gone.
stop_nbd ()
{
    kill "$nbd_pid" 2>/dev/null || true
    wait "$nbd_pid" 2>/dev/null || true
    nbd_pid=
}

# run_tool TOOL IMAGE: the command line of TOOL writing IMAGE to $loop.
run_tool ()
{
    case $1 in
        sparsecopy) "$sparsecopy" "$2" "$loop" 2>/dev/null ;;
        qemu-img) qemu-img convert -n -O raw -t none "$2" "$loop" ;;
        qemu-img-m16-W) qemu-img convert -n -O raw -t none -m 16 -W "$2" "$loop" ;;
        nbdcopy) start_nbd "$2"
                 nbdcopy "nbd+unix:///?socket=$work/nbd.sock" "$loop"
                 stop_nbd ;;
    esac
}

# time_tool TOOL IMAGE: best of $runs, in seconds; checks the result.
time_tool ()
{
    local best= t0 t1 t i
    for i in $(seq "$runs"); do
        fresh_target
        t0=$(date +%s.%N)
        run_tool "$1" "$2"
        t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
            best=$t
        fi
    done
    cmp "$work/fs.raw" "$loop" || { echo "bench: $1 wrote a wrong image" >&2; exit 1; }
    echo "$best"
}

# verdict IMAGE OURS QEMU QEMU_TUNED: the goals, met or not.
verdict ()
{
    local half tuned
    half=$(echo "$2 <= 0.5 * $3" | bc -l)
    tuned=$(echo "$2 < $4" | bc -l)
    echo "$1: sparsecopy <= 0.5x qemu-img: $([ "$half" = 1 ] && echo yes || echo NO);" \
         "faster than -m 16 -W: $([ "$tuned" = 1 ] && echo yes || echo NO)"
}

# The floor: writing the data alone, sequentially, with O_DIRECT.
fresh_target
t0=$(date +%s.%N)
dd if="$work/fs.raw" of="$loop" bs=4M count=$(( data / 4194304 )) \
    oflag=direct status=none
echo "== floor: writing $data bytes of data with dd took" \
     "$(echo "$(date +%s.%N) - $t0" | bc -l | cut -c1-5) s" >&2

tools="sparsecopy qemu-img qemu-img-m16-W nbdcopy"
printf "%-6s %-16s %9s %8s %16s\n" image tool seconds "/qemu" "target allocated"
for image in plain zlib zstd; do
    declare -A seconds=()
    declare -A alloc=()
    for tool in $tools; do
        seconds[$tool]=$(time_tool "$tool" "$work/$image.qcow2")
        alloc[$tool]=$(( $(stat -c %b "$work/target") * 512 ))
    done
    for tool in $tools; do
        printf "%-6s %-16s %9.2f %7.2fx %16s\n" "$image" "$tool" \
            "${seconds[$tool]}" \
            "$(echo "${seconds[$tool]} / ${seconds[qemu-img]}" | bc -l)" \
            "${alloc[$tool]}"
    done
    verdict "$image" "${seconds[sparsecopy]}" "${seconds[qemu-img]}" \
        "${seconds[qemu-img-m16-W]}"
    unset seconds alloc
done
echo "(image size $size, data $data; target allocated: backing file bytes)"
