# qcow2 images with internal snapshots, each made with `qemu-img snapshot
# -c` between qemu-io writes, discards and zero writes, so that each
# snapshot reads differently from the others and from the active layer.
# Sourced by make-corpus.sh (in images/, with its helpers).  SNAPSHOTS
# lists "IMAGE ID" for every snapshot; test-snapshots.sh reads each one as
# qemu-img convert -l does.

: > SNAPSHOTS

# snap IMAGE NAME: take a snapshot named NAME, and list it.
snap ()
{
    qemu-img snapshot -c "$2" "$1"
    qemu-img snapshot -l "$1" | awk 'NR > 2 { id = $1 } END { print id }' |
        sed "s/^/$1 /" >> SNAPSHOTS
}

# snapshots_image NAME CLUSTER OPTIONS: 16 clusters of stamps, then three
# snapshots with writes, zero writes (plain and preallocated) and discards
# between them.
snapshots_image ()
{
    local name=$1 c=$2
    stamp "$name.src" $((16 * c)) 0:$((6 * c)) $((6 * c)):$((2 * c)):r
    from_raw "$name" "$name.src" "cluster_size=$c,$3"
    snap "$name" first
    io "$name" "write -P 0xe1 $((c / 2)) $c" "write -z $((3 * c)) $c" \
       "discard $((6 * c)) $c" "write -P 0xe2 $((12 * c)) $((2 * c))"
    snap "$name" "second one"
    io "$name" "write -z -u $((4 * c)) $c" "write -P 0xe3 $((13 * c + 100)) 300" \
       "discard $((12 * c)) $c"
    snap "$name" 'odd/name@%'
    io "$name" "write -P 0xe4 0 $((16 * c))"
    entry "$name"
}

snapshots_image snap-v3.qcow2 $((64 * KiB)) compat=1.1
snapshots_image snap-v2.qcow2 $((4 * KiB)) compat=0.10
snapshots_image snap-el2.qcow2 $((64 * KiB)) compat=1.1,extended_l2=on
snapshots_image snap-zstd.qcow2 $((4 * KiB)) compat=1.1,compression_type=zstd

# Compressed clusters kept by a snapshot, then overwritten.
stamp snap-compressed.src $((MiB)) 0:$((MiB))
from_raw snap-compressed.qcow2 snap-compressed.src cluster_size=4096 -c
snap snap-compressed.qcow2 packed
io snap-compressed.qcow2 "write -P 0xe5 $((100 * KiB)) $((200 * KiB))" \
   "write -z $((500 * KiB)) $((64 * KiB))"
snap snap-compressed.qcow2 later
entry snap-compressed.qcow2

# Names qemu takes as they come: a name that is another snapshot's ID,
# the same name twice (qemu reads the first), an empty name.
qcow2 snap-names.qcow2 $((MiB)) cluster_size=4096
io snap-names.qcow2 "write -P 0xe6 0 4096"
snap snap-names.qcow2 2
io snap-names.qcow2 "write -P 0xe7 4096 4096"
snap snap-names.qcow2 twice
io snap-names.qcow2 "write -P 0xe8 8192 4096"
snap snap-names.qcow2 twice
io snap-names.qcow2 "write -P 0xe9 12288 4096"
snap snap-names.qcow2 ""
io snap-names.qcow2 "write -P 0xea 0 16384"
entry snap-names.qcow2

# Grown after its first snapshot, whose L1 table (one entry: 2 MiB of 4 KiB
# clusters) is then shorter than the disk, over a backing file: past the
# snapshot's L1 table qemu reads the backing file.
stamp snap-base.src $((8 * MiB)) 0:$((8 * MiB))
from_raw snap-base.qcow2 snap-base.src cluster_size=65536
qcow2 snap-grown.qcow2 $((2 * MiB)) \
      cluster_size=4096,backing_file=snap-base.qcow2,backing_fmt=qcow2
io snap-grown.qcow2 "write -P 0xeb $((MiB)) 4096" "write -z $((MiB + 8192)) 4096"
snap snap-grown.qcow2 small
qemu-img resize -q snap-grown.qcow2 $((8 * MiB))
io snap-grown.qcow2 "write -P 0xec $((5 * MiB)) 4096"
snap snap-grown.qcow2 grown
entry snap-grown.qcow2
