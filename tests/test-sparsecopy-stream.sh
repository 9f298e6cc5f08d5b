#!/bin/bash
# SOURCE read as a stream (standard input, a FIFO): every self-contained
# corpus image of a format that streams (raw, qcow2, streamOptimized VMDK)
# piped onto a loop device (512-byte sectors) whose backing file is full
# of garbage must equal qemu-img's output there, with the backing file as
# thin as the file case leaves it; every other image is refused.  Then:
#  - gzip, xz and zstd wrappers, found by their magic, and truncated ones;
#  - streamOptimized VMDK streams cut short: in a grain, between two grains
#    (the grain tables name what did not come), before the end-of-stream
#    marker;
#  - images that need another file are refused, saying what to do;
#  - an image whose data come before its L2 table (the table moved to the
#    end of the file) streams through a large enough --stream-buffer, and
#    stops with a message naming the buffer when it is too small;
#  - a stream that ends early fails (exit 2) and says so;
#  - --source-checksum over the bytes as they came (a wrapper's, not the
#    image's): a match exits 0, a mismatch 5 saying the target is not to
#    be trusted, and a local file is refused;
#  - --verify is refused for a stream.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires jq --version
requires gzip --version
requires xz --version
requires zstd --version

corpus=$(corpus)
scratch_mount tmpfs size=1G
dir=$scratch
check="python3 $srcdir/sparse-check.py"
max_loop_size=$(( 256 * 1024 * 1024 ))

# needs_other_file NAME: the image has a backing or an external data file.
needs_other_file ()
{
    qemu-img info --output=json "$corpus/images/$1" |
        jq -e '."backing-filename" // ."format-specific".data."data-file"' \
           >/dev/null
}

# file_format NAME: the format qemu reads corpus image NAME as.
file_format ()
{
    local format
    format=$(awk -v name="$1" '$1 == name { print $2 }' \
                 "$corpus/images/QEMU-FORMATS")
    [ -n "$format" ] ||
        format=$(qemu-img info --output=json "$corpus/images/$1" | jq -r .format)
    echo "$format"
}

# refuses_stream NAME ARGS...: NAME piped with ARGS is refused, as a
# format read from local files only (its metadata must never land on the
# target as data).
refuses_stream ()
{
    local name=$1 status
    shift
    if "$SPARSECOPY" "$@" - "$dir/refused" < "$corpus/images/$name" \
           2> "$dir/err"; then
        fail "$name: a $(file_format "$name") image was streamed"
    else
        status=$?
    fi
    [ $status -ne 0 ] && [ $status -lt 128 ] || fail "$name: exit $status"
    grep -Eq "image cannot be read as a stream( yet|, only a streamOptimized one): copy it from a local file" \
         "$dir/err" || fail "$name: message: $(cat "$dir/err")"
}

# stream_to_loop NAME [WRAPPER...]: NAME piped through WRAPPER (default
# cat) onto a dirty loop device, checked against qemu-img's output.
stream_to_loop ()
{
    local name=$1
    shift
    prepare_loop "$name" "$dir"
    "${@:-cat}" < "$corpus/images/$name" |
        "$SPARSECOPY" --json - "$target" > "$dir/json" ||
        fail "$name: streamed sparsecopy failed${1:+ (through $*)}"
    [ "$(json_field "$dir/json" .complete)" = true ] ||
        fail "$name: summary says incomplete"
    check_on_loop "$name" "$target" "$backing" "$tail"
    detach_loop "$target" "$backing"
    rm -f "$backing" "$tail"
}

stream_to_new_file ()
{
    local name=$1
    cat "$corpus/images/$name" | "$SPARSECOPY" - "$dir/$name.new" ||
        fail "$name: streamed sparsecopy to a new file failed"
    $check cmp "$corpus/expected/$name.raw" "$dir/$name.new" ||
        fail "$name: the new file differs from qemu-img's output"
    [ "$(allocated_bytes "$dir/$name.new")" -le \
      $(( $(allocated_bytes "$corpus/expected/$name.raw") + 65536 )) ] ||
        fail "$name: the new file is not sparse"
    rm -f "$dir/$name.new"
}

# vmdk_type NAME: the createType of VMDK corpus image NAME.
vmdk_type ()
{
    qemu-img info --output=json "$corpus/images/$1" |
        jq -r '."format-specific".data."create-type"'
}

