#!/usr/bin/env bash
# test_serve.sh — `facto serve` over real HTTP (curl) on 127.0.0.1, port 0
# (the server picks a free one and prints it): every route, answers equal
# to the CLI's for the same model (predict, recommend, similar, SageMaker
# bodies in JSON, JSON Lines and recordIO), every bad input with its 4xx
# status and {"error", "detail"} body, the API key, hot reload by SIGHUP
# and POST /admin/reload (a bad file refused, the old model serving on;
# reloads under load lose no request), SIGTERM with a request in flight
# (answered, exit 0), a stalled client (closed after --timeout while
# others are served), SageMaker's environment (SAGEMAKER_BIND_TO_PORT,
# the model folder). Small inline data first; ml-100k (titles, MF at its
# defaults) at the end when FACTO_DATA_HOME has it.
set -u
. "$(dirname "$0")/lib.bash"
command -v curl >/dev/null || fail "curl is not installed (scripts/setup-deps)"
G="${FACTO_SOURCE_DIR:?}/tests/golden"
. "$(dirname "$0")/serve.bash"
# err WANT CODE CURL-ARGS...: an error answer {"error": CODE, "detail": ...}.
err() {
    local want=$1 code=$2
    shift 2
    req "$want" "$@"
    grep -q "^{\"error\": \"$code\", \"detail\": \"[^\"]" "$TMP/body" || fail "error body for $*: $(cat "$TMP/body")"
}
ids() { grep -o '"item": "[^"]*"' "$1" | sed 's/.*: "//; s/"$//' | tr '\n' ' '; }
JSON=(-H 'Content-Type: application/json')

# ---- models: mf and ease on generated ratings, an fm on feature rows ----------
awk 'BEGIN { srand(5); for (u = 1; u <= 50; u++) for (r = 0; r < 15; r++) {
      i = 1 + int(rand() * rand() * 60); printf "%d\t%d\t%d\n", u, i, 1 + (u + i) % 5 } }' >"$TMP/r.tsv"
MF="$TMP/mf.facto"
EASE="$TMP/ease.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --factors 8 --epochs 5 --out "$MF"
expect_rc 0 "$F" train --model ease --train "$TMP/r.tsv" --implicit-threshold 1 --out "$EASE"
awk 'BEGIN { srand(7); split("0 26 182 232 243 431", k, " ");
             for (r = 0; r < 200; r++) { s = 0; line = "";
               for (j = 1; j <= 6; j++) if (rand() < 0.6) { line = line " " k[j] ":1"; s += k[j] }
               print (s % 2) line } }' >"$TMP/small.svm"
FM="$TMP/fm.facto"
expect_rc 0 "$F" train --model fm --train "$TMP/small.svm" --feature_dim 2000 --num_factors 4 \
    --predictor_type binary_classifier --epochs 3 --out "$FM"

