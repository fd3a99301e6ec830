#!/usr/bin/env bash
# bench/fm.sh — factorization machine speed through the CLI, next to libFM's
# figures from issue 3 (libFM 1.4.2 on this kind of machine, dim 32, u1.base:
# SGD ~4.3M samples/s, MCMC ~40 ms per iteration). Prints the machine, then
# SGD samples/s and MCMC seconds per iteration (update time, from the fit's
# per-epoch timing) with test RMSE, at num_factors 32, on one-hot ML-100K u1
# (encoded on the fly) and on a 2M-row synthetic one-hot set made by awk;
# then MCMC test RMSE on u1 for one-hot, side and side + implicit features
# (the default 4 chains x 250 iterations each, and one chain x 500 as libFM
# runs it: a few minutes), chain and saved model, model size.
# The speed rows run one MCMC chain (--mcmc_chains 1), as libFM does; the
# accuracy rows the default 4 chains on 2 threads.
# Usage: bench/fm.sh [path/to/facto] [synthetic rows, default 2000000]
# (FM_BENCH_ITER=N sets the accuracy table's iterations per chain.)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${1:-$here/build/facto}
rows=${2:-2000000}
if [ -z "${FACTO_DATA_HOME:-}" ] && [ -d "$here/../shared/data" ]; then
  export FACTO_DATA_HOME=$(cd "$here/../shared/data" && pwd)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/facto-bench-fm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# the first "$1": number of the one-line JSON (train's "params", which may hold an epochs of its own, come last)
field() { grep -o "\"$1\": *[-0-9.eE+]*" <<<"$2" | head -n1 | sed 's/.*: *//'; }
LIBFM_SGD=4300000   # samples/s, issue 3
LIBFM_MCMC=0.040    # seconds per iteration, issue 3

echo "machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "facto:   $("$facto" --version), one thread (one MCMC chain), num_factors 32"
printf '%-34s %-9s %7s %13s %12s %9s %9s  %s\n' data solver iters samples/s s/iter rmse chain "vs libFM"

# run LABEL SOLVER DATA-ARGS... -- TRAIN-ARGS...: one row of the table.
run() {
  local label=$1 solver=$2; shift 2
  local out
  out=$("$facto" train --model fm "$@" --num_factors 32 --predictor_type regressor --json 2>/dev/null)
  local sps ep rmse n chain
  sps=$(field samples_per_second "$out"); ep=$(field epochs "$out"); rmse=$(field test_rmse "$out")
  n=$(field n_train "$out"); chain=$(field test_rmse_chain "$out")
  awk -v l="$label" -v s="$solver" -v e="$ep" -v r="$sps" -v n="$n" -v t="$rmse" -v c="${chain:--}" \
      -v lsgd="$LIBFM_SGD" -v lmc="$LIBFM_MCMC" 'BEGIN {
        it = n / r
        # libFM MCMC: 80000 u1.base rows in lmc seconds; compared as rows per second.
        cmp = (s ~ /^mcmc/) ? sprintf("%.2fx libFM MCMC (%.0f ms/iter on u1 = %.1fM rows/s)", r * lmc / 80000,
                                      lmc * 1000, 80000 / lmc / 1e6) \
                            : sprintf("%.2fx libFM SGD (%.1fM/s)", r / lsgd, lsgd / 1e6)
        printf "%-34s %-9s %7d %13.0f %12.4f %9.4f %9s  %s\n", l, s, e, r, it, t, c, cmp }'
}

# Settings of tests/unit/test_fm.c's u1 regressor (tuned on ua), at k = 32.
SGD=(--solver sgd --optimizer sgd --mini_batch_size 1 --bias_lr 0.002 --linear_lr 0.002 --factors_lr 0.01
     --bias_wd 0 --linear_wd 0.02 --factors_wd 0.08 --factors_init_sigma 0.01 --seed 1)
