#!/bin/bash
# A folder of many images: every image shows under its name with the size
# and blocks qemu-img gives, whether its attributes come from a lookup
# (stat by name) or with the listing (ls -l, readdirplus); an image
# rewritten in place shows its new size in the next listing; and the
# daemon's listing of the folder says what it holds in memory
# (user.sparsefs.listing_entries, listing_bytes), within the bound the
# man page gives: 160 bytes per entry plus three times its name.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires qemu-img --version
requires jq --version
requires python3 --version
requires getfattr --version

export LC_ALL=C
tmp=$(make_tmpdir)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt" "$tmp/kinds" "$src/subfolder"
count=600

# A few kinds of image; the folder holds copies of them in turn.
qemu-img create -q -f qcow2 "$tmp/kinds/0" 1G
qemu-img create -q -f qcow2 -o cluster_size=4096 "$tmp/kinds/1" 100M
qemu-io -c 'write -P 1 0 64k' -c 'write -P 2 50M 12k' "$tmp/kinds/1" > /dev/null
qemu-img create -q -f qcow2 "$tmp/kinds/2" 3G
qemu-io -c 'write -P 3 1M 1M' -c 'write -P 4 2G 128k' "$tmp/kinds/2" > /dev/null
head -c 3M /dev/urandom > "$tmp/random"
qemu-img convert -q -c -O qcow2 -f raw "$tmp/random" "$tmp/kinds/3"
kinds=4
echo "not an image" > "$src/notes.txt"

python3 - "$tmp/kinds" "$src" "$count" "$kinds" <<'EOF'
import os, sys
kinds, folder, count, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = [open(os.path.join(kinds, str(k)), 'rb').read() for k in range(n)]
for i in range(count):
    with open(os.path.join(folder, 'disk%04d.qcow2' % i), 'wb') as f:
        f.write(data[i % n])
EOF

# What qemu-img says of each kind: "SIZE BLOCKS".
declare -A want_kind
for k in $(seq 0 $((kinds - 1))); do
    size=$(qemu-img info --output=json "$tmp/kinds/$k" | jq '.["virtual-size"]')
    data=$(qemu-img map --output=json "$tmp/kinds/$k" |
               jq '[.[] | select(.data) | .length] | add // 0')
    want_kind[$k]="$size $(( (data + 511) / 512 ))"
done

# expected: "NAME SIZE BLOCKS" of every raw file, sorted by name.
expected ()
{
    local i
    for i in $(seq 0 $((count - 1))); do
        printf 'disk%04d.raw %s\n' "$i" "${want_kind[$((i % kinds))]}"
    done
}
expected > "$tmp/expected"

# ---- attributes by lookup, then by listing ------------------------------
start_sparsefs "$src" "$mnt"
(cd "$mnt" && stat -c '%n %s %b' $(cut -d' ' -f1 "$tmp/expected")) > "$tmp/by-lookup"
diff -u "$tmp/expected" "$tmp/by-lookup" || fail "stat by name differs from qemu-img"
fusermount3 -u "$mnt"

start_sparsefs "$src" "$mnt"
ls "$mnt" > "$tmp/names"
{ cut -d' ' -f1 "$tmp/expected"; echo subfolder; } | sort > "$tmp/expected-names"
diff -u "$tmp/expected-names" "$tmp/names" || fail "names shown differ"
ls -l "$mnt" | awk '$1 ~ /^-/ { print $9, $5 }' > "$tmp/by-listing"
cut -d' ' -f1,2 "$tmp/expected" | diff -u - "$tmp/by-listing" ||
    fail "ls -l sizes differ from qemu-img"
(cd "$mnt" && stat -c '%n %s %b' *.raw) > "$tmp/by-listing"
diff -u "$tmp/expected" "$tmp/by-listing" || fail "stat after ls differs from qemu-img"

# ---- what the listing holds ---------------------------------------------
entries=$(getfattr --only-values -n user.sparsefs.listing_entries "$mnt")
bytes=$(getfattr --only-values -n user.sparsefs.listing_bytes "$mnt")
names_length=$(ls "$src" | grep -v notes.txt | awk '{ n += length($0) } END { print n }')
bound=$(( 4096 + (count + 1) * 160 + 3 * names_length ))
echo "listing: $entries entries, $bytes bytes (bound $bound)"
[ "$entries" = $((count + 1)) ] || fail "listing_entries $entries, want $((count + 1))"
[ "$bytes" -gt "$names_length" ] || fail "listing_bytes $bytes counts less than the names"
[ "$bytes" -le "$bound" ] || fail "listing_bytes $bytes over the bound $bound"
getfattr --only-values -n user.sparsefs.listing_bytes "$mnt/subfolder" > /dev/null ||
    fail "no listing_bytes for a subfolder"

# ---- a rewrite in place shows in the next listing -----------------------
cat "$tmp/kinds/2" > "$src/disk0000.qcow2"
sleep 2
ls -l "$mnt" | awk '$9 == "disk0000.raw" { print $5 }' > "$tmp/size"
[ "$(cat "$tmp/size")" = "${want_kind[2]% *}" ] ||
    fail "disk0000.raw rewritten: ls -l shows $(cat "$tmp/size"), want ${want_kind[2]% *}"
