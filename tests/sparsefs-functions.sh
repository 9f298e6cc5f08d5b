# Helpers of the sparsefs tests, sourced after functions.sh.

LSEEK="python3 $srcdir/sparsefs-lseek.py"

# start_sparsefs SOURCE MOUNTPOINT [OPTIONS...]: mount SOURCE with the
# daemon (detached), wait until it is mounted and has written its pidfile,
# and unmount it when the test exits.  Sets $sparsefs_pid, $sparsefs_pidfile.
start_sparsefs ()
{
    local source=$1 mountpoint=$2
    shift 2
    mkdir -p "$builddir/tmp"
    sparsefs_pidfile=$(mktemp -u "$builddir/tmp/sparsefs.pid.XXXXXX")
    "$SPARSEFS" --pidfile="$sparsefs_pidfile" "$@" "$source" "$mountpoint"
    wait_for_pidfile "$sparsefs_pidfile"
    wait_for_mount "$mountpoint"
    sparsefs_pid=$(cat "$sparsefs_pidfile")
    cleanup_fn stop_sparsefs "$mountpoint" "$sparsefs_pid"
}

# stop_sparsefs MOUNTPOINT PID: unmount if still mounted, then make sure
# the daemon is gone (it must exit by itself within 10 s).
stop_sparsefs ()
{
    local mountpoint=$1 pid=$2 i
    if findmnt -n -M "$mountpoint" >/dev/null 2>&1; then
        fusermount3 -u -z "$mountpoint" || true
    fi
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    fail "sparsefs (pid $pid) still running 10 s after unmounting $mountpoint"
}

# shown_name FILE: the name sparsefs shows image FILE under (no collision).
shown_name ()
{
    local name
    name=$(basename "$1")
    case "$name" in
        ?*.qcow2) name=${name%.qcow2} ;;
        ?*.img|?*.vdi|?*.vhd|?*.vhdx|?*.vmdk|?*.vpc) name=${name%.*} ;;
    esac
    echo "$name.raw"
}

# snapshot_entries FILE...: for each internal snapshot sparsefs shows of
# each image FILE (no collision), in table order, a line
# "FILE<tab>SHOWN<tab>SELECTOR<tab>ID<tab>NAME": the shown name (the image's,
# as shown_name gives it, without .raw, "@", the snapshot's name with %, /
# and control bytes as %XX, or its ID if the name is empty, ".raw"), and
# the -l selector qemu-img convert reads it with.  A name shown twice shows
# the first snapshot; names over 255 bytes are not shown.  Files that are
# not qcow2 or whose header counts no snapshot are skipped without asking
# qemu-img (one process for all: the corpus has a hundred files).
snapshot_entries ()
{
    python3 - "$@" <<'PYTHON'
import json, os, re, subprocess, sys

def shown_prefix(path):
    name = os.path.basename(path)
    m = re.fullmatch(r"(.+)\.(qcow2|img|vdi|vhd|vhdx|vmdk|vpc)", name)
    return m.group(1) if m else name

def escape(text):
    return "".join("%%%02X" % ord(c) if c in "%/" or ord(c) < 32 or ord(c) == 127
                   else c for c in text)

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        header = f.read(64)
    if len(header) < 64 or header[:4] != b"QFI\xfb" or header[60:64] == bytes(4):
        continue
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", path],
                                     check=True, capture_output=True).stdout)
    seen = set()
    for s in info.get("snapshots", []):
        text, key = (s["name"], "name") if s["name"] else (s["id"], "id")
        shown = shown_prefix(path) + "@" + escape(text) + ".raw"
        if not text or shown in seen or len(shown.encode()) > 255:
            continue
        seen.add(shown)
        print("\t".join([path, shown, "snapshot.%s=%s" % (key, text), s["id"], s["name"]]))
PYTHON
}

