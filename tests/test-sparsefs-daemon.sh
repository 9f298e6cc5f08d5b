#!/bin/bash
# The daemon's life: command line checks before mounting, idle without
# spinning, a clean exit on an external unmount, SIGTERM and SIGINT (mount
# and pidfile gone), mounting from fstab's form (mount -t fuse.sparsefs, via
# mount.fuse3), and one image shown in a folder.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse
requires test -x /sbin/mount.fuse3

corpus=$(corpus)
img=$corpus/images
exp=$corpus/expected
tmp=$(make_tmpdir)
make_public_tmpdir
mnt=$public/mnt                 # nobody reads through it with allow_other
mkdir "$mnt"

# ---- command line errors: exit 1 with a message, nothing mounted ---------
expect_error ()
{
    local pattern=$1 status
    shift
    status=0
    "$SPARSEFS" "$@" > "$tmp/out" 2>&1 || status=$?
    [ "$status" = 1 ] || fail "sparsefs $*: exit status $status, want 1"
    grep -q -- "$pattern" "$tmp/out" ||
        fail "sparsefs $*: message '$(cat "$tmp/out")' lacks '$pattern'"
    ! findmnt -n -M "$mnt" > /dev/null || fail "sparsefs $*: mounted anyway"
}
expect_error "Usage:"
expect_error "Usage:" "$img"
expect_error "$tmp/missing: No such file or directory" "$tmp/missing" "$mnt"
expect_error "not a size" --cache=lots "$img" "$mnt"
expect_error "MOUNTPOINT must be one" "$img" "$img/MANIFEST"
mkdir "$tmp/src" "$tmp/src/inner"
expect_error "MOUNTPOINT is inside SOURCE" "$tmp/src" "$tmp/src/inner"
cp "$img/v3-c64k.qcow2" "$tmp/broken.qcow2"
python3 "$srcdir/qcow2-edit.py" "$tmp/broken.qcow2" 'l1_table_offset=l1_table_offset+8'
expect_error "broken.qcow2: .*L1" "$tmp/broken.qcow2" "$mnt"
"$SPARSEFS" --help | grep -q -- "--allow-dir" || fail "--help does not list --allow-dir"
"$SPARSEFS" --version | grep -q "^sparsefs " || fail "--version"

# ---- a start in the foreground prints nothing of libfuse's ------------------
# (libfuse 3.14 said "Ignoring invalid max threads value 4294967295" when
# given the unset idle-threads value through the old loop configuration)
start_sparsefs_logged "$tmp/start.log" "$img" "$mnt"
cmp "$exp/zstd-c64k.qcow2.raw" "$mnt/zstd-c64k.raw"
fusermount3 -u "$mnt"
exits_within 5 "$sparsefs_pid" || fail "sparsefs -f still running 5 s after fusermount3 -u"
! grep -i "invalid\|ignoring" "$tmp/start.log" ||
    fail "a clean start printed warnings: $(cat "$tmp/start.log")"

# ---- idle, then an external unmount ---------------------------------------
start_sparsefs "$img" "$mnt"
before=$(cpu_ticks "$sparsefs_pid")
sleep 2
after=$(cpu_ticks "$sparsefs_pid")
[ $((after - before)) -le 5 ] || fail "idle daemon used $((after - before)) ticks in 2 s"
fusermount3 -u "$mnt"
exits_within 5 "$sparsefs_pid" || fail "sparsefs still running 5 s after fusermount3 -u"
[ ! -e "$sparsefs_pidfile" ] || fail "pidfile left behind after an external unmount"

# ---- SIGTERM, SIGINT -------------------------------------------------------
for signal in TERM INT; do
    start_sparsefs "$img" "$mnt"
    kill -$signal "$sparsefs_pid"
    exits_within 5 "$sparsefs_pid" || fail "sparsefs still running 5 s after SIG$signal"
    ! findmnt -n -M "$mnt" > /dev/null || fail "still mounted after SIG$signal"
    [ ! -e "$sparsefs_pidfile" ] || fail "pidfile left behind after SIG$signal"
done

# ---- fstab form: what mount(8) runs for "SOURCE MOUNTPOINT fuse.sparsefs
# OPTIONS" (mount itself runs helpers with a fixed PATH: not the build tree)
pidfile=$tmp/fstab.pid
PATH=$(dirname "$SPARSEFS"):$PATH \
    mount.fuse3 "$img" "$mnt" -t fuse.sparsefs \
    -o "ro,allow_other,cache=16M,pidfile=$pidfile,nofail,x-systemd.automount"
wait_for_pidfile "$pidfile"
pid=$(cat "$pidfile")
cleanup_fn stop_sparsefs "$mnt" "$pid"
[ "$(findmnt -n -M "$mnt" -o FSTYPE,SOURCE)" = "fuse.sparsefs $(realpath "$img")" ] ||
    fail "fstab mount shows as '$(findmnt -n -M "$mnt" -o FSTYPE,SOURCE)'"
options=$(findmnt -n -M "$mnt" -o OPTIONS)
for option in ro allow_other nosuid nodev; do
    [[ ",$options," == *",$option,"* ]] || fail "fstab mount: options '$options' lack $option"
done
cmp "$exp/zstd-c64k.qcow2.raw" "$mnt/zstd-c64k.raw"
# As if the tree were under /root (mode 0700): the mount point must not
# depend on the build tree being reachable.
chmod 0700 "$tmp"
su nobody -s /bin/sh -c "cat '$mnt/zstd-c64k.raw'" > "$tmp/as-nobody" ||
    fail "allow_other: another user can't read a world-readable image"
cmp "$exp/zstd-c64k.qcow2.raw" "$tmp/as-nobody"
umount "$mnt"
exits_within 5 "$pid" || fail "sparsefs still running 5 s after umount"

# ---- one image, MOUNTPOINT a folder: NAME.raw only ------------------------
start_sparsefs "$img/chain-top.qcow2" "$mnt" --allow-dir "$img"
[ "$(ls -A "$mnt")" = "chain-top.raw" ] || fail "single image: listing '$(ls -A "$mnt")'"
cmp "$exp/chain-top.qcow2.raw" "$mnt/chain-top.raw"
