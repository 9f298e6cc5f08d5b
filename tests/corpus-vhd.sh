# VHD cases beyond make-corpus.sh's: differencing disks and every creator
# application qemu 7.2 sizes by name.  Sourced by make-corpus.sh (in
# images/, with its helpers).

# ---- differencing disks ---------------------------------------------------

# qemu 7.2 reads a differencing disk as a dynamic one, without its parent
# (its vpc driver has no backing files): the parent's data must not show,
# whatever the locators name.  The parent has data everywhere the child
# has none.
stamp vhd-parent.src $((10 * MiB)) 0:$((10 * MiB))
qemu-img convert -f raw -O vpc vhd-parent.src vhd-parent.vhd
rm -f vhd-parent.src
# vhd_child NAME LOCATOR...: a child of vhd-parent.vhd, written in its
# first and third blocks, then made differencing with LOCATORs.
vhd_child ()
{
    local name=$1
    shift
    qemu-img create -q -f vpc "$name" $((10 * MiB))
    io_as vpc "$name" "write -P 0xd1 $((100 * KiB)) 5000" \
       "write -P 0xd2 $((4 * MiB + 4096)) $((64 * KiB))"
    vhd_differencing "$name" vhd-parent.vhd "$@"
    entry "$name"
}
# As Hyper-V names a parent: relative (W2ru) and absolute (W2ku).
vhd_child vhd-diff.vhd 'W2ru:.\vhd-parent.vhd' "W2ku:$PWD/vhd-parent.vhd"
# Mac locators (a file URL, and an alias record qemu never decodes).
vhd_child vhd-diff-mac.vhd "MacX:file://$PWD/vhd-parent.vhd" 'Mac :vhd-parent.vhd'
# Locators naming a host file: never opened.
vhd_child vhd-diff-etc-passwd.vhd 'W2ku:/etc/passwd' 'W2ru:..\..\etc\passwd'
# No locator at all.
vhd_child vhd-diff-no-locator.vhd

# ---- size by creator application --------------------------------------------

# vhd_creator NAME APP CURRENT-SIZE: a dynamic disk of about 10 MiB by its
# geometry (12 MiB of blocks), written near its end, whose footer names
# APP and CURRENT-SIZE: qemu takes the geometry for "vpc ", "qemu" and
# any unknown application, current_size for "win ", "qem2", "d2v ",
# "tap\0" and "CTXS".
vhd_creator ()
{
    qemu-img create -q -f vpc "$1" $((10 * MiB))
    io_as vpc "$1" "write -P 0xd3 $((9 * MiB)) 4096" \
       "write -P 0xd4 $((10 * MiB - 4096)) 4096"
    vhd_footer "$1" "$2" "$3"
    entry "$1"
}
vhd_creator vhd-creator-vpc.vhd "vpc " $((9 * MiB + 2048))
vhd_creator vhd-creator-unknown.vhd "abcd" $((9 * MiB + 2048))
vhd_creator vhd-creator-d2v.vhd "d2v " $((9 * MiB + 2048))
vhd_creator vhd-creator-tap.vhd "tap" $((11 * MiB + 512))
vhd_creator vhd-creator-ctxs.vhd "CTXS" $((9 * MiB + 2048))
# "tap" with a blank in place of its NUL is unknown: sized by geometry.
vhd_creator vhd-creator-tap-blank.vhd "tap " $((9 * MiB + 2048))

# The largest geometry (65535/16/255) means current_size whatever the
# creator: qemu writes it for any disk past 127 GiB.
qemu-img create -q -f vpc vhd-max-geometry.vhd $((200 * GiB))
io_as vpc vhd-max-geometry.vhd "write -P 0xd5 $((200 * GiB - 4096)) 4096"
entry vhd-max-geometry.vhd

# A fixed disk from Hyper-V: sized by current_size, here 1 MiB past its
# data (and its footer).
qemu-img create -q -f vpc -o subformat=fixed vhd-fixed-win.vhd $((4 * MiB))
io_as vpc vhd-fixed-win.vhd "write -P 0xd6 $((4 * MiB - 4096)) 4096"
vhd_footer vhd-fixed-win.vhd "win " $((5 * MiB))
echo "vhd-fixed-win.vhd vpc" >> QEMU-FORMATS
entry vhd-fixed-win.vhd
