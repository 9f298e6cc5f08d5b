#!/usr/bin/env python3
"""Differential check of fuzz inputs against qemu (a tool, not a test).

    compare-with-qemu.py IMGDUMP INPUT...

Each INPUT (a fuzz-engine.c input: IMAGE [@@PART@@ BACKING [@@PART@@
DATA]], a part perhaps HEAD @@AT@@ OFFSET TAIL) is written as i, b and d
in a scratch folder under /dev/shm, then read by `imgdump raw` and by
`qemu-img convert -O raw` (run inside that folder, where qemu resolves
data file names).  Prints each input whose outcomes differ: both read but
the bytes differ, or only one of them reads.
Inputs whose virtual size passes MAX_SIZE are skipped (converting them
costs qemu too long).  A summary goes to stderr.

Some differences are deliberate (see /work/shared/notes/qcow2-reader.md):
the engine refuses clusters and tables past the end of the file, where
qemu reads zeros.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

MARKER = b"@@PART@@"
AT_MARKER = b"@@AT@@"
MAX_SIZE = 256 << 20
TIMEOUT = 20


def split(data):
    """The image, backing and data file parts of one input."""
    parts = data.split(MARKER, 2)
    return dict(zip("ibd", parts))


def write_part(path, data):
    """Write one part; HEAD @@AT@@ OFFSET TAIL puts TAIL at OFFSET (16 hex
    digits below 2^62), as fuzz-engine.c does."""
    head, marker, rest = data.partition(AT_MARKER)
    at = None
    if marker and len(rest) >= 16:
        try:
            at = int(rest[:16], 16)
        except ValueError:
            pass
    with open(path, "wb") as f:
        if at is None or not len(head) <= at < 1 << 62:
            f.write(data)
            return
        f.write(head)
        f.seek(at)
        f.write(rest[16:])


def run(cmd, folder):
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT,
                           cwd=folder)
        return r.returncode, r.stdout, r.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", b"", "timed out"


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return os.path.getsize(path), h.hexdigest()


def virtual_size(folder):
    status, out, _ = run(["qemu-img", "info", "--output=json", "i"], folder)
    if status != 0:
        return None
    return json.loads(out)["virtual-size"]


def compare(imgdump, path):
    with open(path, "rb") as f:
        parts = split(f.read())
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        for name, data in parts.items():
            write_part(os.path.join(folder, name), data)
        size = virtual_size(folder)
        if size is not None and size > MAX_SIZE:
            return "skipped (large)"
        ours, _, our_err = run([imgdump, "raw", "i", "ours.raw"], folder)
        theirs, _, their_err = run(
            ["qemu-img", "convert", "-O", "raw", "i", "qemu.raw"], folder)
        if ours == 0 and theirs == 0:
            same = digest(os.path.join(folder, "ours.raw")) == \
                digest(os.path.join(folder, "qemu.raw"))
            if not same:
                print(f"{path}: both read it, the bytes differ")
            return "both read" + ("" if same else ", bytes differ")
        if ours == 0:
            print(f"{path}: only we read it; qemu: {their_err.strip()[:300]}")
            return "only we read"
        if theirs == 0:
            print(f"{path}: only qemu reads it; we: {our_err.strip()[:300]}")
            return "only qemu reads"
        return "both refuse"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    summary = {}
    for path in sys.argv[2:]:
        outcome = compare(sys.argv[1], path)
        summary[outcome] = summary.get(outcome, 0) + 1
    print(", ".join(f"{n} {k}" for k, n in sorted(summary.items())),
          file=sys.stderr)


if __name__ == "__main__":
    main()
