#!/bin/bash
# make-corpus.sh OUTDIR: build the oracle corpus with qemu-img and qemu-io.
#
#   OUTDIR/images/            the images; MANIFEST lists the entry points (one
#                             name a line), backing and data files sit beside;
#                             QEMU-FORMATS names the format of each image that
#                             qemu does not probe ("NAME FORMAT" lines)
#   OUTDIR/expected/NAME.raw  `qemu-img convert -O raw` of images/NAME (sparse)
#   OUTDIR/expected/NAME.map.json   `qemu-img map --output=json` of images/NAME
#
# Every command runs inside images/: backing names are written relative to
# the image's folder, and qemu resolves data_file names against its working
# directory, so the two agree only there.
#
# Data comes from `stamp` (image-helpers.sh: offset stamps, or random runs
# that qemu then stores uncompressed in compressed images); qemu-io
# patterns mark each later write.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/image-helpers.sh"
mkdir -p "$1/images" "$1/expected"
out=$(cd "$1" && pwd)
cd "$out/images"
: > MANIFEST
: > QEMU-FORMATS

KiB=1024
MiB=$((1024 * KiB))
GiB=$((1024 * MiB))
TiB=$((1024 * GiB))

# ---- helpers --------------------------------------------------------------

# qcow2 NAME SIZE [OPTIONS]: a new empty qcow2 image.
qcow2 ()
{
    qemu-img create -q -f qcow2 ${3:+-o "$3"} "$1" "$2"
}

# from_raw NAME RAWFILE OPTIONS [CONVERT-FLAGS]: qcow2 image holding RAWFILE
# (its holes stay unallocated), then RAWFILE is removed.
from_raw ()
{
    qemu-img convert -f raw -O qcow2 -o "$3" ${4:+"$4"} "$2" "$1"
    rm -f "$2"
}

entry ()
{
    echo "$1" >> MANIFEST
}


# ---- raw images -----------------------------------------------------------

stamp raw-sparse.img $((4 * MiB)) 0:$((64 * KiB)) $((MiB + 512)):3000 \
      $((3 * MiB)):$MiB:r
entry raw-sparse.img
# qemu rounds a raw file's size up to 512 and reads the tail as zeros.
stamp raw-odd-size.img 5000 0:5000:r
entry raw-odd-size.img

# ---- mixed data / zero / unallocated, per cluster size --------------------

# mixed NAME CLUSTER OPTIONS: 32 clusters: stamps in 0-11, random in 12-13,
# then partial, zero (preallocated and plain), discarded and tail writes.
mixed ()
{
    local name=$1 c=$2 opts=$3
    stamp "$name.src" $((32 * c)) 0:$((12 * c)) $((12 * c)):$((2 * c)):r
    from_raw "$name" "$name.src" "cluster_size=$c,$opts"
    io "$name" \
       "write -P 0xa1 $((3 * c + 100)) $c" \
       "write -z $((5 * c)) $((2 * c))" \
       "write -z -u $((8 * c)) $c" \
       "discard $((10 * c)) $((2 * c))" \
       "write -z $((13 * c + 512)) 512" \
       "write -z -u $((20 * c)) $((2 * c))" \
       "write -P 0xb2 $((31 * c)) $c"
    entry "$name"
}

mixed v3-c512.qcow2 512 compat=1.1
mixed v3-c4k.qcow2 $((4 * KiB)) compat=1.1
mixed v3-c16k-refcount1.qcow2 $((16 * KiB)) compat=1.1,refcount_bits=1
mixed v3-c64k.qcow2 $((64 * KiB)) compat=1.1
mixed v3-c256k-refcount64.qcow2 $((256 * KiB)) compat=1.1,refcount_bits=64
mixed v3-c2m.qcow2 $((2 * MiB)) compat=1.1
mixed v2-c4k.qcow2 $((4 * KiB)) compat=0.10
mixed v2-c64k.qcow2 $((64 * KiB)) compat=0.10

