#!/usr/bin/env bash
# test_events.sh — the event log end to end over real HTTP (curl) on
# 127.0.0.1: POST /events (one object, an array; every bad event a 400
# naming the index and field; malformed JSON, wrong type, the API key,
# no log), --log-impressions (the impression carries the answer's
# request_id), /metrics counters, durability under kill -9 with --fsync
# always (every acknowledged event of 8 concurrent clients is read back,
# no line interleaved), rotation by size, a torn last line skipped and
# counted, SIGTERM with --fsync interval; then `facto events stats` (table
# and SVG), `facto train --events-dir` and `facto eval --events-dir --ips`
# on a seeded synthetic log with true propensity 1/p.
set -u
. "$(dirname "$0")/lib.bash"
command -v curl >/dev/null || fail "curl is not installed (scripts/setup-deps)"
. "$(dirname "$0")/serve.bash"
# bad WANT CODE DETAIL-PREFIX BODY: POST /events must answer WANT {"error": CODE, "detail": "DETAIL-PREFIX...
bad() {
    req "$1" "${JSON[@]}" -X POST "$U/events" --data-binary "$4"
    grep -qF "{\"error\": \"$2\", \"detail\": \"$3" "$TMP/body" || fail "body for $4: $(cat "$TMP/body")"
}
JSON=(-H 'Content-Type: application/json')
lines() { cat "$1"/events-*.jsonl 2>/dev/null | wc -l; }

awk 'BEGIN { srand(5); for (u = 1; u <= 50; u++) for (r = 0; r < 15; r++) {
      i = 1 + int(rand() * rand() * 60); printf "%d\t%d\t1\n", u, i } }' >"$TMP/r.tsv"
M="$TMP/ease.facto"
expect_rc 0 "$F" train --model ease --train "$TMP/r.tsv" --out "$M"

# ---- POST /events, --log-impressions, /metrics -----------------------------------
E="$TMP/ev1"
start --model "$M" --events-dir "$E" --log-impressions --threads 2
grep -q "event log: .*events-[0-9]\{8\}-[0-9][0-9]-000001.jsonl (fsync always" "$TMP/srv.err" || fail "no event log line: $(cat "$TMP/srv.err")"
req 200 "${JSON[@]}" -X POST "$U/events" --data-binary '{"type":"impression","user":"1","items":["5",6,"7"],"request_id":"q1","ts":1700000000}'
grep -q '^{"accepted": 1, "request_id": "' "$TMP/body" || fail "accepted body: $(cat "$TMP/body")"
req 200 "${JSON[@]}" -X POST "$U/events" --data-binary '[{"type":"click","user":"1","item":"6","request_id":"q1"},
  {"type":"purchase","user":"1","item":6},{"type":"rating","user":"2","item":"5","value":4.5,"request_id":null}]'
grep -q '^{"accepted": 3,' "$TMP/body" || fail "accepted body: $(cat "$TMP/body")"
[ "$(lines "$E")" -eq 4 ] || fail "4 lines expected, got $(lines "$E")"
grep -q '^{"type":"click","user":"1","item":"6","request_id":"q1","ts":[0-9.]*}$' "$E"/events-*.jsonl || fail "click line: $(cat "$E"/*)"
grep -q '^{"type":"rating","user":"2","item":"5","value":4.5,"ts":' "$E"/events-*.jsonl || fail "rating line"
# bad events: nothing of the request is written
bad 400 bad_event "events[1].items[2]: is a boolean" '[{"type":"click","user":"1","item":"6"},{"type":"impression","items":["1","2",true],"request_id":"x"}]'
# an item shown twice in one impression was counted at both positions
bad 400 bad_event "events[0].items[2]: repeats items[0] ('a')" '[{"type":"impression","items":["a","b","a"],"request_id":"x"}]'
bad 400 bad_event "items[1]: repeats items[0] ('7')" '{"type":"impression","items":[7,"7"],"request_id":"y"}'
# a repeated key is refused, as on every other route (the tester saw the last one logged)
req 400 "${JSON[@]}" -X POST "$U/events" --data-binary '{"type":"click","user":"1","item":"2","user":"3"}'
grep -q '"error": "malformed_json"' "$TMP/body" || fail "repeated key: $(cat "$TMP/body")"
bad 400 bad_event "events[0].value: missing" '[{"type":"rating","user":"1","item":"6"}]'
bad 400 bad_event "type: 'view' is not one of" '{"type":"view","user":"1"}'
bad 400 bad_event "request_id: missing" '{"type":"impression","items":["1"]}'
bad 400 bad_event "user: missing" '{"type":"click","item":"1"}'
bad 400 bad_event "ts: is a string" '{"type":"click","user":"1","item":"1","ts":"now"}'
bad 400 bad_event "event: an event is a JSON object" '"click"'
bad 400 malformed_json "JSON error" '{"type":'
bad 400 no_events "the array holds no event" '[]'
req 415 -H 'Content-Type: text/csv' -X POST "$U/events" --data-binary 'a,b'
req 405 "$U/events"
[ "$(lines "$E")" -eq 4 ] || fail "a refused request wrote lines"
# the top-N routes log their answers as impressions with the request_id they return
req 200 "$U/recommendations?user=3&k=4"
rid=$(grep -o '"request_id": "[^"]*"' "$TMP/body" | sed 's/.*: "//; s/"$//')
items=$(grep -o '"item": "[^"]*"' "$TMP/body" | sed 's/.*: "//; s/"$//' | paste -sd, | sed 's/\([^,]*\)/"\1"/g')
grep -q "^{\"type\":\"impression\",\"user\":\"3\",\"items\":\[$items\],\"request_id\":\"$rid\",\"ts\":[0-9.]*,\"route\":\"/recommendations\"}$" \
    "$E"/events-*.jsonl || fail "no impression for $rid [$items]: $(tail -n1 "$E"/events-*.jsonl)"
