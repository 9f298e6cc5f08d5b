#!/bin/bash
# What stat, du, getfattr and writers see of the raw files:
#  - st_size is qemu-img's raw size; st_blocks the data behind the file
#    (the engine's data runs, in 512-byte units), so du shows the footprint;
#  - owner, group and times come from the image file; no write bits;
#  - every kind of write is refused with EROFS;
#  - the user.sparsefs.* attributes agree with `qemu-img info`.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
. "$srcdir/image-helpers.sh"
requires_root
requires_fuse
requires python3 --version
requires getfattr --version

mount_corpus

# data_bytes MAP: the bytes of the data runs of an `imgdump map`.
data_bytes ()
{
    awk '$3 == "data" { n += $2 } END { print n + 0 }' "$1"
}

# ---- sizes --------------------------------------------------------------
failed=()
while read -r name; do
    raw=$mnt/$(shown_name "$name")
    $IMGDUMP map "$corpus/images/$name" > "$tmp/map"
    data=$(data_bytes "$tmp/map")
    size=$(stat -c %s "$corpus/expected/$name.raw")
    want="$size $(( (data + 511) / 512 )) $(( (data + 511) / 512 * 512 ))"
    got="$(stat -c '%s %b' "$raw") $(du -B1 "$raw" | cut -f1)"
    if [ "$got" != "$want" ]; then
        echo "FAIL: $name: size blocks du: got $got, want $want" >&2
        failed+=("$name")
    fi
done < <(image_manifest "$corpus")
[ ${#failed[@]} -eq 0 ] || fail "sizes differ: ${failed[*]}"

# ---- xattrs against qemu-img info ---------------------------------------
check_xattrs ()
{
    local img=$corpus/images/$1 raw=$mnt/$(shown_name "$1")
    $IMGDUMP map "$img" > "$tmp/map"
    local format
    format=$(qemu_format "$corpus" "$1")
    (cd "$corpus/images" &&
     qemu-img info ${format:+-f "$format"} --backing-chain --output=json -U "$1") > "$tmp/info.json"
    python3 - "$raw" "$tmp/info.json" "$(data_bytes "$tmp/map")" "$corpus/images" <<'PY'
import json, os, sys
raw, info_path, data_bytes, folder = sys.argv[1:]
chain = json.load(open(info_path))
top = chain[0]
attrs = {n[len("user.sparsefs."):]: os.getxattr(raw, n).decode()
         for n in os.listxattr(raw)}
want = {
    "format": top["format"],
    "virtual_size": str(top["virtual-size"]),
    "data_bytes": data_bytes,
}
if "cluster-size" in top:
    want["cluster_size"] = str(top["cluster-size"])
data = top.get("format-specific", {}).get("data", {})
if "compression-type" in data:
    want["compression"] = data["compression-type"]
if "data-file" in data:
    want["data_file"] = data["data-file"]
if len(chain) > 1:
    want["backing_chain"] = "\n".join(
        f"{os.path.realpath(os.path.join(folder, i['filename']))} ({i['format']})"
        for i in chain[1:])
for key, value in want.items():
    if attrs.get(key) != value:
        sys.exit(f"{raw}: user.sparsefs.{key} = {attrs.get(key)!r}, qemu-img: {value!r}")
# A VMDK's subformat is qemu's create-type.
if top["format"] == "vmdk":
    want["subformat"] = data["create-type"]
# qemu-img info does not show a VDI, VHD or VHDX subformat, nor a VHD creator.
own = {"vdi": {"subformat"}, "vpc": {"subformat", "creator"},
       "vhdx": {"subformat"}}.get(top["format"], set())
if not own <= set(attrs):
    sys.exit(f"{raw}: no attributes {sorted(own - set(attrs))}")
extra = set(attrs) - set(want) - {"compression"} - own
if extra:
    sys.exit(f"{raw}: unexpected attributes {sorted(extra)}")
PY
}
failed=()
while read -r name; do
    check_xattrs "$name" || failed+=("$name")
done < <(image_manifest "$corpus")
[ ${#failed[@]} -eq 0 ] || fail "xattrs differ from qemu-img info: ${failed[*]}"

# ---- owner, group, times, mode: from the image file ---------------------
src=$tmp/src
mkdir "$src"
cp --sparse=always "$corpus/images/v3-c64k.qcow2" "$src/owned.qcow2"
chown 65534:65533 "$src/owned.qcow2"
chmod 0664 "$src/owned.qcow2"
touch -m -d '2001-02-03 04:05:06.789' "$src/owned.qcow2"
touch -a -d '2002-03-04 05:06:07' "$src/owned.qcow2"
mnt2=$tmp/mnt2
mkdir "$mnt2"
start_sparsefs "$src" "$mnt2"
# Opening the image moves its atime (relatime): let that happen first.
cat "$mnt2/owned.raw" > /dev/null
want="$(stat -c '%u %g %X %Y' "$src/owned.qcow2") 444 regular file"
got=$(stat -c '%u %g %X %Y %a %F' "$mnt2/owned.raw")
[ "$got" = "$want" ] || fail "owned.raw: uid gid atime mtime mode type: got '$got', want '$want'"
[ "$(stat -c %y "$mnt2/owned.raw")" = "$(stat -c %y "$src/owned.qcow2")" ] ||
    fail "owned.raw: mtime nanoseconds differ from the image's"

# fstat on an open raw file (libfuse gives no path then) agrees with stat.
python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
a, b = os.fstat(fd), os.stat(sys.argv[1])
if (a.st_size, a.st_blocks, a.st_mode, a.st_mtime_ns) != (b.st_size, b.st_blocks, b.st_mode, b.st_mtime_ns):
    sys.exit(f"{sys.argv[1]}: fstat {a} differs from stat {b}")' "$mnt2/owned.raw"

# ---- writes are refused -------------------------------------------------
python3 - "$mnt2/owned.raw" "$mnt2" <<'PY'
import errno, os, sys
raw, folder = sys.argv[1:]
attempts = {
    "open O_WRONLY": lambda: os.open(raw, os.O_WRONLY),
    "open O_RDWR": lambda: os.open(raw, os.O_RDWR),
    "truncate": lambda: os.truncate(raw, 0),
    "chmod": lambda: os.chmod(raw, 0o644),
    "unlink": lambda: os.unlink(raw),
    "create": lambda: os.open(os.path.join(folder, "new"), os.O_WRONLY | os.O_CREAT),
    "mkdir": lambda: os.mkdir(os.path.join(folder, "dir")),
    "setxattr": lambda: os.setxattr(raw, "user.sparsefs.format", b"raw"),
}
for what, attempt in attempts.items():
    try:
        attempt()
    except OSError as e:
        if e.errno != errno.EROFS:
            sys.exit(f"{raw}: {what}: {e.strerror}, expected EROFS")
    else:
        sys.exit(f"{raw}: {what} succeeded on a read-only file")
PY
cmp "$corpus/expected/v3-c64k.qcow2.raw" "$mnt2/owned.raw" ||
    fail "owned.raw changed after refused writes"
