#!/usr/bin/env bash
# bench/libfm_compare.sh — facto's factorization machines next to libFM 1.4.2
# (Rendle) on the same files, on this machine, at the same moment (issue 3).
# MovieLens 100K u1 is encoded by `facto convert` (one-hot user + item; with
# --side-features also u.user age bucket, gender, occupation and u.item
# genres / n_genres, release decade); for the block rows this script writes
# libFM's block-structure files from those rows (one relation per user: id,
# side features, the user's training items / sqrt(|N(u)|); one per item: id,
# side features; an empty last row for ids unknown to training), with one
# prior group per kind of feature as facto's block path (--prior-groups 1); the
# flat rows have one group on both sides (libFM without -meta, facto --prior_groups 0).
# libFM and facto then train on them: MCMC (dim 32, init_stdev 0.1) and plain
# per-row SGD on one-hot rows shuffled once. Printed per row: test RMSE (MCMC:
# libFM's last-iteration figure, the running average over all iterations;
# facto's test_rmse_chain, the same average) and CPU seconds (user + sys) per
# iteration of the whole process (reading, sampling, every iteration's test
# scoring), or for SGD the samples per second of the update pass (libFM: its
# -rlog time_learn, CPU; facto: a run without --test, process CPU).
# ratio = libFM time / facto time (> 1: facto faster).
#
# libFM is GPLv3 and is not part of facto: build it yourself
# (https://github.com/srendle/libfm, `make all`) and point LIBFM_BIN at its
# bin/libFM. Its bin/convert and bin/transpose, looked up next to LIBFM_BIN
# (or LIBFM_CONVERT / LIBFM_TRANSPOSE), write the relation files in libFM's
# binary format; without them the block rows are skipped.
# Usage: LIBFM_BIN=/path/to/libfm/bin/libFM bench/libfm_compare.sh [path/to/facto]
# facto: FACTO_BIN, else the argument, else ./build/facto; data: FACTO_DATA_HOME.
# LIBFM_ITER=N sets the MCMC iterations (default 500: about 5 minutes in all),
# LIBFM_SGD="learn_rate reg init_stdev epochs" the SGD row (default: the best
# on a 10% carve-out of u1.base, see below). libFM 1.4.2 seeds from the
# clock, so its figures change from run to run (u1, 500 iterations: about
# +-0.001 RMSE); facto runs with --seed 1.
set -euo pipefail
if [ -z "${LIBFM_BIN:-}" ]; then
  echo "libfm_compare: LIBFM_BIN is not set; nothing to compare."
  echo "libFM (GPLv3) is not shipped with facto: build it yourself (https://github.com/srendle/libfm,"
  echo "make all), then run: LIBFM_BIN=/path/to/libfm/bin/libFM bench/libfm_compare.sh"
  exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${FACTO_BIN:-${1:-$here/build/facto}}
if [ -z "${FACTO_DATA_HOME:-}" ] && [ -d "$here/../shared/data" ]; then
  export FACTO_DATA_HOME=$(cd "$here/../shared/data" && pwd)
