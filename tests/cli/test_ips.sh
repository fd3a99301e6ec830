#!/usr/bin/env bash
# test_ips.sh — debiasing ratings by inverse propensities (Schnabel et al.,
# ICML 2016), no data needed: `datasets synth --mnar 0.25` (300 x 300 pairs,
# about 9000 observed, users rating what they like) is the same for a seed;
# MF trained with --propensities predicts the uniformly exposed test pairs
# better than naive MF, and eval --propensities on the MNAR test part gives
# an RMSE estimate closer to the uniform-test RMSE than the naive one; the
# propensity files' errors name FILE:LINE, a training pair without a
# propensity names the pair and its rating's line. About 3 s.
#
# Margins, measured over seeds 1..8 (tests/measure-bounds: mean +- 4 sd):
#   uniform RMSE naive - IPS: 0.136 0.142 0.153 0.149 0.148 0.145 0.125 0.146,
#     mean 0.143, sd 0.009 -> asserted >= 0.10;
#   naive model, |naive estimate - uniform| - |SNIPS estimate - uniform|:
#     0.246 0.215 0.236 0.152 0.195 0.266 0.274 0.218, mean 0.225, sd 0.039
#     -> asserted >= 0.05 (the plain IPS estimate: 0.105..0.265, >= 0.03).
set -u
. "$(dirname "$0")/lib.bash"
SEED=${FACTO_TEST_SEED:-3}
num() { grep -o "\"$1\": *[-0-9.eE+]*" "$TMP/out" | head -n1 | sed 's/.*: *//'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# The synthetic MNAR set: five files, the same bytes for a seed.
expect_rc 0 "$F" datasets synth --mnar 0.25 --users 300 --items 300 --ratings 9000 --seed "$SEED" --out "$TMP/d"
for f in train.tsv test.tsv uniform.tsv train.propensities test.propensities; do
    [ -s "$TMP/d/$f" ] || fail "synth --mnar wrote no $f"
done
grep -q '^propensity by true rating 1..5:' "$TMP/out" || fail "synth summary: $(cat "$TMP/out")"
expect_rc 0 "$F" datasets synth --mnar 0.25 --users 300 --items 300 --ratings 9000 --seed "$SEED" --out "$TMP/d2"
for f in train.tsv test.tsv uniform.tsv train.propensities test.propensities; do
    cmp -s "$TMP/d/$f" "$TMP/d2/$f" || fail "synth --mnar: same seed, different $f"
done
# Users rate what they like: the observed ratings are higher than the uniform ones.
mo=$(awk '{ s += $3 } END { print s / NR }' "$TMP/d/train.tsv")
mu=$(awk '{ s += $3 } END { print s / NR }' "$TMP/d/uniform.tsv")
ge "$mo" "$(awk -v m="$mu" 'BEGIN { print m + 0.5 }')" || fail "observed mean $mo is not above the uniform $mu + 0.5"
# The propensity files pair up with the ratings files, line for line.
[ "$(cut -f1,2 "$TMP/d/train.tsv")" = "$(cut -f1,2 "$TMP/d/train.propensities")" ] || fail "train pairs"
awk '$3 <= 0 || $3 > 1 { exit 1 }' "$TMP/d/train.propensities" || fail "a propensity outside (0, 1]"
expect_rc 1 "$F" datasets synth --mnar 0 --out "$TMP/x"
expect_rc 1 "$F" datasets synth --uniform 10 --out "$TMP/x.tsv"

# Training: IPS beats naive on the uniformly exposed pairs.
D=$TMP/d
expect_rc 0 "$F" train --train "$D/train.tsv" --test "$D/uniform.tsv" --seed "$SEED" --json --out "$TMP/naive.facto"
naive=$(num test_rmse)
expect_rc 0 "$F" train --train "$D/train.tsv" --test "$D/uniform.tsv" --seed "$SEED" --json \
    --propensities "$D/train.propensities" --out "$TMP/ips.facto"
ips=$(num test_rmse)
grep -q 'inverse-propensity weights from .* (per pair): ' "$TMP/err" || fail "no weights line: $(cat "$TMP/err")"
ge "$naive" "$(awk -v i="$ips" 'BEGIN { print i + 0.10 }')" || fail "uniform RMSE: naive $naive, IPS $ips (want 0.10 lower)"
# Clipping changes the model; weights of a per-item file are read too.
expect_rc 0 "$F" train --train "$D/train.tsv" --test "$D/uniform.tsv" --seed "$SEED" --json \
    --propensities "$D/train.propensities" --max-ips-weight 5
grep -q 'clipped at 5' "$TMP/err" || fail "no clipping note"
clipped=$(num test_rmse)
[ "$clipped" != "$ips" ] || fail "--max-ips-weight 5 changed nothing"
cut -f2 "$D/train.tsv" | sort -u | awk '{ print $1 ",0.5" }' >"$TMP/items.csv"
expect_rc 0 "$F" train --train "$D/train.tsv" --seed "$SEED" --json --propensities "$TMP/items.csv"
grep -q '(per item): 2\.\.2' "$TMP/err" || fail "per-item weights: $(cat "$TMP/err")"
# A constant propensity is the unweighted fit (weights scale to mean 1).
a=$(num train_rmse)
b=$("$F" train --train "$D/train.tsv" --seed "$SEED" --json 2>/dev/null |
    grep -o "\"train_rmse\": *[-0-9.eE+]*" | sed "s/.*: *//")
[ "$a" = "$b" ] || fail "constant propensities: $a, none: $b"

# Evaluation: the SNIPS estimate on the MNAR test part is closer to the
# uniform-test RMSE than the naive estimate.
expect_rc 0 "$F" eval --model "$TMP/naive.facto" --test "$D/uniform.tsv" --json
uni=$(num rmse)
expect_rc 0 "$F" eval --model "$TMP/naive.facto" --test "$D/test.tsv" --propensities "$D/test.propensities" --json
est=$(num rmse) snips=$(num snips_rmse) ipse=$(num ips_rmse)
[ -n "$snips" ] && [ -n "$ipse" ] && [ -n "$(num snips_mae)" ] && [ -n "$(num ips_mae)" ] || fail "eval json: $(cat "$TMP/out")"
gap=$(awk -v u="$uni" -v e="$est" -v s="$snips" 'function a(x) { return x < 0 ? -x : x } BEGIN { print a(e - u) - a(s - u) }')
ge "$gap" 0.05 || fail "SNIPS $snips is not 0.05 closer than the naive $est to the uniform RMSE $uni"
gap=$(awk -v u="$uni" -v e="$est" -v s="$ipse" 'function a(x) { return x < 0 ? -x : x } BEGIN { print a(e - u) - a(s - u) }')
ge "$gap" 0.03 || fail "IPS $ipse is not 0.03 closer than the naive $est to the uniform RMSE $uni"
expect_rc 0 "$F" eval --model "$TMP/naive.facto" --test "$D/test.tsv" --propensities "$D/test.propensities"
grep -q '^SNIPS RMSE ' "$TMP/out" && grep -q '^IPS MAE ' "$TMP/out" && grep -q '^RMSE ' "$TMP/out" ||
    fail "eval text: $(cat "$TMP/out")"

# Errors name FILE:LINE and the value; a pair without a propensity names the pair and its rating's line.
printf '1\t1\t4\n1\t2\t3\n2\t1\t5\n' >"$TMP/r.tsv"
printf '1\t1\t0.5\n1\t2\t1.5\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "p.tsv:2: propensity '1.5' is not in (0, 1]"
printf '1\t1\t0.5\n1\t2\t0\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "p.tsv:2: propensity '0' is not in (0, 1]"
printf '1\t1\t0.5\n1\t2\tabc\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "p.tsv:2: propensity 'abc' is not a number"
# a first line whose propensity is not a number reads as a header; when a
# rating then lacks its propensity, the message says so
printf '1\t1\tx\n1\t2\t0.5\n2\t1\t0.5\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "no propensity for the rating of user '1', item '1'; line 1 was taken for a header, as its last column 'x' is not a number"
printf '1\t1\t0.5\n1\t2\t0.5\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "no propensity for the rating of user '2', item '1'"
expect_err "(the rating is $TMP/r.tsv:3)"
printf '1\t1\t0.5\n1\t0.5\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "p.tsv:2: 2 columns, but the file's first line has 3"
printf '1\t1\t0.5\n2\t1\t0.5\n1\t2\t0.5\n1\t1\t0.25\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "p.tsv:4: a second propensity for user '1', item '1' (the first is on line 1)"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/none.tsv"
expect_rc 1 "$F" train --train "$TMP/r.tsv" --max-ips-weight 5
expect_rc 1 "$F" train --train "$TMP/r.tsv" --propensities "$D/train.propensities" --max-ips-weight 0.5
# A valid but tiny propensity (1e-30: one weight ~1e30 x the others) makes
# SGD run away; training must stop (exit 2) and save nothing, not save a
# model whose scores reach 1e9 (found by the bad-input tester).
awk 'BEGIN { FS = OFS = "\t" } NR == 5 { $3 = "1e-30" } { print }' "$D/train.propensities" >"$TMP/tiny.propensities"
expect_rc 2 "$F" train --train "$D/train.tsv" --seed "$SEED" --propensities "$TMP/tiny.propensities" --out "$TMP/tiny.facto"
expect_err "training diverged"
expect_err "--max-ips-weight"
[ ! -e "$TMP/tiny.facto" ] || fail "a diverged training saved $TMP/tiny.facto"
# A propensity in (0, 1] whose weight 1 / p overflows a float (below
# 1 / FLT_MAX = 2.94e-39): named by file and line, exit 2 (it was 'rating
# weight 0 is inf' with no file); clipped by --max-ips-weight, it trains.
printf '1\t1\t0.5\n1\t2\t1e-40\n2\t1\t1\n' >"$TMP/p.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv" --out "$TMP/inf.facto"
expect_err "p.tsv:2: propensity below 2.93874e-39"
expect_err "--max-ips-weight"
[ ! -e "$TMP/inf.facto" ] || fail "an infinite IPS weight saved $TMP/inf.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/p.tsv" --max-ips-weight 100
grep -q "1 clipped at 100" "$TMP/out" "$TMP/err" || fail "1e-40 clipped at 100: $(cat "$TMP/out" "$TMP/err")"
# Only mf takes weights; eval weighs a regressor's errors only.
printf 'item,propensity\n1,0.5\n2,0.25\n' >"$TMP/pi.csv"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --propensities "$TMP/pi.csv" --out "$TMP/tiny.facto"
expect_rc 2 "$F" train --model ials --train "$TMP/r.tsv" --propensities "$TMP/pi.csv"
expect_err "mf only"
expect_rc 1 "$F" eval --model "$TMP/tiny.facto" --test "$TMP/r.tsv" --max-ips-weight 3
printf '1\t1\t0.5\n' >"$TMP/p.tsv"
expect_rc 2 "$F" eval --model "$TMP/tiny.facto" --test "$TMP/r.tsv" --propensities "$TMP/p.tsv"
expect_err "(the rating is $TMP/r.tsv:2)"
# Per-item propensities 0.5 and 0.25 on items 1, 1, 2: weights 2, 2, 4.
expect_rc 0 "$F" eval --model "$TMP/tiny.facto" --test "$TMP/r.tsv" --propensities "$TMP/pi.csv" --json
[ -n "$(num snips_rmse)" ] || fail "tiny eval: $(cat "$TMP/out")"
# eval's weights overflow alike
printf '1,0.5\n2,2e-39\n' >"$TMP/pi2.csv"
expect_rc 2 "$F" eval --model "$TMP/tiny.facto" --test "$TMP/r.tsv" --propensities "$TMP/pi2.csv"
expect_err "pi2.csv:2: propensity below"
echo "ok: uniform RMSE naive $naive, IPS $ips (clipped at 5: $clipped); naive model: uniform $uni, naive est $est, SNIPS $snips, IPS $ipse"
