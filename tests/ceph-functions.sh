# A one-host Ceph cluster for the RBD tests, sourced after functions.sh.
#
# start_ceph_cluster: one monitor and one memstore OSD on 127.0.0.1, auth
# none, pool size 1, no manager, everything (data, sockets, logs) in a
# folder of the test's scratch space; stopped by the test's cleanup.  It
# sets:
#   CEPH_CONF     the cluster's ceph.conf (exported: rbd, ceph, qemu-img and
#                 sparsecopy all find the cluster through it)
#   ceph_dir      the cluster's folder
#   ceph_osd_pid  the OSD's pid (a fault test kills it)
# and creates the pool "rbd".  Memstore keeps every object in RAM: keep the
# images small.  Start to "1 up" takes a few seconds.
#
# CEPH_AUTH=cephx turns on cephx (for a test of caps): every daemon and
# client then finds its key in one keyring, $ceph_dir/keyring (mon.,
# client.admin, osd.0), named by CEPH_ARGS; ceph_add_client adds clients.

requires_ceph ()
{
    requires ceph-mon --version
    requires ceph-osd --version
    requires ceph --version
    requires rbd --version
}

# _ceph_port: a free TCP port on 127.0.0.1 for the monitor (tests may run
# in parallel, each with its own cluster), below the ephemeral range: a
# port from that range may be taken as a client's local port before the
# monitor binds it, and clients of one cluster then reach another's.
_ceph_port ()
{
    python3 -c 'import random, socket
for _ in range(100):
    port = random.randrange(10000, 30000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break'
}

_write_ceph_conf ()
{
    local dir=$1 port=$2
    cat > "$dir/ceph.conf" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = v1:127.0.0.1:$port
public network = 127.0.0.1/32
auth cluster required = ${CEPH_AUTH:-none}
auth service required = ${CEPH_AUTH:-none}
auth client required = ${CEPH_AUTH:-none}
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
# The OSD is placed in the CRUSH map by hand; at boot it would send those
# commands again, and a busy machine saw one sent before the OSD knew the
# cluster's fsid, refused ("wrong fsid"), and the OSD exit.
osd crush update on start = false
osd class update on start = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-1073741824}
osd op num threads per shard = 1
osd op num shards = 1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr2 = false
mon initial members = a
mon warn on pool no redundancy = false
[client]
rbd cache = false
# A dead OSD must fail clients in seconds, not hang them.
rados osd op timeout = 10
rados mon op timeout = 10
client mount timeout = 10
[mon.a]
public addr = v1:127.0.0.1:$port
EOF
}

# _ceph_up: the OSD is up (and so pools can be created).
_ceph_up ()
{
    ceph --connect-timeout 5 osd stat 2>/dev/null | grep -q '1 up'
}

start_ceph_cluster ()
{
    local port osd_uuid out try
    ceph_dir=$(make_tmpdir)
    mkdir -p "$ceph_dir/run" "$ceph_dir/log" "$ceph_dir/mon" \
             "$ceph_dir/osd/ceph-0"
    port=$(_ceph_port)
    _write_ceph_conf "$ceph_dir" "$port"
    export CEPH_CONF="$ceph_dir/ceph.conf"
    # Every command-line tool below reads $CEPH_CONF; with auth none the
    # keyring is never looked for, but ceph warns without one.
    export CEPH_ARGS="--keyring=/dev/null"
    if [ "${CEPH_AUTH:-none}" = cephx ]; then
        _make_ceph_keyring "$ceph_dir/keyring"
        export CEPH_ARGS="--keyring=$ceph_dir/keyring"
    fi

    monmaptool --create --addv a "[v1:127.0.0.1:$port]" \
        --fsid "$(sed -n 's/^fsid = //p' "$CEPH_CONF")" \
        "$ceph_dir/monmap" >/dev/null || fail "monmaptool failed"
    ceph-mon --id a --mkfs --monmap "$ceph_dir/monmap" >/dev/null 2>&1 ||
        fail "ceph-mon --mkfs failed (see $ceph_dir/log)"
    ceph-mon -f --id a 2>>"$ceph_dir/log/mon.a.stderr" &
    cleanup_fn _stop_ceph_daemon $!

    # The OSD's own uuid, given to both: an OSD made without one may be
    # refused at boot ("wrong fsid").
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    [ "$(ceph --connect-timeout 20 osd create "$osd_uuid")" = 0 ] ||
        fail "ceph osd create did not give OSD 0"
    # A monitor that just started can answer EPERM ("problem getting command
    # descriptions from mon") for a moment: try again for up to 10 s.
    for try in $(seq 50); do
        out=$(ceph osd crush add osd.0 1 root=default 2>&1) && break
        [ "$try" -lt 50 ] || fail "ceph osd crush add failed: $out"
        sleep 0.2
    done
    ceph-osd --id 0 --mkjournal --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 ||
        fail "ceph-osd --mkfs failed (see $ceph_dir/log)"
    ceph-osd -f --id 0 2>>"$ceph_dir/log/osd.0.stderr" &
    ceph_osd_pid=$!
    cleanup_fn _stop_ceph_daemon $!
    wait_for _ceph_up

    out=$(ceph osd pool create rbd 8 2>&1) ||
        fail "ceph osd pool create rbd failed: $out"
    rbd pool init rbd || fail "rbd pool init failed"
}

# _make_ceph_keyring FILE: the keys of mon., client.admin and osd.0, with
# their caps (the monitor takes them all in at --mkfs), in FILE.
_make_ceph_keyring ()
{
    {
        ceph-authtool --create-keyring "$1" --gen-key -n mon. \
            --cap mon 'allow *' &&
        ceph-authtool "$1" --gen-key -n client.admin --cap mon 'allow *' \
            --cap osd 'allow *' --cap mgr 'allow *' &&
        ceph-authtool "$1" --gen-key -n osd.0 --cap mon 'allow profile osd' \
            --cap osd 'allow *'
    } > /dev/null || fail "ceph-authtool failed"
}

# ceph_add_client NAME CAPS...: (cephx) the client client.NAME with CAPS
# (as `ceph auth get-or-create` takes them), its key in the keyring.
ceph_add_client ()
{
    local name=$1 out
    shift
    out=$(ceph auth get-or-create "client.$name" "$@" 2>&1) ||
        fail "ceph auth get-or-create client.$name failed: $out"
    printf '%s\n' "$out" >> "$ceph_dir/keyring"
}

# _stop_ceph_daemon PID: SIGTERM the daemon, SIGKILL after 10 s; nothing
# if it is gone (a fault test killed it: the pid may be another's now).
_stop_ceph_daemon ()
{
    local pid=$1 i
    grep -qs '^ceph-' "/proc/$pid/comm" || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# rbd_object_count POOL[/NAMESPACE]/IMAGE: how many data objects the image
# holds in RADOS.
rbd_object_count ()
{
    local pool=${1%%/*} rest=${1#*/} ns="" prefix
    case $rest in */*) ns=${rest%%/*} ;; esac
    prefix=$(rbd info --format json "$1" | jq -r .block_name_prefix)
    rados -p "$pool" -N "$ns" ls | grep -c "^$prefix\." || true
}
