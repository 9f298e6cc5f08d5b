#!/bin/bash
# NBD exports as target and as source, served on Unix sockets:
#  - nbdkit's memory plugin, made dirty first, as target for plain,
#    compressed (zlib, zstd), subcluster and odd-size images: the content
#    is qemu-img's, nbdinfo --map shows no more data than the source has;
#    the log and stats filters show no trim at all, write-zeroes for
#    exactly the bytes sparsecopy says it zeroed, and writes for exactly
#    its data;
#  - a fresh export reads as zero (block status): holes are skipped,
#    nothing is zeroed; --show-probe says what it learned;
#  - -j 4 keeps several requests in flight (a delay filter slows writes);
#  - the nozero filter: no write-zeroes, so holes are written, with one
#    warning; fast zeroes refused: write-zeroes without FAST_ZERO;
#  - qemu-nbd over a file of garbage as target: content and holes;
#  - qemu-nbd over qcow2 images as source (holes from block status),
#    --dry-run counts its data, --verify reads it again.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/nbd-functions.sh"
requires qemu-img --version
requires qemu-nbd --version
requires jq --version

corpus=$(corpus)
dir=$(make_tmpdir)
export_size=$(( 8 * 1024 * 1024 ))
slack=$(( 64 * 1024 ))

# data_bytes NAME: bytes of data in the corpus image NAME's raw view.
data_bytes ()
{
    qemu-img map --output=json -f raw "$corpus/expected/$1.raw" |
        jq '[.[] | select(.data and (.zero | not)) | .length] | add // 0'
}

# same_as_expected URI NAME: the export's first bytes are qemu-img's.
same_as_expected ()
{
    local size
    size=$(image_size "$2")
    export_bytes "$1" "$dir/out.raw"
    cmp -n "$size" "$corpus/expected/$2.raw" "$dir/out.raw" ||
        fail "$2: the export differs from qemu-img's output"
}

# A dirty export: every image lands on garbage.
garbage "$dir/garbage" $export_size
for name in raw-sparse.img v3-c64k.qcow2 zlib-c64k.qcow2 zstd-c64k.qcow2 \
            el2-c64k.qcow2 odd-size.qcow2; do
    start_nbdkit dirty --filter=log --filter=stats memory $export_size \
        logfile="$dir/log" statsfile="$dir/stats"
    nbdcopy "$dir/garbage" "$uri"
    : > "$dir/log"
    "$SPARSECOPY" --json --verify "$corpus/images/$name" "$uri" \
        > "$dir/json" 2> "$dir/err" || fail "$name: $(cat "$dir/err")"
    same_as_expected "$uri" "$name"
    size=$(image_size "$name")
    data=$(map_data_bytes "$uri" "$size")
    [ "$data" -le $(( $(data_bytes "$name") + slack )) ] ||
        fail "$name: the export holds $data bytes of data"
    stop_server "$server"

    zeroed=$(jq '.zeroed.punch + .zeroed.zeroout' "$dir/json")
    written=$(jq '.bytes_written + .zeroed.write' "$dir/json")
    [ "$(jq -r .verified "$dir/json")" = true ] || fail "$name: not verified"
    [ "$zeroed" -gt 0 ] || fail "$name: no hole was zeroed on a dirty export"
    [ "$(logged_count "$dir/log" Trim)" -eq 0 ] || fail "$name: trimmed"
    [ "$(stats_ops "$dir/stats" trim)" -eq 0 ] || fail "$name: stats: trims"
    [ "$(stats_ops "$dir/stats" zero)" -gt 0 ] || fail "$name: stats: zeroes"
    [ "$(logged_bytes "$dir/log" Zero)" -eq "$zeroed" ] ||
        fail "$name: write-zeroes of $(logged_bytes "$dir/log" Zero) bytes," \
             "sparsecopy says $zeroed"
    [ "$(logged_bytes "$dir/log" Write)" -eq "$written" ] ||
        fail "$name: writes of $(logged_bytes "$dir/log" Write) bytes," \
             "sparsecopy says $written"
    [ "$written" -le $(( $(data_bytes "$name") + slack )) ] ||
        fail "$name: $written bytes written for $(data_bytes "$name") of data"
    echo "ok: $name onto a dirty nbdkit export"
done

# A fresh export reads as zero: nothing to zero.
name=zstd-c64k.qcow2
start_nbdkit fresh --filter=log memory $export_size logfile="$dir/log"
"$SPARSECOPY" --dry-run "$corpus/images/$name" "$uri" > "$dir/probe"
grep -q "NBD export" "$dir/probe" || fail "probe: $(cat "$dir/probe")"
grep -q "reads as zero: yes" "$dir/probe" || fail "probe: $(cat "$dir/probe")"
grep -q "fast_zero: yes" "$dir/probe" || fail "probe: $(cat "$dir/probe")"
grep -q "holes will use: skip" "$dir/probe" || fail "probe: $(cat "$dir/probe")"
[ "$(logged_count "$dir/log" Write)" -eq 0 ] || fail "--dry-run wrote"
"$SPARSECOPY" --json "$corpus/images/$name" "$uri" > "$dir/json"
same_as_expected "$uri" "$name"
[ "$(jq .zeroed.skip "$dir/json")" -gt 0 ] || fail "fresh export: not skipped"
[ "$(logged_count "$dir/log" Zero)" -eq 0 ] || fail "fresh export: zeroed"
stop_server "$server"
echo "ok: a fresh export reads as zero"