# Many L2 tables: runs and writes crossing their boundaries (an L2 table
# maps 32 KiB of 512-byte clusters, 2 MiB of 4 KiB ones).
stamp multi-l2-c512.src $((MiB)) 0:$((100 * KiB)) $((500 * KiB)):$((64 * KiB)):r
from_raw multi-l2-c512.qcow2 multi-l2-c512.src cluster_size=512
io multi-l2-c512.qcow2 "write -P 0x91 $((32 * KiB - 700)) 1400" \
   "write -z $((64 * KiB - 512)) 1024" "write -P 0x92 $((MiB - 33 * KiB)) $((33 * KiB))"
entry multi-l2-c512.qcow2
stamp multi-l2-c4k.src $((10 * MiB)) 0:$((3 * MiB)) $((6 * MiB - 8 * KiB)):$((16 * KiB)):r
from_raw multi-l2-c4k.qcow2 multi-l2-c4k.src cluster_size=4096
io multi-l2-c4k.qcow2 "write -z -u $((2 * MiB - 4096)) 8192" \
   "write -P 0x93 $((8 * MiB - 100)) 200"
entry multi-l2-c4k.qcow2

# ---- zero clusters --------------------------------------------------------

# Preallocated zero (write -z keeps the host cluster), plain zero (-u drops
# it), zero on unallocated clusters, and data written back into part of a
# preallocated zero cluster.
c=$((64 * KiB))
stamp zero-clusters.src $((2 * MiB)) 0:$MiB
from_raw zero-clusters.qcow2 zero-clusters.src cluster_size=$c
io zero-clusters.qcow2 \
   "write -z $((2 * c)) $((2 * c))" \
   "write -z -u $((5 * c)) $((2 * c))" \
   "write -z $MiB $((2 * c))" \
   "write -z $((8 * c + 512)) 1000" \
   "write -P 0xc3 $((3 * c + 4096)) 4096"
entry zero-clusters.qcow2

# ---- compressed clusters --------------------------------------------------

# compressed NAME CLUSTER TYPE [COMPAT]: 24 clusters converted with -c, then
# part of a compressed cluster overwritten, one zeroed, one discarded and a
# new compressed cluster appended (its sectors end past EOF).
compressed ()
{
    local name=$1 c=$2 type=$3 compat=${4:-1.1}
    stamp "$name.src" $((24 * c)) 0:$((8 * c)) $((8 * c)):$c:r \
          $((9 * c + 100)):$((2 * c))
    from_raw "$name" "$name.src" \
             "cluster_size=$c,compat=$compat${type:+,compression_type=$type}" -c
    stamp "$name.pat" $c 0:$c
    io "$name" \
       "write -P 0xd4 $((2 * c + c / 4)) $((c / 2))" \
       "write -z $((4 * c)) $c" \
       "discard $((5 * c)) $c" \
       "write -c -s $name.pat $((23 * c)) $c"
    rm -f "$name.pat"
    entry "$name"
}

compressed zlib-c512.qcow2 512 zlib
compressed zlib-c4k.qcow2 $((4 * KiB)) zlib
compressed zlib-c64k.qcow2 $((64 * KiB)) zlib
compressed zlib-c2m.qcow2 $((2 * MiB)) zlib
compressed zlib-v2-c64k.qcow2 $((64 * KiB)) "" 0.10
compressed zstd-c4k.qcow2 $((4 * KiB)) zstd
compressed zstd-c64k.qcow2 $((64 * KiB)) zstd
compressed zstd-c2m.qcow2 $((2 * MiB)) zstd

# The smallest compressed image: one cluster whose last sector runs past the
# end of the file (test-oracle.sh checks that it does).
stamp tiny-compressed.pat 1000 0:1000
qcow2 tiny-compressed.qcow2 $((64 * KiB)) cluster_size=4096
io tiny-compressed.qcow2 "write -c -s tiny-compressed.pat 4096 4096"
rm -f tiny-compressed.pat
entry tiny-compressed.qcow2

