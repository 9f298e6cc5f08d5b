#!/bin/bash
# Every disk of the corpus's OVA archives (tests/corpus-ova.sh) read in
# place by the engine must equal `qemu-img convert -O raw` of the disk
# file before it went into the tar, and its map must agree with qemu's map
# of that file (see test-oracle.sh); imgdump lists the disks in the OVF's
# order, and a disk is chosen by index or name, or refused with the list.
. "$srcdir/functions.sh"
requires qemu-img --version
requires python3 --version

corpus=$(corpus)
ova=$corpus/ova
tmp=$(make_tmpdir)
check="python3 $srcdir/sparse-check.py"
failed=()

check_disk ()
{
    local name=$1 index=$2 disk=$3 exp=$ova/expected/$1.$2
    $IMGDUMP --disk "$index" raw "$ova/$name" "$tmp/raw" &&
    $IMGDUMP --disk "$index" map "$ova/$name" > "$tmp/map" &&
    $check all "$exp.raw" "$tmp/raw" "$tmp/map" "$exp.map.json" &&
    # By name too, and the description says which disk it is.
    $IMGDUMP --disk "$disk" info "$ova/$name" > "$tmp/info" &&
    grep -qxF "archive_disk: $index $disk at $(disk_offset "$name" "$index")" "$tmp/info" &&
    grep -qxF "image: $ova/$name/$disk" "$tmp/info"
}

# disk_offset NAME INDEX: where the disk's data starts in the archive, as
# the disk list says (checked against tar below).
disk_offset ()
{
    $IMGDUMP disks "$ova/$1" | awk -v i="$2" '$1 == i { print $3 }'
}

n=0
while read -r name index disk; do
    if check_disk "$name" "$index" "$disk"; then
        echo "ok: $name disk $index ($disk)"
    else
        echo "FAIL: $name disk $index ($disk)" >&2
        failed+=("$name:$index")
    fi
    n=$((n + 1))
done < "$ova/MANIFEST"
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} OVA disk(s) differ from qemu: ${failed[*]}"
[ "$n" -ge 7 ] || fail "only $n OVA disks in the corpus"

# The disk list is the OVF's, in order, each disk where tar put it: the
# data of a member starts right after its (last) header block.
$IMGDUMP disks "$ova/ova-three.ova" > "$tmp/disks"
[ "$(cut -d' ' -f2 "$tmp/disks" | paste -sd' ')" = "system.vmdk data.vmdk scratch.img" ] ||
    fail "ova-three.ova: disks listed as $(cat "$tmp/disks")"
while read -r index disk offset size; do
    cmp -s <(tail -c +$((offset + 1)) "$ova/ova-three.ova" | head -c "$size") \
        <(tar -xOf "$ova/ova-three.ova" "$disk") ||
        fail "ova-three.ova: $disk is not at offset $offset ($size bytes)"
done < "$tmp/disks"
# A file that is not an OVA has no disks.
[ -z "$($IMGDUMP disks "$ova/expected/ova-stream.ova.0.raw")" ] ||
    fail "a raw file listed disks"

# No disk chosen in an OVA of several, or one it does not hold: refused
# with the list; a disk chosen in a file that is not an OVA: refused.
refused ()
{
    local want=$1
    shift
    ! "$IMGDUMP" "$@" > /dev/null 2> "$tmp/stderr" ||
        fail "accepted: imgdump $*"
    [ "$(cat "$tmp/stderr")" = "imgdump: $want" ] ||
        fail "imgdump $*: message $(cat "$tmp/stderr") -- expected imgdump: $want"
}
three=$ova/ova-three.ova
refused "$three: the OVA holds 3 disks: select one by index or name (0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    info "$three"
refused "$three: the OVA holds no disk \"3\" (its disks: 0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    --disk 3 info "$three"
refused "$three: the OVA holds no disk \"disk.vmdk\" (its disks: 0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    --disk disk.vmdk info "$three"
raw=$ova/expected/ova-stream.ova.0.raw
refused "$raw: a disk (\"0\") is selected, but this is not an OVA archive" \
    --disk 0 info "$raw"
# The only disk is the default.
$IMGDUMP info "$ova/ova-stream.ova" | grep -qx "image: $ova/ova-stream.ova/disk1.vmdk" ||
    fail "ova-stream.ova: its only disk is not the default"
