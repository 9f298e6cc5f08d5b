#!/usr/bin/env python3
"""Patch fields of a VHDX image in place, for the damaged-image tests.

    vhdx-edit.py IMAGE ASSIGNMENT...     apply each NAME=EXPR in order
    vhdx-edit.py IMAGE --get EXPR        print the value of EXPR

NAME is one of:
  signature                 the file identifier's first 8 bytes, as a number
  h_sequence, h_version, h_log_version, h_log_offset, h_log_length,
  h_log_guid (its first 8 bytes)
                            a field of both headers; their checksums are
                            made to hold again
  h_checksum                both headers' checksums, written as they are
  rt_checksum, rt_count     the region table's checksum (as is), entry count
  bat_offset, bat_length, metadata_offset, metadata_length
                            a region table entry's field (checksum fixed)
  block_size, file_bits, virtual_size, logical_sector_size
                            a metadata item's value
  size_item_offset          the virtual disk size item's offset
  bat[I]                    BAT entry I (payload and bitmap entries
                            interleaved, as stored)
  parent                    a string: set has_parent and add a parent
                            locator whose parent_linkage is a GUID and
                            whose relative_path and absolute_win32_path
                            are the string
  dirty_log                 any value: give the headers a log GUID and
                            write one valid entry at the log's start, as an
                            unclean close leaves it
EXPR is a Python expression over the same names (not parent, dirty_log),
file_size, and bat(I) for BAT entry I.
"""
import builtins
import struct

import field_edit
from field_edit import EditedFile


def _table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


TABLE = _table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def guid(a, b, c, d):
    return struct.pack("<IHH", a, b, c) + bytes(d)


BAT_GUID = guid(0x2DC27766, 0xF623, 0x4200, [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08])
METADATA_GUID = guid(0x8B7CA206, 0x4790, 0x4B9A, [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E])
ITEMS = {
    "file_parameters": guid(0xCAA16737, 0xFA36, 0x4D43, [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B]),
    "virtual_size": guid(0x2FA54224, 0xCD1B, 0x4876, [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8]),
    "logical_sector_size": guid(0x8141BF1D, 0xA96F, 0x4709, [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F]),
    "parent_locator": guid(0xA8D35F2D, 0xB30B, 0x454D, [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C]),
}
PARENT_VHDX_GUID = guid(0xB04AEFB7, 0xD19E, 0x4A81, [0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13])
HEADERS = (64 * 1024, 128 * 1024)
REGION_TABLE = 192 * 1024
HEADER_FIELDS = {
    "h_checksum": (4, "<I"),
    "h_sequence": (8, "<Q"),
    "h_log_guid": (48, "<Q"),
    "h_log_version": (64, "<H"),
    "h_version": (66, "<H"),
    "h_log_length": (68, "<I"),
    "h_log_offset": (72, "<Q"),
}
REGION_FIELDS = {
    "bat_offset": (BAT_GUID, 16, "<Q"),
    "bat_length": (BAT_GUID, 24, "<I"),
    "metadata_offset": (METADATA_GUID, 16, "<Q"),
    "metadata_length": (METADATA_GUID, 24, "<I"),
}
ITEM_FIELDS = {
    "block_size": ("file_parameters", 0, "<I"),
    "file_bits": ("file_parameters", 4, "<I"),
    "virtual_size": ("virtual_size", 0, "<Q"),
    "logical_sector_size": ("logical_sector_size", 0, "<I"),
}


