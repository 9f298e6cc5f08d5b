#!/bin/bash
# Benchmark (not part of make check): cost must follow the data, not the
# virtual size nor the file system the image lives on.
#
# One amount of data, 4096 scattered 64 KiB clusters (qemu-io writes at
# offsets drawn with a fixed seed), in qcow2 images of virtual size 16 GiB,
# 256 GiB, 4 TiB and 64 TiB, the image file on a tmpfs and on an ext4 file
# system (both mounted by the script).  For each it times, with page caches
# dropped and memory settled first (bench-functions.sh), best of rounds:
#   sparsecopy          onto a loop device over a sparse file of the size
#   cp --sparse=always  of the raw file through a sparsefs mount
#   du                  the first (mounting included) and a later one
# and beside them, at the peer sizes (default 4 TiB), the peers:
#   qemu-img convert -n -O raw -t none   onto the same kind of loop device
#   cp --sparse=always  through qemu-storage-daemon's FUSE export
# with peak RSS (sparsecopy, cp's reader, the sparsefs daemon).  Targets,
# at the peer sizes: sparsecopy <= 0.25x qemu-img, cp <= 0.5x the FUSE
# export, the first du <= 1 s, a later one instant.  Floors, as in the other
# bench scripts: the loop driver's kernel worker time over qemu-img's time
# (no copy finishes before the device has taken its data), cp's own CPU
# time over the export's time (no daemon takes that away), and for the
# first du the engine alone reading the image's map (imgdump info: every
# L2 table must be read once, whatever serves the count).  Every copy is
# checked against qemu-img convert's output (sparse-check.py).  Prints a
# table, and a PNG of time against size beside it when gnuplot is there.
#
# Usage: bench-scale.sh [SPARSECOPY]
# Environment: SPARSEFS, IMGDUMP, BENCH_SIZES (default "16G 256G 4T 64T"),
# BENCH_PEER_SIZES (default 4T), BENCH_FILESYSTEMS (default "tmpfs ext4"),
# BENCH_CLUSTERS (default 4096), BENCH_RUNS (default 3), BENCH_DIR (scratch
# folder, default /var/tmp), BENCH_PLOT (PNG path, default
# bench-scale.png in the current folder).
# Needs root (tmpfs, loop devices, FUSE), qemu-img, qemu-io,
# qemu-storage-daemon, mkfs.ext4, /usr/bin/time, about 4 GiB of memory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-functions.sh"

sparsecopy=${1:-${SPARSECOPY:-$here/../src/sparsecopy/sparsecopy}}
sparsefs=${SPARSEFS:-$here/../src/sparsefs/sparsefs}
imgdump=${IMGDUMP:-$here/imgdump}
sizes=${BENCH_SIZES:-16G 256G 4T 64T}
peer_sizes=${BENCH_PEER_SIZES:-4T}
filesystems=${BENCH_FILESYSTEMS:-tmpfs ext4}
clusters=${BENCH_CLUSTERS:-4096}
runs=${BENCH_RUNS:-3}
plot=${BENCH_PLOT:-$PWD/bench-scale.png}

[ "$(id -u)" = 0 ] || { echo "bench-scale.sh: needs root" >&2; exit 1; }
for tool in qemu-img qemu-io qemu-storage-daemon mkfs.ext4 losetup \
            fusermount3 python3 bc; do
    command -v $tool >/dev/null ||
        { echo "bench-scale.sh: needs $tool" >&2; exit 1; }