fi
ml=${FACTO_DATA_HOME:-}/ml-100k
[ -x "$LIBFM_BIN" ] || { echo "libfm_compare: LIBFM_BIN=$LIBFM_BIN is not an executable" >&2; exit 2; }
[ -x "$facto" ] || { echo "libfm_compare: no facto binary at $facto (set FACTO_BIN)" >&2; exit 2; }
[ -f "$ml/u1.base" ] || { echo "libfm_compare: no ml-100k under FACTO_DATA_HOME (${FACTO_DATA_HOME:-unset})" >&2; exit 2; }
lbin=$(cd "$(dirname "$LIBFM_BIN")" && pwd)
lconvert=${LIBFM_CONVERT:-$lbin/convert}
ltranspose=${LIBFM_TRANSPOSE:-$lbin/transpose}
ITER=${LIBFM_ITER:-500}
# SGD: learn_rate, regularisation of w and V (w0: none), init_stdev, epochs. Chosen for
# libFM on u1.base alone (first 90% of the shuffled rows to train, last 10% to validate;
# learn_rate 0.005/0.01/0.02 x reg 0.02..0.2 x init_stdev 0.1/0.01, 150 epochs): best
# validation RMSE 0.9062 at lr 0.005, reg 0.08, init_stdev 0.01, epoch 99.
read -r SGD_LR SGD_REG SGD_INIT SGD_EPOCHS <<<"${LIBFM_SGD:-0.005 0.08 0.01 100}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/facto-libfm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# the first "$1": number of the one-line JSON (train's "params", which may hold an epochs of its own, come last)
field() { grep -o "\"$1\": *[-0-9.eE+]*" "$2" | head -n1 | sed 's/.*: *//'; }
# cpu_now = CPU seconds (user + sys) of this shell's finished children, from bash's
# `times` (run in this shell: a $(...) subshell would count its own children only).
child_cpu() {
  times >"$tmp/times"
  cpu_now=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.3f", t }' "$tmp/times")
}

lversion=$("$LIBFM_BIN" -help 2>/dev/null | sed -n 's/^ *Version: *//p' | head -1)
echo "machine: $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc) cores, $( (grep -m1 'model name' /proc/cpuinfo 2>/dev/null || sysctl -n machdep.cpu.brand_string 2>/dev/null || echo '?') | sed 's/.*: *//')"
echo "load:    $(uptime | sed 's/.*load average[s]*: *//') (1, 5, 15 min) at start"
echo "facto:   $("$facto" --version), one thread;  libFM: ${lversion:-?} ($LIBFM_BIN)"

# (1) Rows from facto: one-hot and side features, u1.base / u1.test.
"$facto" convert --dataset ml-100k --split u1 --to libsvm --out "$tmp/oh" >/dev/null 2>&1
"$facto" convert --dataset ml-100k --split u1 --side-features --to libsvm --out "$tmp/side" >/dev/null 2>&1

