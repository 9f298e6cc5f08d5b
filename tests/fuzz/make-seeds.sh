#!/bin/bash
# make-seeds.sh OUTDIR: the fuzzer's seed corpus, one small input per image
# feature, made with qemu-img and qemu-io.
#
# An input is IMAGE [@@PART@@ BACKING [@@PART@@ DATA]] (see fuzz-engine.c):
# every image here is built as "i", its backing file as "b" and its data
# file as "d", the names the fuzz target writes them under.  Each part is
# written compact, its runs of zero sectors left out as holes (HEAD
# ["@@AT@@" OFFSET PIECE]...), and an input stays below the fuzzer's
# -max_len (128 KiB): small virtual sizes and clusters of 512 bytes to
# 32 KiB.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 1; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
. "$(dirname "$0")/../image-helpers.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

KiB=1024
MiB=$((1024 * KiB))
GiB=$((1024 * MiB))
MAX_LEN=131072

create ()
{
    qemu-img create -q -f qcow2 "$@"
}

# seed NAME: frame i, b and d (those that exist) into OUTDIR/NAME, then
# start afresh.
seed ()
{
    python3 - "$out/$1" "$MAX_LEN" <<'EOF'
import os, sys
out, max_len = sys.argv[1], int(sys.argv[2])
SECTOR = 512

def compact(data):
    """The part as HEAD ["@@AT@@" OFFSET PIECE]...: its sectors that are
    not all zeros, runs of them as one piece, the zeros between left out."""
    size = len(data)
    runs = []                   # [start, end) of sectors holding data
    for at in range(0, size, SECTOR):
        if data[at:at + SECTOR].rstrip(b"\0"):
            end = min(at + SECTOR, size)
            if runs and runs[-1][1] == at:
                runs[-1][1] = end
            else:
                runs.append([at, end])
    if not runs or runs[0][0] != 0:
        runs.insert(0, [0, 0])
    if runs[-1][1] != size:
        runs.append([size, size])
    out = data[runs[0][0]:runs[0][1]]
    for start, end in runs[1:]:
        out += b"@@AT@@%016x" % start + data[start:end]
    return out

parts = [compact(open(n, "rb").read()) if os.path.exists(n) else b""
         for n in "ibd"]
while len(parts) > 1 and not os.path.exists("ibd"[len(parts) - 1]):
    parts.pop()
data = b"@@PART@@".join(parts)
if len(data) > max_len:
    sys.exit(f"make-seeds.sh: {out} is {len(data)} bytes (at most {max_len})")
open(out, "wb").write(data)
EOF
    rm -f i b d
}

# ---- raw --------------------------------------------------------------------

stamp i $((64 * KiB)) 0:4096 $((20 * KiB)):100 $((60 * KiB)):4096:r
seed raw-sparse
printf 'QFI' > i
seed raw-almost-magic

# ---- qcow2 per cluster size, with data, zero and unallocated clusters -----

# mixed NAME CLUSTER OPTIONS: 16 clusters of stamps and random data, then
# writes, zeroes (kept and dropped), a discard and a partial write.
mixed ()
{
    local name=$1 c=$2
    stamp i.src $((16 * c)) 0:$((6 * c)) $((6 * c)):$((2 * c)):r
    qemu-img convert -f raw -O qcow2 -o "cluster_size=$c,$3" i.src i
    rm -f i.src
    io i "write -P 0xa1 $((c + 100)) $c" \
         "write -z $((3 * c)) $c" \
         "write -z -u $((4 * c)) $c" \
         "discard $((5 * c)) $c" \
         "write -z $((7 * c + 512)) 512" \
         "write -P 0xb2 $((15 * c)) $((c / 2))"
    seed "$name"
}

mixed v2-c512 512 compat=0.10
mixed v3-c512 512 compat=1.1
mixed v3-c1k $KiB compat=1.1,refcount_bits=1
mixed v3-c2k $((2 * KiB)) compat=1.1,refcount_bits=64
mixed v3-c4k $((4 * KiB)) compat=1.1
mixed v2-c8k $((8 * KiB)) compat=0.10
mixed v3-c8k $((8 * KiB)) compat=1.1,lazy_refcounts=on

