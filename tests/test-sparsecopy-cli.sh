#!/bin/bash
# The command line: --help, --version, --show-probe (what the probe found on
# a real loop device, checked against sysfs), --dry-run (writes nothing,
# creates nothing), -p with and without a terminal, --json.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires jq --version

scratch_mount tmpfs size=128M
dir=$scratch

"$SPARSECOPY" --help > "$dir/help"
grep -q "^Usage: sparsecopy \[OPTIONS\] SOURCE TARGET" "$dir/help" || fail "--help"
for opt in --format --sparse --holes --target-is-zero --jobs --cache \
           --progress --json --verify --show-probe --dry-run --force \
           --discard-zeroes; do
    grep -q -e "$opt" "$dir/help" || fail "--help does not mention $opt"
done
# Every form of target and source, in --help as in the man page.
for form in nbd:// nbds:// nbd+unix:// nbds+unix:// rbd: http:// https://; do
    grep -qF -e "$form" "$dir/help" || fail "--help does not name $form"
    grep -qF -e "$form" "$srcdir/../docs/sparsecopy.1" ||
        fail "sparsecopy(1) does not name $form"
done
"$SPARSECOPY" --version | grep -Eq '^sparsecopy [0-9]+\.[0-9]+' || fail "--version"
echo "ok: --help, --version"

img=$dir/img.qcow2
qemu-img create -q -f qcow2 "$img" 4M
qemu-io -f qcow2 -c "write -P 0x21 1M 1M" "$img" >/dev/null

garbage "$dir/back" $(( 5 * 1024 * 1024 ))
sum=$(md5sum < "$dir/back")
loop_over "$dir/back" --sector-size 4096
queue=/sys/block/$(basename "$loop")/queue

"$SPARSECOPY" --dry-run "$img" "$loop" > "$dir/out"
cat "$dir/out"
[ "$(md5sum < "$dir/back")" = "$sum" ] || fail "--dry-run wrote to the target"
grep -q "dry run: nothing was written" "$dir/out" || fail "--dry-run: no notice"
grep -q "^$img: qcow2, 4194304 bytes (4.0 MiB), 1048576 bytes of data" \
    "$dir/out" || fail "--dry-run: source line"
for attr in logical_block_size physical_block_size discard_granularity \
            discard_max_bytes write_zeroes_max_bytes; do
    grep -q "^  $attr: $(cat "$queue/$attr")\$" "$dir/out" ||
        fail "--dry-run: $attr differs from sysfs ($(cat "$queue/$attr"))"
done
grep -q "^  size: $(blockdev --getsize64 "$loop")\$" "$dir/out" || fail "size"
grep -q "^  driver: loop\$" "$dir/out" || fail "driver"
grep -q "^  rotational: $(cat "$queue/rotational")\$" "$dir/out" || fail "rotational"
grep -q "^  holes will use: punch" "$dir/out" || fail "planned method"
echo "ok: --dry-run shows the probe and writes nothing"

# --force is about O_EXCL only: a loop device's discard is trusted with
# --discard-zeroes, never with --force.
grep -q "^  discard: not used: .*(--discard-zeroes)" "$dir/out" ||
    fail "--dry-run: a loop device's discard is trusted"
status=0
"$SPARSECOPY" --dry-run --force --holes=discard "$img" "$loop" \
    > /dev/null 2> "$dir/err" || status=$?
[ $status -eq 4 ] && grep -q -- "(--discard-zeroes if it does)" "$dir/err" ||
    fail "--force --holes=discard on a loop device: exit $status"
"$SPARSECOPY" --dry-run --discard-zeroes "$img" "$loop" > "$dir/out"
grep -q "^  discard: yes, reads back zeros as --discard-zeroes says" \
    "$dir/out" || fail "--discard-zeroes: probe output"
grep -q "^  holes will use: punch" "$dir/out" ||
    fail "--discard-zeroes: punch is still first"
"$SPARSECOPY" --dry-run --discard-zeroes --holes=discard "$img" "$loop" \
    > "$dir/out"
grep -q "^  holes will use: discard" "$dir/out" ||
    fail "--discard-zeroes --holes=discard: planned method"
echo "ok: --discard-zeroes, not --force, trusts discard"

"$SPARSECOPY" --dry-run "$img" "$dir/not-there" > "$dir/out"
[ ! -e "$dir/not-there" ] || fail "--dry-run created the target"
grep -q "would be created" "$dir/out" || fail "--dry-run: new file notice"
grep -q "holes will use: skip" "$dir/out" || fail "--dry-run: new file method"
echo "ok: --dry-run creates nothing"

"$SPARSECOPY" -p --show-probe --json "$img" "$loop" > "$dir/out" 2> "$dir/err"
grep -q "^  driver: loop" "$dir/out" || fail "--show-probe"
sed -n '/^{/,$p' "$dir/out" > "$dir/json"
[ "$(json_field "$dir/json" .size)" -eq 4194304 ] || fail "--json size"
[ "$(json_field "$dir/json" .bytes_written)" -eq 1048576 ] ||
    fail "--json bytes_written"
# Punch unmaps on a loop device: the whole range is punched first, in one
# call, and then the 3 MiB of holes are skipped.
[ "$(json_field "$dir/json" .zeroed.punch)" -eq 4194304 ] ||
    fail "--json zeroed.punch"
[ "$(json_field "$dir/json" .zeroed.skip)" -eq 3145728 ] ||
    fail "--json zeroed.skip"
[ "$(json_field "$dir/json" .exit_status)" -eq 0 ] || fail "--json exit_status"
grep -q "ETA" "$dir/err" && fail "-p drew a bar without a terminal"
qemu-img convert -O raw "$img" "$dir/expected.raw"
cmp -n 4194304 "$dir/expected.raw" "$loop" || fail "copy differs"
echo "ok: --show-probe, --json, -p"

# -p on a terminal: the bar ends at 100% with the total and a rate.
if command -v script >/dev/null; then
    script -qec "$SPARSECOPY -p '$img' '$dir/progress.raw'" /dev/null \
        > "$dir/tty" 2>&1
    grep -aq "copying \[#*\] 100% 4.0 MiB / 4.0 MiB" "$dir/tty" ||
        fail "-p on a terminal: $(cat -v "$dir/tty")"
    echo "ok: -p on a terminal"
fi
