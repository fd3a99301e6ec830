#!/usr/bin/env bash
# test_train_ml100k.sh — end to end on MovieLens 100K: `facto train --dataset
# ml-100k --split u1` with default parameters reaches test RMSE <= 0.915 (the
# bound of issue 2), --json keeps stdout pure JSON, no progress bar when
# stderr is not a terminal, and the random/kfold/time splits put every one of
# the 100000 ratings in exactly one of train and test. Needs ml-100k (else 77).
set -u
. "$(dirname "$0")/lib.bash"
need_ml100k

expect_rc 0 "$F" train --dataset ml-100k --split u1 ${FACTO_TEST_SEED:+--seed "$FACTO_TEST_SEED"} --json
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json stdout is not one line"
head -c1 "$TMP/out" | grep -q '{' || fail "--json stdout does not start with {"
for k in train_rmse test_rmse test_mae epochs seconds ratings_per_second; do
    [ -n "$(json_num "$k" "$TMP/out")" ] || fail "--json lacks $k: $(cat "$TMP/out")"
done
rmse=$(json_num test_rmse "$TMP/out")
echo "ml-100k u1, defaults: test RMSE $rmse"
# The bound of tests/unit/test_mf.c (same model, same figure): docs/testing.md.
awk -v r="$rmse" 'BEGIN { exit !(r > 0.5 && r <= 0.916) }' || fail "test RMSE $rmse > 0.916"
[ "$(json_num n_train "$TMP/out")" -eq 80000 ] || fail "n_train is not 80000"
[ "$(json_num n_test "$TMP/out")" -eq 20000 ] || fail "n_test is not 20000"
# epoch lines went to stderr; no terminal, so no progress bar (no carriage return).
grep -q 'epoch' "$TMP/err" || fail "no epoch lines on stderr with --json"
if grep -q $'\r' "$TMP/err"; then fail "progress bar drawn on a non-terminal"; fi

# Text mode: one line per epoch with train and test RMSE and MAE on stdout.
expect_rc 0 "$F" train --dataset ml-100k --split u1 --epochs 3
[ "$(grep -c 'train RMSE .* MAE .* test RMSE .* MAE' "$TMP/out")" -eq 3 ] || fail "want 3 epoch lines"

# Splits of the whole data set: sizes add up to u.data's 100000 ratings.
for s in random:0.2 kfold:5:3 time:0.2; do
    expect_rc 0 "$F" train --dataset ml-100k --split "$s" --seed 7 --epochs 2 --json
    a=$(json_num n_train "$TMP/out"); b=$(json_num n_test "$TMP/out")
    [ $((a + b)) -eq 100000 ] || fail "$s: $a + $b != 100000"
    awk -v t="$b" 'BEGIN { exit !(t > 15000 && t < 25000) }' || fail "$s: test size $b is not near 20%"
done
echo ok
