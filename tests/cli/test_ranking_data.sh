#!/usr/bin/env bash
# test_ranking_data.sh — implicit feedback, ranking splits and ranking
# metrics through the CLI (issue 9). Self-contained first: a missing weight
# counts 1 and repeated pairs add up (convert's labels show the sums), a
# threshold keeps positives of weight 1, a ranking kind reads implicit data
# without being told, and bad input (a weight that is not a number, a
# negative weight, an empty user) gets FILE:LINE and exit 2, a bad --metrics
# exit 1. Then on ml-100k (else exit 77): the read summary at threshold 4
# (55,375 positives; 44,625 pairs, 1 user and 235 items dropped), each split
# (per-user:F, leave-last-out, users:F with its fold-in history and
# --fold-in-fraction) with its sizes, --seed reproducing a split, and `facto
# eval --metrics` on a saved model equal to what `facto train` reported,
# with --history folding in users the model never saw.
set -u
. "$(dirname "$0")/lib.bash"

# ---- implicit reading, self-contained ----------------------------------------
printf 'a\tx\na\tx\na\ty\nb\tx\n' >"$TMP/two.tsv"
expect_rc 0 "$F" convert --from-ratings "$TMP/two.tsv" --implicit --to libsvm --out "$TMP/two"
expect_err "4 lines of implicit feedback -> 3 pairs (2 users, 2 items); 1 repeated line added into their pair"
# rows in CSR order (a: x, y; b: x); the label is the pair's weight: a-x twice = 2
[ "$(cut -d' ' -f1 "$TMP/two.train" | tr '\n' ' ')" = "2 1 1 " ] || fail "absent weights are not 1, summed: $(cat "$TMP/two.train")"
printf 'a\tx\t2\na\tx\t3.5\na\ty\t1\nb\tx\t4\nc\ty\t0.5\n' >"$TMP/w.tsv"
expect_rc 0 "$F" convert --from-ratings "$TMP/w.tsv" --implicit --to libsvm --out "$TMP/w"
[ "$(head -n1 "$TMP/w.train" | cut -d' ' -f1)" = "5.5" ] || fail "weights 2 + 3.5 do not add to 5.5: $(cat "$TMP/w.train")"
expect_rc 0 "$F" convert --from-ratings "$TMP/w.tsv" --implicit-threshold 4 --to libsvm --out "$TMP/w4"
expect_err "2 pairs below the threshold 4 dropped, and with them 1 user and 1 item"
[ "$(cut -d' ' -f1 "$TMP/w4.train" | tr '\n' ' ')" = "1 1 " ] || fail "threshold 4 does not keep a-x, b-x of weight 1"

# a ranking kind reads implicit data by default; a rating kind does not
expect_rc 0 "$F" train --model popular --train "$TMP/w.tsv"
expect_err "5 lines of implicit feedback"
expect_rc 0 "$F" train --train "$TMP/w.tsv" --epochs 1 --factors 2
if grep -q "implicit feedback" "$TMP/err"; then fail "mf read explicit ratings as implicit feedback"; fi
expect_rc 0 "$F" train --train "$TMP/w.tsv" --epochs 1 --factors 2 --implicit --json
grep -q '"implicit": true' "$TMP/out" || fail "train --implicit --json does not say implicit"
# fm's own hyperparameter named implicit keeps its name; --implicit-feedback reads implicit data
expect_rc 0 "$F" train --model fm --from-ratings "$TMP/w.tsv" --predictor_type regressor --solver als \
    --num_factors 2 --num_iter 1 --implicit user --implicit-feedback
expect_err "implicit feedback"

# bad input: FILE:LINE, exit 2
printf 'u1\ti1\t1\nu1\ti2\tabc\n' >"$TMP/nan.tsv"
expect_rc 2 "$F" train --model popular --train "$TMP/nan.tsv"
expect_err "nan.tsv:2:"; expect_err "abc"
printf 'u1\ti1\t1\nu2\ti2\t-3\n' >"$TMP/neg.tsv"
expect_rc 2 "$F" train --train "$TMP/neg.tsv" --implicit
expect_err "neg.tsv:2:"; expect_err "negative"
printf 'u1\ti1\t1\n\ti2\t1\n' >"$TMP/nouser.tsv"
expect_rc 2 "$F" train --model popular --train "$TMP/nouser.tsv"
expect_err "nouser.tsv:2:"; expect_err "user id is empty"
expect_rc 2 "$F" convert --from-ratings "$TMP/neg.tsv" --implicit --to libsvm --out "$TMP/neg"
expect_err "neg.tsv:2:"
# bad flags: exit 1
expect_rc 1 "$F" train --train "$TMP/w.tsv" --implicit-threshold 0
expect_rc 1 "$F" train --train "$TMP/w.tsv" --implicit-threshold x
expect_rc 1 "$F" train --train "$TMP/w.tsv" --test "$TMP/w.tsv" --metrics ndcg@x
expect_err "ndcg@x"
expect_rc 1 "$F" train --train "$TMP/w.tsv" --test "$TMP/w.tsv" --metrics bleu@10
expect_err "bleu"
expect_rc 1 "$F" train --train "$TMP/w.tsv" --metrics ndcg@10
expect_err "needs a test set"
expect_rc 1 "$F" train --train "$TMP/w.tsv" --split random:0.5 --fold-in-fraction 0.5
expect_err "users:F"
expect_rc 1 "$F" train --model popular --train "$TMP/w.tsv" --seed 3
expect_err "--seed seeds a split"
expect_rc 0 "$F" train --train "$TMP/w.tsv" --epochs 1 --factors 2 --out "$TMP/w.facto"
expect_rc 1 "$F" eval --model "$TMP/w.facto" --test "$TMP/w.tsv" --metrics mrr@3
expect_err "mrr"

