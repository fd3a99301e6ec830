#!/usr/bin/env bash
# test_itemmodels.sh — the item-based ranking kinds through `facto train`:
# popular, itemknn and ease train from a ratings file (the third column a
# weight), report ranking figures (--json: task "ranking", ndcg@10),
# save a model that `facto inspect` describes and `facto recommend` uses
# without ever listing an item the user had in training; a hyperparameter
# by name or alias trains the same bytes; ease refuses a catalogue beyond
# --max-memory with the bytes it would need (exit 2: too much data for the
# setting), and reg 0 (exit 1).
# Self-contained (a generated file of interactions).
set -u
. "$(dirname "$0")/lib.bash"

# 60 users x 40 items, popular items more often, weight 1; 80% train.
awk -v tr="$TMP/r.train" -v te="$TMP/r.test" 'BEGIN { srand(5);
    for (u = 1; u <= 60; u++) for (r = 0; r < 15; r++) { i = 1 + int(rand() * rand() * 40);
      printf "%d\t%d\t1\n", u, i > (rand() < 0.8 ? tr : te) } }'
T=(train --train "$TMP/r.train" --test "$TMP/r.test")

for kind in popular itemknn ease; do
    expect_rc 0 "$F" "${T[@]}" --model "$kind" --json --out "$TMP/$kind.facto"
    grep -q '"task": "ranking"' "$TMP/out" || fail "$kind --json does not say task ranking"
    ndcg=$(json_num 'ndcg@10' "$TMP/out")
    awk -v v="$ndcg" 'BEGIN { exit !(v > 0.05 && v <= 1) }' || fail "$kind test ndcg@10 is '$ndcg'"
    expect_rc 0 "$F" inspect --model "$TMP/$kind.facto"
    grep -q "^task *ranking" "$TMP/out" || fail "$kind: inspect does not say ranking"
    # top-10 of users 1..20: none of their training items
    for u in $(seq 1 20); do
        expect_rc 0 "$F" recommend --model "$TMP/$kind.facto" --user "$u" -k 10
        awk 'NR > 1 { print $2 }' "$TMP/out" >"$TMP/recs"
        [ "$(wc -l <"$TMP/recs")" -gt 0 ] || fail "$kind: no recommendation for user $u"
        awk -v u="$u" '$1 == u { print $2 }' "$TMP/r.train" | sort -u >"$TMP/seen"
        if grep -qxFf "$TMP/seen" "$TMP/recs"; then fail "$kind recommends user $u an item seen in training"; fi
    done
done

# one hyperparameter, by name and by alias: the same bytes
expect_rc 0 "$F" "${T[@]}" --model ease --reg 50 --out "$TMP/a.facto"
expect_rc 0 "$F" "${T[@]}" --model ease --lambda=50 --out "$TMP/b.facto"
cmp -s "$TMP/a.facto" "$TMP/b.facto" || fail "--lambda 50 trained another model than --reg 50"
expect_rc 0 "$F" "${T[@]}" --model itemknn --neighbors 5 --similarity cosine --out "$TMP/c.facto"
expect_rc 0 "$F" "${T[@]}" --model itemknn --neighbours 5 --similarity=cosine --out "$TMP/d.facto"
cmp -s "$TMP/c.facto" "$TMP/d.facto" || fail "--neighbours 5 trained another model than --neighbors 5"

# refusals
n_items=$(cut -f2 "$TMP/r.train" | sort -u | wc -l)
expect_rc 2 "$F" "${T[@]}" --model ease --max-memory 100
expect_err "$((n_items * n_items * 4)) bytes"
expect_err "max_memory"
expect_rc 1 "$F" "${T[@]}" --model ease --reg 0
expect_err "reg"
expect_rc 1 "$F" "${T[@]}" --model itemknn --similarity jaccard
expect_err "cosine or bm25"
echo "ok"
