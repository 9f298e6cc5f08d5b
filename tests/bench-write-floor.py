#!/usr/bin/env python3
"""The writer's share of a copy, for the benchmarks (not part of make check).

    bench-write-floor.py RAW MAP TARGET REQUEST THREADS

Writes the data extents of MAP (`qemu-img map --output=json` of the image:
the runs with "data": true and "zero": false) from RAW (the image's raw
view) onto TARGET (a block device, opened O_DIRECT as sparsecopy opens it),
cut into pieces of REQUEST bytes from the start of each extent, THREADS
writes in flight: the same bytes, the same requests, and nothing else (no
image format, no holes, no zero detection).  No copy onto that target can
finish sooner.  Prints nothing; time it from outside.
"""
import json
import mmap
import os
import sys
import threading


def pieces(map_file, request):
    with open(map_file) as f:
        extents = json.load(f)
    for e in extents:
        if e["data"] and not e["zero"]:
            offset, end = e["start"], e["start"] + e["length"]
            while offset < end:
                yield offset, min(request, end - offset)
                offset += request


def main():
    raw, map_file, target, request, threads = sys.argv[1:]
    request, threads = int(request), int(threads)
    src = os.open(raw, os.O_RDONLY)
    dst = os.open(target, os.O_WRONLY | os.O_DIRECT)
    work = pieces(map_file, request)
    lock = threading.Lock()

    def writer():
        buf = mmap.mmap(-1, request)        # page aligned, as O_DIRECT needs
        view = memoryview(buf)
        while True:
            with lock:
                piece = next(work, None)
            if piece is None:
                return
            offset, length = piece
            if os.preadv(src, [view[:length]], offset) != length:
                sys.exit(f"bench-write-floor: {raw}: short read at {offset}")
            if os.pwritev(dst, [view[:length]], offset) != length:
                sys.exit(f"bench-write-floor: {target}: short write at {offset}")

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    os.close(dst)


if __name__ == "__main__":
    main()
