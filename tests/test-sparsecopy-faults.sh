#!/bin/bash
# Faults in the middle of a copy, each with its exit status, its message
# naming the offset, and the target's state checked against qemu-img:
#  - the target fails a write with EIO (an LD_PRELOAD shim): exit 3,
#    "write failed at offset N: Input/output error" with N the failing
#    write's offset, "the target is incomplete", everything before N copied;
#  - SIGINT midway through a slow copy (the shim delays every write):
#    exit 6, "copy stopped at offset N: Interrupt", everything before N
#    copied and flushed; the same command run again completes the target;
#  - a compressed cluster damaged in the middle of the source: exit 2 with
#    the cluster's offset, everything before it copied; once the image is
#    repaired, the same command completes the target;
#  - a backing or data file outside the image's folder, in any spelling
#    (absolute, "..", a symlink, json:, file:, nbd://): exit 2 with the
#    engine's refusal, nothing created, also with --allow-dir of an
#    unrelated folder.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/hostile-images.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version

scratch_mount tmpfs size=768M
dir=$scratch
MiB=$(( 1024 * 1024 ))
shim=$builddir/sparsecopy-refuse.so

# run_copy ENV... -- ARGS...: sparsecopy ARGS with the shim and ENV; exit
# status in $status, stderr in $dir/err (and on ours).
run_copy ()
{
    local env=()
    while [ "$1" != -- ]; do env+=("$1"); shift; done
    shift
    status=0
    env LD_PRELOAD="$shim" ASAN_OPTIONS=verify_asan_link_order=0 "${env[@]}" \
        "$SPARSECOPY" "$@" 2> "$dir/err" || status=$?
    cat "$dir/err" >&2
}

# expect_line PATTERN: stderr of the last run has a line matching PATTERN.
expect_line ()
{
    grep -Eq -e "$1" "$dir/err" || fail "stderr lacks a line matching: $1"
}

# stopped_at: the offset of "copy stopped at offset N" / "failed at offset N".
stopped_at ()
{
    sed -En 's/.* at offset ([0-9]+):.*/\1/p' "$dir/err" | head -n 1
}

# prefix_copied EXPECTED BACKING N: the first N bytes of the file behind the
# target loop device are qemu-img's (written through and flushed).
prefix_copied ()
{
    [ "$3" -eq 0 ] || cmp -n "$3" "$1" "$2" ||
        fail "$2: the first $3 bytes (before the reported offset) differ from qemu-img's output"
}

# A 64 MiB image with holes, 64 KiB clusters, compressed: runs of random
# data (which qemu stores uncompressed) and, at 33 MiB, of text.
size=$(( 64 * MiB ))
truncate -s $size "$dir/data.raw"
for at in 0 9 20 50; do
    head -c $(( 7 * MiB )) /dev/urandom |
        dd of="$dir/data.raw" bs=1M seek=$at conv=notrunc status=none
done
seq 100000000 | head -c $(( 7 * MiB )) |
    dd of="$dir/data.raw" bs=1M seek=33 conv=notrunc status=none
qemu-img convert -q -c -O qcow2 -o cluster_size=65536 "$dir/data.raw" "$dir/img.qcow2"
qemu-img convert -O raw "$dir/img.qcow2" "$dir/expected.raw"
cmp "$dir/data.raw" "$dir/expected.raw"
rm "$dir/data.raw"

# ---- EIO from the target at a chosen offset (3) ---------------------------
garbage "$dir/back.eio" $size
loop_over "$dir/back.eio"
bad=$(( 21 * MiB + 12345 ))
run_copy SPARSECOPY_EIO_AT=$bad -- --request-size=1M "$dir/img.qcow2" "$loop"
[ $status -eq 3 ] || fail "EIO: exit $status, expected 3"
# 1 MiB requests from the start of a data run at 20 MiB: the write that
# fails starts at 21 MiB.
expect_line "^sparsecopy: $loop: write failed at offset $(( 21 * MiB )): Input/output error\$"
expect_line "^sparsecopy: $loop: the target is incomplete\$"
[ "$(grep -c "write failed" "$dir/err")" = 1 ] || fail "EIO: the failure was reported more than once"
prefix_copied "$dir/expected.raw" "$dir/back.eio" $(( 21 * MiB ))
echo "ok: EIO at $bad"

