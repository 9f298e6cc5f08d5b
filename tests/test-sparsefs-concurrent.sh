#!/bin/bash
# 16 processes read random ranges of compressed, plain and backed images at
# once (one shared engine cache, one shared open per image): every read
# returns qemu-img's bytes, whether served by the daemon or the page cache.
# Concurrent opens of one image share one engine image (the daemon holds
# the image file open as often as for one open), closed with the last open.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

# A cache far smaller than the data read: entries are evicted under load.
mount_corpus -o cache=4M

images=(zstd-c2m.qcow2 zlib-c64k.qcow2 v3-c2m.qcow2 chain-top.qcow2)
pids=()
for i in $(seq 16); do
    name=${images[i % ${#images[@]}]}
    $LSEEK random-read "$mnt/$(shown_name "$name")" \
        "$corpus/expected/$name.raw" 300 "$i" &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done
[ "$failed" = 0 ] || fail "$failed of 16 readers got wrong bytes"
kill -0 "$sparsefs_pid" || fail "sparsefs died"

# image_fds FILE: how many descriptors of FILE the daemon holds.
image_fds ()
{
    local fd n=0
    for fd in /proc/"$sparsefs_pid"/fd/*; do
        if [ "$(readlink "$fd")" = "$1" ]; then n=$((n + 1)); fi
    done
    echo $n
}
image=$(realpath "$corpus/images/zstd-c2m.qcow2")
raw=$mnt/$(shown_name zstd-c2m.qcow2)
no_image_fds () { [ "$(image_fds "$image")" = 0 ]; }
wait_for no_image_fds         # releases arrive after close() returns
# One open: the engine's descriptor, which also watches the file for
# changes under the open.
exec 4< "$raw"
head -c 1 <&4 >/dev/null
one=$(image_fds "$image")
exec 4<&-
[ "$one" = 1 ] || fail "1 open of $raw: the daemon holds $one descriptors of the image, want 1"
wait_for no_image_fds
exec 4< "$raw" 5< "$raw" 6< "$raw" 7< "$raw"
head -c 1 <&4 >/dev/null; head -c 1 <&7 >/dev/null
n=$(image_fds "$image")
exec 4<&- 5<&- 6<&- 7<&-
[ "$n" = "$one" ] || fail "4 opens of $raw: the daemon holds $n descriptors of the image, as many as for 1 open ($one)"
wait_for no_image_fds