done
[ -x /usr/bin/time ] ||
    { echo "bench-scale.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
for program in "$sparsecopy" "$sparsefs" "$imgdump"; do
    [ -x "$program" ] || { echo "bench-scale.sh: no $program (build first: make && make -C tests imgdump)" >&2; exit 1; }
done

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/bench-scale.XXXXXX")
loop=
cleanup ()
{
    local view
    for view in sparsefs qsd; do
        if findmnt -n -M "$work/$view.raw" >/dev/null 2>&1; then
            fusermount3 -u -z "$work/$view.raw"
        fi
        if [ -s "$work/$view.pid" ]; then kill "$(cat "$work/$view.pid")" 2>/dev/null || true; fi
    done
    [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
    for fs in ext4 tmpfs mem; do
        ! findmnt -n -M "$work/$fs" >/dev/null || umount -l "$work/$fs"
    done
    rm -rf "$work"
}
trap cleanup EXIT

# The image files live on $work/tmpfs or $work/ext4; targets, copies and
# the reference raw files on $work/mem (tmpfs holds a 64 TiB sparse file,
# ext4 stops at 16 TiB).
mkdir "$work/tmpfs" "$work/ext4" "$work/mem"
mount -t tmpfs -o size=2G bench-scale "$work/tmpfs"
mount -t tmpfs -o size=3G bench-scale "$work/mem"
truncate -s 4G "$work/ext4.fs"
mkfs.ext4 -q -F "$work/ext4.fs"
mount -o loop "$work/ext4.fs" "$work/ext4"
settle_mib=$(( clusters * 64 * 2 / 1024 + 256 ))

# make_image FILE SIZE: $clusters clusters of 64 KiB at offsets drawn with
# a fixed seed, each filled with a byte of its own.
make_image ()
{
    qemu-img create -q -f qcow2 "$1" "$2"
    python3 - "$(numfmt --from=iec "$2")" "$clusters" > "$work/writes" <<'EOF'
import random, sys
size, count = int(sys.argv[1]), int(sys.argv[2])
for c in sorted(random.Random(11).sample(range(size >> 16), count)):
    print("write -P %d %d 64k" % (c % 251 + 1, c << 16))
EOF
    qemu-io -f qcow2 "$1" < "$work/writes" > /dev/null
}

# fresh_target SIZE: a loop device over a new, empty sparse file (a fresh
# thin volume), the same for every tool.
fresh_target ()
{
    [ -z "$loop" ] || losetup -d "$loop"
    rm -f "$work/mem/target"
    truncate -s "$1" "$work/mem/target"
    loop=$(losetup -f --show "$work/mem/target")
}

# peak_rss_of PIDFILE: the daemon's peak resident set so far, in KiB.
peak_rss_of () { awk '/^VmHWM/ { print $2 }' "/proc/$(cat "$1")/status"; }

# timed KIND COMMAND...: one run of COMMAND, caches dropped and memory
# settled first; sets $wall, $cpu (its user + system time), $rss (its peak
# RSS in KiB) and $device (the loop driver's kernel worker time meanwhile).
timed ()
{
    local t0 k0
    drop_caches
    settle_memory "$settle_mib"
    k0=$(kernel_worker_ns)
    t0=$(now)
    /usr/bin/time -f '%U %S %M' -o "$work/time" "$@"
    wall=$(seconds_since "$t0")
    device=$(echo "($(kernel_worker_ns) - $k0) / 1000000000" | bc -l)
    read -r user system rss < "$work/time"
    cpu=$(echo "$user + $system" | bc -l)
}

# best TOOL: keep this run in best_*[TOOL] if it is TOOL's fastest yet.
declare -A best_wall best_cpu best_rss best_device
best ()
{
    if [ -z "${best_wall[$1]:-}" ] || is_less "$wall" "${best_wall[$1]}"; then
        best_wall[$1]=$wall best_cpu[$1]=$cpu best_rss[$1]=$rss best_device[$1]=$device
    fi
}

check_copy ()           # TOOL FILE
{
    python3 "$here/sparse-check.py" cmp "$work/mem/reference.raw" "$2" ||
        { echo "bench-scale.sh: $1 wrote a wrong copy" >&2; exit 1; }
}

copy_with ()            # TOOL IMAGE SIZE
{
    local round
    for round in $(seq "$runs"); do
        fresh_target "$3"
        case $1 in
            sparsecopy) timed "$sparsecopy" "$2" "$loop" ;;
            qemu-img) timed qemu-img convert -n -O raw -t none "$2" "$loop" ;;
        esac
        best "$1"
        [ "$round" -gt 1 ] || check_copy "$1" "$work/mem/target"
    done
    losetup -d "$loop"
    loop=
    rm -f "$work/mem/target"
}

