#!/usr/bin/env bash
# test_rankloss.sh — `facto train --model bpr|warp|softmax` end to end on a
# generated implicit file (three taste groups): every epoch line carries
# the train loss and the last is below the first; NDCG@10 on the test part
# beats a random ranking by far (> 0.3 here, about 0.05 at random); one
# thread trains the same bytes twice, two threads train a model too (not
# the same bytes: Hogwild); inspect lists the hyperparameters with the
# fold-in settings; recommend never lists an item the user had in
# training; bad settings are usage errors naming them. Self-contained.
set -u
. "$(dirname "$0")/lib.bash"

# 60 users in 3 groups x 45 items (item i belongs to group i % 3); a user has
# about 60% of their group's items and 5% of the others; 80% of lines train.
awk -v tr="$TMP/i.train" -v te="$TMP/i.test" 'BEGIN { srand(11);
    for (u = 1; u <= 60; u++) for (i = 1; i <= 45; i++) {
      p = (i % 3 == u % 3) ? 0.6 : 0.05
      if (rand() < p) printf "%d\t%d\t1\n", u, i > (rand() < 0.8 ? tr : te) } }'

for kind in bpr warp softmax; do
    T=(train --model "$kind" --train "$TMP/i.train" --test "$TMP/i.test" --num_factors 8)
    expect_rc 0 "$F" "${T[@]}" --threads 1 --out "$TMP/$kind.a.facto"
    n=$(grep -c '^epoch .* train loss ' "$TMP/out")
    [ "$n" -ge 5 ] || fail "$kind: no train loss on the epoch lines: $(cat "$TMP/out")"
    awk '/^epoch/ { for (f = 1; f < NF; f++) if ($f == "loss") { v = $(f + 1) + 0; if (!seen) first = v; last = v;
            seen = 1 } } END { exit !(seen && last < first) }' "$TMP/out" ||
        fail "$kind: the train loss did not fall: $(cat "$TMP/out")"
    ndcg=$(sed -n "s/^#test_score (algo-1) : ('ndcg@10', \([0-9.e-]*\))$/\1/p" "$TMP/out")
    awk -v n="$ndcg" 'BEGIN { exit !(n > 0.3) }' || fail "$kind test ndcg@10 is '$ndcg': $(cat "$TMP/out")"

    expect_rc 0 "$F" "${T[@]}" --threads 1 --out "$TMP/$kind.b.facto"
    cmp -s "$TMP/$kind.a.facto" "$TMP/$kind.b.facto" || fail "$kind: one thread trained different bytes twice"
    expect_rc 0 "$F" "${T[@]}" --threads 2 --out "$TMP/$kind.c.facto"

    expect_rc 0 "$F" inspect --model "$TMP/$kind.a.facto"
    grep -q 'num_factors=8' "$TMP/out" || fail "$kind: inspect lacks num_factors=8: $(cat "$TMP/out")"
    grep -q 'foldin_reg=' "$TMP/out" || fail "$kind: inspect lacks the fold-in settings: $(cat "$TMP/out")"

    for u in 1 2 30 60; do
        expect_rc 0 "$F" recommend --model "$TMP/$kind.a.facto" --user "$u" -k 10
        awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/rec"
        [ "$(wc -l <"$TMP/rec")" -eq 10 ] || fail "$kind recommend user $u: $(cat "$TMP/out")"
        awk -F'\t' -v u="$u" '$1 == u { print $2 }' "$TMP/i.train" | sort -u >"$TMP/seen"
        [ -z "$(comm -12 "$TMP/rec" "$TMP/seen")" ] || fail "$kind recommend user $u: an item seen in training"
    done
    expect_rc 1 "$F" train --model "$kind" --train "$TMP/i.train" --learning_rate 0
    expect_err "learning_rate"
done
expect_rc 1 "$F" train --model bpr --train "$TMP/i.train" --negative_sampling sometimes
expect_err "negative_sampling"
expect_rc 1 "$F" train --model warp --train "$TMP/i.train" --max_sampled 0
expect_err "max_sampled"
expect_rc 1 "$F" train --model softmax --train "$TMP/i.train" --batch_size 0
expect_err "batch_size"
echo "ok"