# is_image FILE: whether FILE is an image sparsefs shows, by content: the
# qcow2 magic, the VDI signature at offset 0x40, a VHD footer at the
# start, or a fixed VHD's footer (checksum and type checked) at the end.
is_image ()
{
    python3 - "$1" <<'EOF'
import os, re, struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(512)
    size = os.fstat(f.fileno()).st_size
    tail = b""
    if size >= 512:
        f.seek(size - 512)
        tail = bytearray(f.read(512))
def fixed_vhd(footer):
    if footer[:8] != b"conectix":
        return False
    checksum = struct.unpack(">I", footer[64:68])[0]
    footer[64:68] = bytes(4)
    return ~sum(footer) & 0xffffffff == checksum and footer[60:64] == b"\0\0\0\2"
def vmdk(head):
    return head[:4] in (b"KDMV", b"COWD") or re.match(
        rb"(#[^\n]*\n| *\r?\n)*version=[123]\r?\n", head) is not None
sys.exit(0 if head[:4] == b"QFI\xfb"
         or head[64:68] == b"\x7f\x10\xda\xbe"
         or head[:8] in (b"conectix", b"vhdxfile") or fixed_vhd(tail) or vmdk(head)
         else 1)
EOF
}

# extent_files FOLDER: the files that the VMDK text descriptors of FOLDER
# name as their extents (on RW extent lines, by a name without a folder),
# one a line: sparsefs hides them.
extent_files ()
{
    python3 - "$1" <<'EOF'
import os, re, sys
folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if not os.path.isfile(path) or os.path.getsize(path) > (1 << 20):
        continue
    with open(path, "rb") as f:
        text = f.read()
    if text[:4] in (b"KDMV", b"COWD"):
        continue
    for m in re.finditer(rb'^RW +\d+ +\w+ +"(?:\./)*([^"/]+)"', text, re.M):
        print(m.group(1).decode())
EOF
}

# shown_images FOLDER: the names sparsefs shows FOLDER's images under (no
# collision), one a line, sorted: its image files (is_image) but the VMDK
# extent files (extent_files).
shown_images ()
{
    local extents file
    extents=$(extent_files "$1")
    for file in "$1"/*; do
        if is_image "$file" && ! grep -qxF "$(basename "$file")" <<< "$extents"; then
            shown_name "$file"
        fi
    done | sort
}

# image_manifest CORPUS: the entry-point images of the corpus that sparsefs
# shows (not the raw ones).
image_manifest ()
{
    local name
    while read -r name; do
        if is_image "$1/images/$name"; then echo "$name"; fi
    done < "$1/images/MANIFEST"
}

# start_sparsefs_logged LOG SOURCE MOUNTPOINT [OPTIONS...]: as start_sparsefs,
# but in the foreground (-f) with its messages in LOG.
start_sparsefs_logged ()
{
    local log=$1 source=$2 mountpoint=$3
    shift 3
    mkdir -p "$builddir/tmp"
    sparsefs_pidfile=$(mktemp -u "$builddir/tmp/sparsefs.pid.XXXXXX")
    "$SPARSEFS" -f --pidfile="$sparsefs_pidfile" "$@" "$source" "$mountpoint" 2>"$log" &
    wait_for_pidfile "$sparsefs_pidfile"
    wait_for_mount "$mountpoint"
    sparsefs_pid=$(cat "$sparsefs_pidfile")
    cleanup_fn stop_sparsefs "$mountpoint" "$sparsefs_pid"
}

# mount_corpus [OPTIONS...]: mount the oracle corpus's images folder with
# the daemon.  Sets $corpus, $tmp (a make_tmpdir folder) and $mnt.
mount_corpus ()
{
    corpus=$(corpus)
    tmp=$(make_tmpdir)
    mnt=$tmp/mnt
    mkdir "$mnt"
    start_sparsefs "$corpus/images" "$mnt" "$@"
}

# exits_within SECONDS PID: the process ends in time.
exits_within ()
{
    timeout "$1" tail --pid="$2" -f /dev/null
}

# cpu_ticks PID: user + system time the process has used.
cpu_ticks ()
{
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
