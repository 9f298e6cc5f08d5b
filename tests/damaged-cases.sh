# The damaged-image cases run by test-damaged.sh (sourced by it).
#
#   damaged NAME BASE QEMU MESSAGE ASSIGNMENT...
#       NAME: a copy of base image BASE patched with qcow2-edit.py
#       ASSIGNMENTs; imgdump must print exactly "imgdump: MESSAGE".
#   refused QEMU MESSAGE IMAGE [IMGDUMP-OPTION]...   for images made otherwise
#   accepted IMAGE [IMGDUMP-OPTION]...               must read like qemu
#   stream_expects MESSAGE|qemu|"as BASE"            the next case through
#                                                    the stream path, when
#                                                    it differs (see
#                                                    test-damaged.sh)
#
# QEMU is what qemu-img convert does with the file (see test-damaged.sh).

damaged ()
{
    local name=$1 base=$2 qemu=$3 message=$4
    shift 4
    patched "$name" "$base" "$@"
    refused "$qemu" "$message" "$name"
}

# An aligned host offset this far past the end of the file.
past_eof='(file_size // 65536 + 64) * 65536'

# ---- header -----------------------------------------------------------------------

damaged version-1.qcow2 good.qcow2 refuses \
    "version-1.qcow2: qcow2 header: version 1 is not supported (only 2 and 3)" \
    version=1
damaged version-4.qcow2 good.qcow2 refuses \
    "version-4.qcow2: qcow2 header: version 4 is not supported (only 2 and 3)" \
    version=4
damaged cluster-bits-8.qcow2 good.qcow2 refuses \
    "cluster-bits-8.qcow2: qcow2 header: cluster_bits 8 is out of range (9 to 21)" \
    cluster_bits=8
damaged cluster-bits-22.qcow2 good.qcow2 refuses \
    "cluster-bits-22.qcow2: qcow2 header: cluster_bits 22 is out of range (9 to 21)" \
    cluster_bits=22
damaged header-length-96.qcow2 good.qcow2 refuses \
    "header-length-96.qcow2: qcow2 header: header_length 96 is too small (at least 104)" \
    header_length=96
damaged header-length-past-cluster.qcow2 good.qcow2 refuses \
    "header-length-past-cluster.qcow2: qcow2 header: header_length 65544 passes the first cluster or the end of the file" \
    header_length=65544
damaged incompatible-bit-10.qcow2 good.qcow2 refuses \
    "incompatible-bit-10.qcow2: qcow2 header: unknown incompatible feature bit 10 (incompatible_features 0x400)" \
    'incompatible_features=incompatible_features | 1 << 10'
damaged zstd-without-bit.qcow2 good.qcow2 refuses \
    "zstd-without-bit.qcow2: qcow2 header: compression_type 1 does not match the compression type feature bit (incompatible_features 0x0)" \
    compression_type=1
damaged compression-bit-with-zlib.qcow2 good.qcow2 refuses \
    "compression-bit-with-zlib.qcow2: qcow2 header: compression_type 0 does not match the compression type feature bit (incompatible_features 0x8)" \
    'incompatible_features=incompatible_features | 8'
damaged compression-type-2.qcow2 good.qcow2 refuses \
    "compression-type-2.qcow2: qcow2 header: compression_type 2 is unknown" \
    compression_type=2 'incompatible_features=incompatible_features | 8'
# One L1 entry maps 512 MiB of 64 KiB clusters: 1 TiB needs 2048.
damaged size-past-l1.qcow2 good.qcow2 refuses \
    "size-past-l1.qcow2: qcow2 header: l1_size 1 is too small for the virtual size 1099511627776 (needs 2048)" \
    'size=1 << 40'
damaged size-absurd.qcow2 good.qcow2 refuses \
    "size-absurd.qcow2: qcow2 header: l1_size 1 is too small for the virtual size 4611686018427387904 (needs 8589934592)" \
    'size=1 << 62'
damaged l1-size-huge.qcow2 good.qcow2 refuses \
    "l1-size-huge.qcow2: qcow2 header: L1 table of 33554433 entries (268435464 bytes) is too large (at most 33554432 bytes)" \
    'l1_size=0x2000001' 'size=1 << 50'
damaged l1-offset-unaligned.qcow2 good.qcow2 refuses \
    "l1-offset-unaligned.qcow2: qcow2 header: L1 table offset 0x30008 is not aligned to the cluster size" \
    'l1_table_offset=l1_table_offset + 8'
# qemu reads the L1 table as zeros: an empty image.
stream_expects "the stream ended at byte 458752, before the end of the L1 table (8 bytes at 0x470000)"
damaged l1-offset-past-eof.qcow2 good.qcow2 accepts \
    "l1-offset-past-eof.qcow2: qcow2 header: L1 table (8 bytes at 0x470000) passes the end of the file (458752 bytes)" \
    "l1_table_offset=$past_eof"
damaged refcount-offset-unaligned.qcow2 good.qcow2 refuses \
    "refcount-offset-unaligned.qcow2: qcow2 header: refcount table offset 0x10200 is not aligned to the cluster size" \
    'refcount_table_offset=refcount_table_offset + 512'
damaged refcount-table-huge.qcow2 good.qcow2 refuses \
    "refcount-table-huge.qcow2: qcow2 header: refcount table of 16777216 clusters (1099511627776 bytes) is too large (at most 8388608 bytes)" \
    'refcount_table_clusters=0x1000000'
damaged refcount-order-7.qcow2 good.qcow2 refuses \
    "refcount-order-7.qcow2: qcow2 header: refcount_order 7 is out of range (0 to 6)" \
    refcount_order=7
damaged snapshots-65537.qcow2 snap.qcow2 refuses \
    "snapshots-65537.qcow2: qcow2 header: nb_snapshots 65537 is too large (at most 65536)" \
    nb_snapshots=65537
damaged snapshot-offset-unaligned.qcow2 snap.qcow2 refuses \
    "snapshot-offset-unaligned.qcow2: qcow2 header: snapshot table offset 0xa0008 is not aligned to the cluster size" \
    'snapshots_offset=snapshots_offset + 8'
# qemu reads the snapshot table as zeros.
stream_expects qemu
damaged snapshot-offset-past-eof.qcow2 snap.qcow2 accepts \
    "snapshot-offset-past-eof.qcow2: qcow2 header: snapshot table (80 bytes at 0x4a0000) passes the end of the file (655503 bytes)" \
    "snapshots_offset=$past_eof"
# The first entry's name (u16 at +14) runs past the table and the file;
# qemu reads zeros there.
stream_expects qemu
damaged snapshot-name-past-eof.qcow2 snap.qcow2 accepts \
    "snapshot-name-past-eof.qcow2: snapshot 0 at 0xa0000 (65600 bytes) passes the end of the file (655503 bytes)" \
    'u16[snapshots_offset + 14]=0xffff'
# A stream never reads the snapshot table: it writes the active layer.
stream_expects "as snap.qcow2"
damaged snapshot-extra-data-huge.qcow2 snap.qcow2 refuses \
    "snapshot-extra-data-huge.qcow2: snapshot 0 at 0xa0000: extra data size 2147483647 is too large (at most 1024)" \
    'u32[snapshots_offset + 36]=0x7fffffff'
damaged backing-offset-past-cluster.qcow2 backed.qcow2 refuses \
    "backing-offset-past-cluster.qcow2: qcow2 header: backing_file_offset 0x10008 is outside the first cluster" \
    'backing_file_offset=65544'