# ---- MovieLens 100K ---------------------------------------------------------
need_ml100k
U="$ML/u.data"
P=(--from-ratings "$U" --implicit-threshold 4)

# the read summary, and per-user:0.2: sizes fixed by the degrees
expect_rc 0 "$F" train --model popular "${P[@]}" --split per-user:0.2 --seed 1 --json
expect_err "100000 lines of implicit feedback -> 55375 pairs (942 users, 1447 items)"
expect_err "44625 pairs below the threshold 4 dropped, and with them 1 user and 235 items"
[ "$(json_num n_train "$TMP/out")" -eq 44296 ] || fail "per-user:0.2 n_train is not 44296"
[ "$(json_num n_test "$TMP/out")" -eq 11079 ] || fail "per-user:0.2 n_test is not 11079"
[ "$(json_num below_threshold "$TMP/out")" -eq 44625 ] || fail "below_threshold is not 44625"
[ "$(json_num users_dropped "$TMP/out")" -eq 1 ] || fail "users_dropped is not 1"
[ "$(json_num items_dropped "$TMP/out")" -eq 235 ] || fail "items_dropped is not 235"
[ "$(json_num n_users "$TMP/out")" -eq 942 ] || fail "per-user:0.2 does not score all 942 users"
for m in 'ndcg@10' 'recall@20' 'precision@10' 'map@10' 'mrr' 'hr@10' 'auc' 'coverage@10'; do
    [ -n "$(json_num "$m" "$TMP/out")" ] || fail "train --json lacks $m"
done
cp "$TMP/out" "$TMP/pu1.json"
# --seed reproduces it (popular has no seed hyperparameter: --seed is the split's)
expect_rc 0 "$F" train --model popular "${P[@]}" --split per-user:0.2 --seed 1 --json
[ "$(json_num 'ndcg@10' "$TMP/out")" = "$(json_num 'ndcg@10' "$TMP/pu1.json")" ] || fail "seed 1 twice: other figures"
expect_rc 0 "$F" train --model popular "${P[@]}" --split per-user:0.2 --seed 2 --json
[ "$(json_num 'ndcg@10' "$TMP/out")" != "$(json_num 'ndcg@10' "$TMP/pu1.json")" ] || fail "seed 2 split as seed 1"
# mf's own seed seeds the split too
expect_rc 0 "$F" train "${P[@]}" --split per-user:0.2 --seed 7 --factors 4 --epochs 1 --metrics ndcg@10 --json
a=$(json_num 'ndcg@10' "$TMP/out")
expect_rc 0 "$F" train "${P[@]}" --split per-user:0.2 --seed 7 --factors 4 --epochs 1 --metrics ndcg@10 --json
[ "$(json_num 'ndcg@10' "$TMP/out")" = "$a" ] || fail "mf --seed 7 twice: other figures"

# leave-last-out: one test pair per user with two or more positives
want=$(awk '$3 >= 4 { c[$1]++ } END { n = 0; for (u in c) if (c[u] >= 2) n++; print n }' "$U")
expect_rc 0 "$F" train --model popular "${P[@]}" --split leave-last-out --json
[ "$(json_num n_test "$TMP/out")" -eq "$want" ] || fail "leave-last-out n_test is not $want"
[ $(($(json_num n_train "$TMP/out") + want)) -eq 55375 ] || fail "leave-last-out train + test != 55375"

