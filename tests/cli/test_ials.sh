#!/usr/bin/env bash
# test_ials.sh — `facto train --model ials` end to end on a generated
# implicit file (three taste groups): the epoch lines carry a train loss that
# never rises; the ranking figures on the test part beat a random ranking by
# far (NDCG@10 > 0.3 here, about 0.05 at random); threads do not change the
# model bytes; inspect lists the hyperparameters it trained with; recommend
# never lists an item the user had in training. Self-contained.
set -u
. "$(dirname "$0")/lib.bash"

# 60 users in 3 groups x 45 items (item i belongs to group i % 3); a user has
# about 60% of their group's items and 5% of the others; 80% of lines train.
awk -v tr="$TMP/i.train" -v te="$TMP/i.test" 'BEGIN { srand(11);
    for (u = 1; u <= 60; u++) for (i = 1; i <= 45; i++) {
      p = (i % 3 == u % 3) ? 0.6 : 0.05
      if (rand() < p) printf "%d\t%d\t1\n", u, i > (rand() < 0.8 ? tr : te) } }'
T=(train --model ials --train "$TMP/i.train" --test "$TMP/i.test" --num_factors 8 --epochs 6)

expect_rc 0 "$F" "${T[@]}" --threads 1 --out "$TMP/a.facto"
grep -c '^epoch .* train loss ' "$TMP/out" | grep -qx 6 || fail "no train loss on the epoch lines: $(cat "$TMP/out")"
awk '/^epoch/ { for (f = 1; f < NF; f++) if ($f == "loss") { v = $(f + 1) + 0;
        if (seen && v > last * (1 + 1e-6)) bad = 1; last = v; seen = 1 } } END { exit bad }' "$TMP/out" ||
    fail "the ials train loss rose: $(cat "$TMP/out")"
ndcg=$(sed -n "s/^#test_score (algo-1) : ('ndcg@10', \([0-9.e-]*\))$/\1/p" "$TMP/out")
awk -v n="$ndcg" 'BEGIN { exit !(n > 0.3) }' || fail "ials test ndcg@10 is '$ndcg': $(cat "$TMP/out")"

expect_rc 0 "$F" "${T[@]}" --threads 2 --out "$TMP/b.facto"
cmp -s "$TMP/a.facto" "$TMP/b.facto" || fail "1 and 2 threads trained different ials models"

expect_rc 0 "$F" inspect --model "$TMP/a.facto"
grep -q 'unobserved_weight=0.15' "$TMP/out" || fail "inspect lacks the ials hyperparameters: $(cat "$TMP/out")"
grep -q 'num_factors=8' "$TMP/out" || fail "inspect lacks num_factors=8: $(cat "$TMP/out")"

for u in 1 2 30 60; do
    expect_rc 0 "$F" recommend --model "$TMP/a.facto" --user "$u" -k 10
    awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/rec"
    [ "$(wc -l <"$TMP/rec")" -eq 10 ] || fail "ials recommend user $u: $(cat "$TMP/out")"
    awk -F'\t' -v u="$u" '$1 == u { print $2 }' "$TMP/i.train" | sort -u >"$TMP/seen"
    [ -z "$(comm -12 "$TMP/rec" "$TMP/seen")" ] || fail "ials recommend user $u: an item seen in training"
done
expect_rc 1 "$F" train --model ials --train "$TMP/i.train" --reg 0
expect_err "reg"
echo "ok"