# ---- mf: /ping, pairs, top-N, similar, metrics ---------------------------------
start --model "$MF" --threads 2
req 200 "$U/ping"
# a port in use is said first, in facto's words, before any model is read (the model
# here does not exist: the port's error, not the model's, shows that the bind came first)
expect_rc 2 "$F" serve --model "$TMP/none.facto" --port "$PORT"
expect_err "cannot listen on 127.0.0.1 port $PORT: Address already in use (another program holds the port"
[ "$(cat "$TMP/body")" = '{"status": "ok"}' ] || fail "ping body: $(cat "$TMP/body")"
# pairs: the scores of `facto predict`; an unknown user is flagged
printf '1\t5\n7\t12\nnobody\t5\n' >"$TMP/pairs.txt"
expect_rc 0 "$F" predict --model "$MF" --input "$TMP/pairs.txt"
want=$(cut -f3 "$TMP/out" | tr '\n' ' ')
req 200 "${JSON[@]}" -d '{"instances": [{"user": "1", "item": "5"}, {"user": 7, "item": "12"}, {"user": "nobody", "item": "5"}]}' "$U/invocations"
got=$(grep -o '"score": [-0-9.e]*' "$TMP/body" | sed 's/.*: //' | tr '\n' ' ')
for x in 1 2 3; do
    a=$(echo "$want" | cut -d' ' -f$x) b=$(echo "$got" | cut -d' ' -f$x)
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(a - b < 1e-4 && b - a < 1e-4) }' || fail "pair $x: server $b, predict $a"
done
grep -q '{"score": [-0-9.e]*, "unknown_user": true}]}' "$TMP/body" || fail "unknown user not flagged: $(cat "$TMP/body")"
# JSON Lines in, JSON Lines out
req 200 -H 'Content-Type: application/jsonlines' --data-binary $'{"user": "1", "item": "5"}\n\n{"user": "7", "item": "12"}\n' "$U/invocations"
[ "$(wc -l <"$TMP/body")" -eq 2 ] || fail "jsonlines answer: $(cat "$TMP/body")"
grep -q '^{"score": ' "$TMP/body" || fail "jsonlines answer: $(cat "$TMP/body")"
# top-N: the CLI's list
expect_rc 0 "$F" recommend --model "$MF" --user 3 -k 5 --json
req 200 "$U/recommendations?user=3&k=5"
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "recommendations: $(cat "$TMP/body") vs $(cat "$TMP/out")"
grep -q '"request_id": "[0-9a-f]*-[0-9]*"' "$TMP/body" || fail "no request_id: $(cat "$TMP/body")"
grep -q '"unknown_user": false' "$TMP/body" || fail "known user flagged"
expect_rc 0 "$F" recommend --model "$MF" --user 3 -k 5 --include-seen --json
req 200 "$U/recommendations?user=3&k=5&include_seen=1"
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "include_seen"
req 200 "${JSON[@]}" -d '{"user": 3, "k": 5}' "$U/recommendations"
expect_rc 0 "$F" recommend --model "$MF" --user 3 -k 5 --json
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "POST user"
# unknown user: the model's fallback, flagged
req 200 "$U/recommendations?user=stranger&k=4"
grep -q '"unknown_user": true' "$TMP/body" || fail "unknown user: $(cat "$TMP/body")"
[ "$(grep -o '"item":' "$TMP/body" | wc -l)" -eq 4 ] || fail "unknown user: 4 items wanted"
# mf cannot fold a history in: 400 with the library's reason
err 400 bad_request "${JSON[@]}" -d '{"history": ["1", "2"]}' "$U/recommendations"
expect_rc 0 "$F" similar --model "$MF" --item 5 -k 6 --json
req 200 "$U/similar-items?item=5&k=6"
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "similar-items"
err 404 unknown_item "$U/similar-items?item=nope"

