#!/bin/bash
# `make check-package` (as root; .ci/run runs it after the test suite):
# the Debian package, from build to purge, on this machine.
#  1. Builds it with dpkg-buildpackage from a clean copy of the tree (git
#     archive of the committed tree plus changes to tracked files; the
#     build tree is never touched) and requires lintian to be silent at its
#     default level.
#  2. Installs it with apt-get; the template unit must not be enabled.
#  3. Mounts a folder of images through an fstab line (mount -T FILE, so
#     mount(8) runs mount.fuse3, which runs the installed /usr/bin/sparsefs)
#     and reads each image back as `qemu-img convert -O raw` writes it;
#     copies each through the installed /usr/bin/sparsecopy and compares.
#  4. Unmounts, purges, and checks the machine is as it was: none of the
#     package's files left, the package unknown to dpkg, /usr/local and the
#     systemd state unchanged.
# The build tree's programs are never used: PATH holds only system folders.
. "$srcdir/functions.sh"
. "$srcdir/sparsefs-functions.sh"
requires_root
requires_fuse

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# The package build is a make of its own: not a part of the caller's.
unset MAKEFLAGS MFLAGS MAKELEVEL
version=${VERSION:?VERSION: the version configure was given}
list=$top_srcdir/contrib/debian12-packages.txt
for tool in git dpkg-buildpackage dh lintian apt-get qemu-img mount.fuse3; do
    command -v "$tool" > /dev/null || fail "$tool is missing: install the packages of $list"
done
git -C "$top_srcdir" rev-parse --git-dir > /dev/null 2>&1 ||
    fail "$top_srcdir is no git checkout: the package is built from git archive"

# package_status: dpkg's status of the sparsefs package (empty if unknown).
package_status ()
{
    dpkg-query -W -f '${db:Status-Status}' sparsefs 2>/dev/null || true
}
# package_known: dpkg has the package in any state (config files included).
package_known ()
{
    case "$(package_status)" in
        "" | not-installed) return 1 ;;
    esac
}

# purge_package: remove the package and its configuration, if dpkg has it.
purge_package ()
{
    package_known || return 0
    apt-get purge -y -q -o DPkg::Lock::Timeout=300 sparsefs > "$work/apt.log" 2>&1 ||
        { cat "$work/apt.log" >&2; fail "apt-get purge failed"; }
}
! package_known ||
    fail "the sparsefs package is already on this machine ($(package_status)): purge it first"

# Everything in /tmp: the build tree may sit under a path with spaces,
# which fstab and dpkg-buildpackage would trip on.
make_public_tmpdir
work=$public

# ---- the debian/ files agree with the tree -----------------------------
[ "$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)" = "$version" ] ||
    fail "debian/changelog's version is not configure's $version: add a changelog entry"
# Every build dependency is in the list the README installs.
build_deps=$(sed -n '/^Build-Depends:/,/^[^ ]/ { s/^Build-Depends://; /^[^ ]/d; p }' "$top_srcdir/debian/control" |
                 tr ',' '\n' | sed 's/[(\[].*//; s/^ *//; s/ *$//; s/^debhelper-compat$/debhelper/; /^$/d')
[ -n "$build_deps" ] || fail "debian/control: no Build-Depends found"
for dep in $build_deps; do
    sed 's/#.*//' "$list" | tr -s ' \t' '\n' | grep -qxF -- "$dep" ||
        fail "build dependency $dep is not in $list"
done

