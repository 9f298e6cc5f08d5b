#!/bin/bash
# NBD faults end with a clear message and the target's (3) or the
# source's (2) exit status, never a hang:
#  - no server behind the socket, a refused TCP connection on 127.0.0.1:
#    "sparsecopy: URI: connect: why";
#  - an export smaller than the source, a read-only export: refused before
#    anything is written;
#  - the error filter failing every write (target) or read (source);
#  - the server killed mid-copy (a delay filter slows it), as target and as
#    source.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
. "$srcdir/nbd-functions.sh"
requires python3 --version

dir=$(make_tmpdir)
MiB=$(( 1024 * 1024 ))
garbage "$dir/data.raw" $(( 8 * MiB ))

# expect STATUS PATTERN CMD...: CMD exits with STATUS, its stderr matches
# PATTERN (an extended regular expression).
expect ()
{
    local status=$1 pattern=$2 rc=0
    shift 2
    timeout 120 "$@" > /dev/null 2> "$dir/err" || rc=$?
    [ $rc -eq "$status" ] || fail "$*: exit $rc, not $status: $(cat "$dir/err")"
    grep -Eq "$pattern" "$dir/err" || fail "$*: message: $(cat "$dir/err")"
}

# No server.
expect 3 "^sparsecopy: nbd\+unix:///\?socket=$sockets/none: connect: No such file" \
    "$SPARSECOPY" "$dir/data.raw" "nbd+unix:///?socket=$sockets/none"
port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect 3 "^sparsecopy: nbd://127.0.0.1:$port/x: connect: .*Connection refused" \
    "$SPARSECOPY" "$dir/data.raw" "nbd://127.0.0.1:$port/x"
expect 2 "^sparsecopy: nbd://127.0.0.1:$port/x: connect: .*Connection refused" \
    "$SPARSECOPY" "nbd://127.0.0.1:$port/x" "$dir/new.raw"
echo "ok: refused connections"

# Too small, read-only: nothing written.
start_nbdkit small --filter=log memory $(( 4 * MiB )) logfile="$dir/log"
expect 3 "smaller than the source.*nothing was written" \
    "$SPARSECOPY" "$dir/data.raw" "$uri"
[ "$(logged_count "$dir/log" Write)" -eq 0 ] || fail "too small: written"
stop_server "$server"
start_nbdkit ro -r memory $(( 8 * MiB ))
expect 3 "/ro: the export is read-only" "$SPARSECOPY" "$dir/data.raw" "$uri"
stop_server "$server"
echo "ok: too small, read-only"

# Every write fails.
start_nbdkit eio --filter=error memory $(( 8 * MiB )) \
    error-pwrite=EIO error-pwrite-rate=100%
expect 3 "/eio: write failed at offset [0-9]+: Input/output error" \
    "$SPARSECOPY" "$dir/data.raw" "$uri"
grep -q "the target is incomplete" "$dir/err" || fail "eio: $(cat "$dir/err")"
stop_server "$server"
echo "ok: the error filter fails writes"

# Every read of the source fails.
start_nbdkit src-eio --filter=error file "$dir/data.raw" \
    error-pread=EIO error-pread-rate=100%
expect 2 "/src-eio: read failed at offset [0-9]+: Input/output error" \
    "$SPARSECOPY" "$uri" "$dir/new.raw"
stop_server "$server"
echo "ok: the error filter fails reads"

# killed_mid_copy NAME WHAT STATUS SOURCE TARGET NBDKIT-ARGS...: nbdkit
# (its requests slowed) on the socket NAME, killed once the log shows WHAT
# (Read, Write): the copy from SOURCE to TARGET (one of them $uri) exits
# with STATUS and says which request failed, and why.
killed_mid_copy ()
{
    local name=$1 what=$2 status=$3 source=$4 target=$5 copier rc=0 op
    shift 5
    start_nbdkit "$name" --filter=log --filter=delay "$@" logfile="$dir/log"
    [ "$source" = URI ] && source=$uri
    [ "$target" = URI ] && target=$uri
    : > "$dir/log"
    timeout 120 "$SPARSECOPY" -j 2 --request-size=256K "$source" "$target" \
        2> "$dir/err" &
    copier=$!
    wait_for grep -q " $what " "$dir/log"
    kill -9 "$server"
    wait $copier || rc=$?
    [ $rc -eq "$status" ] || fail "$name killed: exit $rc: $(cat "$dir/err")"
    op=$(echo "$what" | tr RW rw)
    grep -Eq "^sparsecopy: nbd\+unix://.*/$name: $op failed at offset [0-9]+: (the server closed the connection|the connection was lost)" \
        "$dir/err" || fail "$name killed: message: $(cat "$dir/err")"
    echo "ok: $name killed mid-copy: $(head -1 "$dir/err")"
}

killed_mid_copy dying Write 3 "$dir/data.raw" URI \
    memory $(( 8 * MiB )) delay-write=300ms
grep -q "the target is incomplete" "$dir/err" ||
    fail "target killed: $(cat "$dir/err")"
killed_mid_copy dying-src Read 2 URI "$dir/copy.raw" \
    file "$dir/data.raw" delay-read=300ms