# ---- bad input: each its status and an error body -----------------------------
err 400 malformed_json "${JSON[@]}" -d '{"instances": [' "$U/invocations"
err 400 bad_instance "${JSON[@]}" -d '{"instances": [{"user": [1], "item": "5"}]}' "$U/invocations"
err 400 bad_instance "${JSON[@]}" -d '{"instances": [{"features": [1, 0]}]}' "$U/invocations"
err 400 bad_request "${JSON[@]}" -d '{"instances": 3}' "$U/invocations"
err 400 no_instances "${JSON[@]}" -d '{"instances": []}' "$U/invocations"
err 415 unsupported_media_type -H 'Content-Type: text/csv' -d '1,5' "$U/invocations"
err 415 unsupported_media_type -H 'Content-Type:' -d '{}' "$U/invocations"
err 406 not_acceptable "${JSON[@]}" -H 'Accept: text/html' -d '{"instances": [{"user": "1", "item": "5"}]}' "$U/invocations"
err 404 not_found "$U/nowhere"
err 405 method_not_allowed "$U/invocations"
err 405 method_not_allowed -X DELETE "$U/ping"
err 400 bad_k "$U/recommendations?user=3&k=0"
err 400 bad_k "$U/recommendations?user=3&k=abc"
err 400 bad_k "$U/recommendations?user=3&k=1001"
err 400 missing_user "$U/recommendations"
err 400 bad_include_seen "$U/recommendations?user=3&include_seen=maybe"
err 400 bad_id "$U/recommendations?user=%FF%FE"
err 400 bad_id "$U/similar-items?item=%C0%80"
printf '{"user": "\xff\xfe"}' >"$TMP/bad_utf8.json"
err 400 malformed_json "${JSON[@]}" --data-binary @"$TMP/bad_utf8.json" "$U/recommendations"
err 400 bad_request "${JSON[@]}" -d '{"user": "3", "history": ["1"]}' "$U/recommendations"
err 400 bad_user "${JSON[@]}" -d '{"user": {"id": 3}}' "$U/recommendations"
err 400 bad_history "${JSON[@]}" -d '{"history": "1,2"}' "$U/recommendations"
err 400 bad_k "${JSON[@]}" -d '{"user": "3", "k": "ten"}' "$U/recommendations"
# A bad %-escape was taken as literal text (user '%zz' served as unknown).
err 400 bad_request "$U/recommendations?user=%zz"
err 400 bad_request "$U/recommendations?user=3&k=%4"
err 400 bad_request "$U/similar-items?item=1%"
grep -q "bad %-escape" "$TMP/body" || fail "bad escape detail: $(cat "$TMP/body")"
# %00 was decoded to a NUL that cut the id: user=3%00x answered for user 3
err 400 bad_request "$U/recommendations?user=3%00x&k=1"
err 400 bad_request "$U/similar-items?item=1%00zz"
err 400 bad_request "$U/recommendations?user=%00abc"
grep -q "holds %00" "$TMP/body" || fail "%00 detail: $(cat "$TMP/body")"
# a repeated query key was taken first (k=2&k=3 answered 2 items)
err 400 bad_request "$U/recommendations?user=3&k=2&k=3"
grep -q "names 'k' more than once" "$TMP/body" || fail "repeated key detail: $(cat "$TMP/body")"
req 200 "$U/recommendations?user=%33&k=2" # a good escape: user 3
# A repeated JSON key was accepted (the last one won).
err 400 malformed_json "${JSON[@]}" -d '{"user": "3", "user": "4"}' "$U/recommendations"
grep -q "duplicate object key" "$TMP/body" || fail "duplicate key detail: $(cat "$TMP/body")"
err 400 malformed_json "${JSON[@]}" -d '{"instances": [{"user": "3", "item": "5", "item": "6"}]}' "$U/invocations"
printf '{"user": "3", "item": "5"}\n{"user": "3", "user": "4", "item": "5"}\n' >"$TMP/dup.jsonl"
req 400 -H 'Content-Type: application/jsonlines' --data-binary @"$TMP/dup.jsonl" "$U/invocations"
grep -q "duplicate object key" "$TMP/body" || fail "duplicate key (JSON Lines): $(cat "$TMP/body")"
# Refused by libmicrohttpd before facto sees them (docs/serving.md: its
# HTML page, no JSON possible): the statuses are still right.
printf 'X-Big: %s\n' "$(head -c 40000 /dev/zero | tr '\0' a)" >"$TMP/big.hdr"
req 431 -H @"$TMP/big.hdr" "$U/ping"
req 400 -X POST -H 'Content-Length: 1x' "$U/invocations"
# 10,000 instances: processed
awk 'BEGIN { printf "{\"instances\": ["; for (i = 0; i < 10000; i++) printf "%s{\"user\": \"%d\", \"item\": \"%d\"}", i ? ", " : "", 1 + i % 50, 1 + i % 60; print "]}" }' >"$TMP/big.json"
req 200 "${JSON[@]}" --data-binary @"$TMP/big.json" "$U/invocations"
[ "$(grep -o '"score"' "$TMP/body" | wc -l)" -eq 10000 ] || fail "10000 instances: not 10000 scores"
# the server still answers after all that
req 200 "$U/ping"
req 200 "$U/metrics"
grep -q '^facto_requests_total{route="/invocations",status="200"} 3$' "$TMP/body" || fail "metrics: invocations 200"
grep -q '^facto_request_errors_total{route="/recommendations",status="400"} [1-9]' "$TMP/body" || fail "metrics: errors"
grep -q '^facto_request_duration_seconds_count{route="/recommendations"} [1-9]' "$TMP/body" || fail "metrics: histogram"
grep -q '^facto_request_duration_seconds_bucket{route="/ping",le="+Inf"} 3$' "$TMP/body" || { grep ping "$TMP/body"; fail "metrics: ping buckets"; }
grep -q '^facto_model_info{kind="mf",task="regression",checksum="[0-9a-f]\{16\}",path=' "$TMP/body" || fail "metrics: model info"
grep -q '^facto_model_load_seconds [0-9.]*$' "$TMP/body" || fail "metrics: load seconds"
grep -q 'Content-Type: text/plain; version=0.0.4' <(curl -sS -D - -o /dev/null "$U/metrics") || fail "metrics content type"
stop

