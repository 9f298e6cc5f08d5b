#!/usr/bin/env python3
"""Patch fields of a qcow2 image in place, for the corpus and damaged-image tests.

    qcow2-edit.py IMAGE ASSIGNMENT...     apply each NAME=EXPR in order
    qcow2-edit.py IMAGE --get EXPR        print the value of EXPR

NAME is a header field (see FIELDS), l1[I] (L1 entry I), l2[I][J] (entry J
of the L2 table that L1 entry I points to; with extended L2 the first
8 bytes), l2bitmap[I][J] (extended L2: the subcluster bitmap), u8[OFF],
u16[OFF], u32[OFF], u64[OFF] (big-endian at a file offset) or truncate (the file
size).  EXPR is a Python expression over the same names, plus file_size,
cluster_size and compressed_offset(ENTRY) / compressed_end(ENTRY) (host
offset and end of the sectors of a compressed L2 entry).
"""
import os
import struct
import sys

# name: (offset, struct format) of the qcow2 header (docs/interop/qcow2.txt)
FIELDS = {
    "magic": (0, ">I"),
    "version": (4, ">I"),
    "backing_file_offset": (8, ">Q"),
    "backing_file_size": (16, ">I"),
    "cluster_bits": (20, ">I"),
    "size": (24, ">Q"),
    "crypt_method": (32, ">I"),
    "l1_size": (36, ">I"),
    "l1_table_offset": (40, ">Q"),
    "refcount_table_offset": (48, ">Q"),
    "refcount_table_clusters": (56, ">I"),
    "nb_snapshots": (60, ">I"),
    "snapshots_offset": (64, ">Q"),
    "incompatible_features": (72, ">Q"),
    "compatible_features": (80, ">Q"),
    "autoclear_features": (88, ">Q"),
    "refcount_order": (96, ">I"),
    "header_length": (100, ">I"),
    "compression_type": (104, ">B"),
}
OFFSET_MASK = 0x00FFFFFFFFFFFE00
INCOMPAT_EXTENDED_L2 = 1 << 4


class Image:
    def __init__(self, path, mode="r+b"):
        self.path = path
        self.file = open(path, mode)

    def read(self, offset, fmt):
        self.file.seek(offset)
        data = self.file.read(struct.calcsize(fmt))
        return struct.unpack(fmt, data)[0]

    def write(self, offset, fmt, value):
        self.file.seek(offset)
        self.file.write(struct.pack(fmt, value))

    def field(self, name):
        return self.read(*FIELDS[name])

    @property
    def cluster_bits(self):
        return self.field("cluster_bits")

    @property
    def extended_l2(self):
        return self.field("version") >= 3 and \
            self.field("incompatible_features") & INCOMPAT_EXTENDED_L2

    def l1_entry_offset(self, i):
        return self.field("l1_table_offset") + 8 * i

    def l2_entry_offset(self, i, j):
        l2 = self.read(self.l1_entry_offset(i), ">Q") & OFFSET_MASK
        if l2 == 0:
            sys.exit(f"qcow2-edit: {self.path}: L1 entry {i} has no L2 table")
        return l2 + j * (16 if self.extended_l2 else 8)

    def compressed_offset(self, entry):
        x = 62 - (self.cluster_bits - 8)
        return entry & ((1 << x) - 1)

    def compressed_end(self, entry):
        x = 62 - (self.cluster_bits - 8)
        sectors = ((entry >> x) & ((1 << (62 - x)) - 1)) + 1
        return (self.compressed_offset(entry) & ~511) + sectors * 512


class Table:
    """l1[i], l2[i][j], u64[off]...: read and written through an Image."""

    def __init__(self, locate, fmt, image):
        self.locate, self.fmt, self.image = locate, fmt, image

    def __getitem__(self, key):
        where = self.locate(key)
        if callable(where):         # l2[i] gives a row indexed by j
            return Table(where, self.fmt, self.image)
        return self.image.read(where, self.fmt)


def namespace(image):
    ns = {name: image.field(name) for name in FIELDS}
    ns.update(
        file_size=os.path.getsize(image.path),
        cluster_size=1 << image.cluster_bits,
        compressed_offset=image.compressed_offset,
        compressed_end=image.compressed_end,
        l1=Table(image.l1_entry_offset, ">Q", image),
        l2=Table(lambda i: lambda j: image.l2_entry_offset(i, j), ">Q", image),
        l2bitmap=Table(lambda i: lambda j: image.l2_entry_offset(i, j) + 8,
                       ">Q", image),
        u8=Table(lambda o: o, ">B", image),
        u16=Table(lambda o: o, ">H", image),
        u32=Table(lambda o: o, ">I", image),
        u64=Table(lambda o: o, ">Q", image),
    )
    return ns


def last_subscript(target):
    """Index of the "[" that opens TARGET's final "[...]"."""
    depth = 0
    for i in range(len(target) - 1, -1, -1):
        depth += {"]": 1, "[": -1}.get(target[i], 0)
        if depth == 0:
            return i
    sys.exit(f"qcow2-edit: {target}: expected NAME[INDEX]")


def assign(image, target, value):
    """Write VALUE to TARGET, a name as described in the module doc."""
    if target == "truncate":
        image.file.truncate(value)
    elif target in FIELDS:
        image.write(*FIELDS[target], value)
    else:
        # Evaluate everything but the last subscript, then write through it.
        split = last_subscript(target)
        ns = namespace(image)
        table = eval(target[:split], ns)
        key = eval(target[split + 1:-1], ns)
        image.write(table.locate(key), table.fmt, value)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    if argv[2] == "--get":
        image = Image(argv[1], "rb")
        print(eval(argv[3], namespace(image)))
        return
    image = Image(argv[1])
    for assignment in argv[2:]:
        target, _, expr = assignment.partition("=")
        assign(image, target, eval(expr, namespace(image)))
    image.file.close()


if __name__ == "__main__":
    main(sys.argv)
