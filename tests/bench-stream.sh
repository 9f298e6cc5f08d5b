#!/bin/bash
# Benchmark (not part of make check): write an image served over HTTP on
# 127.0.0.1 (nginx) onto a loop device over a tmpfs file, four ways:
#   url      sparsecopy http://...                (streamed)
#   pipe     curl ... | sparsecopy -               (streamed)
#   scratch  curl -o FILE, then qemu-img convert -n -O raw -t none FILE
#            (what import pipelines do today: the whole image staged first)
#   local    sparsecopy FILE                       (the image already local)
# for a 4 GiB ext4 image (mkfs.ext4 -d from a real folder, as in
# bench-sparsecopy.sh) as plain, zlib and zstd qcow2.  Prints seconds, the
# ratios to the scratch way and to the local copy, the peak RSS of the
# largest process of each way, and whether the targets are met: streamed
# <= 0.5x the scratch way, streamed <= 1.15x the local copy.
#
# Below each image, its floors, timed the same way (best of the rounds):
#   writer   bench-write-floor.py: the image's data extents (qemu-img map)
#            from the raw file onto a fresh loop device, O_DIRECT, in
#            sparsecopy's request size and number of requests in flight,
#            nothing else: no copy onto that device ends sooner;
#   curl     the download alone, into /dev/null: no streamed copy ends
#            sooner;
#   both     the curl floor and the local copy at once, sharing the
#            cores: a streamed copy does the work of both (download,
#            decode, writes), so on a machine whose cores they fill, it
#            ends no sooner.  This is the URL way's floor: the 1.15x target
#            against the local copy, with the download's own share in it;
#   piped    the same, with the download going through a pipe, into a
#            reader that only empties it (1 MiB pipe, 1 MiB reads, as
#            sparsecopy's), beside the local copy: the pipe way also pays
#            for the pipe's copies and its reader's wake-ups, so this is
#            its floor;
#   decode   sparsecopy's own CPU time (user + system) in the local copy
#            over the cores: the engine's share, decompression included.
#
# Then peak memory against image size: two 16 GiB qcow2 images piped to
# sparsecopy (default --stream-buffer) under /usr/bin/time -v, one with
# BENCH_MEMORY_DATA of 64 KiB clusters spread over it, one that also has
# BENCH_MEMORY_LATE of data before the L2 table that maps them (held in the
# stream buffer); and a 1 MiB image for the constant.  Peak RSS should be
# the constant plus what the buffer holds, whatever the size.
#
# Usage: bench-stream.sh [SPARSECOPY]
# Environment: BENCH_TREE (default /usr/share), BENCH_FS_SIZE (default 4G),
# BENCH_RUNS (default 3 rounds; each way's best is kept; see
# bench-functions.sh), BENCH_MEMORY_DATA (default 2G), BENCH_MEMORY_LATE
# (default 192M), BENCH_ONLY=memory (the memory part alone) or
# BENCH_ONLY=ways (the table of ways alone), BENCH_IMAGES (the images of
# the table, default "plain zlib zstd").  Needs root,
# nginx, curl, qemu-img, qemu-io, about 3 x the tree's size of memory.
set -euo pipefail

srcdir=$(dirname "$0")
. "$srcdir/bench-functions.sh"
fail () { echo "bench: $*" >&2; exit 1; }
. "$srcdir/sparsecopy-functions.sh"

sparsecopy=${1:-${SPARSECOPY:-$(dirname "$0")/../src/sparsecopy/sparsecopy}}
tree=${BENCH_TREE:-/usr/share}
fs_size=${BENCH_FS_SIZE:-4G}
runs=${BENCH_RUNS:-3}

for tool in qemu-img nginx curl mkfs.ext4 losetup python3; do
    command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$sparsecopy" ] || { echo "bench: no $sparsecopy (build first)" >&2; exit 1; }
sparsecopy=$(realpath "$sparsecopy")

