#!/bin/bash
# sparseinfo against qemu-img info: every oracle corpus image described as
# `qemu-img info --output=json --backing-chain` describes it (compared
# field by field by sparseinfo-compare.py), safe, exit 0 (unsafe, exit 2,
# for just the dirty and corrupt bits qemu shows); the hostile
# images of hostile-images.sh, dirty and corrupt images unsafe with the
# right reason, exit 2; the command line (--help, text output, a file that
# cannot be read: exit 3).  The damaged-image table runs through
# sparseinfo in test-sparseinfo-damaged.sh.
. "$srcdir/functions.sh"
. "$srcdir/image-helpers.sh"
. "$srcdir/hostile-images.sh"
requires qemu-img --version
requires qemu-io --version
requires python3 --version

corpus=$(corpus)
tmp=$(make_tmpdir)
failed=()

# ---- the corpus: as qemu describes it -----------------------------------------

# qemu resolves data file names against its working directory.
cd "$corpus/images"
while read -r name; do
    format=$(qemu_format "$corpus" "$name")
    qemu-img info ${format:+-f "$format"} --output=json --backing-chain "$name" \
        > "$tmp/qemu.json"
    timeout 10 "$SPARSEINFO" --json "$name" > "$tmp/ours.json" && status=0 || status=$?
    if python3 "$srcdir/sparseinfo-compare.py" "$tmp/qemu.json" "$tmp/ours.json" \
             "$corpus/expected/$name.map.json" $status >&2; then
        echo "ok: $name"
    else
        echo "FAIL: $name" >&2
        failed+=("$name")
    fi
done < MANIFEST
cd - >/dev/null

# ---- hostile, dirty and corrupt images: unsafe, and why ---------------------------

# unsafe IMAGE REASON MESSAGE [OPTION]...: sparseinfo --json says IMAGE (in
# the current folder) is unsafe for REASON with MESSAGE, exit 2, within
# 10 s, and still names the file the image names.
unsafe ()
{
    local image=$1 reason=$2 message=$3 status problem
    shift 3
    timeout 10 "$SPARSEINFO" --json "$@" "$image" > "$tmp/report.json" &&
        status=0 || status=$?
    problem=$(python3 -c '
import json, subprocess, sys
image, reason, message, status = sys.argv[1:5]
if status != "2":
    sys.exit("exit status %s, not 2" % status)
report, = json.load(open(sys.argv[5]))
if report["verdict"] != "unsafe":
    sys.exit("verdict %s" % report["verdict"])
found = [(r["reason"], r["message"]) for r in report["reasons"]]
if (reason, message) not in found:
    sys.exit("reasons %r, not %r" % (found, (reason, message)))
# What qemu says the image names, sparseinfo says too.
qemu = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", image],
                                 capture_output=True, check=True).stdout)
top = report["backing-chain"][0]
for key in ("backing-filename",):
    if qemu.get(key) != top.get(key):
        sys.exit("%s: qemu %r, sparseinfo %r" % (key, qemu.get(key), top.get(key)))
qdata = qemu.get("format-specific", {}).get("data", {}).get("data-file")
odata = top.get("format-specific", {}).get("data", {}).get("data-file")
if qdata != odata:
    sys.exit("data-file: qemu %r, sparseinfo %r" % (qdata, odata))
' "$image" "$reason" "$message" "$status" "$tmp/report.json" 2>&1) ||
        { echo "FAIL: $image: $problem" >&2; failed+=("$image"); return 0; }
    echo "ok: $image unsafe ($reason)"
}

hostile_images "$tmp/hostile"
cd "$tmp/hostile/images"
for name in "${hostile[@]}"; do
    reason=outside-allowed-dirs
    case ${hostile_reason[$name]} in
        *"protocol and json: names"*) reason=protocol-name ;;
    esac
    unsafe "$name" $reason "$name: ${hostile_reason[$name]}"
done
# Allowing the outside folder does not allow protocol names.
unsafe backing-json.qcow2 protocol-name \
    "backing-json.qcow2: ${hostile_reason[backing-json.qcow2]}" --allow-dir=/etc