class Image(EditedFile):
    def fix_crc(self, offset, length):
        block = bytearray(self.pread(offset, length))
        block[4:8] = bytes(4)
        self.write(offset + 4, "<I", crc32c(block))

    def region_entry(self, wanted):
        count = self.read(REGION_TABLE + 8, "<I")
        for i in range(min(count, 2047)):
            at = REGION_TABLE + 16 + 32 * i
            if self.pread(at, 16) == wanted:
                return at
        raise SystemExit("vhdx-edit: region not found")

    def metadata(self):
        return self.read(self.region_entry(METADATA_GUID) + 16, "<Q")

    def item_entry(self, name):
        meta = self.metadata()
        count = self.read(meta + 10, "<H")
        for i in range(count):
            at = meta + 32 + 32 * i
            if self.pread(at, 16) == ITEMS[name]:
                return at
        raise SystemExit(f"vhdx-edit: metadata item {name} not found")

    def location(self, name):
        if name == "signature":
            return 0, "<Q"
        if name in ("rt_checksum", "rt_count"):
            return REGION_TABLE + (4 if name == "rt_checksum" else 8), "<I"
        if name in REGION_FIELDS:
            wanted, offset, fmt = REGION_FIELDS[name]
            return self.region_entry(wanted) + offset, fmt
        if name in ITEM_FIELDS:
            item, offset, fmt = ITEM_FIELDS[name]
            entry = self.item_entry(item)
            return self.metadata() + self.read(entry + 16, "<I") + offset, fmt
        if name == "size_item_offset":
            return self.item_entry("virtual_size") + 16, "<I"
        if name.startswith("bat["):
            return self.read(self.region_entry(BAT_GUID) + 16, "<Q") + 8 * int(name[4:-1]), "<Q"
        raise SystemExit(f"vhdx-edit: unknown field {name}")

    def evaluate(self, expr):
        # bat in the globals: generator expressions see only those.
        bat = lambda i: self.read(*self.location(f"bat[{i}]"))
        return eval(expr, {"bat": bat}, _Names(self))

    def assign(self, name, value):
        if name in HEADER_FIELDS:
            offset, fmt = HEADER_FIELDS[name]
            for at in HEADERS:
                self.write(at + offset, fmt, value)
                if name != "h_checksum":
                    self.fix_crc(at, 4096)
        elif name == "parent":
            self.add_parent(value)
        elif name == "dirty_log":
            self.dirty_log()
        else:
            offset, fmt = self.location(name)
            self.write(offset, fmt, value)
            if REGION_TABLE <= offset < REGION_TABLE + 65536 and name != "rt_checksum":
                self.fix_crc(REGION_TABLE, 65536)

    def add_parent(self, path):
        """A parent locator item after the last item, and has_parent."""
        meta = self.metadata()
        count = self.read(meta + 10, "<H")
        end = max(self.read(meta + 32 + 32 * i + 16, "<I") + self.read(meta + 32 + 32 * i + 20, "<I")
                  for i in range(count))
        pairs = [("parent_linkage", "{01234567-89ab-cdef-0123-456789abcdef}"),
                 ("relative_path", path), ("absolute_win32_path", path)]
        head = PARENT_VHDX_GUID + struct.pack("<HH", 0, len(pairs))
        strings = b""
        entries = b""
        base = len(head) + 12 * len(pairs)
        for key, value in pairs:
            k, v = key.encode("utf-16-le"), value.encode("utf-16-le")
            entries += struct.pack("<IIHH", base + len(strings), base + len(strings) + len(k), len(k), len(v))
            strings += k + v
        item = head + entries + strings
        self.write(meta + end, None, item)
        self.write(meta + 32 + 32 * count, None,
                   ITEMS["parent_locator"] + struct.pack("<IIII", end, len(item), 6, 0))
        self.write(meta + 10, "<H", count + 1)
        offset, fmt = self.location("file_bits")
        self.write(offset, fmt, self.read(offset, fmt) | 2)

    def dirty_log(self):
        log_guid = bytes(range(1, 17))
        log_offset = self.read(HEADERS[0] + 72, "<Q")
        for at in HEADERS:
            self.write(at + 48, None, log_guid)
            self.fix_crc(at, 4096)
        # An entry header alone: no descriptors, a sequence number of 1.
        entry = bytearray(4096)
        struct.pack_into("<4sIIIQII", entry, 0, b"loge", 0, 4096, 0, 1, 0, 0)
        entry[32:48] = log_guid
        struct.pack_into("<QQ", entry, 48, self.size(), self.size())
        struct.pack_into("<I", entry, 4, crc32c(entry))
        self.write(log_offset, None, bytes(entry))


class _Names(dict):
    def __init__(self, image):
        super().__init__()
        self.image = image

    def __missing__(self, key):
        if key == "bat" or hasattr(builtins, key):
            raise KeyError(key)     # looked up in the globals next
        if key == "file_size":
            return self.image.size()
        if key in HEADER_FIELDS:
            offset, fmt = HEADER_FIELDS[key]
            return self.image.read(HEADERS[0] + offset, fmt)
        offset, fmt = self.image.location(key)
        return self.image.read(offset, fmt)


field_edit.main(Image, __doc__)
