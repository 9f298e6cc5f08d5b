#!/bin/bash
# sparsecopy for programs that drive it (issue 15):
#  - --progress=json writes JSON lines on stderr, --progress-fd=N on file
#    descriptor N: every line parses, the phases come in order (probe, then
#    zero when holes are zeroed up front, copy, verify), bytes never go
#    back, and each phase's last line has bytes_done == bytes_total;
#  - SIGUSR1 during a slow copy (an NBD export behind nbdkit's delay
#    filter) prints a progress line on stderr and the copy still succeeds;
#  - the --json summary says where the bytes went: data_written equals the
#    data qemu-img map shows, the holes' parts add up to size - data, and
#    each forced method is where the holes went: onto a file, a loop device
#    (punch, discard, zeroout, write, auto, --target-is-zero) and an NBD
#    export.
. "$srcdir/functions.sh"
. "$srcdir/sparsecopy-functions.sh"
requires_loop
requires qemu-img --version
requires qemu-io --version
requires python3 --version
requires jq --version
. "$srcdir/nbd-functions.sh"

scratch_mount tmpfs size=256M
dir=$scratch
MiB=$(( 1024 * 1024 ))
size=$(( 16 * MiB ))

# 16 MiB, 64 KiB clusters: data, zeros inside data, zero clusters, holes.
img=$dir/img.qcow2
qemu-img create -q -f qcow2 -o cluster_size=65536 "$img" 16M
qemu-io -f qcow2 \
    -c "write -P 0xab 0 1M" \
    -c "write -P 0 256k 64k" \
    -c "write -z 4M 1M" \
    -c "write -P 0x5c 8M 64k" \
    -c "write -P 0x11 12M 3M" "$img" >/dev/null
qemu-img convert -O raw "$img" "$dir/expected.raw"
map_data=$(qemu-img map --output=json "$img" |
               jq '[.[] | select(.data) | .length] | add')

# check_lines FILE PHASES: FILE's lines are JSON progress objects whose
# phases, in order, are PHASES (space-separated, each may repeat).
check_lines ()
{
    python3 - "$1" "$2" <<'EOF' || fail "progress lines: $(cat "$1")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sys.argv[2].split()
phases = [l["phase"] for l in lines]
order = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
assert order == want, (order, want)
keys = {"phase", "bytes_done", "bytes_total", "bytes_per_second",
        "elapsed", "eta"}
for l in lines:
    assert set(l) == keys, l
    assert l["bytes_done"] >= 0 and l["elapsed"] >= 0
last = {}
for l in lines:
    assert l["bytes_done"] >= last.get(l["phase"], 0), l
    last[l["phase"]] = l["bytes_done"]
for phase in want:
    end = [l for l in lines if l["phase"] == phase][-1]
    assert end["bytes_done"] == end["bytes_total"], end
EOF
}

# JSON lines on stderr, onto a new file: holes skipped, no zero phase.
rm -f "$dir/new"
"$SPARSECOPY" --progress=json "$img" "$dir/new" 2> "$dir/lines"
cmp "$dir/expected.raw" "$dir/new" || fail "new file: wrong content"
check_lines "$dir/lines" "probe copy"
[ "$(tail -n 1 "$dir/lines" | jq .bytes_done)" -eq $size ] ||
    fail "the last line is not the whole size: $(tail -n 1 "$dir/lines")"
echo "ok: --progress=json on stderr"

# On file descriptor 3, onto an existing file: zeroed up front, verified;
# stderr keeps only what people read (nothing here).
"$SPARSECOPY" --progress-fd=3 --verify "$img" "$dir/new" \
    3> "$dir/lines" 2> "$dir/err"
check_lines "$dir/lines" "probe zero copy verify"
[ ! -s "$dir/err" ] || fail "--progress-fd: stderr got $(cat "$dir/err")"
status=0
"$SPARSECOPY" --progress-fd=9 "$img" "$dir/new" 2> "$dir/err" || status=$?
[ $status -eq 1 ] || fail "--progress-fd of a closed descriptor: exit $status"
echo "ok: --progress-fd"

# holes_sum JSON: the holes' parts, added.
holes_sum ()
{
    jq '.holes | .skipped + .punched + .discarded + .zeroed + .written' "$1"
}

# check_accounting WHAT JSON [KEY]: data_written is the map's data, the
# holes are the rest and add up; KEY (a .holes key) got all the holes.
check_accounting ()
{
    local what=$1 json=$2 key=${3:-}
    [ "$(jq .data_written "$json")" -eq "$map_data" ] ||
        fail "$what: data_written $(jq .data_written "$json"), map $map_data"
    [ "$(jq .holes.bytes "$json")" -eq $(( size - map_data )) ] ||
        fail "$what: holes.bytes $(jq .holes.bytes "$json")"
    [ "$(holes_sum "$json")" -eq $(( size - map_data )) ] ||
        fail "$what: the holes' parts add up to $(holes_sum "$json")"
    if [ -n "$key" ]; then
        [ "$(jq ".holes.$key" "$json")" -eq $(( size - map_data )) ] ||
            fail "$what: holes.$key is $(jq ".holes.$key" "$json"): $(cat "$json")"
    fi
    jq -e '.method_reason | length > 0' "$json" >/dev/null ||
        fail "$what: no method_reason"
    jq -e '.probe.logical_block_size >= 1' "$json" >/dev/null ||
        fail "$what: no probe facts"
}

