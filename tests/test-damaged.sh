#!/bin/bash
# Damaged and hostile images: each must be refused with one exact message
# naming the file, the structure and the offending value, exit status 1,
# within 10 seconds and without dying of a signal.
#
# Each case is a good image made here by qemu-img/qemu-io, then patched by
# qcow2-edit.py (block-edit.py for VDI and VHD, vhdx-edit.py for VHDX).  The QEMU column says what
# `qemu-img convert -O raw` does with the same file, and is checked too:
#   refuses   qemu fails as well (at open or at read);
#   accepts   qemu reads it: it reads zeros past the end of the file,
#             ignores what it does not need, and follows any backing path
#             (the CVE-2022-47951 class of disclosure) -- we refuse anyway;
#   hangs     qemu loops (backing loops): not run.
# All cases run; the test fails at the end if any failed.
#
# With THROUGH=sparseinfo (test-sparseinfo-damaged.sh) the same table runs
# through sparseinfo: each refused case must be unsafe, for the reason the
# refusal's errno gives, with the same message; each accepted one safe.
#
# With THROUGH=stream (test-damaged-stream.sh) the same table runs through
# sparsecopy's stream path instead: each case is fed through a FIFO named
# like the image (a pipe: read once, front to back), under the same
# 10-second limit.  Where qemu reads the file, sparsecopy may write what
# qemu-img convert writes; otherwise it must exit 2 with the case's
# message -- the seekable one, or the one stream_expects gives just before
# the case, when a stream sees the damage differently (it has no end of
# file to measure, nor files beside it).
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires xxd -v
through=${THROUGH:-file}
[ "$through" != sparseinfo ] || requires jq --version

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

# qemu_snapshot IMGDUMP-OPTION...: qemu-img convert's -l for imgdump's
# --snapshot, if given (other options are imgdump's own: qemu probes).
qemu_snapshot ()
{
    while [ $# -gt 0 ]; do
        [ "$1" = --snapshot ] && printf '%s\0' -l "$2"
        shift
    done
}

# qemu_verdict IMAGE [IMGDUMP-OPTION]...: "refuses" or "accepts", from
# qemu-img convert run in the image's folder (where it resolves relative
# data file names).
qemu_verdict ()
{
    local image=$1 snapshot
    shift
    mapfile -d '' snapshot < <(qemu_snapshot "$@")
    if (cd "$(dirname "$image")" &&
        timeout 10 qemu-img convert "${snapshot[@]}" -O raw "$(basename "$image")" \
                "$tmp/qemu.raw") >/dev/null 2>&1; then
        echo accepts
    else
        echo refuses
    fi
    rm -f "$tmp/qemu.raw"
}

# refused QEMU MESSAGE IMAGE [IMGDUMP-OPTION]...: IMAGE (a name relative to
# $cases) is refused with MESSAGE (see refused_by_file, refused_by_stream).
refused ()
{
    "refused_by_$through" "$@"
    stream_message=
}

# accepted IMAGE [IMGDUMP-OPTION]...: IMAGE reads exactly as qemu reads it.
accepted ()
{
    "accepted_by_$through" "$@"
    stream_message=
}

# stream_expects MESSAGE|qemu|"as BASE": what the stream path does with
# the next case, when it differs from the file path: refuse it with
# MESSAGE (the image's name left out), read it as qemu does, or read it as
# qemu reads base image BASE (the damage is in a part a stream never
# needs, such as the snapshot table).
stream_message=
stream_expects ()
{
    stream_message=$1
}

# refused_by_file QEMU MESSAGE IMAGE [IMGDUMP-OPTION]...: imgdump, run in
# $cases on IMAGE, prints exactly "imgdump: MESSAGE" and exits 1; qemu
# does what QEMU says.
refused_by_file ()
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
        verdict=$(qemu_verdict "$cases/$image" "$@")
        [ "$verdict" = "$qemu" ] || problems+=("qemu-img $verdict it, the table says $qemu")
    fi
    report "$image${*:+ $*}" "${problems[@]}"
}

