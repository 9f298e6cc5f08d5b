#!/bin/bash
# Regular-file targets and non-qcow2 sources:
#  - a new file is created, sized to the source, left sparse (holes skipped);
#  - an existing larger file of garbage: holes punched, the rest untouched;
#  - an existing smaller file is grown to the source's size;
#  - a sparse raw source (holes found with SEEK_DATA/SEEK_HOLE, at offsets
#    that are not multiples of the target's 4096-byte blocks) onto a loop
#    device;  a raw source of an odd size reads as qemu does (rounded up to
#    512 with zeros);  a block device as source (all data: only zero
#    detection finds its holes).
# Everything is compared with qemu-img convert's output.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires jq --version

scratch_mount tmpfs size=512M
dir=$scratch
MiB=$(( 1024 * 1024 ))
check="python3 $srcdir/sparse-check.py"

img=$dir/img.qcow2
qemu-img create -q -f qcow2 "$img" 32M
qemu-io -f qcow2 -c "write -P 0x71 1M 2M" -c "write -P 0x72 20M 64k" \
    -c "write -z 24M 4M" "$img" >/dev/null
qemu-img convert -O raw "$img" "$dir/expected.raw"
data_bytes=$(allocated_bytes "$dir/expected.raw")
size=$(( 32 * MiB ))

# A new file.
"$SPARSECOPY" --json "$img" "$dir/new.raw" > "$dir/json"
$check cmp "$dir/expected.raw" "$dir/new.raw" || fail "new file differs"
[ "$(stat -c %s "$dir/new.raw")" -eq $size ] || fail "new file size"
[ "$(allocated_bytes "$dir/new.raw")" -le $(( data_bytes + 65536 )) ] ||
    fail "new file is not sparse: $(allocated_bytes "$dir/new.raw") bytes"
[ "$(json_field "$dir/json" .zeroed.skip)" -gt 0 ] || fail "new file: no skip"
[ "$(json_field "$dir/json" .zeroed.punch)" -eq 0 ] || fail "new file: punched"
echo "ok: new file"

# An existing file, larger, full of garbage.
garbage "$dir/old.raw" $(( size + MiB ))
tail -c +$(( size + 1 )) "$dir/old.raw" > "$dir/old.tail"
"$SPARSECOPY" --json "$img" "$dir/old.raw" > "$dir/json" 2> "$dir/err"
cmp -n $size "$dir/expected.raw" "$dir/old.raw" || fail "existing file differs"
cmp <(tail -c +$(( size + 1 )) "$dir/old.raw") "$dir/old.tail" ||
    fail "existing file: bytes past the image changed"
[ "$(stat -c %s "$dir/old.raw")" -eq $(( size + MiB )) ] ||
    fail "existing file: size changed"
grep -q "larger than the source" "$dir/err" || fail "larger target not said"
[ "$(json_field "$dir/json" .zeroed.punch)" -gt 0 ] || fail "existing: no punch"
[ "$(allocated_bytes "$dir/old.raw")" -le $(( data_bytes + MiB + 65536 )) ] ||
    fail "existing file: holes not punched"
echo "ok: existing larger file"

# An existing file, smaller: grown.
garbage "$dir/small.raw" $(( size / 2 ))
"$SPARSECOPY" "$img" "$dir/small.raw"
cmp "$dir/expected.raw" "$dir/small.raw" || fail "smaller file differs"
echo "ok: existing smaller file"

# A sparse raw source with holes at 512-byte offsets (not 4096-aligned for
# the target; the file system itself keeps 4 KiB blocks).
python3 - "$dir/sparse.raw" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "wb") as f:
    f.truncate(8 << 20)
    for off, length in ((512, 3000), (70000, 70000), (1 << 20, 4096 * 3 + 512),
                        ((5 << 20) + 1536, 123456), ((8 << 20) - 2560, 2560)):
        f.seek(off)
        f.write(r.randbytes(length))
PY
qemu-img convert -f raw -O raw "$dir/sparse.raw" "$dir/sparse.expected"
size=$(( 8 * MiB ))
garbage "$dir/back" $(( size + MiB ))
tail -c +$(( size + 1 )) "$dir/back" > "$dir/back.tail"
loop_over "$dir/back" --sector-size 4096
"$SPARSECOPY" --json "$dir/sparse.raw" "$loop" > "$dir/json"
cmp -n $size "$dir/sparse.expected" "$loop" || fail "sparse raw source differs"
cmp <(tail -c +$(( size + 1 )) "$dir/back") "$dir/back.tail" ||
    fail "sparse raw source: bytes past the image changed"
[ "$(json_field "$dir/json" .source_format)" = raw ] || fail "not read as raw"
[ "$(json_field "$dir/json" .bytes_read)" -le $(( 2 * MiB )) ] ||
    fail "read $(json_field "$dir/json" .bytes_read) bytes: holes were read"
[ "$(allocated_bytes "$dir/back")" -le \
  $(( $(allocated_bytes "$dir/sparse.expected") + MiB + 65536 )) ] ||
    fail "sparse raw source: backing file not thin"
echo "ok: sparse raw source, unaligned holes, 4096-byte sectors"

# A raw source of an odd size: qemu counts whole sectors.
head -c 5000 /dev/urandom > "$dir/odd.raw"
qemu-img convert -f raw -O raw "$dir/odd.raw" "$dir/odd.expected"
"$SPARSECOPY" "$dir/odd.raw" "$dir/odd.copy"
cmp "$dir/odd.expected" "$dir/odd.copy" || fail "odd-sized raw source differs"
echo "ok: odd-sized raw source"

# A block device as source: all data; zero detection finds the holes.
loop_over "$dir/expected.raw" -r
source_dev=$loop
"$SPARSECOPY" --json "$source_dev" "$dir/from-dev.raw" > "$dir/json"
$check cmp "$dir/expected.raw" "$dir/from-dev.raw" || fail "bdev source differs"
[ "$(json_field "$dir/json" .bytes_read)" -eq $(( 32 * MiB )) ] ||
    fail "bdev source: not all read"
[ "$(allocated_bytes "$dir/from-dev.raw")" -le $(( data_bytes + 65536 )) ] ||
    fail "bdev source: zeros were written"
echo "ok: block device source"
