#!/bin/bash
# A file on a sparsefs mount as the source: read as raw, its holes found
# with SEEK_DATA/SEEK_HOLE through FUSE, so only the data is read.  Each
# image goes onto a loop device over garbage and must equal qemu-img's
# output, with the backing file thin and nothing past the image changed.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires_fuse
requires qemu-img --version
requires jq --version
[ -x "$SPARSEFS" ] || skip "no sparsefs built"

corpus=$(corpus)
scratch_mount tmpfs size=512M
dir=$scratch
mkdir "$dir/mnt"
start_sparsefs "$corpus/images" "$dir/mnt"

for name in v3-c64k.qcow2 zero-clusters.qcow2 zstd-c64k.qcow2 \
            chain-top.qcow2 el2-c64k.qcow2 zlib-c64k.qcow2; do
    prepare_loop "$name" "$dir"
    "$SPARSECOPY" --json "$dir/mnt/$(shown_name "$name")" "$target" \
        > "$dir/json"
    check_on_loop "$name" "$target" "$backing" "$tail"
    [ "$(json_field "$dir/json" .source_format)" = raw ] ||
        fail "$name: not read as raw"
    # Holes are not read: at most the data qemu allocated, plus rounding of
    # each run to the 512-byte sector and 4 KiB zero detection.
    [ "$(json_field "$dir/json" .bytes_read)" -le \
      $(( $(allocated_bytes "$corpus/expected/$name.raw") + 262144 )) ] ||
        fail "$name: read $(json_field "$dir/json" .bytes_read) bytes"
    detach_loop "$target" "$backing"
    rm -f "$backing" "$tail"
    echo "ok: $name"
done