if [ -f "${FACTO_DATA_HOME:-}/ml-100k/u1.base" ]; then
  U1=(--dataset ml-100k --split u1)
  run "ml-100k u1 one-hot (80k rows)" sgd "${U1[@]}" "${SGD[@]}" --epochs 60 --average_epochs 20
  run "ml-100k u1 one-hot (80k rows)" sgd/adam "${U1[@]}" --solver sgd --epochs 20 --seed 1
  run "ml-100k u1 one-hot (80k rows)" mcmc "${U1[@]}" --solver mcmc --num_iter 100 --init_stdev 0.1 --seed 1 \
      --mcmc_chains 1 --threads 1
  F1=(--train "$tmp/u1.train" --test "$tmp/u1.test")
  "$facto" convert --dataset ml-100k --split u1 --to libsvm --out "$tmp/u1" >/dev/null &&
    run "ml-100k u1 one-hot, libsvm rows" mcmc "${F1[@]}" --solver mcmc --num_iter 100 --init_stdev 0.1 --seed 1 \
      --mcmc_chains 1 --threads 1
else
  echo "(no ml-100k under FACTO_DATA_HOME: u1 rows skipped)"
fi

# MCMC accuracy (issue 3's targets, next to libFM 1.4.2's figures): ratings in
# block form through the CLI, as a user runs it; chain = libFM's running
# average over all iterations, saved = the saved model (what facto eval and
# predict use), s/iter = update time per iteration (test scoring excluded).
ITER=${FM_BENCH_ITER:-250}
if [ -f "${FACTO_DATA_HOME:-}/ml-100k/u1.base" ]; then
  echo
  echo "MCMC accuracy, ml-100k u1, block form: num_factors 32, init_stdev 0.1, seed 1; 4 chains x $ITER iterations"
  echo "(facto's default mcmc_chains) on $(nproc) threads unless the row says otherwise"
  printf '%-30s %8s %8s %8s %8s %8s %8s %10s\n' features chain saved target libFM s/iter cpu/iter "model MB"
  # CPU seconds of this shell's finished children (clock ticks), robust to a busy machine.
  child_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($16 + $17) / hz }' "/proc/$$/stat"; }
  acc() {
    local label=$1 target=$2 libfm=$3; shift 3
    local out c0 c1
    c0=$(child_cpu)
    local it=$ITER ch=4
    case " $* " in *" --num_iter "*) it=$(sed -n 's/.*--num_iter \([0-9]*\).*/\1/p' <<<"$*");; esac
    case " $* " in *" --mcmc_chains "*) ch=$(sed -n 's/.*--mcmc_chains \([0-9]*\).*/\1/p' <<<"$*");; esac
    out=$("$facto" train --model fm --solver mcmc --dataset ml-100k --split u1 --num_factors 32 \
          --predictor_type regressor --num_iter "$ITER" --init_stdev 0.1 --seed 1 --out "$tmp/acc.facto" \
          "$@" --json 2>/dev/null) || { echo "$label: training failed"; return; }
    c1=$(child_cpu)
    awk -v l="$label" -v c="$(field test_rmse_chain "$out")" -v s="$(field test_rmse "$out")" -v t="$target" \
        -v f="$libfm" -v r="$(field samples_per_second "$out")" -v n="$(field n_train "$out")" \
        -v b="$(field model_bytes "$out")" -v cpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v it="$((it * ch))" \
        'BEGIN { printf "%-30s %8.4f %8.4f %8s %8s %8.4f %8.4f %10.2f\n", l, c, s, t, f, n / r, cpu / it, b / 1e6 }'
  }
  acc "one-hot user + item" "<=0.905" 0.9056
  acc "+ side (u.user, u.item)" "<=0.897" 0.8978 --side-features
  acc "+ side + implicit (user)" "<=0.893" 0.8947 --side-features --implicit user
  acc "+ side + implicit (user+item)" - - --side-features --implicit both
  acc "one-hot, 16 thinned samples" - - --summary_rank 0
  acc "side + implicit, 1 chain x 500" "<=0.893" 0.8947 --side-features --implicit user --mcmc_chains 1 --num_iter 500
  acc "side + implicit, 4 chains x 500" "<=0.893" 0.8947 --side-features --implicit user --num_iter 500
  echo "s/iter = one chain's wall time per iteration (sweeps, test scoring, posterior sums); cpu/iter = CPU"
  echo "time of the whole facto run (reading, every iteration's test scoring, saving) / (iterations x chains)."
  echo "saved = rank-256 summary of the per-user / per-item sums (summary_rank -1, the default), except"
  echo "the 16-sample row (summary_rank 0: mcmc_samples 16 thinned samples, 4 from each chain)."
  echo "Best published u1: 0.8889 (GLocal-K)."
