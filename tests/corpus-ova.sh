# OVA archives for the oracle corpus (sourced by make-corpus.sh, in images/).
#
# qemu cannot read inside a tar, so the OVAs live apart, in OUTDIR/ova/
# (images/ shows only what qemu reads itself):
#   ova/NAME.ova                  tar archives: an .ovf and its disks
#   ova/MANIFEST                  "NAME.ova INDEX DISK" a line, every disk
#   ova/expected/NAME.ova.INDEX.raw       `qemu-img convert -O raw` of the
#                                         disk file before it went in
#   ova/expected/NAME.ova.INDEX.map.json  `qemu-img map --output=json` of it
# Small disks: a streamOptimized VMDK (the usual OVA disk), a sparse
# VMDK, an odd-size raw disk, a qcow2 whose archive has host holes, and
# archives in ustar, GNU (a long name) and pax formats.

# ovf FILE DISK...: an OVF descriptor listing the DISKs in <References>.
ovf ()
{
    local file=$1 disk i=0
    shift
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<!-- made by the sparsefs corpus: <References> is what it reads -->'
        echo '<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"'
        echo '    xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">'
        echo '  <References>'
        for disk in "$@"; do
            echo "    <File ovf:href=\"$disk\" ovf:id=\"file$i\"/>"
            i=$((i + 1))
        done
        echo '  </References>'
        echo '  <DiskSection><Info>Virtual disks</Info></DiskSection>'
        echo '</Envelope>'
    } > "$file"
}

# ova NAME TAR-FORMAT DISK...: archive NAME (an OVF first, then the DISK
# files, as the OVF standard orders them) and its oracle entries; the
# disk files are removed.
ova ()
{
    local name=$1 format=$2 disk i=0
    shift 2
    ovf "${name%.ova}.ovf" "$@"
    tar -c --format="$format" -f "$name" "${name%.ova}.ovf" "$@"
    for disk in "$@"; do
        qemu-img convert -O raw "$disk" "expected/$name.$i.raw"
        qemu-img map --output=json "$disk" > "expected/$name.$i.map.json"
        echo "$name $i $disk" >> MANIFEST
        i=$((i + 1))
    done
    rm -f "${name%.ova}.ovf" "$@"
}

(
    mkdir -p ../ova/expected
    cd ../ova
    : > MANIFEST

    stamp stream.src $((3 * MiB + 5120)) 0:$((200 * KiB)) \
          $((MiB + 4096)):$((64 * KiB)):r $((2 * MiB + 100)):$((100 * KiB))
    qemu-img convert -f raw -O vmdk -o subformat=streamOptimized stream.src \
             disk1.vmdk
    ova ova-stream.ova ustar disk1.vmdk

    qemu-img convert -f raw -O vmdk -o subformat=streamOptimized stream.src \
             system.vmdk
    qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse stream.src \
             data.vmdk
    io_as vmdk data.vmdk "write -P 0xd1 $((512 * KiB - 700)) 1400"
    # A raw disk of an odd size, without holes: tar stores a file's holes
    # as zeros, which qemu's map of the file itself would call holes.
    stamp scratch.img $((MiB + 100)) 4096:$((8 * KiB)) $((MiB - 300)):400
    cp --sparse=never scratch.img scratch.full
    mv scratch.full scratch.img
    ova ova-three.ova ustar system.vmdk data.vmdk scratch.img

    # A qcow2 disk, and holes dug into the archive where its clusters
    # hold zeros: the engine must find them inside the member.
    qemu-img convert -f raw -O qcow2 stream.src disk.qcow2
    io disk.qcow2 "write -P 0 $((64 * KiB)) $((64 * KiB))"
    ova ova-qcow2.ova ustar disk.qcow2
    fallocate --dig-holes ova-qcow2.ova

    long=disk-with-a-name-longer-than-the-hundred-bytes-a-ustar-header-holds-$(printf 'x%.0s' {1..60}).vmdk
    qemu-img convert -f raw -O vmdk -o subformat=streamOptimized stream.src \
             "$long"
    ova ova-gnu.ova gnu "$long"

    # pax: a path= record holds the long name.
    qemu-img convert -f raw -O vmdk -o subformat=streamOptimized stream.src \
             "$long"
    ova ova-pax.ova pax "$long"

    rm -f stream.src
)
