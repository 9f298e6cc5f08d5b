#!/bin/bash
# Every hole method, forced, onto a loop device over garbage: the image range
# must equal qemu-img's output, punch and discard must leave the backing file
# thin, write must allocate it, skip must leave the garbage (and --verify
# must catch that).  Auto picks punch on a loop device.  --target-is-zero
# skips holes on a fresh (zeroed, sparse) backing file and keeps it thin.
# Buffered writes (--cache=writeback) give the same result.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires jq --version

scratch_mount tmpfs size=512M
dir=$scratch
MiB=$(( 1024 * 1024 ))

# A 16 MiB image, 64 KiB clusters: data, zero clusters, unallocated ranges,
# and a 4 KiB zero run inside data (zero detection).
img=$dir/img.qcow2
qemu-img create -q -f qcow2 -o cluster_size=65536 "$img" 16M
qemu-io -f qcow2 \
    -c "write -P 0xab 0 1M" \
    -c "write -P 0 256k 4k" \
    -c "write -z 4M 1M" \
    -c "write -P 0x5c 8M 64k" \
    -c "write -P 0x11 12M 3M" "$img" >/dev/null
qemu-img convert -O raw "$img" "$dir/expected.raw"
data_bytes=$(allocated_bytes "$dir/expected.raw")
size=$(( 16 * MiB ))

# copy METHOD [OPTIONS...]: copy onto a fresh garbage loop device with
# --holes=METHOD; sets $target, $backing, $tail, leaves the summary in
# $dir/json.
copy ()
{
    local method=$1
    shift
    runs=$(( ${runs:-0} + 1 ))
    backing=$dir/back.$runs
    tail=$dir/tail.$runs
    garbage "$backing" $(( size + MiB ))
    tail -c +$(( size + 1 )) "$backing" > "$tail"
    loop_over "$backing"
    target=$loop
    "$SPARSECOPY" --json --holes="$method" "$@" "$img" "$target" > "$dir/json"
}

assert_correct_and_thin ()
{
    cmp -n $size "$dir/expected.raw" "$target" ||
        fail "$1: the target differs from qemu-img's output"
    cmp <(tail -c +$(( size + 1 )) "$backing") "$tail" ||
        fail "$1: bytes past the image changed"
    [ "$(allocated_bytes "$backing")" -le $(( data_bytes + MiB + 65536 )) ] ||
        fail "$1: backing holds $(allocated_bytes "$backing") bytes, data is $data_bytes"
}

assert_zeroed_by ()
{
    [ "$(json_field "$dir/json" ".zeroed.$1")" -gt 0 ] ||
        fail "$1: the summary shows nothing zeroed by $1: $(cat "$dir/json")"
}

copy punch
assert_correct_and_thin punch
assert_zeroed_by punch
echo "ok: punch"

# A loop device's discard reads zeros only where its backing file system
# punches: the user must say so.
status=0
copy discard 2> "$dir/err" || status=$?
[ $status -eq 4 ] || fail "discard without --discard-zeroes: exit $status, not 4"
grep -q -- "--holes=discard: .*(--discard-zeroes if it does)" "$dir/err" ||
    fail "discard without --discard-zeroes: wrong message"
copy discard --discard-zeroes
assert_correct_and_thin discard
assert_zeroed_by discard
echo "ok: discard, with --discard-zeroes only"

copy zeroout
cmp -n $size "$dir/expected.raw" "$target" || fail "zeroout: content differs"
assert_zeroed_by zeroout
echo "ok: zeroout"

copy write
cmp -n $size "$dir/expected.raw" "$target" || fail "write: content differs"
assert_zeroed_by write
[ "$(allocated_bytes "$backing")" -ge $size ] ||
    fail "write: the backing file was not allocated"
grep -q warning "$dir/json" && fail "write: warning on stdout"
echo "ok: write"

# skip on garbage: the holes keep the garbage, and --verify says so.
status=0
copy skip --verify 2> "$dir/err" || status=$?
[ $status -eq 5 ] || fail "skip --verify over garbage: exit $status, not 5"
grep -q "verify failed at offset" "$dir/err" || fail "no verify message"
cmp -s -n $size "$dir/expected.raw" "$target" &&
    fail "skip over garbage: the garbage is gone?"
echo "ok: skip over garbage fails --verify"

# auto: punch on a loop device, and --verify passes.
copy auto --verify
assert_correct_and_thin auto
[ "$(json_field "$dir/json" .method)" = punch ] ||
    fail "auto: method $(json_field "$dir/json" .method), not punch"
[ "$(json_field "$dir/json" .verified)" = true ] || fail "auto: not verified"
[ "$(json_field "$dir/json" .zero_detected)" -ge 4096 ] ||
    fail "auto: the 4 KiB zero run inside data was not detected"
[ "$(json_field "$dir/json" .bytes_written)" -le $(( 5 * MiB )) ] ||
    fail "auto: wrote $(json_field "$dir/json" .bytes_written) bytes"
echo "ok: auto"

# Buffered writes (--cache=writeback): the same result, flushed.
copy auto --cache=writeback --verify
assert_correct_and_thin writeback
[ "$(json_field "$dir/json" .verified)" = true ] || fail "writeback: not verified"
echo "ok: --cache=writeback"

# --target-is-zero on a fresh sparse backing file: holes skipped, thin.
backing=$dir/back.zero
truncate -s $(( size + MiB )) "$backing"
tail=$dir/tail.zero
tail -c +$(( size + 1 )) "$backing" > "$tail"
loop_over "$backing"
target=$loop
"$SPARSECOPY" --json --target-is-zero "$img" "$target" > "$dir/json"
assert_correct_and_thin target-is-zero
assert_zeroed_by skip
[ "$(json_field "$dir/json" .zeroed.punch)" -eq 0 ] ||
    fail "target-is-zero: punched anyway"
echo "ok: --target-is-zero"
