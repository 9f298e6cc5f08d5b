#!/bin/bash
# sparsecopy --disk: each disk of the corpus's OVA archives copied onto a
# loop device whose backing file is full of garbage must equal qemu-img's
# output of the disk file before it went into the tar, keep the backing
# file thin and leave the bytes past it alone (see test-sparsecopy-corpus.sh).
# An OVA's only disk is the default; with several, sparsecopy exits 2
# listing them; --disk on a file that is not an OVA is refused.
#
# Then the same archives as a stream, piped and from http:// URLs (served
# on 127.0.0.1 with and without Range support): each disk of a format that
# streams, by index, equals qemu-img's output of the disk file; by name
# too; the only disk by default; --source-checksum of the archive proves
# it was read to its end; a qcow2 disk whose data come before its L2
# table, through a stream buffer too small for them, over Range requests
# (ranges of the disk read again from the archive).  A disk that does not
# stream, several disks without --disk, a tar whose first member is not an
# .ovf and --disk on a stream that is no tar are refused.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires nginx -v
requires curl --version

corpus=$(corpus)
ova=$corpus/ova
scratch_mount tmpfs size=256M
dir=$scratch

n=0
while read -r name index disk; do
    raw=$ova/expected/$name.$index.raw
    prepare_raw_loop "$raw" "$dir/$name.$index"
    "$SPARSECOPY" --disk="$index" "$ova/$name" "$target" ||
        fail "$name: sparsecopy --disk=$index failed"
    check_raw_on_loop "$raw" "$target" "$backing" "$tail" "$name disk $index"
    detach_loop "$target" "$backing"
    rm -f "$backing" "$tail"
    echo "ok: $name disk $index ($disk)"
    n=$((n + 1))
done < "$ova/MANIFEST"
[ "$n" -ge 7 ] || fail "only $n OVA disks in the corpus"

# By name, and the only disk by default, to a new file.
"$SPARSECOPY" --disk=data.vmdk "$ova/ova-three.ova" "$dir/by-name" &&
    cmp "$ova/expected/ova-three.ova.1.raw" "$dir/by-name" ||
    fail "ova-three.ova: --disk=data.vmdk did not copy data.vmdk"
"$SPARSECOPY" "$ova/ova-qcow2.ova" "$dir/only" &&
    cmp "$ova/expected/ova-qcow2.ova.0.raw" "$dir/only" ||
    fail "ova-qcow2.ova: its only disk is not the default"

# refused MESSAGE ARGS...: sparsecopy exits 2 with exactly MESSAGE.
refused ()
{
    local want=$1 status
    shift
    "$SPARSECOPY" "$@" 2> "$dir/stderr" && status=0 || status=$?
    [ "$status" -eq 2 ] || fail "sparsecopy $*: exit status $status"
    [ "$(head -1 "$dir/stderr")" = "sparsecopy: $want" ] ||
        fail "sparsecopy $*: message $(cat "$dir/stderr") -- expected sparsecopy: $want"
}
three=$ova/ova-three.ova
refused "$three: the OVA holds 3 disks: select one by index or name (0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    "$three" "$dir/none"
refused "$three: the OVA holds no disk \"9\" (its disks: 0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    --disk=9 "$three" "$dir/none"
refused "$ova/expected/ova-qcow2.ova.0.raw: a disk (\"0\") is selected, but this is not an OVA archive" \
    --disk=0 "$ova/expected/ova-qcow2.ova.0.raw" "$dir/none"
[ ! -e "$dir/none" ] || fail "a refused copy created its target"

# ---- streams ------------------------------------------------------------------

# streamed_disk WHAT RAW SPARSECOPY-ARGS...: sparsecopy's output, to a new
# file, equals RAW (qemu-img's output of the disk file).
streamed_disk ()
{
    local what=$1 raw=$2
    shift 2
    rm -f "$dir/streamed"
    "$SPARSECOPY" "$@" "$dir/streamed" 2> "$dir/stderr" ||
        fail "$what: sparsecopy failed: $(cat "$dir/stderr")"
    cmp "$raw" "$dir/streamed" || fail "$what: differs from qemu-img's output"
    echo "ok: $what"
}

# The archive's formats that stream: the monolithicSparse data.vmdk of
# ova-three.ova does not (refused below).
n=0
while read -r name index disk; do
    [ "$disk" != data.vmdk ] || continue
    streamed_disk "$name disk $index ($disk), piped" \
        "$ova/expected/$name.$index.raw" --disk="$index" - < "$ova/$name"
    n=$((n + 1))
