#!/usr/bin/env python3
"""What a file says through lseek(SEEK_DATA / SEEK_HOLE), for the sparsefs tests.

    sparsefs-lseek.py map FILE         print its runs as "OFFSET LENGTH data|zero"
                                       lines (merged, like `imgdump map`)
    sparsefs-lseek.py check FILE MAP   check lseek(2)'s exact semantics against
                                       MAP at the start, middle and last byte
                                       of every run, at the end and past it
    sparsefs-lseek.py random-read FILE EXPECTED COUNT SEED
                                       COUNT reads at random offsets and lengths
                                       must match EXPECTED

Exit status 1 with a message on the first difference.
"""
import errno
import os
import random
import sys


def fail(message):
    print(f"sparsefs-lseek: {message}", file=sys.stderr)
    sys.exit(1)


def seek(fd, offset, whence):
    """The offset lseek returns, or None for ENXIO."""
    try:
        return os.lseek(fd, offset, whence)
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
        return None


def runs(path):
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    offset = 0
    while offset < size:
        data = seek(fd, offset, os.SEEK_DATA)
        data = size if data is None else data
        if data > offset:
            yield offset, data - offset, "zero"
        if data >= size:
            break
        hole = seek(fd, data, os.SEEK_HOLE)
        if hole is None or hole <= data:
            fail(f"{path}: SEEK_HOLE from data at {data} gave {hole}")
        yield data, hole - data, "data"
        offset = hole
    os.close(fd)


def read_map(path):
    with open(path) as f:
        return [(int(o), int(n), k) for o, n, k in (line.split() for line in f)]


def expect(path, fd, offset, whence, wanted):
    got = seek(fd, offset, whence)
    name = "SEEK_DATA" if whence == os.SEEK_DATA else "SEEK_HOLE"
    if got != wanted:
        fail(f"{path}: lseek({offset}, {name}) = {got}, expected "
             f"{'ENXIO' if wanted is None else wanted}")


def check(path, map_path):
    entries = read_map(map_path)
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    for i, (offset, length, kind) in enumerate(entries):
        end = offset + length
        following = entries[i + 1][0] if i + 1 < len(entries) else None
        for probe in sorted({offset, offset + length // 2, end - 1}):
            if kind == "data":
                expect(path, fd, probe, os.SEEK_DATA, probe)
                expect(path, fd, probe, os.SEEK_HOLE, end)
            else:
                expect(path, fd, probe, os.SEEK_HOLE, probe)
                expect(path, fd, probe, os.SEEK_DATA, following)
    for probe in (size, size + 1, size + (1 << 40)):
        expect(path, fd, probe, os.SEEK_DATA, None)
        expect(path, fd, probe, os.SEEK_HOLE, None)
    os.close(fd)


def random_read(path, expected, count, seed):
    rng = random.Random(seed)
    a, b = os.open(path, os.O_RDONLY), os.open(expected, os.O_RDONLY)
    size = os.fstat(b).st_size
    if os.fstat(a).st_size != size:
        fail(f"{path}: size {os.fstat(a).st_size}, expected {size}")
    for _ in range(count):
        offset = rng.randrange(size)
        length = rng.choice((1, 512, 4096, 65536, 1 << 20)) + rng.randrange(4096)
        x, y = os.pread(a, length, offset), os.pread(b, length, offset)
        if x != y:
            fail(f"{path}: {length} bytes at {offset} differ from {expected}")
    os.close(a)
    os.close(b)


def main(argv):
    if len(argv) == 3 and argv[1] == "map":
        for offset, length, kind in runs(argv[2]):
            print(offset, length, kind)
    elif len(argv) == 4 and argv[1] == "check":
        check(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "random-read":
        random_read(argv[2], argv[3], int(argv[4]), int(argv[5]))
    else:
        fail(__doc__)


main(sys.argv)
