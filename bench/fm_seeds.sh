#!/usr/bin/env bash
# bench/fm_seeds.sh — how much FM MCMC test RMSE on MovieLens 100K u1 moves
# with the seed, for the settings the README and issue 3 quote: ratings in
# block form at num_factors 32, init_stdev 0.1, facto's default 4 chains x
# 250 iterations (one-hot, + u.user/u.item side features, + the user's rated
# items) and libFM's one chain x 500 (side + implicit); then u1 as libsvm rows
# (facto convert), one chain x 100, with a prior group per one-hot field
# (--prior-groups 1, the default) and with one group (0, libFM without -meta).
# Prints per configuration the saved model's and the chains' running-average
# test RMSE, min-max over the seeds. A few minutes on 2 cores.
# Usage: bench/fm_seeds.sh [path/to/facto]   (FM_SEEDS="1 2 3 4" sets the seeds)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${1:-$here/build/facto}
seeds=${FM_SEEDS:-1 2 3 4}
if [ -z "${FACTO_DATA_HOME:-}" ] && [ -d "$here/../shared/data" ]; then
  export FACTO_DATA_HOME=$(cd "$here/../shared/data" && pwd)
fi
[ -f "${FACTO_DATA_HOME:-}/ml-100k/u1.base" ] || { echo "fm_seeds: no ml-100k under FACTO_DATA_HOME"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/facto-bench-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# the first "$1": number of the one-line JSON (train's "params", which may hold an epochs of its own, come last)
field() { grep -o "\"$1\": *[-0-9.eE+]*" <<<"$2" | head -n1 | sed 's/.*: *//'; }
"$facto" convert --dataset ml-100k --split u1 --to libsvm --out "$tmp/u1" >/dev/null 2>&1

echo "machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "facto:   $("$facto" --version); seeds: $seeds; num_factors 32, init_stdev 0.1"
printf '%-42s %-17s %s\n' configuration "saved (min-max)" "chain (min-max)"
row() {
  local label=$1; shift
  local s c out lo_s= hi_s= lo_c= hi_c=
  for seed in $seeds; do
    out=$("$facto" train --model fm --solver mcmc --num_factors 32 --predictor_type regressor --init_stdev 0.1 \
          --seed "$seed" "$@" --json 2>/dev/null) || { echo "$label: training failed"; return; }
    s=$(field test_rmse "$out"); c=$(field test_rmse_chain "$out")
    read -r lo_s hi_s < <(awk -v a="$lo_s" -v b="$hi_s" -v x="$s" 'BEGIN { if (a == "" || x < a) a = x; if (b == "" || x > b) b = x; print a, b }')
    read -r lo_c hi_c < <(awk -v a="$lo_c" -v b="$hi_c" -v x="$c" 'BEGIN { if (a == "" || x < a) a = x; if (b == "" || x > b) b = x; print a, b }')
  done
  printf '%-42s %-17s %s\n' "$label" "$(printf '%.4f-%.4f' "$lo_s" "$hi_s")" "$(printf '%.4f-%.4f' "$lo_c" "$hi_c")"
}
R=(--dataset ml-100k --split u1)
row "one-hot, 4 chains x 250" "${R[@]}" --num_iter 250
row "+ side, 4 chains x 250" "${R[@]}" --num_iter 250 --side-features
row "+ side + implicit (user), 4 chains x 250" "${R[@]}" --num_iter 250 --side-features --implicit user
row "+ side + implicit (user), 1 chain x 500" "${R[@]}" --num_iter 500 --side-features --implicit user --mcmc_chains 1
row "+ side, 1 chain x 500" "${R[@]}" --num_iter 500 --side-features --mcmc_chains 1
L=(--train "$tmp/u1.train" --test "$tmp/u1.test" --num_iter 100 --mcmc_chains 1)
row "libsvm rows, 1 chain x 100, a group/field" "${L[@]}"
row "libsvm rows, 1 chain x 100, one group" "${L[@]}" --prior-groups 0
echo "saved = the saved model's test RMSE (ratings: rank-256 summary; rows: 16 thinned samples);"
echo "chain = running average of every iteration's prediction (each clipped to the rating range, as libFM)."
