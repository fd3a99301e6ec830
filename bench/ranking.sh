#!/usr/bin/env bash
# bench/ranking.sh — every ranking model on one protocol (issue 9): ml-100k,
# ratings >= 4 as positives (--implicit-threshold 4), 20% of each user's
# positives held out (--split per-user:0.2 --seed 1), every model at its
# defaults. Prints per model NDCG@10, Recall@20, MAP@10, coverage@10 (full
# ranking over every item but the user's training ones; docs/metrics.md),
# the training seconds facto reports and the wall seconds of the whole
# command (reading, training, evaluation), median of RUNS runs (the metrics
# do not change between runs: every model is deterministic for a seed).
# Usage: bench/ranking.sh [RUNS=3] [KIND...]   (needs FACTO_DATA_HOME with ml-100k)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FACTO:-$here/build/facto}
runs=${1:-3}
shift || true
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(popular itemknn ease ials bpr warp softmax)
[ -x "$bin" ] || { echo "bench/ranking.sh: build first ($bin is missing)" >&2; exit 1; }
[ -f "${FACTO_DATA_HOME:-}/ml-100k/u.data" ] || { echo "bench/ranking.sh: FACTO_DATA_HOME has no ml-100k/u.data" >&2; exit 1; }
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "protocol: ml-100k u.data --implicit-threshold 4 --split per-user:0.2 --seed 1, defaults; median of $runs runs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/facto-ranking.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# field NAME JSON: the number after "NAME": in a one-line JSON object
field() { sed -n "s/.*\"$1\": \([-0-9.eE+naif]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
printf '%-9s %8s %9s %8s %11s %9s %8s\n' model 'NDCG@10' 'Recall@20' 'MAP@10' 'coverage@10' 'train s' 'wall s'
for kind in "${kinds[@]}"; do
  if ! "$bin" train --model "$kind" --help >/dev/null 2>&1; then
    printf '%-9s (not a model kind of this build)\n' "$kind"
    continue
  fi
  : >"$tmp/train" ; : >"$tmp/wall"
  json=
  for r in $(seq 1 "$runs"); do
    s0=$(date +%s.%N)
    json=$("$bin" train --model "$kind" --dataset ml-100k --implicit-threshold 4 --split per-user:0.2 --seed 1 \
             --metrics ndcg@10,recall@20,map@10,coverage@10 --json 2>"$tmp/err") ||
      { echo "$kind: facto failed:"; cat "$tmp/err"; continue 2; }
    s1=$(date +%s.%N)
    field seconds "$json" >>"$tmp/train"
    awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.3f\n", b - a}' >>"$tmp/wall"
  done
  printf '%-9s %8.4f %9.4f %8.4f %11.4f %9.3f %8.3f\n' "$kind" "$(field 'ndcg@10' "$json")" \
    "$(field 'recall@20' "$json")" "$(field 'map@10' "$json")" "$(field 'coverage@10' "$json")" \
    "$(median <"$tmp/train")" "$(median <"$tmp/wall")"
done