# ---- limits: body size (Content-Length and chunked), instances, stalled client ------
start --model "$MF" --max-body-bytes 2000 --max-instances 50 --timeout 1
head -c 5000 "$TMP/big.json" >"$TMP/5k.json"
err 413 body_too_large "${JSON[@]}" --data-binary @"$TMP/5k.json" "$U/invocations"
err 413 body_too_large "${JSON[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/5k.json" "$U/invocations"
awk 'BEGIN { printf "{\"instances\": ["; for (i = 0; i < 60; i++) printf "%s{\"user\": \"1\", \"item\": \"2\"}", i ? "," : ""; print "]}" }' >"$TMP/60.json"
err 413 too_many_instances "${JSON[@]}" --data-binary @"$TMP/60.json" "$U/invocations"
grep -q 'the limit (--max-instances)' "$TMP/body" || fail "instance limit not named: $(cat "$TMP/body")"
# a client that sends half a request and stalls: others are served meanwhile,
# and the server closes it after --timeout
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inst' >&3
t0=$(date +%s%N)
req 200 "$U/ping"
req 200 "$U/recommendations?user=1"
timeout 10 cat <&3 >/dev/null
t1=$(date +%s%N)
exec 3<&-
[ $(((t1 - t0) / 1000000)) -lt 8000 ] || fail "a stalled client was not closed after --timeout 1"
stop

# ---- feature rows (fm): SageMaker bodies, the CLI's own answers ---------------------
start --model "$FM"
for ct in application/json application/jsonlines; do
    in="$G/fm_request_sparse.json"
    [ $ct = application/jsonlines ] && in="$G/fm_request.jsonl"
    expect_rc 0 "$F" predict --model "$FM" --input "$in" --content-type $ct
    req 200 -H "Content-Type: $ct" --data-binary @"$in" "$U/invocations"
    cmp -s "$TMP/body" "$TMP/out" || fail "$ct: server $(cat "$TMP/body") vs predict $(cat "$TMP/out")"
    grep -q '"predicted_label"' "$TMP/body" || fail "classifier without predicted_label"
done
printf '0 26:1 182:1 232:1 243:4 431:1\n0 0:13 182:1 232:1 243:4 431:1\n' >"$TMP/req.svm"
expect_rc 0 "$F" convert --input "$TMP/req.svm" --to recordio --out "$TMP/req.rec" --feature_dim 2000
expect_rc 0 "$F" predict --model "$FM" --input "$TMP/req.rec" --content-type application/x-recordio-protobuf \
    --output "$TMP/want.rec"
req 200 -H 'Content-Type: application/x-recordio-protobuf' --data-binary @"$TMP/req.rec" "$U/invocations"
cmp -s "$TMP/body" "$TMP/want.rec" || fail "recordIO answer differs from predict's"
expect_rc 0 "$F" predict --model "$FM" --input "$TMP/req.rec" --content-type application/x-recordio-protobuf \
    --accept application/jsonlines
req 200 -H 'Content-Type: application/x-recordio-protobuf' -H 'Accept: application/jsonlines' \
    --data-binary @"$TMP/req.rec" "$U/invocations"
cmp -s "$TMP/body" "$TMP/out" || fail "recordIO in, JSON Lines out"
err 400 bad_request "${JSON[@]}" -d '{"instances": [{"data": {"features": {"keys": [2000], "shape": [2000], "values": [1]}}}]}' "$U/invocations"
grep -q 'feature_dim' "$TMP/body" || fail "key >= feature_dim not named: $(cat "$TMP/body")"
err 400 bad_request "${JSON[@]}" -d '{"instances": [{"data": {"features": {"keys": [1, 2], "shape": [2000], "values": [1]}}}]}' "$U/invocations"
grep -q '2 keys but 1 values' "$TMP/body" || fail "mismatched keys and values: $(cat "$TMP/body")"
err 400 bad_request "${JSON[@]}" -d '{"instances": [{"data": {"features": {"keys": [1], "shape": [2000], "values": ["x"]}}}]}' "$U/invocations"
err 400 bad_request -H 'Content-Type: application/x-recordio-protobuf' -d 'garbage!' "$U/invocations"
err 400 unsupported "$U/recommendations?user=1"
req 200 "$U/ping"
stop

# ---- ease: history fold-in equals the CLI's ------------------------------------------
start --model "$EASE" --threads 0 # 0: all cores, as for train (was refused)
expect_rc 0 "$F" recommend --model "$EASE" --history 3,7,12 -k 5 --json
req 200 "${JSON[@]}" -d '{"history": ["3", 7, "12", "not-an-item"], "k": 5}' "$U/recommendations"
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "history: $(cat "$TMP/body") vs $(cat "$TMP/out")"
grep -q '"unknown_items": 1' "$TMP/body" || fail "unknown history item not counted"
stop