cp_through ()           # TOOL VIEW
{
    local round
    for round in $(seq "$runs"); do
        timed cp --sparse=always "$2" "$work/mem/copy"
        best "$1"
        [ "$round" -gt 1 ] || check_copy "$1" "$work/mem/copy"
        rm -f "$work/mem/copy"
    done
}

# du through a fresh sparsefs mount: the first one (the mount included:
# the daemon may measure at its first getattr) and a later one.
du_sparsefs ()          # IMAGE
{
    local t0 bytes
    t0=$(now)
    mount_sparsefs "$1" "$work/sparsefs.raw"
    bytes=$(du -B1 "$work/sparsefs.raw" | cut -f1)
    first_du=$(seconds_since "$t0")
    # A later du is answered from what the daemon remembers: the mean of
    # ten, so that starting du itself does not hide it.
    t0=$(now)
    for _ in 1 2 3 4 5 6 7 8 9 10; do du -B1 "$work/sparsefs.raw" > /dev/null; done
    later_du=$(echo "$(seconds_since "$t0") / 10" | bc -l)
    [ "$bytes" = $(( clusters * 65536 )) ] ||
        { echo "bench-scale.sh: du says $bytes bytes, not $(( clusters * 65536 ))" >&2; exit 1; }
}

# The first du's floor: the engine alone measuring the image, caches
# dropped as before the du; in $du_floor.
du_floor ()             # IMAGE
{
    local t0
    drop_caches
    settle_memory "$settle_mib"
    t0=$(now)
    "$imgdump" --cache 64M info "$1" > /dev/null
    du_floor=$(seconds_since "$t0")
}

is_peer_size () { case " $peer_sizes " in *" $1 "*) return 0 ;; esac; return 1; }

row ()                  # FS SIZE TOOL PEER FLOOR_NOTE
{
    local peer=$4 vs=- floor=-
    if [ -n "$peer" ] && [ -n "${best_wall[$peer]:-}" ]; then
        vs=$(ratio "${best_wall[$3]}" "${best_wall[$peer]}")x
        case $3 in
            sparsecopy) floor=$(ratio "${best_device[$3]}" "${best_wall[$peer]}")x ;;
            cp-sparsefs) floor=$(ratio "${best_cpu[$3]}" "${best_wall[$peer]}")x ;;
        esac
    fi
    printf '%-6s %-6s %-14s %9.2f %8.2f %9s %8s %8s\n' "$1" "$2" "$3" \
        "${best_wall[$3]}" "${best_cpu[$3]}" "${best_rss[$3]}" "$vs" "$floor"
    echo "$1 $2 $3 ${best_wall[$3]} ${best_rss[$3]}" >> "$work/curve"
}

verdicts ()             # FS SIZE
{
    echo "$1 $2 targets: sparsecopy <= 0.25x qemu-img:" \
         "$(is_less "$(echo "0.25 * ${best_wall[qemu-img]}" | bc -l)" "${best_wall[sparsecopy]}" && echo NO || echo yes);" \
         "cp <= 0.5x FUSE export:" \
         "$(is_less "$(echo "0.5 * ${best_wall[cp-qsd]}" | bc -l)" "${best_wall[cp-sparsefs]}" && echo NO || echo yes);" \
         "first du <= 1 s: $(is_less 1 "$first_du" && echo NO || echo yes);" \
         "later du instant (< 0.1 s): $(is_less "$later_du" 0.1 && echo yes || echo NO)" >> "$work/verdicts"
}