# users:0.2, seed 1: 188 users held out, 80% of each folded in, 20% scored
expect_rc 0 "$F" train --model popular "${P[@]}" --split users:0.2 --seed 1 --json
[ "$(json_num n_train "$TMP/out")" -eq 45124 ] || fail "users:0.2 n_train is not 45124"
[ "$(json_num n_history "$TMP/out")" -eq 8205 ] || fail "users:0.2 n_history is not 8205"
[ "$(json_num n_test "$TMP/out")" -eq 2046 ] || fail "users:0.2 n_test is not 2046"
[ "$(json_num n_users "$TMP/out")" -eq 188 ] || fail "users:0.2 does not fold in and score 188 users"
expect_rc 0 "$F" train --model popular "${P[@]}" --split users:0.2 --seed 1 --fold-in-fraction 0.5 --json
h=$(json_num n_history "$TMP/out"); t=$(json_num n_test "$TMP/out")
[ $((h + t)) -eq $((8205 + 2046)) ] && [ "$h" -lt 8205 ] || fail "--fold-in-fraction 0.5: history $h, test $t"
expect_rc 0 "$F" train --model popular "${P[@]}" --split users:0.2 --seed 1
grep -q "testing on 2046 ratings of 188 held-out users folded in from 8205 more" "$TMP/out" || fail "users:F header"
grep -q "^#test_users (algo-1) : 188 scored, 0 skipped" "$TMP/out" || fail "no #test_users line"
# mf cannot fold users in: ranking metrics on users:F say so (the model is still saved)
expect_rc 2 "$F" train "${P[@]}" --split users:0.2 --seed 1 --factors 4 --epochs 1 --metrics mrr --out "$TMP/mfu.facto"
expect_err "folds the held-out users in"
[ -s "$TMP/mfu.facto" ] || fail "the model was not saved"

# eval --metrics on a saved model equals what train reported (a rating model, asked)
LIST=ndcg@10,recall@20,precision@10,map@10,mrr,hr@10,auc,coverage@10
expect_rc 0 "$F" train --dataset ml-100k --split u1 --factors 8 --epochs 3 --metrics "$LIST" --out "$TMP/mf.facto" --json
cp "$TMP/out" "$TMP/train.json"
expect_rc 0 "$F" eval --model "$TMP/mf.facto" --test "$ML/u1.test" --metrics "$LIST" --json
for m in ${LIST//,/ } n_users n_users_skipped; do
    [ "$(json_num "$m" "$TMP/out")" = "$(json_num "$m" "$TMP/train.json")" ] ||
        fail "eval $m $(json_num "$m" "$TMP/out") != train's $(json_num "$m" "$TMP/train.json")"
done
[ -n "$(json_num rmse "$TMP/out")" ] || fail "eval --metrics lost the RMSE"
# a ranking model reports them by default, here trained on every core and scored on one
for kind in ials bpr warp softmax; do
    expect_rc 0 "$F" train --model "$kind" --dataset ml-100k --split u1 --implicit-threshold 4 --factors 16 \
        --epochs 4 --out "$TMP/$kind.facto" --json
    cp "$TMP/out" "$TMP/train.json"
    expect_rc 0 "$F" eval --model "$TMP/$kind.facto" --test "$ML/u1.test" --implicit-threshold 4 --json
    for m in ${LIST//,/ } n_users n_users_skipped; do
        [ "$(json_num "$m" "$TMP/out")" = "$(json_num "$m" "$TMP/train.json")" ] ||
            fail "$kind: eval $m $(json_num "$m" "$TMP/out") != train's $(json_num "$m" "$TMP/train.json")"
    done
done
expect_rc 0 "$F" eval --model "$TMP/mf.facto" --test "$ML/u1.test" --metrics ndcg@10 --threads 2
grep -Eq '^ndcg@10 +0\.[0-9]+$' "$TMP/out" || fail "eval text lacks ndcg@10"
grep -q "^users skipped *0" "$TMP/out" || fail "eval text lacks users skipped"

# a ranking model: eval reads the test file as implicit data by itself; --history folds
# in users the model never saw (users 1..100 held out: odd lines folded in, even scored)
awk '$1 > 100' "$U" >"$TMP/tr.tsv"
awk '$1 <= 100 { n[$1]++; print > (n[$1] % 2 ? h : t) }' h="$TMP/hist.tsv" t="$TMP/target.tsv" "$U"
expect_rc 0 "$F" train --model ease --train "$TMP/tr.tsv" --implicit-threshold 4 --out "$TMP/ease.facto"
expect_rc 0 "$F" eval --model "$TMP/ease.facto" --test "$TMP/target.tsv" --implicit-threshold 4 --json
[ "$(json_num n_users "$TMP/out")" -eq 0 ] || fail "users the model never saw were scored without a history"
skipped=$(json_num n_users_skipped "$TMP/out")
expect_rc 0 "$F" eval --model "$TMP/ease.facto" --test "$TMP/target.tsv" --history "$TMP/hist.tsv" \
    --implicit-threshold 4 --json
expect_err "lines of implicit feedback"
n=$(json_num n_users "$TMP/out")
[ "$n" -gt 90 ] && [ "$n" -le "$skipped" ] || fail "--history folded in $n users of $skipped"
ndcg=$(json_num 'ndcg@10' "$TMP/out")
awk -v v="$ndcg" 'BEGIN { exit !(v > 0.1) }' || fail "folded-in users: ndcg@10 $ndcg"
echo ok
