#!/bin/bash
# campaign-inputs.sh MODE SRCDIR: what `make fuzz FUZZ_FORMAT=MODE` starts
# from, made in the build folder: fuzz-seeds-MODE/, the seeds of MODE's
# format (make-seeds.sh names them after it: vdi-*, vhd-*, vhdx-*, vmdk-*;
# the others are qcow2's and raw's), and fuzz-MODE.dict, markers.dict with
# the format's dictionary.  MODE "all" takes every seed and dictionary.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 MODE SRCDIR" >&2; exit 1; }
mode=$1 srcdir=$2

case $mode in
    all) dicts=("$srcdir"/{qcow2,vmdk,vhd,vhdx,vdi}.dict) ;;
    vpc) dicts=("$srcdir/vhd.dict") ;;
    vmdk|vhdx|vdi) dicts=("$srcdir/$mode.dict") ;;
    qcow2|raw|stream) dicts=("$srcdir/qcow2.dict") ;;
    *) echo "$0: FUZZ_FORMAT=$mode: one of qcow2 vmdk vpc vhdx vdi raw" \
            "stream, or none for all" >&2
       exit 1 ;;
esac

rm -rf "fuzz-seeds-$mode"
mkdir "fuzz-seeds-$mode"
for seed in fuzz-seeds/*; do
    name=${seed##*/}
    case $mode:$name in
        all:*|vpc:vhd-*|vmdk:vmdk-*|vhdx:vhdx-*|vdi:vdi-*) ;;
        *:vdi-*|*:vhd-*|*:vhdx-*|*:vmdk-*|vpc:*|vmdk:*|vhdx:*|vdi:*) continue ;;
    esac
    cp "$seed" "fuzz-seeds-$mode/"
done
cat "$srcdir/markers.dict" "${dicts[@]}" > "fuzz-$mode.dict"
