#!/usr/bin/env bash
# test_serve_input.sh — bad-input leftovers of issue 11 ("Bad input never
# hurts the server", "Event log"): one form for ids that are not UTF-8 in
# every answer, query and event (facto_id_escape: "\xHH", a backslash
# doubled), so every id the server lists can be asked for; /users?prefix=
# by the same rule; a complete last log line without its newline is an
# event, not a torn line; event times checked; repeated impressions
# (client retries) read once and counted; eval --ips --max-positions cuts
# only the IPS estimates, --sagemaker applies to --ips; synth --mnar leaves
# no file of an earlier run; an unknown user's fallback list is flagged.
# Self-contained (small inline data).
set -u
. "$(dirname "$0")/lib.bash"
command -v curl >/dev/null || fail "curl is not installed (scripts/setup-deps)"
. "$(dirname "$0")/serve.bash"
JSON=(-H 'Content-Type: application/json')
err() {
    local want=$1 code=$2
    shift 2
    req "$want" "$@"
    grep -q "^{\"error\": \"$code\", \"detail\": \"[^\"]" "$TMP/body" || fail "error body for $*: $(cat "$TMP/body")"
}

# 6 users u1..u6 x items i1..i8, plus a Latin-1 user jos\xe9 (not UTF-8) and a user a\b (a backslash)
for u in 1 2 3 4 5 6; do for i in 1 2 3 4 5 6 7 8; do
    [ $(((u * 3 + i) % 2)) -eq 0 ] && printf 'u%s\ti%s\t1\n' "$u" "$i"
done; done >"$TMP/r.tsv"
printf 'jos\xe9\ti1\t1\njos\xe9\ti3\t1\na\\b\ti2\t1\n' >>"$TMP/r.tsv"
EASE="$TMP/ease.facto"
expect_rc 0 "$F" train --model ease --from-ratings "$TMP/r.tsv" --out "$EASE"

# ---- 1, 2: one id rule -------------------------------------------------------------
start --model "$EASE" --events-dir "$TMP/ev" --log-impressions
req 200 "$U/users"
grep -qF '"users": ["u1", "u2", "u3", "u4", "u5", "u6", "jos\\xe9", "a\\\\b"]' "$TMP/body" \
    || fail "/users: ids not in facto_id_escape's form: $(cat "$TMP/body")"
# the CLI's JSON writes the same text for the same ids
expect_rc 0 "$F" recommend --model "$EASE" --all-users -k 2 --format jsonl
grep -qF '{"user": "jos\\xe9", ' "$TMP/out" || fail "recommend --all-users: $(cat "$TMP/out")"
grep -qF '{"user": "a\\\\b", ' "$TMP/out" || fail "recommend --all-users: $(cat "$TMP/out")"
# every listed id can be asked for: the listed text, percent-encoded, is the user
req 200 "$U/recommendations?user=jos%5Cxe9&k=2"
grep -qF '"user": "jos\\xe9", "unknown_user": false' "$TMP/body" || fail "listed id refused: $(cat "$TMP/body")"
expect_rc 0 "$F" recommend --model "$EASE" --user "$(printf 'jos\xe9')" -k 2 --json
[ "$(grep -o '"item": "[^"]*"' "$TMP/body")" = "$(grep -o '"item": "[^"]*"' "$TMP/out")" ] \
    || fail "server and CLI lists differ: $(cat "$TMP/body") vs $(cat "$TMP/out")"
