#!/bin/bash
# NBD over TLS: nbds:// (TCP on 127.0.0.1) and nbds+unix://, to an nbdkit
# that requires TLS, with a certificate authority and a server certificate
# the test makes with openssl; the client finds the authority through the
# URI's tls-certificates= folder.  Content checked against qemu-img's raw
# view, as target and as source.  A client that trusts another authority
# is refused with a message that names the URI.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/nbd-functions.sh"
requires qemu-img --version
requires openssl version
requires python3 --version

dir=$(make_tmpdir)
MiB=$(( 1024 * 1024 ))

# make_authority DIR: a certificate authority (DIR/ca-cert.pem) and a
# server certificate it signed for 127.0.0.1 and localhost, in the file
# names nbdkit and libnbd look for.
make_authority ()
{
    mkdir -p "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1/ca-key.pem" -out "$1/ca-cert.pem" -days 2 \
        -subj "/CN=sparsecopy test authority" 2>> "$dir/openssl.log"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1/server-key.pem" -out "$1/server.csr" \
        -subj "/CN=localhost" 2>> "$dir/openssl.log"
    printf '%s\n' "subjectAltName = DNS:localhost, IP:127.0.0.1" \
           "extendedKeyUsage = serverAuth" > "$1/server.ext"
    openssl x509 -req -in "$1/server.csr" -CA "$1/ca-cert.pem" \
        -CAkey "$1/ca-key.pem" -CAcreateserial -days 2 \
        -extfile "$1/server.ext" -out "$1/server-cert.pem" 2>> "$dir/openssl.log"
}
make_authority "$dir/pki" || fail "openssl: $(cat "$dir/openssl.log")"
make_authority "$dir/other" || fail "openssl: $(cat "$dir/openssl.log")"

# The source: data, a zero cluster and holes.
src=$dir/src.qcow2
qemu-img create -q -f qcow2 "$src" 8M
qemu-io -f qcow2 -c "write -P 0x5a 64k 1M" -c "write -z 2M 1M" \
    -c "write -P 0x33 6M 512k" "$src" > /dev/null
qemu-img convert -O raw "$src" "$dir/expected.raw"

certs="tls-certificates=$dir/pki"

# start_tls_server URI NBDKIT-ARGS...: nbdkit requiring TLS with the
# authority's server certificate, listening as NBDKIT-ARGS say, serving an
# 8 MiB memory export; ready once a client reaches it at URI.
start_tls_server ()
{
    local uri=$1
    shift
    nbdkit -f "$@" --tls=require --tls-certificates="$dir/pki" \
        memory $(( 8 * MiB )) 2>> "$dir/nbdkit.log" &
    server=$!
    cleanup_fn stop_server "$server"
    wait_for nbdinfo --size "$uri"
}

# copy_to URI: the source onto the export at URI, read back and compared.
copy_to ()
{
    "$SPARSECOPY" "$src" "$1" 2> "$dir/err" || fail "$1: $(cat "$dir/err")"
    export_bytes "$1" "$dir/back.raw"
    cmp "$dir/expected.raw" "$dir/back.raw" || fail "$1: content"
}

# refused LABEL URI: sparsecopy to URI exits 3, the URI named.
refused ()
{
    local rc=0
    "$SPARSECOPY" "$src" "$2" > /dev/null 2> "$dir/err" || rc=$?
    [ $rc -eq 3 ] || fail "$1: exit $rc: $(cat "$dir/err")"
    grep -qF "sparsecopy: $2: connect: " "$dir/err" ||
        fail "$1: $(cat "$dir/err")"
}

# Over TCP: nbds://127.0.0.1:PORT, as target and as source.
port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tcp_uri="nbds://127.0.0.1:$port/?$certs"
start_tls_server "$tcp_uri" -i 127.0.0.1 -p "$port"
copy_to "$tcp_uri"
rm -f "$dir/copy.raw"
"$SPARSECOPY" "$tcp_uri" "$dir/copy.raw" 2> "$dir/err" ||
    fail "nbds:// source: $(cat "$dir/err")"
cmp "$dir/expected.raw" "$dir/copy.raw" || fail "nbds:// source: content"
echo "ok: nbds:// as target and as source"

# A plain connection to a server that requires TLS, and TLS with another
# authority: refused.
refused "no TLS" "nbd://127.0.0.1:$port/"
refused "another authority" "nbds://127.0.0.1:$port/?tls-certificates=$dir/other"
stop_server "$server"
echo "ok: refused without TLS and with another authority"

# Over a Unix socket: nbds+unix://.
unix_uri="nbds+unix:///?socket=$sockets/tls&$certs"
start_tls_server "$unix_uri" -U "$sockets/tls"
copy_to "$unix_uri"
echo "ok: nbds+unix:// as target"
