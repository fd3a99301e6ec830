# serve.bash — helpers for the CLI tests that drive `facto serve` over HTTP
# (sourced after lib.bash; not named *.sh, so ctest does not run it alone).
# Gives: start ARGS... (serve on an ephemeral port of 127.0.0.1, $SRV its pid,
# $PORT, $U its base URL), stop (SIGTERM, which must end it with exit 0) and
# req WANT CURL-ARGS... (the status must be WANT; the body lands in $TMP/body).
# A server still running when the test exits is killed.
SRV=
trap '[ -n "$SRV" ] && kill -9 $SRV 2>/dev/null; rm -rf "$TMP"' EXIT

start() {
    "$F" serve --port 0 "$@" >"$TMP/srv.out" 2>"$TMP/srv.err" &
    SRV=$!
    for _ in $(seq 200); do
        grep -q '^listening on' "$TMP/srv.out" && break
        kill -0 $SRV 2>/dev/null || { cat "$TMP/srv.err" >&2; fail "serve $* exited before listening"; }
        sleep 0.05
    done
    PORT=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$TMP/srv.out")
    [ -n "$PORT" ] || { cat "$TMP/srv.out" "$TMP/srv.err" >&2; fail "no address printed"; }
    U=http://127.0.0.1:$PORT
}
stop() {
    kill -TERM $SRV
    wait $SRV
    local rc=$?
    SRV=
    [ $rc -eq 0 ] || { cat "$TMP/srv.err" >&2; fail "serve exited $rc after SIGTERM"; }
}
req() {
    local want=$1 code
    shift
    code=$(curl -sS -o "$TMP/body" -w '%{http_code}' "$@") || fail "curl failed: $*"
    [ "$code" = "$want" ] || { cat "$TMP/body" >&2; fail "status $code, want $want: $*"; }
}
