#!/bin/bash
# Hostile images under resource limits: `imgdump info`, `map` and `raw` run
# under prlimit (1 GiB of address space, 30 s of CPU).  On each image a
# command must either succeed (what qemu reads, it reads too: the output is
# compared with qemu-img's) or fail with its own clear message, never be
# killed by a limit, and finish within LIMIT_SECONDS.
# All cases run; the test fails at the end if any failed.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/image-helpers.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires prlimit --version
requires zstd --version

LIMIT_SECONDS=10
KiB=1024
MiB=$((1024 * KiB))
TiB=$((1024 * 1024 * MiB))
PiB=$((1024 * TiB))

tmp=$(make_tmpdir)
# Raw views of petabytes need a file system that holds such sparse files.
big=$(mktemp -d /dev/shm/test-engine-limits.XXXXXX)
cleanup_fn rm -rf "$big"
check="python3 $top_srcdir/tests/sparse-check.py"
hostile="python3 $srcdir/make-hostile.py"
failed=()
cd "$tmp"

# OpenStack's limits for qemu-img on untrusted images.  A sanitizer build
# reserves terabytes of address space for its shadow memory and cannot
# start under an address-space limit: bound its resident memory instead.
if [ -n "${SANITIZER_CFLAGS:-}" ]; then
    limits=(prlimit --cpu=30 --)
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=1024"
else
    limits=(prlimit --as=1073741824 --cpu=30 --)
fi

# limited NAME COMMAND [ARGS...]: imgdump COMMAND under the limits; its
# output in NAME.COMMAND.out/.err, its exit status in $status.
limited ()
{
    local name=$1 command=$2 start end
    shift 2
    start=$(date +%s%N)
    status=0
    "${limits[@]}" timeout 60 "$IMGDUMP" "$command" "$@" \
        > "$name.$command.out" 2> "$name.$command.err" || status=$?
    end=$(date +%s%N)
    elapsed_ms=$(( (end - start) / 1000000 ))
}

# expect NAME COMMAND ok|refused [MESSAGE [FILE]]: run imgdump COMMAND on
# NAME (or NAME+FILE; raw into RAW_OUT) and judge it; $judged is yes when
# it behaved.
expect ()
{
    local name=$1 command=$2 want=$3 message=${4:-} args=("$1${5:-}")
    [ "$command" = raw ] && args+=("$RAW_OUT")
    limited "$name" "$command" "${args[@]}"
    local what="$name: imgdump $command"
    judged=no
    if [ "$status" -ge 124 ]; then
        bad "$what was killed or timed out (status $status, ${elapsed_ms} ms)"
    elif [ "$elapsed_ms" -gt $((LIMIT_SECONDS * 1000)) ]; then
        bad "$what took ${elapsed_ms} ms (at most ${LIMIT_SECONDS} s)"
    elif [ "$want" = ok ] && [ "$status" -ne 0 ]; then
        bad "$what failed: $(cat "$name.$command.err")"
    elif [ "$want" = refused ] && [ "$status" -ne 1 ]; then
        bad "$what: exit status $status, expected a refusal"
    elif [ "$want" = refused ] &&
         ! grep -q "^imgdump: .*$name.*: .*$message" "$name.$command.err"; then
        bad "$what: message \"$(cat "$name.$command.err")\" lacks the file or \"$message\""
    else
        echo "ok: $what ($want, ${elapsed_ms} ms)"
        judged=yes
    fi
}

bad ()
{
    echo "FAIL: $*" >&2
    failed+=("$*")
}

# same_as_qemu NAME: the raw view and the map of NAME agree with qemu-img
# (imgdump raw/map under the limits, qemu-img unlimited).
same_as_qemu ()
{
    local name=$1 size
    RAW_OUT=$big/$name.raw
    expect "$name" info ok
    [ $judged = yes ] || return 0
    grep -qx "virtual_size: $(qemu_virtual_size "$name")" "$name.info.out" ||
        bad "$name: imgdump info: virtual size differs from qemu-img info: $(cat "$name.info.out")"
    expect "$name" map ok
    expect "$name" raw ok
    [ $judged = yes ] || return 0
    qemu-img map --output=json "$name" > "$name.map.json"
    size=$(qemu_virtual_size "$name")
    $check tiles "$name.map.out" "$size" &&
    $check covered "$name.map.out" "$name.map.json" &&
    same_bytes_as_qemu "$name" ||
        bad "$name: imgdump differs from qemu-img (see above)"
    rm -f "$RAW_OUT"
}

