#!/bin/bash
# Refusals and failures: each exits with its documented code and says what
# failed where; a copy that stopped says that the target is incomplete.
#   1 usage, 2 source, 3 target, 4 not supported, 6 interrupted.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires mkfs.ext4 -V
requires e2fsck -V

scratch_mount tmpfs size=256M
dir=$scratch
MiB=$(( 1024 * 1024 ))

# expect STATUS PATTERN COMMAND...: COMMAND exits with STATUS and its stderr
# matches PATTERN (grep -E); stderr is left in $dir/err.
expect ()
{
    local want=$1 pattern=$2 status=0
    shift 2
    "$@" > "$dir/out" 2> "$dir/err" || status=$?
    cat "$dir/err" >&2
    [ $status -eq "$want" ] || fail "$*: exit $status, expected $want"
    grep -Eq -e "$pattern" "$dir/err" || fail "$*: stderr lacks: $pattern"
}

img=$dir/img.qcow2
qemu-img create -q -f qcow2 "$img" 8M
qemu-io -f qcow2 -c "write -P 0x33 0 8M" "$img" >/dev/null

# ---- usage (1) -----------------------------------------------------------
expect 1 "expected SOURCE and TARGET" "$SPARSECOPY"
expect 1 "expected SOURCE and TARGET" "$SPARSECOPY" "$img"
expect 1 "--holes: 'trim' is not" "$SPARSECOPY" --holes=trim "$img" "$dir/x"
expect 1 "--sparse: '1000'" "$SPARSECOPY" -S 1000 "$img" "$dir/x"
expect 1 "--jobs" "$SPARSECOPY" -j 0 "$img" "$dir/x"
expect 1 "--format" "$SPARSECOPY" -f qed "$img" "$dir/x"
[ ! -e "$dir/x" ] || fail "a usage error created the target"
echo "ok: usage errors"

# ---- source (2) ------------------------------------------------------------
expect 2 "^sparsecopy: $dir/missing: open: No such file" \
    "$SPARSECOPY" "$dir/missing" "$dir/x"

# A compressed cluster that does not decompress: the copy stops there.
head -c $(( 4 * MiB )) /dev/urandom > "$dir/data.raw"
python3 -c 'import sys; sys.stdout.buffer.write(b"text " * 300000)' |
    head -c $(( 1 * MiB )) | dd of="$dir/data.raw" conv=notrunc status=none
qemu-img convert -q -c -O qcow2 -f raw "$dir/data.raw" "$dir/bad.qcow2"
python3 "$srcdir/qcow2-edit.py" "$dir/bad.qcow2" \
    'u64[compressed_offset(l2[0][1])]=0xffffffffffffffff'
expect 2 "^sparsecopy: $dir/bad.qcow2: read failed at offset 65536: .*does not decompress" \
    "$SPARSECOPY" "$dir/bad.qcow2" "$dir/bad.out"
grep -q "^sparsecopy: $dir/bad.out: the target is incomplete" "$dir/err" ||
    fail "damaged source: not said incomplete"
echo "ok: damaged source"

# A backing file outside the image's folder is refused, unless allowed.
mkdir "$dir/base" "$dir/top"
qemu-img create -q -f qcow2 "$dir/base/base.qcow2" 8M
qemu-io -f qcow2 -c "write -P 0x44 0 1M" "$dir/base/base.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b "$dir/base/base.qcow2" -F qcow2 \
    "$dir/top/top.qcow2" 8M
expect 2 "base.qcow2" "$SPARSECOPY" "$dir/top/top.qcow2" "$dir/refused.out"
[ ! -e "$dir/refused.out" ] || fail "refused backing: target created"
"$SPARSECOPY" --allow-dir "$dir/base" "$dir/top/top.qcow2" "$dir/allowed.out"
qemu-img convert -O raw "$dir/top/top.qcow2" "$dir/allowed.expected"
cmp "$dir/allowed.expected" "$dir/allowed.out" || fail "allowed backing differs"
echo "ok: refused and allowed backing file"

# ---- target (3) ------------------------------------------------------------
# Too small: refused before anything is written.
garbage "$dir/small" $(( 4 * MiB ))
sum=$(md5sum < "$dir/small")
loop_over "$dir/small"
expect 3 "^sparsecopy: $loop: the target \\(4194304 bytes\\) is smaller than the source \\(8388608 bytes\\); nothing was written" \
    "$SPARSECOPY" "$img" "$loop"
[ "$(md5sum < "$dir/small")" = "$sum" ] || fail "too small: target changed"
echo "ok: too small target"

# Mounted: refused (O_EXCL), the file system stays intact.
truncate -s 16M "$dir/fs"
mkfs.ext4 -q "$dir/fs"
loop_over "$dir/fs"
mkdir "$dir/mnt"
mount "$loop" "$dir/mnt"
cleanup_fn unmount_if_mounted "$dir/mnt"
expect 3 "^sparsecopy: $loop: the device is in use" "$SPARSECOPY" "$img" "$loop"
umount "$dir/mnt"
e2fsck -fn "$loop" >/dev/null || fail "mounted target: file system damaged"
echo "ok: mounted target"

# ENOSPC on a regular file.
mkdir "$dir/full"
mount -t tmpfs -o size=2M sparsecopy-full "$dir/full"
cleanup_fn unmount_if_mounted "$dir/full"
expect 3 "^sparsecopy: $dir/full/out: write failed at offset [0-9]+: No space left on device" \
    "$SPARSECOPY" "$img" "$dir/full/out"
grep -q "^sparsecopy: $dir/full/out: the target is incomplete" "$dir/err" ||
    fail "ENOSPC: not said incomplete"
rm -f "$dir/full/out"
echo "ok: ENOSPC on a file"

# A loop device whose backing file system fills up: the device fails writes.
truncate -s 16M "$dir/full/back"
loop_over "$dir/full/back"
expect 3 "^sparsecopy: $loop: write failed at offset [0-9]+: (No space left on device|Input/output error)" \
    "$SPARSECOPY" "$img" "$loop"
grep -q "the target is incomplete" "$dir/err" || fail "loop ENOSPC: incomplete"
echo "ok: ENOSPC behind a loop device"

# ---- not supported (4) -------------------------------------------------------
expect 4 "--holes=discard: discard needs a block device" \
    "$SPARSECOPY" --holes=discard "$img" "$dir/file.out"
expect 4 "--holes=zeroout: zeroout needs a block device" \
    "$SPARSECOPY" --holes=zeroout "$img" "$dir/file.out"
echo "ok: methods a file does not have"

# ---- interrupted (6) -----------------------------------------------------
# A 16 GiB all-data source (a block device) copied with every zero written:
# long enough to be interrupted.
truncate -s 16G "$dir/huge"
loop_over "$dir/huge" -r
scratch=$(make_tmpdir)
"$SPARSECOPY" -S 0 "$loop" "$scratch/huge.out" 2> "$dir/err" &
pid=$!
sleep 1
kill -TERM $pid
status=0
wait $pid || status=$?
cat "$dir/err" >&2
[ $status -eq 6 ] || fail "SIGTERM: exit $status, expected 6"
grep -Eq "^sparsecopy: $scratch/huge.out: copy stopped at offset [0-9]+: Terminated" \
    "$dir/err" || fail "SIGTERM: message"
grep -q "the target is incomplete" "$dir/err" || fail "SIGTERM: incomplete"
echo "ok: SIGTERM"
