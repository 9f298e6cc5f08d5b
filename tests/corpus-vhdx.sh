# VHDX images for the oracle corpus (sourced by make-corpus.sh, in
# images/, with its helpers).  qemu 7.2 writes fixed and dynamic disks
# only (no differencing: it reads none either), and no unmapped or
# undefined blocks: those states are patched into the BAT with
# vhdx-edit.py, as another writer (Hyper-V) leaves them.

# vhdx NAME SIZE OPTIONS: SIZE bytes from stamps and random runs, then
# writes into a stored block, across a block edge, into a never-written
# block, and zeros written over a stored block (qemu stores them: it has
# no zero writes); blocks never stored are zero blocks.
vhdx ()
{
    local name=$1 size=$2 opts=$3
    stamp "$name.src" "$size" 0:$((300 * KiB)) $((4 * MiB + 4096)):$((64 * KiB)):r
    qemu-img convert -f raw -O vhdx -o "$opts" "$name.src" "$name"
    rm -f "$name.src"
    io_as vhdx "$name" \
       "write -P 0xd1 $((100 * KiB)) 5000" \
       "write -P 0xd2 $((2 * MiB - 700)) 1400" \
       "write -P 0xd3 $((8 * MiB + 300 * KiB)) 4096" \
       "write -z $((6 * MiB)) $((MiB))" \
       "write -P 0xd4 $((size - 512)) 512"
    entry "$name"
}
vhdx vhdx-dynamic-1m.vhdx $((12 * MiB)) subformat=dynamic,block_size=1M
vhdx vhdx-fixed-8m.vhdx $((24 * MiB)) subformat=fixed,block_size=8M
vhdx vhdx-dynamic-32m.vhdx $((40 * MiB + 1536)) subformat=dynamic,block_size=32M,log_size=2M

# Blocks 1, 3, 7 and 9 of the 1 MiB disk marked unmapped, undefined,
# unmapped the way the 0.95 draft wrote it (state 5) and not present (qemu
# writes blocks it never stored as zero blocks): holes, as qemu reads them.
cp vhdx-dynamic-1m.vhdx vhdx-states.vhdx
python3 "$_image_helpers_dir/vhdx-edit.py" vhdx-states.vhdx \
    'bat[1]=3' 'bat[3]=1' 'bat[7]=bat(7) & ~7 | 5' 'bat[9]=0'
entry vhdx-states.vhdx

# 64 GiB in 1 MiB blocks: 16 sector bitmap entries sit among the BAT's
# payload entries (one after every 4096), over many cache chunks.
qemu-img create -q -f vhdx -o block_size=1M vhdx-sparse-64g.vhdx $((64 * GiB))
io_as vhdx vhdx-sparse-64g.vhdx "write -P 0xd5 0 4096" \
   "write -P 0xd6 $((4 * GiB - 512)) 1024" "write -P 0xd7 $((63 * GiB)) 4096"
entry vhdx-sparse-64g.vhdx

# A qcow2 child of a VHDX.
qcow2 over-vhdx.qcow2 $((12 * MiB)) backing_file=vhdx-dynamic-1m.vhdx,backing_fmt=vhdx
io over-vhdx.qcow2 "write -P 0xd8 $((MiB - 100)) 200" "write -z $((2 * MiB)) $((64 * KiB))"
entry over-vhdx.qcow2