damaged backing-name-crosses-cluster.qcow2 backed.qcow2 refuses \
    "backing-name-crosses-cluster.qcow2: qcow2 header: backing file name (10 bytes at 0xfffc) passes the end of the first cluster (65536 bytes)" \
    'backing_file_offset=65536 - 4'
damaged backing-name-1024.qcow2 backed.qcow2 refuses \
    "backing-name-1024.qcow2: qcow2 header: backing_file_size 1024 is too long (at most 1023)" \
    'backing_file_size=1024'
# The first header extension (the backing format) claims 64 KiB.
damaged extension-past-end.qcow2 backed.qcow2 refuses \
    "extension-past-end.qcow2: qcow2 header extension 0xe2792aca at 0x70: length 65536 passes the end of the extension area (0x210)" \
    'u32[header_length + 4]=0x10000'
damaged backing-format-16.qcow2 backed.qcow2 refuses \
    "backing-format-16.qcow2: qcow2 backing format extension: length 16 is too long (at most 15)" \
    'u32[header_length + 4]=16'
damaged crypt-method-3.qcow2 good.qcow2 refuses \
    "crypt-method-3.qcow2: qcow2 header: crypt_method 3 is unknown" \
    crypt_method=3

# encrypted NAME FORMAT: a real encrypted image from qemu-img.  Timing the
# LUKS key derivation sometimes fails on a busy machine ("Unable to get
# accurate CPU usage"): try again.
encrypted ()
{
    local try
    for try in 1 2 3 4 5; do
        (cd "$cases" &&
         qemu-img create -q -f qcow2 --object secret,id=sec0,data=secret \
                  -o encrypt.format=$2,encrypt.key-secret=sec0${3:+,$3} "$1" $MiB) &&
            return 0
    done
    fail "qemu-img could not create $1"
}

# Valid images, but we refuse encryption.
encrypted encrypted-aes.qcow2 aes
encrypted encrypted-luks.qcow2 luks encrypt.iter-time=50
# qemu refuses both without the key.
refused refuses "encrypted-aes.qcow2: qcow2 header: the image is encrypted (crypt_method 1, AES); encrypted images are not supported" encrypted-aes.qcow2
refused refuses "encrypted-luks.qcow2: qcow2 header: the image is encrypted (crypt_method 2, LUKS); encrypted images are not supported" encrypted-luks.qcow2

# ---- mapping ----------------------------------------------------------------------

damaged l1-entry-unaligned.qcow2 good.qcow2 refuses \
    "l1-entry-unaligned.qcow2: L1 entry 0: L2 table offset 0x40200 is not aligned" \
    'l1[0]=l1[0] + 512'
# qemu reads an L2 table past the end of the file as zeros.
stream_expects "the stream ended at byte 458752, before the end of the L2 table of L1 entry 0 (at 0x470000)"
damaged l1-entry-past-eof.qcow2 good.qcow2 accepts \
    "l1-entry-past-eof.qcow2: L1 entry 0: L2 table offset 0x470000 is past the end of the file (458752 bytes)" \
    "l1[0]=1 << 63 | $past_eof"
damaged l2-entry-unaligned.qcow2 good.qcow2 refuses \
    "l2-entry-unaligned.qcow2: L2 entry 16 of L1 entry 0: cluster offset 0x60200 is not aligned" \
    'l2[0][16]=l2[0][16] + 512'
# qemu reads a data cluster past the end of the file as zeros.
stream_expects "the stream ended at byte 458752, before the end of the data of guest offset 0x100000 (65536 bytes at 0x470000)"
damaged l2-entry-past-eof.qcow2 good.qcow2 accepts \
    "l2-entry-past-eof.qcow2: L2 entry 16 of L1 entry 0: cluster offset 0x470000 is past the end of the file (458752 bytes)" \
    "l2[0][16]=1 << 63 | $past_eof"
stream_expects "the stream ended at byte 20524, before the end of the compressed cluster of guest offset 0x1000 (at 0x1502c)"
damaged compressed-past-eof.qcow2 zlib.qcow2 refuses \
    "compressed-past-eof.qcow2: L2 entry 1 of L1 entry 0: compressed cluster at 0x1502c is past the end of the file (20524 bytes)" \
    'l2[0][1]=l2[0][1] - compressed_offset(l2[0][1]) + file_size + 65536'
damaged deflate-corrupt.qcow2 zlib.qcow2 refuses \
    "deflate-corrupt.qcow2: L2 entry 1 of L1 entry 0: compressed cluster at 0x5016 (22 bytes) does not decompress to 4096 bytes (zlib)" \
    'u64[compressed_offset(l2[0][1])]=0xffffffffffffffff'
damaged zstd-corrupt.qcow2 zstd.qcow2 refuses \
    "zstd-corrupt.qcow2: L2 entry 1 of L1 entry 0: compressed cluster at 0x5013 (19 bytes) does not decompress to 4096 bytes (zstd)" \
    'u64[compressed_offset(l2[0][1])]=0xffffffffffffffff'
# payload NAME BASE HEX: BASE with the payload of its second compressed
# cluster (4 KiB) replaced by the bytes HEX.
payload ()
{
    local at
    cp "$bases/$2" "$cases/$1"
    at=$(edit "$cases/$1" --get 'compressed_offset(l2[0][1])')
    echo "$3" | xxd -r -p | dd of="$cases/$1" bs=1 seek="$at" conv=notrunc status=none
}
# Payloads that decompress to 8 KiB, twice the cluster.  qemu keeps the
# first 4 KiB of a deflate stream, and refuses such a zstd frame
# (`zstd -c --no-check` of 8192 bytes 0x33, hard-coded: no zstd tool needed).
payload deflate-overlong.qcow2 zlib.qcow2 "$(python3 -c '
import zlib
c = zlib.compressobj(9, zlib.DEFLATED, -12)
print((c.compress(b"\x33" * 8192) + c.flush()).hex())')"
accepted deflate-overlong.qcow2
payload zstd-overlong.qcow2 zstd.qcow2 28b52ffd00584d00001033330100fbdf032c
refused refuses "zstd-overlong.qcow2: L2 entry 1 of L1 entry 0: compressed cluster at 0x5013 (19 bytes) does not decompress to 4096 bytes (zstd)" zstd-overlong.qcow2
damaged el2-allocated-and-zero.qcow2 el2.qcow2 refuses \
    "el2-allocated-and-zero.qcow2: L2 entry 0 of L1 entry 0: contradictory subcluster bitmap 0xffffffffffffffff" \
    'l2bitmap[0][0]=0xffffffffffffffff'
damaged el2-allocated-unallocated-cluster.qcow2 el2.qcow2 refuses \
    "el2-allocated-unallocated-cluster.qcow2: L2 entry 1 of L1 entry 0: contradictory subcluster bitmap 0x1" \
    'l2bitmap[0][1]=1'
cp "$bases/ext.data" "$cases/ext.data"
damaged compressed-with-data-file.qcow2 ext.qcow2 refuses \
    "compressed-with-data-file.qcow2: L2 entry 0 of L1 entry 0: compressed cluster in an image with an external data file, entry 0x4000000000050000" \
    'l2[0][0]=1 << 62 | 0x50000'
# With an external data file a cluster's host offset is its guest offset.
damaged data-file-offset-moved.qcow2 ext.qcow2 refuses \
    "data-file-offset-moved.qcow2: L2 entry 0 of L1 entry 0: cluster offset 0x10000 in the data file is not the guest offset 0x0" \
    'l2[0][0]=1 << 63 | 0x10000'