# ---- compressed ---------------------------------------------------------------

compressed ()
{
    local name=$1 c=$2 type=$3
    stamp i.src $((8 * c)) 0:$((3 * c)) $((3 * c)):$c:r $((5 * c)):$((2 * c))
    qemu-img convert -c -f raw -O qcow2 \
             -o "cluster_size=$c,compression_type=$type" i.src i
    rm -f i.src
    io i "write -P 0xd4 $((c / 4)) $((c / 2))" "write -z $((4 * c)) $c"
    seed "$name"
}

compressed zlib-c512 512 zlib
compressed zlib-c4k $((4 * KiB)) zlib
compressed zstd-c512 512 zstd
compressed zstd-c4k $((4 * KiB)) zstd

# One compressed cluster whose last sector runs past the end of the file.
stamp i.pat 1000 0:1000
create -o cluster_size=4096 i $((64 * KiB))
io i "write -c -s i.pat 4096 4096"
rm -f i.pat
seed tiny-compressed

# ---- backing files ----------------------------------------------------------

stamp b.src $((64 * KiB)) 0:$((32 * KiB)) $((48 * KiB)):4096:r
qemu-img convert -f raw -O qcow2 -o cluster_size=4096 b.src b
rm -f b.src
create -o cluster_size=2048,backing_file=b,backing_fmt=qcow2 i $((96 * KiB))
io i "write -P 0xe6 $((8 * KiB)) 4096" "write -z $((16 * KiB)) 8192" \
     "write -z -u $((40 * KiB)) 4096" "write -P 0xe7 $((80 * KiB)) 100"
seed backing-qcow2

stamp b $((20 * KiB + 1536)) 0:$((20 * KiB + 1536))
create -o cluster_size=4096,backing_file=b,backing_fmt=raw i $((32 * KiB))
io i "write -P 0xa7 4096 4096" "write -z 8192 4096"
seed backing-raw

# No backing format extension: the engine probes the backing file.
stamp b $((8 * KiB)) 0:$((8 * KiB))
create -o cluster_size=512,backing_file=b,backing_fmt=raw i $((16 * KiB))
io i "write -P 0xa8 512 512"
python3 - <<'EOF2'
# Turn the backing format extension into an unknown one (skipped).
with open("i", "r+b") as f:
    head = f.read(512)
    at = head.index(bytes.fromhex("e2792aca"), 72)
    f.seek(at)
    f.write(bytes.fromhex("0badf00d"))
EOF2
seed backing-probed

# A chain of three: i -> b -> d (the third part is a qcow2 image here).
stamp d.src $((32 * KiB)) 0:$((32 * KiB))
qemu-img convert -f raw -O qcow2 -o cluster_size=1024 d.src d
rm -f d.src
create -o cluster_size=1024,backing_file=d,backing_fmt=qcow2 b $((32 * KiB))
io b "write -P 0xc1 2048 2048" "write -z 8192 2048"
create -o cluster_size=512,backing_file=b,backing_fmt=qcow2 i $((32 * KiB))
io i "write -P 0xc2 3000 1000"
seed backing-chain3

# A loop: i -> b -> i.
create -o cluster_size=512 i $((8 * KiB))
create -u -o cluster_size=512,backing_file=i,backing_fmt=qcow2 b $((8 * KiB))
qemu-img rebase -u -b b -F qcow2 i
seed backing-loop

# ---- extended L2 --------------------------------------------------------------

stamp b.src $((128 * KiB)) 0:$((64 * KiB))
qemu-img convert -f raw -O qcow2 -o cluster_size=4096 b.src b
rm -f b.src
create -o extended_l2=on,cluster_size=16384,backing_file=b,backing_fmt=qcow2 \
       i $((128 * KiB))
