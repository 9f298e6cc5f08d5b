#!/bin/bash
# An image replaced by rename with an image of another size, while a raw
# file is open: the earlier descriptor's fstat and reads give the old
# image's size and bytes (or EIO), never the new size with old bytes or
# a mix of both; a new open gives the new image.  Both ways: to a bigger
# image and to a smaller one, with the old image in the page cache or not.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

corpus=$(corpus)
img=$corpus/images
exp=$corpus/expected
tmp=$(make_tmpdir)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
start_sparsefs_logged "$tmp/log" "$src" "$mnt"

# replace OLD NEW WARM: show image OLD as x.raw, open it, rename image NEW
# over it, then check the old descriptor and a new open.
replace ()
{
    local old=$1 new=$2 warm=$3
    rm -f "$src/x.qcow2"
    wait_for test ! -e "$mnt/x.raw"
    cp --sparse=always "$img/$old" "$src/x.qcow2"
    cp --sparse=always "$img/$new" "$src/x.new"
    wait_for test -e "$mnt/x.raw"
    python3 - "$mnt/x.raw" "$exp/$old.raw" "$src/x.new" "$src/x.qcow2" "$warm" <<'PY' ||
import errno, os, sys, time

raw, old_raw, new_file, image, warm = sys.argv[1:]
want = open(old_raw, "rb").read()
fd = os.open(raw, os.O_RDONLY)
if os.fstat(fd).st_size != len(want):
    sys.exit("before the rename: size %d, want %d" % (os.fstat(fd).st_size, len(want)))
if warm == "warm":
    os.pread(fd, len(want), 0)                # the old image in the page cache
else:
    os.pread(fd, 4096, 0)
os.rename(new_file, image)
time.sleep(1.5)                               # past the kernel's attribute cache
os.stat(raw)                                  # the path now names the new image

def check(when):
    try:
        size = os.fstat(fd).st_size
        got = b""
        while True:
            chunk = os.pread(fd, 1 << 20, len(got))
            if not chunk:
                break
            got += chunk
    except OSError as e:
        if e.errno == errno.EIO:
            return "EIO"
        raise
    if size != len(want):
        sys.exit("%s: the old descriptor's fstat says %d bytes, the old image has %d"
                 % (when, size, len(want)))
    if got != want:
        sys.exit("%s: the old descriptor read %d bytes, not the old image's %d bytes%s"
                 % (when, len(got), len(want),
                    "" if len(got) != len(want) else " (same length, other bytes)"))
    return "old image"

print("old descriptor after the rename:", check("after the rename"))
print("old descriptor once more:", check("once more"))
os.close(fd)
PY
        fail "$old replaced by $new ($warm)"
    wait_for cmp -s "$exp/$new.raw" "$mnt/x.raw"
    echo "ok: $old replaced by $new ($warm): a new open reads the new image"
}

for warm in cold warm; do
    replace zstd-c64k.qcow2 v3-c64k.qcow2 $warm    # 1.5 MiB -> 2 MiB
    replace v3-c64k.qcow2 zstd-c64k.qcow2 $warm    # 2 MiB -> 1.5 MiB
done
kill -0 "$sparsefs_pid" || fail "sparsefs died"
