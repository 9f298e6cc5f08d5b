# Shared helpers for the benchmark scripts (bench-*.sh; not part of
# make check).  Source it after `set -euo pipefail`.
#
# Each tool is timed in rounds: every round runs every tool once, one after
# the other, so that a slow spell of the machine hits all of them alike, and
# the best round of each tool is kept.  Before each timed run:
#
#   drop_caches        the page caches are emptied (reads start cold);
#   settle_memory MIB  MIB of memory is written and freed again.  A virtual
#                      machine hands guest pages that were free for a while
#                      back to its host; the next first touch of such a page
#                      costs more than copying into it.  Whichever run came
#                      first after a pause paid for it (up to 5x the time of
#                      the same run a moment later).  Touching the memory
#                      first gives every run the same, recently used pages.

drop_caches ()
{
    sync
    echo 3 > /proc/sys/vm/drop_caches
}

settle_memory ()
{
    local scratch
    scratch=$(mktemp /dev/shm/bench-settle.XXXXXX)
    dd if=/dev/zero of="$scratch" bs=1M count="$1" status=none
    rm -f "$scratch"
}

# now: seconds since the epoch, with microseconds (no program started).
now () { local t=$EPOCHREALTIME; echo "${t/,/.}"; }

# seconds_since T0: wall seconds from T0 (a `now`) to now.
seconds_since () { echo "$(now) - $1" | bc -l; }

# kernel_worker_ns: nanoseconds on a CPU so far, summed over the kernel's
# worker threads (kworker/*): the loop driver writes into its backing file
# in one of them, so this is the device's share of a copy.
kernel_worker_ns ()
{
    local sum=0 task name ns
    for task in /proc/[0-9]*; do
        # A task may end meanwhile: the redirection's own message is hidden.
        { read -r name < "$task/comm"; } 2>/dev/null || continue
        case $name in
            kworker*) { read -r ns _ < "$task/schedstat"; } 2>/dev/null &&
                          sum=$(( sum + ns )) ;;
        esac
    done
    echo "$sum"
}

# children_cpu: user + system seconds of the calling shell's waited-for
# children so far, in $children.  `times` must run in the shell that ran
# the tools, not in $(...), which has no children of its own: it writes to
# a file in the script's $work folder.
children_cpu ()
{
    times > "$work/times"
    children=$(tail -1 "$work/times" |
               awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
                      print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}

# is_less A B: A < B, as decimal numbers.
is_less () { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }

# ratio A B: A / B with two decimals.
ratio () { echo "scale=2; $1 / $2" | bc -l; }

# FUSE views of one image over a regular file: sparsefs ($sparsefs) and
# qemu-storage-daemon's FUSE export, their pid files in $work.
wait_until () { local i; for i in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }
is_fuse () { findmnt -n -M "$1" -o FSTYPE | grep -q '^fuse'; }

mount_sparsefs ()       # IMAGE FILE
{
    : > "$2"
    "$sparsefs" --pidfile="$work/sparsefs.pid" "$1" "$2"
    wait_until is_fuse "$2"
}

mount_qsd ()            # IMAGE FILE [FORMAT]  (qemu's driver; default qcow2)
{
    : > "$2"
    qemu-storage-daemon \
        --blockdev driver=file,node-name=file,filename="$1",read-only=on \
        --blockdev driver="${3:-qcow2}",node-name=image,file=file,read-only=on \
        --export type=fuse,id=export,node-name=image,mountpoint="$2",writable=off \
        --pidfile "$work/qsd.pid" --daemonize
    wait_until is_fuse "$2"
}

# unmount FILE PIDFILE: unmount, then give the daemon 3 s to end
# (qemu-storage-daemon 7.2 does not exit after an external unmount: it
# spins until killed).
unmount ()
{
    local pid i
    pid=$(cat "$2")
    fusermount3 -u "$1"
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "$(basename "$0"): $(basename "$1" .raw) still running 3 s after the unmount: killed" >&2
    kill "$pid" 2>/dev/null || true
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

# fresh_target: a loop device over a new, empty backing file $work/target
# of $size bytes (a fresh thin volume), the same for every tool; the
# previous one ($loop) is detached.  Runs in the script's shell, not in
# $(...): $loop is kept for its cleanup.
fresh_target ()
{
    [ -z "$loop" ] || losetup -d "$loop"
    rm -f "$work/target"
    truncate -s "$size" "$work/target"
    loop=$(losetup -f --show "$work/target")
}

# make_bench_images RAW_DIR IMAGE_DIR [EXTRA...]: the benchmarks' image, an
# ext4 file system of $fs_size made with `mkfs.ext4 -d` from the folder $tree
# (RAW_DIR/fs.raw), and the same as plain, zlib and zstd qcow2
# (IMAGE_DIR/plain.qcow2, zlib.qcow2, zstd.qcow2), and, for each EXTRA a
# bench opts in to, as
#   vmdk   streamOptimized VMDK (IMAGE_DIR/vmdk.vmdk)
#   vhdx   dynamic VHDX         (IMAGE_DIR/vhdx.vhdx)
#   vdi    dynamic VDI          (IMAGE_DIR/vdi.vdi)
#   vhd    dynamic VHD          (IMAGE_DIR/vhd.vhd; its size the raw file's)
# Sets $size (bytes) and $data (the bytes the file system allocates).
# bench_image NAME and bench_format NAME give an image's file name and its
# qemu driver.
make_bench_images ()
{
    local type extra
    echo "== image: ext4 of $fs_size from $tree" >&2
    mkfs.ext4 -q -d "$tree" "$1/fs.raw" "$fs_size"
    size=$(stat -c %s "$1/fs.raw")
    data=$(( $(stat -c %b "$1/fs.raw") * 512 ))
    qemu-img convert -O qcow2 -f raw "$1/fs.raw" "$2/plain.qcow2"
    for type in zlib zstd; do
        qemu-img convert -W -m 16 -c -O qcow2 -o compression_type=$type -f raw \
            "$1/fs.raw" "$2/$type.qcow2"
    done
    for extra in "${@:3}"; do
        case $extra in
            vmdk) qemu-img convert -O vmdk -o subformat=streamOptimized -f raw \
                      "$1/fs.raw" "$2/$(bench_image vmdk)" ;;
            vhdx) qemu-img convert -O vhdx -o subformat=dynamic -f raw \
                      "$1/fs.raw" "$2/$(bench_image vhdx)" ;;
            vdi) qemu-img convert -O vdi -f raw "$1/fs.raw" "$2/$(bench_image vdi)" ;;
            vhd) qemu-img convert -O vpc -o subformat=dynamic,force_size=on -f raw \
                     "$1/fs.raw" "$2/$(bench_image vhd)" ;;
            *) echo "make_bench_images: no image kind $extra" >&2; return 1 ;;
        esac
    done
    echo "== size $size, data $data bytes; images: $(cd "$2" &&
         du -h $(for type in plain zlib zstd "${@:3}"; do bench_image $type; done) |
         tr '\t\n' ': ')" >&2
}

bench_image () { case $1 in vmdk|vhdx|vdi|vhd) echo "$1.$1" ;; *) echo "$1.qcow2" ;; esac; }
bench_format () { case $1 in vmdk|vhdx|vdi) echo "$1" ;; vhd) echo vpc ;; *) echo qcow2 ;; esac; }
