#!/usr/bin/env bash
# test_consistency.sh — issue 12's "one consistent command line", on a
# generated ratings file (no data set needed):
#  - SageMaker's names and the shared aliases (--factors, --num_factors,
#    --factors_wd, --linear_wd, --mini_batch_size, --iterations) train the
#    same model bytes as each kind's own name; `train --model K --help`
#    lists each alias once; a name the kind lacks is a usage error naming
#    the kind, the name and the kinds that have it;
#  - eval prints one table layout for every task (regression, classifier,
#    ranking), SageMaker's lines with --sagemaker, JSON with --json;
#  - train --test reports the test ids unknown to training (as eval counts
#    them) and warns when most are unknown or the columns are swapped;
#  - recommend shows the rating predict prints for the pair (clipped) next
#    to the raw score, --raw-scores the score only, a ranking model its
#    score only; long ids keep the table aligned;
#  - convert --numeric-ids counts the same unknown ids as the default layout;
#  - eval of a model trained on encoded rows given ratings explains what to
#    pass, and the rows `facto convert` writes evaluate;
#  - predict --help says the delimiter comes from the first line.
set -u
. "$(dirname "$0")/lib.bash"

# 40 users x 30 items, about 15 ratings each, 80% train (ids as numbers);
# a rating = user part + item part (learnable: a model beats the mean).
awk -v tr="$TMP/r.train" -v te="$TMP/r.test" 'BEGIN { srand(7);
    for (u = 1; u <= 40; u++) for (r = 0; r < 15; r++) { i = 1 + int(rand() * 30);
      printf "%d\t%d\t%d\n", u, i, 1 + 2 * (u % 3 == 0) + 2 * (i % 2 == 0) > (rand() < 0.8 ? tr : te) } }'
T=(train --from-ratings "$TMP/r.train" --test-ratings "$TMP/r.test")

# ---- 1. aliases through the kinds' tables ---------------------------------------
# same bytes: "canonical value" vs "alias value" for each kind
same_model() { # KIND "FLAGS A" "FLAGS B" [extra...]
    local kind=$1 a=$2 b=$3; shift 3
    # shellcheck disable=SC2086
    expect_rc 0 "$F" "${T[@]}" --model "$kind" "$@" $a --out "$TMP/a.facto"
    # shellcheck disable=SC2086
    expect_rc 0 "$F" "${T[@]}" --model "$kind" "$@" $b --out "$TMP/b.facto"
    cmp -s "$TMP/a.facto" "$TMP/b.facto" || fail "$kind: '$b' trained another model than '$a'"
}
same_model mf "--num_factors 6 --reg_factors 0.05 --reg_bias 0.02 --epochs 3 --init_std 0.1" \
    "--factors 6 --factors_wd 0.05 --linear_wd 0.02 --iterations 3 --factors_init_sigma 0.1"
FMR=(--predictor_type regressor --solver als --num_iter 3)
same_model fm "--num_factors 4" "--factors 4" "${FMR[@]}"
for k in bpr warp; do
    same_model $k "--num_factors 6 --reg 0.05 --reg_bias 0.01 --epochs 2" \
        "--factors 6 --factors_wd 0.05 --linear_wd 0.01 --epochs 2"
done
same_model softmax "--num_factors 6 --reg 0.05 --batch_size 8 --epochs 2" \
    "--factors 6 --factors_wd 0.05 --mini_batch_size 8 --epochs 2"
same_model ials "--num_factors 6 --reg 0.05 --epochs 2" "--factors 6 --factors_wd 0.05 --iterations 2"
# hyperparameters.json with SageMaker's names for mf
printf '{"num_factors": "6", "factors_wd": "0.05", "linear_wd": "0.02", "epochs": "3"}' >"$TMP/hp.json"
expect_rc 0 "$F" "${T[@]}" --hyperparameters "$TMP/hp.json" --out "$TMP/b.facto"
expect_rc 0 "$F" "${T[@]}" --factors 6 --reg 0.05 --reg_bias 0.02 --epochs 3 --out "$TMP/a.facto"
cmp -s "$TMP/a.facto" "$TMP/b.facto" || fail "mf: hyperparameters.json with SageMaker's names differs"
# each alias once in a kind's --help
for k in mf fm ials bpr warp softmax itemknn ease popular; do
    expect_rc 0 "$F" train --model "$k" --help
    # the hyperparameter lines (after "Hyperparameters of K"): every --name and alias once
    dup=$(sed -n '/^Hyperparameters of/,/^Exit codes/p' "$TMP/out" | grep -o -- '--[a-z_0-9]*' | sort | uniq -d)
    [ -z "$dup" ] || fail "train --model $k --help names twice: $dup"