req 200 "$U/similar-items?item=5&k=3&user=9"
grep -q '"user":"9","items":\[[^]]*\],"request_id":"[^"]*","ts":[0-9.]*,"route":"/similar-items"' "$E"/events-*.jsonl || fail "no similar-items impression"
req 200 "$U/metrics"
grep -q '^facto_events_written_total 6$' "$TMP/body" || fail "written: $(grep events_ "$TMP/body")"
grep -q '^facto_events_rejected_total 14$' "$TMP/body" || fail "rejected: $(grep events_ "$TMP/body")"
grep -q '^facto_requests_total{route="/events",status="400"} 12$' "$TMP/body" || fail "route count: $(grep /events "$TMP/body")"
stop
grep -q "event log synced and closed" "$TMP/srv.err" || fail "no close line"
expect_rc 0 "$F" events stats --events-dir "$E"
grep -q '^events: 1 file, 6 events: 3 impressions (10 items shown), 1 click, 1 purchase, 1 rating; 0 torn lines, 0 repeated impressions skipped$' "$TMP/out" \
    || fail "stats: $(cat "$TMP/out")"
grep -q '^ *2 *3 *1 *0.33333 ' "$TMP/out" || fail "position 2 (3 slates, q1's clicked): $(cat "$TMP/out")"
# a decile nothing fell in has no CTR ("-", as /events/stats' null), not 0.00000; there is one here
awk '/^CTR by item popularity/ { on = 1; next } on && $1 ~ /^[0-9]+$/ && $4 == 0 { empty++; if ($6 != "-") bad = 1 }
     END { exit bad || !empty }' "$TMP/out" || fail "empty decile: $(cat "$TMP/out")"
# a folder named like a log file is skipped (the tester saw "read error" and a 500 from /events/stats)
mkdir "$E/events-19700101-00-000001.jsonl"
expect_rc 0 "$F" events stats --events-dir "$E"
grep -q '^events: 1 file, 6 events' "$TMP/out" || fail "stats with a folder: $(cat "$TMP/out")"
rmdir "$E/events-19700101-00-000001.jsonl"

# a server without a log, and one with a key
start --model "$M"
bad 404 no_event_log "this server keeps no event log" '{"type":"click","user":"1","item":"1"}'
stop
printf 'sekret\n' >"$TMP/key"
start --model "$M" --events-dir "$TMP/evk" --api-key-file "$TMP/key"
req 401 "${JSON[@]}" -X POST "$U/events" --data-binary '{"type":"click","user":"1","item":"1"}'
req 200 "${JSON[@]}" -H 'Authorization: Bearer sekret' -X POST "$U/events" --data-binary '{"type":"click","user":"1","item":"1"}'
stop
expect_rc 1 "$F" serve --model "$M" --log-impressions
expect_err "--log-impressions needs --events-dir"
expect_rc 1 "$F" serve --model "$M" --events-dir "$TMP/x" --fsync sometimes
expect_rc 2 "$F" serve --model "$M" --port 0 --events-dir "$TMP/r.tsv"
expect_err "is not a folder"