work=$(mktemp -d /tmp/bench-stream.XXXXXX)
nginx_pid=
loop=
cleanup ()
{
    [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
    [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
    umount -l "$work" 2>/dev/null || true
    rmdir "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=16G bench-stream "$work"
mkdir "$work/www"

# memory_table: peak RSS of piped copies of 16 GiB images (see the top).
memory_table ()
{
    local data late name image rss
    data=$(numfmt --from=iec "${BENCH_MEMORY_DATA:-2G}")
    late=$(numfmt --from=iec "${BENCH_MEMORY_LATE:-192M}")
    echo "== memory: 16 GiB images, $data bytes of data spread, $late before their L2 table" >&2
    scattered_image "$work/small.qcow2" 1048576 1
    scattered_image "$work/scattered.qcow2" $((16 << 30)) $(( data / 65536 ))
    scattered_image "$work/late.qcow2" $((16 << 30)) $(( data / 65536 )) "$late"
    printf "%-10s %12s %12s %14s\n" image "virtual" "file MiB" "peak RSS MiB"
    for name in small scattered late; do
        image=$work/$name.qcow2
        rm -f "$work/out"
        cat "$image" | /usr/bin/time -v -o "$work/time" "$sparsecopy" - "$work/out" ||
            fail "$name: sparsecopy failed"
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
        printf "%-10s %12s %12d %14d\n" "$name" \
            "$(qemu-img info --output=json "$image" | python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])')" \
            $(( $(stat -c %s "$image") / 1048576 )) $(( rss / 1024 ))
        rm -f "$work/out" "$image"
    done
    echo "(peak RSS: /usr/bin/time -v of sparsecopy; --stream-buffer 256M)"
}
if [ "${BENCH_ONLY:-}" = memory ]; then
    memory_table
    exit 0
fi

make_bench_images "$work" "$work/www"
settle_mib=$(( data * 2 / 1048576 ))

port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$(dirname "$0")/serve-nginx.sh" "$work/www" "$work/nginx" "$port" &
nginx_pid=$!
for _ in $(seq 100); do
    curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/plain.qcow2" && break
    sleep 0.1
done

# Standard input to its end, as sparsecopy reads a pipe (input-fd.c).
drain_pipe='import fcntl, sys
fcntl.fcntl(0, fcntl.F_SETPIPE_SZ, 1 << 20)
buf = bytearray(1 << 20)
while sys.stdin.buffer.raw.readinto(buf):
    pass'

# run_way WAY IMAGE: the command line of WAY writing IMAGE to $loop.
run_way ()
{
    local url=http://127.0.0.1:$port/$2.qcow2
    case $1 in
        url) "$sparsecopy" "$url" "$loop" ;;
        pipe) curl -sf "$url" | "$sparsecopy" - "$loop" ;;
        scratch) curl -sf -o "$work/download.qcow2" "$url"
                 qemu-img convert -n -O raw -t none "$work/download.qcow2" \
                     "$loop"
                 rm -f "$work/download.qcow2" ;;
        local) "$sparsecopy" "$work/www/$2.qcow2" "$loop" ;;
        writer) python3 "$srcdir/bench-write-floor.py" "$work/fs.raw" \
                    "$work/$2.map" "$loop" $((4 << 20)) "$jobs" ;;
        curl) curl -sf -o /dev/null "$url" ;;
        both) curl -sf -o /dev/null "$url" &
              run_way local "$2"
              wait $! ;;
        piped) curl -sf "$url" | python3 -c "$drain_pipe" &
               run_way local "$2"
               wait $! ;;
    esac
}

