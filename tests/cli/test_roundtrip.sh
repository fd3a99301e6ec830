#!/usr/bin/env bash
# test_roundtrip.sh — train -> save -> eval/predict/recommend on ml-100k u1:
# eval's RMSE equals the last epoch's test RMSE; the RMSE recomputed with awk
# from `predict` output and u1.test's true ratings equals eval's; recommend
# never lists an item the user rated in u1.base (checked against the file),
# --include-seen can, and titles come through as UTF-8. Needs ml-100k (else 77).
set -u
. "$(dirname "$0")/lib.bash"
need_ml100k
M="$TMP/m.facto"

expect_rc 0 "$F" train --dataset ml-100k --split u1 --epochs 10 --out "$M" --json
[ -s "$M" ] || fail "no model file written"
train_rmse=$(json_num test_rmse "$TMP/out")

expect_rc 0 "$F" eval --model "$M" --test "$ML/u1.test" --json
eval_rmse=$(json_num rmse "$TMP/out")
[ "$(json_num count "$TMP/out")" -eq 20000 ] || fail "eval count is not 20000"
awk -v a="$train_rmse" -v b="$eval_rmse" 'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }' \
    || fail "eval RMSE $eval_rmse != train's test RMSE $train_rmse"
expect_rc 0 "$F" eval --model "$M" --test "$ML/u1.test"
grep -q '^RMSE' "$TMP/out" && grep -q '^unknown items' "$TMP/out" || fail "eval text output"

# predict: one line per pair, and an independent RMSE from its scores.
cut -f1,2 "$ML/u1.test" >"$TMP/pairs"
expect_rc 0 "$F" predict --model "$M" --input "$TMP/pairs"
[ "$(wc -l <"$TMP/out")" -eq 20000 ] || fail "predict wrote $(wc -l <"$TMP/out") lines"
paste "$TMP/out" "$ML/u1.test" | awk -F'\t' '$1 != $4 || $2 != $5 { bad = 1 }
    { d = $3 - $6; s += d * d; n++ } END { if (bad) exit 1; printf "%.6f\n", sqrt(s / n) }' >"$TMP/rmse" \
    || fail "predict output is not in input order"
awk -v a="$(cat "$TMP/rmse")" -v b="$eval_rmse" 'BEGIN { d = a - b; exit !(d < 2e-4 && d > -2e-4) }' \
    || fail "RMSE from predict $(cat "$TMP/rmse") != eval's $eval_rmse"
printf '1 50\n' | "$F" predict --model "$M" --input - --json >"$TMP/out" || fail "predict from stdin"
s=$(json_num score "$TMP/out")
awk -v s="$s" 'BEGIN { exit !(s >= 1 && s <= 5) }' || fail "score $s outside the rating range"

# recommend: nothing the user rated in u1.base.
for u in 1 13 405; do
    expect_rc 0 "$F" recommend --model "$M" --user "$u" -k 50
    awk 'NR > 1 { print $2 }' "$TMP/out" >"$TMP/rec"
    [ "$(wc -l <"$TMP/rec")" -eq 50 ] || fail "user $u: want 50 items"
    awk -F'\t' -v u="$u" '$1 == u { print $2 }' "$ML/u1.base" | sort >"$TMP/seen"
    [ -z "$(sort "$TMP/rec" | comm -12 - "$TMP/seen")" ] || fail "user $u: recommended a seen item"
done
# --include-seen with k = all items lists every item user 1 rated.
expect_rc 0 "$F" recommend --model "$M" --user 1 -k 5000 --include-seen
awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/rec"
awk -F'\t' '$1 == 1 { print $2 }' "$ML/u1.base" | sort >"$TMP/seen"
[ -z "$(comm -13 "$TMP/rec" "$TMP/seen")" ] || fail "--include-seen left out seen items"
# Scores are best first.
awk 'NR > 1 { print $4 }' "$TMP/out" | sort -g -r -c || fail "recommendations not sorted by score"

# Titles, as UTF-8 (u.item is ISO-8859-1; item 543 is "Misérables, Les (1995)").
expect_rc 0 "$F" recommend --model "$M" --user 1 -k 5000 --include-seen --json --dataset ml-100k
grep -qF '{"item": "50", "rating": ' "$TMP/out" || fail "item 50 missing from JSON"
grep -qF '"title": "Star Wars (1977)"' "$TMP/out" || fail "no Star Wars title"
grep -qF "$(printf 'Mis\xc3\xa9rables, Les (1995)')" "$TMP/out" || fail "item 543's title is not UTF-8"
expect_rc 0 "$F" recommend --model "$M" --user 1 --titles "$ML"
[ "$(awk 'NR > 1 && NF >= 4' "$TMP/out" | wc -l)" -eq 10 ] || fail "default -k 10 with titles"

# A CSV pairs file with a header: the header is skipped, the pair scored.
printf 'userId,movieId,rating\n1,50,5\n' >"$TMP/pairs.csv"
expect_rc 0 "$F" predict --model "$M" --input "$TMP/pairs.csv"
[ "$(wc -l <"$TMP/out")" -eq 1 ] && grep -q '^1	50	' "$TMP/out" || fail "predict with a CSV header"

# The same ratings in another layout (columns reordered, ';' and a header)
# read with --columns train the same model: same test RMSE.
for f in base test; do
    awk -F'\t' 'BEGIN { print "movie;uid;stars" } { print $2 ";" $1 ";" $3 }' "$ML/u1.$f" >"$TMP/u1.$f.csv"
done
expect_rc 0 "$F" train --train "$TMP/u1.base.csv" --test "$TMP/u1.test.csv" --columns uid,movie,stars \
    --epochs 10 --json
csv_rmse=$(json_num test_rmse "$TMP/out")
awk -v a="$train_rmse" -v b="$csv_rmse" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }' \
    || fail "--columns: test RMSE $csv_rmse != $train_rmse"
echo ok