# accepted_by_file IMAGE [IMGDUMP-OPTION]...: imgdump reads IMAGE exactly
# as qemu.
accepted_by_file ()
{
    local image=$1 problems=() snapshot
    shift
    mapfile -d '' snapshot < <(qemu_snapshot "$@")
    (cd "$cases" && qemu-img convert "${snapshot[@]}" -O raw "$image" "$tmp/qemu.raw")
    if (cd "$cases" && timeout 10 "$IMGDUMP" "$@" raw "$image" "$tmp/out.raw") \
           2> "$tmp/stderr"; then
        cmp -s "$tmp/qemu.raw" "$tmp/out.raw" || problems+=("reads unlike qemu")
    else
        problems+=("refused: $(cat "$tmp/stderr")")
    fi
    rm -f "$tmp/qemu.raw"
    report "$image${*:+ $*} (accepted)" "${problems[@]}"
}

# ---- checking one case through sparseinfo ---------------------------------------

# sparseinfo_reason MESSAGE: the reason sparseinfo gives for a refusal
# with MESSAGE (the engine's errno, as sparseinfo(1) lists them).
sparseinfo_reason ()
{
    case $1 in
        *"is refused: it resolves to"*|*"is refused: a disk inside an OVA must be a single file") echo outside-allowed-dirs ;;
        *"protocol and json: names are never followed") echo protocol-name ;;
        *"the image is encrypted"*) echo encrypted ;;
        *"not supported"*|*"unknown incompatible feature"*|*"compression_type 2 is unknown"|*"need replaying"*) echo unsupported-feature ;;
        *"No such file or directory"|*"not a regular file or block device") echo unreadable-file ;;
        *) echo damaged ;;
    esac
}

# refused_by_sparseinfo QEMU MESSAGE IMAGE [IMGDUMP-OPTION]...: sparseinfo
# --json, run in $cases on IMAGE, says it is unsafe with MESSAGE (the
# engine's) and the reason sparseinfo_reason gives, exit 2, within 10 s.
# Exceptions: an encrypted image is described, so its message is
# sparseinfo's; damage only a compressed cluster's payload shows (where
# it lies, whether it decompresses) is not looked for (safe, exit 0); an
# IMAGE that is no file cannot be read (exit 3).
refused_by_sparseinfo ()
{
    local message=$2 image=$3 problems=() status expected=unsafe reason
    shift 3
    case "$*" in
        *--format*) echo "not run: sparseinfo probes the format (${*})"; return 0 ;;
        *--snapshot*) echo "not run: sparseinfo describes the image, not a snapshot (${*})"; return 0 ;;
    esac
    reason=$(sparseinfo_reason "$message")
    # What only reading a compressed cluster finds: its payload.
    case $message in
        ""|*"does not decompress"*|*"compressed cluster at "*" is past the end of the file"*|*"VMDK compressed grain at "*)
            expected=safe ;;
    esac
    [ -f "$cases/$image" ] || expected=unreadable
    (cd "$cases" && timeout 10 "$SPARSEINFO" --json "$@" "$image") \
        > "$tmp/stdout" 2> "$tmp/stderr" && status=0 || status=$?
    case $expected:$status in
        safe:0|unsafe:2|unreadable:3) ;;
        *) problems+=("exit status $status for $expected: $(cat "$tmp/stderr")") ;;
    esac
    jq -e --arg verdict "$expected" --arg reason "$reason" --arg message "$message" '
      .[0] | .verdict == $verdict and
             ($verdict != "unsafe" or
              any(.reasons[]; .reason == $reason and
                              ($reason == "encrypted" or .message == $message)))' \
       "$tmp/stdout" > /dev/null ||
        problems+=("not $expected${reason:+ ($reason: $message)}: $(cat "$tmp/stdout")")
    if [ "$expected" = unreadable ] &&
       [ "$(cat "$tmp/stderr")" != "sparseinfo: $message" ]; then
        problems+=("message: $(cat "$tmp/stderr")")
    fi
    report "$image${*:+ $*} (sparseinfo)" "${problems[@]}"
}