damaged truncated-header.qcow2 good.qcow2 refuses \
    "truncated-header.qcow2: file is too short for a qcow2 header (50 bytes)" \
    truncate=50
# Cuts the L2 table in half.  qemu reads the missing half as zeros.
stream_expects "the stream ended at byte 294912, before the end of the L2 table of L1 entry 0 (at 0x40000)"
damaged truncated-l2.qcow2 good.qcow2 accepts \
    "truncated-l2.qcow2: L1 entry 0: L2 table offset 0x40000 is past the end of the file (294912 bytes)" \
    'truncate=(l1[0] & 0xfffffffffffe00) + 32768'
# Cuts the last data cluster.  qemu reads the missing part as zeros.
stream_expects "the stream ended at byte 458652, before the end of the data of guest offset 0x100000 (65536 bytes at 0x60000)"
damaged truncated-data.qcow2 good.qcow2 accepts \
    "truncated-data.qcow2: L2 entry 16 of L1 entry 0: cluster (65536 bytes at 0x60000) passes the end of the file (458652 bytes)" \
    'truncate=file_size - 100'

# ---- backing chains -----------------------------------------------------------------

# overlay NAME BACKING FORMAT: a 1 MiB overlay naming BACKING, not opened.
overlay ()
{
    (cd "$cases" && qemu-img create -q -f qcow2 -u -b "$2" -F "$3" "$1" $MiB)
}

overlay loop-a.qcow2 loop-b.qcow2 qcow2
overlay loop-b.qcow2 loop-a.qcow2 qcow2
refused hangs "$casedir/loop-a.qcow2: backing chain loops: this file is already in the chain" loop-a.qcow2
# qemu-img will not create a self-loop: make it under another name.
overlay loop-self.tmp loop-self.qcow2 qcow2
mv "$cases/loop-self.tmp" "$cases/loop-self.qcow2"
refused hangs "$casedir/loop-self.qcow2: backing chain loops: this file is already in the chain" loop-self.qcow2

# chain-N.qcow2 is N images deep (the top counts): 64 is the limit.
cp "$bases/good.qcow2" "$cases/chain-1.qcow2"
for n in $(seq 2 100); do
    overlay chain-$n.qcow2 chain-$((n - 1)).qcow2 qcow2
done
accepted chain-64.qcow2
# qemu has no depth limit.
refused accepts "$casedir/chain-2.qcow2: backing file \"chain-1.qcow2\" is refused: the backing chain is deeper than 64 images" chain-65.qcow2
refused accepts "$casedir/chain-37.qcow2: backing file \"chain-36.qcow2\" is refused: the backing chain is deeper than 64 images" chain-100.qcow2

overlay missing-backing.qcow2 no-such-base.qcow2 qcow2
refused refuses "missing-backing.qcow2: backing file \"no-such-base.qcow2\": No such file or directory" missing-backing.qcow2
(cd "$cases" &&
 qemu-img create -q -f qcow2 -o data_file=gone.data missing-data-file.qcow2 $MiB &&
 rm gone.data)
refused refuses "missing-data-file.qcow2: data file \"gone.data\": No such file or directory" missing-data-file.qcow2

# Backing formats: the header's format is obeyed, never probed over.
truncate -s $MiB "$cases/zeros.raw"
overlay format-mismatch.qcow2 zeros.raw qcow2
refused refuses "$casedir/zeros.raw: not a qcow2 image (magic 0x00000000)" format-mismatch.qcow2
overlay format-vmdk.qcow2 chain-1.qcow2 vmdk
# A qcow2 named as a VMDK backing file: not a descriptor, as qemu finds too.
refused refuses "$casedir/chain-1.qcow2: VMDK descriptor: byte 0x03 at offset 7 is not text" format-vmdk.qcow2
# A qcow2 file named as a raw backing file reads as its raw bytes.
overlay format-raw-over-qcow2.qcow2 chain-1.qcow2 raw
accepted format-raw-over-qcow2.qcow2

# Files that are no disk image: a folder, and a FIFO (opening it blocks
# until a writer comes: qemu hangs there).
mkdir "$cases/folder"
overlay backing-folder.qcow2 folder raw
refused refuses "$casedir/folder: not a regular file or block device" backing-folder.qcow2
mkfifo "$cases/pipe"
overlay backing-fifo.qcow2 pipe raw
refused hangs "$casedir/pipe: not a regular file or block device" backing-fifo.qcow2
refused hangs "pipe: not a regular file or block device" pipe

# ---- hostile backing and data file names --------------------------------------------

cp "$bases/good.qcow2" "$tmp/outside/base.qcow2"
ln -s ../outside/base.qcow2 "$cases/link.qcow2"

# qemu follows each of these names and discloses the file.
overlay backing-etc-passwd.qcow2 /etc/passwd raw
refused accepts "backing-etc-passwd.qcow2: backing file \"/etc/passwd\" is refused: it resolves to /etc/passwd, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" backing-etc-passwd.qcow2
refused accepts "backing-etc-passwd.qcow2: backing file \"/etc/passwd\" is refused: it resolves to /etc/passwd, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" backing-etc-passwd.qcow2 --allow-dir "$tmp/outside"
overlay backing-dotdot.qcow2 ../outside/base.qcow2 qcow2
refused accepts "backing-dotdot.qcow2: backing file \"../outside/base.qcow2\" is refused: it resolves to $outside/base.qcow2, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" backing-dotdot.qcow2
accepted backing-dotdot.qcow2 --allow-dir "$tmp/outside"
overlay backing-symlink.qcow2 link.qcow2 qcow2
refused accepts "backing-symlink.qcow2: backing file \"link.qcow2\" is refused: it resolves to $outside/base.qcow2, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" backing-symlink.qcow2
accepted backing-symlink.qcow2 --allow-dir "$tmp/outside"
overlay backing-absolute.qcow2 "$tmp/outside/base.qcow2" qcow2
refused accepts "backing-absolute.qcow2: backing file \"$outside/base.qcow2\" is refused: it resolves to $outside/base.qcow2, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" backing-absolute.qcow2
accepted backing-absolute.qcow2 --allow-dir "$tmp/outside"
overlay backing-json.qcow2 'json:{"file":{"driver":"file","filename":"/etc/passwd"}}' raw
refused accepts "backing-json.qcow2: backing file \"json:{\"file\":{\"driver\":\"file\",\"filename\":\"/etc/passwd\"}}\" is refused: protocol and json: names are never followed" backing-json.qcow2 --allow-dir /etc
overlay backing-file-protocol.qcow2 file:/etc/passwd raw
refused accepts "backing-file-protocol.qcow2: backing file \"file:/etc/passwd\" is refused: protocol and json: names are never followed" backing-file-protocol.qcow2 --allow-dir /etc
# Nothing listens there: qemu fails to connect.
overlay backing-nbd.qcow2 nbd://127.0.0.1:1/x raw
refused refuses "backing-nbd.qcow2: backing file \"nbd://127.0.0.1:1/x\" is refused: protocol and json: names are never followed" backing-nbd.qcow2
(cd "$cases" &&
 qemu-img create -q -f qcow2 -o data_file=../outside/data.raw data-outside.qcow2 $MiB &&
 qemu-io -f qcow2 -c "write -P 0x61 0 4096" data-outside.qcow2 >/dev/null)
