#!/bin/bash
# A stream of an image with clusters smaller than the target's logical
# blocks: qcow2 images of 512-byte, 1 KiB and 2 KiB clusters (plain and
# compressed), whose data, zero clusters and holes start and end inside
# 4 KiB blocks and whose clusters lie in the file in reverse guest order,
# piped onto a loop device of 4 KiB sectors whose backing file is full of
# garbage.  The device must hold exactly qemu-img convert's output, the
# garbage past the image must stay, and the backing file must stay as thin
# as qemu-img's output (rounded to 4 KiB blocks).  Then the blocks kept
# waiting for the rest of their bytes are bounded by --stream-buffer.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version

scratch_mount tmpfs size=256M
dir=$scratch
KiB=1024
MiB=$((1024 * KiB))
size=$((8 * MiB))

# make_image NAME CLUSTER [-c]: SIZE bytes of CLUSTER-byte clusters, written
# last piece first (so that the file holds them in reverse guest order),
# with -c compressed where whole clusters are written.
make_image ()
{
    local image=$dir/$1 c=$2 compress=${3:-} writes=() i
    qemu-img create -q -f qcow2 -o cluster_size=$c "$image" $size
    writes=("write -P 0x11 512 $((3 * 512))"
            "write -P 0x22 $MiB $((7 * 512))"
            "write -z $((MiB + 4 * KiB)) $((2 * KiB))"
            "write -P 0x33 $((2 * MiB + 512)) $((3 * KiB))"
            "write -P 0x44 $((4 * MiB + 3 * KiB)) $((9 * KiB))"
            "write $compress -P 0x55 $((5 * MiB)) $((4 * c))"
            "write $compress -P 0x66 $((6 * MiB + c)) $c"
            "write -P 0x77 $((size - 512)) 512")
    for (( i=${#writes[@]}-1; i>=0; i-- )); do
        qemu-io -f qcow2 -c "${writes[$i]}" "$image" >/dev/null
    done
    qemu-img convert -O raw "$image" "$image.raw"
}

# to_4k_loop NAME [SPARSECOPY OPTIONS...]: NAME piped onto a dirty loop
# device of 4 KiB sectors; sets $loop, $backing, $tail.
to_4k_loop ()
{
    local name=$1
    shift
    backing=$dir/$name.back
    tail=$dir/$name.tail
    garbage "$backing" $((size + MiB))
    tail -c +$((size + 1)) "$backing" > "$tail"
    loop_over "$backing" --sector-size 4096
    [ "$(blockdev --getss "$loop")" -eq 4096 ] ||
        fail "$loop: logical block size $(blockdev --getss "$loop")"
    cat "$dir/$name" | "$SPARSECOPY" "$@" - "$loop" 2> "$dir/err"
}

# thin_allocation RAW: the bytes of RAW's data, counted in whole 4 KiB
# blocks (what a 4 KiB-sector device must at least allocate).
thin_allocation ()
{
    python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size, offset, blocks = os.fstat(fd).st_size, 0, set()
while offset < size:
    try:
        start = os.lseek(fd, offset, os.SEEK_DATA)
    except OSError:
        break
    end = os.lseek(fd, start, os.SEEK_HOLE)
    blocks.update(range(start // 4096, (end + 4095) // 4096))
    offset = end
print(len(blocks) * 4096)
PY
}

for cluster in 512 1024 2048; do
    for compress in "" -c; do
        name=c$cluster${compress}.qcow2
        make_image $name $cluster $compress
        to_4k_loop $name || fail "$name: sparsecopy failed: $(cat "$dir/err")"
        cmp -n $size "$dir/$name.raw" "$loop" ||
            fail "$name: the device differs from qemu-img's output"
        cmp <(tail -c +$((size + 1)) "$backing") "$tail" ||
            fail "$name: bytes past the image changed"
        allocated=$(allocated_bytes "$backing")
        limit=$(( $(thin_allocation "$dir/$name.raw") + $(stat -c %s "$tail") + 64 * KiB ))
        [ "$allocated" -le "$limit" ] ||
            fail "$name: the backing file holds $allocated bytes, at most $limit expected"
        detach_loop "$loop" "$backing"
        rm -f "$backing" "$tail"
        echo "ok: $name onto 4 KiB sectors ($allocated bytes allocated)"
    done
done

# The first sector of 64 blocks, then the rest of each: all 64 blocks
# wait for their rest at once, more than a buffer of 2 blocks holds.
name=scattered.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512 "$dir/$name" $size
for i in $(seq 0 63); do
    echo "write -P $((i + 1)) $((i * 64 * KiB)) 512"
done | qemu-io -f qcow2 "$dir/$name" >/dev/null
for i in $(seq 0 63); do
    echo "write -P $((i + 101)) $((i * 64 * KiB + 512)) $((7 * 512))"
done | qemu-io -f qcow2 "$dir/$name" >/dev/null
qemu-img convert -O raw "$dir/$name" "$dir/$name.raw"
status=0
to_4k_loop $name --stream-buffer=8K || status=$?
[ $status -eq 2 ] || fail "$name, 8 KiB buffer: exit $status, not 2"
grep -q "target blocks of 4096 bytes wait for the rest of their bytes, more than the stream buffer holds (8192 bytes)" "$dir/err" ||
    fail "$name, 8 KiB buffer: message: $(cat "$dir/err")"
detach_loop "$loop" "$backing"
to_4k_loop $name || fail "$name: sparsecopy failed: $(cat "$dir/err")"
cmp -n $size "$dir/$name.raw" "$loop" ||
    fail "$name: the device differs from qemu-img's output"
echo "ok: blocks waiting are bounded by --stream-buffer"
