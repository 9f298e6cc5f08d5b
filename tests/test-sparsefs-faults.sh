#!/bin/bash
# Images that change under a reader, and images that name files outside
# their folder, beside healthy ones:
#  - an image truncated, one rewritten in place and one deleted while a
#    reader keeps each open, reads it (bypassing the page cache) and seeks
#    in it: every read returns the old bytes or EIO, never other bytes,
#    every SEEK_DATA / SEEK_HOLE the old image's answer or EIO;
#  - new opens see the new state: the rewritten image equals qemu-img's
#    output of the new file; the deleted one is gone (ENOENT); the
#    truncated one reads, cluster by cluster, what qemu-img salvages from
#    it, and EIO wherever qemu-img fails to read;
#  - the damage is logged naming the file, the healthy image beside them
#    reads right and the daemon stays up;
#  - a folder of images whose backing or data file lies outside it (every
#    spelling: absolute, "..", a symlink, json:, file:, nbd://), mounted
#    plainly and with --allow-dir of an unrelated folder: each such image
#    reads EIO with the engine's refusal logged, the healthy one is fine.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
. "$srcdir/hostile-images.sh"
requires_root
requires_fuse
requires python3 --version
requires qemu-img --version
requires qemu-io --version

tmp=$(make_tmpdir)
src=$tmp/src
mnt=$tmp/mnt
mkdir "$src" "$mnt"
MiB=$((1024 * 1024))

# make_image NAME FIRST DATA: a 32 MiB compressed image (64 KiB clusters)
# of the numbers from FIRST on, DATA bytes of them then a hole, in $tmp;
# its raw view in $tmp/NAME.raw, its map in $tmp/NAME.map.
make_image ()
{
    seq "$2" 100000000 | head -c "$3" > "$tmp/$1.raw"
    truncate -s $((32 * MiB)) "$tmp/$1.raw"
    qemu-img convert -q -c -O qcow2 -o cluster_size=65536 "$tmp/$1.raw" "$tmp/$1.qcow2"
    $IMGDUMP map "$tmp/$1.qcow2" > "$tmp/$1.map"
}
make_image old 1 $((32 * MiB))
make_image new 5000000 $((16 * MiB))   # a hole where the old one has data
make_image healthy 7 $((32 * MiB))
for name in trunc rewrite gone; do cp "$tmp/old.qcow2" "$src/$name.qcow2"; done
cp "$tmp/healthy.qcow2" "$src/healthy.qcow2"

# A small engine cache: the readers make the daemon read the image files.
start_sparsefs_logged "$tmp/log" "$src" "$mnt" -o cache=4M

# ---- readers holding the images open while they change ------------------
pids=()
for name in trunc rewrite gone; do
    $LSEEK watch-read "$mnt/$name.raw" "$tmp/old.raw" "$tmp/old.map" \
        "$tmp/$name.ready" "$tmp/stop" 30 > "$tmp/$name.reads" &
    pids+=($!)
done
for name in trunc rewrite gone; do wait_for test -e "$tmp/$name.ready"; done
sleep 0.5
truncate -s $(( $(stat -c %s "$src/trunc.qcow2") / 2 )) "$src/trunc.qcow2"
ino=$(stat -c %i "$src/rewrite.qcow2")
cp "$tmp/new.qcow2" "$src/rewrite.qcow2"
[ "$(stat -c %i "$src/rewrite.qcow2")" = "$ino" ] || fail "cp did not rewrite in place"
rm "$src/gone.qcow2"
sleep 1                                 # the readers go on reading

# ---- new opens see the new state (the old opens are still open) ---------
cmp "$tmp/new.raw" "$mnt/rewrite.raw" ||
    fail "rewrite.raw: a new open does not read the rewritten image"
[ ! -e "$mnt/gone.raw" ] || fail "gone.raw: still shown after the image was deleted"
cat "$mnt/gone.raw" 2>&1 >/dev/null | grep -q "No such file or directory" ||
    fail "gone.raw: opening a deleted image did not fail with ENOENT"

