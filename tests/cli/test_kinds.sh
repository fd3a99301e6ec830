#!/usr/bin/env bash
# test_kinds.sh — one `facto train` for every kind, driven by each kind's
# parameter table. A hyperparameter flag by its name, an alias, with '-' or
# '_' and as --name=value trains the same model bytes; SageMaker's
# hyperparameters.json works for mf as for fm, flags override it; an unknown
# name is a usage error naming it; `train --model K --help` lists every
# hyperparameter a trained model records, each with the default it trained
# with; the --json of every kind has the same keys; `facto inspect` describes
# an mf, an fm trained on rows and an fm trained from ratings (text and
# JSON); `facto recommend` works on the fm trained from ratings and never
# lists an item the user rated. Self-contained (a generated ratings file).
set -u
. "$(dirname "$0")/lib.bash"

# 40 users x 30 items, about 15 ratings each (ids as numbers), 80% train.
awk -v tr="$TMP/r.train" -v te="$TMP/r.test" 'BEGIN { srand(5);
    for (u = 1; u <= 40; u++) for (r = 0; r < 15; r++) { i = 1 + int(rand() * 30);
      printf "%d\t%d\t%d\n", u, i, 1 + (u * 7 + i * 3) % 5 > (rand() < 0.8 ? tr : te) } }'
T=(train --train "$TMP/r.train" --test "$TMP/r.test")

# ---- one hyperparameter, every spelling: the same model -----------------------
expect_rc 0 "$F" "${T[@]}" --epochs 3 --num_factors 8 --learning_rate 0.01 --out "$TMP/a.facto"
for spelling in "--factors 8 --lr 0.01" "--num-factors 8 --lr=0.01" "--num_factors=8 --learning-rate 0.01"; do
    # shellcheck disable=SC2086
    expect_rc 0 "$F" "${T[@]}" --epochs 3 $spelling --out "$TMP/b.facto"
    cmp -s "$TMP/a.facto" "$TMP/b.facto" || fail "'$spelling' trained another model than --num_factors 8"
done
expect_rc 1 "$F" "${T[@]}" --no_such_name 3
expect_err "--no_such_name"
expect_rc 1 "$F" "${T[@]}" --factors 0
expect_err "num_factors"

# ---- hyperparameters.json for mf: strings, SageMaker's extra keys skipped -----
printf '{"num_factors": "8", "epochs": "3", "lr": "0.01", "_tuning_objective_metric": "test:rmse"}' >"$TMP/hp.json"
expect_rc 0 "$F" "${T[@]}" --hyperparameters "$TMP/hp.json" --out "$TMP/c.facto"
cmp -s "$TMP/a.facto" "$TMP/c.facto" || fail "hyperparameters.json trained another model than the flags"
expect_rc 0 "$F" "${T[@]}" --hyperparameters "$TMP/hp.json" --epochs 2 --json
[ "$(json_num epochs "$TMP/out")" -eq 2 ] || fail "--epochs does not override hyperparameters.json"
printf '{"num_factors": "eight"}' >"$TMP/bad.json"
expect_rc 1 "$F" "${T[@]}" --hyperparameters "$TMP/bad.json"
expect_err "num_factors"
expect_rc 2 "$F" "${T[@]}" --hyperparameters "$TMP/none.json"

