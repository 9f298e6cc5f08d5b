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
