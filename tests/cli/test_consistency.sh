#!/usr/bin/env bash
# test_consistency.sh — issue 12's "one consistent command line", on a
# generated ratings file (no data set needed):
#  - SageMaker's names and the shared aliases (--factors, --num_factors,
#    --factors_wd, --linear_wd, --mini_batch_size, --iterations) train the
#    same model bytes as each kind's own name; `train --model K --help`
#    lists each alias once; a name the kind lacks is a usage error naming
#    the kind, the name and the kinds that have it;
#  - (more sections below, one per item).
set -u
. "$(dirname "$0")/lib.bash"

# 40 users x 30 items, about 15 ratings each, 80% train (ids as numbers).
awk -v tr="$TMP/r.train" -v te="$TMP/r.test" 'BEGIN { srand(7);
    for (u = 1; u <= 40; u++) for (r = 0; r < 15; r++) { i = 1 + int(rand() * 30);
      printf "%d\t%d\t%d\n", u, i, 1 + (u * 7 + i * 3) % 5 > (rand() < 0.8 ? tr : te) } }'
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

echo ok
