#!/bin/bash
# sparsefs shows each OVA archive of a folder (a tar holding an .ovf, by
# content) as a folder under its own name, holding one raw file per disk,
# NAME.raw with NAME the disk's name escaped as snapshot names are (%, /
# and control bytes as %XX).  Each reads byte for byte as qemu-img reads
# the disk file before it went into the tar; SEEK_DATA/SEEK_HOLE give the
# engine's map, inside qemu's data, with holes that read as zeros in
# qemu's output; st_blocks and the xattrs are any image's.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version
requires getfattr --version

corpus=$(corpus)
ova=$corpus/ova
tmp=$(make_tmpdir)
mnt=$tmp/mnt
mkdir "$mnt"
start_sparsefs "$ova" "$mnt"
check="python3 $srcdir/sparse-check.py"

# escaped NAME: the shown name of disk NAME.
escaped ()
{
    python3 -c '
import sys
print("".join("%%%02X" % ord(c) if c in "%/" or ord(c) < 32 or ord(c) == 127
              else c for c in sys.argv[1]) + ".raw")' "$1"
}

check_disk ()
{
    local name=$1 index=$2 disk=$3 exp=$ova/expected/$1.$2 raw
    raw=$mnt/$name/$(escaped "$disk")
    cmp "$exp.raw" "$raw" &&
    $LSEEK map "$raw" > "$tmp/seek.map" &&
    $IMGDUMP --disk "$index" map "$ova/$name" > "$tmp/engine.map" &&
    diff -u "$tmp/engine.map" "$tmp/seek.map" &&
    $LSEEK check "$raw" "$tmp/seek.map" &&
    $check covered "$tmp/seek.map" "$exp.map.json" &&
    $check zeros "$exp.raw" "$tmp/seek.map" &&
    [ "$(stat -c %b "$raw")" -eq $(( ($(awk '$3 == "data" { n += $2 } END { print n + 0 }' "$tmp/seek.map") + 511) / 512 )) ] &&
    [ "$(getfattr --absolute-names --only-values -n user.sparsefs.format "$raw")" = \
      "$($IMGDUMP --disk "$index" info "$ova/$name" | sed -n 's/^format: //p')" ]
}

failed=()
while read -r name index disk; do
    if check_disk "$name" "$index" "$disk"; then
        echo "ok: $name disk $index ($disk)"
    else
        echo "FAIL: $name disk $index ($disk)" >&2
        failed+=("$name:$index")
    fi
done < "$ova/MANIFEST"
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} OVA disk(s) differ: ${failed[*]}"

# Each archive is a folder of exactly its disks, in the OVF's order.
for name in $(cut -d' ' -f1 "$ova/MANIFEST" | uniq); do
    [ -d "$mnt/$name" ] || fail "$name is not shown as a folder"
    diff <(grep "^$name " "$ova/MANIFEST" | while read -r _ _ disk; do escaped "$disk"; done) \
         <(ls -U "$mnt/$name") || fail "$name: the folder does not hold exactly its disks"
done

# A disk name with '%' and a '/' (a member in a subfolder of the tar), and
# an archive without the .ova suffix: shown by content and escaped.
mkdir -p "$tmp/src/sub"
stamp_file="$ova/expected/ova-three.ova.2.raw"
cp "$stamp_file" "$tmp/src/sub/50%.img"
echo '<Envelope><References><File href="sub/50%.img"/></References></Envelope>' > "$tmp/src/vm.ovf"
(cd "$tmp/src" && tar -cf "$ova/../ova-escape.tar" vm.ovf "sub/50%.img")
mkdir "$tmp/mnt2" "$tmp/folder"
mv "$ova/../ova-escape.tar" "$tmp/folder/export"
start_sparsefs "$tmp/folder" "$tmp/mnt2"
[ "$(ls "$tmp/mnt2/export")" = "sub%2F50%25.img.raw" ] ||
    fail "escaped disk name: $(ls "$tmp/mnt2/export")"
cmp "$stamp_file" "$tmp/mnt2/export/sub%2F50%25.img.raw" ||
    fail "the escaped disk reads unlike its file"
# A disk's measure is remembered per version of its archive: rewritten
# in place (same inode) with a disk of another size and data under the
# same name, the archive's disk shows the new size and bytes at once.
disk=$tmp/mnt2/export/sub%2F50%25.img.raw
stat -c %s "$disk" > /dev/null
head -c $((3 * 65536)) /dev/urandom > "$tmp/src/sub/50%.img"
truncate -s $((5 * 1048576)) "$tmp/src/sub/50%.img"
(cd "$tmp/src" && tar -cf "$tmp/rewritten.tar" vm.ovf "sub/50%.img")
cat "$tmp/rewritten.tar" > "$tmp/folder/export"
fallocate --dig-holes "$tmp/folder/export"
sleep 1.5                       # past the kernel's attribute cache
[ "$(stat -c %s "$disk")" -eq $((5 * 1048576)) ] ||
    fail "a rewritten archive's disk shows the old size: $(stat -c %s "$disk")"
blocks=$(( ($($IMGDUMP --disk 0 map "$tmp/folder/export" |
              awk '$3 == "data" { n += $2 } END { print n + 0 }') + 511) / 512 ))
[ "$(stat -c %b "$disk")" -eq "$blocks" ] ||
    fail "a rewritten archive's disk shows $(stat -c %b "$disk") blocks, not $blocks"
cmp "$tmp/src/sub/50%.img" "$disk" ||
    fail "a rewritten archive's disk reads unlike its new file"
# Not a file to read, and nothing below a disk.
! cat "$tmp/mnt2/export" 2>/dev/null || fail "an archive's folder was read as a file"
! stat "$tmp/mnt2/export/none.raw" 2>/dev/null || fail "a missing disk shows"
kill -0 "$sparsefs_pid" || fail "sparsefs died"
