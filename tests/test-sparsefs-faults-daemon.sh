#!/bin/bash
# The daemon stopped while busy, every wait bounded:
#  - SIGTERM while 8 readers are reading (page cache bypassed): the daemon
#    exits within 5 s, the mount is gone, every reader ends within 10 s
#    with a clean error (ENOTCONN, ECONNABORTED, ENODEV, EIO) or a read
#    cut short, and every byte that came is qemu-img's;
#  - `fusermount3 -u -z` (lazy) while a file is open: the mount leaves the
#    tree at once, the open file still reads qemu-img's bytes, the daemon
#    stays idle (no CPU) until the file is closed, then exits;
#  - `fusermount3 -u` while a file is open: refused (busy), the daemon
#    still serves; once the file is closed it succeeds and the daemon exits;
#  - kill -9: the mount is left "Transport endpoint is not connected";
#    after `fusermount3 -u` the same command mounts it again and reads are
#    right.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires python3 --version

mount_corpus -o cache=4M               # for the first case; sets $mnt
img=$corpus/images
exp=$corpus/expected
mounted () { findmnt -n -M "$mnt" > /dev/null; }

# ---- SIGTERM with reads in flight ------------------------------------------
images=(zstd-c2m.qcow2 zlib-c2m.qcow2 v3-c2m.qcow2 el2-c2m.qcow2)
pids=()
for i in $(seq 8); do
    name=${images[i % ${#images[@]}]}
    $LSEEK read-for "$mnt/$(shown_name "$name")" "$exp/$name.raw" 30 "$i" \
        --until-error > "$tmp/reader.$i" 2>&1 &
    pids+=($!)
done
# reading PID: the reader has its raw file open (so is reading by now).
reading ()
{
    local fd
    for fd in /proc/"$1"/fd/*; do
        case "$(readlink "$fd")" in "$mnt"/*) return 0 ;; esac
    done
    return 1
}
for pid in "${pids[@]}"; do wait_for reading "$pid"; done
sleep 0.5
for i in $(seq 8); do
    [ ! -s "$tmp/reader.$i" ] || fail "reader $i ended before SIGTERM: $(cat "$tmp/reader.$i")"
done
kill -TERM "$sparsefs_pid"
exits_within 5 "$sparsefs_pid" || fail "sparsefs still running 5 s after SIGTERM with reads in flight"
! mounted || fail "still mounted after SIGTERM"
[ ! -e "$sparsefs_pidfile" ] || fail "pidfile left behind after SIGTERM"
for i in $(seq 8); do
    pid=${pids[i - 1]}
    exits_within 10 "$pid" || fail "reader $i hangs 10 s after the daemon exited"
    wait "$pid" || fail "reader $i: $(cat "$tmp/reader.$i")"
    # Its reads end with the connection's error, or one cut short (the
    # bytes that came are right).
    grep -Eqx "reads [0-9]+ (error (ENOTCONN|ECONNABORTED|ENODEV|EIO)|short)" "$tmp/reader.$i" ||
        fail "reader $i did not end cleanly: $(cat "$tmp/reader.$i")"
done
echo "ok: SIGTERM with 8 reads in flight"

# ---- lazy unmount while a file is open ---------------------------------------
name=zstd-c64k.qcow2
raw=$mnt/$(shown_name $name)
start_sparsefs "$img" "$mnt"
exec 5< "$raw"
fusermount3 -u -z "$mnt"
! mounted || fail "still in the tree after fusermount3 -u -z"
cmp - "$exp/$name.raw" <&5 || fail "$raw: the open file reads wrong after a lazy unmount"
kill -0 "$sparsefs_pid" || fail "sparsefs exited while a file is still open"
before=$(cpu_ticks "$sparsefs_pid")
sleep 2
after=$(cpu_ticks "$sparsefs_pid")
[ $((after - before)) -le 5 ] ||
    fail "lazily unmounted daemon used $((after - before)) ticks in 2 s while idle"
exec 5<&-
exits_within 5 "$sparsefs_pid" || fail "sparsefs still running 5 s after the last file closed"
[ ! -e "$sparsefs_pidfile" ] || fail "pidfile left behind after a lazy unmount"
echo "ok: fusermount3 -u -z while busy"

# ---- plain unmount while busy: refused, then done ---------------------------
start_sparsefs "$img" "$mnt"
exec 5< "$raw"
status=0
fusermount3 -u "$mnt" 2> "$tmp/err" || status=$?
[ $status != 0 ] || fail "fusermount3 -u succeeded with a file open"
grep -q "Device or resource busy" "$tmp/err" || fail "fusermount3 -u: $(cat "$tmp/err")"
mounted || fail "unmounted although busy"
cmp "$exp/$name.raw" "$raw" || fail "$raw: wrong after a refused unmount"
exec 5<&-
# The release reaches the daemon after close() returns: retry for a while.
wait_for fusermount3 -u "$mnt"
exits_within 5 "$sparsefs_pid" || fail "sparsefs still running 5 s after fusermount3 -u"
! mounted || fail "still mounted after fusermount3 -u"
echo "ok: fusermount3 -u busy, then done"

# ---- kill -9, then the same command again ------------------------------------
pidfile=$tmp/sparsefs.pid
command=("$SPARSEFS" --pidfile="$pidfile" -o cache=8M "$img" "$mnt")
"${command[@]}"
wait_for_pidfile "$pidfile"
wait_for_mount "$mnt"
pid=$(cat "$pidfile")
cleanup_fn stop_sparsefs "$mnt" "$pid"
cmp "$exp/$name.raw" "$raw"
kill -9 "$pid"
exits_within 5 "$pid" || fail "sparsefs still running 5 s after SIGKILL"
mounted || fail "the mount vanished with the daemon: no test"
out=$(stat "$raw" 2>&1) && fail "$raw: stat works on a dead mount"
case "$out" in
    *"Transport endpoint is not connected"*) ;;
    *) fail "dead mount: expected ENOTCONN, got: $out" ;;
esac
fusermount3 -u "$mnt"
! mounted || fail "still mounted after fusermount3 -u of a dead mount"
"${command[@]}"
wait_for_pidfile "$pidfile"
wait_for_mount "$mnt"
pid=$(cat "$pidfile")
cleanup_fn stop_sparsefs "$mnt" "$pid"
for name in zstd-c64k.qcow2 chain-top.qcow2 el2-c64k.qcow2; do
    cmp "$exp/$name.raw" "$mnt/$(shown_name $name)" ||
        fail "$name: wrong after the restart"
done
echo "ok: kill -9, fusermount3 -u, the same command again"
