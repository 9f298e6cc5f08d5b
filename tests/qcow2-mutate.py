#!/usr/bin/env python3
"""Write damaged copies of qcow2 images, deterministically.

    qcow2-mutate.py OUTDIR SEED COUNT IMAGE...

Writes OUTDIR/mutant-N-NAME (N from 0 to COUNT-1), each a copy of one of
the IMAGEs with one to three mutations: in the header and extension area, the L1
table, the first L2 table or the end of the file.  A mutation sets a
random byte, flips a bit, or stores a boundary value (0, all ones, a
power of two) in an aligned 32- or 64-bit field.  The file's last 64 KiB
(data, compressed payloads) is damaged too.  Prints one line per
mutant: its name and what was changed.
"""
import os
import random
import struct
import sys

OFFSET_MASK = 0x00FFFFFFFFFFFE00


def u32(data, offset):
    return struct.unpack_from(">I", data, offset)[0]


def u64(data, offset):
    return struct.unpack_from(">Q", data, offset)[0]


def regions(data):
    """(start, end) of the metadata worth damaging."""
    cluster = 1 << u32(data, 20)
    found = [(0, min(len(data), cluster, 1024))]
    l1_offset, l1_size = u64(data, 40), u32(data, 36)
    if l1_size and l1_offset + 8 * l1_size <= len(data):
        found.append((l1_offset, l1_offset + 8 * l1_size))
        l2 = u64(data, l1_offset) & OFFSET_MASK
        if l2 and l2 + cluster <= len(data):
            found.append((l2, l2 + min(cluster, 4096)))
    # The last 64 KiB: data clusters, compressed payloads in the compressed
    # images (the decompressors must fail cleanly, or agree with qemu's).
    found.append((max(0, len(data) - 65536), len(data)))
    return found


def boundary_value(rng, bits):
    return rng.choice([0, (1 << bits) - 1, 1 << rng.randrange(bits),
                       (1 << rng.randrange(bits)) - 1])


def mutate(data, rng):
    start, end = rng.choice(regions(data))
    kind = rng.choice(["byte", "bit", "u32", "u64"])
    if kind == "byte":
        offset = rng.randrange(start, end)
        data[offset] = rng.randrange(256)
    elif kind == "bit":
        offset = rng.randrange(start, end)
        data[offset] ^= 1 << rng.randrange(8)
    else:
        size = 4 if kind == "u32" else 8
        offset = rng.randrange(start, max(start + 1, end - size + 1))
        offset -= offset % size
        value = boundary_value(rng, 8 * size)
        struct.pack_into(">I" if size == 4 else ">Q", data, offset, value)
    return f"{kind}@{offset:#x}"


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    outdir, seed, count, images = argv[1], int(argv[2]), int(argv[3]), argv[4:]
    rng = random.Random(seed)
    originals = {path: open(path, "rb").read() for path in images}
    for n in range(count):
        path = rng.choice(images)
        data = bytearray(originals[path])
        changes = [mutate(data, rng) for _ in range(rng.randint(1, 3))]
        name = f"mutant-{n}-{os.path.basename(path)}"
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        print(name, " ".join(changes))


if __name__ == "__main__":
    main(sys.argv)