req 200 "$U/recommendations?user=a%5C%5Cb&k=2"
grep -qF '"user": "a\\\\b", "unknown_user": false' "$TMP/body" || fail "backslash id: $(cat "$TMP/body")"
req 200 "${JSON[@]}" -d '{"user": "jos\\xe9", "k": 2}' "$U/recommendations"
grep -qF '"unknown_user": false' "$TMP/body" || fail "POST escaped id: $(cat "$TMP/body")"
# raw bytes that are not UTF-8, and a backslash that is not an escape: 400 bad_id naming the rule
err 400 bad_id "$U/recommendations?user=jos%e9"
grep -qF '\\xHH' "$TMP/body" || fail "bad_id does not name the escape: $(cat "$TMP/body")"
err 400 bad_id "$U/recommendations?user=a%5Cb"
err 400 bad_id "$U/recommendations?user=a%5Cx00"
err 400 bad_user "${JSON[@]}" -d '{"user": "a\\b"}' "$U/recommendations"
err 400 bad_id "$U/similar-items?item=i%ff"
req 200 "$U/similar-items?item=i1&k=2"
# /users?prefix= by the same rule
err 400 bad_id "$U/users?prefix=%ff"
err 400 bad_id "$U/users?prefix=jos%5Cx"
req 200 "$U/users?prefix=jos%5Cxe9"
grep -qF '"users": ["jos\\xe9"]' "$TMP/body" || fail "prefix: $(cat "$TMP/body")"
req 200 "$U/users?prefix=a%5C%5C"
grep -qF '"users": ["a\\\\b"]' "$TMP/body" || fail "prefix with a backslash: $(cat "$TMP/body")"
# events: the same form in, the log keeps it, readers read the bytes
req 200 "${JSON[@]}" -d '[{"type": "click", "user": "jos\\xe9", "item": "i5"}, {"type": "click", "user": "jos\\xe9", "item": "i5"}, {"type": "purchase", "user": "a\\\\b", "item": "i6"}]' "$U/events"
err 400 bad_event "${JSON[@]}" -d '{"type": "click", "user": "jos\\e9", "item": "i5"}' "$U/events"
grep -qF '"detail": "user: is a string: a backslash' "$TMP/body" || fail "bad_event names the field: $(cat "$TMP/body")"

# ---- 9: an unknown user's fallback, flagged the same way for every kind ----------
req 200 "$U/recommendations?user=nobody&k=3"
grep -qF '"unknown_user": true, "fallback": "no_history", "items": [' "$TMP/body" || fail "fallback: $(cat "$TMP/body")"

# ---- 6: event times -------------------------------------------------------------------
err 400 bad_event "${JSON[@]}" -d '{"type": "click", "user": "u1", "item": "i1", "ts": 1e300}' "$U/events"
grep -qF '"detail": "ts: 1.0000000000000001e+300 is not a time from 0 (1970-01-01) to 253402300799' "$TMP/body" \
    || fail "ts 1e300: $(cat "$TMP/body")"
err 400 bad_event "${JSON[@]}" -d '{"type": "click", "user": "u1", "item": "i1", "ts": -1}' "$U/events"
err 400 bad_event "${JSON[@]}" -d '[{"type": "click", "user": "u1", "item": "i1"}, {"type": "click", "user": "u1", "item": "i1", "ts": 253402300800}]' "$U/events"
grep -qF '"detail": "events[1].ts: ' "$TMP/body" || fail "ts past 9999: $(cat "$TMP/body")"
req 200 "${JSON[@]}" -d '{"type": "click", "user": "u1", "item": "i1", "ts": 253402300799}' "$U/events"

# ---- 7: a retried impression (same request_id) is read once, and counted -------------
imp='{"type": "impression", "user": "u2", "items": ["i2", "i4", "i6"], "request_id": "retry-1"}'
req 200 "${JSON[@]}" -d "$imp" "$U/events"
req 200 "${JSON[@]}" -d "$imp" "$U/events"
req 200 "$U/events/stats"
grep -qF '"duplicate_impressions": 1}' "$TMP/body" || fail "/events/stats: $(cat "$TMP/body")"
stop
# the server logged its own impressions with the escaped ids (valid UTF-8 JSON lines)
grep -qF '"user":"jos\\xe9","items":' "$TMP"/ev/events-*.jsonl || fail "logged impression: $(cat "$TMP"/ev/events-*.jsonl)"
expect_rc 0 "$F" events stats --events-dir "$TMP/ev"
grep -qF '1 repeated impression skipped' "$TMP/err" || fail "events stats: $(cat "$TMP/err")"
grep -qF '; 0 torn lines, 1 repeated impression skipped' "$TMP/out" || fail "events stats: $(cat "$TMP/out")"
# training on the log reads the ids' bytes: the Latin-1 user is the model's own id
expect_rc 0 "$F" train --model popular --events-dir "$TMP/ev" --out "$TMP/pop.facto"
expect_rc 0 "$F" recommend --model "$TMP/pop.facto" --user "$(printf 'jos\xe9')" -k 1 --include-seen
expect_rc 0 "$F" recommend --model "$TMP/pop.facto" --user 'a\b' -k 1 --include-seen

# ---- 3: the last line of a log without its newline ------------------------------------
mkdir "$TMP/ev3"
printf '{"type":"impression","user":"u1","items":["i2","i4"],"request_id":"r1","ts":1}\n{"type":"click","user":"u1","item":"i4","request_id":"r1","ts":2}' \
    >"$TMP/ev3/events-20260101-00-000001.jsonl"