done
expect_rc 0 "$F" train --model fm --help
grep -q -- '--num_factors N.*also --factors' "$TMP/out" || fail "fm --help lacks --factors as an alias"
expect_rc 0 "$F" train --model mf --help
grep -q -- 'also --reg --factors_wd' "$TMP/out" || fail "mf --help lacks --factors_wd as an alias"
# a name the kind lacks: usage error naming the kind, the name and who has it
expect_rc 1 "$F" "${T[@]}" --model popular --factors 8
expect_err "popular models have no hyperparameter 'factors' (it is num_factors of mf, fm"
expect_rc 1 "$F" "${T[@]}" --model mf --mini_batch_size 8
expect_err "mf models have no hyperparameter 'mini_batch_size' (it is mini_batch_size of fm; batch_size of softmax)"
expect_rc 1 "$F" "${T[@]}" --model ease --num_factors 8
expect_err "ease models have no hyperparameter 'num_factors'"
expect_rc 1 "$F" "${T[@]}" --model mf --no_such_name 3
expect_err "unknown option '--no_such_name'"

# ---- 2. eval: one table for every task --------------------------------------------
expect_rc 0 "$F" "${T[@]}" --factors 4 --epochs 5 --out "$TMP/mf.facto"
expect_rc 0 "$F" "${T[@]}" --model fm --predictor_type binary_classifier --binarize 4 --solver als --num_iter 3 \
    --num_factors 4 --out "$TMP/cls.facto"
expect_rc 0 "$F" "${T[@]}" --model popular --out "$TMP/pop.facto"
table_ok() { # every line "NAME  VALUE" with VALUE starting in one column; the count and unknown ids last
    awk '{ p = match($0, /  +[-0-9.]+[e0-9+-]*$/); if (!p) { print "bad line: " $0; exit 1 }
           v = p + RLENGTH - length($NF); if (col && v != col) { print "misaligned: " $0; exit 1 } col = v }' \
        "$TMP/out" || fail "eval $1: not one table"
    grep -q '^ratings  *[0-9]' "$TMP/out" && grep -q '^unknown users  *[0-9]' "$TMP/out" \
        && grep -q '^unknown items  *[0-9]' "$TMP/out" || fail "eval $1: no ratings / unknown ids rows"
}
expect_rc 0 "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.test"
grep -q '^RMSE  ' "$TMP/out" || fail "eval mf: no RMSE row"
table_ok mf
expect_rc 0 "$F" eval --model "$TMP/cls.facto" --test "$TMP/r.test" --binarize 4
grep -q '^binary_classification_accuracy  *0\.[0-9]' "$TMP/out" || fail "eval classifier: no accuracy row"
table_ok classifier
expect_rc 0 "$F" eval --model "$TMP/pop.facto" --test "$TMP/r.test"
grep -q '^ndcg@10  *0\.[0-9]' "$TMP/out" && grep -q '^users skipped  *[0-9]' "$TMP/out" || fail "eval ranking rows"
table_ok ranking
# --sagemaker: SageMaker's lines, the same figures as the table
expect_rc 0 "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.test"
rmse=$(awk '$1 == "RMSE" { print $2 }' "$TMP/out")
expect_rc 0 "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.test" --sagemaker
grep -qx "#test_score (algo-1) : ('rmse', $rmse)" "$TMP/out" || fail "eval --sagemaker: no rmse line for $rmse"
expect_rc 0 "$F" eval --model "$TMP/cls.facto" --test "$TMP/r.test" --binarize 4 --sagemaker
grep -q "^#test_score (algo-1) : ('binary_classification_accuracy', 0\." "$TMP/out" || fail "eval --sagemaker cls"
expect_rc 1 "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.test" --sagemaker --json
# --json: the unknown ids for every task on ratings
for m in mf.facto pop.facto; do
    expect_rc 0 "$F" eval --model "$TMP/$m" --test "$TMP/r.test" --json
    grep -q '"unknown_users": [0-9]' "$TMP/out" || fail "eval $m --json: no unknown_users"
