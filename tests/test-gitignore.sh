#!/bin/bash
# After a build and during make check, git status shows no build output:
# no untracked program, library, corpus or scratch file is left unignored,
# and no program is committed.  (New source files a developer has not
# added yet are not flagged.)
. "$srcdir/functions.sh"
requires git -C "$top_srcdir" rev-parse --git-dir

# is_build_output FILE (relative to the top of the tree)
is_build_output ()
{
    case "$1" in
        tests/corpus/* | tests/tmp/* | tests/fuzz/tmp/* | *.lock) return 0 ;;
    esac
    [ "$(head -c 4 "$top_srcdir/$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

[ -e "$top_srcdir/src/sparsefs/sparsefs" ] || fail "run after make: no src/sparsefs/sparsefs"
shown=()
while IFS= read -r -d '' file; do
    if is_build_output "$file"; then shown+=("$file"); fi
done < <(git -C "$top_srcdir" ls-files -z --others --exclude-standard --directory)
if [ ${#shown[@]} -gt 0 ]; then
    printf '  %s\n' "${shown[@]}" >&2
    fail "git status shows ${#shown[@]} build outputs: extend .gitignore"
fi
committed=()
while IFS= read -r -d '' file; do
    [ -f "$top_srcdir/$file" ] || continue
    if is_build_output "$file"; then committed+=("$file"); fi
done < <(git -C "$top_srcdir" ls-files -z --cached)
if [ ${#committed[@]} -gt 0 ]; then
    printf '  %s\n' "${committed[@]}" >&2
    fail "${#committed[@]} build outputs are committed: git rm --cached them"
fi
git -C "$top_srcdir" check-ignore -q tests/tmp/x || fail "tests/tmp is not ignored"
echo "ok: no build output shows in git status"