n=0 refused=0 other_formats=0 vmdk_streams=0
while read -r name; do
    format=$(file_format "$name")
    [ "$format" != vmdk ] || [ "$(vmdk_type "$name")" != streamOptimized ] ||
        format=vmdk-stream
    case $format in
        raw|qcow2) ;;
        vmdk-stream) vmdk_streams=$(( vmdk_streams + 1 )) ;;
        *)
            refuses_stream "$name" --format="$format"
            # Probed: a fixed VHD (a footer at the end only) reads as raw,
            # as qemu probes it too.
            [ "$(head -c 8 "$corpus/images/$name")" != conectix ] &&
                [ "$format" = vpc ] || refuses_stream "$name"
            other_formats=$(( other_formats + 1 ))
            continue ;;
    esac
    if needs_other_file "$name"; then
        if "$SPARSECOPY" - "$dir/refused" < "$corpus/images/$name" \
               2> "$dir/err"; then
            fail "$name: an image needing another file was streamed"
        else
            status=$?
        fi
        [ $status -eq 2 ] || fail "$name: exit $status, not 2"
        grep -q "which a stream cannot open: .*copy from the local file" \
             "$dir/err" || fail "$name: message: $(cat "$dir/err")"
        refused=$(( refused + 1 ))
        continue
    fi
    if [ "$(image_size "$name")" -gt "$max_loop_size" ]; then
        stream_to_new_file "$name"
    else
        stream_to_loop "$name"
    fi
    echo "ok: $name"
    n=$(( n + 1 ))
done < "$corpus/images/MANIFEST"
[ "$n" -gt 25 ] || fail "only $n corpus images streamed"
[ "$refused" -gt 5 ] || fail "only $refused images refused"
[ "$other_formats" -gt 5 ] || fail "only $other_formats VDI and VHD images refused"
[ "$vmdk_streams" -ge 3 ] || fail "only $vmdk_streams streamOptimized VMDK images streamed"

# Wrapped in gzip, xz or zstd.
for name in raw-sparse.img v3-c64k.qcow2 zlib-c64k.qcow2 zstd-c4k.qcow2 \
            el2-prealloc.qcow2 vmdk-stream-footer.vmdk; do
    for wrapper in "gzip -c" "xz -c -T1" "zstd -q -c"; do
        stream_to_loop "$name" $wrapper
        echo "ok: $name through $wrapper"
    done
done
for wrapper in gzip xz zstd; do
    status=0
    $wrapper -c "$corpus/images/v3-c64k.qcow2" | head -c 20000 |
        "$SPARSECOPY" - "$dir/short" 2> "$dir/err" || status=$?
    [ $status -eq 2 ] || fail "truncated $wrapper: exit $status, not 2"
    grep -q "the $wrapper stream ended in the middle" "$dir/err" ||
        fail "truncated $wrapper: message: $(cat "$dir/err")"
    echo "ok: truncated $wrapper"
done

# A FIFO as the source.
mkfifo "$dir/fifo"
cat "$corpus/images/zstd-c64k.qcow2" > "$dir/fifo" &
"$SPARSECOPY" "$dir/fifo" "$dir/fifo.out"
wait
$check cmp "$corpus/expected/zstd-c64k.qcow2.raw" "$dir/fifo.out" ||
    fail "FIFO: the output differs from qemu-img's"
echo "ok: FIFO"

# Data before their L2 table: the only L2 table moved to the end of the file.
late=$dir/late.qcow2
late_l2_image "$late" "$dir/late.raw"

prepare_raw_loop "$dir/late.raw" "$dir/late"
cat "$late" | "$SPARSECOPY" --stream-buffer=16M - "$target" ||
    fail "late L2 table: a buffer large enough failed"
check_raw_on_loop "$dir/late.raw" "$target" "$backing" "$tail" late.qcow2
detach_loop "$target" "$backing"
echo "ok: late L2 table, buffer large enough"

if cat "$late" | "$SPARSECOPY" --stream-buffer=1M - "$dir/late.small" \
       2> "$dir/err"; then
    fail "late L2 table: a buffer too small succeeded"
else
    status=$?
fi
[ $status -eq 2 ] || fail "late L2 table, small buffer: exit $status, not 2"
grep -q "come before the L2 tables that map them.*larger stream buffer, or copy from a seekable file" "$dir/err" ||
    fail "late L2 table, small buffer: message: $(cat "$dir/err")"
echo "ok: late L2 table, buffer too small"

