#!/bin/bash
# configure without cmocka: the unit tests must not vanish silently.  It
# fails, naming cmocka and --disable-unit-tests, unless given that option.
# cmocka is hidden by a pkg-config search path holding every other .pc file;
# configure runs with --no-create on a copy of what it reads (running it in
# the source tree would overwrite the build's config.log).
. "$srcdir/functions.sh"
requires pkg-config --version
pkg-config --exists cmocka || fail "cmocka is not installed: the unit tests could not run"

tmp=$(make_tmpdir)
mkdir "$tmp/pc" "$tmp/tree" "$tmp/tree/src" "$tmp/tree/src/engine"
IFS=: read -r -a pc_path <<< "$(pkg-config --variable pc_path pkg-config)"
for dir in "${pc_path[@]}" ${PKG_CONFIG_PATH:+${PKG_CONFIG_PATH//:/ }}; do
    for pc in "$dir"/*.pc; do
        [ -e "$pc" ] && [ "$(basename "$pc")" != cmocka.pc ] &&
            ln -sf "$pc" "$tmp/pc/"
    done
done
cp "$top_srcdir/configure" "$tmp/tree/"
cp -r "$top_srcdir/build-aux" "$tmp/tree/"
cp "$top_srcdir/src/engine/image.h" "$tmp/tree/src/engine/"

# configure_without_cmocka [OPTIONS...]: exit status of configure there.
configure_without_cmocka ()
{
    (cd "$tmp/tree" && env -u PKG_CONFIG_PATH -u CMOCKA_CFLAGS -u CMOCKA_LIBS \
         PKG_CONFIG_LIBDIR="$tmp/pc" ./configure --no-create "$@") > "$tmp/out" 2>&1
}

! configure_without_cmocka || fail "configure succeeded without cmocka"
grep -q "cmocka" "$tmp/out" && grep -q -- "--disable-unit-tests" "$tmp/out" ||
    fail "configure without cmocka does not say why or what to do: $(tail -n 5 "$tmp/out")"
echo "ok: configure fails without cmocka"

configure_without_cmocka --disable-unit-tests ||
    fail "configure --disable-unit-tests failed: $(tail -n 5 "$tmp/out")"
grep -q "unit tests.*no" "$tmp/out" || fail "the summary does not say the unit tests are off"
echo "ok: --disable-unit-tests builds without them"