# A data file named /etc/passwd (patched in: qemu-img create would truncate
# the file it names).  qemu reads it as the disk.
(cd "$cases" &&
 qemu-img create -q -f qcow2 -o data_file=placeholder data-etc-passwd.qcow2 $MiB &&
 rm placeholder)
at=$(grep -obUa placeholder "$cases/data-etc-passwd.qcow2" | cut -d: -f1)
printf '/etc/passwd' | dd of="$cases/data-etc-passwd.qcow2" bs=1 seek="$at" conv=notrunc status=none
refused accepts "data-etc-passwd.qcow2: data file \"/etc/passwd\" is refused: it resolves to /etc/passwd, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" data-etc-passwd.qcow2
refused accepts "data-outside.qcow2: data file \"../outside/data.raw\" is refused: it resolves to $outside/data.raw, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" data-outside.qcow2
accepted data-outside.qcow2 --allow-dir "$tmp/outside"

# ---- offsets past 2^56 ----------------------------------------------------------------

# Sparse image files larger than 2^56 bytes: on tmpfs (ext4 holds no file
# this large).  qemu reads them, but before its first block status it walks
# the refcount of every cluster of the file until it has counted as many as
# the file has allocated (qcow2_detect_metadata_preallocation): refcounts
# set for the first 16 clusters stop that walk early instead of after 2^47.
huge_file_dir
refcounts=()
for i in $(seq 0 15); do
    refcounts+=("u16[u64[refcount_table_offset] + 2 * $i]=1")
done
# The L1 table moved to 2^59 + X, X the host offset of the first compressed
# cluster: a cache key that packs the kind above the offset names both
# blocks alike, and serves the 8-byte L1 chunk as the 4 KiB cluster.
# (patched copies the base through the link: it must not dangle.)
touch "$huge/l1-offset-2-59.qcow2"
ln -s "$huge/l1-offset-2-59.qcow2" "$cases/l1-offset-2-59.qcow2"
patched l1-offset-2-59.qcow2 zlib.qcow2 "${refcounts[@]}" \
    'u64[(1 << 59) + compressed_offset(l2[0][0])]=l1[0]' \
    'l1_table_offset=(1 << 59) + compressed_offset(l2[0][0])'
accepted l1-offset-2-59.qcow2

# ---- VDI and VHD ------------------------------------------------------------------

# block_damaged NAME BASE QEMU MESSAGE ASSIGNMENT...: as damaged, patched
# with block-edit.py (VDI and VHD fields).
block_damaged ()
{
    local name=$1 base=$2 qemu=$3 message=$4
    shift 4
    cp "$bases/$base" "$cases/$name"
    python3 "$srcdir/block-edit.py" "$cases/$name" "$@"
    refused "$qemu" "$message" "$name"
}

block_damaged vdi-version.vdi good.vdi refuses \
    "vdi-version.vdi: VDI header: version 1.2 is not supported (only 1.1)" \
    vdi_version=0x00010002
block_damaged vdi-disk-size-huge.vdi good.vdi refuses \
    "vdi-disk-size-huge.vdi: VDI header: disk size 4611686018427387904 is too large (at most 1125899905794048)" \
    'vdi_disk_size=1 << 62'
block_damaged vdi-disk-size-past-blocks.vdi good.vdi refuses \
    "vdi-disk-size-past-blocks.vdi: VDI header: disk size 4194305 does not fit in its 4 blocks" \
    'vdi_disk_size=vdi_disk_size + 1'
block_damaged vdi-bmap-unaligned.vdi good.vdi refuses \
    "vdi-bmap-unaligned.vdi: VDI header: block map offset 0x208 or data offset 0x400 is not aligned to 512 bytes" \
    'vdi_offset_bmap=vdi_offset_bmap + 8'
block_damaged vdi-block-size.vdi good.vdi refuses \
    "vdi-block-size.vdi: VDI header: sector size 512 and block size 2097152 are not supported (only 512 and 1048576)" \
    'vdi_block_size=2 << 20'
block_damaged vdi-blocks-huge.vdi good.vdi refuses \
    "vdi-blocks-huge.vdi: VDI header: blocks_in_image 1073741824 is too large (at most 1073741823)" \
    'vdi_blocks=0x40000000'
block_damaged vdi-parent.vdi good.vdi refuses \
    "vdi-parent.vdi: VDI header: the image is a snapshot (its link or parent UUID is set); VDI snapshots are not supported" \
    'vdi_uuid_parent=0x12345678'
# qemu reads a block map past the end of the file as zeros (entries 0:
# every block is the first one), and blocks past the end as zeros.
block_damaged vdi-bmap-past-eof.vdi good.vdi accepts \
    "vdi-bmap-past-eof.vdi: VDI block map (16 bytes at 0x10000000) passes the end of the file (2098176 bytes)" \
    'vdi_offset_bmap=1 << 28'
block_damaged vdi-block-past-eof.vdi good.vdi accepts \
    "vdi-block-past-eof.vdi: VDI block map entry 0: block 4096 (at 0x100000400) passes the end of the file (2098176 bytes)" \
    'vdi_bmap[0]=4096'
# Cut inside the header, after the signature: still probed as VDI.
cp "$bases/good.vdi" "$cases/vdi-truncated.vdi"
truncate -s 300 "$cases/vdi-truncated.vdi"
refused refuses "vdi-truncated.vdi: file is too short for a VDI header (300 bytes)" \
    vdi-truncated.vdi

# The footer holds a random UUID: its checksum is read back.
checksum=$(python3 "$srcdir/block-edit.py" "$bases/good.vhd" --get vhd_checksum)
block_damaged vhd-checksum.vhd good.vhd refuses \
    "vhd-checksum.vhd: VHD footer: checksum $(printf 0x%08x $((checksum ^ 1))) does not match its contents $(printf '(0x%08x)' "$checksum")" \
    'vhd_checksum=vhd_checksum ^ 1'
# "win " sizes the disk by current_size.
block_damaged vhd-size-huge.vhd good.vhd refuses \
    "vhd-size-huge.vhd: VHD footer: disk size of 2199023255552 sectors is too large (at most 4278190080, 2040 GiB)" \
    'vhd_creator=0x77696e20' 'vhd_current_size=1 << 50'
block_damaged vhd-block-size.vhd good.vhd refuses \
    "vhd-block-size.vhd: VHD dynamic header: block size 3000 is not a power of 2 of at least 512" \
    vhd_block_size=3000
block_damaged vhd-entries-huge.vhd good.vhd refuses \
    "vhd-entries-huge.vhd: VHD dynamic header: max_table_entries 536870912 is too large (at most 536870911)" \
    vhd_max_entries=0x20000000
block_damaged vhd-bat-too-small.vhd good.vhd refuses \
    "vhd-bat-too-small.vhd: VHD dynamic header: 1 blocks of 2097152 bytes do not cover the disk size 4212736" \
    vhd_max_entries=1
block_damaged vhd-dynamic-header-past-eof.vhd good.vhd refuses \
    "vhd-dynamic-header-past-eof.vhd: VHD footer: dynamic header offset 0x10000000000 passes the end of the file (4197888 bytes)" \
    'vhd_data_offset=1 << 40'
block_damaged vhd-bat-past-eof.vhd good.vhd refuses \
    "vhd-bat-past-eof.vhd: VHD BAT (12 bytes at 0x10000000000) passes the end of the file (4197888 bytes)" \
    'vhd_table_offset=1 << 40'