# A stream that ends early, in the data and in the header.
img=$corpus/images/v3-c64k.qcow2
for cut in $(( $(stat -c %s "$img") - 65536 )) 50; do
    if head -c $cut "$img" | "$SPARSECOPY" - "$dir/short" 2> "$dir/err"; then
        fail "a stream cut at $cut bytes succeeded"
    else
        status=$?
    fi
    [ $status -eq 2 ] || fail "cut at $cut: exit $status, not 2"
    grep -Eq "ended|too short" "$dir/err" ||
        fail "cut at $cut: message: $(cat "$dir/err")"
done
echo "ok: truncated streams"

# streamOptimized VMDK streams cut short.
# cut_vmdk NAME BYTES PATTERN: NAME's first BYTES fail (exit 2) with PATTERN.
cut_vmdk ()
{
    local status=0
    head -c "$2" "$corpus/images/$1" |
        "$SPARSECOPY" - "$dir/short" 2> "$dir/err" || status=$?
    [ $status -eq 2 ] || fail "$1 cut at $2: exit $status, not 2"
    grep -Eq "$3" "$dir/err" || fail "$1 cut at $2: message: $(cat "$dir/err")"
}
spans=$corpus/images/vmdk-stream-spans.vmdk
# Where its last grain starts: the last entry of its last grain table.
last_grain=$(python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
gtes, = struct.unpack_from("<I", d, 44)
gd, = struct.unpack_from("<Q", d, 56)
gts = [g for g in struct.unpack_from("<3I", d, gd * 512) if g]
print(max(struct.unpack_from("<%dI" % gtes, d, gts[-1] * 512)) * 512)' "$spans")
cut_vmdk vmdk-stream-spans.vmdk $(( last_grain + 100 )) \
    "ended at byte $(( last_grain + 100 )), before the end of the VMDK compressed grain at 0x"
cut_vmdk vmdk-stream-spans.vmdk "$last_grain" \
    "VMDK grain table at sector [0-9]+, entry [0-9]+: the grain at guest offset 0x[0-9a-f]+ is at sector $(( last_grain / 512 )), but the stream brought no such grain"
footer=$corpus/images/vmdk-stream-footer.vmdk
cut_vmdk vmdk-stream-footer.vmdk $(( $(stat -c %s "$footer") - 512 )) \
    "ended at byte [0-9]+, before the VMDK end-of-stream marker"
echo "ok: truncated VMDK streams"

# --source-checksum.
xz -c -T1 "$img" > "$dir/img.xz"
sum256=$(sha256sum < "$dir/img.xz" | cut -d' ' -f1)
sum512=$(sha512sum < "$dir/img.xz" | cut -d' ' -f1)
for sum in sha256:$sum256 sha512:$sum512; do
    "$SPARSECOPY" --source-checksum=$sum - "$dir/sum.out" < "$dir/img.xz" ||
        fail "--source-checksum=$sum: a matching checksum failed"
    cmp "$corpus/expected/v3-c64k.qcow2.raw" "$dir/sum.out" ||
        fail "--source-checksum=$sum: the output differs from qemu-img's"
done
wrong=sha256:$(sha256sum < "$img" | cut -d' ' -f1)
status=0
"$SPARSECOPY" --source-checksum=$wrong - "$dir/sum.out" < "$dir/img.xz" \
    2> "$dir/err" || status=$?
[ $status -eq 5 ] || fail "--source-checksum mismatch: exit $status, not 5"
grep -q "sha256 checksum mismatch: .*not to be trusted" "$dir/err" ||
    fail "--source-checksum mismatch: message: $(cat "$dir/err")"
zstd -q -c "$footer" > "$dir/footer.zst"
"$SPARSECOPY" --source-checksum=sha256:$(sha256sum < "$dir/footer.zst" | cut -d' ' -f1) \
    - "$dir/sum.out" < "$dir/footer.zst" ||
    fail "--source-checksum of a VMDK stream: a matching checksum failed"
cmp "$corpus/expected/vmdk-stream-footer.vmdk.raw" "$dir/sum.out" ||
    fail "--source-checksum of a VMDK stream: the output differs from qemu-img's"
status=0
"$SPARSECOPY" --source-checksum=sha256:$sum256 "$img" "$dir/sum.out" \
    2> "$dir/err" || status=$?
[ $status -eq 2 ] || fail "--source-checksum of a local file: exit $status, not 2"
echo "ok: --source-checksum"

# --verify needs a second reading.
if "$SPARSECOPY" --verify - "$dir/verify" < "$img" 2> "$dir/err"; then
    fail "--verify of a stream succeeded"
fi
grep -q "a stream can be read once" "$dir/err" ||
    fail "--verify of a stream: message: $(cat "$dir/err")"
echo "ok: --verify refused"
