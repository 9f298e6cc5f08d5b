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
    sparsefs-lseek.py read-for FILE EXPECTED SECONDS SEED [--until-error]
                                       random reads for SECONDS (page cache
                                       dropped first, so the daemon serves
                                       them) must match EXPECTED; prints
                                       "reads N".  --until-error: a read that
                                       fails, or returns fewer bytes (all
                                       right), ends it: "reads N error ENAME"
                                       or "reads N short"
    sparsefs-lseek.py seek-for FILE MAP SECONDS SEED
                                       random SEEK_DATA / SEEK_HOLE for SECONDS
                                       must answer as MAP says; prints "seeks N"
    sparsefs-lseek.py watch-read FILE EXPECTED MAP READY STOP SECONDS
                                       open FILE, create READY, then read random
                                       ranges (page cache dropped first, so the
                                       daemon serves each) and seek at random
                                       until STOP exists or SECONDS pass: each
                                       read must return EXPECTED's bytes, each
                                       seek MAP's answer, or fail with EIO;
                                       prints "reads N eio M seeks N eio S"

Exit status 1 with a message on the first difference.
"""
import bisect
import errno
import os
import random
import sys
import time


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


def read_for(path, expected, seconds, seed, until_error=False):
    rng = random.Random(seed)
    a, b = os.open(path, os.O_RDONLY), os.open(expected, os.O_RDONLY)
    size = os.fstat(b).st_size
    deadline = time.monotonic() + seconds
    reads = 0
    while time.monotonic() < deadline:
        offset = rng.randrange(size)
        length = rng.choice((1, 512, 4096, 65536, 1 << 20)) + rng.randrange(4096)
        os.posix_fadvise(a, 0, 0, os.POSIX_FADV_DONTNEED)
        want = os.pread(b, length, offset)
        try:
            got = os.pread(a, length, offset)
        except OSError as e:
            if not until_error:
                raise
            print(f"reads {reads} error {errno.errorcode[e.errno]}")
            return
        if until_error and len(got) < len(want) and got == want[:len(got)]:
            print(f"reads {reads} short")       # cut off midway: still right
            return
        if got != want:
            at = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y),
                      min(len(got), len(want)))
            fail(f"{path}: {length} bytes at {offset} differ from {expected}: "
                 f"{len(got)} bytes came, {len(want)} expected, first "
                 f"difference at {offset + at}")
        reads += 1
    print(f"reads {reads}")


def map_answer(entries, size, offset, whence):
    """What lseek(OFFSET, WHENCE) must return by the map: None for ENXIO."""
    if offset >= size:
        return None
    i = bisect.bisect_right([start for start, _, _ in entries], offset) - 1
    if (entries[i][2] == "data") == (whence == os.SEEK_DATA):
        return offset
    # the next run is of the other type (runs are merged)
    following = entries[i + 1][0] if i + 1 < len(entries) else None
    return size if following is None and whence == os.SEEK_HOLE else following


def seek_for(path, map_path, seconds, seed):
    rng = random.Random(seed)
    entries = read_map(map_path)
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    deadline = time.monotonic() + seconds
    seeks = 0
    while time.monotonic() < deadline:
        offset = rng.randrange(size + 4096)
        whence = rng.choice((os.SEEK_DATA, os.SEEK_HOLE))
        expect(path, fd, offset, whence, map_answer(entries, size, offset, whence))
        seeks += 1
    os.close(fd)
    print(f"seeks {seeks}")


def seek_or_eio(path, fd, entries, size, rng):
    """One random seek: the map's answer (True) or EIO (False)."""
    offset = rng.randrange(size)
    whence = rng.choice((os.SEEK_DATA, os.SEEK_HOLE))
    try:
        got = seek(fd, offset, whence)
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        return False
    wanted = map_answer(entries, size, offset, whence)
    if got != wanted:
        fail(f"{path}: lseek({offset}, {whence}) = {got}: neither the map's "
             f"{wanted} nor EIO")
    return True


def watch_read(path, expected, map_path, ready, stop, seconds):
    rng = random.Random(path)
    fd, want = os.open(path, os.O_RDONLY), os.open(expected, os.O_RDONLY)
    size = os.fstat(want).st_size
    entries = read_map(map_path)
    open(ready, "w").close()
    deadline = time.monotonic() + seconds
    reads = eio = seek_eio = 0
    while not os.path.exists(stop) and time.monotonic() < deadline:
        if not seek_or_eio(path, fd, entries, size, rng):
            seek_eio += 1
        offset = rng.randrange(size)
        length = min(rng.choice((4096, 65536, 1 << 20)), size - offset)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        reads += 1
        try:
            got = os.pread(fd, length, offset)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            eio += 1
            continue
        if got != os.pread(want, length, offset):
            fail(f"{path}: {length} bytes at {offset}: neither the bytes of "
                 f"{expected} nor EIO (read {reads}, {len(got)} bytes came)")
    if not os.path.exists(stop):
        fail(f"{path}: not told to stop within {seconds} s")
    print(f"reads {reads} eio {eio} seeks {reads} eio {seek_eio}")


def main(argv):
    if len(argv) == 3 and argv[1] == "map":
        for offset, length, kind in runs(argv[2]):
            print(offset, length, kind)
    elif len(argv) == 4 and argv[1] == "check":
        check(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "random-read":
        random_read(argv[2], argv[3], int(argv[4]), int(argv[5]))
    elif len(argv) in (6, 7) and argv[1] == "read-for":
        if len(argv) == 7 and argv[6] != "--until-error":
            fail(__doc__)
        read_for(argv[2], argv[3], float(argv[4]), int(argv[5]), len(argv) == 7)
    elif len(argv) == 6 and argv[1] == "seek-for":
        seek_for(argv[2], argv[3], float(argv[4]), int(argv[5]))
    elif len(argv) == 8 and argv[1] == "watch-read":
        watch_read(argv[2], argv[3], argv[4], argv[5], argv[6], float(argv[7]))
    else:
        fail(__doc__)


main(sys.argv)
