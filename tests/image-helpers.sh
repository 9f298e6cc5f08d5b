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
    local name=$1 args=() c
    shift
    for c in "$@"; do args+=(-c "$c"); done
    qemu-io -f qcow2 "${args[@]}" "$name" >/dev/null
}

# edit IMAGE ASSIGNMENT... | edit IMAGE --get EXPR: see qcow2-edit.py.
edit ()
{
    python3 "$_image_helpers_dir/qcow2-edit.py" "$@"
}
