#!/bin/bash
# `imgdump info` must describe every image of every corpus chain as
# `qemu-img info --output=json --backing-chain` does: the chain itself,
# format; for qcow2 version, cluster size, extended L2, compression, flags,
# snapshots (their count, then each one's ID and name), backing and data
# file names; for VDI, VHD, VHDX and VMDK the virtual size and the block or
# grain size (qemu's cluster size), for VMDK the create type and the parent.
# Its data_bytes must add up the
# map's data runs and stay within qemu's "data": true extents.
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
requires qemu-img --version
requires jq --version

corpus=$(corpus)
tmp=$(make_tmpdir)
# qemu resolves data file names against its working directory.
cd "$corpus/images"

# One block per layer, in the key: value form imgdump prints.  qemu rounds
# a qcow2 virtual size down to 512 (a raw size up): compare qcow2 sizes
# rounded down; the raw view's size is checked by test-oracle.sh.
qemu_description ()
{
    local format
    format=$(qemu_format "$corpus" "$1")
    qemu-img info ${format:+-f "$format"} --output=json --backing-chain "$1" | jq -r '
      .[] | (."format-specific".data // {}) as $d | [
        "image: \(.filename | split("/") | last)",
        "format: \(.format)",
        if .format == "qcow2" then
          "virtual_size: \(."virtual-size")",
          "version: \(if $d.compat == "0.10" then 2 else 3 end)",
          "cluster_size: \(."cluster-size")",
          "extended_l2: \($d."extended-l2" // false)",
          "compression: \($d."compression-type")",
          "dirty: \(."dirty-flag")",
          "corrupt: \($d.corrupt // false)",
          "lazy_refcounts: \($d."lazy-refcounts" // false)",
          "snapshots: \(.snapshots // [] | length)",
          (."backing-filename" // empty | "backing_file: \(.)"),
          (."backing-filename-format" // empty | "backing_format: \(.)"),
          ($d."data-file" // empty | "data_file: \(.)"),
          if $d | has("data-file-raw") then
            "data_file_raw: \($d."data-file-raw")" else empty end,
          (.snapshots // [] | .[] | "snapshot: \(.id) \(.name)")
        elif .format == "vdi" or .format == "vpc" or .format == "vhdx" then
          "virtual_size: \(."virtual-size")",
          (."cluster-size" // empty | "cluster_size: \(.)")
        elif .format == "vmdk" then
          "virtual_size: \(."virtual-size")",
          (."cluster-size" // empty | "cluster_size: \(.)"),
          "subformat: \($d."create-type")",
          (."backing-filename" // empty | "backing_file: \(.)"),
          (."backing-filename-format" // empty | "backing_format: \(.)")
        else empty end,
        ""] | .[]'
}

# imgdump's blocks (each ends with a blank line) with the same keys: no
# file size, data bytes or fields qemu does not show (VDI, VHD and VHDX
# subformat, VHD creator; a VMDK's subformat is qemu's create-type), image
# names as base names, qcow2 sizes rounded down to 512.
our_description ()
{
    $IMGDUMP info "$1" | awk '
      /^(file_size|data_bytes|creator):/ { next }
      /^image: / { n = split($2, part, "/"); print "image: " part[n]; next }
      /^format: / { format = $2 }
      /^subformat: / { if (format == "vmdk") print; next }
      /^virtual_size: / { if (format == "raw") next
                          if (format == "qcow2")
                            printf "virtual_size: %.0f\n", $2 - $2 % 512
                          else print
                          next }
      { print }'
}

data_bytes_agree ()
{
    local name=$1 ours sum qemu
    ours=$($IMGDUMP info "$name" | sed -n 's/^data_bytes: //p')
    sum=$($IMGDUMP map "$name" | awk '$3 == "data" { s += $2 } END { print s + 0 }')
    qemu=$(jq '[.[] | select(.data) | .length] | add // 0' \
              "$corpus/expected/$name.map.json")
    [ "$ours" = "$sum" ] ||
        { echo "$name: data_bytes $ours, map data runs add up to $sum" >&2; return 1; }
    [ "$ours" -le "$qemu" ] ||
        { echo "$name: data_bytes $ours > qemu's data $qemu" >&2; return 1; }
}

failed=()
while read -r name; do
    qemu_description "$name" > "$tmp/qemu"
    if our_description "$name" > "$tmp/ours" &&
       diff -u "$tmp/qemu" "$tmp/ours" >&2 &&
       data_bytes_agree "$name"; then
        echo "ok: $name"
    else
        echo "FAIL: $name" >&2
        failed+=("$name")
    fi
done < MANIFEST

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} image(s) described unlike qemu: ${failed[*]}"