# ---- --help lists every hyperparameter with its default -------------------------
# Every name a model records is listed; trained with no hyperparameter flag
# (mf) or only the required ones (fm), its value is the default --help prints.
# The --help entry of --NAME in FILE, continuation lines joined.
help_entry() {
    awk -v n="--$1" '$1 == n { on = 1; text = $0; next } on && /^  --/ { exit } on && /^   / { text = text " " $0 }
        END { print text }' "$2"
}
check_help() {
    local kind=$1 model=$2; shift 2
    expect_rc 0 "$F" train --model "$kind" --help
    cp "$TMP/out" "$TMP/help.$kind"
    grep -q "^Hyperparameters of $kind" "$TMP/help.$kind" || fail "$kind --help has no hyperparameter section"
    expect_rc 0 "$F" inspect --model "$model"
    sed -n 's/^  \([a-z_0-9]*\)=\(.*\)$/\1 \2/p' "$TMP/out" >"$TMP/values.$kind"
    [ -s "$TMP/values.$kind" ] || fail "inspect printed no hyperparameters"
    while read -r name value; do
        line=$(help_entry "$name" "$TMP/help.$kind")
        [ -n "$line" ] || fail "$kind --help does not list --$name"
        case " $* " in *" $name "*) continue ;; esac # set by the test, not a default
        short=$(awk -v v="$value" 'BEGIN { if (v ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) printf "%.6g", v; else print v }')
        case "$line" in *"(default: unset = from the data)"*) continue ;; esac # the data's (unit tests check it)
        shown=$(printf '%s\n' "$line" | sed -n 's/.*(default \([^)]*\)).*/\1/p')
        same=$(awk -v a="$shown" -v b="$short" 'BEGIN { if (a == b || (a ~ /^-?[0-9.eE+-]+$/ && a + 0 == b + 0)) print 1 }')
        [ "$same" = 1 ] || fail "$kind --help shows --$name default '$shown', the model trained with '$value'"
    done <"$TMP/values.$kind"
}
expect_rc 0 "$F" "${T[@]}" --epochs 1 --out "$TMP/mf.facto"
check_help mf "$TMP/mf.facto" epochs
# fm trained on rows: the required ones given, feature_dim taken from the data
printf '1 0:1 3:1\n2 1:1 2:1\n3 0:1 2:0.5\n4 1:1 3:1\n' >"$TMP/rows.svm"
expect_rc 0 "$F" train --model fm --train "$TMP/rows.svm" --num_factors 2 --predictor_type regressor \
    --out "$TMP/fmrows.facto"
check_help fm "$TMP/fmrows.facto" num_factors predictor_type feature_dim
help_entry feature_dim "$TMP/help.fm" | grep -q "(required; default: taken from the data)" \
    || fail "fm --help does not mark feature_dim required"
help_entry num_factors "$TMP/help.fm" | grep -q "\[sagemaker\] (required)" || fail "fm --help: num_factors"
help_entry num_factors "$TMP/help.mf" | grep -q "also --factors" || fail "mf --help does not name the alias"
expect_rc 0 "$F" train --help
grep -q "^  mf " "$TMP/out" && grep -q "^  fm " "$TMP/out" || fail "train --help does not list the kinds"
grep -q "^Hyperparameters of" "$TMP/out" && fail "train --help without --model lists a kind's hyperparameters"

# ---- the same JSON keys for every kind --------------------------------------------
expect_rc 0 "$F" "${T[@]}" --epochs 2 --json
cp "$TMP/out" "$TMP/mf.json"
expect_rc 0 "$F" train --model fm --from-ratings "$TMP/r.train" --test-ratings "$TMP/r.test" --solver mcmc \
    --num_iter 8 --num_factors 3 --predictor_type regressor --seed 3 --out "$TMP/fmr.facto" --json
cp "$TMP/out" "$TMP/fmr.json"
for k in model task trained_on train_rmse train_mae test_rmse test_mae epochs seconds samples_per_second \
    ratings_per_second n_train n_test duplicates params; do
    for j in mf fmr; do grep -q "\"$k\": " "$TMP/$j.json" || fail "$j --json lacks $k: $(cat "$TMP/$j.json")"; done
done
grep -q '"test_rmse_chain": ' "$TMP/fmr.json" || fail "MCMC --json lacks test_rmse_chain"
grep -q '"params": {"num_factors": 8, "epochs": 2, ' "$TMP/mf.json" && fail "params holds a flag it was not given"
grep -q '"params": {"num_factors": 512, "epochs": 2, "optimizer": "sgd", "learning_rate": 0.02' "$TMP/mf.json" \
    || fail "mf params: $(cat "$TMP/mf.json")"