# Compressed clusters packed across the span of an L2 table (2 MiB with 4 KiB
# clusters): qemu allocates the next table in the middle of its packing, so
# the first clusters the new table names lie before it in the file, sharing
# a sector with clusters the previous table names.  The 8 clusters around
# the boundary hold one byte value each and compress to a few bytes:
# several share one sector.
across_l2 ()
{
    local name=$1 type=$2 i letters=abcdefgh
    stamp "$name.src" $((4 * MiB)) $((3 * MiB / 2)):$MiB
    for i in 0 1 2 3 4 5 6 7; do
        head -c 4096 /dev/zero | tr '\0' "${letters:i:1}" |
            dd of="$name.src" bs=4096 seek=$((2 * MiB / 4096 - 4 + i)) \
               conv=notrunc status=none
    done
    from_raw "$name" "$name.src" "cluster_size=4096,compression_type=$type" -c
    entry "$name"
}
across_l2 zlib-c4k-across-l2.qcow2 zlib
across_l2 zstd-c4k-across-l2.qcow2 zstd

# ---- preallocation ---------------------------------------------------------

for mode in metadata falloc full; do
    qcow2 prealloc-$mode.qcow2 $((4 * MiB)) preallocation=$mode
    io prealloc-$mode.qcow2 "write -P 0xe1 $((64 * KiB + 7)) 70000" \
       "write -z $((MiB)) $((128 * KiB))"
    entry prealloc-$mode.qcow2
done

# ---- backing chains --------------------------------------------------------

# base (v3, 64K) <- mid (v3, 4K) <- top (v2, 16K): zero clusters in mid
# mask data in base, top writes over both.
stamp chain-base.src $((4 * MiB)) 0:$((2 * MiB)) $((3 * MiB)):$((64 * KiB)):r
from_raw chain-base.qcow2 chain-base.src cluster_size=65536
qcow2 chain-mid.qcow2 $((4 * MiB)) \
      cluster_size=4096,backing_file=chain-base.qcow2,backing_fmt=qcow2
io chain-mid.qcow2 \
   "write -z $((256 * KiB)) $((128 * KiB))" \
   "write -z -u $((600 * KiB)) 8192" \
   "discard $((700 * KiB)) 8192" \
   "write -P 0xd5 $((MiB)) $((64 * KiB))" \
   "write -z $((3 * MiB + 4096)) 4096"
qcow2 chain-top.qcow2 $((4 * MiB)) \
      compat=0.10,cluster_size=16384,backing_file=chain-mid.qcow2,backing_fmt=qcow2
io chain-top.qcow2 \
   "write -P 0xe6 $((300 * KiB)) 8192" \
   "write -z $((1536 * KiB)) $((64 * KiB))" \
   "write -P 0xe7 $((3 * MiB - 100)) 200"
entry chain-mid.qcow2
entry chain-top.qcow2

# A raw base, its size not a multiple of the overlay's cluster.
stamp rawbase.raw $((MiB + 1536)) 0:$((MiB + 1536))
qcow2 over-rawbase.qcow2 $((2 * MiB)) backing_file=rawbase.raw,backing_fmt=raw
io over-rawbase.qcow2 \
   "write -P 0xa7 $((128 * KiB)) 4096" \
   "write -z $((256 * KiB)) $((64 * KiB))" \
   "discard $((512 * KiB)) $((64 * KiB))" \
   "write -P 0xa8 $((MiB + 1024)) 4096"
entry over-rawbase.qcow2

# A backing file shorter than its overlay: past its end reads as zeros.
stamp short-base.src $((MiB)) 0:$((MiB))
from_raw short-base.qcow2 short-base.src cluster_size=65536
qcow2 short-top.qcow2 $((4 * MiB)) backing_file=short-base.qcow2,backing_fmt=qcow2
io short-top.qcow2 "write -P 0xb8 $((2 * MiB)) 4096" \
   "write -P 0xb9 $((MiB - 512)) 1024"
entry short-top.qcow2

# A compressed (zstd) base under a 4 KiB-cluster overlay written in
# pieces: unwritten parts of each overlay cluster come from compressed data.
stamp comp-base.src $((2 * MiB)) 0:$((2 * MiB))
from_raw comp-base.qcow2 comp-base.src cluster_size=65536,compression_type=zstd -c
qcow2 over-compressed.qcow2 $((2 * MiB)) \
      cluster_size=4096,backing_file=comp-base.qcow2,backing_fmt=qcow2
