#!/bin/bash
# Randomly damaged metadata (qcow2-mutate.py: header, extensions, L1, first
# L2 table of corpus images; a fixed seed, so failures reproduce).  For
# each mutant imgdump must, within 10 s:
#  - exit 0, or exit 1 with exactly one line "imgdump: ..." on stderr;
#    never die of a signal or hang (run it from an --enable-sanitizers
#    build to catch out-of-bounds accesses as well);
#  - when qemu-img also reads the mutant, write the same raw view.
# Mutants we read but qemu refuses are listed for review, not failed:
# qemu checks things a reader does not need (refcounts, snapshot tables).
#
# FUZZ_SEED and FUZZ_COUNT override the seed (1) and the count (300).
. "$srcdir/functions.sh"
requires qemu-img --version
requires python3 --version

corpus=$(corpus)
tmp=$(make_tmpdir)
mutants=$tmp/mutants
mkdir "$mutants"
seed=${FUZZ_SEED:-1}
count=${FUZZ_COUNT:-300}

images="v3-c512.qcow2 v3-c4k.qcow2 v2-c64k.qcow2 zero-clusters.qcow2
        zlib-c4k.qcow2 zstd-c64k.qcow2 el2-c64k.qcow2 chain-top.qcow2
        snapshots.qcow2 datafile-off.qcow2 bitmap.qcow2 tiny-compressed.qcow2"
# The backing and data files the mutants name, beside them as links into
# the corpus (so --allow-dir the corpus).
for f in "$corpus"/images/*; do
    ln -s "$f" "$mutants/$(basename "$f")"
done
(cd "$corpus/images" && python3 "$srcdir/qcow2-mutate.py" "$mutants" "$seed" "$count" $images) \
    > "$tmp/list"

# same_raw EXPECTED ACTUAL: cmp for small views (most), hole-aware for the
# large virtual sizes a mutated header may give.
same_raw ()
{
    if [ "$(stat -c %s "$1")" -le $((256 * 1024 * 1024)) ]; then
        cmp "$1" "$2"
    else
        python3 "$srcdir/sparse-check.py" cmp "$1" "$2"
    fi
}

failed=() qemu_only_refuses=() both_read=0 we_refuse=0
while read -r name changes; do
    what="$name ($changes)"
    (cd "$mutants" &&
     timeout 10 "$IMGDUMP" --allow-dir "$corpus/images" raw "$name" "$tmp/ours.raw") \
        2> "$tmp/stderr" && status=0 || status=$?
    case $status in
        0)
            if (cd "$mutants" && timeout 10 qemu-img convert -O raw "$name" "$tmp/qemu.raw") \
                   >/dev/null 2>&1; then
                if same_raw "$tmp/qemu.raw" "$tmp/ours.raw"; then
                    both_read=$((both_read + 1))
                else
                    failed+=("$what: reads unlike qemu")
                fi
            else
                qemu_only_refuses+=("$what")
            fi ;;
        1)
            if [ "$(wc -l < "$tmp/stderr")" -eq 1 ] && grep -q '^imgdump: ' "$tmp/stderr"; then
                we_refuse=$((we_refuse + 1))
            else
                failed+=("$what: stderr is not one 'imgdump: ' line: $(head -c 2000 "$tmp/stderr")")
            fi ;;
        124) failed+=("$what: hung (killed after 10 s)") ;;
        *) failed+=("$what: exit status $status: $(head -c 2000 "$tmp/stderr")") ;;
    esac
    rm -f "$tmp/ours.raw" "$tmp/qemu.raw"
done < "$tmp/list"

echo "seed $seed: $count mutants: $both_read read as qemu does, $we_refuse refused," \
     "${#qemu_only_refuses[@]} read by us only, ${#failed[@]} failed"
for m in "${qemu_only_refuses[@]}"; do echo "read by us, refused by qemu: $m"; done
for m in "${failed[@]}"; do echo "FAIL: $m" >&2; done
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} mutant(s) mishandled"
