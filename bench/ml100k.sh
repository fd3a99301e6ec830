#!/usr/bin/env bash
# bench/ml100k.sh — biased MF with default settings on the five official
# MovieLens 100K splits (u1..u5): test RMSE, MAE, training seconds and
# ratings/s per split and their mean, plus the machine it ran on.
# Usage: bench/ml100k.sh [path/to/facto] [extra train flags...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${1:-$here/build/facto}
shift || true
if [ -z "${FACTO_DATA_HOME:-}" ] && [ -d "$here/../shared/data" ]; then
  export FACTO_DATA_HOME=$(cd "$here/../shared/data" && pwd)
fi
# the first "$1": number of the one-line JSON (train's "params", which may hold an epochs of its own, come last)
field() { grep -o "\"$1\": *[-0-9.eE+]*" <<<"$2" | head -n1 | sed 's/.*: *//'; }
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "facto:   $("$facto" --version)  flags: ${*:-(defaults)}"
printf '%-6s %8s %8s %9s %12s\n' split rmse mae seconds ratings/s
sum_r=0; sum_m=0; sum_s=0; sum_t=0
for s in u1 u2 u3 u4 u5; do
  if ! out=$("$facto" train --dataset ml-100k --split "$s" --json "$@" 2>/tmp/facto-bench.$$); then
    cat /tmp/facto-bench.$$ >&2; rm -f /tmp/facto-bench.$$; exit 2
  fi
  rm -f /tmp/facto-bench.$$
  r=$(field test_rmse "$out"); m=$(field test_mae "$out"); sec=$(field seconds "$out"); t=$(field ratings_per_second "$out")
  printf '%-6s %8.4f %8.4f %9.2f %12.0f\n' "$s" "$r" "$m" "$sec" "$t"
  sum_r=$(awk -v a="$sum_r" -v b="$r" 'BEGIN{print a+b}'); sum_m=$(awk -v a="$sum_m" -v b="$m" 'BEGIN{print a+b}')
  sum_s=$(awk -v a="$sum_s" -v b="$sec" 'BEGIN{print a+b}'); sum_t=$(awk -v a="$sum_t" -v b="$t" 'BEGIN{print a+b}')
done
awk -v r="$sum_r" -v m="$sum_m" -v s="$sum_s" -v t="$sum_t" \
  'BEGIN{printf "%-6s %8.4f %8.4f %9.2f %12.0f\n", "mean", r/5, m/5, s/5, t/5}'