expect_rc 0 "$F" events stats --events-dir "$TMP/ev3"
grep -qF 'events: 1 file, 2 events: 1 impression (2 items shown), 1 click, 0 purchases, 0 ratings; 0 torn lines' "$TMP/out" \
    || fail "complete last line without newline: $(cat "$TMP/out")"
printf '{"type":"click","user":"u1","item":"i4","request_id":"r1","t' >"$TMP/ev3/events-20260101-00-000002.jsonl"
expect_rc 0 "$F" events stats --events-dir "$TMP/ev3"
grep -qF '2 events: 1 impression (2 items shown), 1 click, 0 purchases, 0 ratings; 1 torn line' "$TMP/out" \
    || fail "torn last line: $(cat "$TMP/out")"

# ---- 4, 5: eval --ips: --max-positions cuts the IPS estimates only; --sagemaker ---------
# 30 slates of 4 shuffled items for users u1..u6, clicks on positions 1..4
mkdir "$TMP/ev4"
awk 'BEGIN { srand(3); for (s = 1; s <= 30; s++) { u = 1 + s % 6; n = split("i1 i2 i3 i4 i5 i6 i7 i8", a, " ");
      for (x = n; x > 1; x--) { y = 1 + int(rand() * x); t = a[x]; a[x] = a[y]; a[y] = t }
      printf "{\"type\":\"impression\",\"user\":\"u%d\",\"items\":[\"%s\",\"%s\",\"%s\",\"%s\"],\"request_id\":\"s%d\",\"ts\":%d}\n", u, a[1], a[2], a[3], a[4], s, s;
      for (p = 1; p <= 4; p++) if (rand() < 0.6 / p)
          printf "{\"type\":\"click\",\"user\":\"u%d\",\"item\":\"%s\",\"request_id\":\"s%d\",\"ts\":%d}\n", u, a[p], s, s } }' \
    >"$TMP/ev4/events-20260101-00-000001.jsonl"
expect_rc 0 "$F" eval --model "$EASE" --events-dir "$TMP/ev4" --ips --k 4 --json
naive=$(json_num ctr_naive "$TMP/out")
ips_all=$(json_num ctr_ips "$TMP/out")
expect_rc 0 "$F" eval --model "$EASE" --events-dir "$TMP/ev4" --ips --k 4 --max-positions 1 --json
[ "$(json_num ctr_naive "$TMP/out")" = "$naive" ] || fail "--max-positions 1 changed the naive estimate: $naive -> $(cat "$TMP/out")"
[ "$(json_num clicks_unknown_position "$TMP/out")" -gt 0 ] || fail "no click cut by --max-positions 1: $(cat "$TMP/out")"
awk -v a="$(json_num ctr_ips "$TMP/out")" -v b="$ips_all" 'BEGIN { exit !(a < b) }' || fail "--max-positions 1 kept the IPS estimate"
expect_rc 0 "$F" eval --model "$EASE" --events-dir "$TMP/ev4" --ips --k 4 --sagemaker
grep -qF "#test_score (algo-1) : ('ctr_naive@4', $naive)" "$TMP/out" || fail "--sagemaker --ips: $(cat "$TMP/out")"
grep -qF "#test_score (algo-1) : ('ctr_ips@4', $ips_all)" "$TMP/out" || fail "--sagemaker --ips: $(cat "$TMP/out")"
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail "--sagemaker --ips prints the log lines only: $(cat "$TMP/out")"

# ---- 8: synth --mnar into the folder of an earlier run ----------------------------------
expect_rc 0 "$F" datasets synth --mnar 0.5 --users 20 --items 30 --ratings 200 --out "$TMP/mnar"
[ -f "$TMP/mnar/test.tsv" ] && [ -f "$TMP/mnar/test.propensities" ] || fail "synth --mnar wrote no test files"
touch "$TMP/mnar/notes.txt"
expect_rc 0 "$F" datasets synth --mnar 0.5 --users 20 --items 30 --ratings 200 --test-fraction 0 --out "$TMP/mnar"
[ ! -e "$TMP/mnar/test.tsv" ] && [ ! -e "$TMP/mnar/test.propensities" ] || fail "an earlier run's test files stayed"
[ -f "$TMP/mnar/train.tsv" ] && [ -f "$TMP/mnar/notes.txt" ] || fail "synth --mnar removed a file it does not own"
exit 0
