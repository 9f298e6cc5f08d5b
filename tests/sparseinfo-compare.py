#!/usr/bin/env python3
"""sparseinfo-compare.py QEMU.json OURS.json MAP.json STATUS: sparseinfo
--json's report of one image (and its exit STATUS) against `qemu-img info
--output=json --backing-chain`, field by field, layer by layer, and its
data bytes against the data extents of `qemu-img map --output=json`.  The
verdict is safe (exit 0), or unsafe (exit 2) for exactly the dirty and
corrupt bits qemu shows.  Prints each difference; exits 1 if there is
any."""
import json
import os
import sys


def data(layer):
    return layer.get("format-specific", {}).get("data", {})


def snapshots(layer):
    return [(s["id"], s["name"]) for s in layer.get("snapshots", [])]


def compare_layer(n, q, o, problems):
    def differ(what, qv, ov):
        if qv != ov:
            problems.append("layer %d %s: qemu %r, sparseinfo %r" % (n, what, qv, ov))

    differ("format", q["format"], o["format"])
    differ("virtual-size", q["virtual-size"], o["virtual-size"])
    if "cluster-size" in q:
        differ("cluster-size", q["cluster-size"], o.get("cluster-size"))
    differ("backing-filename", q.get("backing-filename"), o.get("backing-filename"))
    differ("backing-filename-format", q.get("backing-filename-format"),
           o.get("backing-filename-format"))
    if "full-backing-filename" in q:
        differ("full-backing-filename (resolved)",
               os.path.realpath(q["full-backing-filename"]),
               o.get("full-backing-filename"))
    differ("snapshots", snapshots(q), snapshots(o))
    differ("dirty-flag", q.get("dirty-flag", False), o["dirty-flag"])
    differ("encrypted", q.get("encrypted", False), o["encrypted"])
    if q["format"] == "qcow2":
        for key in ("compat", "compression-type", "data-file", "data-file-raw",
                    "extended-l2", "lazy-refcounts", "corrupt"):
            differ(key, data(q).get(key), data(o).get(key))
    actual = o.get("actual-size")
    if actual is None or actual < 0:
        problems.append("layer %d actual-size: %r" % (n, actual))


def main():
    qemu = json.load(open(sys.argv[1]))
    reports = json.load(open(sys.argv[2]))
    qemu_map = json.load(open(sys.argv[3]))
    status = int(sys.argv[4])
    problems = []
    if len(reports) != 1:
        problems.append("%d reports for one image" % len(reports))
    ours = reports[0]
    flags = sorted(["dirty"] * any(q.get("dirty-flag") for q in qemu)
                   + ["corrupt"] * any(data(q).get("corrupt") for q in qemu))
    verdict = "unsafe" if flags else "safe"
    reasons = sorted(r["reason"] for r in ours.get("reasons", []))
    if ours["verdict"] != verdict or reasons != flags:
        problems.append("verdict %s %r, qemu's flags say %s %r"
                        % (ours["verdict"], reasons, verdict, flags))
    if status != (2 if flags else 0):
        problems.append("exit status %d for %s" % (status, verdict))
    chain = ours.get("backing-chain", [])
    if len(chain) != len(qemu):
        problems.append("chain of %d layers, qemu %d" % (len(chain), len(qemu)))
    for n, (q, o) in enumerate(zip(qemu, chain)):
        compare_layer(n, q, o, problems)
    qemu_data = sum(e["length"] for e in qemu_map if e["data"])
    if verdict == "safe" and not 0 <= ours.get("data-bytes", -1) <= qemu_data:
        problems.append("data-bytes %r, qemu maps %d bytes of data"
                        % (ours.get("data-bytes"), qemu_data))
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


main()