# time_once WAY IMAGE: one timed run onto a fresh target; sets $wall, $rss
# (KiB: the peak RSS of the largest process of the way) and $cpu (user +
# system seconds of all its processes).  Checks the result.
time_once ()
{
    local t0 usage
    fresh_target
    settle_memory "$settle_mib"
    drop_caches
    export -f run_way
    export sparsecopy port work loop srcdir jobs drain_pipe
    t0=$(now)
    usage=$(python3 -c 'import resource, subprocess, sys
subprocess.run(["bash", "-c", "run_way \"$@\"", "-"] + sys.argv[1:],
               check=True, stderr=open(sys.argv[3], "w"))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_maxrss, u.ru_utime + u.ru_stime)' \
        "$1" "$2" "$work/stderr") ||
        { echo "bench: $1 $2 failed:" >&2; cat "$work/stderr" >&2; exit 1; }
    wall=$(seconds_since "$t0")
    read -r rss cpu <<< "$usage"
    case $1 in
        writer|curl) ;;         # floors that write no image
        *) cmp "$work/fs.raw" "$loop" ||
               { echo "bench: $1 wrote a wrong image" >&2; exit 1; } ;;
    esac
}

# floor_row NAME SECONDS KIND TEXT: a floor's line of the table of $image.
floor_row ()
{
    printf "%-6s %-8s %9.2f %8.2fx %7.2fx   (%s floor: %s)\n" "$image" "$1" \
        "$2" "$(ratio "$2" "${seconds[scratch]}")" \
        "$(ratio "$2" "${seconds[local]}")" "$3" "$4"
}

ways="url pipe scratch local"
floors="writer curl both piped"
jobs=$(( $(nproc) > 4 ? $(nproc) : 4 ))  # sparsecopy's default -j
printf "%-6s %-8s %9s %9s %8s %12s\n" image way seconds "/scratch" "/local" \
    "peak RSS MiB"
for image in ${BENCH_IMAGES:-plain zlib zstd}; do
    declare -A seconds=() rsses=() cpus=()
    qemu-img map --output=json "$work/www/$image.qcow2" > "$work/$image.map"
    for round in $(seq "$runs"); do
        for way in $ways $floors; do
            time_once "$way" "$image"
            if [ -z "${seconds[$way]:-}" ] || is_less "$wall" "${seconds[$way]}"; then
                seconds[$way]=$wall
                rsses[$way]=$rss
                cpus[$way]=$cpu
            fi
        done
    done
    for way in $ways; do
        printf "%-6s %-8s %9.2f %8.2fx %7.2fx %12d\n" "$image" "$way" \
            "${seconds[$way]}" \
            "$(ratio "${seconds[$way]}" "${seconds[scratch]}")" \
            "$(ratio "${seconds[$way]}" "${seconds[local]}")" \
            $(( ${rsses[$way]} / 1024 ))
    done
    floor_row writer "${seconds[writer]}" writer \
        "the image's data alone onto the loop device"
    floor_row curl "${seconds[curl]}" reader "the download alone, into /dev/null"
    floor_row both "${seconds[both]}" url "the download beside the local copy"
    floor_row piped "${seconds[piped]}" pipe \
        "the download through a pipe beside the local copy"
    floor_row decode "$(echo "${cpus[local]} / $(nproc)" | bc -l)" reader \
        "sparsecopy's CPU seconds in the local copy over $(nproc) cores"
    declare -A floor_of=([url]=both [pipe]=piped)
    for way in url pipe; do
        echo "$image $way: <= 0.5x scratch: $(is_less "$(echo "0.5 * ${seconds[scratch]}" | bc -l)" "${seconds[$way]}" && echo NO || echo yes);" \
             "<= 1.15x local: $(is_less "$(echo "1.15 * ${seconds[local]}" | bc -l)" "${seconds[$way]}" && echo NO || echo yes);" \
             "$(ratio "${seconds[$way]}" "${seconds[${floor_of[$way]}]}")x its floor (${floor_of[$way]})"
    done
    unset seconds rsses cpus
done
echo "(image size $size, data $data; seconds: best of $runs rounds; peak RSS:"
echo " the largest process of the way; floors: see the top of $(basename "$0"))"

[ "${BENCH_ONLY:-}" = ways ] || memory_table