block_damaged vhd-block-past-eof.vhd good.vhd refuses \
    "vhd-block-past-eof.vhd: VHD BAT entry 1: block at sector 1048576 (2097664 bytes with its bitmap) passes the end of the file (4197888 bytes)" \
    'vhd_bat[1]=1 << 20'
# A footer only at the end that is not a fixed disk's: not probed as VHD
# (the file reads as raw, as qemu reads it); forced, it is refused.
cp "$bases/fixed.vhd" "$cases/vhd-end-dynamic.vhd"
python3 "$srcdir/block-edit.py" "$cases/vhd-end-dynamic.vhd" vhd_type=3
accepted vhd-end-dynamic.vhd
refused accepts "vhd-end-dynamic.vhd: VHD footer at the end of the file: disk type 3 is not fixed (2), and the file has no footer copy at its start" \
    vhd-end-dynamic.vhd --format vpc
cp "$bases/fixed.vhd" "$cases/vhd-truncated.vhd"
truncate -s 100 "$cases/vhd-truncated.vhd"
refused accepts "vhd-truncated.vhd: file is too short for a VHD footer (100 bytes)" \
    vhd-truncated.vhd --format vpc

# ---- vhdx -------------------------------------------------------------------------

# good.vhdx: 4 MiB in 1 MiB blocks, blocks 0 and 2 written.  Cases are
# patched with vhdx-edit.py, which makes header and region table
# checksums hold again after a field changes.
(cd "$bases" &&
 qemu-img create -q -f vhdx -o block_size=1M good.vhdx $((4 * MiB)) &&
 io_as vhdx good.vhdx "write -P 0x81 0 4096" "write -P 0x82 $((2 * MiB)) 4096")

# vhdx_damaged NAME QEMU MESSAGE ASSIGNMENT...: as damaged, from good.vhdx.
vhdx_damaged ()
{
    local name=$1 qemu=$2 message=$3
    shift 3
    cp "$bases/good.vhdx" "$cases/$name"
    python3 "$srcdir/vhdx-edit.py" "$cases/$name" "$@"
    refused "$qemu" "$message" "$name"
}

# Without its signature the file is raw, to qemu too; forced, refused.
cp "$bases/good.vhdx" "$cases/vhdx-signature.vhdx"
python3 "$srcdir/vhdx-edit.py" "$cases/vhdx-signature.vhdx" signature=0
accepted vhdx-signature.vhdx
refused accepts "vhdx-signature.vhdx: not a VHDX image (no \"vhdxfile\" signature)" \
    vhdx-signature.vhdx --format vhdx
vhdx_damaged vhdx-headers-checksum.vhdx refuses \
    "vhdx-headers-checksum.vhdx: VHDX headers: neither header at 0x10000 nor at 0x20000 is valid (checksum, \"head\" signature, version 1)" \
    'h_checksum=h_checksum ^ 1'
vhdx_damaged vhdx-headers-version.vhdx refuses \
    "vhdx-headers-version.vhdx: VHDX headers: neither header at 0x10000 nor at 0x20000 is valid (checksum, \"head\" signature, version 1)" \
    h_version=2
sequence=$(python3 "$srcdir/vhdx-edit.py" "$bases/good.vhdx" --get h_sequence)
vhdx_damaged vhdx-headers-tie.vhdx refuses \
    "vhdx-headers-tie.vhdx: VHDX headers: both have sequence number $sequence but differ" \
    h_sequence=h_sequence
checksum=$(python3 "$srcdir/vhdx-edit.py" "$bases/good.vhdx" --get rt_checksum)
vhdx_damaged vhdx-region-checksum.vhdx refuses \
    "vhdx-region-checksum.vhdx: VHDX region table: checksum $(printf 0x%08x $((checksum ^ 1))) does not match its contents $(printf '(0x%08x)' "$checksum")" \
    'rt_checksum=rt_checksum ^ 1'
vhdx_damaged vhdx-region-overlap.vhdx refuses \
    "vhdx-region-overlap.vhdx: VHDX region table entry 1: region of 1048576 bytes at 0x200000 overlaps entry 0" \
    metadata_offset=bat_offset
vhdx_damaged vhdx-block-size-3m.vhdx refuses \
    "vhdx-block-size-3m.vhdx: VHDX file parameters: block size 3145728 is not a power of 2 from 1 MiB to 256 MiB" \
    'block_size=3 << 20'
vhdx_damaged vhdx-block-size-0.vhdx refuses \
    "vhdx-block-size-0.vhdx: VHDX file parameters: block size 0 is not a power of 2 from 1 MiB to 256 MiB" \
    block_size=0
vhdx_damaged vhdx-block-size-huge.vhdx refuses \
    "vhdx-block-size-huge.vhdx: VHDX file parameters: block size 2147483648 is not a power of 2 from 1 MiB to 256 MiB" \
    'block_size=1 << 31'
# 2^23 sectors times this sector size overflows 32 bits (qemu's chunk
# ratio): refused by the sector size first.
vhdx_damaged vhdx-sector-size-huge.vhdx refuses \
    "vhdx-sector-size-huge.vhdx: VHDX metadata: logical sector size 2147483648 is not 512 or 4096" \
    'logical_sector_size=1 << 31'
vhdx_damaged vhdx-size-huge.vhdx refuses \
    "vhdx-size-huge.vhdx: VHDX metadata: virtual disk size 1125899906842624 is too large (at most 70368744177664, 64 TiB)" \
    'virtual_size=1 << 50'
vhdx_damaged vhdx-bat-too-small.vhdx refuses \
    "vhdx-bat-too-small.vhdx: VHDX BAT region of 8 bytes is too small for the 4 entries of a 4194304-byte disk in 1048576-byte blocks" \
    bat_length=8
# qemu reads a BAT past the end of the file as zeros: an empty disk.
vhdx_damaged vhdx-bat-past-eof.vhdx accepts \
    "vhdx-bat-past-eof.vhdx: VHDX BAT region (1048576 bytes at 0x10000000000) is empty or passes the end of the file (10485760 bytes)" \
    'bat_offset=1 << 40'
# qemu reads overlapping items; the specification forbids them.
vhdx_damaged vhdx-metadata-overlap.vhdx accepts \
    "vhdx-metadata-overlap.vhdx: VHDX metadata: virtual disk size item (8 bytes at 0x10000) overlaps the file parameters item" \
    'size_item_offset=size_item_offset - 8'
vhdx_damaged vhdx-block-past-eof.vhdx refuses \
    "vhdx-block-past-eof.vhdx: VHDX BAT entry 2: block 2 (1048576 bytes at 0x10000000000) lies in the header section, the log, the BAT or the metadata region, or passes the end of the file (10485760 bytes)" \
    'bat[2]=1 << 40 | 6'
# qemu reads the file identifier as the block's data.
vhdx_damaged vhdx-block-in-header.vhdx accepts \
    "vhdx-block-in-header.vhdx: VHDX BAT entry 0: block 0 (1048576 bytes at 0x0) lies in the header section, the log, the BAT or the metadata region, or passes the end of the file (10485760 bytes)" \
    'bat[0]=6'
vhdx_damaged vhdx-partially-present.vhdx refuses \
    "vhdx-partially-present.vhdx: VHDX BAT entry 0: block state 7 is partially present, which only a differencing disk may hold" \
    'bat[0]=bat(0) | 7'
vhdx_damaged vhdx-log-unaligned.vhdx refuses \
    "vhdx-log-unaligned.vhdx: VHDX header: log of 1048576 bytes at 0x101000 is not aligned to 1 MiB past the header section" \
    'h_log_offset=h_log_offset + 4096'
