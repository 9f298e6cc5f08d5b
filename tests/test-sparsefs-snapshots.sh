#!/bin/bash
# sparsefs shows every internal snapshot of a qcow2 image beside it as
# NAME@SNAPSHOT.raw (the rule: snapshot_entries in sparsefs-functions.sh,
# and sparsefs(1)).  Over the snapshots of the corpus (corpus-snapshots.sh):
#  - the folder shows exactly the snapshot files the rule names for its
#    images (those of corpus-snapshots.sh and any other): odd
#    names escaped, a name used twice once (the first), an empty name by ID;
#  - each reads byte-identical to `qemu-img convert -l`, with qemu's size;
#  - its SEEK_DATA / SEEK_HOLE answers are consistent, and its holes are
#    zeros in qemu's output;
#  - user.sparsefs.snapshot says its ID and name;
#  - an image or folder that takes a snapshot's name hides the snapshot.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires qemu-img --version
requires python3 --version
requires getfattr --version

check="python3 $srcdir/sparse-check.py"
mount_corpus
images=$corpus/images
failed=()

# bad CASE WHY: a failed case, told at once and counted.
bad ()
{
    printf 'FAIL: %s: %s\n' "$1" "$2" >&2
    failed+=("$1")
}

# check_snapshot IMAGE SHOWN SELECTOR ID NAME
check_snapshot ()
{
    local image=$1 raw=$mnt/$2 selector=$3 id=$4 name=$5 attr
    qemu-img convert -l "$selector" -O raw "$images/$image" "$tmp/qemu.raw"
    if ! cmp -s "$tmp/qemu.raw" "$raw"; then
        bad "$2" "reads unlike qemu-img convert -l '$selector'"
        return
    fi
    if ! $LSEEK map "$raw" > "$tmp/seek.map" || ! $LSEEK check "$raw" "$tmp/seek.map" ||
       ! $check zeros "$tmp/qemu.raw" "$tmp/seek.map"; then
        bad "$2" "SEEK_DATA / SEEK_HOLE disagree with its bytes"
        return
    fi
    attr=$(getfattr --only-values -n user.sparsefs.snapshot "$raw" 2>/dev/null)
    if [ "$attr" != "$(printf '%s\n%s' "$id" "$name")" ]; then
        bad "$2" "user.sparsefs.snapshot is '$attr', want '$id' '$name'"
        return
    fi
    echo "ok: $2"
}

snapshot_entries "$images"/* > "$tmp/entries"
cut -f2 "$tmp/entries" > "$tmp/want"
while IFS=$'\t' read -r path shown selector id name; do
    check_snapshot "$(basename "$path")" "$shown" "$selector" "$id" "$name"
done < "$tmp/entries"

# The listing shows those and no other snapshot files.
ls -A "$mnt" | grep @ | sort > "$tmp/got"
sort "$tmp/want" | diff -u - "$tmp/got" || bad "listing" "snapshot files unlike the rule"
# The rule's odd cases are in the corpus: escaping, a name twice, no name.
for shown in 'snap-v3@odd%2Fname@%25.raw' snap-names@twice.raw snap-names@4.raw; do
    grep -qxF "$shown" "$tmp/got" || bad "$shown" "not shown"
done
[ "$(grep -c '^snap-names@' "$tmp/got")" = 3 ] || bad "snap-names" "not 3 snapshot files"

# Collisions: an image or a folder under a snapshot's name wins.
src=$tmp/src
mkdir "$src" "$src/disk@twice.raw"
cp "$images/snap-names.qcow2" "$src/disk.qcow2"
cp "$images/snap-names.qcow2" "$src/disk@2.qcow2"
mkdir "$tmp/mnt2"
start_sparsefs "$src" "$tmp/mnt2"
ls -A "$tmp/mnt2" | sort > "$tmp/got2"
printf '%s\n' disk.raw disk@2.raw disk@2@2.raw disk@2@4.raw disk@2@twice.raw \
       disk@4.raw disk@twice.raw | sort | diff -u - "$tmp/got2" ||
    bad "collisions" "shown unlike the rule"
[ -d "$tmp/mnt2/disk@twice.raw" ] || bad "collisions" "the folder lost its name"
cmp -s "$corpus/expected/snap-names.qcow2.raw" "$tmp/mnt2/disk@2.raw" ||
    bad "collisions" "disk@2.raw is not the image disk@2.qcow2"

kill -0 "$sparsefs_pid" || fail "sparsefs died"
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} case(s) failed: ${failed[*]}"
