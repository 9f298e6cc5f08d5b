#!/usr/bin/env python3
"""Compare raw views and maps without reading terabytes of holes.

    sparse-check.py cmp EXPECTED ACTUAL   same size and bytes (like cmp)
    sparse-check.py zeros FILE MAP        every "zero" run of MAP reads as
                                          zeros in FILE
    sparse-check.py tiles MAP SIZE        MAP's runs tile [0, SIZE), merged
    sparse-check.py covered MAP JSON      every "data" run of MAP lies inside
                                          "data": true extents of JSON
                                          (`qemu-img map --output=json`)
    sparse-check.py all EXPECTED ACTUAL MAP JSON
                                          all four: cmp, tiles (to EXPECTED's
                                          size), zeros (in EXPECTED), covered

MAP is `imgdump map` output: "OFFSET LENGTH data|zero" lines.  Holes of
FILE are found with SEEK_DATA/SEEK_HOLE and read as zeros without being
read; only data the file system holds is compared.  Exit status 1 with a
message on the first difference.
"""
import json
import os
import sys

CHUNK = 1 << 20


def fail(message):
    print(f"sparse-check: {message}", file=sys.stderr)
    sys.exit(1)


def data_segments(fd, start, end):
    """(offset, end) of the data the file system holds in [start, end)."""
    offset = start
    while offset < end:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError:             # ENXIO: no data after offset
            return
        if data >= end:
            return
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        yield data, hole
        offset = hole


def merge(segments):
    merged = []
    for start, end in sorted(segments):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def cmp(expected, actual):
    with open(expected, "rb") as a, open(actual, "rb") as b:
        size_a, size_b = os.fstat(a.fileno()).st_size, os.fstat(b.fileno()).st_size
        if size_a != size_b:
            fail(f"{actual}: size {size_b}, expected {size_a} ({expected})")
        segments = list(data_segments(a.fileno(), 0, size_a)) + \
            list(data_segments(b.fileno(), 0, size_b))
        for start, end in merge(segments):
            for offset in range(start, end, CHUNK):
                n = min(CHUNK, end - offset)
                x = os.pread(a.fileno(), n, offset)
                y = os.pread(b.fileno(), n, offset)
                if x != y:
                    i = next(i for i in range(n) if x[i] != y[i])
                    fail(f"{expected} {actual} differ: byte {offset + i}: "
                         f"expected 0x{x[i]:02x}, got 0x{y[i]:02x}")


def read_map(path):
    runs = []
    with open(path) as f:
        for line in f:
            offset, length, kind = line.split()
            runs.append((int(offset), int(length), kind))
    return runs


def zeros(path, map_path):
    with open(path, "rb") as f:
        fd = f.fileno()
        for offset, length, kind in read_map(map_path):
            if kind != "zero":
                continue
            for start, end in data_segments(fd, offset, offset + length):
                for o in range(start, end, CHUNK):
                    n = min(CHUNK, end - o)
                    buf = os.pread(fd, n, o)
                    if buf.count(0) != n:
                        i = next(i for i in range(n) if buf[i])
                        fail(f"{path}: byte {o + i} is 0x{buf[i]:02x} in zero "
                             f"run {offset}+{length} of {map_path}")


def tiles(map_path, size):
    expect, previous = 0, None
    for offset, length, kind in read_map(map_path):
        if offset != expect or length <= 0 or kind not in ("data", "zero"):
            fail(f"{map_path}: run {offset} {length} {kind}: expected offset "
                 f"{expect}, a positive length, data or zero")
        if kind == previous:
            fail(f"{map_path}: run at {offset} is not merged with the one before")
        expect, previous = offset + length, kind
    if expect != int(size):
        fail(f"{map_path}: runs end at {expect}, image size is {size}")


def covered(map_path, json_path):
    with open(json_path) as f:
        qemu = merge((e["start"], e["start"] + e["length"])
                     for e in json.load(f) if e["data"])
    for offset, length, kind in read_map(map_path):
        if kind != "data":
            continue
        end = offset + length
        if not any(s <= offset and end <= e for s, e in qemu):
            fail(f"{map_path}: data run {offset}+{length} is not data in "
                 f"qemu's map {json_path}")


def all_checks(expected, actual, map_path, json_path):
    cmp(expected, actual)
    tiles(map_path, os.path.getsize(expected))
    zeros(expected, map_path)
    covered(map_path, json_path)


COMMANDS = {"cmp": cmp, "zeros": zeros, "tiles": tiles, "covered": covered,
            "all": all_checks}

if __name__ == "__main__":
    command = COMMANDS.get(sys.argv[1] if len(sys.argv) > 1 else None)
    if command is None or len(sys.argv) != 2 + command.__code__.co_argcount:
        sys.exit(__doc__)
    command(*sys.argv[2:])
