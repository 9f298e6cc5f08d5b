#!/bin/bash
# A source folder that changes while mounted, names that collide, files
# that are not images, and damaged images beside healthy ones:
#  - listing: qcow2 images (probed by content) as NAME.raw, full names where
#    two would collide, subfolders, nothing else;
#  - images added, removed, replaced (rename over, or rewritten in place)
#    show without a remount; a replaced image is served fresh to new opens
#    while an earlier open keeps reading the old one, never a mix;
#  - a damaged image shows, its reads fail with EIO, the engine's message is
#    logged once, and the healthy images and the daemon are unaffected.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version
requires getfattr --version

corpus=$(corpus)
img=$corpus/images
exp=$corpus/expected
tmp=$(make_tmpdir)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt" "$src/sub" "$src/e.raw"
copy () { cp --sparse=always "$img/$1" "$2"; }

copy v3-c64k.qcow2 "$src/a.qcow2"
copy zstd-c64k.qcow2 "$src/c.qcow2"
copy snapshots.qcow2 "$src/c.img"
copy v3-c64k.qcow2 "$src/d"
copy zlib-c64k.qcow2 "$src/e.qcow2"
copy zstd-c64k.qcow2 "$src/sub/b.img"
cp --sparse=always "$exp/v3-c64k.qcow2.raw" "$src/raw.img"   # raw: not shown
echo "not an image" > "$src/notes.txt"
: > "$src/empty.qcow2"
ln -s "$src/sub" "$src/link-to-folder"                    # not shown

start_sparsefs_logged "$tmp/log" "$src" "$mnt"

listing () { (cd "$mnt" && find . -mindepth 1 | sort | tr '\n' ' '); }
want="./a.raw ./c.img.raw ./c.img@first.raw ./c.img@second.raw ./c.qcow2.raw ./d.raw ./e.qcow2.raw ./e.raw ./sub ./sub/b.raw "
[ "$(listing)" = "$want" ] || fail "listing: got '$(listing)', want '$want'"
cmp "$exp/v3-c64k.qcow2.raw" "$mnt/a.raw"
cmp "$exp/zstd-c64k.qcow2.raw" "$mnt/c.qcow2.raw"
cmp "$exp/snapshots.qcow2.raw" "$mnt/c.img.raw"
cmp "$exp/v3-c64k.qcow2.raw" "$mnt/d.raw"
cmp "$exp/zlib-c64k.qcow2.raw" "$mnt/e.qcow2.raw"
cmp "$exp/zstd-c64k.qcow2.raw" "$mnt/sub/b.raw"
[ -d "$mnt/e.raw" ] || fail "e.raw: the subfolder must win over image e.qcow2"

# ---- added: cp creates an empty file first, then fills it ---------------
cp "$img/zero-clusters.qcow2" "$src/sub/f.qcow2"
wait_for test -e "$mnt/sub/f.raw"
cmp "$exp/zero-clusters.qcow2.raw" "$mnt/sub/f.raw"

# ---- removed -------------------------------------------------------------
rm "$src/a.qcow2"
wait_for test ! -e "$mnt/a.raw"

# ---- replaced by rename, same size: old open keeps the old image ---------
(
    exec 3< "$mnt/d.raw"                    # an open from before (closed on exit)
    cat "$mnt/d.raw" > /dev/null            # the old image in the page cache
    copy zero-clusters.qcow2 "$src/d.new"
    mv "$src/d.new" "$src/d"
    cmp "$exp/zero-clusters.qcow2.raw" "$mnt/d.raw" ||
        fail "d.raw: a new open after the replacement served the old image"
    cmp - "$exp/v3-c64k.qcow2.raw" <&3 ||
        fail "d.raw: the open from before the replacement did not keep the old image"
    cmp "$exp/zero-clusters.qcow2.raw" "$mnt/d.raw" ||
        fail "d.raw: the old open's reads leaked into the new image's cache"
)
cmp "$exp/zero-clusters.qcow2.raw" "$mnt/d.raw" ||
    fail "d.raw: cached pages of the old image outlived its last open"

# ---- rewritten in place (same inode), other size -------------------------
cat "$mnt/c.img.raw" > /dev/null
ino=$(stat -c %i "$src/c.img")
cp "$img/zstd-c64k.qcow2" "$src/c.img"
[ "$(stat -c %i "$src/c.img")" = "$ino" ] || fail "cp did not rewrite c.img in place"
size_now () { [ "$(stat -c %s "$mnt/c.img.raw")" = "$(stat -c %s "$exp/zstd-c64k.qcow2.raw")" ]; }
wait_for size_now
cmp "$exp/zstd-c64k.qcow2.raw" "$mnt/c.img.raw"

# ---- damaged images beside healthy ones ---------------------------------
edit="python3 $srcdir/qcow2-edit.py"
copy v3-c64k.qcow2 "$src/broken-header.qcow2"
$edit "$src/broken-header.qcow2" 'l1_table_offset=l1_table_offset+8'
copy v3-c64k.qcow2 "$src/broken-l2.qcow2"
$edit "$src/broken-l2.qcow2" 'l2[0][0]=(1<<63)|0x10200'
wait_for test -e "$mnt/broken-header.raw"
wait_for test -e "$mnt/broken-l2.raw"
for broken in broken-header broken-l2; do
    for attempt in 1 2 3; do
        if out=$(cat "$mnt/$broken.raw" 2>&1 >/dev/null); then
            fail "$broken.raw: read succeeded"
        fi
        case "$out" in
            *"Input/output error"*) ;;
            *) fail "$broken.raw: expected EIO, got: $out" ;;
        esac
    done
    # Logged once, with the engine's message naming the file.
    n=$(grep -c "$broken.qcow2" "$tmp/log" || true)
    [ "$n" = 1 ] || { cat "$tmp/log" >&2; fail "$broken.qcow2: logged $n times, want once"; }
done
getfattr --absolute-names --only-values -n user.sparsefs.error "$mnt/broken-header.raw" |
    grep -q "broken-header.qcow2" || fail "broken-header.raw: no error attribute naming it"
cmp "$exp/zero-clusters.qcow2.raw" "$mnt/d.raw"
cmp "$exp/zstd-c64k.qcow2.raw" "$mnt/sub/b.raw"
# A file rewritten in place into an image (a copy in progress starts as an
# empty file) shows, and one rewritten out of being an image goes: late by
# up to a second, as folder listings are kept that long.
cat "$img/v3-c64k.qcow2" > "$src/empty.qcow2"
wait_for test -e "$mnt/empty.raw"
cmp "$exp/v3-c64k.qcow2.raw" "$mnt/empty.raw"
echo "no longer an image" > "$src/empty.qcow2"
wait_for test ! -e "$mnt/empty.raw"

want="./broken-header.raw ./broken-l2.raw ./c.img.raw ./c.qcow2.raw ./d.raw ./e.qcow2.raw ./e.raw ./sub ./sub/b.raw ./sub/f.raw "
[ "$(listing)" = "$want" ] || fail "listing: got '$(listing)', want '$want'"
kill -0 "$sparsefs_pid" || fail "sparsefs died"