io i "write -P 0x31 512 512" "write -z 2048 1536" "write -z -u 16896 512" \
     "write -P 0x32 50000 3000" "discard 66560 2048" "write -c -P 0x34 98304 16384"
seed extended-l2

# ---- external data files -------------------------------------------------------

for raw in off on; do
    create -o cluster_size=4096,data_file=d,data_file_raw=$raw i $((64 * KiB))
    io i "write -P 0x41 0 8192" "write -P 0x42 20000 5000" \
         "write -z 32768 8192" "write -z -u 8192 4096"
    : > b                       # an empty backing part keeps d third
    seed data-file-raw-$raw
done

# ---- header features ------------------------------------------------------------

stamp i.src $((32 * KiB)) 0:$((16 * KiB))
qemu-img convert -f raw -O qcow2 -o cluster_size=2048 i.src i
rm -f i.src
qemu-img snapshot -c first i
io i "write -P 0x51 4096 4096"
qemu-img snapshot -c second i
io i "write -z 8192 4096"
seed snapshots

create -o cluster_size=4096 i $((64 * KiB))
qemu-img bitmap --add i bitmap0
io i "write -P 0x61 4096 8192"
seed bitmap

create -o cluster_size=2048,lazy_refcounts=on i $((32 * KiB))
io i "write -P 0x72 2048 4096"
python3 - <<'EOF'
# Set the dirty bit, as a crash with lazy refcounts leaves it.
with open("i", "r+b") as f:
    f.seek(79)
    f.write(bytes([f.read(1)[0] | 1]))
    f.seek(79)
EOF
seed dirty

create -o cluster_size=512 i $((16 * KiB))
io i "write -P 0x73 $((12 * KiB)) 4096"
python3 - <<'EOF'
# A virtual size that is not a multiple of 512 (qemu rounds it down).
import struct
with open("i", "r+b") as f:
    f.seek(24)
    size = struct.unpack(">Q", f.read(8))[0]
    f.seek(24)
    f.write(struct.pack(">Q", size + 300))
EOF
seed odd-size

create -o cluster_size=4096,preallocation=metadata i $((64 * KiB))
io i "write -P 0xe1 4103 7000" "write -z 32768 8192"
seed prealloc-metadata

# ---- large virtual sizes ----------------------------------------------------------

# 64 GiB on 16 KiB clusters: one L1 cluster; data at both ends.
create -o cluster_size=16384 i $((64 * GiB))
io i "write -P 0x81 0 4096" "write -P 0x84 $((64 * GiB - 4096)) 4096"
seed sparse-64g

# 512 GiB on 32 KiB clusters, written only near the end.
create -o cluster_size=32768 i $((512 * GiB))
io i "write -P 0x82 $((512 * GiB - 512)) 512"
seed sparse-512g

# 4 TiB on 64 KiB clusters: the header cluster only (the tables are cut off).
create -o cluster_size=65536 i $((4 * 1024 * GiB))
truncate -s $((64 * KiB)) i
seed header-only-4t

# ---- VDI and VHD --------------------------------------------------------------------
# Whole images with a block written, and images cut after their tables
# (pointing at blocks that the fuzzer may bring back).

