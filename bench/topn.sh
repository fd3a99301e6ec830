#!/usr/bin/env bash
# Batch top-N speed (issue 9): facto_model_recommend_batch over every user of
# a synthetic 100,000-user x 50,000-item MF model at k = 64 (bench/topn.c),
# beside cblas_sgemm's measured GFLOP/s on the same products (the faster of
# whole rows with OpenBLAS threads and per-thread 256 x 512 tiles): the
# share of the bound users/s = sgemm FLOP/s / (2 k items). Runs 3 times; prints each
# run and the median. Usage: bench/topn.sh [build dir] [topn flags...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true
bin=$build/bench/topn
[ -x "$bin" ] || { echo "bench/topn.sh: build first ($bin is missing)" >&2; exit 1; }
echo "machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
runs=()
shares=()
for r in 1 2 3; do
  line=$("$bin" "$@")
  echo "run $r: $line"
  runs+=("$(echo "$line" | sed 's/.* s, \([0-9]*\) users\/s.*/\1/')")
  shares+=("$(echo "$line" | sed 's/.*; \([0-9.]*\) of the bound.*/\1/')")
done
printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p | xargs -I{} echo "median users/s: {}"
printf '%s\n' "${shares[@]}" | sort -n | sed -n 2p | xargs -I{} echo "median share of the bound: {}"
