#!/bin/bash
# --checksum=ALG[:HEX], the digest of the raw disk written (issue 15): it
# equals sha256sum of `qemu-img convert -O raw` for every corpus image
# (sha512 for a few), from a seekable image and from a stream (in file
# order, with data before its holes and out of guest order, through a
# small reorder window so that ranges are read back from the target);
# a matching HEX exits 0, a wrong one 5 saying the target is not to be
# trusted; --json carries it.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires qemu-img --version
requires qemu-io --version
requires jq --version

corpus=$(corpus)
dir=$(make_tmpdir)

# raw_sum ALG RAW: the digest of a raw file, as "ALG:HEX".
raw_sum ()
{
    echo "$1:$("${1}sum" < "$2" | cut -d' ' -f1)"
}

# Small pieces and a small window (4 rounds of 2 workers' 64 KiB): the
# digest puts many pieces back in order.
small="-j 2 --request-size 64k"
n=0
while read -r name; do
    [ "$(image_size "$name")" -le $(( 256 * 1024 * 1024 )) ] || continue
    want=$(raw_sum sha256 "$corpus/expected/$name.raw")
    rm -f "$dir/out"
    got=$("$SPARSECOPY" $small --checksum=sha256 "$corpus/images/$name" \
              "$dir/out") || fail "$name: sparsecopy failed"
    [ "$got" = "$want" ] || fail "$name: --checksum gave $got, not $want"
    n=$(( n + 1 ))
done < "$corpus/images/MANIFEST"
[ "$n" -gt 30 ] || fail "only $n corpus images"
echo "ok: sha256 of $n corpus images"

for name in v3-c64k.qcow2 zstd-c4k.qcow2 raw-odd-size.img; do
    want=$(raw_sum sha512 "$corpus/expected/$name.raw")
    rm -f "$dir/out"
    got=$("$SPARSECOPY" --checksum=sha512 "$corpus/images/$name" \
              "$dir/out") || fail "$name: sha512 failed"
    [ "$got" = "$want" ] || fail "$name: sha512 gave $got, not $want"
done
echo "ok: sha512"

# Streams.  An image written back to front: its data come in file order
# the reverse of guest order, and more of it than the window holds.
img=$dir/reverse.qcow2
qemu-img create -q -f qcow2 "$img" 32M
qemu-io -f qcow2 -c "write -P 0x33 24M 2M" -c "write -P 0x22 12M 3M" \
    -c "write -P 0x11 64k 1M" "$img" >/dev/null
qemu-img convert -O raw "$img" "$dir/reverse.raw"
for name in reverse v3-c64k zlib-c64k raw-sparse; do
    case $name in
        reverse) src=$img raw=$dir/reverse.raw ;;
        raw-sparse) src=$corpus/images/$name.img
                    raw=$corpus/expected/$name.img.raw ;;
        *) src=$corpus/images/$name.qcow2
           raw=$corpus/expected/$name.qcow2.raw ;;
    esac
    want=$(raw_sum sha256 "$raw")
    for jobs in "" "$small"; do
        rm -f "$dir/out"
        got=$("$SPARSECOPY" $jobs --checksum=sha256 - "$dir/out" < "$src") ||
            fail "$name streamed: sparsecopy failed"
        [ "$got" = "$want" ] || fail "$name streamed: $got, not $want"
        cmp "$raw" "$dir/out" || fail "$name streamed: wrong content"
    done
done
got=$(gzip -c "$img" | "$SPARSECOPY" --json --checksum=sha256 - "$dir/out" |
          jq -r .checksum)
[ "$got" = "$(raw_sum sha256 "$dir/reverse.raw")" ] ||
    fail "gzip stream: the summary's checksum is $got"
echo "ok: streamed sources"

# A matching HEX, a wrong one, a bad argument.
want=$(raw_sum sha256 "$dir/reverse.raw")
"$SPARSECOPY" --checksum="$want" "$img" "$dir/out" >/dev/null ||
    fail "a matching --checksum failed"
wrong=sha256:$(sha256sum < "$img" | cut -d' ' -f1)
status=0
"$SPARSECOPY" --json --checksum="$wrong" "$img" "$dir/out" > "$dir/json" \
    2> "$dir/err" || status=$?
[ $status -eq 5 ] || fail "a wrong --checksum: exit $status, not 5"
grep -q "sha256 checksum of the raw disk mismatch: .*not to be trusted" \
    "$dir/err" || fail "a wrong --checksum: message: $(cat "$dir/err")"
[ "$(jq -r .checksum "$dir/json")" = "$want" ] ||
    fail "a wrong --checksum: the summary does not show what was found"
[ "$(jq .exit_status "$dir/json")" -eq 5 ] ||
    fail "a wrong --checksum: the summary's exit status"
for bad in md5 sha256:00 sha1:$(sha1sum < "$img" | cut -d' ' -f1); do
    status=0
    "$SPARSECOPY" --checksum="$bad" "$img" "$dir/out" 2>/dev/null ||
        status=$?
    [ $status -eq 1 ] || fail "--checksum=$bad: exit $status, not 1"
done
echo "ok: --checksum=ALG:HEX"