# same_bytes_as_qemu NAME: imgdump's raw view (RAW_OUT) holds what qemu-img
# convert writes.  Petabytes take qemu a minute to convert: there, qemu-io
# reads back each pattern written (PATTERNS: "BYTE OFFSET LENGTH" lines)
# and the raw view must hold exactly those and zeros elsewhere.
same_bytes_as_qemu ()
{
    local name=$1
    if [ -z "${PATTERNS:-}" ]; then
        qemu-img convert -O raw "$name" "$big/$name.qemu.raw"
        $check cmp "$big/$name.qemu.raw" "$RAW_OUT" &&
        $check zeros "$big/$name.qemu.raw" "$name.map.out"
        local status=$?
        rm -f "$big/$name.qemu.raw"
        return $status
    fi
    local byte offset length
    while read -r byte offset length; do
        qemu-io -f qcow2 -c "read -P $byte $offset $length" "$name" |
            grep -q "^read $length/$length bytes" ||
            { echo "qemu-io does not read $byte at $offset" >&2; return 1; }
    done <<< "$PATTERNS"
    python3 - "$RAW_OUT" "$PATTERNS" <<'EOF2'
import os, sys
path, spec = sys.argv[1], sys.argv[2]
want = sorted((int(o), int(n), int(b, 0)) for b, o, n in
              (line.split() for line in spec.strip().splitlines()))
fd = os.open(path, os.O_RDONLY)
size, offset = os.fstat(fd).st_size, 0
while True:
    try:
        start = os.lseek(fd, offset, os.SEEK_DATA)
    except OSError:
        break
    end = os.lseek(fd, start, os.SEEK_HOLE)
    data = os.pread(fd, end - start, start)
    for i in range(0, len(data), 1 << 20):
        chunk = data[i:i + (1 << 20)]
        at = start + i
        expected = bytearray(len(chunk))
        for o, n, b in want:
            lo, hi = max(o, at), min(o + n, at + len(chunk))
            if lo < hi:
                expected[lo - at:hi - at] = bytes([b]) * (hi - lo)
        if chunk != expected:
            sys.exit(f"raw view differs from qemu-io's patterns near {at}")
    offset = end
EOF2
}

qemu_virtual_size ()
{
    qemu-img info --output=json "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])'
}

# refused_everywhere NAME MESSAGE [FILE]: info, map and raw all refuse
# NAME (or FILE, when NAME is only the start of the file names messages
# may name).
refused_everywhere ()
{
    RAW_OUT=$tmp/$1.raw
    expect "$1" info refused "$2" "${3:-}"
    expect "$1" map refused "$2" "${3:-}"
    expect "$1" raw refused "$2" "${3:-}"
}

# ---- a snapshot table claiming 2^31 entries -----------------------------------

qemu-img create -q -f qcow2 snapshots-2g.qcow2 $MiB
edit snapshots-2g.qcow2 'nb_snapshots=1<<31' 'snapshots_offset=cluster_size'
refused_everywhere snapshots-2g.qcow2 \
    "qcow2 header: nb_snapshots 2147483648 is too large (at most 65536)"

# ---- compressed clusters that inflate far past the cluster ----------------------

# compressed_image NAME TYPE PAYLOAD: a 2 MiB-cluster image whose first
# cluster is compressed with TYPE and holds PAYLOAD.
compressed_image ()
{
    qemu-img create -q -f qcow2 -o cluster_size=$((2 * MiB)),compression_type=$2 \
        "$1" $((4 * MiB))
    io "$1" "write -c -P 0x11 0 $((2 * MiB))"
    $hostile payload "$1" "$3"
}

# The first cluster is a pattern, then 510 MiB of zeros: qemu (and we) read
# the first 2 MiB and ignore the rest of the stream.
python3 - <<'EOF'
import zlib
c = zlib.compressobj(9, zlib.DEFLATED, -12)
out = [c.compress(bytes(range(256)) * 8192)]
zeros = bytes(1 << 20)
out += [c.compress(zeros) for _ in range(510)]
out.append(c.flush())
open("bomb.deflate", "wb").write(b"".join(out))
EOF
compressed_image zlib-bomb.qcow2 zlib bomb.deflate
same_as_qemu zlib-bomb.qcow2

# qemu refuses a zstd stream that goes on past the cluster ("uncompressed
# cluster greater than the cluster size"), unlike a deflate one.
{ python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 8192)'
  head -c $((510 * MiB)) /dev/zero; } | zstd -q -3 -c > bomb.zstd
compressed_image zstd-bomb.qcow2 zstd bomb.zstd

