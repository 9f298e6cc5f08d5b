#!/bin/bash
# A split VMDK (twoGbMaxExtentSparse, twoGbMaxExtentFlat) shows once in a
# sparsefs folder, as its descriptor: the extent files that a descriptor
# in the same folder names are neither listed nor found by name, while
# every other image shows.  The disks read byte-exact (qemu-img's raw
# view, from the corpus), and a descriptor rewritten to name fewer
# extents shows its former extent file again.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

export LC_ALL=C
corpus=$(corpus)
tmp=$(make_tmpdir)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"

# The corpus's split disks with their extent files, and a monolithic one.
for disk in vmdk-2g-Sparse vmdk-2g-Flat vmdk-sparse; do
    for file in "$corpus/images/$disk".vmdk "$corpus/images/$disk"-[sf]0*.vmdk; do
        [ -e "$file" ] || continue
        ln "$file" "$src/" 2>/dev/null || cp --sparse=always "$file" "$src/"
    done
done
ls "$src"/vmdk-2g-Sparse-s00*.vmdk >/dev/null || fail "the corpus has no sparse extent files"

start_sparsefs "$src" "$mnt"

shown_images "$src" > "$tmp/want"
extent_files "$src" > "$tmp/extents"
[ "$(wc -l < "$tmp/extents")" -ge 6 ] || fail "the descriptors name too few extents: $(cat "$tmp/extents")"
ls "$mnt" | sort > "$tmp/got"
diff "$tmp/want" "$tmp/got" || fail "the listing is not what should show"

# A hidden extent file is not found by name either.
while read -r extent; do
    hidden=$mnt/$(shown_name "$extent")
    ! stat "$hidden" > /dev/null 2>&1 || fail "$hidden: found by name"
done < "$tmp/extents"

# The disks read as qemu-img reads them.
for disk in vmdk-2g-Sparse vmdk-2g-Flat vmdk-sparse; do
    python3 "$srcdir/sparse-check.py" cmp "$corpus/expected/$disk.vmdk.raw" "$mnt/$disk.raw" ||
        fail "$disk.raw differs from qemu-img's raw view"
done

# A descriptor that names one extent fewer: that file shows again (a new
# version of the descriptor is read again).  A new file, renamed over the
# old one: the folder's files may be the corpus's, hard-linked.
descriptor=$src/vmdk-2g-Sparse.vmdk
last=$(grep -ao '"vmdk-2g-Sparse-s00[0-9].vmdk"' "$descriptor" | tail -1 | tr -d '"')
[ -n "$last" ] || fail "$descriptor names no extent"
grep -av "\"$last\"" "$descriptor" > "$tmp/descriptor"
mv "$tmp/descriptor" "$descriptor"
wait_for test -e "$mnt/$(shown_name "$last")" ||
    fail "$(shown_name "$last"): not shown once no descriptor names it"