# ---- API key ------------------------------------------------------------------------------
printf '  s3cret-key \n' >"$TMP/key"
start --model "$MF" --api-key-file "$TMP/key"
req 200 "$U/ping"
err 401 unauthorized "$U/recommendations?user=1"
err 401 unauthorized -H 'Authorization: Bearer s3cret-kez' "$U/recommendations?user=1"
err 401 unauthorized -H 'Authorization: Bearer s3cret-key2' "$U/metrics"
err 401 unauthorized -H 'Authorization: Basic s3cret-key' "$U/metrics"
err 401 unauthorized -X POST "$U/admin/reload"
err 401 unauthorized "$U/nowhere"
req 200 -H 'Authorization: Bearer s3cret-key' "$U/recommendations?user=1"
req 200 -H 'Authorization: Bearer s3cret-key' -X POST "$U/admin/reload"
grep -q '"status": "reloaded"' "$TMP/body" || fail "reload answer: $(cat "$TMP/body")"
stop
grep -q 'warning' "$TMP/srv.err" && fail "a warning on loopback with a key: $(cat "$TMP/srv.err")"

# ---- hot reload: SIGHUP, POST /admin/reload, a bad file, under load -----------------------
M="$TMP/live.facto"
cp "$MF" "$M"
start --model "$M"
req 200 "$U/recommendations?user=4&k=5"
before=$(ids "$TMP/body")
sum_before=$(curl -sS "$U/metrics" | sed -n 's/.*checksum="\([0-9a-f]*\)".*/\1/p')
# the new file: another model (another kind, even)
cp "$EASE" "$TMP/mf2.facto"
cp "$TMP/mf2.facto" "$M.new" && mv "$M.new" "$M"
kill -HUP $SRV
for _ in $(seq 100); do grep -q 'reloaded.*SIGHUP' "$TMP/srv.err" && break; sleep 0.05; done
grep -q 'reloaded.*SIGHUP' "$TMP/srv.err" || fail "no reload after SIGHUP: $(cat "$TMP/srv.err")"
expect_rc 0 "$F" recommend --model "$TMP/mf2.facto" --user 4 -k 5 --json
req 200 "$U/recommendations?user=4&k=5"
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "after SIGHUP the new model does not answer"
[ "$(ids "$TMP/body")" != "$before" ] || fail "the two models give the same list: the test cannot tell them apart"
sum_after=$(curl -sS "$U/metrics" | sed -n 's/.*checksum="\([0-9a-f]*\)".*/\1/p')
[ -n "$sum_after" ] && [ "$sum_after" != "$sum_before" ] || fail "metrics checksum unchanged by reload"
# a bad file: refused (POST: 500 with the reason; SIGHUP: logged), the old model serves on
head -c 1000 "$MF" >"$M.new" && mv "$M.new" "$M"
err 500 reload_failed -X POST "$U/admin/reload"
grep -q 'old model keeps serving' "$TMP/body" || fail "reload refusal: $(cat "$TMP/body")"
kill -HUP $SRV
for _ in $(seq 100); do grep -q 'SIGHUP) refused' "$TMP/srv.err" && break; sleep 0.05; done
grep -q 'SIGHUP) refused' "$TMP/srv.err" || fail "bad file on SIGHUP not logged: $(cat "$TMP/srv.err")"
req 200 "$U/recommendations?user=4&k=5"
expect_rc 0 "$F" recommend --model "$TMP/mf2.facto" --user 4 -k 5 --json
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "the old model stopped serving after a bad reload"
req 200 "$U/metrics"
grep -q '^facto_model_reloads_total{result="refused"} 2$' "$TMP/body" || fail "refused reloads not counted"
# under load: 4 clients x 300 requests while the model is swapped 20 times; every answer 200
cp "$MF" "$M.new" && mv "$M.new" "$M"
for c in 1 2 3 4; do
    urls=()
    for i in $(seq 300); do urls+=(-o /dev/null "$U/recommendations?user=$((1 + (i + c) % 50))&k=10"); done
    curl -s -w '%{http_code}\n' "${urls[@]}" >"$TMP/load$c" &
done
for i in $(seq 20); do
    if [ $((i % 2)) -eq 0 ]; then kill -HUP $SRV; else curl -s -o /dev/null -X POST "$U/admin/reload"; fi
    sleep 0.02
