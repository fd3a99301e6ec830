# lib.bash — helpers sourced by the CLI shell tests (tests/cli/test_*.sh; this
# file is not named *.sh so ctest does not run it on its own).
# Gives: $F (the facto binary), $TMP (a scratch folder removed on exit),
# fail MSG, expect_rc WANT CMD... (stderr kept in $TMP/err, stdout in $TMP/out),
# json_num FIELD FILE (a number field from one-line JSON), need_ml100k (below).
F=${FACTO_BIN:?FACTO_BIN must point at the facto binary}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/facto-cli-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {
    local want=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || { cat "$TMP/err" >&2; fail "exit $rc, want $want: $*"; }
}
expect_err() { grep -qF -- "$1" "$TMP/err" || { cat "$TMP/err" >&2; fail "stderr lacks '$1'"; }; }
json_num() { grep -o "\"$1\": *[-0-9.eE+]*" "$2" | head -n1 | sed 's/.*: *//'; }
# need_ml100k: sets $ML to FACTO_DATA_HOME/ml-100k, or exits 77 (ctest: Skipped)
# without it; with FACTO_REQUIRE_DATA set (and not 0), as CI does, fails instead.
need_ml100k() {
    ML="${FACTO_DATA_HOME:-}/ml-100k"
    if [ -z "${FACTO_DATA_HOME:-}" ] || [ ! -f "$ML/u1.base" ]; then
        if [ -n "${FACTO_REQUIRE_DATA:-}" ] && [ "${FACTO_REQUIRE_DATA}" != 0 ]; then
            fail "FACTO_REQUIRE_DATA is set and FACTO_DATA_HOME (${FACTO_DATA_HOME:-unset}) has no ml-100k"
        fi
        echo "skip: FACTO_DATA_HOME has no ml-100k" >&2
        exit 77
    fi
}
# tiny_ratings FILE: 6 users x 5 items, every pair rated (u + i) % 5 + 1,
# tab-separated "user item rating" lines.
tiny_ratings() {
    local u i
    for u in 1 2 3 4 5 6; do
        for i in 1 2 3 4 5; do printf '%s\t%s\t%s\n' "$u" "$i" $(((u + i) % 5 + 1)); done
    done >"$1"
}
