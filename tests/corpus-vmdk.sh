# VMDK images for the oracle corpus (sourced by make-corpus.sh, in images/).
#
# Every subformat qemu-img writes, with unallocated grains, zeroed grains
# (zeroed_grain=on and write -z), grains written in part, extents split at
# 2 GiB, a parent chain, and a qcow2 over a VMDK.  qemu refuses a VMDK
# child of a qcow2 ("backing_file must be a vmdk image"): no such case.

# vmdk_from_stamps NAME SIZE OPTIONS: a VMDK of SIZE holding stamps and
# random runs, made by qemu-img convert with OPTIONS.
vmdk_from_stamps ()
{
    stamp "$1.src" "$2" 0:$((300 * KiB)) $((MiB + 4096)):$((64 * KiB)):r \
          $((2 * MiB + 100)):$((200 * KiB))
    qemu-img convert -f raw -O vmdk -o "$3" "$1.src" "$1"
    rm -f "$1.src"
}

# vmdk_writes NAME: a write inside an allocated grain, one across a grain
# edge into an unallocated grain, zeros over allocated and unallocated
# grains (zeroed grains where the image allows them), and a lone write in
# the middle of an unallocated grain.
vmdk_writes ()
{
    io_as vmdk "$1" \
       "write -P 0xc1 $((100 * KiB)) 5000" \
       "write -P 0xc2 $((512 * KiB - 700)) 1400" \
       "write -z $((64 * KiB)) $((128 * KiB))" \
       "write -z $((3 * MiB)) $((128 * KiB))" \
       "write -P 0xc3 $((3 * MiB + 300 * KiB)) 4096"
}

vmdk_from_stamps vmdk-sparse.vmdk $((4 * MiB)) subformat=monolithicSparse,zeroed_grain=on
vmdk_writes vmdk-sparse.vmdk
entry vmdk-sparse.vmdk

# Without zeroed grains qemu writes zeros as data.
vmdk_from_stamps vmdk-sparse-nozg.vmdk $((4 * MiB)) subformat=monolithicSparse
vmdk_writes vmdk-sparse-nozg.vmdk
entry vmdk-sparse-nozg.vmdk

vmdk_from_stamps vmdk-flat.vmdk $((4 * MiB)) subformat=monolithicFlat
vmdk_writes vmdk-flat.vmdk
entry vmdk-flat.vmdk

# The last grain of a streamOptimized disk is cut by its size: qemu
# deflates only what the disk holds.
vmdk_from_stamps vmdk-stream.vmdk $((4 * MiB + 5120)) subformat=streamOptimized
entry vmdk-stream.vmdk

# streamOptimized over three grain tables' spans (32 MiB each), with holes
# and a run of zeros between data: as qemu-img writes it (the tables
# before the grains), and as VMware does (vmdk-footer-layout.py: each
# table after its grains, behind markers, the directory and the footer at
# the end).  Both stream, in file order.
stamp vmdk-stream-spans.src $((80 * MiB)) 0:$((300 * KiB)) \
      $((33 * MiB + 4096)):$((256 * KiB)):r $((70 * MiB)):$((64 * KiB)) \
      $((80 * MiB - 4096)):4096
dd if=/dev/zero of=vmdk-stream-spans.src bs=64K seek=2 count=2 conv=notrunc status=none
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized \
         vmdk-stream-spans.src vmdk-stream-spans.vmdk
rm -f vmdk-stream-spans.src
entry vmdk-stream-spans.vmdk
python3 "$here/vmdk-footer-layout.py" vmdk-stream-spans.vmdk vmdk-stream-footer.vmdk
entry vmdk-stream-footer.vmdk

# 5 GiB in 2 GiB extents (three files each), written across the edges.
# (qemu refuses zeroed grains in flat extents.)
for kind in Sparse Flat; do
    name=vmdk-2g-$kind.vmdk
    zg=; [ $kind = Flat ] || zg=,zeroed_grain=on
    qemu-img create -q -f vmdk -o subformat=twoGbMaxExtent$kind$zg "$name" $((5 * GiB))
    io_as vmdk "$name" \
       "write -P 0xc4 0 $((64 * KiB))" \
       "write -P 0xc5 $((2 * GiB - 3000)) 6000" \
       "write -z $((4 * GiB - 64 * KiB)) $((192 * KiB))" \
       "write -P 0xc6 $((5 * GiB - 4096)) 4096"
    entry "$name"
done

# A large sparse disk: its grain directory spans several 4 KiB chunks.
qemu-img create -q -f vmdk -o zeroed_grain=on vmdk-sparse-64g.vmdk $((64 * GiB))
io_as vmdk vmdk-sparse-64g.vmdk "write -P 0xc7 0 4096" \
   "write -P 0xc8 $((GiB - 512)) 1024" "write -P 0xc9 $((64 * GiB - 4096)) 4096"
entry vmdk-sparse-64g.vmdk

# A child over a VMDK parent: its writes, and zeroed grains that hide
# the parent's data.
qemu-img create -q -f vmdk -o zeroed_grain=on -b vmdk-sparse.vmdk -F vmdk \
         vmdk-child.vmdk $((4 * MiB))
io_as vmdk vmdk-child.vmdk \
   "write -P 0xca $((200 * KiB)) 8192" \
   "write -z 0 $((64 * KiB))" \
   "write -P 0xcb $((2 * MiB + 1000)) 3000"
entry vmdk-child.vmdk

# A qcow2 over a streamOptimized VMDK.
qcow2 over-vmdk.qcow2 $((4 * MiB + 5120)) backing_file=vmdk-stream.vmdk,backing_fmt=vmdk
io over-vmdk.qcow2 "write -P 0xcc $((MiB - 100)) 200" "write -z $((2 * MiB)) $((64 * KiB))"
entry over-vmdk.qcow2
