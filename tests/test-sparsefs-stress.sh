#!/bin/bash
# 16 readers and 8 SEEK_DATA / SEEK_HOLE callers at once for 10 s over
# compressed (zlib, zstd), chained and extended-L2 images, with a small
# engine cache so that entries are evicted under load, and the page cache
# dropped before every read so that the daemon serves each one:
#  - every byte read equals qemu-img's output;
#  - every seek answers as `imgdump map` says (ENXIO past the data);
#  - the daemon is still up and idle afterwards.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

mount_corpus -o cache=4M

seconds=10
images=(zstd-c2m.qcow2 zlib-c64k.qcow2 chain-top.qcow2 el2-c64k.qcow2
        el2-c2m.qcow2 zstd-c64k.qcow2 v3-c2m.qcow2 over-compressed.qcow2)
for name in "${images[@]}"; do
    $IMGDUMP map "$corpus/images/$name" > "$tmp/$name.map"
    ln -s "$corpus/expected/$name.raw" "$tmp/$name.raw"
done

# start_callers MODE COUNT ORACLE: COUNT `sparsefs-lseek.py MODE` processes
# over the images in turn, each checked against $tmp/IMAGE.ORACLE; their
# output in $tmp/MODE.I, their pids added to $pids.
pids=()
start_callers ()
{
    local i name
    for i in $(seq "$2"); do
        name=${images[i % ${#images[@]}]}
        $LSEEK "$1" "$mnt/$(shown_name "$name")" "$tmp/$name.$3" \
            $seconds "$i" > "$tmp/$1.$i" &
        pids+=($!)
    done
}
start_callers read-for 16 raw
start_callers seek-for 8 map
failed=0
for pid in "${pids[@]}"; do
    # Each stops by itself after $seconds: a hang shows as a timeout here.
    timeout $((seconds + 30)) tail --pid="$pid" -f /dev/null ||
        fail "a reader or seeker still runs $((seconds + 30)) s later"
    wait "$pid" || failed=$((failed + 1))
done
[ "$failed" = 0 ] || fail "$failed of ${#pids[@]} readers and seekers got wrong answers"
reads=$(cat "$tmp"/read-for.* | awk '{ n += $2 } END { print n }')
seeks=$(cat "$tmp"/seek-for.* | awk '{ n += $2 } END { print n }')
echo "ok: $reads reads, $seeks seeks in $seconds s"
[ "$reads" -ge 160 ] && [ "$seeks" -ge 80 ] ||
    fail "too few calls to test anything: $reads reads, $seeks seeks"
kill -0 "$sparsefs_pid" || fail "sparsefs died"
