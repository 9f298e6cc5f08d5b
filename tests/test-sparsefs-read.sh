#!/bin/bash
# Mount the oracle corpus folder: exactly its images (qcow2, VDI, VHD) show,
# as NAME.raw, and each reads byte for byte as `qemu-img convert -O raw` wrote it.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

mount_corpus

# Shown: the image files of the folder (probed by content: backing files
# too) but VMDK extent files, and their internal snapshots, nothing else
# (raw images, MANIFEST).
{
    shown_images "$corpus/images"
    snapshot_entries "$corpus"/images/* | cut -f2
} | sort > "$tmp/want"
ls -A "$mnt" | sort > "$tmp/got"
diff -u "$tmp/want" "$tmp/got" || fail "the mount does not show exactly the images"
grep -qx vdi-dynamic.raw "$tmp/want" && grep -qx vhd-fixed.raw "$tmp/want" ||
    fail "the corpus shows no VDI or no fixed VHD image"

failed=()
while read -r name; do
    raw=$mnt/$(shown_name "$name")
    exp=$corpus/expected/$name.raw
    if [ "$(stat -c %s "$exp")" -gt $((1 << 30)) ]; then
        # Too big to read whole: compare what either side holds as data.
        python3 "$srcdir/sparse-check.py" cmp "$exp" "$raw" || failed+=("$name")
    else
        cmp "$exp" "$raw" || failed+=("$name")
    fi
done < <(image_manifest "$corpus")
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} raw view(s) differ from qemu-img: ${failed[*]}"

# Still alive and serving after all of it.
kill -0 "$sparsefs_pid" || fail "sparsefs died"

# The page cache is kept across opens while the image is unchanged: a
# second reader gets the file without the daemon reading its data again.
# (The daemon's rchar still grows by the requests it reads from /dev/fuse
# and by the engine reopening the image: its first cluster, here 2 MiB.)
raw=$mnt/$(shown_name v3-c2m.qcow2)
data=$(allocated_bytes "$raw")
[ "$data" -ge $((8 << 20)) ] || fail "$raw: only $data bytes of data, too few to tell"
rchar () { awk '/^rchar:/ { print $2 }' "/proc/$sparsefs_pid/io"; }
cat "$raw" > /dev/null
before=$(rchar)
cmp "$corpus/expected/v3-c2m.qcow2.raw" "$raw"
after=$(rchar)
[ $((after - before)) -lt $((data / 2)) ] ||
    fail "$raw: read again through the daemon ($((after - before)) bytes) instead of the page cache"