# ---- kill -9: every acknowledged event survives; 8 clients, no interleaved line ----
E="$TMP/ev2"
start --model "$M" --events-dir "$E" --fsync always --threads 4
# one curl a client (starting curl costs ~0.1 s here): 25 requests on one connection, in turn
for c in 1 2 3 4 5 6 7 8; do
    args=()
    for n in $(seq 25); do
        [ $n -gt 1 ] && args+=(--next)
        args+=(-sS -o /dev/null -w '%{http_code}\n' "${JSON[@]}" -X POST "$U/events" --data-binary
            "[{\"type\":\"impression\",\"user\":\"c$c\",\"items\":[\"a$n\",\"b$n\",\"c$n\",\"d$n\"],\"request_id\":\"c$c-$n\"},{\"type\":\"click\",\"user\":\"c$c\",\"item\":\"b$n\",\"request_id\":\"c$c-$n\"}]")
    done
    curl "${args[@]}" | grep -c '^200$' >"$TMP/acked.$c" &
done
wait $(jobs -p | grep -v "^$SRV$") 2>/dev/null
kill -9 $SRV
wait $SRV 2>/dev/null
SRV=
acked=$(cat "$TMP"/acked.* | paste -sd+ | bc)
[ "$acked" -eq 200 ] || fail "$acked of 200 requests acknowledged"
expect_rc 0 "$F" events stats --events-dir "$E"
grep -q '^events: 1 file, 400 events: 200 impressions (800 items shown), 200 clicks' "$TMP/out" || fail "after kill -9: $(head -n1 "$TMP/out")"
grep -q '^ *2 *200 *200 *1.00000 ' "$TMP/out" || fail "every click joins its slate at position 2: $(cat "$TMP/out")"
# a restart opens a new file after the old ones
start --model "$M" --events-dir "$E"
req 200 "${JSON[@]}" -X POST "$U/events" --data-binary '{"type":"click","user":"z","item":"a1","request_id":"zz"}'
stop
[ "$(ls "$E" | wc -l)" -eq 2 ] || fail "restart: $(ls "$E")"
[ "$(ls "$E" | tail -n1 | sed 's/.*-\([0-9]*\)\.jsonl/\1/')" = 000002 ] || fail "second file: $(ls "$E")"
# a torn last line (a crash mid-write) is skipped and counted
printf '{"type":"click","user":"z","ite' >>"$E/$(ls "$E" | tail -n1)"
expect_rc 0 "$F" events stats --events-dir "$E"
expect_err "1 torn last line skipped"
grep -q '^events: 2 files, 401 events: .* 201 clicks, .* 1 torn line, 0 repeated impressions skipped$' "$TMP/out" || fail "torn: $(head -n1 "$TMP/out")"

# ---- rotation by size; SIGTERM with --fsync interval flushes ----------------------
E="$TMP/ev3"
start --model "$M" --events-dir "$E" --events-rotate-bytes 300 --fsync interval --fsync-interval-ms 50
args=()
for n in $(seq 12); do
    [ $n -gt 1 ] && args+=(--next)
    args+=(-sS -o /dev/null -w '%{http_code}\n' "${JSON[@]}" -X POST "$U/events" --data-binary
        "{\"type\":\"click\",\"user\":\"u$n\",\"item\":\"i$n\",\"request_id\":\"r$n\"}")
done
[ "$(curl "${args[@]}" | grep -c '^200$')" -eq 12 ] || fail "12 clicks not all acknowledged"
stop
nf=$(ls "$E" | wc -l)
[ "$nf" -ge 4 ] || fail "12 lines of ~75 bytes in files of <= 300 bytes: $nf files"
for f in "$E"/*; do [ "$(stat -c %s "$f")" -le 300 ] || fail "$f is over 300 bytes"; done
[ "$(ls "$E" | sort | paste -sd' ')" = "$(ls "$E" | paste -sd' ')" ] || fail "names do not sort"
[ "$(lines "$E")" -eq 12 ] || fail "12 lines expected after SIGTERM, got $(lines "$E")"
# the order of the files is the order of the events
[ "$(cat "$E"/events-*.jsonl | sed 's/.*"user":"u\([0-9]*\)".*/\1/' | paste -sd' ')" = "$(seq 12 | paste -sd' ')" ] || fail "order"