# (2) libFM block structure from those rows. Keys (facto convert's layout): users
# 0..U-1, items U..U+I-1, then 7 age buckets, 2 genders, the occupations of
# u.user (user side), then 19 genres and the release decades (item side).
# mkbs DIR ROWS SIDE IMPLICIT: DIR/bs.{train,test} (ratings, no direct
# features), DIR/{U,I}.{libfm,train,test,groups} (relation rows, row of each
# rating, prior group of each relation feature).
n_occ=$(cut -d'|' -f4 "$ml/u.user" | sort -u | wc -l | tr -d ' ')
mkbs() {
  mkdir -p "$1"
  awk -v dir="$1" -v side="$3" -v imp="$4" -v du="$((9 + n_occ))" '
  function key(t) { split(t, kv, ":"); return kv[1] + 0 }
  function val(t) { split(t, kv, ":"); return kv[2] }
  FNR == 1 { part++ }
  { n[part]++; line[part, n[part]] = $0 }
  END {
    U = 0; I = 0
    for (r = 1; r <= n[1]; r++) {
      split(line[1, r], f, " "); u = key(f[2]); it = key(f[3]); uk[r] = u; ik[r] = it
      if (u + 1 > U) U = u + 1
      if (it + 1 > I) I = it + 1
    }
    I -= U; base = U + I
    for (r = 1; r <= n[1]; r++) {
      u = uk[r]; it = ik[r] - U; deg[u]++; items[u, deg[u]] = it
      m = split(line[1, r], f, " "); us = ""; is = ""
      for (j = 4; j <= m; j++) {
        k = key(f[j]); v = val(f[j])
        if (k < base) { print "mkbs: row " r ": key " k " after the user and item keys" > "/dev/stderr"; exit 2 }
        if (k < base + du) us = us " " (U + k - base) ":" v; else is = is " " (I + k - base - du) ":" v
      }
      if ((u in usd && usd[u] != us) || (it in isd && isd[it] != is)) {
        print "mkbs: row " r ": side features differ between rows of one user or item" > "/dev/stderr"; exit 2
      }
      usd[u] = us; isd[it] = is
    }
    off = U + (side ? du : 0); nu = U; ni = I
    for (u = 0; u < U; u++) {
      s = "0 " u ":1" (side ? usd[u] : "")
      if (imp) { w = sprintf("%.9g", 1 / sqrt(deg[u])); for (j = 1; j <= deg[u]; j++) s = s " " (off + items[u, j]) ":" w }
      print s > (dir "/U.libfm")
      m = split(s, f, " "); for (j = 2; j <= m; j++) { k = key(f[j]) + 1; if (k > nu) nu = k }
    }
    print "0" > (dir "/U.libfm")
    for (i = 0; i < I; i++) {
      s = "0 " i ":1" (side ? isd[i] : ""); print s > (dir "/I.libfm")
      m = split(s, f, " "); for (j = 2; j <= m; j++) { k = key(f[j]) + 1; if (k > ni) ni = k }
    }
    print "0" > (dir "/I.libfm")
    for (c = 0; c < nu; c++) print (c < U ? 0 : c < off ? 1 : 2) > (dir "/U.groups")
    for (c = 0; c < ni; c++) print (c < I ? 0 : 1) > (dir "/I.groups")
    for (r = 1; r <= n[1]; r++) {
      split(line[1, r], f, " "); print f[1] > (dir "/bs.train"); print uk[r] > (dir "/U.train"); print ik[r] - U > (dir "/I.train")
    }
    for (r = 1; r <= n[2]; r++) {
      m = split(line[2, r], f, " "); tu = U; ti = I
      for (j = 2; j <= m; j++) { k = key(f[j]); if (k < U) tu = k; else if (k < base) ti = k - U }
      print f[1] > (dir "/bs.test"); print tu > (dir "/U.test"); print ti > (dir "/I.test")
    }
  }' "$2.train" "$2.test"
  local r
  for r in U I; do
    (cd "$1" && "$lconvert" --ifile "$r.libfm" --ofilex "$r.x" --ofiley "$r.y" >/dev/null 2>&1 &&
      "$ltranspose" --ifile "$r.x" --ofile "$r.xt" >/dev/null 2>&1)
    # the libFM tools report a failure but exit 0: check their output
    [ -s "$1/$r.xt" ] || { echo "libfm_compare: $lconvert / $ltranspose did not write $1/$r.xt" >&2; return 1; }
  done
}
blocks=1
if [ ! -x "$lconvert" ] || [ ! -x "$ltranspose" ]; then
  blocks=0
  echo "(no libFM convert/transpose next to LIBFM_BIN: block rows skipped; set LIBFM_CONVERT, LIBFM_TRANSPOSE)"
else
  mkbs "$tmp/b_oh" "$tmp/oh" 0 0
  mkbs "$tmp/b_side" "$tmp/side" 1 0
  mkbs "$tmp/b_imp" "$tmp/side" 1 1
fi