io over-compressed.qcow2 "write -P 0x94 $((64 * KiB + 100)) 300" \
   "write -z $((200 * KiB)) $((8 * KiB))" "discard $((300 * KiB)) $((64 * KiB))"
entry over-compressed.qcow2

# An overlay shorter than its backing file: the view stops at its size.
qcow2 over-longer-base.qcow2 $((MiB + 512)) \
      backing_file=chain-base.qcow2,backing_fmt=qcow2
io over-longer-base.qcow2 "write -P 0x95 $((MiB - 100)) 612"
entry over-longer-base.qcow2

# ---- extended L2 ------------------------------------------------------------

# el2 NAME CLUSTER SIZE: an extended-L2 overlay on a stamped base, written
# and zeroed at subcluster granularity (subcluster = CLUSTER / 32).
el2 ()
{
    local name=$1 c=$2 size=$3 s=$(($2 / 32)) base=${1%.qcow2}-base.qcow2
    stamp "$base.src" "$size" 0:$((size / 2))
    from_raw "$base" "$base.src" cluster_size=65536
    qcow2 "$name" "$size" \
          "extended_l2=on,cluster_size=$c,backing_file=$base,backing_fmt=qcow2"
    io "$name" \
       "write -P 0x31 $s $s" \
       "write -z $((4 * s)) $((3 * s))" \
       "write -z -u $((c + 2 * s)) $s" \
       "write -P 0x32 $((3 * c + 1000)) $((2 * s + 5000))" \
       "discard $((4 * c + 8 * s)) $((4 * s))" \
       "write -P 0x33 $((size - c / 2)) $((c / 2))" \
       "write -c -P 0x34 $((6 * c)) $c"
    entry "$name"
}

el2 el2-c64k.qcow2 $((64 * KiB)) $((2 * MiB))
el2 el2-c2m.qcow2 $((2 * MiB)) $((16 * MiB))

qcow2 el2-prealloc.qcow2 $((MiB)) extended_l2=on,cluster_size=65536,preallocation=metadata
io el2-prealloc.qcow2 "write -P 0x35 4096 2048" "write -z 65536 65536"
entry el2-prealloc.qcow2

# ---- external data files -----------------------------------------------------

for raw in off on; do
    qcow2 datafile-$raw.qcow2 $((2 * MiB)) data_file=datafile-$raw.data,data_file_raw=$raw
    io datafile-$raw.qcow2 \
       "write -P 0x41 0 $((64 * KiB))" \
       "write -P 0x42 $((200 * KiB)) 5000" \
       "write -z $((MiB)) $((128 * KiB))" \
       "write -z -u $((64 * KiB)) $((64 * KiB))"
    entry datafile-$raw.qcow2
done

# A raw data file under a virtual size that is not a multiple of the
# cluster (qemu still makes the data file whole clusters long); the last
# cluster is allocated, never written.
qcow2 datafile-odd-size.qcow2 $((MiB + 4 * KiB)) \
      data_file=datafile-odd-size.data,data_file_raw=on
io datafile-odd-size.qcow2 "write -P 0x43 0 $((4 * KiB))" \
   "write -P 0x44 $((MiB - 4096)) 1024"
entry datafile-odd-size.qcow2

# ---- header features -----------------------------------------------------------

# Internal snapshots: the active L1 shares clusters with two snapshots.
stamp snapshots.src $((2 * MiB)) 0:$((MiB))
from_raw snapshots.qcow2 snapshots.src cluster_size=65536
qemu-img snapshot -c first snapshots.qcow2
io snapshots.qcow2 "write -P 0x51 $((128 * KiB)) $((128 * KiB))"
qemu-img snapshot -c second snapshots.qcow2
io snapshots.qcow2 "write -z $((512 * KiB)) $((64 * KiB))" \
   "write -P 0x52 $((1536 * KiB)) 4096"
entry snapshots.qcow2

# A persistent dirty bitmap (autoclear bit and header extension).
qcow2 bitmap.qcow2 $((MiB))
qemu-img bitmap --add bitmap.qcow2 bitmap0
io bitmap.qcow2 "write -P 0x61 4096 8192"
entry bitmap.qcow2

