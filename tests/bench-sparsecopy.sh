#!/bin/bash
# Benchmark (not part of make check): write a realistic image onto a loop
# device over a tmpfs file with sparsecopy and its peers, side by side:
#   sparsecopy                       (default options)
#   qemu-img convert -n -O raw -t none            (qemu's default)
#   qemu-img convert -n -O raw -t none -m 16 -W   (qemu tuned)
#   nbdcopy from qemu-nbd            (libnbd-bin, qemu-utils)
# for the image as plain, zlib and zstd qcow2.  The image is an ext4 file
# system made with `mkfs.ext4 -d` from a real folder.  Prints seconds, the
# ratio to qemu-img's default time, the tool's CPU seconds, and how much the
# target's backing file holds afterwards (thin means about the image's
# data).
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
    command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
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

# children_cpu: user + system seconds of this shell's waited-for children
# (the tool, and qemu-nbd for nbdcopy), in $children.  `times` must run in
# this shell, not in $(...), which has no children of its own.
children_cpu ()
{
    times > "$work/times"
    children=$(tail -1 "$work/times" |
               awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
                      print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}

# time_tool TOOL IMAGE: $wall and $cpu of the fastest of $runs runs; checks
# the result.  CPU (the tool's own user + system time) is steadier than wall
# time on a busy machine, but leaves out the loop device's kernel worker.
# Runs in this shell (not in $(...)): fresh_target keeps $loop for cleanup.
time_tool ()
{
    local best= best_cpu= t0 t1 c0 c1 t i
    for i in $(seq "$runs"); do
        fresh_target
        children_cpu
        c0=$children
        t0=$(date +%s.%N)
        run_tool "$1" "$2"
        t1=$(date +%s.%N)
        children_cpu
        c1=$children
        t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
            best=$t
            best_cpu=$(echo "$c1 - $c0" | bc -l)
        fi
    done
    cmp "$work/fs.raw" "$loop" || { echo "bench: $1 wrote a wrong image" >&2; exit 1; }
    wall=$best
    cpu=$best_cpu
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

# For reference: writing as many bytes as the image has data, one 4 MiB
# O_DIRECT request at a time (the loop device's worker copies every byte
# into tmpfs; no tool can write the data faster than that worker).
fresh_target
t0=$(date +%s.%N)
dd if="$work/fs.raw" of="$loop" bs=4M count=$(( data / 4194304 )) \
    oflag=direct status=none
echo "== reference: dd of $data bytes onto a fresh target took" \
     "$(echo "$(date +%s.%N) - $t0" | bc -l | cut -c1-5) s" >&2

tools="sparsecopy qemu-img qemu-img-m16-W nbdcopy"
printf "%-6s %-16s %9s %8s %8s %16s\n" image tool seconds "/qemu" "cpu s" \
    "target allocated"
for image in plain zlib zstd; do
    declare -A seconds=() cpus=() alloc=()
    for tool in $tools; do
        time_tool "$tool" "$work/$image.qcow2"
        seconds[$tool]=$wall
        cpus[$tool]=$cpu
        alloc[$tool]=$(( $(stat -c %b "$work/target") * 512 ))
    done
    for tool in $tools; do
        printf "%-6s %-16s %9.2f %7.2fx %8.2f %16s\n" "$image" "$tool" \
            "${seconds[$tool]}" \
            "$(echo "${seconds[$tool]} / ${seconds[qemu-img]}" | bc -l)" \
            "${cpus[$tool]}" "${alloc[$tool]}"
    done
    verdict "$image" "${seconds[sparsecopy]}" "${seconds[qemu-img]}" \
        "${seconds[qemu-img-m16-W]}"
    unset seconds cpus alloc
done
echo "(image size $size, data $data; target allocated: backing file bytes)"
