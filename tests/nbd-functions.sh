# Helpers of the NBD tests, sourced after functions.sh and
# sparsecopy-functions.sh.  Servers listen on Unix sockets in a short
# folder of /tmp (a socket's path holds at most 107 bytes, the build tree
# may be deeper) and are stopped when the test exits.
requires nbdkit --version
requires nbdinfo --version
requires nbdcopy --version

sockets=$(mktemp -d /tmp/sparsecopy-nbd.XXXXXX)
cleanup_fn rm -rf "$sockets"

# stop_server PID: stop a server and wait until it is gone (nbdkit's stats
# filter writes its file at exit).
stop_server ()
{
    kill "$1" 2>/dev/null || true
    while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}

# start_nbdkit NAME NBDKIT-ARGS...: nbdkit in the foreground on the socket
# NAME; sets $uri and $server (its pid).
start_nbdkit ()
{
    local name=$1
    shift
    rm -f "$sockets/$name"
    nbdkit -f -U "$sockets/$name" "$@" 2> "$sockets/$name.log" &
    server=$!
    cleanup_fn stop_server "$server"
    uri="nbd+unix:///?socket=$sockets/$name"
    wait_for nbdinfo --size "$uri"
}

# start_qemu_nbd NAME QEMU-NBD-ARGS...: qemu-nbd on the socket NAME, serving
# one client after another (-t); sets $uri and $server.
start_qemu_nbd ()
{
    local name=$1
    shift
    rm -f "$sockets/$name"
    qemu-nbd -t -k "$sockets/$name" "$@" 2> "$sockets/$name.log" &
    server=$!
    cleanup_fn stop_server "$server"
    uri="nbd+unix:///?socket=$sockets/$name"
    wait_for nbdinfo --size "$uri"
}

# export_bytes URI FILE: the export's content into FILE.
export_bytes ()
{
    rm -f "$2"
    nbdcopy "$1" "$2"
}

# map_data_bytes URI SIZE: bytes nbdinfo --map shows allocated (not a
# hole) in the first SIZE bytes of the export.
map_data_bytes ()
{
    nbdinfo --map "$1" |
        awk -v size="$2" '$1 < size && !($4 ~ /hole/) {
            end = $1 + $2; if (end > size) end = size; sum += end - $1 }
            END { print sum + 0 }'
}

# logged_bytes LOG KIND: bytes of the requests of KIND (Write, Zero, Trim)
# in an nbdkit log filter's file.
logged_bytes ()
{
    local count sum=0
    for count in $(awk -v kind="$2" '$4 == kind {
            for (i = 5; i <= NF; i++)
                if (sub (/^count=/, "", $i)) print $i }' "$1"); do
        sum=$(( sum + count ))       # the log writes counts in hex
    done
    echo $sum
}

# logged_count LOG KIND: how many requests of KIND the log shows.
logged_count ()
{
    awk -v kind="$2" '$4 == kind { n++ } END { print n + 0 }' "$1"
}

# stats_ops STATSFILE KIND: the operations nbdkit's stats filter counted
# for KIND (write, zero, trim), 0 when it has no line for it.
stats_ops ()
{
    awk -v kind="$2:" '$1 == kind { print $2; found = 1 }
        END { if (!found) print 0 }' "$1"
}

# logged_max_in_flight LOG: the most requests the server was working on at
# once (the log filter writes a line when each starts and ends).
logged_max_in_flight ()
{
    awk '$4 ~ /^(Read|Write|Zero|Trim|Flush|Extents)$/ {
             if (++n > max) max = n }
         $4 ~ /^\.\.\.(Read|Write|Zero|Trim|Flush|Extents)$/ { n-- }
         END { print max + 0 }' "$1"
}