qcow2 lazy-refcounts.qcow2 $((MiB)) lazy_refcounts=on
io lazy-refcounts.qcow2 "write -P 0x71 0 $((100 * KiB))"
entry lazy-refcounts.qcow2

# The dirty bit (as a crash with lazy refcounts leaves it): still readable.
qcow2 dirty.qcow2 $((MiB)) lazy_refcounts=on
io dirty.qcow2 "write -P 0x72 $((64 * KiB)) $((64 * KiB))"
edit dirty.qcow2 'incompatible_features=incompatible_features|1'
entry dirty.qcow2

# Bits and extensions a reader must ignore: the corrupt bit (read-only use
# is allowed), unknown compatible and autoclear bits, and an unknown header
# extension (the feature name table with its magic changed).
qcow2 ignored-bits.qcow2 $((MiB))
io ignored-bits.qcow2 "write -P 0x74 $((64 * KiB)) 4096"
edit ignored-bits.qcow2 'incompatible_features=incompatible_features | 2' \
     'compatible_features=compatible_features | 1 << 40' \
     'autoclear_features=autoclear_features | 1 << 40'
[ "$(edit ignored-bits.qcow2 --get 'hex(u32[header_length])')" = 0x6803f857 ]
edit ignored-bits.qcow2 'u32[header_length]=0x12345678'
entry ignored-bits.qcow2

# A virtual size that is not a multiple of 512: qemu rounds it down.
qcow2 odd-size.qcow2 $((MiB))
io odd-size.qcow2 "write -P 0x73 $((MiB - 4096)) 4096"
edit odd-size.qcow2 'size=size+700'
entry odd-size.qcow2

# ---- large and sparse ------------------------------------------------------------

qcow2 sparse-4t.qcow2 $((4 * TiB))
io sparse-4t.qcow2 \
   "write -P 0x81 0 $((64 * KiB))" \
   "write -P 0x82 $((TiB - 512)) 1024" \
   "write -P 0x83 $((3 * TiB)) 4096" \
   "write -P 0x84 $((4 * TiB - 64 * KiB)) $((64 * KiB))"
entry sparse-4t.qcow2

# ---- VDI ---------------------------------------------------------------------------

# vdi NAME OPTIONS: 6 MiB (six 1 MiB blocks) from stamps and random runs,
# then writes into a mapped block, across a block edge, into the middle of
# a never-written block (the rest of it reads zeros), and zeros written
# (VDI has no zero blocks: qemu writes them as data).
vdi ()
{
    stamp "$1.src" $((6 * MiB)) 0:$((300 * KiB)) $((2 * MiB + 4096)):$((64 * KiB)):r
    qemu-img convert -f raw -O vdi -o "$2" "$1.src" "$1"
    rm -f "$1.src"
    io_as vdi "$1" \
       "write -P 0xa1 $((100 * KiB)) 5000" \
       "write -P 0xa2 $((3 * MiB - 700)) 1400" \
       "write -P 0xa3 $((4 * MiB + 300 * KiB)) 4096" \
       "write -z $((2 * MiB + 8192)) 4096"
    entry "$1"
}
vdi vdi-dynamic.vdi static=off
vdi vdi-static.vdi static=on

# A size that is not a multiple of the block (nor of 512: qemu rounds up),
# and a large sparse disk whose block map spans many chunks (4 KiB each).
qemu-img create -q -f vdi vdi-odd-size.vdi $((3 * MiB + 5000))
io_as vdi vdi-odd-size.vdi "write -P 0xa4 $((3 * MiB - 512)) 4096"
entry vdi-odd-size.vdi
qemu-img create -q -f vdi vdi-sparse-64g.vdi $((64 * GiB))
io_as vdi vdi-sparse-64g.vdi "write -P 0xa5 0 4096" \
   "write -P 0xa6 $((GiB - 512)) 1024" "write -P 0xa7 $((64 * GiB - 4096)) 4096"
entry vdi-sparse-64g.vdi

# ---- VHD (qemu's vpc) ----------------------------------------------------------------

