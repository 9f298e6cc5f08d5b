#!/bin/bash
# A stream's compressed clusters are written in runs (stream-runs.h), onto a
# dirty loop device, each result equal to qemu-img's output:
#  - an image compressed in guest order (qemu-img convert -c): its 64
#    clusters go in 4 writes of 1 MiB, not 64 of 64 KiB (strace counts the
#    writes to the device);
#  - the same data compressed by racing coroutines (-W -m 16), clusters
#    shuffled in the file: still written in runs, sorted back;
#  - 200 clusters with a hole after each, more than the window holds: they
#    leave one by one, the lowest first, when the window is full;
#  - a stream cut in a cluster: every cluster that came whole before the cut
#    is on the target, those still waiting for their run included, and the
#    copy fails (exit 2).
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires strace -V
requires python3 --version

scratch_mount tmpfs size=512M
dir=$scratch
MiB=$((1024 * 1024))
cluster=65536

# compressible FILE BYTES: text that deflates to about 3/4 (qemu stores a
# cluster that does not shrink uncompressed).
compressible ()
{
    base64 -w 0 < <(head -c $(( $2 * 3 / 4 )) /dev/urandom) | head -c "$2" > "$1"
}

# stream_case NAME IMAGE [count]: IMAGE piped onto a dirty loop device,
# checked against qemu-img's output; with count, under strace, the writes
# to the device counted in $writes (LeakSanitizer cannot run under ptrace:
# the other cases check leaks).
stream_case ()
{
    local name=$1 image=$2 trace=()
    qemu-img convert -O raw "$image" "$dir/$name.raw"
    prepare_raw_loop "$dir/$name.raw" "$dir/$name"
    [ "${3:-}" != count ] ||
        trace=(strace -f -qq -e trace=pwrite64,pwritev,pwritev2
               -o "$dir/$name.trace")
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}${trace:+detect_leaks=0}" \
        "${trace[@]}" "$SPARSECOPY" - "$target" < "$image" ||
        fail "$name: streamed sparsecopy failed"
    check_raw_on_loop "$dir/$name.raw" "$target" "$backing" "$tail" "$name"
    detach_loop "$target" "$backing"
    writes=
    [ -z "${trace:-}" ] || writes=$(grep -c "^[0-9]* *pwrite" "$dir/$name.trace")
    echo "ok: $name${writes:+ ($writes writes)}"
}

compressible "$dir/data.raw" $((4 * MiB))
qemu-img convert -q -f raw -O qcow2 -c "$dir/data.raw" "$dir/ordered.qcow2"
stream_case ordered "$dir/ordered.qcow2" count
[ "$writes" -ge 1 ] && [ "$writes" -le 4 ] ||
    fail "ordered: 64 compressed clusters in $writes writes, not 4 runs of 1 MiB"

compressible "$dir/big.raw" $((32 * MiB))
qemu-img convert -q -W -m 16 -f raw -O qcow2 -c "$dir/big.raw" \
    "$dir/shuffled.qcow2"
stream_case shuffled "$dir/shuffled.qcow2" count
[ "$writes" -le 64 ] ||
    fail "shuffled: 512 compressed clusters in $writes writes, not in runs"

qemu-img create -q -f qcow2 "$dir/gaps-src.qcow2" $((400 * cluster))
for i in $(seq 0 199); do
    echo "write -P $(( i % 200 + 1 )) $(( 2 * i * cluster )) $cluster"
done | qemu-io -f qcow2 "$dir/gaps-src.qcow2" >/dev/null
qemu-img convert -q -O qcow2 -c "$dir/gaps-src.qcow2" "$dir/gaps.qcow2"
stream_case gaps "$dir/gaps.qcow2"

# Cut right after cluster 40 ends: clusters 32 to 40 still wait for their
# run when the stream fails.
edit="python3 $srcdir/qcow2-edit.py"
cut=$($edit "$dir/ordered.qcow2" --get "compressed_end(l2[0][40])")
status=0
head -c "$cut" "$dir/ordered.qcow2" |
    "$SPARSECOPY" - "$dir/cut.out" 2> "$dir/err" || status=$?
[ $status -eq 2 ] || fail "cut stream: exit $status, not 2"
grep -q "ended" "$dir/err" || fail "cut stream: message: $(cat "$dir/err")"
cmp -n $((41 * cluster)) "$dir/ordered.raw" "$dir/cut.out" ||
    fail "cut stream: the clusters that came before the cut are not all written"
echo "ok: cut stream, the 41 clusters before the cut written"