vhdx_damaged vhdx-dirty-log.vhdx refuses \
    "vhdx-dirty-log.vhdx: VHDX log: it holds entries that need replaying (entry at 0x100000), which a read-only open does not do; to replay them, run \`qemu-img check -r all\` on a copy of the file" \
    dirty_log=1
# Differencing disks are refused before their parent is looked for: qemu
# 7.2 refuses them too, so a locator naming a host file opens nothing.
vhdx_damaged vhdx-parent-etc-passwd.vhdx refuses \
    "vhdx-parent-etc-passwd.vhdx: VHDX file parameters: differencing disks are not supported (has_parent set), as qemu does not read them" \
    'parent="/etc/passwd"'
cp "$bases/good.vhdx" "$cases/vhdx-truncated.vhdx"
truncate -s 300 "$cases/vhdx-truncated.vhdx"
refused refuses "vhdx-truncated.vhdx: file is too short for the VHDX headers and region table (300 bytes)" \
    vhdx-truncated.vhdx

# ---- vhd differencing ---------------------------------------------------------------

# qemu 7.2 reads a differencing disk as a dynamic one, without its parent,
# and never reads its parent locators: neither do we, whatever they say.
# vhd_child NAME LOCATOR...: good.vhd made a differencing disk of
# good.vdi (a file that is there) with LOCATORs (see vhd_differencing).
vhd_child ()
{
    local name=$1
    shift
    cp "$bases/good.vhd" "$cases/$name"
    cp "$bases/good.vdi" "$cases/good.vdi"
    vhd_differencing "$cases/$name" good.vdi "$@"
}
vhd_child vhd-differencing.vhd 'W2ru:.\good.vdi' "W2ku:$casedir/good.vdi"
accepted vhd-differencing.vhd
vhd_child vhd-diff-etc-passwd.vhd 'W2ku:/etc/passwd' 'MacX:file:///etc/passwd'
accepted vhd-diff-etc-passwd.vhd
# Only the disk type changed: no parent name, no locators.
cp "$bases/good.vhd" "$cases/vhd-diff-type-only.vhd"
python3 "$srcdir/block-edit.py" "$cases/vhd-diff-type-only.vhd" vhd_type=4
accepted vhd-diff-type-only.vhd
# A differencing footer only at the end of the file: not probed as VHD
# (qemu reads the file as raw, and so do we); forced, it is refused.
cp "$bases/fixed.vhd" "$cases/vhd-diff-end.vhd"
python3 "$srcdir/block-edit.py" "$cases/vhd-diff-end.vhd" vhd_type=4
accepted vhd-diff-end.vhd
refused accepts "vhd-diff-end.vhd: VHD footer at the end of the file: disk type 4 is not fixed (2), and the file has no footer copy at its start" \
    vhd-diff-end.vhd --format vpc

# ---- qcow2 snapshots ------------------------------------------------------------------

# snap.qcow2 has two snapshots ("first", ID 1, and "second", ID 2) of one
# L1 entry each.  A snapshot L1 table past the end of the file leaves the
# active layer and the other snapshot readable; qemu-img convert -l reads
# zeros for it (an empty disk): we refuse it, as we refuse the active one.
streamed_snapshot="--snapshot reads a qcow2 image from a local file, not from a stream (-, a FIFO, a URL)"
patched snap-l1-past-eof.qcow2 snap.qcow2 "u64[snapshots_offset]=$past_eof"
accepted snap-l1-past-eof.qcow2
stream_expects "$streamed_snapshot"
refused accepts "snap-l1-past-eof.qcow2: snapshot 0 (ID \"1\"): L1 table (8 bytes at 0x4a0000) passes the end of the file (655503 bytes)" \
    snap-l1-past-eof.qcow2 --snapshot first
stream_expects "$streamed_snapshot"
accepted snap-l1-past-eof.qcow2 --snapshot second
# A snapshot L1 table of more than 32 MiB: qemu reads the active layer
# (it refuses the table only when -l reads it); we refuse the image at
# open, as for every invalid snapshot entry.  A stream never reads the
# snapshot table.
stream_expects "as snap.qcow2"
damaged snap-l1-size-huge.qcow2 snap.qcow2 accepts \
    "snap-l1-size-huge.qcow2: snapshot 0 at 0xa0000: L1 table of 4194305 entries at 0x70000 is invalid" \
    'u32[snapshots_offset + 8]=0x400001'
# A missing snapshot.
cp "$bases/snap.qcow2" "$cases/snap-missing.qcow2"
stream_expects "$streamed_snapshot"
refused refuses "snap-missing.qcow2: no internal snapshot with ID or name \"third\" (2 snapshots)" \
    snap-missing.qcow2 --snapshot third
# Two snapshots of one name (qemu-img makes them): the first is read.
cp "$bases/good.qcow2" "$cases/snap-twice.qcow2"
qemu-img snapshot -c twice "$cases/snap-twice.qcow2"
io "$cases/snap-twice.qcow2" "write -P 0x13 0 4096"
qemu-img snapshot -c twice "$cases/snap-twice.qcow2"
io "$cases/snap-twice.qcow2" "write -P 0x14 0 4096"
stream_expects "$streamed_snapshot"
accepted snap-twice.qcow2 --snapshot twice
stream_expects "$streamed_snapshot"
accepted snap-twice.qcow2 --snapshot snapshot.name=twice

# ---- vmdk ------------------------------------------------------------------------

# Bases: a monolithicSparse disk (64 KiB grains, zeroed grains on; grains
# 0 and 16 written), a streamOptimized one and a monolithicFlat one.
(cd "$bases" &&
 qemu-img create -q -f vmdk -o zeroed_grain=on good.vmdk $((4 * MiB)) &&
 io_as vmdk good.vmdk "write -P 0x81 0 4096" "write -P 0x82 $MiB 4096" &&
 qemu-img convert -f vmdk -O vmdk -o subformat=streamOptimized good.vmdk stream.vmdk &&
 qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk $MiB)

# vmdk_patched NAME BASE [OFFSET:STRUCT-FORMAT:EXPR]...: a copy of base
# BASE with the fields at OFFSET packed anew; EXPR may use u32(OFF),
# u64(OFF) (little-endian fields of the base) and file_size.
vmdk_patched ()
{
    local name=$1 base=$2
    shift 2
    cp "$bases/$base" "$cases/$name"
    python3 - "$cases/$name" "$@" <<'PY'
import os, struct, sys
with open(sys.argv[1], "r+b") as f:
    def field(off, fmt):
        f.seek(off)
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]
    env = {"u32": lambda o: field(o, "<I"), "u64": lambda o: field(o, "<Q"),
           "file_size": os.fstat(f.fileno()).st_size}
    for spec in sys.argv[2:]:
        off, fmt, expr = spec.split(":", 2)
        value = eval(expr, env)
        f.seek(eval(off, env))
        f.write(struct.pack(fmt, value))
PY
}

# vmdk_damaged NAME BASE QEMU MESSAGE [OFFSET:STRUCT-FORMAT:EXPR]...: as
# damaged, patched by vmdk_patched.
vmdk_damaged ()
{
    local name=$1 base=$2 qemu=$3 message=$4
    shift 4
    vmdk_patched "$name" "$base" "$@"
    refused "$qemu" "$message" "$name" ${VMDK_OPTIONS:-}
}

