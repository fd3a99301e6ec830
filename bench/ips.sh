#!/usr/bin/env bash
# bench/ips.sh — debiasing ratings (Schnabel et al., ICML 2016) on the
# synthetic MNAR set of `facto datasets synth --mnar ALPHA` (users rate what
# they like: exposure ALPHA^max(0, 4 - rating)), over SEEDS seeds: the RMSE
# of naive MF and of MF with --propensities on the uniformly exposed test
# pairs, and for each model the RMSE on the MNAR test part as measured
# (naive) and estimated by IPS and SNIPS (eval --propensities), beside the
# uniform-test RMSE they estimate. MF at its defaults; one thread; a few
# seconds a seed.
# Usage: bench/ips.sh [SEEDS=3] [ALPHA=0.25] [USERS=300] [ITEMS=300] [RATINGS=9000]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${FACTO_BIN:-$here/build/facto}
seeds=${1:-3} alpha=${2:-0.25} users=${3:-300} items=${4:-300} ratings=${5:-9000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/facto-ips-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "machine: $(uname -m), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "synth --mnar $alpha: $users users x $items items, about $ratings observed; mf defaults"
field() { grep -o "\"$1\": *[-0-9.eE+]*" "$2" | head -n1 | sed 's/.*: *//'; }
printf '%-5s %-6s %9s %9s %9s %9s %8s\n' seed model uniform naive_est ips_est snips_est train_s
for s in $(seq 1 "$seeds"); do
    d=$dir/s$s
    "$facto" datasets synth --mnar "$alpha" --users "$users" --items "$items" --ratings "$ratings" --seed "$s" \
        --out "$d" >/dev/null
    for model in naive ips; do
        extra=()
        [ "$model" = ips ] && extra=(--propensities "$d/train.propensities")
        "$facto" train --train "$d/train.tsv" --seed "$s" --json --out "$d/$model.facto" "${extra[@]}" \
            >"$d/train.json" 2>/dev/null
        "$facto" eval --model "$d/$model.facto" --test "$d/uniform.tsv" --json >"$d/u.json"
        "$facto" eval --model "$d/$model.facto" --test "$d/test.tsv" --propensities "$d/test.propensities" \
            --json >"$d/e.json"
        printf '%-5s %-6s %9.4f %9.4f %9.4f %9.4f %8s\n' "$s" "$model" "$(field rmse "$d/u.json")" \
            "$(field rmse "$d/e.json")" "$(field ips_rmse "$d/e.json")" "$(field snips_rmse "$d/e.json")" \
            "$(field seconds "$d/train.json")"
    done
done