done < "$ova/MANIFEST"
[ "$n" -ge 6 ] || fail "only $n OVA disks streamed"
streamed_disk "ova-three.ova --disk=scratch.img, piped" \
    "$ova/expected/ova-three.ova.2.raw" --disk=scratch.img - < "$three"
streamed_disk "ova-qcow2.ova, its only disk, piped" \
    "$ova/expected/ova-qcow2.ova.0.raw" - < "$ova/ova-qcow2.ova"
sum=sha256:$(sha256sum < "$three" | cut -d' ' -f1)
streamed_disk "ova-three.ova --disk=0 --source-checksum of the archive" \
    "$ova/expected/ova-three.ova.0.raw" --source-checksum="$sum" --disk=0 \
    - < "$three"

# The OVAs, served by the web servers of sparsecopy-functions.sh.
www=$dir/www
mkdir "$www"
ln -s "$ova"/*.ova "$www"
for ranges in --ranges ""; do
    server=${ranges:+ranged}
    server=${server:-plain}
    start_server "$server" $ranges
    url=http://127.0.0.1:$port
    streamed_disk "ova-stream.ova from the $server server" \
        "$ova/expected/ova-stream.ova.0.raw" "$url/ova-stream.ova"
    streamed_disk "ova-pax.ova from the $server server" \
        "$ova/expected/ova-pax.ova.0.raw" "$url/ova-pax.ova"
    streamed_disk "ova-three.ova --disk=system.vmdk from the $server server" \
        "$ova/expected/ova-three.ova.0.raw" --disk=system.vmdk \
        "$url/ova-three.ova"
done

# 3 MiB of data before their L2 table, a 1 MiB stream buffer: only
# reading them again (nginx answers ranges) brings them back.
(cd "$www" && late_l2_image disk.qcow2 "$dir/late.raw" &&
 echo '<Envelope><References><File href="disk.qcow2"/></References></Envelope>' > late.ovf &&
 tar -c --format=ustar -f late-l2.ova late.ovf disk.qcow2 && rm disk.qcow2 late.ovf)
start_nginx
streamed_disk "late-l2.ova, its qcow2 read again over ranges" "$dir/late.raw" \
    --stream-buffer=1M "http://127.0.0.1:$port/late-l2.ova"

refused "-: the OVA holds 3 disks: select one by index or name (0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    - "$dir/none" < "$three"
refused "-: the OVA holds no disk \"9\" (its disks: 0 system.vmdk, 1 data.vmdk, 2 scratch.img)" \
    --disk=9 - "$dir/none" < "$three"
refused "-/data.vmdk: a monolithicSparse VMDK image cannot be read as a stream, only a streamOptimized one: copy it from a local file" \
    --disk=1 - "$dir/none" < "$three"
refused "-: a disk (\"0\") is selected, but this is not an OVA archive" \
    --disk=0 - "$dir/none" < "$ova/expected/ova-qcow2.ova.0.raw"
# The disk first, its OVF after it: not an OVA as a stream.
(cd "$dir" && cp "$ova/expected/ova-qcow2.ova.0.raw" disk.raw &&
 echo '<Envelope><References><File href="disk.raw"/></References></Envelope>' > vm.ovf &&
 tar -c --format=ustar -f late.ova disk.raw vm.ovf)
refused "-: tar member 0 \"disk.raw\" is not an .ovf descriptor: a tar archive streams only as an OVA, its OVF first: copy it from a local file" \
    - "$dir/none" < "$dir/late.ova"
[ ! -e "$dir/none" ] || fail "a refused stream created its target"
# The OVF names a disk the archive lacks: refused as a file, and at the end
# of a stream of the other disk, with the same message.
(cd "$dir" && echo '<Envelope><References><File href="disk.raw"/><File href="gone.raw"/></References></Envelope>' > gone.ovf &&
 tar -c --format=ustar -f gone.ova gone.ovf disk.raw)
refused "$dir/gone.ova: gone.ovf: File \"gone.raw\" (reference 1) is not a member of the archive" \
    --disk=0 "$dir/gone.ova" "$dir/gone"
status=0
"$SPARSECOPY" --disk=0 - "$dir/gone" < "$dir/gone.ova" 2> "$dir/stderr" ||
    status=$?
[ "$status" -eq 2 ] || fail "gone.ova, streamed: exit status $status"
[[ $(head -1 "$dir/stderr") =~ ^"sparsecopy: -: read failed at offset "[0-9]+": -: gone.ovf: File \"gone.raw\" (reference 1) is not a member of the archive"$ ]] ||
    fail "gone.ova, streamed: message $(cat "$dir/stderr")"
