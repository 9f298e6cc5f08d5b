#!/usr/bin/env python3
"""Turn small qemu-img images into hostile ones, for test-engine-limits.sh.

    make-hostile.py payload IMAGE FILE    append FILE (at a sector boundary)
                                          and make L2 entry 0 of L1 entry 0
                                          a compressed cluster holding it
    make-hostile.py big-l1 IMAGE ENTRIES  move the L1 table to the end of the
                                          file and claim ENTRIES entries
                                          (the new ones zero: a sparse tail)
    make-hostile.py l2-cycle IMAGE        point every L1 entry at the L2
                                          table of entry 0, and every entry
                                          of that table at the table itself
    make-hostile.py chain DIR TOP COUNT   DIR/c0001.qcow2 .. cCOUNT.qcow2:
                                          copies of TOP (whose backing name
                                          is c0000.qcow2), each backed by
                                          the one before

Only what these cases need: 8-byte L2 entries, and images qemu-img made.
"""
import os
import struct
import sys

OFFSET_MASK = 0x00FFFFFFFFFFFE00
COPIED = 1 << 63
COMPRESSED = 1 << 62
SECTOR = 512


class Image:
    def __init__(self, path):
        self.file = open(path, "r+b")
        self.cluster_bits = self.u32(20)
        self.cluster_size = 1 << self.cluster_bits
        self.l1_size = self.u32(36)
        self.l1_offset = self.u64(40)

    def read(self, offset, length):
        self.file.seek(offset)
        return self.file.read(length)

    def write(self, offset, data):
        self.file.seek(offset)
        self.file.write(data)

    def u32(self, offset):
        return struct.unpack(">I", self.read(offset, 4))[0]

    def u64(self, offset):
        return struct.unpack(">Q", self.read(offset, 8))[0]

    def set_u32(self, offset, value):
        self.write(offset, struct.pack(">I", value))

    def set_u64(self, offset, value):
        self.write(offset, struct.pack(">Q", value))

    def size(self):
        return os.fstat(self.file.fileno()).st_size

    def l2_table(self, l1_index=0):
        table = self.u64(self.l1_offset + 8 * l1_index) & OFFSET_MASK
        if table == 0:
            sys.exit(f"make-hostile.py: L1 entry {l1_index} has no L2 table")
        return table


def payload(image, path):
    """A compressed descriptor for the bytes of PATH, appended."""
    data = open(path, "rb").read()
    img = Image(image)
    offset = -(-img.size() // SECTOR) * SECTOR
    sectors = -(-len(data) // SECTOR)
    shift = 62 - (img.cluster_bits - 8)
    if sectors > 1 << (img.cluster_bits - 8):
        sys.exit(f"make-hostile.py: {len(data)} bytes do not fit a descriptor")
    img.write(offset, data)
    entry = COMPRESSED | ((sectors - 1) << shift) | offset
    img.set_u64(img.l2_table(), entry)


def big_l1(image, entries):
    img = Image(image)
    old = img.read(img.l1_offset, 8 * img.l1_size)
    offset = -(-img.size() // img.cluster_size) * img.cluster_size
    img.write(offset, old)
    img.file.truncate(offset + 8 * entries)
    img.set_u32(36, entries)
    img.set_u64(40, offset)


def l2_cycle(image):
    img = Image(image)
    table = img.l2_table()
    img.write(img.l1_offset, struct.pack(">Q", COPIED | table) * img.l1_size)
    entries = img.cluster_size // 8
    img.write(table, struct.pack(">Q", COPIED | table) * entries)


def chain(folder, top, count):
    data = open(top, "rb").read()
    name = b"c0000.qcow2"
    if data.count(name) != 1:
        sys.exit(f"make-hostile.py: {top} does not name {name.decode()} once")
    for i in range(1, count + 1):
        below = b"c%04d.qcow2" % (i - 1)
        with open(os.path.join(folder, "c%04d.qcow2" % i), "wb") as f:
            f.write(data.replace(name, below))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "payload":
        payload(*args)
    elif command == "big-l1":
        big_l1(args[0], int(args[1]))
    elif command == "l2-cycle":
        l2_cycle(*args)
    elif command == "chain":
        chain(args[0], args[1], int(args[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