done
expect_rc 0 "$F" eval --model "$TMP/cls.facto" --test "$TMP/r.test" --binarize 4 --json
grep -q '"unknown_items": [0-9]' "$TMP/out" || fail "eval classifier --json: no unknown_items"

# ---- 3. train --test: unknown ids, and the warnings --------------------------------
expect_rc 0 "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.test" --json
uu=$(json_num unknown_users "$TMP/out"); ui=$(json_num unknown_items "$TMP/out")
expect_rc 0 "$F" "${T[@]}" --factors 4 --epochs 5
grep -q "^test ratings unknown to training: $uu of [0-9]* with an unknown user, $ui with an unknown item" "$TMP/out" \
    || fail "train --test does not report eval's unknown ids ($uu, $ui)"
grep -q warning "$TMP/err" && fail "train on a sound test set warned: $(cat "$TMP/err")"
expect_rc 0 "$F" "${T[@]}" --factors 4 --epochs 5 --json
[ "$(json_num unknown_users "$TMP/out")" = "$uu" ] && [ "$(json_num unknown_items "$TMP/out")" = "$ui" ] \
    || fail "train --json: unknown_users/unknown_items differ from eval's"
# string ids of another data set: most unknown
sed 's/^/x/' "$TMP/r.test" >"$TMP/other.test"
expect_rc 0 "$F" train --from-ratings "$TMP/r.train" --test-ratings "$TMP/other.test" --factors 4 --epochs 5
expect_err "warning: "
expect_err "test ratings have a user unknown to training"
awk -F'\t' '{ print $1 "\tz" $2 "\t" $3 }' "$TMP/r.test" >"$TMP/otheritems.test"
expect_rc 0 "$F" train --from-ratings "$TMP/r.train" --test-ratings "$TMP/otheritems.test" --factors 4 --epochs 5
expect_err "test ratings have an item unknown to training"
# users:F holds its test users out of training: all unknown by design, no warning
expect_rc 0 "$F" train --train "$TMP/r.train" --split users:0.3 --seed 1 --factors 4 --epochs 5
grep -q "^test ratings unknown to training: \([1-9][0-9]*\) of \1 with an unknown user" "$TMP/out" \
    || fail "users:0.3: not every test rating's user unknown: $(grep unknown "$TMP/out")"
grep -q "unknown to training" "$TMP/err" && fail "users:F warned of its held-out users: $(cat "$TMP/err")"
# fm encodes the ratings into rows: the same for its own count of unknown ids (it warned)
expect_rc 0 "$F" train --model fm --predictor_type regressor --from-ratings "$TMP/r.train" --split users:0.3 --seed 1 \
    --num_factors 4 --epochs 2
grep -q "^encoded \([1-9][0-9]*\) test ratings (\1 with a user" "$TMP/out" \
    || fail "fm users:0.3: not every test rating's user unknown: $(grep unknown "$TMP/out")"
grep -q "unknown to training" "$TMP/err" && fail "fm users:F warned of its held-out users: $(cat "$TMP/err")"
# the columns swapped (ids of both in the same range: few unknown, but worse than the mean)
awk -F'\t' '{ print $2 "\t" $1 "\t" $3 }' "$TMP/r.test" >"$TMP/swap.test"
expect_rc 0 "$F" train --from-ratings "$TMP/r.train" --test-ratings "$TMP/swap.test" --factors 4 --epochs 20
expect_err "is worse than"
expect_err "predicting the training mean"

# ---- 4. recommend shows predict's rating next to the score --------------------------
# user a rates everything 5: its raw scores go above 5, its ratings are clipped to 5
awk 'BEGIN { for (i = 1; i <= 12; i++) print "a\tm" i "\t5";
             for (u = 1; u <= 30; u++) for (i = 1; i <= 12; i++) if ((u + i) % 3) print "u" u "\tm" i "\t" (1 + (u * i) % 5);
             for (i = 13; i <= 20; i++) print "u1\tm" i "\t5" }' >"$TMP/c.tsv"
