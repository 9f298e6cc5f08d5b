# Helpers that make and patch test images, shared by make-corpus.sh and
# the engine tests (source it; it needs qemu-io and python3).
#
# Data is never a single repeated byte where it can be helped: `stamp`
# files hold their own offset every 16 bytes (compressible, and a misplaced
# read shows), random runs are incompressible.

_image_helpers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# stamp FILE SIZE [OFFSET:LENGTH[:r]]...: a sparse file of SIZE bytes with
# offset stamps (or, with :r, seeded random bytes) in the given ranges.
stamp ()
{
    python3 - "$@" <<'EOF'
import random, sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    f.truncate(size)
    for spec in sys.argv[3:]:
        off, length, *kind = spec.split(":")
        off, length = int(off), int(length)
        if kind == ["r"]:
            data = random.Random(off).randbytes(length)
        else:
            first = off - off % 16
            data = b"".join(b"%015x\n" % o for o in range(first, off + length, 16))
            data = data[off - first:off - first + length]
        f.seek(off)
        f.write(data)
EOF
}

# io NAME COMMAND...: run the qemu-io COMMANDs, in order, on qcow2 image NAME.
io ()
{
    io_as qcow2 "$@"
}

# io_as FORMAT NAME COMMAND...: the same on an image of FORMAT.
io_as ()
{
    local format=$1 name=$2 args=() c
    shift 2
    for c in "$@"; do args+=(-c "$c"); done
    qemu-io -f "$format" "${args[@]}" "$name" >/dev/null
}

# vhd_footer IMAGE CREATOR-APP CURRENT-SIZE: rewrite both copies of a VHD
# footer (the one at the start of a dynamic disk, the one at the end) with
# another creator application and current_size, and their checksums.
vhd_footer ()
{
    python3 - "$@" <<'EOF'
import os, struct, sys
path, app, size = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
with open(path, "r+b") as f:
    end = os.fstat(f.fileno()).st_size - 512
    for at in (0, end):
        f.seek(at)
        footer = bytearray(f.read(512))
        if footer[:8] != b"conectix":
            continue
        footer[28:32] = app.ljust(4, b"\0")
        footer[48:56] = struct.pack(">Q", size)
        footer[64:68] = bytes(4)
        footer[64:68] = struct.pack(">I", ~sum(footer) & 0xffffffff)
        f.seek(at)
        f.write(footer)
EOF
}

# edit IMAGE ASSIGNMENT... | edit IMAGE --get EXPR: see qcow2-edit.py.
edit ()
{
    python3 "$_image_helpers_dir/qcow2-edit.py" "$@"
}

# qemu_format CORPUS NAME: the format qemu must be told for corpus image
# NAME (see QEMU-FORMATS in make-corpus.sh), or nothing when it probes it.
qemu_format ()
{
    awk -v name="$2" '$1 == name { print $2 }' "$1/images/QEMU-FORMATS"
}

# vhd_differencing IMAGE PARENT-NAME [LOCATOR...]: turn dynamic VHD IMAGE
# into a differencing disk of parent PARENT-NAME, as Hyper-V writes one:
# disk type 4 in both footer copies, the parent's name (UTF-16BE) in the
# dynamic header, and a parent locator per LOCATOR (CODE:PATH, CODE a
# platform code such as W2ru, W2ku or MacX; Windows paths are UTF-16LE,
# Mac ones UTF-8), its data in whole sectors after the last block, the
# footer moved after them.  Checksums are made to hold.
vhd_differencing ()
{
    python3 - "$@" <<'PYEOF'
import os, struct, sys
path, parent, locators = sys.argv[1], sys.argv[2], sys.argv[3:]

def checksum(block, at):
    block[at:at + 4] = bytes(4)
    block[at:at + 4] = struct.pack(">I", ~sum(block) & 0xffffffff)

with open(path, "r+b") as f:
    end = os.fstat(f.fileno()).st_size - 512
    f.seek(0)
    footer = bytearray(f.read(512))
    footer[60:64] = struct.pack(">I", 4)
    checksum(footer, 64)
    header_at = struct.unpack(">Q", footer[16:24])[0]
    f.seek(header_at)
    header = bytearray(f.read(1024))
    header[40:56] = bytes(range(16))                      # parent UUID
    name = parent.encode("utf-16-be")[:512]
    header[64:576] = name.ljust(512, b"\0")
    data_at = end
    for i, spec in enumerate(locators):
        code, target = spec.split(":", 1)
        data = target.encode("utf-8" if code.startswith("Mac")
                             else "utf-16-le")
        sectors = (len(data) + 511) // 512
        header[576 + 24 * i:600 + 24 * i] = struct.pack(
            ">4sIIIQ", code.encode(), sectors * 512, len(data), 0, data_at)
        f.seek(data_at)
        f.write(data.ljust(sectors * 512, b"\0"))
        data_at += sectors * 512
    checksum(header, 36)
    f.seek(header_at)
    f.write(header)
    f.seek(0)
    f.write(footer)
    f.seek(data_at)
    f.write(footer)
PYEOF
}