# (3) Runs. libfm_run DIR TAG ARGS: libFM in DIR, output in $tmp/TAG.{out,rlog};
# sets l_rmse (last "Test="), l_cpu (process CPU seconds), l_iters.
libfm_run() {
  local dir=$1 tag=$2 c0 c1; shift 2
  child_cpu; c0=$cpu_now
  (cd "$dir" && "$LIBFM_BIN" -task r "$@" -rlog "$tmp/$tag.rlog" >"$tmp/$tag.out" 2>&1) || true
  child_cpu; c1=$cpu_now
  l_iters=$(grep -c '^#Iter' "$tmp/$tag.out" || true)
  l_rmse=$(grep '^#Iter' "$tmp/$tag.out" | tail -1 | sed 's/.*Test=\([-0-9.eE+na]*\).*/\1/')
  l_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
  if [ "${l_iters:-0}" -eq 0 ]; then echo "libfm_compare: libFM failed ($tag):" >&2; tail -5 "$tmp/$tag.out" >&2; return 1; fi
}
# fct_run TAG ARGS: facto train --json into $tmp/TAG.json; sets f_cpu.
fct_run() {
  local tag=$1 c0 c1; shift
  child_cpu; c0=$cpu_now
  "$facto" train --model fm --predictor_type regressor --num_factors 32 --json "$@" >"$tmp/$tag.json" 2>"$tmp/$tag.err" ||
    { echo "libfm_compare: facto failed ($tag):" >&2; tail -5 "$tmp/$tag.err" >&2; return 1; }
  child_cpu; c1=$cpu_now
  f_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
}
printf '%-38s %-5s %10s %10s %11s %14s %14s %6s\n' data solver "libFM rmse" "facto rmse" "facto saved" "libFM s/iter" \
  "facto s/iter" ratio
row() { # LABEL SOLVER LIBFM-RMSE FACTO-RMSE FACTO-SAVED LIBFM-TIME FACTO-TIME [UNIT]
  awk -v l="$1" -v s="$2" -v lr="$3" -v fr="$4" -v fs="$5" -v lt="$6" -v ft="$7" -v u="${8:-s}" 'BEGIN {
    if (u == "s") printf "%-38s %-5s %10.4f %10.4f %11.4f %14.4f %14.4f %6.2f\n", l, s, lr, fr, fs, lt, ft, lt / ft
    else printf "%-38s %-5s %10.4f %10.4f %11.4f %12.0f/s %12.0f/s %6.2f\n", l, s, lr, fr, fs, lt, ft, ft / lt }'
}
LM=(-method mcmc -dim '1,1,32' -iter "$ITER" -init_stdev 0.1)
# one chain on one thread, as libFM (facto's defaults: mcmc_chains 4 on all cores)
FM=(--solver mcmc --num_iter "$ITER" --init_stdev 0.1 --seed 1 --mcmc_chains 1 --threads 1)
mcmc_flat() { # LABEL PREFIX
  libfm_run "$tmp" "l_$2" -train "$tmp/$2.train" -test "$tmp/$2.test" "${LM[@]}"
  # one prior group for all features, as libFM without -meta (facto's default on rows: one per one-hot field)
  fct_run "f_$2" --train "$tmp/$2.train" --test "$tmp/$2.test" "${FM[@]}" --prior_groups 0
  row "$1" mcmc "$l_rmse" "$(field test_rmse_chain "$tmp/f_$2.json")" "$(field test_rmse "$tmp/f_$2.json")" \
    "$(awk -v c="$l_cpu" -v n="$l_iters" 'BEGIN { print c / n }')" "$(awk -v c="$f_cpu" -v n="$ITER" 'BEGIN { print c / n }')"
}
mcmc_blocks() { # LABEL DIR FACTO-FLAGS...
  local label=$1 dir=$2; shift 2
  libfm_run "$dir" "l_$(basename "$dir")" -train bs.train -test bs.test -relation U,I "${LM[@]}"
  fct_run "f_$(basename "$dir")" --dataset ml-100k --split u1 "$@" "${FM[@]}"
  row "$label" mcmc "$l_rmse" "$(field test_rmse_chain "$tmp/f_$(basename "$dir").json")" \
    "$(field test_rmse "$tmp/f_$(basename "$dir").json")" \
    "$(awk -v c="$l_cpu" -v n="$l_iters" 'BEGIN { print c / n }')" "$(awk -v c="$f_cpu" -v n="$ITER" 'BEGIN { print c / n }')"
}
mcmc_flat "u1 one-hot, flat rows" oh
mcmc_flat "u1 + side, flat rows" side
if [ "$blocks" = 1 ]; then
  mcmc_blocks "u1 one-hot, blocks" "$tmp/b_oh"
  mcmc_blocks "u1 + side, blocks" "$tmp/b_side" --side-features
  mcmc_blocks "u1 + side + implicit (user), blocks" "$tmp/b_imp" --side-features --implicit user
