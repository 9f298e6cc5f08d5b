#!/bin/bash
# Every size option of both programs takes sizes by the one rule of
# src/common/size.h: bytes, or with K, M, G, T or P (powers of 1024), in
# either case, optionally followed by iB.  Each program is given a missing
# SOURCE: an accepted option gets past option checking to the SOURCE error,
# a refused one stops at a usage error that names the option.
. "$srcdir/functions.sh"

tmp=$(make_tmpdir)
missing=$tmp/missing.qcow2
mkdir "$tmp/target"

# accepts PROGRAM-AND-OPTION...: the options pass, SOURCE is what fails.
accepts ()
{
    local status=0
    "$@" "$missing" "$tmp/target" > "$tmp/out" 2>&1 || status=$?
    grep -q "missing.qcow2: .*No such file or directory" "$tmp/out" ||
        fail "$*: refused an option, or no SOURCE error: $(cat "$tmp/out")"
    [ "$status" != 0 ] || fail "$*: succeeded with a missing SOURCE"
}

# refuses PATTERN PROGRAM-AND-OPTION...: exit 1, a message matching PATTERN.
refuses ()
{
    local pattern=$1 status=0
    shift
    "$@" "$missing" "$tmp/target" > "$tmp/out" 2>&1 || status=$?
    [ "$status" = 1 ] || fail "$*: exit status $status, want 1 ($(cat "$tmp/out"))"
    grep -q -- "$pattern" "$tmp/out" || fail "$*: message '$(cat "$tmp/out")' lacks '$pattern'"
}

for spelling in 4096 4k 4K 4KiB 4kib 4KIB; do
    accepts "$SPARSEFS" --cache="$spelling"
    accepts "$SPARSEFS" -o cache="$spelling"
    accepts "$SPARSEFS" --readahead="$spelling"
    accepts "$SPARSEFS" -o readahead="$spelling"
    accepts "$SPARSECOPY" --sparse="$spelling"
    accepts "$SPARSECOPY" -S "$spelling"
done
for spelling in 1048576 1024k 1m 1M 1MiB 1mib 0G; do
    accepts "$SPARSEFS" --cache="${spelling/0G/1g}"
    accepts "$SPARSEFS" --readahead="$spelling"
    [ "$spelling" = 0G ] || accepts "$SPARSECOPY" --request-size="$spelling"
    accepts "$SPARSECOPY" --sparse="$spelling"
done
accepts "$SPARSEFS" --readahead=0T
accepts "$SPARSEFS" --readahead=0p
echo "ok: K, M, G, T, P, either case, optional iB, in both programs"

for bad in 4B 4kB 4x 4kk 1.5M -1 +4 " 4" lots 16384P; do
    refuses "cache" "$SPARSEFS" --cache="$bad"
    refuses "readahead" "$SPARSEFS" -o readahead="$bad"
    refuses "sparse" "$SPARSECOPY" --sparse="$bad"
    refuses "request-size" "$SPARSECOPY" --request-size="$bad"
done
echo "ok: both refuse the same non-sizes, naming the option"