# Header fields: version (4), flags (8), capacity (12), granularity (20),
# num_gtes_per_gt (44), gd_offset (56); a grain directory entry holds a
# grain table's sector, a grain table entry a grain's.
gd='u64(56) * 512'
gt0='u32(u64(56) * 512) * 512'
# Grain 0's marker holds its compressed payload's size.
grain0_size="u32($gt0) * 512 + 8"
VMDK_OPTIONS="--format vmdk" vmdk_damaged vmdk-magic.vmdk good.vmdk accepts \
    "vmdk-magic.vmdk: VMDK descriptor: byte 0x02 at offset 4 is not text" \
    '0:<I:0x4b444d57'
vmdk_damaged vmdk-version.vmdk good.vmdk refuses \
    "vmdk-version.vmdk: VMDK header: version 4 is not supported (at most 3)" \
    '4:<I:4'
vmdk_damaged vmdk-grain-0.vmdk good.vmdk refuses \
    "vmdk-grain-0.vmdk: VMDK header: grain size of 0 sectors is out of range (1 to 2097152)" \
    '20:<Q:0'
vmdk_damaged vmdk-grain-huge.vmdk good.vmdk refuses \
    "vmdk-grain-huge.vmdk: VMDK header: grain size of 4194304 sectors is out of range (1 to 2097152)" \
    '20:<Q:1 << 22'
vmdk_damaged vmdk-gtes-huge.vmdk good.vmdk refuses \
    "vmdk-gtes-huge.vmdk: VMDK header: num_gtes_per_gt 1048576 is out of range (1 to 512)" \
    '44:<I:1 << 20'
vmdk_damaged vmdk-capacity-huge.vmdk good.vmdk refuses \
    "vmdk-capacity-huge.vmdk: VMDK header: capacity of 4611686018427387904 sectors needs 70368744177664 grain directory entries (at most 33554432)" \
    '12:<Q:1 << 62'
# qemu reads a grain directory, table or grain past the end as zeros.
vmdk_damaged vmdk-gd-past-eof.vmdk good.vmdk accepts \
    "vmdk-gd-past-eof.vmdk: VMDK grain directory (1 entries at sector 1048576) passes the end of the file (196608 bytes)" \
    '56:<Q:1 << 20'
vmdk_damaged vmdk-gt-past-eof.vmdk good.vmdk accepts \
    "vmdk-gt-past-eof.vmdk: VMDK grain table at sector 1048576 passes the end of the file (196608 bytes)" \
    "$gd:<I:1 << 20"
vmdk_damaged vmdk-grain-past-eof.vmdk good.vmdk accepts \
    "vmdk-grain-past-eof.vmdk: VMDK grain at extent offset 0x0: sector 1048576 (65536 bytes) passes the end of the file (196608 bytes)" \
    "$gt0:<I:1 << 20"
# A compressed grain's marker says how long its payload is (a stream has
# no file size to measure it against).
stream_expects "VMDK compressed grain at 0x10000: 196608 bytes do not fit in two grains (131072 bytes)"
vmdk_damaged vmdk-compressed-huge.vmdk stream.vmdk refuses \
    "vmdk-compressed-huge.vmdk: VMDK compressed grain at 0x10000: 196608 bytes do not fit in two grains (131072 bytes) or in the file (131584 bytes)" \
    "$grain0_size:<I:3 << 16"
vmdk_damaged vmdk-compressed-short.vmdk stream.vmdk refuses \
    "vmdk-compressed-short.vmdk: VMDK compressed grain at 0x10000 (4 bytes) does not inflate to the 65536 bytes of its grain" \
    "$grain0_size:<I:4"

# Descriptors: not text, too large, naming files outside the folder, too
# many extents.
# flat_descriptor: flat.vmdk's descriptor, its extent lines those on stdin.
flat_descriptor ()
{
    sed -n '1,/^# Extent description/p' "$bases/flat.vmdk" | tr -d '\0'
    cat
    sed -n '/^# The Disk Data Base/,$p' "$bases/flat.vmdk" | tr -d '\0'
}
cp "$bases/flat-flat.vmdk" "$cases/"
echo 'RW 2048 FLAT "flat-flat.vmdk" 0' | flat_descriptor |
    sed '1s/$/\x01/' > "$cases/vmdk-desc-binary.vmdk"
refused accepts "vmdk-desc-binary.vmdk: VMDK descriptor: byte 0x01 at offset 21 is not text" \
    vmdk-desc-binary.vmdk
{ echo 'RW 2048 FLAT "flat-flat.vmdk" 0' | flat_descriptor
  head -c $MiB /dev/zero | tr '\0' '#'; } > "$cases/vmdk-desc-huge.vmdk"
refused accepts "vmdk-desc-huge.vmdk: VMDK descriptor file of 1048915 bytes is too large (at most 1048575)" \
    vmdk-desc-huge.vmdk
echo 'RW 8 FLAT "/etc/passwd" 0' | flat_descriptor > "$cases/vmdk-desc-passwd.vmdk"
refused accepts "vmdk-desc-passwd.vmdk: descriptor line 8: extent file \"/etc/passwd\" is refused: it resolves to /etc/passwd, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" \
    vmdk-desc-passwd.vmdk
head -c 4096 /dev/urandom > "$tmp/outside/x"
echo 'RW 8 FLAT "../outside/x" 0' | flat_descriptor > "$cases/vmdk-desc-dotdot.vmdk"
refused accepts "vmdk-desc-dotdot.vmdk: descriptor line 8: extent file \"../outside/x\" is refused: it resolves to $outside/x, outside the image's folder $casedir (allow its folder explicitly with --allow-dir)" \
    vmdk-desc-dotdot.vmdk
yes 'RW 1 FLAT "flat-flat.vmdk" 0' | head -n 1025 | flat_descriptor \
    > "$cases/vmdk-desc-extents.vmdk"
refused accepts "vmdk-desc-extents.vmdk: VMDK descriptor: more than 1024 extents" \
    vmdk-desc-extents.vmdk

# ---- ova -------------------------------------------------------------------------

# Base: a ustar OVA, an OVF then one streamOptimized disk: the OVF's header
# at 0, the disk's at 0x400, its data from 0x600.  qemu reads any tar as a
# raw disk.  A stream reads the archive's headers as the file path does,
# and says the same, but for what it would need to look ahead for.
(cd "$bases" &&
 cp stream.vmdk disk.vmdk &&
 echo '<Envelope><References><File href="disk.vmdk"/></References></Envelope>' > vm.ovf &&
 tar -c --format=ustar -f good.ova vm.ovf disk.vmdk)
disk_end=$(( 0x600 + ($(stat -c %s "$bases/disk.vmdk") + 511) / 512 * 512 ))

# ova_case NAME: good.ova copied as NAME, the tar header at OFFSET given
# FIELD-OFFSET:BYTES (Python bytes literals) and its checksum made anew,
# unless "keep-checksum" comes first.
ova_case ()
{
    local name=$1
    shift
    cp "$bases/good.ova" "$cases/$name"
    python3 - "$cases/$name" "$@" <<'PY'
import sys
path, specs = sys.argv[1], sys.argv[2:]
keep = specs[:1] == ["keep-checksum"]
with open(path, "r+b") as f:
    for spec in specs[keep:]:
        at, field, value = spec.split(":", 2)
        f.seek(int(at, 0))
        h = bytearray(f.read(512))
        value = eval(value)
        h[int(field):int(field) + len(value)] = value
        if not keep:
            h[148:156] = b" " * 8
            h[148:156] = b"%06o\0 " % sum(h)
        f.seek(int(at, 0))
        f.write(h)
PY
}