printf '%-6s %-6s %-14s %9s %8s %9s %8s %8s\n' fs size tool seconds "cpu s" \
    "peak KiB" "/peer" floor
for fs in $filesystems; do
    for size in $sizes; do
        image=$work/$fs/image.qcow2
        echo "== $fs $size: making the image" >&2
        make_image "$image" "$size"
        qemu-img convert -O raw "$image" "$work/mem/reference.raw"
        best_wall=() best_cpu=() best_rss=() best_device=()

        copy_with sparsecopy "$image" "$size"
        is_peer_size "$size" && copy_with qemu-img "$image" "$size"

        du_floor "$image"
        du_sparsefs "$image"
        cp_through cp-sparsefs "$work/sparsefs.raw"
        daemon_rss=$(peak_rss_of "$work/sparsefs.pid")
        unmount "$work/sparsefs.raw" "$work/sparsefs.pid"
        rm -f "$work/sparsefs.pid"
        if is_peer_size "$size"; then
            mount_qsd "$image" "$work/qsd.raw"
            cp_through cp-qsd "$work/qsd.raw"
            unmount "$work/qsd.raw" "$work/qsd.pid"
            rm -f "$work/qsd.pid"
        fi

        row "$fs" "$size" sparsecopy "$(is_peer_size "$size" && echo qemu-img)"
        is_peer_size "$size" && row "$fs" "$size" qemu-img ""
        row "$fs" "$size" cp-sparsefs "$(is_peer_size "$size" && echo cp-qsd)"
        is_peer_size "$size" && row "$fs" "$size" cp-qsd ""
        printf '%-6s %-6s %-14s %9.2f %8s %9s   (floor: imgdump info %.2f s; later du %.3f s; sparsefs daemon peak %s KiB)\n' \
            "$fs" "$size" "du first" "$first_du" - - "$du_floor" "$later_du" "$daemon_rss"
        echo "$fs $size du $first_du $daemon_rss" >> "$work/curve"
        is_peer_size "$size" && verdicts "$fs" "$size"
        rm -f "$image" "$work/mem/reference.raw"
    done
done
cat "$work/verdicts" 2>/dev/null || true
echo "(seconds: best of $runs rounds, caches dropped; cpu s: the tool's own user +"
echo " system time; peak KiB: its peak RSS (du: the daemon's); /peer: over"
echo " qemu-img convert -t none, or cp through qemu-storage-daemon's FUSE export;"
echo " floor: the loop driver's kernel worker time (sparsecopy) or cp's own CPU"
echo " time (cp) over the peer's time, the best ratio this machine allows;"
echo " $clusters clusters of 64 KiB in every image; targets and copies on tmpfs)"

if command -v gnuplot >/dev/null; then
    python3 - "$work/curve" "$work/plot.dat" <<'EOF'
import sys
units = {"G": 1, "T": 1024}
rows = [line.split() for line in open(sys.argv[1])]
with open(sys.argv[2], "w") as out:
    for fs, tool in sorted({(r[0], r[2]) for r in rows}):
        for r in rows:
            if (r[0], r[2]) == (fs, tool):
                out.write(f"{int(r[1][:-1]) * units[r[1][-1]]} {r[3]}\n")
        out.write("\n\n")
with open(sys.argv[2] + ".titles", "w") as out:
    print(" ".join(f"{fs}:{tool}" for fs, tool in
                   sorted({(r[0], r[2]) for r in rows})), file=out)
EOF
    titles=$(cat "$work/plot.dat.titles")
    gnuplot <<EOF
set terminal png size 900,600
set output "$plot"
set logscale x 2
set xlabel "virtual size (GiB), $clusters clusters of 64 KiB"
set ylabel "seconds (best of $runs)"
set key outside right
titles = '$titles'
plot for [i=0:words(titles)-1] "$work/plot.dat" index i with linespoints title word(titles, i+1)
EOF
    echo "plot: $plot"
fi
