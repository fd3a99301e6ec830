#!/usr/bin/env bash
# test_install.sh BUILD_DIR — install a build into a temporary prefix, then
# build use_facto.c (pkg-config facto) and use_fetch.c (pkg-config facto-fetch)
# against the installed copy, linked three ways (below: shared, static,
# archive), and run them. Fails (never skips) when anything is missing or
# does not build or run.
# Environment (set by CMake): FACTO_TEST_CC, the compiler of the build;
# FACTO_TEST_CFLAGS, extra flags (the sanitizers in a sanitizer build);
# FACTO_TEST_CMAKE, the cmake to install with.
set -euo pipefail
build=$(cd "${1:?usage: test_install.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cc=${FACTO_TEST_CC:-cc}
read -r -a extra <<<"${FACTO_TEST_CFLAGS:-}"
cmake=${FACTO_TEST_CMAKE:-cmake}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/facto-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v pkg-config >/dev/null || fail "pkg-config is not installed"
command -v "$cc" >/dev/null || fail "no compiler $cc"

prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log" >&2
    fail "cmake --install $build --prefix $prefix"
}
pc=$(find "$prefix" -path '*/pkgconfig/facto.pc')
[ -n "$pc" ] || fail "no facto.pc under $prefix"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
for f in "$prefix/include/facto.h" "$prefix/bin/facto" "$pcdir/facto-fetch.pc" \
         "$libdir/libfacto.a" "$libdir/libfacto.so" "$libdir/libfacto_fetch.a" "$libdir/libfacto_fetch.so"; do
    [ -e "$f" ] || fail "not installed: ${f#"$tmp"/}"
done
"$prefix/bin/facto" --version >/dev/null || fail "the installed facto does not run"

export PKG_CONFIG_PATH=$pcdir
[ "$(pkg-config --variable=prefix facto)" = "$prefix" ] || fail "facto.pc: prefix is not $prefix"
[ "$(pkg-config --modversion facto)" = "$(pkg-config --modversion facto-fetch)" ] || fail "facto.pc and facto-fetch.pc versions differ"

# build_run MODE PROGRAM MODULE. MODE: shared = `cc prog.c $(pkg-config
# --cflags --libs MODULE)`; static = the same with --static (the linker still
# takes libfacto*.so when it sits beside libfacto*.a); archive = --static with
# -lfacto* replaced by -l:libfacto*.a, so the archives themselves are linked
# and Libs.private / Requires.private must name all they need.
build_run() {
    local mode=$1 prog=$2 module=$3 words=() w flags exe=$tmp/$2-$1
    if [ "$mode" = shared ]; then
        flags=$(pkg-config --cflags --libs "$module") || fail "pkg-config --cflags --libs $module"
    else
        flags=$(pkg-config --static --cflags --libs "$module") || fail "pkg-config --static --cflags --libs $module"
    fi
    for w in $flags; do
        if [ "$mode" = archive ]; then
            case $w in -lfacto | -lfacto_fetch) w=-l:lib${w#-l}.a ;; esac
        fi
        words+=("$w")
    done
    "$cc" -std=c11 -Wall -Wextra -Werror "${extra[@]}" -o "$exe" "$here/$prog.c" "${words[@]}" 2>"$tmp/cc.log" || {
        cat "$tmp/cc.log" >&2
        fail "$prog ($mode) does not build: $cc $here/$prog.c ${words[*]}"
    }
    # shared and static load the installed libfacto.so, archive none.
    local loaded
    loaded=$(LD_LIBRARY_PATH=$libdir ldd "$exe" | grep -o 'libfacto[^ ]* => [^ ]*' || true)
    if [ "$mode" = archive ]; then
        [ -z "$loaded" ] || fail "$prog ($mode) loads $loaded"
    else
        grep -q "^libfacto[.]so[.][0-9]* => $libdir/" <<<"$loaded" || fail "$prog ($mode) does not load $libdir/libfacto.so: $loaded"
        if [ "$module" = facto-fetch ]; then
            grep -q "^libfacto_fetch[.]so[.][0-9]* => $libdir/" <<<"$loaded" ||
                fail "$prog ($mode) does not load $libdir/libfacto_fetch.so: $loaded"
        fi
    fi
    mkdir -p "$tmp/run-$prog-$mode"
    echo "$mode: $prog.c built with: ${words[*]}"
    LD_LIBRARY_PATH=$libdir "$exe" "$tmp/run-$prog-$mode" || fail "$prog ($mode) failed"
}

mkdir -p "$tmp/mirror" "$tmp/home"
export FACTO_DATA_HOME=$tmp/home FACTO_DATASETS_URL=file://$tmp/mirror
for mode in shared static archive; do
    build_run "$mode" use_facto facto
    build_run "$mode" use_fetch facto-fetch
done
# The library example of docs/library.md, as printed there, builds against the
# installed copy and runs on a small synthetic u1.base / u1.test.
src=$(cd "$here/../.." && pwd)
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$src/docs/library.md" >"$tmp/readme_example.c"
grep -q facto_model_fit "$tmp/readme_example.c" || fail "docs/library.md: no C example found"
mkdir -p "$tmp/readme"
awk 'BEGIN { for (u = 1; u <= 40; u++) for (i = 1; i <= 30; i++) if ((u * 7 + i * 3) % 5 < 2)
             printf "%d\t%d\t%d\t%d\n", u, i, 1 + (u + i) % 5, 880000000 + u * 100 + i }' >"$tmp/readme/all"
awk 'NR % 5 != 0' "$tmp/readme/all" >"$tmp/readme/u1.base"
awk 'NR % 5 == 0' "$tmp/readme/all" >"$tmp/readme/u1.test"
"$cc" -std=c11 -Wall -Wextra -Werror "${extra[@]}" -o "$tmp/readme_example" "$tmp/readme_example.c" \
    $(pkg-config --cflags --libs facto) 2>"$tmp/cc.log" || { cat "$tmp/cc.log" >&2; fail "docs/library.md's example does not build"; }
out=$(cd "$tmp/readme" && LD_LIBRARY_PATH=$libdir "$tmp/readme_example") || fail "docs/library.md's example failed: $out"
grep -q "^test RMSE [0-9.]*; best item for user 1: [0-9]*$" <<<"$out" || fail "docs/library.md's example printed: $out"
echo "README example: $out"
echo "ok: installed into a temporary prefix; use_facto, use_fetch (shared, static, archives) and docs/library.md's example built through pkg-config and ran"
