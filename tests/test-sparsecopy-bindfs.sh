#!/bin/bash
# A loop device over a file in a bindfs mount: a FUSE file system that
# refuses fallocate's punch and zero range.  The loop device still starts
# out advertising discard and write-zeroes; the kernel clears a limit only
# when the backing file refuses the matching fallocate, and BLKDISCARD
# reports that refusal as success (the old bytes stay).
#  - zero-first (punch the whole target up front) is only an optimisation:
#    when punch is refused, the holes are zeroed one by one and the device
#    writes about the image's size, not the whole device two more times;
#  - over a dirty target, whatever limits the kernel has cleared already
#    (fresh, after a refused punch, after a refused zero range, both),
#    every method the tool may pick gives qemu-img's output, or refuses
#    with "the target is incomplete": never success with old bytes in a hole.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires_fuse
requires bindfs --version
requires qemu-img --version
requires qemu-io --version
requires jq --version

scratch_mount tmpfs size=512M
dir=$scratch
mkdir "$dir/under" "$dir/bind"
bindfs "$dir/under" "$dir/bind"
cleanup_fn unmount_if_mounted "$dir/bind"
MiB=$(( 1024 * 1024 ))
size=$(( 64 * MiB ))

# A 64 MiB image with 8 MiB of data between holes large and small.
img=$dir/img.qcow2
qemu-img create -q -f qcow2 "$img" 64M
qemu-io -f qcow2 \
    -c "write -P 0x31 0 1M" \
    -c "write -P 0x32 1088k 1M" \
    -c "write -P 0x33 8M 2M" \
    -c "write -z 12M 4M" \
    -c "write -P 0x34 20M 3M" \
    -c "write -P 0x35 63M 1M" "$img" >/dev/null
qemu-img convert -O raw "$img" "$dir/expected.raw"
garbage "$dir/garbage" $(( size + MiB ))

# fresh_loop: a loop device over a garbage file in the bindfs mount, in
# $target (each one new: the kernel keeps a loop device's limits).
fresh_loop ()
{
    runs=$(( ${runs:-0} + 1 ))
    backing=$dir/bind/back.$runs
    cp "$dir/garbage" "$backing"
    loop_over "$backing"
    target=$loop
}

# written_sectors DEV: sectors written to DEV since boot (field 7).
written_sectors ()
{
    awk '{ print $7 }' "/sys/block/$(basename "$1")/stat"
}

limit ()
{
    cat "/sys/block/$(basename "$target")/queue/$1"
}

# ---- zero-first falls back per hole, not over the whole device ----------
fresh_loop
before=$(written_sectors "$target")
"$SPARSECOPY" --json "$img" "$target" > "$dir/json" 2> "$dir/err"
cat "$dir/err" >&2
written=$(( ($(written_sectors "$target") - before) * 512 ))
echo "auto on a fresh bindfs loop: $written bytes written, image $size"
cmp -n $size "$dir/expected.raw" "$target" ||
    fail "auto: the target differs from qemu-img's output"
[ $written -le $(( size + 4 * MiB )) ] ||
    fail "auto: the device wrote $written bytes for a $size-byte image"
echo "ok: refused zero-first falls back per hole"

# ---- no order of probing leaves old bytes in a hole ---------------------

# dirty_loop STATE: a fresh garbage loop device whose kernel limits are in
# STATE: fresh; punch-refused (a refused punch cleared discard);
# zero-range-refused (a refused zero range cleared write-zeroes); both (a
# refused zero range, then a discard that "succeeded" and cleared discard).
# The garbage is written again through the device after these calls.
dirty_loop ()
{
    fresh_loop
    case $1 in
        punch-refused)
            fallocate -p -o 0 -l 4096 "$target" 2>/dev/null &&
                fail "$1: bindfs took a punch";;
        zero-range-refused)
            fallocate -z -o 0 -l 4096 "$target";;
        both)
            fallocate -z -o 0 -l 4096 "$target"
            blkdiscard -f -o 0 -l 4096 "$target" 2>/dev/null;;
    esac
    dd if="$dir/garbage" of="$target" bs=1M count=$(( size / MiB )) \
        oflag=direct status=none
    case $1 in
        punch-refused)
            [ "$(limit discard_max_bytes)" = 0 ] &&
            [ "$(limit write_zeroes_max_bytes)" != 0 ];;
        zero-range-refused)
            [ "$(limit discard_max_bytes)" != 0 ] &&
            [ "$(limit write_zeroes_max_bytes)" = 0 ];;
        both)
            [ "$(limit discard_max_bytes)" = 0 ] &&
            [ "$(limit write_zeroes_max_bytes)" = 0 ];;
        fresh)
            [ "$(limit discard_max_bytes)" != 0 ] &&
            [ "$(limit write_zeroes_max_bytes)" != 0 ];;
    esac || fail "$1: the device's limits are not what the state says"
}

# right_or_refused WHAT [OPTIONS...]: copy; the target must equal qemu-img's
# output, or sparsecopy must have failed saying the target is incomplete.
right_or_refused ()
{
    local what=$1 status=0
    shift
    "$SPARSECOPY" "$@" "$img" "$target" 2> "$dir/err" || status=$?
    cat "$dir/err" >&2
    if [ $status -eq 0 ]; then
        cmp -n $size "$dir/expected.raw" "$target" ||
            fail "$what: exit 0 but the target differs from qemu-img's output"
        echo "ok: $what: qemu-img's output"
    else
        [ $status -eq 4 ] || fail "$what: exit $status, not 0 or 4"
        grep -q "the target is incomplete\|--holes=discard: " "$dir/err" ||
            fail "$what: exit $status without saying why"
        echo "ok: $what: refused (exit $status)"
    fi
}

for state in fresh punch-refused zero-range-refused both; do
    for holes in auto punch discard zeroout write; do
        for trust in "" --discard-zeroes; do
            dirty_loop $state
            right_or_refused "$state, --holes=$holes${trust:+ $trust}" \
                --holes=$holes $trust
            detach_loop "$target" "$backing"
            rm -f "$backing"
        done
    done
done

# A loop device's discard is not trusted unless the user says so.
dirty_loop fresh
status=0
"$SPARSECOPY" --holes=discard "$img" "$target" 2> "$dir/err" || status=$?
[ $status -eq 4 ] && grep -q -- "--discard-zeroes" "$dir/err" ||
    fail "--holes=discard on a loop device without --discard-zeroes: exit $status"
echo "ok: --holes=discard on a loop device needs --discard-zeroes"
