#!/bin/bash
# A stream's peak memory does not follow the image: 16 GiB qcow2 images
# piped to sparsecopy (one with 1024 clusters of data spread over it, one
# that also has 12 MiB of data before the L2 table that maps them) stay,
# in peak RSS (/usr/bin/time -v), within what a 1 MiB image takes with the
# same options, plus the stream buffer (16M), plus 16 MiB for the requests
# in flight.  Each result must equal qemu-img convert's output.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_root
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires /usr/bin/time -V

scratch_mount tmpfs size=1G
dir=$scratch
check="python3 $srcdir/sparse-check.py"
MiB=$((1024 * 1024))
GiB=$((1024 * MiB))
buffer=$((16 * MiB))
slack=$((16 * MiB))
options=(--jobs=2 --request-size=1M --stream-buffer=$buffer)
# A sanitizer build keeps freed memory in quarantine: not here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"

# peak_rss IMAGE: sparsecopy of IMAGE, piped, into IMAGE.out; prints its
# peak RSS in bytes.
peak_rss ()
{
    rm -f "$1.out"
    cat "$1" | /usr/bin/time -v -o "$1.time" \
        "$SPARSECOPY" "${options[@]}" - "$1.out" ||
        fail "$1: sparsecopy failed"
    echo $(( $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$1.time") * 1024 ))
}

# same_as_qemu IMAGE: IMAGE.out holds qemu-img's output of IMAGE.
same_as_qemu ()
{
    qemu-img convert -O raw "$1" "$1.raw"
    $check cmp "$1.raw" "$1.out" || fail "$1: the output differs from qemu-img's"
    rm -f "$1.raw" "$1.out"
}

scattered_image "$dir/small.qcow2" $MiB 1
base=$(peak_rss "$dir/small.qcow2")
same_as_qemu "$dir/small.qcow2"
echo "1 MiB image: peak RSS $((base / 1024)) KiB"

scattered_image "$dir/scattered.qcow2" $((16 * GiB)) 1024
scattered_image "$dir/late.qcow2" $((16 * GiB)) 1024 $((12 * MiB))
for name in scattered late; do
    rss=$(peak_rss "$dir/$name.qcow2")
    same_as_qemu "$dir/$name.qcow2"
    [ "$rss" -le $((base + buffer + slack)) ] ||
        fail "$name.qcow2: peak RSS $((rss / 1024)) KiB, more than $(( (base + buffer + slack) / 1024 )) KiB"
    echo "ok: $name.qcow2 (16 GiB): peak RSS $((rss / 1024)) KiB"
done