# accepted_by_sparseinfo IMAGE [IMGDUMP-OPTION]...: what the engine reads
# is safe (no message).
accepted_by_sparseinfo ()
{
    refused_by_sparseinfo accepts "" "$1" "${@:2}"
}

# ---- checking one case through the stream path -----------------------------------

# streamed IMAGE [OPTION]...: IMAGE fed to sparsecopy through a FIFO named
# like it, in $tmp/streams (so that messages name IMAGE), written to
# $tmp/out.raw; its exit status in $status, stderr in $tmp/stderr.
streamed ()
{
    local image=$1 writer
    shift
    mkdir -p "$tmp/streams"
    rm -f "$tmp/streams/$image" "$tmp/out.raw"
    mkfifo "$tmp/streams/$image"
    timeout 10 cat "$cases/$image" > "$tmp/streams/$image" 2>/dev/null &
    writer=$!
    (cd "$tmp/streams" &&
     timeout 10 "$SPARSECOPY" "$@" "$image" "$tmp/out.raw") \
        > "$tmp/stdout" 2> "$tmp/stderr" && status=0 || status=$?
    kill "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    rm -f "$tmp/streams/$image"
}

# stream_refusal IMAGE MESSAGE: what is wrong with $tmp/stderr, if
# anything, for a stream of IMAGE refused with MESSAGE: its first line is
# "sparsecopy: IMAGE: MESSAGE", or that folded into "sparsecopy: IMAGE:
# read failed at offset N: IMAGE: MESSAGE"; nothing else follows but the
# note that the target is incomplete.  A disk of an OVA is named
# IMAGE/DISK: "IMAGE/DISK: WHAT" is the MESSAGE "DISK: WHAT".
stream_refusal ()
{
    local image=$1 message=$2 first rest
    first=$(head -1 "$tmp/stderr")
    rest=$(tail -n +2 "$tmp/stderr")
    [[ $first =~ ^"sparsecopy: $image"(": read failed at offset "[0-9]+": $image")?(": "|"/")(.*)$ ]] &&
        [ "${BASH_REMATCH[3]}" = "$message" ] ||
        echo "message: $first -- expected: sparsecopy: $image: [read failed at offset N: $image: ]$message"
    [ -z "$rest" ] || [ "$rest" = "sparsecopy: $tmp/out.raw: the target is incomplete" ] ||
        echo "more messages: $rest"
}

# stream_verdict IMAGE [BASE]: what is wrong with sparsecopy's output of
# IMAGE ($tmp/out.raw), if anything: it must be qemu-img's of IMAGE (of
# base image BASE when given).
stream_verdict ()
{
    if [ $# -eq 2 ]; then
        qemu-img convert -O raw "$bases/$2" "$tmp/qemu.raw"
    else
        (cd "$cases" && qemu-img convert -O raw "$1" "$tmp/qemu.raw")
    fi
    cmp -s "$tmp/qemu.raw" "$tmp/out.raw" || echo "reads unlike qemu"
    rm -f "$tmp/qemu.raw"
}

# stream_rule IMAGE [OPTION]...: the refusal a stream of IMAGE owes before
# any damage is looked at, or nothing: a format read from local files
# only (VDI, VHD or VHDX by their magic, as the stream probes, or forced; a
# VMDK that is not streamOptimized), or a qcow2 image that names another
# file (qemu-img info tells, without opening that file).  (An OVA streams:
# its cases say what differs with stream_expects.)
stream_rule ()
{
    local image=$1 info
    shift
    local format
    case "$*" in
        *"--format vpc"*) format=vpc ;;
        *"--format vhdx"*) format=vhdx ;;
        *"--format vmdk"*) format=vmdk ;;
        *) format=$(python3 -c '
import re, struct, sys
head = open(sys.argv[1], "rb").read(512)
if head[:8] == b"conectix":
    print("VHD")
elif head[:8] == b"vhdxfile":
    print("VHDX")
elif len(head) >= 0x44 and struct.unpack("<I", head[0x40:0x44])[0] == 0xbeda107f:
    print("VDI")
elif head[:4] in (b"KDMV", b"COWD") or re.match(
        rb"(#[^\n]*\n| *\r?\n)*version=[123]\r?\n", head):
    print("VMDK")' "$cases/$image") ;;
    esac
    if [ "${format,,}" = vmdk ]; then
        vmdk_stream_rule "$image"
        return
    fi
    if [ -n "$format" ]; then
        echo "a $format image cannot be read as a stream yet: copy it from a local file"
        return
    fi
    info=$(cd "$cases" && timeout 10 qemu-img info -U --output=json "$image" 2>/dev/null) || return 0
    python3 -c '
import json, sys
info = json.loads(sys.argv[1])
backing = info.get("backing-filename")
data = info.get("format-specific", {}).get("data", {}).get("data-file")
if backing:
    print("the image has a backing file (%s), which a stream cannot open: "
          "flatten it first (qemu-img convert -O qcow2) or copy from the "
          "local file" % backing)
elif data:
    print("the image keeps its data in an external data file (%s), which "
          "a stream cannot open: copy from the local file" % data)' "$info"
}

