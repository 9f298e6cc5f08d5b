#!/bin/bash
# No scratch space: a stream is written to the target and nowhere else.
# For a pipe and an HTTP source (nginx, with Range support), and for an
# image whose data come before their L2 table (held in the stream buffer,
# or let go and fetched again with Range requests):
#  - under strace, the only file opened for writing (or created, renamed,
#    linked, truncated, removed) is the target;
#  - in a private mount namespace where /, /tmp, /var/tmp, /dev/shm and
#    the working folder are read-only, the copy still succeeds.
# Each result must equal qemu-img convert's output.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires strace -V
requires unshare --version
requires nginx -v
requires curl --version

scratch_mount tmpfs size=512M
dir=$scratch
www=$dir/www
mkdir "$www"

# The images: a compressed one written by qemu-img convert (streams with
# no buffer), and one whose L2 table comes after its data.
qemu-img create -q -f qcow2 "$dir/src.qcow2" 32M
qemu-io -f qcow2 -c "write -P 0x31 0 5M" -c "write -P 0x32 20M 3M" \
    "$dir/src.qcow2" >/dev/null
qemu-img convert -c -O qcow2 "$dir/src.qcow2" "$www/plain.qcow2"
qemu-img convert -O raw "$www/plain.qcow2" "$dir/plain.raw"
late_l2_image "$www/late.qcow2" "$dir/late.raw"

port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$srcdir/serve-nginx.sh" "$www" "$dir/nginx" "$port" &
cleanup_fn kill $!
wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/plain.qcow2"
url=http://127.0.0.1:$port

garbage "$dir/back" $((64 * 1024 * 1024))
loop_over "$dir/back"
target=$loop

# cases: NAME SOURCE-KIND OPTIONS, one a line.
cases="plain pipe
late pipe --stream-buffer=16M
plain http
late http --stream-buffer=16M
late http --stream-buffer=1M"

# run_case NAME KIND [OPTIONS...] -- WRAPPER...: sparsecopy of image NAME
# from a pipe or over HTTP onto $target, run under WRAPPER.
run_case ()
{
    local name=$1 kind=$2 options=() wrapper
    shift 2
    while [ "$1" != -- ]; do options+=("$1"); shift; done
    shift
    if [ "$kind" = pipe ]; then
        cat "$www/$name.qcow2" | "$@" "$SPARSECOPY" "${options[@]}" - "$target"
    else
        "$@" "$SPARSECOPY" "${options[@]}" "$url/$name.qcow2" "$target"
    fi
}

check_result ()
{
    cmp -n "$(stat -c %s "$dir/$1.raw")" "$dir/$1.raw" "$target" ||
        fail "$2: the target differs from qemu-img's output"
}

# writes_elsewhere LOG: the calls in strace's LOG that write, create or
# remove anything but the target.
writes_elsewhere ()
{
    python3 - "$1" "$target" <<'PY'
import re, sys
log, target = sys.argv[1], sys.argv[2]
writing = re.compile(r'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND')
for line in open(log):
    m = re.search(r'\b(openat2?|open|creat)\((?:AT_FDCWD|\d+), "([^"]*)", ([^,)]*)', line) \
        or re.search(r'\b(creat)\("([^"]*)"()', line)
    if m:
        if (m.group(1) == "creat" or writing.search(m.group(3))) and m.group(2) != target:
            print(line.rstrip())
    elif re.search(r'\b(mkdir|mkdirat|rename|renameat2?|link|linkat|symlink|symlinkat|'
                   r'truncate|unlink|unlinkat|mknod|mknodat)\(', line):
        print(line.rstrip())
PY
}

while read -r name kind options; do
    what="$name.qcow2 $([ "$kind" = pipe ] && echo "from a pipe" || echo "over HTTP")${options:+ ($options)}"
    # LeakSanitizer cannot run under ptrace: the runs without strace below
    # check leaks.
    # shellcheck disable=SC2086
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    run_case $name $kind $options -- strace -f -qq -o "$dir/strace.log" \
        -e trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,truncate,unlink,unlinkat,mknod,mknodat ||
        fail "$what: sparsecopy failed under strace"
    check_result $name "$what"
    grep -q "\"$target\"" "$dir/strace.log" ||
        fail "$what: strace did not see the target opened"
    elsewhere=$(writes_elsewhere "$dir/strace.log")
    [ -z "$elsewhere" ] || fail "$what: writes outside the target: $elsewhere"
    echo "ok: $what: strace sees nothing written but the target"

    # Read-only everywhere a scratch file could go.
    garbage "$dir/back.tmp" 1M && dd if="$dir/back.tmp" of="$target" bs=1M \
        count=1 conv=notrunc status=none && rm "$dir/back.tmp"
    # shellcheck disable=SC2086
    run_case $name $kind $options -- unshare -m bash -c '
        set -e
        for d in / /tmp /var/tmp /dev/shm "$0"; do
            [ -d "$d" ] || continue
            mountpoint -q "$d" || mount --bind "$d" "$d"
            mount -o remount,bind,ro "$d"
        done
        cd "$0"
        for probe in "$0/probe" /tmp/probe /probe; do
            if touch "$probe" 2>/dev/null; then
                echo "$probe: still writable" >&2
                exit 1
            fi
        done
        exec "$@"' "$PWD" ||
        fail "$what: sparsecopy failed with read-only folders"
    check_result $name "$what, read-only folders"
    echo "ok: $what: with /, /tmp and the working folder read-only"
done <<< "$cases"
