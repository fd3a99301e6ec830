#!/usr/bin/env bash
# test_numbers.sh — numbers given on the command line are either kept and
# printed so they read back to the same value, or refused with the option
# named (a learning rate of 1e-300 was stored as 0 and reported as
# "0 is not in (0, ...)"). Self-contained.
set -u
. "$(dirname "$0")/lib.bash"

tiny_ratings "$TMP/r.tsv"
M="$TMP/m.facto"

# a float hyperparameter that underflows or overflows float: refused, named
expect_rc 1 "$F" train --model mf --train "$TMP/r.tsv" --lr 1e-300 --out "$M"
expect_err "--lr: hyperparameter learning_rate: '1e-300' is too close to 0 for a float"
expect_rc 1 "$F" train --model mf --train "$TMP/r.tsv" --lr 1e-40 --out "$M"
expect_err "'1e-40' is too close to 0 for a float"
expect_rc 1 "$F" train --model mf --train "$TMP/r.tsv" --reg_factors 1e39 --out "$M"
expect_err "'1e39' is too large for a float"
printf '{"learning_rate": "1e-300"}\n' >"$TMP/hp.json"
expect_rc 1 "$F" train --model mf --train "$TMP/r.tsv" --hyperparameters "$TMP/hp.json" --out "$M"
expect_err "learning_rate: '1e-300' is too close to 0 for a float"
[ ! -e "$M" ] || fail "a model was written after a refused hyperparameter"

# a tiny float that does fit is printed as given in the header and by inspect
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --lr 1.5e-30 --epochs 1 --out "$M"
grep -qF "learning_rate 1.5e-30" "$TMP/out" || { cat "$TMP/out"; fail "header lacks learning_rate 1.5e-30"; }
expect_rc 0 "$F" inspect --model "$M"
grep -qxF "  learning_rate=1.5e-30" "$TMP/out" || { cat "$TMP/out"; fail "inspect lacks learning_rate=1.5e-30"; }

# CLI-only numbers: the text given is shown, not %g's 6 digits
expect_rc 1 "$F" train --model mf --train "$TMP/r.tsv" --fold-in-fraction 1.0000001
expect_err "--fold-in-fraction: 1.0000001 is out of range [0, 1]"
expect_rc 1 "$F" train --model popular --train "$TMP/r.tsv" --implicit-threshold 1e-400
expect_err "--implicit-threshold: '1e-400' is too close to 0 for a double"
expect_rc 0 "$F" train --model popular --train "$TMP/r.tsv" --implicit-threshold 3.0000000001
expect_err "pairs below the threshold 3.0000000001 dropped"

# one of a thing is singular in the header and the summary lines
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --epochs 1
grep -qF "1 epoch, learning_rate" "$TMP/out" || { cat "$TMP/out"; fail "header: not '1 epoch'"; }
grep -q "over 1 epoch\$" "$TMP/out" || { cat "$TMP/out"; fail "#seconds: not 'over 1 epoch'"; }
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --epochs 2
grep -qF "2 epochs, learning_rate" "$TMP/out" || { cat "$TMP/out"; fail "header: not '2 epochs'"; }
expect_rc 0 "$F" train --model ials --from-ratings "$TMP/r.tsv" --epochs 1 --cg_steps 1
grep -qF "1 iteration of 1 CG step a row" "$TMP/out" || { cat "$TMP/out"; fail "ials header: not '1 iteration'"; }
expect_rc 0 "$F" train --model fm --from-ratings "$TMP/r.tsv" --predictor_type regressor --num_factors 2 \
    --solver mcmc --num_iter 1
grep -qF "1 iteration" "$TMP/out" || { cat "$TMP/out"; fail "fm header: not '1 iteration'"; }
printf '1\t1\t5\n' >"$TMP/one.tsv"
expect_rc 0 "$F" train --model mf --train "$TMP/one.tsv" --epochs 1
grep -qF "on 1 rating (1 user, 1 item)" "$TMP/out" || { cat "$TMP/out"; fail "header: not '1 rating (1 user, 1 item)'"; }
# ratings on the scale of 1e-30: reg_factors from the data is
# 0.27 sd (1/sqrt(4/2) + 1/sqrt(4/3)) = 3.5218053e-31 (sd 0.8292e-30, 2 users,
# 3 items, 4 ratings), and the fit is no runaway: the starting factors'
# spread (sqrt(k) init_std^2, 9.8e-5 at k 4) is far above the ratings'
# range, which the check counted alone ('diverged ... lower the learning
# rate', exit 2, while --distributed trained on the same data)
printf '1\t1\t1e-30\n1\t2\t2e-30\n2\t1\t3e-30\n2\t3\t1e-30\n' >"$TMP/tiny.tsv"
expect_rc 0 "$F" train --model mf --train "$TMP/tiny.tsv" --factors 4 --epochs 5 --out "$M"
grep -qxF "set by the fit from the data: reg_factors 3.5218053e-31" "$TMP/out" ||
    { cat "$TMP/out"; fail "tiny ratings: train does not say which reg_factors the data gave"; }
expect_rc 0 "$F" inspect --model "$M"
grep -qxF "  reg_factors=3.5218053e-31" "$TMP/out" || { cat "$TMP/out"; fail "tiny ratings: reg_factors"; }
expect_rc 0 "$F" train --model mf --train "$TMP/tiny.tsv" --factors 4 --epochs 1 --reg_factors 0.01
grep -q "set by the fit" "$TMP/out" "$TMP/err" && fail "--reg_factors given: train says the fit set it"
expect_rc 0 "$F" eval --model "$M" --test "$TMP/tiny.tsv"
awk '$1 == "RMSE" { ok = $2 + 0 <= 2e-30 } END { exit !ok }' "$TMP/out" || { cat "$TMP/out"; fail "tiny ratings: RMSE"; }
# all ratings equal: sd 0, no weight
printf '1\t1\t4\n1\t2\t4\n2\t1\t4\n' >"$TMP/eq.tsv"
expect_rc 0 "$F" train --model mf --train "$TMP/eq.tsv" --factors 4 --epochs 2 --out "$M"
expect_rc 0 "$F" inspect --model "$M"
grep -qxF "  reg_factors=0" "$TMP/out" || { cat "$TMP/out"; fail "equal ratings: reg_factors not 0"; }
# '-0' is 0 (it was kept as -0: 'reg_factors=-0' in inspect, -0.0 in --json)
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --factors 4 --epochs 1 --reg_factors -0 --json --out "$M"
grep -qF '"reg_factors": 0.0' "$TMP/out" || { cat "$TMP/out"; fail "--reg_factors -0: json"; }
printf '{"reg_factors": "-0.0"}\n' >"$TMP/hp.json"
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --factors 4 --epochs 1 --hyperparameters "$TMP/hp.json" --out "$M"
expect_rc 0 "$F" inspect --model "$M"
grep -qxF "  reg_factors=0" "$TMP/out" || { cat "$TMP/out"; fail "reg_factors -0.0 from json: inspect"; }
echo ok
