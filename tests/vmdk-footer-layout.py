#!/usr/bin/env python3
"""Rewrite a streamOptimized VMDK made by qemu-img in VMware's layout.

    vmdk-footer-layout.py SOURCE DEST

qemu-img writes the grain directory and tables of a streamOptimized disk
before its grains, and no metadata markers.  VMware (and the OVAs it
exports) writes the header with gd_offset GD_AT_END, the grains, each
span's grain table behind a grain table marker right after the span's
grains, the grain directory behind its marker, the footer (a marker and a
copy of the header that says where the directory is) and an end-of-stream
marker.  qemu reads both, so `qemu-img convert -O raw` of DEST stays the
oracle.  The grains are copied as they are, in LBA order.
"""
import struct
import sys

SECTOR = 512
GD_AT_END = 0xFFFFFFFFFFFFFFFF
FLAG_RGD = 1 << 1
MARKER_GT, MARKER_GD, MARKER_FOOTER = 1, 2, 3


def sectors(n):
    return (n + SECTOR - 1) // SECTOR


def marker(count, kind):
    return struct.pack("<QII", count, 0, kind).ljust(SECTOR, b"\0")


def main(source, dest):
    data = open(source, "rb").read()
    assert data[:4] == b"KDMV", "not a VMDK sparse extent"
    flags, capacity, granularity = struct.unpack_from("<IQQ", data, 8)
    gtes, = struct.unpack_from("<I", data, 44)
    gd_offset, grain_offset = struct.unpack_from("<QQ", data, 56)
    spans = -(-capacity // (granularity * gtes))
    gd = struct.unpack_from("<%dI" % spans, data, gd_offset * SECTOR)

    header = bytearray(data[:SECTOR])
    struct.pack_into("<I", header, 8, flags & ~FLAG_RGD)
    struct.pack_into("<QQQ", header, 48, 0, GD_AT_END, grain_offset)
    out = bytearray(header)
    out += data[SECTOR:grain_offset * SECTOR]
    new_gd = []
    for gt in gd:
        table = struct.unpack_from("<%dI" % gtes, data, gt * SECTOR) if gt else ()
        new_gt = []
        for entry in table:
            if entry <= 1:          # unallocated, or a zeroed grain
                new_gt.append(entry)
                continue
            at = entry * SECTOR
            size, = struct.unpack_from("<I", data, at + 8)
            new_gt.append(len(out) // SECTOR)
            out += data[at:at + 12 + size].ljust(sectors(12 + size) * SECTOR, b"\0")
        if not any(new_gt):
            new_gd.append(0)
            continue
        out += marker(sectors(4 * gtes), MARKER_GT)
        new_gd.append(len(out) // SECTOR)
        out += struct.pack("<%dI" % gtes, *new_gt).ljust(sectors(4 * gtes) * SECTOR, b"\0")
    out += marker(sectors(4 * spans), MARKER_GD)
    gd_sector = len(out) // SECTOR
    out += struct.pack("<%dI" % spans, *new_gd).ljust(sectors(4 * spans) * SECTOR, b"\0")
    footer = bytearray(header)
    struct.pack_into("<Q", footer, 56, gd_sector)
    out += marker(1, MARKER_FOOTER) + footer
    out += bytes(SECTOR)            # the end-of-stream marker
    open(dest, "wb").write(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