# The good image beside them is safe, and allowing the folder makes an
# outside backing file safe.
"$SPARSEINFO" good.qcow2 > /dev/null || fail "good.qcow2: exit status $?"
"$SPARSEINFO" --allow-dir="$tmp/hostile/outside" backing-dotdot.qcow2 > /dev/null ||
    fail "backing-dotdot.qcow2 with its folder allowed: exit status $?"

# The dirty and corrupt bits, set as qemu sets them.
cp good.qcow2 dirty.qcow2
edit dirty.qcow2 'incompatible_features=incompatible_features | 1'
unsafe dirty.qcow2 dirty "the dirty bit is set: it was not closed cleanly"
cp good.qcow2 corrupt.qcow2
edit corrupt.qcow2 'incompatible_features=incompatible_features | 2'
unsafe corrupt.qcow2 corrupt "the corrupt bit is set: qemu found its metadata inconsistent"

# A LUKS image is described (qemu-img info needs no key either).
for try in 1 2 3 4 5; do
    qemu-img create -q -f qcow2 --object secret,id=sec0,data=secret \
        -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=50 \
        luks.qcow2 1M && break
done
unsafe luks.qcow2 encrypted "the image is encrypted (luks)"
"$SPARSEINFO" --json luks.qcow2 | python3 -c '
import json, sys
layer = json.load(sys.stdin)[0]["backing-chain"][0]
assert layer["encrypted"] is True, layer
assert layer["format-specific"]["data"]["encrypt"] == {"format": "luks"}, layer' ||
    fail "luks.qcow2: not described as encrypted"

# ---- the command line ------------------------------------------------------------

"$SPARSEINFO" --help > "$tmp/help"
grep -q '^Usage: sparseinfo ' "$tmp/help" || fail "--help prints no usage"

# Text: the same facts, one "key: value" a line, and the reasons.
"$SPARSEINFO" backing-etc-passwd.qcow2 > "$tmp/text" && status=0 || status=$?
[ $status -eq 2 ] || fail "text output: exit status $status, not 2"
grep -qx 'verdict: unsafe' "$tmp/text" || fail "text output: no verdict line"
grep -qx '    reason: outside-allowed-dirs' "$tmp/text" || fail "text output: no reason line"
grep -qx '    backing-filename: /etc/passwd' "$tmp/text" || fail "text output: no backing name"

# Several images: one JSON array, the worst status.
"$SPARSEINFO" --json good.qcow2 backing-nbd.qcow2 > "$tmp/two.json" && status=0 || status=$?
[ $status -eq 2 ] || fail "safe and unsafe: exit status $status, not 2"
python3 -c '
import json, sys
verdicts = [r["verdict"] for r in json.load(open(sys.argv[1]))]
assert verdicts == ["safe", "unsafe"], verdicts' "$tmp/two.json" ||
    fail "two images: not one report each"

# A file that cannot be read: exit 3, one message naming it.
for bad in no-such.qcow2 "$tmp"; do
    "$SPARSEINFO" --json "$bad" good.qcow2 > "$tmp/out" 2> "$tmp/err" && status=0 || status=$?
    [ $status -eq 3 ] || fail "$bad: exit status $status, not 3"
    case $bad in
        no-such.qcow2) why="No such file or directory" ;;
        *) why="not a regular file or block device" ;;
    esac
    [ "$(cat "$tmp/err")" = "sparseinfo: $bad: $why" ] ||
        fail "$bad: message '$(cat "$tmp/err")'"
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/out" ||
        fail "$bad: the JSON does not parse"
done
"$SPARSEINFO" --no-such-option good.qcow2 2> "$tmp/err" && status=0 || status=$?
[ $status -eq 3 ] || fail "a bad option: exit status $status, not 3"
"$SPARSEINFO" 2> "$tmp/err" && status=0 || status=$?
[ $status -eq 3 ] || fail "no IMAGE: exit status $status, not 3"

[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} image(s) failed: ${failed[*]}"