# -j 4: requests in flight at once on the one connection.
garbage "$dir/data.raw" $(( 4 * 1024 * 1024 ))
start_nbdkit slow --filter=log --filter=delay memory $export_size \
    logfile="$dir/log" delay-write=50ms
"$SPARSECOPY" -j 4 --request-size=256K "$dir/data.raw" "$uri"
export_bytes "$uri" "$dir/out.raw"
cmp -n $(( 4 * 1024 * 1024 )) "$dir/data.raw" "$dir/out.raw" ||
    fail "-j 4: content"
in_flight=$(logged_max_in_flight "$dir/log")
[ "$in_flight" -ge 3 ] || fail "-j 4: at most $in_flight requests in flight"
stop_server "$server"
echo "ok: -j 4 kept $in_flight requests in flight"

# No write-zeroes: holes are written, with one warning.
name=zlib-c64k.qcow2
start_nbdkit nozero --filter=log --filter=nozero memory $export_size \
    logfile="$dir/log"
nbdcopy "$dir/garbage" "$uri"
: > "$dir/log"
"$SPARSECOPY" --json "$corpus/images/$name" "$uri" > "$dir/json" 2> "$dir/err"
same_as_expected "$uri" "$name"
[ "$(grep -c "warning: .*holes are zeroed by write" "$dir/err")" -eq 1 ] ||
    fail "nozero: warning: $(cat "$dir/err")"
[ "$(logged_count "$dir/log" Zero)" -eq 0 ] || fail "nozero: write-zeroes"
[ "$(jq .zeroed.write "$dir/json")" -gt 0 ] || fail "nozero: nothing written"
stop_server "$server"
echo "ok: no write-zeroes: holes written, one warning"

# A server that refuses fast zeroes (it would write them): punch drops to
# zeroout, write-zeroes without FAST_ZERO.
name=v3-c64k.qcow2
start_nbdkit slowzero --filter=log --filter=nozero memory $export_size \
    logfile="$dir/log" zeromode=plugin fastzeromode=slow
nbdcopy "$dir/garbage" "$uri"
: > "$dir/log"
"$SPARSECOPY" --json "$corpus/images/$name" "$uri" > "$dir/json" 2> "$dir/err"
same_as_expected "$uri" "$name"
grep -q "punch is not supported.*falling back to zeroout" "$dir/err" ||
    fail "fast zero refused: $(cat "$dir/err")"
[ "$(grep -c " Zero .* fast=1" "$dir/log")" -eq 1 ] ||
    fail "fast zero refused: tried $(grep -c " Zero .* fast=1" "$dir/log") times"
[ "$(jq .zeroed.zeroout "$dir/json")" -gt 0 ] || fail "fast zero refused: no zeroout"
[ "$(logged_count "$dir/log" Trim)" -eq 0 ] || fail "fast zero refused: trimmed"
stop_server "$server"
echo "ok: fast zero refused: write-zeroes without it"

# qemu-nbd over a file of garbage as target; --discard=unmap lets it punch.
for name in v3-c64k.qcow2 zstd-c64k.qcow2 el2-c64k.qcow2; do
    size=$(image_size "$name")
    garbage "$dir/file.raw" "$size"
    start_qemu_nbd file -f raw --discard=unmap --cache=none "$dir/file.raw"
    "$SPARSECOPY" --verify "$corpus/images/$name" "$uri"
    stop_server "$server"
    cmp "$corpus/expected/$name.raw" "$dir/file.raw" ||
        fail "$name: qemu-nbd's file differs"
    [ "$(allocated_bytes "$dir/file.raw")" -le $(( $(data_bytes "$name") + slack )) ] ||
        fail "$name: qemu-nbd's file holds $(allocated_bytes "$dir/file.raw") bytes"
    echo "ok: $name onto qemu-nbd over a file"
done

# qemu-nbd serving qcow2 images as the source.
for name in v3-c64k.qcow2 zlib-c64k.qcow2 el2-c64k.qcow2 raw-sparse.img; do
    format=$(qemu-img info --output=json "$corpus/images/$name" | jq -r .format)
    start_qemu_nbd src -r -f "$format" "$corpus/images/$name"
    rm -f "$dir/new.raw"
    # Block status counts the data the engine finds in the image itself.
    "$SPARSECOPY" --dry-run "$corpus/images/$name" "$dir/new.raw" |
        grep -o "[0-9]* bytes of data" > "$dir/image-data"
    "$SPARSECOPY" --dry-run "$uri" "$dir/new.raw" > "$dir/probe"
    grep -qF "$(cat "$dir/image-data")" "$dir/probe" ||
        fail "$name: --dry-run: $(cat "$dir/probe"), the image has" \
             "$(cat "$dir/image-data")"
    "$SPARSECOPY" --json --verify "$uri" "$dir/new.raw" > "$dir/json"
    stop_server "$server"
    cmp "$corpus/expected/$name.raw" "$dir/new.raw" ||
        fail "$name: copied from qemu-nbd, differs"
    [ "$(allocated_bytes "$dir/new.raw")" -le $(( $(data_bytes "$name") + slack )) ] ||
        fail "$name: from qemu-nbd: $(allocated_bytes "$dir/new.raw") bytes"
    [ "$(jq .bytes_read "$dir/json")" -le $(( $(data_bytes "$name") + slack )) ] ||
        fail "$name: read $(jq .bytes_read "$dir/json") bytes from qemu-nbd"
    echo "ok: $name from qemu-nbd"
done
