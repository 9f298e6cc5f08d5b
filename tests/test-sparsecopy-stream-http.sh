#!/bin/bash
# SOURCE as an http:// URL, from servers this test starts on 127.0.0.1:
#  - nginx (Range support) and a server that ignores Range (as python3's
#    http.server does): raw, plain, zlib, zstd and subcluster qcow2,
#    streamOptimized VMDK in qemu-img's and VMware's layouts, and gzip, xz
#    and zstd wrappers of each, onto a dirty loop device, each equal to
#    qemu-img's output;
#  - a server that drops every connection after N bytes: resumed with
#    Range requests, each retry logged; without Range support: exit 2;
#  - 404 and 500: exit 2 with the status in the message;
#  - --header sends a token the server requires;
#  - --source-checksum of a download resumed after drops (the bytes as they came);
#  - an image whose data come before their L2 table: through a buffer
#    large enough from either server; through one too small, over Range
#    the parts let go are fetched again, without Range the message names
#    the buffer.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires jq --version
requires nginx -v
requires gzip --version
requires xz --version
requires zstd --version

corpus=$(corpus)
scratch_mount tmpfs size=1G
dir=$scratch
www=$dir/www
mkdir "$www"

# url_to_loop URL NAME [OPTIONS...]: sparsecopy URL onto a dirty loop
# device, checked against qemu-img's output of corpus image NAME.
url_to_loop ()
{
    local url=$1 name=$2
    shift 2
    prepare_loop "$name" "$dir"
    "$SPARSECOPY" --json "$@" "$url" "$target" > "$dir/json" \
        2> "$dir/err" || fail "$url: sparsecopy failed: $(cat "$dir/err")"
    [ "$(json_field "$dir/json" .complete)" = true ] ||
        fail "$url: summary says incomplete"
    check_on_loop "$name" "$target" "$backing" "$tail"
    detach_loop "$target" "$backing"
    rm -f "$backing" "$tail"
}

# expect_failure STATUS PATTERN SPARSECOPY-ARGS...
expect_failure ()
{
    local want=$1 pattern=$2 status=0
    shift 2
    "$SPARSECOPY" "$@" 2> "$dir/err" || status=$?
    [ $status -eq "$want" ] || fail "$*: exit $status, not $want"
    grep -Eq "$pattern" "$dir/err" || fail "$*: message: $(cat "$dir/err")"
}

images="raw-sparse.img v3-c64k.qcow2 zlib-c64k.qcow2 zstd-c64k.qcow2
        el2-prealloc.qcow2 multi-l2-c4k.qcow2 vmdk-stream.vmdk
        vmdk-stream-footer.vmdk"
wrapped=$images
for name in $images; do
    cp "$corpus/images/$name" "$www/"
done
for name in $wrapped; do
    gzip -c "$www/$name" > "$www/$name.gz"
    xz -c -T1 "$www/$name" > "$www/$name.xz"
    zstd -q -c "$www/$name" > "$www/$name.zst"
done
late_l2_image "$dir/late.qcow2" "$dir/late.raw"
cp "$dir/late.qcow2" "$www/"
echo > "$www/MANIFEST"

start_nginx
nginx=$port
start_server plain
plain=$port

for server in $nginx $plain; do
    for name in $images; do
        url_to_loop "http://127.0.0.1:$server/$name" "$name"
    done
    for name in $wrapped; do
        for ext in gz xz zst; do
            url_to_loop "http://127.0.0.1:$server/$name.$ext" "$name"
        done
    done
    echo "ok: images from port $server"
done

# Dropped connections.
start_server drop --ranges --drop-after 300000
url_to_loop "http://127.0.0.1:$port/zstd-c64k.qcow2" zstd-c64k.qcow2
retries=$(grep -c "resuming with a Range request (retry" "$dir/err") || true
[ "$retries" -ge 1 ] || fail "dropped transfer: no retry logged"
[ "$retries" -le 5 ] || fail "dropped transfer: $retries retries"
echo "ok: dropped transfer resumed, $retries retries"
sum=sha256:$(sha256sum < "$www/zstd-c64k.qcow2.xz" | cut -d' ' -f1)
url_to_loop "http://127.0.0.1:$port/zstd-c64k.qcow2.xz" zstd-c64k.qcow2 \
    --source-checksum=$sum
# The sum of the image inside the wrapper: not the bytes that came.
bad=sha256:$(sha256sum < "$www/zstd-c64k.qcow2" | cut -d' ' -f1)
expect_failure 5 "checksum mismatch" --source-checksum=$bad \
    "http://127.0.0.1:$port/zstd-c64k.qcow2.xz" "$dir/out"
echo "ok: --source-checksum of a resumed download"

start_server droplarge --ranges --drop-after 100000
expect_failure 2 "no retries left" \
    "http://127.0.0.1:$port/raw-sparse.img" "$dir/out"
echo "ok: retries are bounded"

start_server dropnorange --drop-after 300000
expect_failure 2 "does not accept ranges" \
    "http://127.0.0.1:$port/zstd-c64k.qcow2" "$dir/out"
echo "ok: dropped transfer without Range support fails"

# HTTP errors.
expect_failure 2 "404" "http://127.0.0.1:$nginx/missing.qcow2" "$dir/out"
start_server error500 --status 500
expect_failure 2 "500" "http://127.0.0.1:$port/v3-c64k.qcow2" "$dir/out"
echo "ok: 404 and 500"

# A token in a header.
start_server token --require-header "X-Token: s3cret"
expect_failure 2 "403" "http://127.0.0.1:$port/v3-c64k.qcow2" "$dir/out"
url_to_loop "http://127.0.0.1:$port/v3-c64k.qcow2" v3-c64k.qcow2 \
    --header "X-Token: s3cret"
echo "ok: --header"

# Data before their L2 table: through a buffer large enough, from either
# server; through one too small, fetched again with Range requests.
# late_to_loop URL [OPTIONS...]: the late image onto a dirty loop device.
late_to_loop ()
{
    local url=$1
    shift
    prepare_raw_loop "$dir/late.raw" "$dir/late"
    "$SPARSECOPY" "$@" "$url" "$target" 2> "$dir/err" ||
        fail "$url $*: sparsecopy failed: $(cat "$dir/err")"
    check_raw_on_loop "$dir/late.raw" "$target" "$backing" "$tail" "$url $*"
    detach_loop "$target" "$backing"
}
for server in $nginx $plain; do
    late_to_loop "http://127.0.0.1:$server/late.qcow2" --stream-buffer=16M
done
echo "ok: late L2 table, buffer large enough"
late_to_loop "http://127.0.0.1:$nginx/late.qcow2" --stream-buffer=1M
echo "ok: late L2 table, parts fetched again with Range"
expect_failure 2 "more than the stream buffer holds" --stream-buffer=1M \
    "http://127.0.0.1:$plain/late.qcow2" "$dir/late.out"
echo "ok: late L2 table without Range support: the buffer is named"
