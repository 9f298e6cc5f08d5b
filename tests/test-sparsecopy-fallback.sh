#!/bin/bash
# When the target refuses a zeroing method with "not supported", sparsecopy
# drops it for the rest of the run and falls back to the next one, and the
# result is still exactly qemu-img's output:
#  - simulated: a loop device whose punch / discard / zeroout calls are
#    refused by an LD_PRELOAD shim (like LVM thin, which refuses punch);
#    discard only with --discard-zeroes (a loop device's is not trusted),
#    and zeroout is checked: on tmpfs the kernel does it by writing zeros
#    and turns write-zeroes off, so write takes over;
#  - real: a loop device over a ramfs file: ramfs has no fallocate, so the
#    loop device has neither write-zeroes nor discard (the probe sees it and
#    auto writes zeros; a forced punch fails with "not supported", exit 4).
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires jq --version

shim=$builddir/sparsecopy-refuse.so
[ -f "$shim" ] || fail "missing $shim (make check builds it)"
scratch_mount tmpfs size=256M
dir=$scratch
MiB=$(( 1024 * 1024 ))
size=$(( 8 * MiB ))

img=$dir/img.qcow2
qemu-img create -q -f qcow2 "$img" 8M
qemu-io -f qcow2 -c "write -P 0x61 64k 1M" -c "write -P 0x62 3M 512k" \
    -c "write -z 5M 1M" "$img" >/dev/null
qemu-img convert -O raw "$img" "$dir/expected.raw"
data_bytes=$(allocated_bytes "$dir/expected.raw")

# copy_refusing LIST [OPTIONS...]: copy onto a garbage loop device whose
# methods in LIST are refused; exit status in $status, summary in json,
# messages in err.
copy_refusing ()
{
    local refuse=$1
    shift
    backing=$dir/back
    [ -z "${target:-}" ] || detach_loop "$target" "$backing"
    rm -f "$backing"
    garbage "$backing" $(( size + MiB ))
    loop_over "$backing"
    target=$loop
    status=0
    env LD_PRELOAD="$shim" SPARSECOPY_REFUSE="$refuse" \
        ASAN_OPTIONS=verify_asan_link_order=0 \
        "$SPARSECOPY" --json "$@" "$img" "$target" \
        > "$dir/json" 2> "$dir/err" || status=$?
    cat "$dir/err" >&2
}

assert_result ()
{
    local dropped=$1 method=$2
    [ $status -eq 0 ] || fail "refusing $dropped: exit $status"
    cmp -n $size "$dir/expected.raw" "$target" ||
        fail "refusing $dropped: the target differs from qemu-img's output"
    [ "$(json_field "$dir/json" '.methods_dropped | join(",")')" = "$dropped" ] ||
        fail "refusing $dropped: dropped $(json_field "$dir/json" .methods_dropped)"
    [ "$(json_field "$dir/json" .method)" = "$method" ] ||
        fail "refusing $dropped: method $(json_field "$dir/json" .method)"
    [ "$(json_field "$dir/json" ".zeroed.$method")" -gt 0 ] ||
        fail "refusing $dropped: nothing zeroed by $method"
}

copy_refusing punch --discard-zeroes
assert_result punch discard
grep -q "punch is not supported (Operation not supported); falling back to discard" \
    "$dir/err" || fail "no fallback message"
[ "$(allocated_bytes "$backing")" -le $(( data_bytes + MiB + 65536 )) ] ||
    fail "refusing punch: the backing file was allocated"
echo "ok: punch refused, --discard-zeroes -> discard, still thin"

# tmpfs has no zero range: the kernel's BLKZEROOUT writes zero pages and
# clears write_zeroes_max_bytes, which the zeroout trial sees.
copy_refusing punch,discard --discard-zeroes
assert_result punch,discard,zeroout write
[ "$(json_field "$dir/json" .zeroed.zeroout)" -gt 0 ] ||
    fail "refusing punch and discard: zeroout was not tried"
grep -q "zeroout is not supported (the device turned write-zeroes off: the kernel wrote zeros); falling back to write" \
    "$dir/err" || fail "refusing punch and discard: no zeroout message"
echo "ok: punch and discard refused -> zeroout, done by writing -> write"

# Without --discard-zeroes a loop device's discard is never tried.
copy_refusing punch
assert_result punch,zeroout write
[ "$(json_field "$dir/json" .zeroed.discard)" -eq 0 ] ||
    fail "refusing punch: discarded without --discard-zeroes"
echo "ok: punch refused -> zeroout -> write, no discard"

copy_refusing punch,discard,zeroout --discard-zeroes
assert_result punch,discard,zeroout write
grep -q "warning: .*write, which allocates the target" "$dir/err" ||
    fail "no warning that the target gets allocated"
echo "ok: all refused -> write, with a warning"

# A forced method that is refused stops the copy: exit 4 (not supported).
copy_refusing punch --holes=punch
[ $status -eq 4 ] || fail "forced punch refused: exit $status, not 4"
grep -q "^sparsecopy: $target: punch failed at offset [0-9]*: Operation not supported" \
    "$dir/err" || fail "forced punch refused: wrong message"
grep -q "^sparsecopy: $target: the target is incomplete" "$dir/err" ||
    fail "forced punch refused: not said incomplete"
echo "ok: forced punch refused -> exit 4"

# Real: a loop device over ramfs has neither write-zeroes nor discard.
scratch_mount ramfs
ramfs=$scratch
garbage "$ramfs/back" $(( size + MiB ))
loop_over "$ramfs/back"
target=$loop
"$SPARSECOPY" --show-probe --json "$img" "$target" > "$dir/out" 2> "$dir/err"
grep -q "write_zeroes_max_bytes: 0" "$dir/out" || fail "ramfs: probe output"
grep -q "holes will use: write" "$dir/out" || fail "ramfs: planned method"
grep -q "warning: .*allocates the target" "$dir/err" || fail "ramfs: no warning"
cmp -n $size "$dir/expected.raw" "$target" || fail "ramfs: content differs"
echo "ok: loop over ramfs -> write"

status=0
"$SPARSECOPY" --holes=punch "$img" "$target" 2> "$dir/err" || status=$?
cat "$dir/err" >&2
[ $status -eq 4 ] || fail "ramfs forced punch: exit $status, not 4"
grep -q "punch failed at offset [0-9]*: Operation not supported" "$dir/err" ||
    fail "ramfs forced punch: wrong message"
echo "ok: loop over ramfs, forced punch -> exit 4"
