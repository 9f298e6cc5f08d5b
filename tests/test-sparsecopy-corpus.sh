#!/bin/bash
# Every corpus image copied onto a loop device whose backing file is full of
# garbage: the image range must equal qemu-img's output, the backing file
# must stay thin, nothing past the image may change.  Loop devices with 512-
# and 4096-byte sectors (4096: every 512-aligned hole edge is rounded and
# written; odd sizes end in a partial block).  Images too large for a loop
# device here (the 4 TiB one) go to a new sparse file instead.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires python3 --version
requires jq --version

corpus=$(corpus)
scratch_mount tmpfs size=1G
dir=$scratch
check="python3 $srcdir/sparse-check.py"
max_loop_size=$(( 256 * 1024 * 1024 ))

copy_to_loop ()
{
    local name=$1 sector=$2
    prepare_loop "$name" "$dir" --sector-size "$sector"
    "$SPARSECOPY" --json "$corpus/images/$name" "$target" > "$dir/json" ||
        fail "$name: sparsecopy failed (sector size $sector)"
    [ "$(json_field "$dir/json" .complete)" = true ] ||
        fail "$name: summary says incomplete"
    check_on_loop "$name" "$target" "$backing" "$tail"
    detach_loop "$target" "$backing"
    rm -f "$backing" "$tail"
}

copy_to_new_file ()
{
    local name=$1
    "$SPARSECOPY" "$corpus/images/$name" "$dir/$name.new" ||
        fail "$name: sparsecopy to a new file failed"
    $check cmp "$corpus/expected/$name.raw" "$dir/$name.new" ||
        fail "$name: the new file differs from qemu-img's output"
    [ "$(allocated_bytes "$dir/$name.new")" -le \
      $(( $(allocated_bytes "$corpus/expected/$name.raw") + 65536 )) ] ||
        fail "$name: the new file is not sparse"
    rm -f "$dir/$name.new"
}

n=0
while read -r name; do
    if [ "$(image_size "$name")" -gt "$max_loop_size" ]; then
        copy_to_new_file "$name"
    else
        copy_to_loop "$name" 512
        copy_to_loop "$name" 4096
    fi
    echo "ok: $name"
    n=$(( n + 1 ))
done < "$corpus/images/MANIFEST"
[ "$n" -gt 30 ] || fail "only $n corpus images"
