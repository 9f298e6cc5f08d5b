#!/bin/bash
# Damaged and hostile images: each must be refused with one exact message
# naming the file, the structure and the offending value, exit status 1,
# within 10 seconds and without dying of a signal.
#
# Each case is a good image made here by qemu-img/qemu-io, then patched by
# qcow2-edit.py (block-edit.py for VDI and VHD).  The QEMU column says what
# `qemu-img convert -O raw` does with the same file, and is checked too:
#   refuses   qemu fails as well (at open or at read);
#   accepts   qemu reads it: it reads zeros past the end of the file,
#             ignores what it does not need, and follows any backing path
#             (the CVE-2022-47951 class of disclosure) -- we refuse anyway;
#   hangs     qemu loops (backing loops): not run.
# All cases run; the test fails at the end if any failed.
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires xxd -v

tmp=$(make_tmpdir)
bases=$tmp/bases
cases=$tmp/cases
mkdir -p "$bases" "$cases" "$tmp/outside"
# The engine names resolved paths in some messages.
casedir=$(cd "$cases" && pwd -P)
outside=$(cd "$tmp/outside" && pwd -P)
failed=()

KiB=1024
MiB=$((1024 * KiB))

# ---- good images the cases start from ----------------------------------------

make_bases ()
{
    cd "$bases"
    # 64 KiB clusters, 4 MiB: L2 entries 0 and 16 allocated.
    qemu-img create -q -f qcow2 good.qcow2 $((4 * MiB))
    io good.qcow2 "write -P 0x11 0 $((64 * KiB))" "write -P 0x12 $MiB $((64 * KiB))"
    # 4 KiB clusters, L2 entries 0 and 1 compressed.
    for type in zlib zstd; do
        qemu-img create -q -f qcow2 -o cluster_size=4096,compression_type=$type \
                 $type.qcow2 $MiB
        io $type.qcow2 "write -c -P 0x21 0 4096" "write -c -P 0x22 4096 4096"
    done
    # Extended L2: cluster 0 fully allocated, the rest unallocated.
    qemu-img create -q -f qcow2 -o extended_l2=on el2.qcow2 $MiB
    io el2.qcow2 "write -P 0x31 0 $((64 * KiB))"
    # Two internal snapshots.
    cp good.qcow2 snap.qcow2
    qemu-img snapshot -c first snap.qcow2
    qemu-img snapshot -c second snap.qcow2
    # A backing file (with its backing format extension) and an overlay.
    cp good.qcow2 base.qcow2
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 backed.qcow2 $((4 * MiB))
    io backed.qcow2 "write -P 0x41 $((2 * MiB)) 4096"
    # An external data file.
    qemu-img create -q -f qcow2 -o data_file=ext.data ext.qcow2 $MiB
    io ext.qcow2 "write -P 0x51 0 4096"
    # VDI (dynamic) and VHD (dynamic, fixed), 4 MiB: blocks 0 and 2 of
    # the VDI written (1 MiB blocks), blocks 0 and 1 of the dynamic VHD.
    qemu-img create -q -f vdi good.vdi $((4 * MiB))
    io_as vdi good.vdi "write -P 0x61 0 4096" "write -P 0x62 $((2 * MiB)) 4096"
    qemu-img create -q -f vpc good.vhd $((4 * MiB))
    io_as vpc good.vhd "write -P 0x71 0 4096" "write -P 0x72 $((2 * MiB)) 4096"
    qemu-img create -q -f vpc -o subformat=fixed fixed.vhd $((4 * MiB))
    cd - >/dev/null
}
make_bases

# ---- checking one case ---------------------------------------------------------

# qemu_verdict IMAGE: "refuses" or "accepts", from qemu-img convert run
# in the image's folder (where it resolves relative data file names).
qemu_verdict ()
{
    if (cd "$(dirname "$1")" &&
        timeout 10 qemu-img convert -O raw "$(basename "$1")" "$tmp/qemu.raw") \
           >/dev/null 2>&1; then
        echo accepts
    else
        echo refuses
    fi
    rm -f "$tmp/qemu.raw"
}

# refused QEMU MESSAGE IMAGE [IMGDUMP-OPTION]...: imgdump, run in $cases
# on IMAGE (a name relative to it), prints exactly "imgdump: MESSAGE" and
# exits 1; qemu does what QEMU says.
refused ()
{
    local qemu=$1 message=$2 image=$3 status verdict problems=()
    shift 3
    (cd "$cases" && timeout 10 "$IMGDUMP" "$@" raw "$image" "$tmp/out.raw") \
        > "$tmp/stdout" 2> "$tmp/stderr" && status=0 || status=$?
    case $status in
        1) ;;
        0) problems+=("accepted") ;;
        124) problems+=("hung (killed after 10 s)") ;;
        *) problems+=("exit status $status") ;;
    esac
    [ $status -gt 128 ] && [ $status -ne 124 ] && problems+=("killed by signal $((status - 128))")
    [ "$(cat "$tmp/stderr")" = "imgdump: $message" ] ||
        problems+=("message: $(cat "$tmp/stderr") -- expected: imgdump: $message")
    if [ "$qemu" != hangs ]; then
        verdict=$(qemu_verdict "$cases/$image")
        [ "$verdict" = "$qemu" ] || problems+=("qemu-img $verdict it, the table says $qemu")
    fi
    report "$image${*:+ $*}" "${problems[@]}"
}

# accepted IMAGE [IMGDUMP-OPTION]...: imgdump reads IMAGE exactly as qemu.
accepted ()
{
    local image=$1 problems=()
    shift
    (cd "$cases" && qemu-img convert -O raw "$image" "$tmp/qemu.raw")
    if (cd "$cases" && timeout 10 "$IMGDUMP" "$@" raw "$image" "$tmp/out.raw") \
           2> "$tmp/stderr"; then
        cmp -s "$tmp/qemu.raw" "$tmp/out.raw" || problems+=("reads unlike qemu")
    else
        problems+=("refused: $(cat "$tmp/stderr")")
    fi
    rm -f "$tmp/qemu.raw"
    report "$image${*:+ $*} (accepted)" "${problems[@]}"
}

report ()
{
    local what=$1
    shift
    if [ $# -eq 0 ]; then
        echo "ok: $what"
    else
        printf 'FAIL: %s\n' "$what" >&2
        printf '    %s\n' "$@" >&2
        failed+=("$what")
    fi
}

# patched NAME BASE ASSIGNMENT...: copy of base BASE, patched; prints NAME.
patched ()
{
    local name=$1 base=$2
    shift 2
    cp "$bases/$base" "$cases/$name"
    edit "$cases/$name" "$@"
}

# ---- the cases --------------------------------------------------------------------
. "$srcdir/damaged-cases.sh"

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} case(s) failed: ${failed[*]}"
