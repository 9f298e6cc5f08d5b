#!/bin/bash
# imgdump's command line: help, usage errors (exact message, exit 1),
# --format against qemu-img -f, --cache budgets down to the minimum on
# the corpus images that need the cache most, repeated --allow-dir, the
# empty image and output errors.
. "$srcdir/functions.sh"
requires qemu-img --version
requires python3 --version

corpus=$(corpus)
tmp=$(make_tmpdir)
check="python3 $srcdir/sparse-check.py"
sample=$srcdir/data/sample.qcow2

# fails MESSAGE IMGDUMP-ARG...: imgdump prints exactly "imgdump: MESSAGE"
# and nothing on stdout, and exits 1.
fails ()
{
    local message=$1 status
    shift
    timeout 10 "$IMGDUMP" "$@" > "$tmp/stdout" 2> "$tmp/stderr" && status=0 || status=$?
    [ $status -eq 1 ] || fail "imgdump $*: exit status $status, expected 1"
    [ "$(cat "$tmp/stderr")" = "imgdump: $message" ] ||
        fail "imgdump $*: printed '$(cat "$tmp/stderr")', expected 'imgdump: $message'"
    [ ! -s "$tmp/stdout" ] || fail "imgdump $*: wrote to stdout: $(cat "$tmp/stdout")"
}

# ---- help and usage ----------------------------------------------------------
$IMGDUMP --help > "$tmp/help"
grep -q '^Usage: imgdump \[OPTION\]\.\.\. info IMAGE$' "$tmp/help" || fail "--help: no usage"
for word in --allow-dir --format --cache info map raw; do
    grep -q -- "$word" "$tmp/help" || fail "--help does not mention $word"
done

fails "missing command (info, map, raw or disks; see --help)"
fails "unknown command 'frob' (info, map, raw or disks; see --help)" frob "$sample"
fails "info takes 1 operand(s) (see --help)" info
fails "map takes 1 operand(s) (see --help)" map "$sample" extra
fails "raw takes 2 operand(s) (see --help)" raw "$sample"
fails "unknown or incomplete option '--bogus' (see --help)" --bogus info "$sample"
fails "unknown or incomplete option '--format' (see --help)" --format
fails "--format: unknown format 'qed' (auto, raw, qcow2, vdi, vpc, vhdx or vmdk)" --format qed info "$sample"
fails "--cache: invalid size '0'" --cache 0 info "$sample"
fails "--cache: invalid size '12Q'" --cache 12Q info "$sample"
fails "--cache: invalid size '-1'" --cache -1 info "$sample"
fails "$tmp/missing.qcow2: open: No such file or directory" info "$tmp/missing.qcow2"
fails "$tmp/no/such/dir/out.raw: open: No such file or directory" \
      raw "$sample" "$tmp/no/such/dir/out.raw"

# ---- --format -------------------------------------------------------------------
# Forced raw: the qcow2 file's own bytes, as qemu-img -f raw reads them.
qemu-img convert -f raw -O raw "$sample" "$tmp/expected.raw"
$IMGDUMP --format raw raw "$sample" "$tmp/out.raw"
$check cmp "$tmp/expected.raw" "$tmp/out.raw"
$IMGDUMP --format qcow2 raw "$sample" "$tmp/out.raw"
qemu-img convert -f qcow2 -O raw "$sample" "$tmp/expected.raw"
$check cmp "$tmp/expected.raw" "$tmp/out.raw"

# Forced qcow2 on something else: qemu-img refuses ("not in qcow2 format").
truncate -s 65536 "$tmp/zeros.img"
! qemu-img convert -f qcow2 -O raw "$tmp/zeros.img" "$tmp/q.raw" 2>/dev/null ||
    fail "qemu-img reads zeros as qcow2"
fails "$tmp/zeros.img: not a qcow2 image (magic 0x00000000)" \
      --format qcow2 info "$tmp/zeros.img"

# ---- --cache ----------------------------------------------------------------------
# The smallest budget, and one a little over a 2 MiB cluster, on the
# images with the largest clusters, compression and the deepest chain.
for cache in 1 3M 1G; do
    for name in zlib-c2m.qcow2 zstd-c2m.qcow2 v3-c2m.qcow2 el2-c2m.qcow2 \
                chain-top.qcow2 zlib-c512.qcow2; do
        $IMGDUMP --cache $cache raw "$corpus/images/$name" "$tmp/out.raw" ||
            fail "--cache $cache: $name refused"
        $check cmp "$corpus/expected/$name.raw" "$tmp/out.raw"
    done
done

# ---- repeated --allow-dir ------------------------------------------------------------
# top (in work/) -> ../a/mid.qcow2 -> ../b/base.qcow2: each folder must be
# allowed; the opened image's own folder always is (and is the one the
# messages name, whichever layer names the file).
mkdir -p "$tmp/work" "$tmp/a" "$tmp/b"
cp "$sample" "$tmp/b/base.qcow2"
(cd "$tmp/a" && qemu-img create -q -f qcow2 -b ../b/base.qcow2 -F qcow2 mid.qcow2 2M)
(cd "$tmp/work" && qemu-img create -q -f qcow2 -b ../a/mid.qcow2 -F qcow2 top.qcow2 2M)
qemu-io -f qcow2 -c 'write -P 0x5a 4096 4096' "$tmp/work/top.qcow2" >/dev/null
qemu-img convert -O raw "$tmp/work/top.qcow2" "$tmp/expected.raw"
a=$(cd "$tmp/a" && pwd -P)
b=$(cd "$tmp/b" && pwd -P)
work=$(cd "$tmp/work" && pwd -P)
fails "$tmp/work/top.qcow2: backing file \"../a/mid.qcow2\" is refused: it resolves to $a/mid.qcow2, outside the image's folder $work (allow its folder explicitly with --allow-dir)" \
      raw "$tmp/work/top.qcow2" "$tmp/out.raw"
fails "$a/mid.qcow2: backing file \"../b/base.qcow2\" is refused: it resolves to $b/base.qcow2, outside the image's folder $work (allow its folder explicitly with --allow-dir)" \
      --allow-dir "$tmp/a" raw "$tmp/work/top.qcow2" "$tmp/out.raw"
$IMGDUMP --allow-dir "$tmp/a" --allow-dir "$tmp/b" raw "$tmp/work/top.qcow2" "$tmp/out.raw"
$check cmp "$tmp/expected.raw" "$tmp/out.raw"

# ---- the empty image ------------------------------------------------------------------
qemu-img create -q -f qcow2 "$tmp/empty.qcow2" 0
qemu-img convert -O raw "$tmp/empty.qcow2" "$tmp/expected.raw"
[ -z "$($IMGDUMP map "$tmp/empty.qcow2")" ] || fail "empty image: map is not empty"
echo garbage > "$tmp/out.raw"
$IMGDUMP raw "$tmp/empty.qcow2" "$tmp/out.raw"
cmp "$tmp/expected.raw" "$tmp/out.raw"
