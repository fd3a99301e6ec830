#!/usr/bin/env bash
# test_page.sh — the page of facto serve (GET /) in a real browser: headless
# Chromium (Debian's chromium, scripts/setup-deps) loads it from a server on
# an ephemeral port with an event log, through the page's test hooks
# (?user=U&autoclick=P, ?view=stats; docs/serving.md, "The page"), and the
# test checks what reached the log: one impression of the 10 items the page
# showed, under the request_id of /recommendations, and one click on the
# item at position 2 with that request_id. Also: GET /events/stats gives the
# numbers `facto events stats` prints, GET /users, the page without a key
# while the routes need it, and the page's size. Without chromium: skipped
# (exit 77), a failure under CI (CI or FACTO_REQUIRE_DATA set).
set -u
. "$(dirname "$0")/lib.bash"
command -v curl >/dev/null || fail "curl is not installed (scripts/setup-deps)"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    if [ -n "${CI:-}" ] || { [ -n "${FACTO_REQUIRE_DATA:-}" ] && [ "$FACTO_REQUIRE_DATA" != 0 ]; }; then
        fail "chromium is not installed (scripts/setup-deps installs it)"
    fi
    echo "skip: chromium is not installed (scripts/setup-deps)" >&2
    exit 77
fi
. "$(dirname "$0")/serve.bash"
# browse URL OUT: the page's DOM after its scripts ran (headless, a fresh profile)
browse() {
    rm -rf "$TMP/profile"
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$TMP/profile" --virtual-time-budget=10000 --dump-dom "$1" >"$2" 2>"$TMP/chrome.err" ||
        { tail -n 20 "$TMP/chrome.err" >&2; fail "chromium failed on $1"; }
}
ev() { cat "$E"/events-*.jsonl; }

awk 'BEGIN { srand(7); for (u = 1; u <= 60; u++) for (r = 0; r < 15; r++) {
      i = 1 + int(rand() * rand() * 80); printf "%d\t%d\t1\n", u, i } }' >"$TMP/r.tsv"
M="$TMP/ease.facto"
expect_rc 0 "$F" train --model ease --train "$TMP/r.tsv" --out "$M"

E="$TMP/ev"
start --model "$M" --events-dir "$E" --threads 2
# ---- the page itself: HTML, embedded, small, nothing from outside -------------------
req 200 -D "$TMP/hdr" "$U/"
grep -qi '^content-type: text/html; charset=utf-8' "$TMP/hdr" || fail "GET /: $(cat "$TMP/hdr")"
size=$(wc -c <"$TMP/body")
[ "$size" -ge 2000 ] && [ "$size" -lt 30720 ] || fail "the page is $size bytes, want 2000..30 KB"
grep -q '<html lang="en">' "$TMP/body" || fail "GET / is not the page"
if grep -Eq '(src|href)="(https?:)?//' "$TMP/body"; then fail "the page loads something from outside"; fi
req 405 -X POST "$U/"
req 404 "$U/nothing"
grep -qF '/events/stats, /users and / (the page)' "$TMP/body" || fail "404 detail: $(cat "$TMP/body")"

# ---- /users and /events/stats on an empty log -------------------------------------
req 200 "$U/users?prefix=1&limit=3"
grep -qF '"n_users": 60, "users": ["1", "10", "11"]}' "$TMP/body" || fail "/users: $(cat "$TMP/body")"
req 400 "$U/users?limit=0"
grep -qF '"error": "bad_limit"' "$TMP/body" || fail "/users?limit=0: $(cat "$TMP/body")"
req 200 "$U/events/stats"
grep -qF '"log_impressions": false, "counts": {"files": 0, "events": 0, "impressions": 0' "$TMP/body" ||
    fail "/events/stats, empty log: $(cat "$TMP/body")"
grep -qF '"positions": [], "popularity": []}' "$TMP/body" || fail "/events/stats, empty: $(cat "$TMP/body")"

