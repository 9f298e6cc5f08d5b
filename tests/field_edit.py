"""What block-edit.py and vhdx-edit.py share: an image file opened for
patching, and the command line both take.

    SCRIPT IMAGE ASSIGNMENT...     apply each NAME=EXPR in order
    SCRIPT IMAGE --get EXPR        print the value of EXPR
"""
import os
import struct
import sys


class EditedFile:
    """An image opened read-write; a format's editor adds its field names."""

    def __init__(self, path):
        self.f = open(path, "r+b")

    def size(self):
        return os.fstat(self.f.fileno()).st_size

    def pread(self, offset, length):
        self.f.seek(offset)
        return self.f.read(length)

    def read(self, offset, fmt):
        return struct.unpack(fmt, self.pread(offset, struct.calcsize(fmt)))[0]

    def write(self, offset, fmt, value):
        """VALUE packed with FMT, or VALUE's bytes as they are if FMT is None."""
        self.f.seek(offset)
        self.f.write(struct.pack(fmt, value) if fmt else value)


def main(image_class, usage):
    """Run the command line above with IMAGE opened as IMAGE_CLASS, which
    has evaluate(EXPR) and assign(NAME, VALUE)."""
    if len(sys.argv) < 3:
        raise SystemExit(usage)
    image = image_class(sys.argv[1])
    if sys.argv[2] == "--get":
        print(image.evaluate(sys.argv[3]))
        return
    for assignment in sys.argv[2:]:
        name, expr = assignment.split("=", 1)
        image.assign(name.strip(), image.evaluate(expr))
    image.f.close()
