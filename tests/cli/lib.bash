# lib.bash — helpers sourced by the CLI shell tests (tests/cli/test_*.sh; this
# file is not named *.sh so ctest does not run it on its own).
# Gives: $F (the facto binary), $TMP (a scratch folder removed on exit),
# fail MSG, expect_rc WANT CMD... (stderr kept in $TMP/err, stdout in $TMP/out),
# json_num FIELD FILE (a number field from one-line JSON), need_ml100k.
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
need_ml100k() {
    ML="${FACTO_DATA_HOME:-}/ml-100k"
    if [ -z "${FACTO_DATA_HOME:-}" ] || [ ! -f "$ML/u1.base" ]; then
        echo "skip: FACTO_DATA_HOME has no ml-100k" >&2
        exit 77
    fi
}
