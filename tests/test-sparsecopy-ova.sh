#!/bin/bash
# sparsecopy --disk: each disk of the corpus's OVA archives copied onto a
# loop device whose backing file is full of garbage must equal qemu-img's
# output of the disk file before it went into the tar, keep the backing
# file thin and leave the bytes past it alone (see test-sparsecopy-corpus.sh).
# An OVA's only disk is the default; with several, sparsecopy exits 2
# listing them; --disk on a stream or a file that is not an OVA is refused.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version

corpus=$(corpus)
ova=$corpus/ova
scratch_mount tmpfs size=256M
dir=$scratch

n=0
while read -r name index disk; do
    raw=$ova/expected/$name.$index.raw
    prepare_raw_loop "$raw" "$dir/$name.$index"
    "$SPARSECOPY" --disk="$index" "$ova/$name" "$target" ||
        fail "$name: sparsecopy --disk=$index failed"
    check_raw_on_loop "$raw" "$target" "$backing" "$tail" "$name disk $index"
    detach_loop "$target" "$backing"
    rm -f "$backing" "$tail"
    echo "ok: $name disk $index ($disk)"
    n=$((n + 1))
done < "$ova/MANIFEST"
[ "$n" -ge 7 ] || fail "only $n OVA disks in the corpus"

# By name, and the only disk by default, to a new file.
"$SPARSECOPY" --disk=data.vmdk "$ova/ova-three.ova" "$dir/by-name" &&
    cmp "$ova/expected/ova-three.ova.1.raw" "$dir/by-name" ||
    fail "ova-three.ova: --disk=data.vmdk did not copy data.vmdk"
"$SPARSECOPY" "$ova/ova-qcow2.ova" "$dir/only" &&
    cmp "$ova/expected/ova-qcow2.ova.0.raw" "$dir/only" ||
    fail "ova-qcow2.ova: its only disk is not the default"

# refused MESSAGE ARGS...: sparsecopy exits 2 with exactly MESSAGE.
refused ()
{
    local want=$1 status
    shift
    "$SPARSECOPY" "$@" 2> "$dir/stderr" && status=0 || status=$?
    [ "$status" -eq 2 ] || fail "sparsecopy $*: exit status $status"
    [ "$(head -1 "$dir/stderr")" = "sparsecopy: $want" ] ||
        fail "sparsecopy $*: message $(cat "$dir/stderr") -- expected sparsecopy: $want"
}
three=$ova/ova-three.ova
refused "$three: the OVA holds 3 disks: select one by index or name (0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    "$three" "$dir/none"
refused "$three: the OVA holds no disk \"9\" (its disks: 0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    --disk=9 "$three" "$dir/none"
refused "-: --disk reads an OVA archive from a local file, not from a stream (-, a FIFO, a URL)" \
    --disk=0 - "$dir/none" < "$three"
refused "$ova/expected/ova-qcow2.ova.0.raw: a disk (\"0\") is selected, but this is not an OVA archive" \
    --disk=0 "$ova/expected/ova-qcow2.ova.0.raw" "$dir/none"
[ ! -e "$dir/none" ] || fail "a refused copy created its target"