qemu-img create -q -f vdi i $((64 * MiB))
seed vdi-empty
qemu-img create -q -f vdi -o static=on i $((64 * KiB))
truncate -s 4096 i
seed vdi-static-cut
qemu-img create -q -f vdi i $((4 * MiB))
io_as vdi i "write -P 0x91 $((MiB + 512)) 4096"
truncate -s 4096 i
seed vdi-block-cut
qemu-img create -q -f vpc i $((64 * MiB))
seed vhd-dynamic-empty
qemu-img create -q -f vpc -o subformat=fixed i $((64 * KiB))
io_as vpc i "write -P 0x92 4096 4096"
seed vhd-fixed-small
qemu-img create -q -f vpc -o force_size=on i $((8 * MiB))
io_as vpc i "write -P 0x93 0 4096"
truncate -s 8192 i
seed vhd-qem2-block-cut
qemu-img create -q -f vdi i $((4 * MiB))
io_as vdi i "write -P 0x96 $((2 * MiB - 512)) 4096"
seed vdi-dynamic
qemu-img create -q -f vpc i $((8 * MiB))
io_as vpc i "write -P 0x97 $((2 * MiB - 512)) 4096"
seed vhd-dynamic
qemu-img create -q -f vpc b $((8 * MiB))
io_as vpc b "write -P 0x98 0 8192"
qemu-img create -q -f vpc i $((8 * MiB))
io_as vpc i "write -P 0x99 4096 4096"
python3 - <<'PY'
# Make i a differencing VHD of b: its disk type, and a parent locator
# (relative, UTF-16LE "b") after its block table.
import struct
with open("i", "r+b") as f:
    data = bytearray(f.read())
    footer = data[:512]
    dyn_at = struct.unpack_from(">Q", footer, 16)[0]
    struct.pack_into(">I", footer, 60, 4)
    struct.pack_into(">I", footer, 64, 0)
    struct.pack_into(">I", footer, 64, ~sum(footer) & 0xffffffff)
    data[:512] = footer
    data[-512:] = footer
    dyn = data[dyn_at:dyn_at + 1024]
    locator_at = len(data) - 512
    name = "b".encode("utf-16-le")
    dyn[64:64 + len(name)] = name                   # parent unicode name
    struct.pack_into(">4sIIIQ", dyn, 576, b"W2ru", 512, len(name), 0,
                     locator_at)
    struct.pack_into(">I", dyn, 36, 0)
    struct.pack_into(">I", dyn, 36, ~sum(dyn) & 0xffffffff)
    data[dyn_at:dyn_at + 1024] = dyn
    data[locator_at:locator_at] = name + bytes(512 - len(name))
    f.seek(0)
    f.write(data)
PY
seed vhd-differencing

# ---- VHDX ---------------------------------------------------------------------------
# Whole images, and images cut after their region table: vhdx_compact moves
# the BAT and metadata (past the first MiB) into the header section's unused
# space (the metadata table at 0x11000 with its items inside it, at most
# 60 KiB of BAT at 0x21000), then cuts the file after its region table
# (256 KiB): headers, region table, metadata and BAT stay in range, the
# blocks lie past the end, where the fuzzer may bring them back.
vhdx_compact ()
{
    python3 - "$1" <<'PY'
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
rt = 0x30000
count = struct.unpack_from("<I", data, rt + 8)[0]
META_GUID = bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e")
BAT_GUID = bytes.fromhex("6677c22d23f600429d64115e9bfd4a08")
new_meta, new_bat = 0x11000, 0x21000
for i in range(count):
    e = rt + 16 + 32 * i
    offset, length = struct.unpack_from("<QI", data, e + 16)
    if data[e:e + 16] == META_GUID:
        table = bytearray(data[offset:offset + 0x10000])
        n = struct.unpack_from("<H", table, 10)[0]
        at = 0x100 + 32 * n
        for j in range(n):
            me = 32 + 32 * j
            io, il = struct.unpack_from("<II", table, me + 16)
            table[at:at + il] = data[offset + io:offset + io + il]
            struct.pack_into("<I", table, me + 16, at)
            at += il
        # Its last 4 KiB are header 2's: the table's unused tail.
        data[new_meta:new_meta + 0xf000] = table[:0xf000]
        struct.pack_into("<QI", data, e + 16, new_meta, 0x10000)
    elif data[e:e + 16] == BAT_GUID:
        n = min(length, 0xf000)
        data[new_bat:new_bat + n] = data[offset:offset + n]
        struct.pack_into("<QI", data, e + 16, new_bat, n)
del data[0x40000:]
open(path, "wb").write(bytes(data))
PY
    # Rewriting a region table field makes its checksum hold again.
    python3 "$_image_helpers_dir/vhdx-edit.py" "$1" 'rt_count=rt_count'
}