expect_rc 0 "$F" train --train "$TMP/c.tsv" --factors 4 --epochs 60 --lr 0.05 --reg 0 --out "$TMP/c.facto"
expect_rc 0 "$F" recommend --model "$TMP/c.facto" --user a -k 8 --json
# each pair: rating == what predict prints, and == min(max(score, 1), 5)
grep -o '"item": "[^"]*", "rating": [-0-9.e]*, "score": [-0-9.e]*' "$TMP/out" \
    | sed 's/"item": "\([^"]*\)", "rating": \([^,]*\), "score": \(.*\)/\1 \2 \3/' >"$TMP/recs"
[ "$(wc -l <"$TMP/recs")" -eq 8 ] || fail "recommend --json: not 8 items with a rating and a score"
awk '{ print "a\t" $1 }' "$TMP/recs" >"$TMP/pairs"
expect_rc 0 "$F" predict --model "$TMP/c.facto" --input "$TMP/pairs"
paste "$TMP/recs" "$TMP/out" | awk '{ if ($2 != $6) { print "item " $1 ": recommend " $2 ", predict " $6; bad = 1 }
    want = $3 > 5 ? 5 : $3 < 1 ? 1 : $3; if ($2 + 0 != want + 0 && $3 <= 5) bad = 1; if ($3 > 5) above = 1 }
    END { if (!above) print "no raw score above 5: the clipping is not tested"; exit bad || !above }' \
    || fail "recommend's rating is not predict's"
# the table: rating and score columns, the same numbers
expect_rc 0 "$F" recommend --model "$TMP/c.facto" --user a -k 8
head -1 "$TMP/out" | grep -q '^rank  item  *rating  *score$' || fail "recommend table header: $(head -1 "$TMP/out")"
awk 'NR > 1 { print $2, $3, $4 }' "$TMP/out" | paste -d' ' - "$TMP/recs" \
    | awk '$1 != $4 || $2 != $5 || $3 != $6 { bad = 1 } END { exit bad || NR != 8 }' || fail "recommend table != --json"
# --raw-scores: the old layout, the score only
expect_rc 0 "$F" recommend --model "$TMP/c.facto" --user a -k 8 --raw-scores
head -1 "$TMP/out" | grep -q '^rank  item  *score$' || fail "--raw-scores header"
expect_rc 0 "$F" recommend --model "$TMP/c.facto" --all-users -k 2
awk -F'\t' 'NF != 4 { exit 1 }' "$TMP/out" || fail "--all-users tsv: not user, item, rating, score"
expect_rc 0 "$F" recommend --model "$TMP/c.facto" --all-users -k 2 --raw-scores
awk -F'\t' 'NF != 3 { exit 1 }' "$TMP/out" || fail "--all-users --raw-scores: not user, item, score"
# a ranking model has no rating: the score only
expect_rc 0 "$F" recommend --model "$TMP/pop.facto" --user 1 -k 3 --json
grep -q '"rating"' "$TMP/out" && fail "a ranking model's list has a rating"
# long ids stay aligned; no title column without titles; no trailing blanks
awk 'BEGIN { for (u = 1; u <= 6; u++) for (i = 1; i <= 6; i++) if ((u + i) % 2)
    print "u" u "\t" (i == 3 ? "a-very-long-item-identifier-" i : "i" i) "\t" (1 + (u + i) % 5) }' >"$TMP/l.tsv"
expect_rc 0 "$F" train --train "$TMP/l.tsv" --factors 2 --epochs 3 --out "$TMP/l.facto"
expect_rc 0 "$F" recommend --model "$TMP/l.facto" --user u1 -k 5 --include-seen
grep -q 'a-very-long-item' "$TMP/out" || fail "the long id is not listed"
awk '{ print length($0) }' "$TMP/out" | sort -u | wc -l | grep -qx 1 || fail "recommend table not aligned: $(cat "$TMP/out")"
grep -q ' $' "$TMP/out" && fail "recommend table has trailing blanks"

