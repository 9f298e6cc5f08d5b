#!/bin/bash
# Replay every input the fuzzer ever crashed on (regressions/) and the seed
# corpus through fuzz-replay, the fuzz target built with AddressSanitizer
# and UBSan: each input is opened as a file and decoded as a stream.  The
# engine may refuse any of them; what fails the test is a signal, a
# sanitizer report, a broken contract (the target aborts: see
# fuzz-engine.c), a leak or an input that takes more than 60 seconds.
# All inputs run; the test fails at the end if any failed.
. "$top_srcdir/tests/functions.sh"
requires qemu-img --version
requires python3 --version

# The seeds are made once per build tree (make-seeds.sh needs qemu-img),
# and again when the scripts that make them changed since.
seeds=$builddir/seeds
(
    flock 9
    # shellcheck disable=SC2046 # the script paths have no blanks
    if ! is_fresh "$seeds/.complete" "$srcdir/make-seeds.sh" $(input_scripts); then
        rm -rf "$seeds"
        bash "$srcdir/make-seeds.sh" "$seeds" >&2
        touch "$seeds/.complete"
    fi
) 9>"$builddir/seeds.lock"

# The target's scratch files, left behind by a crash, go with the test's;
# on tmpfs, where some regressions put a part's tail past 2^56.
huge_file_dir
tmp=$huge
export FUZZ_TMPDIR=$tmp
inputs=("$srcdir"/regressions/* "$seeds"/*)
[ "${#inputs[@]}" -ge 30 ] || fail "only ${#inputs[@]} inputs: seeds missing?"
failed=()

for input in "${inputs[@]}"; do
    # A regression a one-format campaign found, named FORMAT--WHAT, replays
    # in that campaign's mode (FUZZ_FORMAT: see fuzz-engine.c).
    mode=
    case ${input##*/} in *--*) mode=${input##*/}; mode=${mode%%--*} ;; esac
    status=0
    FUZZ_FORMAT=$mode timeout 60 "$FUZZ_REPLAY" "$input" > "$tmp/out" 2>&1 ||
        status=$?
    if [ "$status" -eq 0 ] &&
       ! grep -Eq 'Sanitizer|runtime error|contract broken' "$tmp/out"; then
        echo "ok: ${input#"$srcdir"/}"
        continue
    fi
    echo "FAIL: $input (exit status $status)" >&2
    grep -E -A14 'ERROR: |runtime error|contract broken' "$tmp/out" >&2 ||
        tail -20 "$tmp/out" >&2
    failed+=("$(basename "$input")")
done

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} inputs crashed the engine: ${failed[*]}"
