# Shared helpers for the integration tests.  Source it first:
#   . "$srcdir/functions.sh"
# Every failure fails the test (set -e); a test skips (exit 77) only through
# the requires* functions, when the machine lacks what they name.

set -e
set -u

: "${srcdir:=$(cd "$(dirname "$0")" && pwd)}"
: "${builddir:=$PWD}"
: "${top_srcdir:=$srcdir/..}"

# ---- python3 ------------------------------------------------------------
# Where python3 is a version manager's shim (pyenv), every call first runs a
# few shell scripts: tens of milliseconds idle, seconds under load, and the
# tests call python3 hundreds of times.  Put the interpreter's folder first.
_python=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || _python=
if [ -n "$_python" ] && [ "$_python" != "$(command -v python3)" ]; then
    PATH=${_python%/*}:$PATH
fi

# ---- cleanup ------------------------------------------------------------
_cleanup_hooks=()

# cleanup_fn CMD [ARGS...]: run CMD when the test exits, last added first.
cleanup_fn ()
{
    _cleanup_hooks+=("$(printf '%q ' "$@")")
}

_run_cleanup_hooks ()
{
    local status=$? i
    set +e
    for (( i=${#_cleanup_hooks[@]}-1; i>=0; i-- )); do
        eval "${_cleanup_hooks[$i]}"
    done
    exit $status
}
trap _run_cleanup_hooks EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- outcomes -----------------------------------------------------------
fail ()
{
    echo "FAIL: $*" >&2
    exit 1
}

skip ()
{
    echo "SKIP: $*" >&2
    exit 77
}

# ---- requirements -------------------------------------------------------
# requires CMD [ARGS...]: skip unless CMD runs successfully.
requires ()
{
    "$@" >/dev/null 2>&1 || skip "requires: $*"
}

requires_root ()
{
    [ "$(id -u)" = 0 ] || skip "requires root"
}

requires_fuse ()
{
    [ -c /dev/fuse ] || skip "requires /dev/fuse"
    requires fusermount3 --version
}

requires_loop ()
{
    requires_root
    [ -c /dev/loop-control ] || skip "requires loop devices"
    requires losetup --version
}

# ---- scratch space ------------------------------------------------------
# Every test gets one scratch folder, removed when it exits.  It is made
# here, in the test's own shell: a cleanup registered inside $(...) would
# be lost with the subshell.
mkdir -p "$builddir/tmp"
_scratch=$(mktemp -d "$builddir/tmp/$(basename "$0" .sh).XXXXXX")
cleanup_fn rm -rf "$_scratch"
chmod 0755 "$_scratch"   # tests as another user must be able to pass through

# make_tmpdir: a fresh folder inside the test's scratch folder (so removed
# when the test exits, even when called as d=$(make_tmpdir)); prints its path.
make_tmpdir ()
{
    mktemp -d "$_scratch/tmp.XXXXXX"
}

# make_public_tmpdir: set $public to a fresh folder every user can reach,
# removed when the test exits; for mount points another user reads
# through, since the build tree (and so the scratch folder) may sit under
# a folder only root can pass (/root, mode 0700).  Call it in the test's
# own shell, not in $(...), so that its cleanup is kept.
make_public_tmpdir ()
{
    public=$(mktemp -d /tmp/sparsefs-test.XXXXXX)
    cleanup_fn rm -rf "$public"
    chmod 0755 "$public"
}

# ---- the oracle corpus --------------------------------------------------
# corpus: build the oracle corpus once per build tree, and again when the
# scripts that make it change (the first test to ask builds it, the others
# wait on the lock) and print its folder.
# Layout: images/ holds the images (entry points listed in MANIFEST, one
# file name per line), expected/NAME.raw what `qemu-img convert -O raw`
# makes of images/NAME.
# is_fresh STAMP SCRIPT...: STAMP is newer than every SCRIPT that exists.
is_fresh ()
{
    local stamp=$1 script
    shift
    for script; do
        [ -e "$script" ] || continue
        [ "$stamp" -nt "$script" ] || return 1
    done
}

# The scripts that make generated test inputs (the corpus, the fuzz seeds).
input_scripts ()
{
    local tests_dir=$top_srcdir/tests
    echo "$tests_dir/image-helpers.sh" "$tests_dir/field_edit.py" \
         "$tests_dir"/*-edit.py "$tests_dir/vmdk-footer-layout.py"
}

# corpus_is_fresh STAMP: STAMP is newer than every script that makes the corpus.
corpus_is_fresh ()
{
    # shellcheck disable=SC2046 # the script paths have no blanks
    is_fresh "$1" "$srcdir/make-corpus.sh" "$srcdir"/corpus-*.sh $(input_scripts)
}

corpus ()
{
    local dir="$builddir/corpus"
    (
        flock 9
        # Built again when the scripts that make it changed since.
        if ! corpus_is_fresh "$dir/.complete"; then
            rm -rf "$dir"
            bash "$srcdir/make-corpus.sh" "$dir" >&2
            touch "$dir/.complete"
        fi
    ) 9>"$builddir/corpus.lock"
    echo "$dir"
}

# ---- waiting ------------------------------------------------------------
# wait_for CMD...: retry CMD for up to 60 s (every 0.1 s).
wait_for ()
{
    local i
    for i in $(seq 600); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "timed out waiting for: $*"
}

# wait_for_mount DIR: until DIR is a FUSE mount point.
wait_for_mount ()
{
    wait_for _is_fuse_mount "$1"
}

_is_fuse_mount ()
{
    findmnt -n -M "$1" -o FSTYPE | grep -q '^fuse'
}

# wait_for_pidfile FILE: until FILE holds the pid of a live process.
wait_for_pidfile ()
{
    wait_for _pidfile_alive "$1"
}

_pidfile_alive ()
{
    [ -s "$1" ] && kill -0 "$(cat "$1")"
}

# allocated_bytes FILE: bytes the file system really holds for FILE.
allocated_bytes ()
{
    echo $(( $(stat -c %b "$1") * 512 ))
}

# ---- huge sparse files --------------------------------------------------
# huge_file_dir: a folder whose file system holds sparse files of 2^62 bytes
# (tmpfs does; ext4 stops at 16 TiB), removed when the test exits, in $huge
# (a variable: see make_tmpdir).  /dev/shm when it is a writable tmpfs, else
# a tmpfs mounted here (root only).
huge_file_dir ()
{
    if [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
        huge=$(mktemp -d /dev/shm/sparsefs-test.XXXXXX)
        cleanup_fn rm -rf "$huge"
    else
        requires_root
        huge=$(make_tmpdir)
        mount -t tmpfs -o size=64M,mode=0755 sparsefs-test "$huge"
        cleanup_fn umount -l "$huge"
    fi
    truncate -s $((1 << 62)) "$huge/probe" ||
        fail "$huge does not hold sparse files of 2^62 bytes"
    rm "$huge/probe"
}
