#!/bin/bash
# Benchmark (not part of make check): write a realistic image onto a loop
# device over a tmpfs file with sparsecopy and its peers, side by side:
#   sparsecopy                       (default options)
#   qemu-img convert -n -O raw -t none            (qemu's default)
#   qemu-img convert -n -O raw -t none -m 16 -W   (qemu tuned)
#   nbdcopy from qemu-nbd            (libnbd-bin, qemu-utils)
# for the image as plain, zlib and zstd qcow2, streamOptimized VMDK and
# dynamic VHDX (BENCH_IMAGES picks some).  The image is an ext4 file
# system made with `mkfs.ext4 -d` from a real folder.  Prints seconds, the
# ratio to qemu-img's default time, the tool's CPU seconds, the seconds the
# loop driver's kernel worker spent copying into tmpfs meanwhile (the
# device's own share: no tool finishes sooner, so that share over qemu-img's
# time is the best ratio this machine allows), and how much the target's
# backing file holds afterwards (thin means about the image's data).
# Targets: <= 0.5x qemu-img for compressed qcow2 and streamOptimized VMDK;
# VHDX no slower than plain qcow2 per GiB of the file system's data.
#
# Usage: bench-sparsecopy.sh [SPARSECOPY]
# Environment: BENCH_TREE (default /usr/share), BENCH_FS_SIZE (default 4G),
# BENCH_RUNS (default 3 rounds of every tool; each tool's best is kept; see
# bench-functions.sh), BENCH_IMAGES (default "plain zlib zstd vmdk vhdx"; also vdi, vhd).
# Needs root (loop devices, tmpfs), about 3 x the tree's size of memory.
set -euo pipefail

. "$(dirname "$0")/bench-functions.sh"

sparsecopy=${1:-${SPARSECOPY:-$(dirname "$0")/../src/sparsecopy/sparsecopy}}
tree=${BENCH_TREE:-/usr/share}
fs_size=${BENCH_FS_SIZE:-4G}
runs=${BENCH_RUNS:-3}
images=${BENCH_IMAGES:-plain zlib zstd vmdk vhdx}

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

make_bench_images "$work" "$work" $(printf '%s\n' $images | grep -vx 'plain\|zlib\|zstd')
settle_mib=$(( data * 2 / 1048576 ))

start_nbd ()             # FILE FORMAT
{
    rm -f "$work/nbd.sock"
    qemu-nbd -r -f "$2" --shared=16 -k "$work/nbd.sock" "$1" &
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

# run_tool TOOL IMAGE: the command line of TOOL writing the image named
# IMAGE (bench_image) to $loop.
run_tool ()
{
    local file=$work/$(bench_image "$2") format=$(bench_format "$2")
    case $1 in
        sparsecopy) "$sparsecopy" "$file" "$loop" 2>/dev/null ;;
        qemu-img) qemu-img convert -n -f "$format" -O raw -t none "$file" "$loop" ;;
        qemu-img-m16-W) qemu-img convert -n -f "$format" -O raw -t none -m 16 -W \
                            "$file" "$loop" ;;
        nbdcopy) start_nbd "$file" "$format"
                 nbdcopy "nbd+unix:///?socket=$work/nbd.sock" "$loop"
                 stop_nbd ;;
    esac
}

# time_once TOOL IMAGE: one timed run of TOOL onto a fresh target; sets
# $wall, $cpu (the tool's own user + system time) and $device (the loop
# driver's kernel worker time: the device's share, which no tool avoids).
# Checks the result.  Runs in this shell, not in $(...): fresh_target keeps
# $loop for cleanup.
time_once ()
{
    local t0 c0 k0
    fresh_target
    settle_memory "$settle_mib"
    children_cpu
    c0=$children
    k0=$(kernel_worker_ns)
    t0=$(now)
    run_tool "$1" "$2"
    wall=$(seconds_since "$t0")
    device=$(echo "($(kernel_worker_ns) - $k0) / 1000000000" | bc -l)
    children_cpu
    cpu=$(echo "$children - $c0" | bc -l)
    cmp "$work/fs.raw" "$loop" || { echo "bench: $1 wrote a wrong image" >&2; exit 1; }
}

# per_gib SECONDS: SECONDS per GiB of the file system's data.
per_gib () { echo "scale=3; $1 * 1073741824 / $data" | bc -l; }

# verdict IMAGE: the goals, met or not, and the best any tool could reach
# here: the device's own time for sparsecopy's best run over qemu-img's.
verdict ()
{
    local ours=${seconds[sparsecopy]} qemu=${seconds[qemu-img]}
    echo "$1: sparsecopy <= 0.5x qemu-img: $(is_less "$(echo "0.5 * $qemu" | bc -l)" "$ours" && echo NO || echo yes);" \
         "faster than -m 16 -W: $(is_less "$ours" "${seconds[qemu-img-m16-W]}" && echo yes || echo NO);" \
         "device-bound floor: $(ratio "${devices[sparsecopy]}" "$qemu")x"
}

# For reference: writing as many bytes as the image has data, one 4 MiB
# O_DIRECT request at a time (the loop device's worker copies every byte
# into tmpfs; no tool can write the data faster than that worker).
fresh_target
t0=$(now)
dd if="$work/fs.raw" of="$loop" bs=4M count=$(( data / 4194304 )) \
    oflag=direct status=none
echo "== reference: dd of $data bytes onto a fresh target took" \
     "$(seconds_since "$t0" | cut -c1-5) s" >&2

tools="sparsecopy qemu-img qemu-img-m16-W nbdcopy"
printf "%-6s %-16s %9s %8s %8s %9s %16s\n" image tool seconds "/qemu" "cpu s" \
    "device s" "target allocated"
declare -A per_gib_of=()
for image in $images; do
    declare -A seconds=() cpus=() devices=() alloc=()
    for round in $(seq "$runs"); do
        for tool in $tools; do
            time_once "$tool" "$image"
            if [ -z "${seconds[$tool]:-}" ] || is_less "$wall" "${seconds[$tool]}"; then
                seconds[$tool]=$wall
                cpus[$tool]=$cpu
                devices[$tool]=$device
                alloc[$tool]=$(( $(stat -c %b "$work/target") * 512 ))
            fi
        done
    done
    for tool in $tools; do
        printf "%-6s %-16s %9.2f %7.2fx %8.2f %9.2f %16s\n" "$image" "$tool" \
            "${seconds[$tool]}" "$(ratio "${seconds[$tool]}" "${seconds[qemu-img]}")" \
            "${cpus[$tool]}" "${devices[$tool]}" "${alloc[$tool]}"
    done
    verdict "$image"
    per_gib_of[$image]=$(per_gib "${seconds[sparsecopy]}")
    unset seconds cpus devices alloc
done
if [ -n "${per_gib_of[vhdx]:-}" ] && [ -n "${per_gib_of[plain]:-}" ]; then
    echo "vhdx: sparsecopy ${per_gib_of[vhdx]} s/GiB of data, plain qcow2" \
         "${per_gib_of[plain]} s/GiB: no slower: $(is_less "${per_gib_of[plain]}" \
         "${per_gib_of[vhdx]}" && echo NO || echo yes)"
fi
echo "(image size $size, data $data; seconds: best of $runs rounds; device s: the"
echo " loop driver's kernel worker during that run; target allocated: backing"
echo " file bytes)"