# Streams that never end and never produce a byte, as long as a descriptor
# allows (4 MiB): empty non-final stored deflate blocks; zstd skippable
# frames.
python3 - <<'EOF2'
limit = 4 << 20
block = bytes([0, 0, 0, 0xff, 0xff])
open("endless.deflate", "wb").write(block * (limit // len(block)))
frame = bytes.fromhex("502a4d18") + bytes(4)
open("endless.zstd", "wb").write(frame * (limit // len(frame)))
EOF2
compressed_image zlib-endless.qcow2 zlib endless.deflate
compressed_image zstd-endless.qcow2 zstd endless.zstd

# Only reading the cluster finds these out; qemu-img fails there too.
for name in zstd-bomb.qcow2 zlib-endless.qcow2 zstd-endless.qcow2; do
    RAW_OUT=$tmp/$name.raw
    expect $name info ok
    expect $name map ok
    expect $name raw refused "does not decompress to 2097152 bytes"
    ! qemu-img convert -O raw $name $tmp/$name.qemu.raw 2>/dev/null ||
        bad "$name: qemu-img reads it: the case is not what it claims"
    rm -f "$RAW_OUT" $tmp/$name.qemu.raw
done

# ---- a backing chain 1000 deep ---------------------------------------------------

mkdir chain
qemu-img create -q -f qcow2 chain/c0000.qcow2 $MiB
qemu-img create -q -f qcow2 -u -b c0000.qcow2 -F qcow2 chain-top.qcow2 $MiB
$hostile chain chain chain-top.qcow2 1000
# (The message may name the file that passes the limit: any of the chain.)
refused_everywhere chain/ "backing chain is deeper than 64 images" c1000.qcow2

# ---- huge virtual sizes, L1 tables of 4 Mi entries -----------------------------------

qemu-img create -q -f qcow2 -o cluster_size=65536 size-4t.qcow2 $((4 * TiB))
io size-4t.qcow2 "write -P 0x81 0 65536" "write -P 0x82 $((TiB - 512)) 1024" \
   "write -P 0x84 $((4 * TiB - 65536)) 65536"
$hostile big-l1 size-4t.qcow2 $((4 * MiB))
same_as_qemu size-4t.qcow2

qemu-img create -q -f qcow2 -o cluster_size=65536 size-2p.qcow2 $((2 * PiB))
io size-2p.qcow2 "write -P 0x91 4096 4096" "write -P 0x92 $((2 * PiB - 4096)) 4096"
[ "$(edit size-2p.qcow2 --get l1_size)" = $((4 * MiB)) ] ||
    fail "size-2p.qcow2: qemu-img did not make an L1 of 4 Mi entries"
PATTERNS="0x91 4096 4096
0x92 $((2 * PiB - 4096)) 4096" same_as_qemu size-2p.qcow2

# ---- an L2 table whose entries all point back at itself -----------------------------

qemu-img create -q -f qcow2 -o cluster_size=4096 l2-cycle.qcow2 $((64 * MiB))
io l2-cycle.qcow2 "write -P 0xa1 0 4096"
$hostile l2-cycle l2-cycle.qcow2
same_as_qemu l2-cycle.qcow2

# The same on 2 PiB: 4 Mi L1 entries, one L2 table, 2^35 data clusters that
# never merge (each points at the same host cluster), all from a 32 MiB
# file.  qemu-img map streams them for hours.  The engine must answer
# within the limit: the whole disk as one data run (qemu-img map's first
# entries agree), or a refusal that says why; never be killed.
name=l2-cycle-2p.qcow2
qemu-img create -q -f qcow2 -o cluster_size=65536 $name $((2 * PiB))
io $name "write -P 0xa2 0 4096"
$hostile l2-cycle $name
for command in info map; do
    limited $name $command $name
    out=$name.$command
    what="$name: imgdump $command"
    if [ "$status" -ge 124 ] ||
       [ "$elapsed_ms" -gt $((LIMIT_SECONDS * 1000)) ]; then
        bad "$what was killed or too slow ($status, ${elapsed_ms} ms)"
    elif [ "$status" -eq 0 ] && [ $command = map ] &&
         [ "$(cat $out.out)" != "0 $((2 * PiB)) data" ]; then
        bad "$what: $(head -3 $out.out)"
    elif [ "$status" -ne 0 ] && ! grep -q "^imgdump: .*$name: " $out.err; then
        bad "$what: status $status, $(cat $out.err)"
    else
        echo "ok: $what (status $status, ${elapsed_ms} ms)"
    fi
done
{ timeout 5 qemu-img map --output=json $name || true; } |
    head -1000 > $name.json
[ "$(grep -c '"data": true' $name.json)" -eq 1000 ] ||
    bad "$name: qemu-img map does not start with 1000 data entries"

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} checks failed"