fi

# Classifier check (issue 3): label = rating >= 4 on u1, metrics on u1.test.
if [ -f "${FACTO_DATA_HOME:-}/ml-100k/u1.base" ]; then
  echo
  echo "binary_classifier, ml-100k u1, label = rating >= 4 (u1.test: metrics of the saved model)"
  printf '%-44s %9s %9s %9s %9s %9s %9s\n' solver accuracy x-entropy F1 AUC precision recall
  clf() {
    local label=$1; shift
    local out
    out=$("$facto" train --model fm --dataset ml-100k --split u1 --binarize 4 --predictor_type binary_classifier \
          "$@" --json 2>/dev/null) || { echo "$label: training failed"; return; }
    printf '%-44s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n' "$label" "$(field binary_classification_accuracy "$out")" \
      "$(field binary_classification_cross_entropy "$out")" "$(field binary_f_beta "$out")" "$(field auc "$out")" \
      "$(field precision "$out")" "$(field recall "$out")"
  }
  clf "sgd, k 64, 40 epochs (test_fm.c's settings)" --solver sgd --optimizer sgd --mini_batch_size 1 --num_factors 64 \
      --epochs 40 --average_epochs 15 --bias_lr 0.01 --linear_lr 0.01 --factors_lr 0.05 --bias_wd 0 \
      --linear_wd 0.02 --factors_wd 0.05 --factors_init_sigma 0.01 --seed 1
  clf "mcmc (probit), k 32, 200 iterations" --solver mcmc --num_factors 32 --num_iter 200 --init_stdev 0.1 --seed 1
fi

# Synthetic: 100k users x 20k items one-hot, label = 3 + b_u + b_i + p_u.q_i
# (rank 2) + N(0, 0.5^2) noise; `rows` training rows and a tenth as many test rows.
awk -v n="$((rows + rows / 10))" -v tr="$tmp/s.train" -v te="$tmp/s.test" 'BEGIN {
  srand(11); U = 100000; I = 20000
  for (u = 0; u < U; u++) { bu[u] = rand() - 0.5; p1[u] = rand() - 0.5; p2[u] = rand() - 0.5 }
  for (i = 0; i < I; i++) { bi[i] = rand() - 0.5; q1[i] = 2 * rand() - 1; q2[i] = 2 * rand() - 1 }
  for (r = 0; r < n; r++) {
    u = int(rand() * U); i = int(rand() * I)
    z = sqrt(-2 * log(rand() + 1e-12)) * cos(6.283185307 * rand())
    y = 3 + bu[u] + bi[i] + 2 * (p1[u] * q1[i] + p2[u] * q2[i]) + 0.5 * z
    printf "%.3f %d:1 %d:1\n", y, u, U + i > (r % 11 == 10 ? te : tr)
  } }'