# ---- a synthetic log: stats, chart, train, IPS ---------------------------------------
# 6000 shuffled slates of 8 of 40 items; users and items in 4 groups, relevance 0.7 within
# a group, 0.08 across; a click with probability relevance / position (true propensity 1/p).
gen() {
    awk -v seed="$1" 'BEGIN { srand(seed);
      for (s = 0; s < 6000; s++) {
        u = 1 + int(rand() * 300);
        for (i = 1; i <= 40; i++) perm[i] = i;
        for (i = 1; i <= 8; i++) { j = i + int(rand() * (41 - i)); t = perm[i]; perm[i] = perm[j]; perm[j] = t }
        line = "{\"type\":\"impression\",\"user\":\"u" u "\",\"items\":[";
        for (p = 1; p <= 8; p++) line = line (p > 1 ? "," : "") "\"i" perm[p] "\"";
        printf "%s],\"request_id\":\"r%d\",\"ts\":%d}\n", line, s, 1700000000 + s;
        for (p = 1; p <= 8; p++) {
          i = perm[p]; rel = (u % 4 == i % 4) ? 0.7 : 0.08;
          if (rand() < rel / p)
            printf "{\"type\":\"click\",\"user\":\"u%d\",\"item\":\"i%d\",\"request_id\":\"r%d\",\"ts\":%d}\n", u, i, s, 1700000000 + s
        } } }'
}
mkdir -p "$TMP/syn1" "$TMP/syn2"
gen 11 >"$TMP/syn1/events-20260101-00-000001.jsonl"
gen 12 >"$TMP/syn2/events-20260101-00-000001.jsonl"
expect_rc 0 "$F" events stats --events-dir "$TMP/syn1" --plot "$TMP/ctr.svg" --max-positions 8
# propensities within 0.03 of 1/p
awk '/^CTR by position/ { on = 1; next } /^$/ { on = 0 } on && $1 ~ /^[0-9]+$/ {
       d = $5 - 1 / $1; if (d < 0) d = -d; if (d > 0.03) { print "position " $1 ": " $5; bad = 1 } }
     END { exit bad }' "$TMP/out" || fail "propensities off: $(cat "$TMP/out")"
head -c 5 "$TMP/ctr.svg" | grep -q '<?xml' || fail "not an SVG"
grep -q '<polyline' "$TMP/ctr.svg" && grep -c '<rect x=' "$TMP/ctr.svg" | grep -q '^10$' && tail -n1 "$TMP/ctr.svg" | grep -q '^</svg>$' \
    || fail "chart: $(head -c 400 "$TMP/ctr.svg")"
if command -v python3 >/dev/null; then
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$TMP/ctr.svg" || fail "the SVG is not well-formed XML"
fi
# train on one log's clicks; popularity there is noise, so on the other log the true CTR@5 of the
# model's top 5 is the mean relevance, 0.25 * 0.7 + 0.75 * 0.08 = 0.235
expect_rc 0 "$F" train --model popular --events-dir "$TMP/syn1" --out "$TMP/pop.facto"
expect_err "clicks and purchases -> "
expect_rc 0 "$F" train --model ials --events-dir "$TMP/syn1" --epochs 2 --out "$TMP/ials.facto"
expect_rc 0 "$F" eval --model "$TMP/pop.facto" --events-dir "$TMP/syn2" --ips --json
ips=$(json_num ctr_ips "$TMP/out")
naive=$(json_num ctr_naive "$TMP/out")
used=$(json_num slates_used "$TMP/out")
awk -v i="$ips" -v n="$naive" 'BEGIN { d = i - 0.235; if (d < 0) d = -d; e = n - 0.235; if (e < 0) e = -e; exit !(d < 0.02 && d < e) }' \
    || fail "IPS $ips, naive $naive, truth 0.235"
[ "$used" -eq 6000 ] || fail "slates used: $used"
expect_rc 0 "$F" eval --model "$TMP/ials.facto" --events-dir "$TMP/syn2" --ips --k 3 --max-ips-weight 2
grep -q '^used           6000 slates, 18000 slots of their top 3' "$TMP/out" || fail "ials ips: $(cat "$TMP/out")"
grep -q '^ctr@3 clipped  .*(weights capped at 2)$' "$TMP/out" || fail "clipped: $(cat "$TMP/out")"
# usage errors
expect_rc 1 "$F" eval --model "$TMP/pop.facto" --ips
expect_rc 1 "$F" eval --model "$TMP/pop.facto" --events-dir "$TMP/syn2" --ips --test "$TMP/r.tsv"
expect_rc 1 "$F" train --model mf --events-dir "$TMP/syn1" --out "$TMP/mf.facto"
expect_err "--events-dir trains a ranking kind"
expect_rc 1 "$F" train --model popular --events-dir "$TMP/syn1" --split random:0.2 --out "$TMP/x.facto"
expect_rc 2 "$F" events stats --events-dir "$TMP/nothing"
expect_rc 1 "$F" events list
# a bad complete line is named
printf '{"type":"click","user":"u1"}\n' >"$TMP/syn2/events-20260101-00-000002.jsonl"
expect_rc 2 "$F" events stats --events-dir "$TMP/syn2"
expect_err "events-20260101-00-000002.jsonl:1: item: missing"
echo "test_events: ok"