# ---- SIGINT midway, then the same command again (6, then 0) -----------------
# 35 MiB of data in 64 KiB requests, each write delayed 30 ms, 4 workers:
# at least 4 s, so an interrupt once the first 2 MiB are on the target
# lands midway.
garbage "$dir/back.int" $size
loop_over "$dir/back.int"
command=("$SPARSECOPY" -j 4 --request-size=64k "$dir/img.qcow2" "$loop")
env LD_PRELOAD="$shim" ASAN_OPTIONS=verify_asan_link_order=0 \
    SPARSECOPY_WRITE_DELAY_US=30000 "${command[@]}" 2> "$dir/err" &
pid=$!
wait_for cmp -n $(( 2 * MiB )) "$dir/expected.raw" "$dir/back.int"
kill -INT $pid
status=0
timeout 10 tail --pid=$pid -f /dev/null || fail "SIGINT: still running 10 s later"
wait $pid || status=$?
cat "$dir/err" >&2
[ $status -eq 6 ] || fail "SIGINT: exit $status, expected 6"
expect_line "^sparsecopy: $loop: copy stopped at offset [0-9]+: Interrupt\$"
expect_line "^sparsecopy: $loop: the target is incomplete\$"
at=$(stopped_at)
[ "$at" -gt 0 ] && [ "$at" -lt $size ] || fail "SIGINT: stopped at $at, not midway"
cmp -s -n $size "$dir/expected.raw" "$dir/back.int" && fail "SIGINT: the copy had finished"
# Flushed: the file behind the device holds it.
prefix_copied "$dir/expected.raw" "$dir/back.int" "$at"
echo "ok: SIGINT stopped at $at of $size"
"${command[@]}"
cmp -n $size "$dir/expected.raw" "$dir/back.int" || fail "rerun after SIGINT: the target differs"
echo "ok: the same command completes the interrupted copy"

# ---- a damaged compressed cluster midway (2), then repaired (0) -------------
cp "$dir/img.qcow2" "$dir/damaged.qcow2"
cluster=$(( 33 * MiB / 65536 + 5 ))        # inside the run at 33 MiB
entry=$(python3 "$srcdir/qcow2-edit.py" "$dir/damaged.qcow2" --get "l2[0][$cluster]")
[ $(( entry >> 62 & 1 )) = 1 ] || fail "cluster $cluster is not compressed: no test"
python3 "$srcdir/qcow2-edit.py" "$dir/damaged.qcow2" \
    "u64[compressed_offset(l2[0][$cluster])]=0xffffffffffffffff"
garbage "$dir/back.src" $size
loop_over "$dir/back.src"
run_copy -- "$dir/damaged.qcow2" "$loop"
[ $status -eq 2 ] || fail "damaged source: exit $status, expected 2"
expect_line "^sparsecopy: $dir/damaged.qcow2: read failed at offset $(( cluster * 65536 )): .*does not decompress"
expect_line "^sparsecopy: $loop: the target is incomplete\$"
prefix_copied "$dir/expected.raw" "$dir/back.src" $(( cluster * 65536 ))
echo "ok: damaged cluster at $(( cluster * 65536 ))"
cp "$dir/img.qcow2" "$dir/damaged.qcow2"      # repaired (from a backup)
run_copy -- "$dir/damaged.qcow2" "$loop"
[ $status -eq 0 ] || fail "repaired source: exit $status"
cmp -n $size "$dir/expected.raw" "$dir/back.src" || fail "repaired source: the target differs"
echo "ok: the repaired source completes the copy"

# ---- backing and data files outside the folder, in every spelling (2) -------
hostile_images "$dir/hostile"
mkdir "$dir/unrelated"
out=$dir/hostile/out.raw
for name in "${hostile[@]}"; do
    for allow in "" "$dir/unrelated"; do
        run_copy -- ${allow:+--allow-dir "$allow"} "$dir/hostile/images/$name" "$out"
        [ $status -eq 2 ] || fail "$name ${allow:+(--allow-dir $allow)}: exit $status, expected 2"
        grep -qxF "sparsecopy: $dir/hostile/images/$name: ${hostile_reason[$name]}" "$dir/err" ||
            fail "$name: refusal message; want: ${hostile_reason[$name]}"
        [ ! -e "$out" ] || fail "$name: the target was created"
    done
done
run_copy -- "$dir/hostile/images/good.qcow2" "$out"
[ $status -eq 0 ] || fail "good.qcow2 beside the hostile images: exit $status"
qemu-img convert -O raw "$dir/hostile/images/good.qcow2" "$dir/good.expected"
cmp "$dir/good.expected" "$out" || fail "good.qcow2: the copy differs"
echo "ok: ${#hostile[@]} hostile backing and data file names refused"
