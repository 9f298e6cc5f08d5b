# Helpers that make and patch test images, shared by make-corpus.sh and
# the engine tests (source it; it needs qemu-io and python3).

_image_helpers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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
