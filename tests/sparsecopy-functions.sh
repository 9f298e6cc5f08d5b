# Helpers of the sparsecopy tests, sourced after functions.sh.
#
# Helpers that register a cleanup set a variable instead of printing: run
# inside $(...), cleanup_fn would register in the subshell and be lost.

# scratch_mount TYPE [OPTIONS]: mount a fresh TYPE file system (tmpfs,
# ramfs) on a fresh folder, unmounted when the test exits, in $scratch.
# Backing files live on tmpfs so that allocated_bytes measures exactly what
# the loop device kept.
scratch_mount ()
{
    scratch=$(make_tmpdir)
    mount -t "$1" ${2:+-o "$2"} "sparsecopy-$1" "$scratch"
    cleanup_fn unmount_if_mounted "$scratch"
}

# unmount_if_mounted DIR: lazily unmount DIR unless a test already did.
unmount_if_mounted ()
{
    if mountpoint -q "$1"; then
        umount -l "$1"
    fi
}

# garbage FILE SIZE: FILE filled with SIZE random bytes (fully allocated).
garbage ()
{
    head -c "$2" /dev/urandom > "$1"
}

# loop_over FILE [LOSETUP OPTIONS...]: a loop device over FILE, detached
# when the test exits (or by detach_loop), in $loop.
loop_over ()
{
    local file=$1
    shift
    loop=$(losetup -f --show "$@" "$file")
    cleanup_fn detach_loop "$loop" "$file"
}

# detach_loop DEV FILE: detach DEV if it is still the loop device over FILE.
detach_loop ()
{
    if losetup -n -O BACK-FILE "$1" 2>/dev/null | grep -qF "$2"; then
        losetup -d "$1"
    fi
}

# same_range FILE1 FILE2 OFFSET LENGTH: the byte ranges are equal.
same_range ()
{
    cmp -s <(tail -c +$(( $3 + 1 )) "$1" | head -c "$4") \
           <(tail -c +$(( $3 + 1 )) "$2" | head -c "$4")
}

# image_size NAME: the size of the corpus image's raw view.
image_size ()
{
    stat -c %s "$corpus/expected/$1.raw"
}

# check_on_loop NAME TARGET BACKING TAIL: TARGET (a loop device over
# BACKING, whose bytes past the image were saved in TAIL) holds corpus
# image NAME (see check_raw_on_loop).
check_on_loop ()
{
    check_raw_on_loop "$corpus/expected/$1.raw" "$2" "$3" "$4" "$1"
}

# check_raw_on_loop RAW TARGET BACKING TAIL WHAT: TARGET holds RAW
# (qemu-img's output of image WHAT):
#  - its first bytes equal RAW,
#  - nothing past the image changed,
#  - BACKING stayed thin: it holds about the image's data (what qemu-img
#    allocated for it), the tail and a little rounding, not the image size.
check_raw_on_loop ()
{
    local raw=$1 target=$2 backing=$3 tail=$4 name=$5 size slack
    size=$(stat -c %s "$raw")
    cmp -n "$size" "$raw" "$target" ||
        fail "$name: the target differs from qemu-img's output"
    cmp <(tail -c +$(( size + 1 )) "$backing") "$tail" ||
        fail "$name: bytes past the image changed"
    slack=$(( 128 * 1024 ))
    [ "$(allocated_bytes "$backing")" -le \
      $(( $(allocated_bytes "$raw") + $(stat -c %s "$tail") + slack )) ] ||
        fail "$name: backing file holds $(allocated_bytes "$backing") bytes," \
             "qemu-img's output $(allocated_bytes "$raw")"
}

# prepare_loop NAME DIR [LOSETUP OPTIONS...]: a loop device over a garbage
# file in DIR one MiB larger than corpus image NAME (see
# prepare_raw_loop).
prepare_loop ()
{
    local name=$1 dir=$2
    shift 2
    prepare_raw_loop "$corpus/expected/$name.raw" "$dir/$name" "$@"
}