# ---- 1. build, lintian ---------------------------------------------------
mkdir "$work/src"
# stash create: a commit of the tracked files as they are now, without
# touching the work tree or the index (none when nothing changed).
snapshot=$(git -C "$top_srcdir" stash create)
git -C "$top_srcdir" archive --format=tar "${snapshot:-HEAD}" | tar -x -C "$work/src"
echo "== dpkg-buildpackage -us -uc -b"
(cd "$work/src" &&
     DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" \
         dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 ||
    { tail -n 50 "$work/build.log" >&2; fail "dpkg-buildpackage failed"; }
! grep -q 'Testsuite summary' "$work/build.log" || fail "the package build ran the test suite"
deb=$work/sparsefs_${version}_$(dpkg --print-architecture).deb
changes=${deb%.deb}.changes
[ -f "$deb" ] || fail "no $deb after the build"
echo "== lintian $(basename "$changes")"
lintian --fail-on error,warning "$changes" ||
    fail "lintian reports errors or warnings (above)"

# ---- 2. install ---------------------------------------------------------
# What the machine holds before: the package's paths that already exist
# (shared folders such as /usr/bin), /usr/local, and systemd's unit state.
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; s|/$||; /^$/d' | sort > "$work/contents"
while read -r path; do
    if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi
done < "$work/contents" > "$work/existed"
grep -qx /usr/bin/sparsefs "$work/existed" && fail "/usr/bin/sparsefs exists, but no package holds it"
machine_state ()
{
    find /usr/local -printf '%y %m %s %T@ %p\n' | sort
    find /etc/systemd /var/lib/systemd -name '*sparsefs*' 2>/dev/null | sort
}
machine_state > "$work/state.before"

echo "== apt-get install $(basename "$deb")"
apt-get install -y -q -o DPkg::Lock::Timeout=300 "$deb" > "$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install failed"; }
cleanup_fn purge_package
[ "$(package_status)" = installed ] || fail "after apt-get install: status '$(package_status)'"
dpkg -L sparsefs | sed '/^\/\.$/d' | sort > "$work/installed"
diff "$work/contents" "$work/installed" || fail "dpkg -L differs from the package's contents"
for program in sparsefs sparsecopy; do
    [ -x "/usr/bin/$program" ] || fail "/usr/bin/$program is not installed"
    [ -f "/usr/share/man/man1/$program.1.gz" ] || fail "no man page for $program"
done
unit=/lib/systemd/system/sparsefs@.service
[ -f "$unit" ] || fail "$unit is not installed"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$exec_start" ] || fail "$unit runs '$exec_start', which is not installed"
[ -f /usr/share/doc/sparsefs/examples/fstab.example ] || fail "no fstab example"
machine_state | diff "$work/state.before" - ||
    fail "installing changed /usr/local or enabled a unit"

# ---- 3. mount from an fstab line, copy ------------------------------------
mkdir "$work/images" "$work/mnt"
cp "$srcdir/data/sample.qcow2" "$work/images/"
qemu-img convert -c -O qcow2 -o compression_type=zstd,cluster_size=64k \
    "$work/images/sample.qcow2" "$work/images/sample-zstd.qcow2"
pidfile=$work/sparsefs.pid
echo "$work/images $work/mnt fuse.sparsefs ro,cache=16M,pidfile=$pidfile,nofail 0 0" > "$work/fstab"
echo "== mount -T fstab $work/mnt: $(cat "$work/fstab")"
mount -T "$work/fstab" "$work/mnt"
wait_for_pidfile "$pidfile"
pid=$(cat "$pidfile")
cleanup_fn stop_sparsefs "$work/mnt" "$pid"
[ "$(readlink "/proc/$pid/exe")" = /usr/bin/sparsefs ] ||
    fail "the mount runs $(readlink "/proc/$pid/exe"), not /usr/bin/sparsefs"
[ "$(findmnt -n -M "$work/mnt" -o FSTYPE)" = fuse.sparsefs ] ||
    fail "mounted as '$(findmnt -n -M "$work/mnt" -o FSTYPE)'"
for image in "$work"/images/*.qcow2; do
    name=$(basename "$image" .qcow2)
    qemu-img convert -O raw "$image" "$work/$name.expected"
    cmp "$work/$name.expected" "$work/mnt/$name.raw" ||
        fail "$name.raw read through the installed sparsefs differs from qemu-img's"
    /usr/bin/sparsecopy "$image" "$work/$name.copy"
    cmp "$work/$name.expected" "$work/$name.copy" ||
        fail "the installed sparsecopy's copy of $name differs from qemu-img's"
done
echo "ok: both images read back through the fstab mount and copy as qemu-img has them"
umount "$work/mnt"
exits_within 10 "$pid" || fail "sparsefs still running 10 s after umount"

# ---- 4. purge: the machine as it was --------------------------------------
echo "== apt-get purge sparsefs"
purge_package
! package_known || fail "after the purge dpkg still has sparsefs as '$(package_status)'"
left=()
while read -r path; do
    grep -qxF -- "$path" "$work/existed" && continue
    if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
done < "$work/installed"
if [ ${#left[@]} -gt 0 ]; then
    printf '  %s\n' "${left[@]}" >&2
    fail "${#left[@]} of the package's paths are left after the purge"
fi
while read -r path; do
    [ -e "$path" ] || fail "$path, there before the install, is gone after the purge"
done < "$work/existed"
machine_state | diff "$work/state.before" - ||
    fail "/usr/local or systemd's unit state differ from before the install"
echo "ok: the package built lintian-clean, installed, mounted from fstab, copied, and purged without a trace"
