#!/bin/bash
# Benchmark (not part of make check): write a realistic image into an RBD
# image of a one-host Ceph cluster (tests/ceph-functions.sh: one memstore
# OSD on 127.0.0.1) with sparsecopy and its peers, side by side:
#   sparsecopy IMG rbd:rbd/x
#   qemu-img convert -O raw IMG rbd:rbd/x          (qemu-block-extra)
#   qemu-img convert -O raw IMG x.raw; rbd import x.raw rbd/x  (two steps)
# for the image as plain, zlib and zstd qcow2 (an ext4 file system made
# with `mkfs.ext4 -d` from a real folder, as bench-sparsecopy.sh does).
# Each run writes a new image, checked with `rbd export` against the raw
# file, and removed after; prints seconds, the ratio to the best peer and
# `rbd du`'s USED (whole objects).
#
# Usage: bench-rbd.sh [SPARSECOPY]
# Environment: BENCH_TREE (default /usr/share), BENCH_FS_SIZE (default 4G),
# BENCH_RUNS (default 1; each tool's best is kept), BENCH_IMAGES (default
# "plain zlib zstd").
# Memory: memstore keeps every object in RAM (the OSD holds the image's
# data, about twice over while it settles), and the images sit on a tmpfs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sparsecopy=${1:-${SPARSECOPY:-$here/../src/sparsecopy/sparsecopy}}
tree=${BENCH_TREE:-/usr/share}
fs_size=${BENCH_FS_SIZE:-4G}
runs=${BENCH_RUNS:-1}

for tool in qemu-img mkfs.ext4 ceph-mon ceph-osd rbd bc; do
    command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
[ -x "$sparsecopy" ] || { echo "bench: no $sparsecopy (build first)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-rbd.XXXXXX)
mount -t tmpfs -o size=16G bench-rbd "$work"
# functions.sh: scratch space under $builddir, cleanup hooks (the cluster's
# daemons, then the tmpfs).
builddir=$work srcdir=$here
. "$here/functions.sh"
. "$here/ceph-functions.sh"
cleanup_fn rmdir "$work"
cleanup_fn umount -l "$work"
. "$here/bench-functions.sh"

make_bench_images "$work" "$work"

# Each image is removed after its run, so the OSD holds one at a time.  A
# cap of 12 GiB left the OSD dead at start (Ceph 16.2); 3 GiB works.
CEPH_MEMSTORE_BYTES=$(( 3 << 30 )) start_ceph_cluster
echo "== cluster up: $CEPH_CONF" >&2

# run_tool TOOL IMAGE: TOOL writes IMAGE into the new RBD image rbd/x.
run_tool ()
{
    case $1 in
        sparsecopy) "$sparsecopy" "$2" rbd:rbd/x 2>/dev/null ;;
        qemu-img) qemu-img convert -O raw "$2" "rbd:rbd/x:conf=$CEPH_CONF" ;;
        two-step) qemu-img convert -O raw "$2" "$work/x.raw"
                  rbd import --no-progress "$work/x.raw" rbd/x
                  rm -f "$work/x.raw" ;;
    esac
}

# time_once TOOL IMAGE: one timed run; sets $wall and $used, checks the
# image, removes it.
time_once ()
{
    local t0
    t0=$(now)
    run_tool "$1" "$2"
    wall=$(seconds_since "$t0")
    used=$(rbd du --format json rbd/x | jq '.images[0].used_size')
    rbd export --no-progress rbd/x - 2>/dev/null | cmp - "$work/fs.raw" ||
        { echo "bench: $1 wrote a wrong image" >&2; exit 1; }
    rbd rm --no-progress rbd/x
}

# The OSD's first image of this size is slow whoever writes it: memstore
# then takes memory the machine has not handed it before (its first touch
# of those pages; a first sparsecopy run measured 17.0 s, 10.8 s once the
# OSD had held an image).  One untimed import first, so that no tool pays
# for it.
rbd import --no-progress "$work/fs.raw" rbd/x
rbd rm --no-progress rbd/x

tools="sparsecopy qemu-img two-step"
printf "%-6s %-11s %9s %10s %14s\n" image tool seconds "/best peer" "rbd du used"
for image in ${BENCH_IMAGES:-plain zlib zstd}; do
    declare -A seconds=() useds=()
    for _ in $(seq "$runs"); do
        for tool in $tools; do
            time_once "$tool" "$work/$image.qcow2"
            if [ -z "${seconds[$tool]:-}" ] || is_less "$wall" "${seconds[$tool]}"; then
                seconds[$tool]=$wall
                useds[$tool]=$used
            fi
        done
    done
    best=${seconds[qemu-img]}
    is_less "${seconds[two-step]}" "$best" && best=${seconds[two-step]}
    for tool in $tools; do
        printf "%-6s %-11s %9.2f %9.2fx %14s\n" "$image" "$tool" \
            "${seconds[$tool]}" "$(ratio "${seconds[$tool]}" "$best")" \
            "${useds[$tool]}"
    done
    unset seconds useds
done
echo "(image size $size, data $data; seconds: best of $runs; /best peer: over"
echo " the faster of qemu-img and the two steps; rbd du used: whole objects)"