head -c "$disk_end" "$bases/good.ova" > "$cases/ova-truncated.ova"
refused accepts "ova-truncated.ova: the tar archive is truncated: it ends at offset $(printf 0x%x "$disk_end"), before the header expected at $(printf 0x%x "$disk_end") (or its end-of-archive block)" \
    ova-truncated.ova
ova_case ova-checksum.ova keep-checksum "0x400:108:b'7'"
refused accepts "ova-checksum.ova: tar member 1 (header at offset 0x400): header checksum \"$(dd if="$cases/ova-checksum.ova" bs=1 skip=$((0x400 + 148)) count=6 status=none)\" does not match the header" \
    ova-checksum.ova
ova_case ova-size-past-end.ova "0x400:124:b'10000000000\0'"
refused accepts "ova-size-past-end.ova: tar member 1 \"disk.vmdk\" (header at offset 0x400): its 1073741824 bytes of data pass the end of the archive ($(stat -c %s "$cases/ova-size-past-end.ova") bytes)" \
    ova-size-past-end.ova
# The disk's header made a pax extended header of 100000 bytes.
ova_case ova-pax-huge.ova "0x400:124:b'00000303240\0'" "0x400:156:b'x'"
refused accepts "ova-pax-huge.ova: tar member 1 (header at offset 0x400): extended header 'x' of 100000 bytes is larger than 65536" \
    ova-pax-huge.ova
# 1025 empty members after the OVF: the header count is bounded.
(cd "$bases" && mkdir -p many && cd many && cp ../vm.ovf . &&
 for i in $(seq -w 1 1025); do : > "e$i"; done &&
 tar -c --format=ustar -f "$cases/ova-members.ova" vm.ovf e*)
refused accepts "ova-members.ova: tar member 1024 (header at offset 0x80200): the archive has more than 1024 headers" \
    ova-members.ova
(cd "$bases" &&
 echo '<Envelope><References><File href="disk.vmdk"/><File href="disk2.vmdk"/></References></Envelope>' > missing.ovf &&
 tar -c --format=ustar -f "$cases/ova-missing.ova" missing.ovf disk.vmdk)
# A stream cannot know before the end that disk2.vmdk is missing: it
# asks which disk to copy.
stream_expects "the OVA holds 2 disks: select one by index or name (0 disk.vmdk, 1 disk2.vmdk)"
refused accepts "ova-missing.ova: missing.ovf: File \"disk2.vmdk\" (reference 1) is not a member of the archive" \
    ova-missing.ova
# A descriptor in the archive naming a host file: never opened.
(cd "$bases" &&
 echo 'RW 8 FLAT "/etc/passwd" 0' | flat_descriptor > passwd.vmdk &&
 echo '<Envelope><References><File href="passwd.vmdk"/></References></Envelope>' > passwd.ovf &&
 tar -c --format=ustar -f "$cases/ova-passwd.ova" passwd.ovf passwd.vmdk)
# A stream takes only a streamOptimized VMDK, never a descriptor.
stream_expects "passwd.vmdk: a descriptor-file VMDK image cannot be read as a stream, only a streamOptimized one: copy it from a local file"
refused accepts "ova-passwd.ova/passwd.vmdk: descriptor line 8: extent file \"/etc/passwd\" is refused: a disk inside an OVA must be a single file" \
    ova-passwd.ova

# ---- vmdk-stream ------------------------------------------------------------------
# What only a stream of a streamOptimized VMDK sees: it places grains by
# their markers' LBA (qemu and the file path by the grain tables), and
# checks the tables against them at the end.  Bases: stream.vmdk (grains
# at LBA 0 and 2048, qemu-img's layout: the tables before the grains) and
# stream-footer.vmdk (VMware's: the tables, the footer and the
# end-of-stream marker after the grains).
python3 "$srcdir/vmdk-footer-layout.py" "$bases/stream.vmdk" "$bases/stream-footer.vmdk"
# The markers of the grains at LBA 0 and 2048, from grain table entries 0
# and 16.
grain0="u32($gt0) * 512"
grain16="u32($gt0 + 64) * 512"
vmdk_patched vmdk-stream-lba-past.vmdk stream.vmdk "$grain16:<Q:1 << 20"
stream_expects "VMDK grain marker at 0x10200: LBA 1048576 passes the end of the disk (8192 sectors)"
accepted vmdk-stream-lba-past.vmdk
vmdk_patched vmdk-stream-lba-odd.vmdk stream.vmdk "$grain16:<Q:2049"
stream_expects "VMDK grain marker at 0x10200: LBA 2049 is not the start of a grain (of 128 sectors)"
accepted vmdk-stream-lba-odd.vmdk
vmdk_patched vmdk-stream-order.vmdk stream.vmdk "$grain16:<Q:0"
stream_expects "VMDK grain marker at 0x10200: LBA 0 comes after the grains up to LBA 128: grains out of order or repeated cannot be read as a stream: copy it from a local file"
accepted vmdk-stream-order.vmdk
# A payload size that runs over the next grain's marker (qemu inflates
# what the grain holds and ignores the rest).
vmdk_patched vmdk-stream-size-past.vmdk stream.vmdk "$grain0 + 8:<I:1024"
stream_expects "VMDK grain table at sector 27, entry 16: the grain at guest offset 0x100000 is at sector 129, but the stream brought no such grain (was it cut short?)"
accepted vmdk-stream-size-past.vmdk
# The grain table places grain 16 where grain 0 is.
vmdk_patched vmdk-stream-gt-elsewhere.vmdk stream.vmdk "$gt0 + 64:<I:u32($gt0)"
stream_expects "VMDK grain directory entry 0: the grain at guest offset 0x100000 came at sector 129, but its grain table places it elsewhere"
accepted vmdk-stream-gt-elsewhere.vmdk
# No end-of-stream marker: the file path finds no footer either.
head -c -512 "$bases/stream-footer.vmdk" > "$cases/vmdk-stream-no-eos.vmdk"
stream_expects "the stream ended at byte 71168, before the VMDK end-of-stream marker"
refused refuses "vmdk-stream-no-eos.vmdk: VMDK footer at 0x11000: its markers or magic are not those of a footer" vmdk-stream-no-eos.vmdk
# A footer whose copy of the header doubles the capacity.
vmdk_patched vmdk-stream-footer-size.vmdk stream-footer.vmdk "file_size - 1024 + 12:<Q:u64(12) * 2"
stream_expects "VMDK footer at 0x11200: its copy of the header (capacity, grain size, grain table size or flags) is not the header the stream was read with"
accepted vmdk-stream-footer-size.vmdk
# A parent named in the descriptor: a stream cannot open it.
cp "$bases/stream.vmdk" "$cases/vmdk-stream-parent.vmdk"
python3 - "$cases/vmdk-stream-parent.vmdk" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0x200)
    desc = f.read(20 * 512)
    f.seek(0x200 + desc.index(b"\0"))
    f.write(b'parentFileNameHint="missing-parent.vmdk"\n')
PY
stream_expects "the image has a parent (missing-parent.vmdk), which a stream cannot open: convert it first (qemu-img convert -O vmdk -o subformat=streamOptimized) or copy from the local file"
refused refuses 'vmdk-stream-parent.vmdk: backing file "missing-parent.vmdk": No such file or directory' vmdk-stream-parent.vmdk
