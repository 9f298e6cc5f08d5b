# Images whose backing or data file lies outside their folder, named in
# every spelling qemu would follow, for the tests of both programs.  Sourced
# after functions.sh.
#
# hostile_images DIR: fill DIR/images with good.qcow2 (a healthy image,
# 1 MiB of 0x5a at offset 0) and the hostile images below, all 1 MiB; the
# files they name lie in DIR/outside.  Sets $hostile (the images' names)
# and $hostile_reason (image name -> the engine's refusal message, without
# the image's path in front).
hostile_images ()
{
    local images=$1/images outside=$1/outside MiB=$((1024 * 1024)) at
    mkdir -p "$images" "$outside"
    outside=$(realpath "$outside")
    qemu-img create -q -f qcow2 "$outside/base.qcow2" $MiB
    qemu-io -f qcow2 -c "write -P 0x66 0 64k" "$outside/base.qcow2" >/dev/null
    head -c $MiB /dev/zero | tr '\0' 'x' > "$outside/base.raw"
    head -c $MiB /dev/zero | tr '\0' 'y' > "$outside/data.raw"
    ln -s ../outside/base.raw "$images/link.raw"      # a raw file: not shown

    qemu-img create -q -f qcow2 "$images/good.qcow2" $MiB
    qemu-io -f qcow2 -c "write -P 0x5a 0 1M" "$images/good.qcow2" >/dev/null

    declare -gA hostile_reason=()
    hostile=()
    local outside_of="outside the image's folder $(realpath "$images") (allow its folder explicitly with --allow-dir)"
    local never="protocol and json: names are never followed"
    _hostile_overlay backing-absolute.qcow2 "$outside/base.qcow2" qcow2 \
        "it resolves to $outside/base.qcow2, $outside_of"
    _hostile_overlay backing-dotdot.qcow2 ../outside/base.qcow2 qcow2 \
        "it resolves to $outside/base.qcow2, $outside_of"
    _hostile_overlay backing-symlink.qcow2 link.raw raw \
        "it resolves to $outside/base.raw, $outside_of"
    _hostile_overlay backing-etc-passwd.qcow2 /etc/passwd raw \
        "it resolves to /etc/passwd, $outside_of"
    _hostile_overlay backing-json.qcow2 \
        'json:{"file":{"driver":"file","filename":"/etc/passwd"}}' raw "$never"
    _hostile_overlay backing-file-protocol.qcow2 file:/etc/passwd raw "$never"
    _hostile_overlay backing-nbd.qcow2 nbd://127.0.0.1:1/x raw "$never"

    (cd "$images" &&
     qemu-img create -q -f qcow2 -o data_file=../outside/data.raw data-dotdot.qcow2 $MiB)
    hostile+=(data-dotdot.qcow2)
    hostile_reason[data-dotdot.qcow2]="data file \"../outside/data.raw\" is refused: it resolves to $outside/data.raw, $outside_of"
    # Patched in: qemu-img create would truncate the file it names.
    (cd "$images" &&
     qemu-img create -q -f qcow2 -o data_file=placeholder data-etc-passwd.qcow2 $MiB &&
     rm placeholder)
    at=$(grep -obUa placeholder "$images/data-etc-passwd.qcow2" | cut -d: -f1)
    printf '/etc/passwd' |
        dd of="$images/data-etc-passwd.qcow2" bs=1 seek="$at" conv=notrunc status=none
    hostile+=(data-etc-passwd.qcow2)
    hostile_reason[data-etc-passwd.qcow2]="data file \"/etc/passwd\" is refused: it resolves to /etc/passwd, $outside_of"
}

# _hostile_overlay NAME BACKING FORMAT WHY: an overlay of BACKING, refused.
_hostile_overlay ()
{
    (cd "$images" && qemu-img create -q -f qcow2 -u -b "$2" -F "$3" "$1" $MiB)
    hostile+=("$1")
    hostile_reason[$1]="backing file \"$2\" is refused: $4"
}
