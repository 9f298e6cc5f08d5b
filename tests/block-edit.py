#!/usr/bin/env python3
"""Patch fields of a VDI or VHD image in place, for the damaged-image tests.

    block-edit.py IMAGE ASSIGNMENT...     apply each NAME=EXPR in order
    block-edit.py IMAGE --get EXPR        print the value of EXPR

NAME is a VDI header field (vdi_version, vdi_disk_size, vdi_offset_bmap,
vdi_offset_data, vdi_block_size, vdi_blocks, vdi_uuid_parent: its first 4
bytes), vdi_bmap[I] (block map entry I), a VHD footer field (vhd_type,
vhd_current_size, vhd_data_offset, vhd_creator: 4 bytes as a number;
written to both copies of the footer, whose checksums are then made to
hold again), vhd_checksum (written as is, to both copies), a VHD dynamic
header field (vhd_table_offset, vhd_max_entries, vhd_block_size),
vhd_bat[I] (BAT entry I) or truncate (the file size).  EXPR is a Python
expression over the same names and file_size.
"""
import struct

import field_edit
from field_edit import EditedFile

VDI = {
    "vdi_version": (0x44, "<I"),
    "vdi_offset_bmap": (0x154, "<I"),
    "vdi_offset_data": (0x158, "<I"),
    "vdi_disk_size": (0x170, "<Q"),
    "vdi_block_size": (0x178, "<I"),
    "vdi_blocks": (0x180, "<I"),
    "vdi_uuid_parent": (0x1b8, "<I"),
}
FOOTER = {
    "vhd_data_offset": (16, ">Q"),
    "vhd_creator": (28, ">I"),
    "vhd_current_size": (48, ">Q"),
    "vhd_type": (60, ">I"),
    "vhd_checksum": (64, ">I"),
}
DYNAMIC = {
    "vhd_table_offset": (16, ">Q"),
    "vhd_max_entries": (28, ">I"),
    "vhd_block_size": (32, ">I"),
}


class Image(EditedFile):
    def footers(self):
        """Offsets of the VHD footer copies: the start, the end."""
        found = []
        for at in (0, self.size() - 512):
            self.f.seek(at)
            if self.f.read(8) == b"conectix" and at not in found:
                found.append(at)
        return found

    def dynamic_header(self):
        return self.read(self.footers()[0] + 16, ">Q")

    def location(self, name):
        """(offset, struct format) of NAME, or None for a computed name."""
        if name in VDI:
            return VDI[name]
        if name in DYNAMIC:
            offset, fmt = DYNAMIC[name]
            return self.dynamic_header() + offset, fmt
        if name.startswith("vdi_bmap["):
            index = int(name[9:-1])
            return self.read(0x154, "<I") + 4 * index, "<I"
        if name.startswith("vhd_bat["):
            index = int(name[8:-1])
            table = self.read(self.dynamic_header() + 16, ">Q")
            return table + 4 * index, ">I"
        raise SystemExit(f"block-edit: unknown field {name}")

    def evaluate(self, expr):
        return eval(expr, {}, _Names(self))

    def fix_checksums(self):
        for at in self.footers():
            self.f.seek(at)
            footer = bytearray(self.f.read(512))
            footer[64:68] = bytes(4)
            self.write(at + 64, ">I", ~sum(footer) & 0xffffffff)

    def assign(self, name, value):
        if name == "truncate":
            self.f.truncate(value)
        elif name in FOOTER:
            offset, fmt = FOOTER[name]
            for at in self.footers():
                self.write(at + offset, fmt, value)
            if name != "vhd_checksum":
                self.fix_checksums()
        else:
            offset, fmt = self.location(name)
            self.write(offset, fmt, value)


class _Names(dict):
    """The names an EXPR may use, read when it uses them."""

    def __init__(self, image):
        super().__init__(vdi_bmap=_Table(image, "vdi_bmap"),
                         vhd_bat=_Table(image, "vhd_bat"))
        self.image = image

    def __missing__(self, key):
        if key == "file_size":
            return self.image.size()
        if key in FOOTER:
            offset, fmt = FOOTER[key]
            return self.image.read(self.image.footers()[0] + offset, fmt)
        offset, fmt = self.image.location(key)
        return self.image.read(offset, fmt)


class _Table:
    """vdi_bmap[I] and vhd_bat[I] in expressions."""

    def __init__(self, image, name):
        self.image, self.name = image, name

    def __getitem__(self, index):
        offset, fmt = self.image.location(f"{self.name}[{index}]")
        return self.image.read(offset, fmt)


field_edit.main(Image, __doc__)