# The truncated image, cluster by cluster, against what qemu-img salvages.
qemu-img convert --salvage -O raw "$src/trunc.qcow2" "$tmp/trunc.salvaged" \
    2> "$tmp/trunc.qemu-errors" || true
python3 - "$mnt/trunc.raw" "$tmp/trunc.salvaged" "$tmp/trunc.qemu-errors" <<'PY'
import errno, os, re, sys
raw, salvaged, errors = sys.argv[1:]
cluster = 65536
qemu_failed = {int(m) // cluster
               for m in re.findall(r"error while reading offset (\d+)", open(errors).read())}
if not qemu_failed:
    sys.exit("qemu-img read all of the truncated image: no test")
fd = os.open(raw, os.O_RDONLY)
want = open(salvaged, "rb").read()
ok = 0
for i in range(len(want) // cluster):
    try:
        got = os.pread(fd, cluster, i * cluster)
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        continue
    if i in qemu_failed:
        sys.exit(f"{raw}: cluster {i} reads, qemu-img fails to read it")
    if got != want[i * cluster:(i + 1) * cluster]:
        sys.exit(f"{raw}: cluster {i} differs from what qemu-img reads")
    ok += 1
if ok < 8:
    sys.exit(f"{raw}: only {ok} clusters read; the first half of the file is intact")
print(f"trunc.raw: {ok} clusters read as qemu-img reads them, the others EIO")
PY

# ---- the readers saw old bytes or EIO only --------------------------------
touch "$tmp/stop"
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
for name in trunc rewrite gone; do echo "$name: $(cat "$tmp/$name.reads")"; done
[ $failed = 0 ] || fail "$failed reader(s) got bytes or seek answers of neither the old image nor EIO"
read -r _ n _ eio _ _ _ seek_eio < "$tmp/gone.reads"
[ "$eio $seek_eio" = "0 0" ] ||
    fail "gone.raw: of $n reads and seeks, $eio and $seek_eio failed: a deleted file's open must keep working"
read -r _ n _ eio _ < "$tmp/trunc.reads"
[ "$eio" -gt 0 ] || fail "trunc.raw: no read failed after half of the file was cut off"
for name in trunc rewrite; do
    grep -q "^sparsefs: $src/$name.qcow2: changed while open" "$tmp/log" ||
        fail "$name.qcow2: the change under its open is not logged"
done

cmp "$tmp/healthy.raw" "$mnt/healthy.raw" || fail "healthy.raw differs from qemu-img's output"
kill -0 "$sparsefs_pid" || fail "sparsefs died"
echo "ok: images changed under readers"

# ---- backing and data files outside the folder --------------------------
hostile_images "$tmp/hostile"
qemu-img convert -O raw "$tmp/hostile/images/good.qcow2" "$tmp/good.expected"
mkdir "$tmp/unrelated" "$tmp/hmnt"
for allow in "" "$tmp/unrelated"; do
    log=$tmp/hostile.log${allow:+.allow}
    start_sparsefs_logged "$log" "$tmp/hostile/images" "$tmp/hmnt" \
        ${allow:+--allow-dir "$allow"}
    for name in "${hostile[@]}"; do
        raw=$tmp/hmnt/$(shown_name "$name")
        [ -e "$raw" ] || fail "$name: not shown"
        out=$(cat "$raw" 2>&1 >/dev/null) && fail "$name: read succeeded"
        case "$out" in
            *"Input/output error"*) ;;
            *) fail "$name: expected EIO, got: $out" ;;
        esac
        grep -qxF "sparsefs: $tmp/hostile/images/$name: ${hostile_reason[$name]}" "$log" ||
            fail "$name: refusal not logged; want: ${hostile_reason[$name]}"
    done
    cmp "$tmp/good.expected" "$tmp/hmnt/good.raw" || fail "good.raw beside the hostile images"
    kill -0 "$sparsefs_pid" || fail "sparsefs died"
    fusermount3 -u "$tmp/hmnt"
    wait_for_exit () { ! kill -0 "$sparsefs_pid"; }
    wait_for wait_for_exit
done
echo "ok: ${#hostile[@]} hostile backing and data file names refused"
