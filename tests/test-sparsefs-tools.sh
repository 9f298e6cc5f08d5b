#!/bin/bash
# Everyday tools copy the raw files right and keep them sparse:
#  - cp --sparse=auto / --sparse=always and tar -S of the 4 TiB image finish
#    in seconds: they find the holes with SEEK_DATA / SEEK_HOLE instead of
#    reading 4 TiB of zeros;
#  - dd conv=sparse and rsync --sparse (which read everything) make sparse
#    copies; every copy is byte-identical to qemu-img's output.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version
requires rsync --version
requires tar --version

mount_corpus
out=$tmp/out
mkdir "$out"
check="python3 $srcdir/sparse-check.py"

# same_and_sparse EXPECTED COPY: identical, and COPY holds no more than the
# data the raw file says it has (plus a block per run for alignment).
same_and_sparse ()
{
    local exp=$1 copy=$2 raw=$3 limit
    $check cmp "$exp" "$copy" || fail "$copy differs from $exp"
    limit=$(( $(allocated_bytes "$raw") + $($LSEEK map "$raw" | wc -l) * 4096 ))
    [ "$(allocated_bytes "$copy")" -le "$limit" ] ||
        fail "$copy: $(allocated_bytes "$copy") bytes allocated, more than the data ($limit)"
}

big=sparse-4t.qcow2
big_raw=$mnt/$(shown_name $big)
big_exp=$corpus/expected/$big.raw
[ "$(stat -c %s "$big_raw")" -ge $((1 << 40)) ] || fail "$big is not the big image"

for mode in auto always; do
    timeout 120 cp --sparse=$mode "$big_raw" "$out/cp-$mode" ||
        fail "cp --sparse=$mode of $big_raw failed or took over 120 s"
    same_and_sparse "$big_exp" "$out/cp-$mode" "$big_raw"
    rm "$out/cp-$mode"
done

timeout 120 tar -C "$mnt" -cSf "$out/big.tar" "$(basename "$big_raw")" ||
    fail "tar -S of $big_raw failed or took over 120 s"
mkdir "$out/tar"
tar -C "$out/tar" -xSf "$out/big.tar"
same_and_sparse "$big_exp" "$out/tar/$(basename "$big_raw")" "$big_raw"
rm -r "$out/big.tar" "$out/tar"

medium=v3-c2m.qcow2
raw=$mnt/$(shown_name $medium)
exp=$corpus/expected/$medium.raw
dd if="$raw" of="$out/dd" bs=64K conv=sparse status=none
same_and_sparse "$exp" "$out/dd" "$raw"
rsync --sparse "$raw" "$out/rsync"
same_and_sparse "$exp" "$out/rsync" "$raw"
