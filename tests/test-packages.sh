#!/bin/bash
# Every tool the tests, the benchmarks and the demo run comes from a
# package in contrib/debian12-packages.txt, from a package those depend on
# directly, or from a package of priority required (in every Debian).  So
# that the README's set-up on a fresh Debian 12 installs all the suite needs:
# a missing tool there makes a test skip or fail.
. "$srcdir/functions.sh"
requires dpkg-query --version

list=$top_srcdir/contrib/debian12-packages.txt
scripts=("$srcdir"/*.sh "$srcdir"/fuzz/*.sh "$srcdir"/data/*.sh "$top_srcdir"/contrib/*.sh)

# Packages the list installs, and what they depend on directly.
listed=$(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
[ -n "$listed" ] || fail "$list lists no package"
# shellcheck disable=SC2086
accepted=$( { echo "$listed"
              dpkg-query -W -f '${Pre-Depends},${Depends}\n' $listed 2>/dev/null |
                  tr ',|' '\n\n' | sed 's/^ *//; s/[ :].*//' ; } | sed '/^$/d' | sort -u)

# Names the scripts define (functions) or the shell has: not tools.
defined=$( { compgen -b; compgen -k
             grep -ho '^[A-Za-z_][A-Za-z0-9_]* *()' "${scripts[@]}" | tr -d ' ()'; } | sort -u)

# Tools a requires line names must be installed (a test would skip
# without them); other words in command position count when they are
# installed (the scanner also yields English words in odd places).
required_tools=$(sed -n 's/^[[:space:]]*requires  *\([A-Za-z0-9_./+-][^ ]*\).*/\1/p' "${scripts[@]}" |
                     grep -vxF -f <(echo "$defined") | sort -u)
words=$(python3 "$srcdir/command-words.py" "${scripts[@]}" |
            grep -E '^[A-Za-z0-9_.+-]+$|^\[$|^/[A-Za-z0-9_./+-]+$' |
            grep -vxF -f <(echo "$defined") || true)
[ -n "$words" ] || fail "command-words.py found no command in the scripts"
for tool in $required_tools; do
    grep -qxF -- "$tool" <<< "$words" || fail "command-words.py misses '$tool' of a requires line"
done

# package_of TOOL: the package that installed TOOL (found in PATH or in
# the usual folders: PATH may hold shims, like pyenv's, dpkg does not know).
package_of ()
{
    local path candidates=() p
    path=$(type -P -- "$1") && candidates+=("$path" "$(realpath "$path")")
    for p in /usr/bin /usr/sbin /bin /sbin; do
        [ -x "$p/$1" ] && candidates+=("$p/$1" "$(realpath "$p/$1")")
    done
    for p in "${candidates[@]}"; do
        # usrmerge: a file may be known as /bin/x while found as /usr/bin/x
        dpkg-query -S "$p" "${p#/usr}" 2>/dev/null |
            sed -n 's/^\([^ :,]*\)[:,].*/\1/p' | head -n 1 | grep . && return 0
    done
    return 1
}

checked=0
problems=()
for tool in $words; do
    if ! type -P -- "$tool" > /dev/null; then
        if grep -qxF -- "$tool" <<< "$required_tools"; then
            problems+=("$tool: a test requires it, but it is not installed")
        fi
        continue
    fi
    if ! package=$(package_of "$tool"); then
        problems+=("$tool ($(type -P -- "$tool")): no Debian package holds it")
        continue
    fi
    checked=$((checked + 1))
    grep -qxF -- "$package" <<< "$accepted" && continue
    [ "$(dpkg-query -W -f '${Priority}' "$package")" = required ] && continue
    problems+=("$tool: package $package is not in $list")
done
echo "checked $checked tools"
[ "$checked" -ge 20 ] || fail "only $checked tools checked: the scanner lost track"
if [ ${#problems[@]} -gt 0 ]; then
    printf '%s\n' "${problems[@]}" >&2
    fail "${#problems[@]} tools are not installed by $list"
fi