# ---- 5. the layout of encoded ratings: --key-map -----------------------------------
expect_rc 0 "$F" convert --train "$TMP/r.train" --test "$TMP/r.test" --to libsvm --out "$TMP/k" --key-map "$TMP/k.map"
dim=$(awk '/^feature_dim/ { print $2 }' "$TMP/out")
head -1 "$TMP/k.map" | grep -qx 'key	field	id' || fail "key map header"
[ "$(($(wc -l <"$TMP/k.map") - 1))" = "$dim" ] || fail "key map: not $dim keys"
# the first training rating's user and item have the keys the map names
read -r u i _ <"$TMP/r.train"
ku=$(awk -F'\t' -v u="$u" '$2 == "user" && $3 == u { print $1 }' "$TMP/k.map")
ki=$(awk -F'\t' -v i="$i" '$2 == "item" && $3 == i { print $1 }' "$TMP/k.map")
grep -q "^[0-9.]* $ku:1 $ki:1\$" "$TMP/k.train" || fail "key map: user $u -> $ku, item $i -> $ki not in the rows"
expect_rc 0 "$F" "${T[@]}" --model fm --predictor_type regressor --num_factors 2 --epochs 1 --key-map "$TMP/t.map" \
    --out "$TMP/f.facto"
cmp -s "$TMP/k.map" "$TMP/t.map" || fail "train --key-map differs from convert's on the same data"
expect_rc 1 "$F" "${T[@]}" --num_factors 2 --epochs 1 --key-map "$TMP/x.map"
expect_err "--key-map writes the layout of ratings encoded into feature rows"
expect_rc 2 "$F" inspect --model "$TMP/f.facto" --features
expect_err "--key-map FILE"

# ---- 6. convert --numeric-ids counts unknown ids as the default layout --------------
expect_rc 0 "$F" convert --train "$TMP/r.train" --test "$TMP/r.test" --to libsvm --out "$TMP/d"
grep -o '[0-9]* with a user and [0-9]* with an item unknown' "$TMP/out" "$TMP/err" | sed 's/^[^:]*://' >"$TMP/u1"
expect_rc 0 "$F" convert --train "$TMP/r.train" --test "$TMP/r.test" --to libsvm --numeric-ids --out "$TMP/n"
grep -o '[0-9]* with a user and [0-9]* with an item unknown' "$TMP/out" "$TMP/err" | sed 's/^[^:]*://' >"$TMP/u2"
[ -s "$TMP/u1" ] || fail "convert reports no unknown ids"
cmp -s "$TMP/u1" "$TMP/u2" || fail "convert --numeric-ids: $(cat "$TMP/u2"), default: $(cat "$TMP/u1")"

# ---- 7. a model trained on encoded rows, given ratings ------------------------------
expect_rc 0 "$F" "${T[@]}" --model fm --predictor_type binary_classifier --binarize 4 --num_factors 4 --epochs 2 \
    --out "$TMP/sgd.facto"
expect_rc 2 "$F" eval --model "$TMP/sgd.facto" --test "$TMP/r.test" --binarize 4
expect_err "this model was trained on feature rows"
expect_err "facto convert"
expect_rc 0 "$F" convert --train "$TMP/r.train" --test "$TMP/r.test" --binarize 4 --to libsvm --out "$TMP/b"
expect_rc 0 "$F" eval --model "$TMP/sgd.facto" --test "$TMP/b.test"
grep -q '^binary_classification_accuracy  *0\.[0-9]' "$TMP/out" || fail "eval of the converted rows"
grep -q '^rows  *[0-9]' "$TMP/out" || fail "eval of rows: no rows count"

# ---- 8. help texts -------------------------------------------------------------------
expect_rc 0 "$F" predict --help
grep -q 'delimiter taken from the first data line' "$TMP/out" || fail "predict --help: the delimiter rule"
for c in "train --model mf" eval recommend; do
    # shellcheck disable=SC2086
    expect_rc 0 "$F" $c --help
    grep -A2 -- '--threads' "$TMP/out" | grep -q 'faster' || fail "$c --help: --threads says nothing of speed"
    grep -A2 -- '--threads' "$TMP/out" | grep -q 'same for any count\|another model' \
        || fail "$c --help: --threads says nothing of determinism"
done

echo ok