# text mode ends with SageMaker's score lines for every kind
expect_rc 0 "$F" "${T[@]}" --epochs 2
grep -q "^#test_score (algo-1) : ('rmse', " "$TMP/out" || fail "mf text output has no #test_score line"
[ "$(grep -c '^epoch .* train RMSE .* MAE .* test RMSE .* MAE .* ratings/s$' "$TMP/out")" -eq 2 ] \
    || fail "mf epoch lines: $(cat "$TMP/out")"

# ---- inspect: mf, fm on rows, fm from ratings ----------------------------------
expect_rc 0 "$F" inspect --model "$TMP/mf.facto" --json
grep -q '"kind": "mf"' "$TMP/out" && grep -q '"task": "regression"' "$TMP/out" && grep -q '"scores": "ids"' "$TMP/out" \
    || fail "inspect mf: $(cat "$TMP/out")"
[ "$(json_num users "$TMP/out")" -eq "$(cut -f1 "$TMP/r.train" | sort -u | wc -l)" ] || fail "inspect mf users"
[ "$(json_num items "$TMP/out")" -eq "$(cut -f2 "$TMP/r.train" | sort -u | wc -l)" ] || fail "inspect mf items"
[ "$(json_num bytes "$TMP/out")" -eq "$(wc -c <"$TMP/mf.facto")" ] || fail "inspect mf bytes"
grep -q '"params": {"num_factors": 512, ' "$TMP/out" || fail "inspect mf params"
expect_rc 0 "$F" inspect --model "$TMP/fmrows.facto"
grep -q '^kind       fm: ' "$TMP/out" && grep -q '^scores     feature rows' "$TMP/out" || fail "inspect fm rows: $(cat "$TMP/out")"
grep -q '^users' "$TMP/out" && fail "inspect lists users of a model without ids"
grep -q '^  feature_dim=4$' "$TMP/out" && grep -q '^  predictor_type=regressor$' "$TMP/out" || fail "inspect fm rows params"
expect_rc 0 "$F" inspect --model "$TMP/fmrows.facto" --json
grep -q '"scores": "rows"' "$TMP/out" && ! grep -q '"users"' "$TMP/out" || fail "inspect fm rows --json: $(cat "$TMP/out")"
expect_rc 0 "$F" inspect --model "$TMP/fmr.facto"
grep -q '^scores     (user, item) ids' "$TMP/out" && grep -q '^users      40$' "$TMP/out" \
    && grep -q '^  solver=mcmc$' "$TMP/out" || fail "inspect fm ratings: $(cat "$TMP/out")"
expect_rc 0 "$F" inspect --model "$TMP/fmr.facto" --json
grep -q '"kind": "fm", .*"task": "regression", "scores": "ids", "users": 40, ' "$TMP/out" \
    || fail "inspect fm ratings --json: $(cat "$TMP/out")"
grep -q '"num_iter": 8' "$TMP/out" || fail "inspect --json: numbers are not JSON numbers"
expect_rc 2 "$F" inspect --model "$TMP/r.train"
expect_rc 1 "$F" inspect

# ---- recommend with an fm trained from ratings -------------------------------------
for u in 1 17 40; do
    expect_rc 0 "$F" recommend --model "$TMP/fmr.facto" --user "$u" -k 5
    awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/rec"
    [ "$(wc -l <"$TMP/rec")" -eq 5 ] || fail "fm recommend user $u: $(cat "$TMP/out")"
    awk -F'\t' -v u="$u" '$1 == u { print $2 }' "$TMP/r.train" | sort -u >"$TMP/seen"
    [ -z "$(comm -12 "$TMP/rec" "$TMP/seen")" ] || fail "fm recommend user $u: an item seen in training"
done
expect_rc 0 "$F" recommend --model "$TMP/fmr.facto" --user 1 -k 3 --json
grep -q '"user": "1", "items": \[{"item": ' "$TMP/out" || fail "fm recommend --json: $(cat "$TMP/out")"
expect_rc 2 "$F" recommend --model "$TMP/fmrows.facto" --user 1
expect_err "scores feature rows"
exit 0