# prepare_raw_loop RAW BASE [LOSETUP OPTIONS...]: a loop device over a
# garbage file BASE.back one MiB larger than RAW; sets $target, $backing,
# $tail (BASE.tail, a copy of the garbage past the image).
prepare_raw_loop ()
{
    local raw=$1 base=$2 size
    shift 2
    size=$(stat -c %s "$raw")
    backing=$base.back
    tail=$base.tail
    garbage "$backing" $(( size + 1024 * 1024 ))
    tail -c +$(( size + 1 )) "$backing" > "$tail"
    loop_over "$backing" "$@"
    target=$loop
}

# json_field FILE FIELD: a field of sparsecopy's --json summary (jq path).
json_field ()
{
    jq -r "$2" "$1"
}

# move_l2_to_end IMAGE [L1_INDEX]: copy the L2 table of L1 entry L1_INDEX
# (default 0) to the end of IMAGE (64 KiB clusters) and point the L1 entry
# there, so that the data come before the table that maps them; the old
# copy is zeroed.  The image still reads the same (qemu-img check would
# find leaked clusters).
move_l2_to_end ()
{
    local image=$1 i=${2:-0} edit="python3 $srcdir/qcow2-edit.py" l2 end
    l2=$($edit "$image" --get "l1[$i] & 0x00fffffffffffe00")
    end=$(stat -c %s "$image")
    dd if="$image" of="$image" bs=65536 skip=$(( l2 / 65536 )) \
       seek=$(( end / 65536 )) count=1 conv=notrunc status=none
    $edit "$image" "l1[$i]=(l1[$i] & ~0x00fffffffffffe00) | $end"
    $edit "$image" "u64[$l2]=0"
    [ "$($edit "$image" --get "l1[$i] & 0x00fffffffffffe00")" -eq "$end" ] ||
        fail "the L2 table did not move past the data"
}

# scattered_image IMAGE SIZE COUNT [LATE]: a qcow2 image of SIZE bytes
# (64 KiB clusters) with COUNT clusters of data spread evenly over it;
# with LATE bytes, a run of that much data first, whose L2 table is then
# moved past everything (move_l2_to_end): data that need the stream
# buffer.
scattered_image ()
{
    local image=$1 size=$2 count=$3 late=${4:-0} i step
    qemu-img create -q -f qcow2 "$image" "$size"
    step=$(( size / count / 65536 * 65536 ))
    {
        [ "$late" -eq 0 ] || echo "write -P 0x5a 0 $late"
        for (( i = 1; i < count; i++ )); do
            echo "write -P $(( i % 255 + 1 )) $(( i * step )) 65536"
        done
    } | qemu-io -f qcow2 "$image" >/dev/null
    [ "$late" -eq 0 ] || move_l2_to_end "$image"
}

# late_l2_image IMAGE RAW: a 64 MiB image of 5 MiB of data and a zeroed
# MiB, its L2 table moved past them (move_l2_to_end); RAW: qemu-img's
# output, taken before the move and checked after it.
late_l2_image ()
{
    local image=$1 raw=$2
    qemu-img create -q -f qcow2 "$image" 64M
    qemu-io -f qcow2 -c "write -P 0x5a 0 3M" -c "write -z 4M 1M" \
        -c "write -P 0xa5 9M 2M" "$image" >/dev/null
    qemu-img convert -O raw "$image" "$raw"
    move_l2_to_end "$image"
    qemu-img convert -O raw "$image" "$raw.moved"
    cmp "$raw" "$raw.moved" || fail "moving the L2 table changed the image"
    rm -f "$raw.moved"
}

# ---- web servers on 127.0.0.1, for the stream tests -------------------------

# start_server NAME ARGS...: http-server.py serving $www (its port file
# and log $dir/NAME.*), stopped when the test exits; sets $port.
start_server ()
{
    local name=$1
    shift
    python3 "$srcdir/http-server.py" "$www" "$dir/$name.port" "$@" \
        2> "$dir/$name.log" &
    cleanup_fn kill $!
    wait_for test -s "$dir/$name.port"
    port=$(cat "$dir/$name.port")
}

# start_nginx: nginx serving $www with Range support (serve-nginx.sh, its
# files in $dir/nginx), stopped when the test exits; sets $port.
start_nginx ()
{
    port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    bash "$srcdir/serve-nginx.sh" "$www" "$dir/nginx" "$port" &
    cleanup_fn kill $!
    wait_for curl -s -o /dev/null "http://127.0.0.1:$port/"
}