qemu-img create -q -f vhdx -o block_size=1M i $((4 * MiB))
io_as vhdx i "write -P 0x94 $((MiB + 512)) 4096" "write -z $((2 * MiB)) $MiB"
vhdx_compact i
seed vhdx-dynamic-cut
qemu-img create -q -f vhdx -o subformat=fixed,block_size=1M i $((3 * MiB))
vhdx_compact i
seed vhdx-fixed-cut
qemu-img create -q -f vhdx -o block_size=1M i $((4 * MiB))
io_as vhdx i "write -P 0x9a $((MiB - 512)) 4096" "write -z $((2 * MiB)) $MiB"
seed vhdx-dynamic
qemu-img create -q -f vhdx -o block_size=1M i $((5 * GiB))
io_as vhdx i "write -P 0x95 $((4 * GiB)) 4096"
vhdx_compact i
seed vhdx-bitmap-entry-cut

# ---- VMDK ---------------------------------------------------------------------------
# Grains of 64 KiB: a few written.  Descriptors name their extent files "b"
# or "d", and a child its parent "b", so that they reach the fuzzer's bytes.

qemu-img create -q -f vmdk -o zeroed_grain=on i $((MiB))
io_as vmdk i "write -P 0xa1 4096 4096" "write -z $((128 * KiB)) $((64 * KiB))"
seed vmdk-sparse
stamp i.src $((MiB)) 0:$((100 * KiB)) $((512 * KiB)):4096:r
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized i.src i
rm -f i.src
seed vmdk-stream
qemu-img create -q -f vmdk -o subformat=monolithicFlat i $((64 * KiB))
io_as vmdk i "write -P 0xa2 512 4096"
mv i-flat* d
sed -i 's/"i-flat[^"]*"/"d"/' i
seed vmdk-flat
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat i $((64 * KiB))
io_as vmdk i "write -P 0xa6 512 4096"
mv i-f001 d
sed -i 's/"i-f001"/"d"/' i
seed vmdk-2g-flat
stamp d $((64 * KiB)) 0:$((64 * KiB))
printf '%s\n' '# Disk DescriptorFile' version=1 CID=fffffffe parentCID=ffffffff \
    'createType="vmfs"' 'RW 128 VMFS "d"' > i
seed vmdk-vmfs
stamp b.src $((128 * KiB)) 0:4096
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized b.src b
rm -f b.src
qemu-img create -q -f vmdk -o zeroed_grain=on -b b -F vmdk i $((128 * KiB))
io_as vmdk i "write -z 0 $((64 * KiB))"
seed vmdk-child
qemu-img create -q -f vmdk b $((128 * KiB))
io_as vmdk b "write -P 0xa5 $((64 * KiB)) 4096"
printf '%s\n' '# Disk DescriptorFile' version=1 CID=fffffffe parentCID=ffffffff \
    'createType="twoGbMaxExtentSparse"' 'RW 256 SPARSE "b"' \
    'RW 128 FLAT "d" 0' 'RW 64 ZERO' > i
stamp d $((64 * KiB)) 0:$((64 * KiB))
seed vmdk-extents

# ---- ova --------------------------------------------------------------------

# An OVF and a streamOptimized disk in a ustar archive, read in place.
stamp i.src $((128 * KiB)) 0:4096 $((64 * KiB)):4096:r
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized i.src disk.vmdk
rm -f i.src
echo '<Envelope><References><File href="disk.vmdk"/></References></Envelope>' > vm.ovf
tar -c --format=ustar -f i vm.ovf disk.vmdk
rm -f vm.ovf disk.vmdk
seed ova-stream

# A qcow2 disk: the stream of the archive reads it as its own format, so
# the target compares its bytes with the disk read in place.
create -o cluster_size=4096 disk.qcow2 $((128 * KiB))
io disk.qcow2 "write -P 0x6a 4096 8192" "write -z 65536 4096"
echo '<Envelope><References><File href="disk.qcow2"/></References></Envelope>' > vm.ovf
tar -c --format=ustar -f i vm.ovf disk.qcow2
rm -f vm.ovf disk.qcow2
seed ova-qcow2