# vhd NAME SUBFORMAT: about 10 MiB (sized by CHS geometry, as qemu
# creates it) from stamps and random runs, then writes into a mapped block,
# across a block edge (2 MiB), into the middle of a never-written block,
# and zeros written.
vhd ()
{
    stamp "$1.src" $((10 * MiB)) 0:$((300 * KiB)) $((4 * MiB + 4096)):$((64 * KiB)):r
    qemu-img convert -f raw -O vpc -o "subformat=$2" "$1.src" "$1"
    rm -f "$1.src"
    io_as vpc "$1" \
       "write -P 0xb1 $((100 * KiB)) 5000" \
       "write -P 0xb2 $((2 * MiB - 700)) 1400" \
       "write -P 0xb3 $((8 * MiB + 300 * KiB)) 4096" \
       "write -z $((4 * MiB + 8192)) 4096"
    entry "$1"
}
vhd vhd-dynamic.vhd dynamic
vhd vhd-fixed.vhd fixed
# qemu does not probe a fixed disk (only a footer at the end): it needs -f.
echo "vhd-fixed.vhd vpc" >> QEMU-FORMATS

# Sized by current_size: force_size makes qemu write creator "qem2"; a
# Hyper-V creator ("win ") with a current_size smaller than the geometry.
qemu-img create -q -f vpc -o force_size=on vhd-force-size.vhd $((5 * MiB + 512))
io_as vpc vhd-force-size.vhd "write -P 0xb4 $((5 * MiB - 512)) 1024"
entry vhd-force-size.vhd
qemu-img create -q -f vpc vhd-hyperv.vhd $((10 * MiB))
io_as vpc vhd-hyperv.vhd "write -P 0xb5 $((4 * MiB)) 4096" "write -P 0xb6 $((9 * MiB)) 4096"
vhd_footer vhd-hyperv.vhd "win " $((9 * MiB + 2048))
entry vhd-hyperv.vhd

# A large sparse dynamic disk: its BAT spans many chunks.
qemu-img create -q -f vpc vhd-sparse-100g.vhd $((100 * GiB))
io_as vpc vhd-sparse-100g.vhd "write -P 0xb7 0 4096" \
   "write -P 0xb8 $((2 * GiB - 512)) 1024" "write -P 0xb9 $((99 * GiB)) 4096"
entry vhd-sparse-100g.vhd

# ---- qcow2 over VDI and VHD ------------------------------------------------------------

qcow2 over-vdi.qcow2 $((6 * MiB)) backing_file=vdi-dynamic.vdi,backing_fmt=vdi
io over-vdi.qcow2 "write -P 0xc1 $((MiB - 100)) 200" "write -z $((2 * MiB)) $((64 * KiB))"
entry over-vdi.qcow2
qcow2 over-vhd.qcow2 $((11 * MiB)) backing_file=vhd-dynamic.vhd,backing_fmt=vpc
io over-vhd.qcow2 "write -P 0xc2 $((2 * MiB - 100)) 200" "discard $((4 * MiB)) $((64 * KiB))"
entry over-vhd.qcow2

# ---- more formats, one file each (corpus-FORMAT.sh) -------------------------------
# Each is sourced here, in name order, with the helpers above; it adds its
# images with `entry` and names qemu's format in QEMU-FORMATS where needed.
for part in "$here"/corpus-*.sh; do
    [ -e "$part" ] || continue
    . "$part"
done

# ---- no unwritten extents ----------------------------------------------------------
# qemu grows image files with fallocate, which leaves unwritten extents.  Whether
# SEEK_DATA calls those data or hole depends on what the page cache holds at
# that moment, so two maps of one image could differ by a few pages.  Copying
# each such file turns its unwritten extents into holes: every later map agrees.
for name in *; do
    if filefrag -v "$name" 2>/dev/null | grep -q unwritten; then
        cp --sparse=always "$name" "$name.settled"
        mv "$name.settled" "$name"
    fi
done

# ---- what qemu reads ---------------------------------------------------------------

while read -r name; do
    format=$(qemu_format "$out" "$name")
    qemu-img convert ${format:+-f "$format"} -O raw "$name" "../expected/$name.raw"
    qemu-img map ${format:+-f "$format"} --output=json "$name" > "../expected/$name.map.json"
done < MANIFEST