done
wait $(jobs -p | grep -v "^$SRV$") 2>/dev/null
cat "$TMP"/load[1-4] | sort | uniq -c | tr -s ' ' >"$TMP/codes"
[ "$(cat "$TMP/codes")" = " 1200 200" ] || fail "answers under reload: $(cat "$TMP/codes")"
stop

# ---- SIGTERM with a request in flight: it is answered, then exit 0 ------------------------
start --model "$MF"
awk 'BEGIN { printf "{\"instances\": ["; for (i = 0; i < 4000; i++) printf "%s{\"user\": \"%d\", \"item\": \"%d\"}", i ? ", " : "", 1 + i % 50, 1 + i % 60; print "]}" }' >"$TMP/slow.json"
curl -sS -o "$TMP/slow.out" -w '%{http_code}' --limit-rate 50K "${JSON[@]}" --data-binary @"$TMP/slow.json" \
    "$U/invocations" >"$TMP/slow.code" &
CURL=$!
sleep 0.7
kill -TERM $SRV
wait $CURL || fail "the in-flight request failed"
[ "$(cat "$TMP/slow.code")" = 200 ] || fail "in-flight request: status $(cat "$TMP/slow.code")"
[ "$(grep -o '"score"' "$TMP/slow.out" | wc -l)" -eq 4000 ] || fail "in-flight request: answer cut short"
wait $SRV || fail "serve exited $? after SIGTERM with a request in flight"
SRV=
grep -q 'finishing 1 requests in flight' "$TMP/srv.err" || fail "the request was not in flight at SIGTERM: $(cat "$TMP/srv.err")"
curl -s -o /dev/null "$U/ping" && fail "still accepting after SIGTERM"

# ---- SageMaker's environment: the port and the model folder ---------------------------------
mkdir -p "$TMP/sm"
echo "not a model" >"$TMP/sm/a-readme.txt"
cp "$MF" "$TMP/sm/model.facto"
SAGEMAKER_BIND_TO_PORT=$PORT SM_MODEL_DIR="$TMP/sm" "$F" serve >"$TMP/srv.out" 2>"$TMP/srv.err" &
SRV=$!
for _ in $(seq 200); do grep -q '^listening' "$TMP/srv.out" && break; sleep 0.05; done
[ "$(cat "$TMP/srv.out")" = "listening on http://0.0.0.0:$PORT" ] || { cat "$TMP/srv.err" >&2; fail "sagemaker: $(cat "$TMP/srv.out")"; }
grep -q 'warning: listening on 0.0.0.0 without --api-key-file' "$TMP/srv.err" || fail "no warning for 0.0.0.0 without a key"
grep -q "loaded $TMP/sm/model.facto" "$TMP/srv.err" || fail "model folder: $(cat "$TMP/srv.err")"
req 200 "http://127.0.0.1:$PORT/ping"
stop
SM_MODEL_DIR="$TMP/nothing" expect_rc 2 "$F" serve --port 0
expect_err "no --model given"

# ---- usage and file errors --------------------------------------------------------------
expect_rc 2 "$F" serve --model "$TMP/missing.facto" --port 0
expect_rc 2 "$F" serve --model "$MF" --port 0 --api-key-file "$TMP/missing.key"
expect_rc 1 "$F" serve --model "$MF" --port 70000
expect_rc 1 "$F" serve --model "$MF" --port 0 --bind not-an-address
: >"$TMP/empty.key"
expect_rc 2 "$F" serve --model "$MF" --port 0 --api-key-file "$TMP/empty.key"

# ---- ml-100k: MF at its defaults, titles ------------------------------------------------
need_ml100k
expect_rc 0 "$F" train --dataset ml-100k --split u1 --epochs 10 --out "$TMP/ml.facto"
start --model "$TMP/ml.facto" --dataset ml-100k
req 200 "$U/recommendations?user=196&k=10"
expect_rc 0 "$F" recommend --model "$TMP/ml.facto" --user 196 -k 10 --dataset ml-100k --json
[ "$(ids "$TMP/body")" = "$(ids "$TMP/out")" ] || fail "ml-100k recommendations"
[ "$(grep -o '"title": "[^"]' "$TMP/body" | wc -l)" -eq 10 ] || fail "ml-100k: titles missing: $(cat "$TMP/body")"
req 200 "$U/similar-items?item=50&k=3"
grep -q '"title": "Empire Strikes Back, The (1980)"\|"title": "Return of the Jedi (1983)"' "$TMP/body" ||
    fail "similar to Star Wars: $(cat "$TMP/body")"
stop
echo "ok"
