#!/usr/bin/env bash
# test_recommend_predict.sh — a (user, item) pair prints the same number in
# `facto recommend` (its score and, for a rating model, its rating), in
# `facto predict`, and in the server's /recommendations and /invocations:
# the lists of a dot-form model took their scores from a fixed-order sum
# that could differ from the model's own score in the last digit (4.1199822
# vs 4.119982). mf, fm from ratings and ials (the kinds with a dot form);
# every user's list (the batch path), one user alone (the server's call,
# which takes an int8 prefilter at 64 factors x 1100 items where the CPU
# has AVX-512 VNNI). Self-contained.
set -u
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/serve.bash"

awk 'BEGIN { s = 7; for (u = 1; u <= 40; u++) for (i = 1; i <= 1100; i++) { s = (s * 1103515245 + 12345) % 2147483648;
    if (s % 3 == 0) printf "%d\t%d\t%d\n", u, i, 1 + (s / 3 + u + i) % 5 } }' >"$TMP/r.tsv"
M="$TMP/m.facto"
# check WHAT LO HI: recommend --all-users against predict of the same pairs;
# a rating model's lists have a rating column (predict's number) and a
# score (the raw one: equal to it inside LO..HI), a ranking model's a score
check() {
    expect_rc 0 "$F" recommend --model "$M" --all-users -k 30 --format tsv
    cp "$TMP/out" "$TMP/rec.tsv"
    [ -s "$TMP/rec.tsv" ] || fail "$1: no lists"
    cut -f1,2 "$TMP/rec.tsv" >"$TMP/pairs.tsv"
    expect_rc 0 "$F" predict --model "$M" --input "$TMP/pairs.tsv"
    paste "$TMP/rec.tsv" "$TMP/out" | awk -v w="$1" -v lo="$2" -v hi="$3" -F'\t' '
        NF == 7 && $3 != $7 { print w ": rating " $3 " vs predict " $7 " for " $1 " " $2; bad = 1 }
        NF == 7 && $3 > lo && $3 < hi && $3 != $4 { print w ": rating " $3 " vs score " $4 " for " $1 " " $2; bad = 1 }
        NF == 6 && $3 != $6 { print w ": score " $3 " vs predict " $6 " for " $1 " " $2; bad = 1 }
        NF != 6 && NF != 7 { print w ": " NF " columns"; bad = 1 }
        { s = NF == 7 ? $4 : $3 }
        $1 == pu && s + 0 > ps + 0 { print w ": list of " $1 " not sorted at " $2; bad = 1 }
        { pu = $1; ps = s } END { exit bad }' || fail "$1: recommend and predict differ"
    # one user alone: the same list as in the batch
    for u in 1 17 40; do
        expect_rc 0 "$F" recommend --model "$M" --user $u -k 30 --format tsv
        awk -v u=$u -F'\t' '$1 == u' "$TMP/rec.tsv" | cmp -s - "$TMP/out" || fail "$1: user $u alone differs"
    done
}
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --epochs 20 --num_factors 64 --out "$M"
check mf 1 5
# the server: /recommendations' scores are /invocations' predictions of the same pairs
start --model "$M"
for u in 3 29; do
    req 200 "$U/recommendations?user=$u&k=30"
    grep -o '"item": "[0-9]*", "score": [-0-9.e]*' "$TMP/body" | sed 's/"item": "\([0-9]*\)", "score": /\1 /' \
        >"$TMP/srv_rec"
    [ "$(wc -l <"$TMP/srv_rec")" -eq 30 ] || fail "server list of $u: $(cat "$TMP/body")"
    awk -v u=$u '{ printf "%s{\"user\": \"%s\", \"item\": \"%s\"}", (NR > 1 ? ", " : "{\"instances\": ["), u, $1 }
        END { print "]}" }' "$TMP/srv_rec" >"$TMP/inst.json"
    req 200 -H 'Content-Type: application/json' --data-binary @"$TMP/inst.json" "$U/invocations"
    grep -o '"score": [-0-9.e]*' "$TMP/body" | sed 's/"score": //' >"$TMP/srv_pred"
    paste -d' ' "$TMP/srv_rec" "$TMP/srv_pred" | awk -v u=$u '$2 > 1 && $2 < 5 && $2 != $3 {
        print "user " u " item " $1 ": /recommendations " $2 " vs /invocations " $3; bad = 1 }
        NF != 3 { bad = 1 } END { exit bad }' || fail "server: recommendations and invocations differ"
done
stop
expect_rc 0 "$F" train --model fm --from-ratings "$TMP/r.tsv" --predictor_type regressor --num_factors 16 \
    --solver als --num_iter 5 --out "$M"
check "fm als" 1 5
expect_rc 0 "$F" train --model ials --train "$TMP/r.tsv" --num_factors 64 --epochs 4 --out "$M"
check ials 0 0
echo ok
