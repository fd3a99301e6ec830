#!/usr/bin/env bash
# bench/serve.sh [FACTO_BIN] — requests/s and latency of `facto serve` under
# wrk (on the same machine), on the ml-100k MF model at its defaults
# (trained on u1.base): POST /invocations with 10 {"user", "item"}
# instances a request, and GET /recommendations?user=U&k=10 over random
# training users. Prints one line a route: requests/s, p50 and p99 latency
# (wrk's, in ms), the share of non-2xx answers, and the server's CPU time
# a request (user + system, from /proc: what the rate would be per core on
# an idle machine is 1000 / cpu_ms).
# Environment: FACTO_DATA_HOME (ml-100k), DURATION (seconds a route, default
# 10), CONNECTIONS (default 16), WRK_THREADS (default 1), SERVER_THREADS
# (default: all cores). Needs wrk (Debian: apt-get install wrk).
# Target (issue 11), wrk on the same 2-core machine: /recommendations
# p99 <= 2 ms at >= 10,000 requests/s.
set -euo pipefail
F=${1:-build/facto}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-1}
SERVER_THREADS=${SERVER_THREADS:-0}
command -v wrk >/dev/null || { echo "bench/serve.sh: wrk is not installed (Debian: apt-get install wrk)" >&2; exit 1; }
[ -x "$F" ] || { echo "bench/serve.sh: no facto binary at $F (build first)" >&2; exit 1; }
[ -f "${FACTO_DATA_HOME:-}/ml-100k/u1.base" ] || { echo "bench/serve.sh: FACTO_DATA_HOME has no ml-100k" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/facto-serve-bench.XXXXXX")
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT

"$F" train --dataset ml-100k --split u1 --out "$tmp/mf.facto" >/dev/null 2>&1
threads=()
[ "$SERVER_THREADS" -gt 0 ] && threads=(--threads "$SERVER_THREADS")
"$F" serve --model "$tmp/mf.facto" --port 0 --quiet "${threads[@]}" >"$tmp/out" 2>"$tmp/err" &
srv=$!
for _ in $(seq 200); do grep -q '^listening' "$tmp/out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$tmp/out")
[ -n "$url" ] || { cat "$tmp/err" >&2; exit 1; }

# 10 instances: random training users and items (ml-100k ids 1..943, 1..1682)
cat >"$tmp/invocations.lua" <<'LUA'
math.randomseed(1)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
for b = 1, 100 do
  local parts = {}
  for i = 1, 10 do
    parts[i] = string.format('{"user": "%d", "item": "%d"}', math.random(1, 943), math.random(1, 1682))
  end
  bodies[b] = '{"instances": [' .. table.concat(parts, ", ") .. ']}'
end
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/invocations", nil, bodies[n % 100 + 1])
end
LUA
cat >"$tmp/recommendations.lua" <<'LUA'
math.randomseed(2)
request = function()
  return wrk.format("GET", "/recommendations?user=" .. math.random(1, 943) .. "&k=10")
end
LUA
cat >"$tmp/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad, summary.requests))
end
LUA
echo "machine: $(uname -sm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "facto:   $("$F" --version); MF at its defaults on ml-100k u1; server threads: ${SERVER_THREADS/#0/all cores}"
echo "wrk:     $WRK_THREADS thread(s), $CONNECTIONS connections, ${DURATION}s a route, same machine"
printf '%-18s %12s %10s %10s %12s %8s\n' route requests/s p50_ms p99_ms errors cpu_ms/req
cpu() { awk '{ print $14 + $15 }' "/proc/$srv/stat"; }
hz=$(getconf CLK_TCK)
for route in invocations recommendations; do
    cat "$tmp/$route.lua" "$tmp/report.lua" >"$tmp/run.lua"
    c0=$(cpu)
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$tmp/run.lua" "$url" >"$tmp/wrk.out" 2>&1
    read -r _ rps p50 p99 bad n < <(grep '^RESULT' "$tmp/wrk.out") || { cat "$tmp/wrk.out" >&2; exit 1; }
    c1=$(cpu)
    printf '%-18s %12s %10s %10s %12s %8.3f\n' "/$route" "$rps" "$p50" "$p99" "$bad/$n" \
        "$(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$n" 'BEGIN { print n ? c / hz * 1000 / n : 0 }')"
done
kill -TERM $srv
wait $srv
srv=