# ---- the browser: user 7's top 10, a click at position 2 --------------------------
browse "$U/?user=7&autoclick=2" "$TMP/dom.html"
grep -q 'data-done="recs"' "$TMP/dom.html" || { cat "$TMP/dom.html" >&2; fail "the scenario did not finish"; }
grep -q 'click logged: position 2' "$TMP/dom.html" || fail "no click in the status: $(grep status "$TMP/dom.html")"
[ "$(grep -c '"type":"impression"' <(ev))" -eq 1 ] || fail "want 1 impression: $(ev)"
[ "$(grep -c '"type":"click"' <(ev))" -eq 1 ] || fail "want 1 click: $(ev)"
imp=$(grep '"type":"impression"' <(ev))
rid=$(sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p' <<<"$imp")
[ -n "$rid" ] || fail "impression without a request_id: $imp"
items=$(sed -n 's/.*"items":\[\([^]]*\)\].*/\1/p' <<<"$imp" | tr -d '"')
[ "$(tr ',' '\n' <<<"$items" | wc -l)" -eq 10 ] || fail "want 10 items shown: $imp"
grep -qF '"user":"7"' <<<"$imp" || fail "impression without user 7: $imp"
# the same list and request id as /recommendations answers (EASE is deterministic)
req 200 "$U/recommendations?user=7&k=10"
want=$(grep -o '"item": "[^"]*"' "$TMP/body" | sed 's/"item": "\(.*\)"/\1/' | paste -sd, -)
[ "$items" = "$want" ] || fail "the page showed $items, /recommendations answers $want"
second=$(cut -d, -f2 <<<"$items")
clk=$(grep '"type":"click"' <(ev))
grep -qF "\"request_id\":\"$rid\"" <<<"$clk" || fail "the click has not the impression's request_id $rid: $clk"
grep -qF "\"item\":\"$second\"" <<<"$clk" || fail "the click is not on position 2's item $second: $clk"
grep -qF '"user":"7"' <<<"$clk" || fail "click without user 7: $clk"
# every item of the DOM list is one of the 10, in order
dom=$(grep -o 'data-item="[^"]*"' "$TMP/dom.html" | sed 's/data-item="\(.*\)"/\1/' | paste -sd, -)
[ "$dom" = "$items" ] || fail "the DOM lists $dom, the log $items"

# ---- /events/stats == facto events stats; the second view draws it -----------------
req 200 "$U/events/stats"
cp "$TMP/body" "$TMP/stats.json"
grep -qF '"counts": {"files": 1, "events": 2, "impressions": 1, "shown": 10, "clicks": 1,' "$TMP/stats.json" ||
    fail "/events/stats counts: $(cat "$TMP/stats.json")"
grep -qF '{"position": 1, "shown": 1, "clicked": 0, "ctr": 0, "propensity": null}' "$TMP/stats.json" ||
    fail "/events/stats position 1: $(cat "$TMP/stats.json")"
grep -qF '{"position": 2, "shown": 1, "clicked": 1, "ctr": 1, "propensity": null}' "$TMP/stats.json" ||
    fail "/events/stats position 2: $(cat "$TMP/stats.json")"
expect_rc 0 "$F" events stats --events-dir "$E"
# every position row of the CLI table matches the JSON's
awk '/^CTR by position/ {p = 1; next} /^$/ {p = 0} p && $1 ~ /^[0-9]+$/ {print $1, $2, $3}' "$TMP/out" >"$TMP/cli.pos"
grep -o '"position": [0-9]*, "shown": [0-9]*, "clicked": [0-9]*' "$TMP/stats.json" |
    sed 's/[^0-9 ]//g; s/  */ /g; s/^ //' >"$TMP/json.pos"
[ -s "$TMP/cli.pos" ] && diff "$TMP/cli.pos" "$TMP/json.pos" >&2 || fail "/events/stats differs from facto events stats"
[ "$(wc -l <"$TMP/json.pos")" -eq 10 ] || fail "want 10 positions: $(cat "$TMP/json.pos")"
browse "$U/?view=stats" "$TMP/stats.html"
grep -q 'data-done="stats"' "$TMP/stats.html" || { cat "$TMP/stats.html" >&2; fail "the stats view did not finish"; }
[ "$(grep -o '<rect ' "$TMP/stats.html" | wc -l)" -eq 10 ] || fail "want 10 bars in the chart"
grep -q '<td>2</td><td>1</td><td>1</td><td>1.0000</td>' "$TMP/stats.html" || fail "no table row for position 2"
if [ -n "${FACTO_PAGE_SHOTS:-}" ]; then # pictures to look at (docs/serving.md)
    "$CHROME" --headless --no-sandbox --disable-gpu --user-data-dir="$TMP/profile2" --virtual-time-budget=10000 \
        --window-size=1000,800 --screenshot="$FACTO_PAGE_SHOTS/page-stats.png" "$U/?view=stats" 2>/dev/null
fi
stop

# ---- --log-impressions: the page posts the click only; no log: nothing posted -----
E="$TMP/ev2"
start --model "$M" --events-dir "$E" --log-impressions
browse "$U/?history=3,5&autoclick=1&similar=2" "$TMP/dom2.html"
grep -q 'data-done="recs"' "$TMP/dom2.html" || fail "history: $(grep status "$TMP/dom2.html")"
[ "$(grep -c '"type":"impression"' <(ev))" -eq 2 ] || fail "want the server's 2 impressions: $(ev)"
[ "$(grep -c '"type":"click"' <(ev))" -eq 1 ] || fail "want 1 click: $(ev)"
rid=$(grep '"route":"/recommendations"' <(ev) | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
[ -n "$rid" ] || fail "no impression logged by /recommendations: $(ev)"
grep '"type":"click"' <(ev) | grep -qF "\"request_id\":\"$rid\"" || fail "click without $rid: $(ev)"
# the similar list: the items of position 2's /similar-items, as the server logged them
sim=$(grep '"route":"/similar-items"' <(ev) | sed -n 's/.*"items":\[\([^]]*\)\].*/\1/p' | tr -d '"')
[ "$(tr ',' '\n' <<<"$sim" | wc -l)" -eq 10 ] || fail "want 10 similar items logged: $(ev)"
dom=$(sed -n 's/.*<ol id="sim"[^>]*>\(.*\)/\1/p' "$TMP/dom2.html" | grep -o 'data-item="[^"]*"' |
      sed 's/data-item="\(.*\)"/\1/' | paste -sd, -)
[ "$dom" = "$sim" ] || fail "the similar list shows $dom, the log $sim"
stop
start --model "$M"
req 404 "$U/events/stats"
grep -qF '"error": "no_event_log"' "$TMP/body" || fail "no log: $(cat "$TMP/body")"
browse "$U/?user=7&autoclick=3" "$TMP/dom3.html"
grep -q 'click not logged (no event log)' "$TMP/dom3.html" || fail "no log: $(grep status "$TMP/dom3.html")"
stop

# ---- an API key: the page loads, the routes refuse, the page asks for the key -------
printf 'sekrit-key-123\n' >"$TMP/key"
E="$TMP/ev3"
start --model "$M" --events-dir "$E" --api-key-file "$TMP/key"
req 200 "$U/"
req 401 "$U/events/stats"
req 401 "$U/users"
req 200 -H 'Authorization: Bearer sekrit-key-123' "$U/events/stats"
browse "$U/?user=7&autoclick=2" "$TMP/dom4.html"
grep -q 'data-done="error"' "$TMP/dom4.html" || fail "with a key: $(grep -o 'data-done="[^"]*"' "$TMP/dom4.html")"
grep -q '<form id="keyform">' "$TMP/dom4.html" || fail "the key form is not shown"
grep -q 'needs its API key' "$TMP/dom4.html" || fail "no key message"
[ -z "$(ev)" ] || fail "events without the key: $(ev)"
stop
echo "ok"