fi

# SGD on the one-hot rows, shuffled once (libFM keeps the file order; facto shuffles every
# epoch). Same update rule: w0, w, V -= lr * (gradient + reg * theta), reg 0 on w0, w0 = w = 0
# and V ~ N(0, init_stdev^2) at the start.
awk 'BEGIN { srand(7) } { print rand() "\t" $0 }' "$tmp/oh.train" | sort -k1,1g | cut -f2- >"$tmp/ohs.train"
libfm_run "$tmp" l_sgd -train "$tmp/ohs.train" -test "$tmp/oh.test" -method sgd -dim '1,1,32' \
  -iter "$SGD_EPOCHS" -learn_rate "$SGD_LR" -regular "0,$SGD_REG,$SGD_REG" -init_stdev "$SGD_INIT"
l_sps=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "time_learn") c = i; next }
  { s += $c; n++ } END { print 80000 * n / s }' "$tmp/l_sgd.rlog")
SGD=(--solver sgd --optimizer sgd --mini_batch_size 1 --epochs "$SGD_EPOCHS" --bias_lr "$SGD_LR" --linear_lr "$SGD_LR"
     --factors_lr "$SGD_LR" --bias_wd 0 --linear_wd "$SGD_REG" --factors_wd "$SGD_REG" --factors_init_sigma "$SGD_INIT"
     --bias_init_method constant --bias_init_value 0 --linear_init_method constant --linear_init_value 0 --seed 1)
fct_run f_sgd --train "$tmp/ohs.train" --test "$tmp/oh.test" "${SGD[@]}"
fct_run f_sgd_time --train "$tmp/ohs.train" "${SGD[@]}"
row "u1 one-hot, flat (lr $SGD_LR, reg $SGD_REG)" sgd "$l_rmse" "$(field test_rmse "$tmp/f_sgd.json")" \
  "$(field test_rmse "$tmp/f_sgd.json")" "$l_sps" \
  "$(awk -v c="$f_cpu" -v n="$SGD_EPOCHS" 'BEGIN { print 80000 * n / c }')" samples
if [ "$blocks" = 1 ]; then
  # facto's own defaults on the last block row: mcmc_chains 4 pooled, all cores
  fct_run f_default --dataset ml-100k --split u1 --side-features --implicit user --solver mcmc --num_iter "$ITER" \
    --init_stdev 0.1 --seed 1
  awk -v r="$(field test_rmse_chain "$tmp/f_default.json")" -v s="$(field test_rmse "$tmp/f_default.json")" \
    -v c="$f_cpu" -v w="$(field seconds "$tmp/f_default.json")" -v n="$ITER" 'BEGIN {
    printf "facto defaults (mcmc_chains 4, all cores), side + implicit blocks: rmse %.4f, saved %.4f, %.4f CPU s and %.4f s of wall time per iteration of the 4 chains together\n", r, s, c / n, w / n }'
fi
echo "load:    $(uptime | sed 's/.*load average[s]*: *//') (1, 5, 15 min) at the end"
echo "MCMC: dim 32, $ITER iterations, init_stdev 0.1, one chain; rmse = running average over all iterations"
echo "(libFM clips each sample's prediction to [1, 5] before averaging, facto only the average); facto saved ="
echo "the saved model (flat rows: 16 thinned samples; blocks: rank-256 summary). s/iter = process CPU"
echo "seconds / iterations. SGD: rmse after $SGD_EPOCHS epochs; samples/s of the update pass (libFM: -rlog"
echo "time_learn; facto: CPU of a run without --test). ratio > 1: facto faster."
