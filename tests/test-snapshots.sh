#!/bin/bash
# Every internal snapshot of the corpus (corpus-snapshots.sh lists them)
# must read exactly as `qemu-img convert -l` writes it:
#  - the engine (imgdump) lists the snapshots qemu-img info lists, IDs and
#    names in table order;
#  - each snapshot, named by snapshot.id=, snapshot.name= and as a bare
#    ID and a bare name (qemu tries an ID first), reads byte-identical
#    through imgdump, or is refused where qemu refuses it;
#  - sparsecopy --snapshot copies it byte-identical.
. "$srcdir/functions.sh"
requires qemu-img --version
requires python3 --version

corpus=$(corpus)
images=$corpus/images
tmp=$(make_tmpdir)
failed=()

report ()
{
    if [ $# -eq 1 ]; then
        echo "ok: $1"
    else
        printf 'FAIL: %s: %s\n' "$1" "$2" >&2
        failed+=("$1")
    fi
}

# snapshot_list IMAGE: "ID NAME" lines, as qemu-img info lists them.
snapshot_list ()
{
    qemu-img info --output=json "$images/$1" | python3 -c '
import json, sys
for s in json.load(sys.stdin).get("snapshots", []):
    print(s["id"], s["name"])'
}

# compare IMAGE SNAPSHOT-TEXT: imgdump --snapshot and qemu-img convert -l
# agree: the same bytes, or both refuse.
compare ()
{
    local what="$1 -l '$2'" q=0 e=0
    qemu-img convert -l "$2" -O raw "$images/$1" "$tmp/qemu.raw" \
             2>/dev/null || q=$?
    "$IMGDUMP" --snapshot "$2" raw "$images/$1" "$tmp/engine.raw" \
               2> "$tmp/stderr" || e=$?
    if [ $q -ne 0 ] && [ $e -ne 0 ]; then
        report "$what (both refuse)"
    elif [ $q -ne 0 ]; then
        report "$what" "qemu-img refuses it, imgdump reads it"
    elif [ $e -ne 0 ]; then
        report "$what" "imgdump refuses it: $(cat "$tmp/stderr")"
    elif cmp -s "$tmp/qemu.raw" "$tmp/engine.raw"; then
        report "$what"
    else
        report "$what" "reads unlike qemu"
    fi
}

# The corpus holds what it is meant to.
[ "$(wc -l < "$images/SNAPSHOTS")" -ge 20 ] || fail "the corpus lacks its snapshots"
[ "$(qemu-img info "$images/snap-grown.qcow2" | grep -c 'virtual size: 8 MiB')" = 1 ] ||
    fail "snap-grown.qcow2 did not grow after its first snapshot"

for image in $(cut -d' ' -f1 "$images/SNAPSHOTS" | uniq); do
    snapshot_list "$image" > "$tmp/qemu.list"
    "$IMGDUMP" info "$images/$image" | sed -n 's/^snapshot: //p' > "$tmp/engine.list"
    if cmp -s "$tmp/qemu.list" "$tmp/engine.list"; then
        report "$image: snapshot list"
    else
        report "$image: snapshot list" "$(diff "$tmp/qemu.list" "$tmp/engine.list" | tr '\n' ' ')"
    fi
    while read -r id name; do
        compare "$image" "snapshot.id=$id"
        compare "$image" "$id"
        [ -z "$name" ] && continue
        compare "$image" "snapshot.name=$name"
        compare "$image" "$name"
    done < "$tmp/qemu.list"
done

# A snapshot that does not exist, by ID and by name.
compare snap-v3.qcow2 snapshot.id=9
compare snap-v3.qcow2 snapshot.name=none

# sparsecopy --snapshot, each snapshot by its ID (into a new file).
while read -r image id; do
    rm -f "$tmp/copy.raw"
    qemu-img convert -l "snapshot.id=$id" -O raw "$images/$image" "$tmp/qemu.raw"
    if ! "$SPARSECOPY" --snapshot="snapshot.id=$id" "$images/$image" "$tmp/copy.raw" \
         > /dev/null 2> "$tmp/stderr"; then
        report "sparsecopy --snapshot=snapshot.id=$id $image" "$(cat "$tmp/stderr")"
    elif cmp -s "$tmp/qemu.raw" "$tmp/copy.raw"; then
        report "sparsecopy --snapshot=snapshot.id=$id $image"
    else
        report "sparsecopy --snapshot=snapshot.id=$id $image" "copies unlike qemu"
    fi
done < "$images/SNAPSHOTS"

# sparsecopy: a bare value is an ID first ("2" is the name of snapshot 1
# and the ID of snapshot 2), then a name; a missing one is exit 2.
qemu-img convert -l 2 -O raw "$images/snap-names.qcow2" "$tmp/qemu.raw"
rm -f "$tmp/copy.raw"
"$SPARSECOPY" --snapshot=2 "$images/snap-names.qcow2" "$tmp/copy.raw" > /dev/null
cmp "$tmp/qemu.raw" "$tmp/copy.raw" || report "sparsecopy --snapshot=2" "copies unlike qemu -l 2"
status=0
"$SPARSECOPY" --snapshot=none "$images/snap-v3.qcow2" "$tmp/copy.raw" 2> "$tmp/stderr" || status=$?
[ $status -eq 2 ] && [ "$(cat "$tmp/stderr")" = "sparsecopy: $images/snap-v3.qcow2: no internal snapshot with ID or name \"none\" (3 snapshots)" ] ||
    report "sparsecopy --snapshot=none" "exit $status: $(cat "$tmp/stderr")"
status=0
"$SPARSECOPY" --snapshot=1 - "$tmp/copy.raw" < "$images/snap-v3.qcow2" 2> "$tmp/stderr" || status=$?
[ $status -eq 2 ] && [ "$(cat "$tmp/stderr")" = "sparsecopy: -: --snapshot reads a qcow2 image from a local file, not from a stream (-, a FIFO, a URL)" ] ||
    report "sparsecopy --snapshot=1 -" "exit $status: $(cat "$tmp/stderr")"
status=0
"$SPARSECOPY" --snapshot=1 "$images/vdi-dynamic.vdi" "$tmp/copy.raw" 2> "$tmp/stderr" || status=$?
[ $status -eq 2 ] && [ "$(cat "$tmp/stderr")" = "sparsecopy: $images/vdi-dynamic.vdi: internal snapshots are read from qcow2 images only (this is vdi)" ] ||
    report "sparsecopy --snapshot=1 on a VDI" "exit $status: $(cat "$tmp/stderr")"

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} case(s) failed: ${failed[*]}"
