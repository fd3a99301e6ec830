#!/usr/bin/env bash
# test_fm_accuracy.sh — issue 3's MCMC accuracy bounds on MovieLens 100K u1,
# num_factors 32 and init_stdev 0.1 as in the issue's libFM runs, facto's
# default 4 chains (mcmc_chains) of 250 iterations each (libFM: one chain of
# 500), checked on the SAVED model through `facto eval`, as a user gets it:
# one-hot user + item <= 0.905 (libFM 0.9056), + u.user/u.item side features
# <= 0.897 (libFM 0.8978), + the user's rated items (implicit) <= 0.893
# (libFM 0.8947). Seeds 1-4 measured: 0.9029-0.9037, 0.8932-0.8943,
# 0.8915-0.8919 (bench/fm_seeds.sh). About 4-10 s each in a Release build on 2 cores.
set -u
. "$(dirname "$0")/lib.bash"
need_ml100k

check() {
    local name=$1 bound=$2; shift 2
    expect_rc 0 "$F" train --model fm --solver mcmc --dataset ml-100k --split u1 --num_factors 32 \
        --predictor_type regressor --num_iter 250 --init_stdev 0.1 --seed "${FACTO_TEST_SEED:-1}" --out "$TMP/$name.facto" --json "$@"
    cp "$TMP/out" "$TMP/$name.json"
    local saved chain
    saved=$(json_num test_rmse "$TMP/$name.json")
    chain=$(json_num test_rmse_chain "$TMP/$name.json")
    # The saved model, loaded again, scores the test file the same.
    expect_rc 0 "$F" eval --model "$TMP/$name.facto" --test "$ML/u1.test" --json
    local evald
    evald=$(json_num rmse "$TMP/out")
    echo "$name: chain $chain, saved $saved, eval $evald (bound $bound)"
    awk -v s="$saved" -v e="$evald" -v b="$bound" 'BEGIN { exit !(s <= b && e <= b && (s - e < 1e-4 && e - s < 1e-4)) }' ||
        fail "$name: saved-model test RMSE $saved / eval $evald is not <= $bound"
}
check one-hot 0.905
check side 0.897 --side-features
check side-implicit 0.893 --side-features --implicit user

# Feature rows (issue 8): u1 as one-hot libsvm rows, MCMC at the default
# summary_rank (-1): the saved model is the rank-128 summary of the
# posterior and scores within 0.001 of the chain (it was 16 thinned samples,
# 0.9129 against the chain's 0.9059 at 250 iterations, 5.9 MB; the summary
# gives 0.9046 at 1.4 MB). 120 iterations here (about 26 s): chain 0.9097,
# saved 0.9096, where 16 samples give 0.9106.
expect_rc 0 "$F" convert --dataset ml-100k --split u1 --to libsvm --out "$TMP/u1"
expect_rc 0 "$F" train --model fm --solver mcmc --predictor_type regressor --num_factors 32 --num_iter 120 \
    --feature_dim 2625 --train "$TMP/u1.train" --test "$TMP/u1.test" --out "$TMP/rows.facto" --json
chain=$(json_num test_rmse_chain "$TMP/out")
expect_rc 0 "$F" eval --model "$TMP/rows.facto" --test "$TMP/u1.test" --json
evald=$(json_num rmse "$TMP/out")
bytes=$(wc -c <"$TMP/rows.facto")
echo "rows: chain $chain, saved $evald, $bytes bytes"
awk -v c="$chain" -v e="$evald" 'BEGIN { exit !(e - c <= 0.001 && e < 0.915) }' ||
    fail "rows: the saved model's test RMSE $evald is not within 0.001 of the chain's $chain"
[ "$bytes" -lt 2000000 ] || fail "rows: the saved model has $bytes bytes"
expect_rc 0 "$F" inspect --model "$TMP/rows.facto"
grep -q "summary_rank.*128" "$TMP/out" || fail "rows: the model does not record summary_rank 128"
exit 0