"$facto" convert --input "$tmp/s.train" --to recordio --out "$tmp/s.train.rec" --feature_dim 120000 >/dev/null
"$facto" convert --input "$tmp/s.test" --to recordio --out "$tmp/s.test.rec" --feature_dim 120000 >/dev/null
S=(--train "$tmp/s.train.rec" --test "$tmp/s.test.rec")
label="synthetic one-hot ($rows rows)"
run "$label" sgd "${S[@]}" "${SGD[@]}" --epochs 3
run "$label" sgd/adam "${S[@]}" --solver sgd --epochs 3 --seed 1
run "$label" mcmc "${S[@]}" --solver mcmc --num_iter 5 --init_stdev 0.1 --seed 1 --mcmc_chains 1 --threads 1
# 1 vs 2 threads, alternately (the model is the same bit for bit): mini-batches of 100000
# (6.4M multiply-adds, over the threshold for threads) and one MCMC chain (pair-form sweeps).
for t in 1 2 1 2; do
  run "$label, $t thread(s)" sgd/b1e5 "${S[@]}" --solver sgd --epochs 2 --mini_batch_size 100000 --seed 1 --threads "$t"
done
for t in 1 2; do
  run "$label, $t thread(s)" mcmc "${S[@]}" --solver mcmc --num_iter 3 --init_stdev 0.1 --seed 1 --mcmc_chains 1 \
      --threads "$t"
done
# MCMC from ratings, one chain, 1 vs 2 threads alternately (3 pairs): wall and CPU
# seconds of each run and the medians of the 2-thread / 1-thread ratios. The
# ratings come from `datasets synth` (FM_MCMC_RATINGS of them, default 2M, 50,000 x
# 10,000; FM_MCMC_USERS users); the pair-form sweeps go on threads only from fct_fm_par_min_rows (20M).
mr=${FM_MCMC_RATINGS:-2000000}
"$facto" datasets synth --users "${FM_MCMC_USERS:-50000}" --items 10000 --ratings "$mr" --seed 1 --out "$tmp/mr.fds" >/dev/null
echo "MCMC from ratings ($mr synthetic ratings, k 32, one chain, 3 iterations), 1 vs 2 threads alternately:"
ratios=()
for pair in 1 2 3; do
  for t in 1 2; do
    TIMEFORMAT='%R %U %S'
    tm=$( { time "$facto" train --model fm --from-ratings "$tmp/mr.fds" --solver mcmc --num_factors 32 \
              --predictor_type regressor --num_iter 3 --init_stdev 0.1 --seed 1 --mcmc_chains 1 --threads "$t" \
              >/dev/null 2>&1; } 2>&1 )
    read -r wall usr sys <<<"$tm"
    cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    printf '  pair %d, %d thread(s): %6.2f s wall, %6.2f s CPU\n' "$pair" "$t" "$wall" "$cpu"
    if [ "$t" = 1 ]; then w1=$wall; c1=$cpu; else ratios+=("$(awk -v a="$wall" -v b="$w1" -v c="$cpu" -v d="$c1" \
      'BEGIN { printf "%.3f %.3f", a / b, c / d }')"); fi
  done
done
mw=$(printf '%s\n' "${ratios[@]}" | cut -d' ' -f1 | sort -g | sed -n 2p)
mc=$(printf '%s\n' "${ratios[@]}" | cut -d' ' -f2 | sort -g | sed -n 2p)
echo "  2 threads / 1 thread, medians of 3 pairs: ${mw}x wall, ${mc}x CPU"

echo "sgd = per-row plain SGD (libFM's -method sgd); sgd/adam = SageMaker's defaults (Adam, mini-batch 1000)."
echo "s/iter = training rows / samples per second (SGD: updates only, the per-epoch test scoring not counted)."
echo "rmse = the saved model's test RMSE (MCMC on ratings: the rank-256 summary; on rows: its mcmc_samples"
echo "thinned samples); chain = MCMC's running average over all iterations, the figure libFM reports."
echo "MCMC speed rows: one chain on one thread, s/iter with every iteration's test scoring, as libFM's."
echo "libFM's figures (issue 3) are for u1.base only; the synthetic rows are compared with the same rates."
echo "thread(s) rows: sgd/b1e5 = Adam, mini-batch 100000 (rows scored, then slots stepped, in parallel);"
echo "mcmc = one chain; its pair-form sweeps go on the threads from 20M rows only (fct_fm_par_min_rows: below,"
echo "2 threads measured slower), so here both counts run one thread. Both give the same model for any count."