# vmdk_stream_rule IMAGE: the refusal of a VMDK that is not
# streamOptimized (a sparse extent with deflated grains and markers), or
# nothing.
vmdk_stream_rule ()
{
    local kind
    kind=$(python3 -c '
import struct, sys
h = open(sys.argv[1], "rb").read(512).ljust(512, b"\0")
if h[:4] == b"COWD":
    print("VMDK3 (COWD)")
elif h[:4] != b"KDMV":
    print("descriptor-file")
elif struct.unpack_from("<H", h, 77)[0] != 1:
    print("monolithicSparse")
elif not struct.unpack_from("<I", h, 8)[0] & (1 << 17):
    print("streamOptimized (without grain markers)")' "$cases/$1")
    [ -z "$kind" ] ||
        echo "a $kind VMDK image cannot be read as a stream, only a streamOptimized one: copy it from a local file"
}

# refused_by_stream QEMU MESSAGE IMAGE [OPTION]...: the stream of IMAGE is
# refused with MESSAGE, or read as qemu-img reads it when MESSAGE is
# "qemu" (and QEMU "accepts").  OPTIONs are imgdump's, which sparsecopy
# shares (--allow-dir, --format).
refused_by_stream ()
{
    local qemu=$1 message=$2 image=$3 problems=() problem rule
    shift 3
    # The seekable message names the file, or its resolved path.
    message=${message#"$image: "}
    message=${message#"$casedir/$image: "}
    if [ ! -f "$cases/$image" ] || [ "$(stat -L -c %s "$cases/$image")" -gt $((1 << 30)) ]; then
        echo "not streamed: $image is not a file of at most 1 GiB"
        return 0
    fi
    rule=$(stream_rule "$image" "$@")
    [ -n "$rule" ] && message=$rule
    [ -n "$stream_message" ] && message=$stream_message
    streamed "$image" "$@"
    case $status in
        0)
            if [ "$qemu" = accepts ] && [ "$message" = qemu ]; then
                problem=$(stream_verdict "$image")
            elif [[ $message == "as "* ]]; then
                problem=$(stream_verdict "$image" "${message#as }")
            else
                problem="accepted"
            fi
            [ -z "$problem" ] || problems+=("$problem") ;;
        2) problem=$(stream_refusal "$image" "$message")
           [ -z "$problem" ] || problems+=("$problem") ;;
        124) problems+=("hung (killed after 10 s)") ;;
        *) problems+=("exit status $status: $(cat "$tmp/stderr")") ;;
    esac
    report "$image${*:+ $*} (stream)" "${problems[@]}"
}

accepted_by_stream ()
{
    refused_by_stream accepts qemu "$@"
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
