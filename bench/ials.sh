#!/usr/bin/env bash
# bench/ials.sh — iALS speed at MovieLens-20M scale (issue 9's target: <= 5.5 s
# per iteration at k 64 on 2 threads). Runs bench/ials_bench.c (synthetic
# 138,493 users x 26,744 items x 10,000,000 interactions, Zipf-like items,
# long-tailed users, fixed seed; see its header) RUNS times with ITERS
# iterations each, and prints every run's median seconds per iteration, the
# median over runs, the effective GFLOP/s and OpenBLAS sgemm's GFLOP/s on the
# same threads, and the load average around each run (the machine may be
# shared: compare loads before reading the figures).
# Usage: bench/ials.sh [RUNS=3] [ITERS=5] [extra ials_bench flags...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${IALS_BENCH:-$here/build/bench/ials_bench}
runs=${1:-3}; iters=${2:-5}
shift 2 2>/dev/null || shift $# 
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
meds=()
for r in $(seq 1 "$runs"); do
  before=$(cut -d' ' -f1-3 /proc/loadavg)
  out=$("$bin" --iters "$iters" --threads 2 --k 64 "$@")
  line=$(grep '^ials k' <<<"$out")
  med=$(sed -n 's/.*median \([0-9.]*\) s per iteration.*/\1/p' <<<"$line")
  gf=$(sed -n 's/.*s), \([0-9.]*\) GFLOP\/s effective.*/\1/p' <<<"$line")
  sg=$(sed -n 's/.*on 2 threads \([0-9.a-z]*\) GFLOP\/s.*/\1/p' <<<"$line")
  [ "$r" = 1 ] && grep '^data:' <<<"$out"
  echo "run $r: iterations $(grep '^iteration' <<<"$out" | sed 's/.*: \([0-9.]*\) s.*/\1/' | tr '\n' ' ')s;" \
       "median $med s, $gf GFLOP/s effective; sgemm $sg GFLOP/s; load before $before, after $(cut -d' ' -f1-3 /proc/loadavg)"
  meds+=("$med")
done
printf '%s\n' "${meds[@]}" | sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
  printf "median over %d runs: %.3f s per iteration (target 5.5 s)\n", NR, m}'
