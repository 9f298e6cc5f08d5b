#!/bin/bash
# sparseinfo on the corpus's OVA archives: one report per disk, in the
# disk list's order, each naming the archive as given, the disk and its
# index; the disk's layer is "ARCHIVE/DISK", its virtual size qemu's for
# the disk file before it went in, its data bytes the engine's map's, its
# actual size the bytes of the member (not of the archive) that the file
# system holds as data (Python's tarfile finds the member).
# Exit 0: every disk is safe.  A disk in an OVA that names a file beside
# it is unsafe (the archive must hold all of it).
. "$srcdir/functions.sh"
requires qemu-img --version
requires jq --version
requires python3 --version

# member_allocated ARCHIVE MEMBER: MEMBER's data bytes that lie in data
# runs of ARCHIVE (SEEK_DATA/SEEK_HOLE).
member_allocated ()
{
    python3 - "$1" "$2" <<'EOF'
import os, sys, tarfile
with tarfile.open(sys.argv[1]) as archive:
    member = archive.getmember(sys.argv[2])
fd = os.open(sys.argv[1], os.O_RDONLY)
pos, end, allocated = member.offset_data, member.offset_data + member.size, 0
while pos < end:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:         # ENXIO: only a hole from here on
        break
    if data >= end:
        break
    pos = min(os.lseek(fd, data, os.SEEK_HOLE), end)
    allocated += pos - data
print(allocated)
EOF
}

corpus=$(corpus)
ova=$corpus/ova
tmp=$(make_tmpdir)

cd "$ova"
for name in $(cut -d' ' -f1 MANIFEST | uniq); do
    timeout 10 "$SPARSEINFO" --json "$name" > "$tmp/info.json" ||
        fail "$name: sparseinfo exit status $?"
    grep "^$name " MANIFEST > "$tmp/disks"
    [ "$(jq length "$tmp/info.json")" -eq "$(wc -l < "$tmp/disks")" ] ||
        fail "$name: $(jq length "$tmp/info.json") reports for $(wc -l < "$tmp/disks") disks"
    while read -r _ index disk; do
        size=$(stat -c %s "expected/$name.$index.raw")
        data=$("$IMGDUMP" --disk "$index" map "$name" |
               awk '$3 == "data" { n += $2 } END { print n + 0 }')
        member=$(member_allocated "$name" "$disk")
        jq -e --arg name "$name" --arg disk "$disk" --argjson i "$index" \
              --argjson size "$size" --argjson data "$data" \
              --argjson member "$member" '
          .[$i] | .filename == $name and .disk == $disk and ."disk-index" == $i
                  and .verdict == "safe" and ."data-bytes" == $data
                  and ."backing-chain"[0].filename == "\($name)/\($disk)"
                  and ."backing-chain"[0]."virtual-size" == $size
                  and ."backing-chain"[0]."actual-size" == $member' \
              "$tmp/info.json" > /dev/null ||
            fail "$name disk $index: $(jq -c ".[$index]" "$tmp/info.json")"
    done < "$tmp/disks"
    echo "ok: $name"
done

# Text output: the same fields.
"$SPARSEINFO" ova-three.ova > "$tmp/info.txt"
[ "$(grep -c '^disk: ' "$tmp/info.txt")" -eq 3 ] &&
    grep -qx 'disk: data.vmdk' "$tmp/info.txt" &&
    grep -qx 'disk-index: 2' "$tmp/info.txt" ||
    fail "ova-three.ova: text output $(cat "$tmp/info.txt")"

# A flat VMDK descriptor in an OVA naming its extent beside the archive:
# unsafe, even though the file is there.
cd "$tmp"
qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 1M
echo '<Envelope><References><File href="flat.vmdk"/></References></Envelope>' > vm.ovf
tar -cf flat.ova vm.ovf flat.vmdk
timeout 10 "$SPARSEINFO" --json flat.ova > "$tmp/info.json" && status=0 || status=$?
[ "$status" -eq 2 ] || fail "flat.ova: exit status $status"
jq -e '.[0] | .verdict == "unsafe" and .reasons[0].reason == "outside-allowed-dirs"
              and (.reasons[0].message | contains("a disk inside an OVA must be a single file"))' \
   "$tmp/info.json" > /dev/null || fail "flat.ova: $(cat "$tmp/info.json")"