rm -f "$dir/new"
"$SPARSECOPY" --json -S 0 "$img" "$dir/new" > "$dir/json"
check_accounting "new file" "$dir/json" skipped
"$SPARSECOPY" --json -S 0 "$img" "$dir/new" > "$dir/json"
check_accounting "existing file" "$dir/json" punched
[ "$(jq -r .zeroed_first.method "$dir/json")" = punch ] ||
    fail "existing file: zeroed_first $(jq -c .zeroed_first "$dir/json")"
# Zero detection: the zero data block becomes a hole.
"$SPARSECOPY" --json "$img" "$dir/new" > "$dir/json"
[ $(( $(jq '.data_written + .zero_detected' "$dir/json") )) -eq "$map_data" ] ||
    fail "-S 4k: data_written + zero_detected is not the map's data"
[ "$(jq .zero_detected "$dir/json")" -eq 65536 ] ||
    fail "-S 4k: zero_detected $(jq .zero_detected "$dir/json")"
echo "ok: accounting onto a file"

# onto_loop KEY OPTIONS...: onto a fresh loop device over garbage.
onto_loop ()
{
    local key=$1
    shift
    garbage "$dir/back" $size
    loop_over "$dir/back"
    "$SPARSECOPY" --json -S 0 "$@" "$img" "$loop" > "$dir/json"
    cmp "$dir/expected.raw" "$loop" || fail "$*: wrong content"
    check_accounting "loop $*" "$dir/json" "$key"
    detach_loop "$loop" "$dir/back"
    rm -f "$dir/back"
}

onto_loop punched --holes=punch
onto_loop punched
onto_loop discarded --holes=discard --discard-zeroes
onto_loop zeroed --holes=zeroout
onto_loop written --holes=write
# A fresh sparse backing file reads zeros.
truncate -s $size "$dir/back.zero"
loop_over "$dir/back.zero"
"$SPARSECOPY" --json -S 0 --target-is-zero "$img" "$loop" > "$dir/json"
check_accounting "loop --target-is-zero" "$dir/json" skipped
echo "ok: accounting onto a loop device, each method"

# An NBD export over garbage, then one that answers every request slowly.
start_nbdkit dirty memory $size
garbage "$dir/garbage" $size
nbdcopy "$dir/garbage" "$uri"
"$SPARSECOPY" --json -S 0 "$img" "$uri" > "$dir/json"
check_accounting "NBD" "$dir/json" punched
export_bytes "$uri" "$dir/out.raw"
cmp "$dir/expected.raw" "$dir/out.raw" || fail "NBD: wrong content"
stop_server "$server"
echo "ok: accounting onto an NBD export"

# catches_usr1 PID: PID has its SIGUSR1 handler (a signal sent before the
# program's first instruction would kill it: nothing can catch it then).
catches_usr1 ()
{
    local mask
    mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status")
    (( (16#$mask >> 9) & 1 ))
}

# About 6 writes of up to 1 MiB, 0.3 s each.
start_nbdkit slow --filter=delay memory $size wdelay=300ms
"$SPARSECOPY" -j 1 --request-size 1M --progress=json "$img" "$uri" \
    2> "$dir/lines" &
pid=$!
cleanup_fn stop_server "$pid"
wait_for grep -q '"copy"' "$dir/lines"
before=$(grep -c . "$dir/lines")
kill -USR1 "$pid"
kill -USR1 "$pid"
wait "$pid" || fail "SIGUSR1: the copy failed: $(cat "$dir/lines")"
export_bytes "$uri" "$dir/out.raw"
cmp "$dir/expected.raw" "$dir/out.raw" || fail "SIGUSR1: wrong content"
check_lines "$dir/lines" "probe copy"
[ "$(grep -c . "$dir/lines")" -gt "$before" ] || fail "SIGUSR1: no line"
# Without --progress, SIGUSR1 is the only way to see a line.
"$SPARSECOPY" -j 1 --request-size 1M "$img" "$uri" 2> "$dir/err" &
pid=$!
cleanup_fn stop_server "$pid"
wait_for catches_usr1 "$pid"
kill -USR1 "$pid"
wait "$pid" || fail "SIGUSR1 without --progress: the copy failed"
grep -q '^{"phase": "\(probe\|zero\|copy\)"' "$dir/err" ||
    fail "SIGUSR1 without --progress: $(cat "$dir/err")"
stop_server "$server"
echo "ok: SIGUSR1 prints a line and the copy goes on"
