#!/usr/bin/env bash
# test_inspect_used.sh — `facto inspect` lists the hyperparameters the model
# was trained with that its solver used: an fm trained by mcmc or als shows
# no learning rates or other sgd settings, one trained by sgd no mcmc
# settings; mf shows momentum only for plain sgd. --json keeps them all.
# Self-contained.
set -u
. "$(dirname "$0")/lib.bash"

tiny_ratings "$TMP/r.tsv"
M="$TMP/m.facto"
has() { grep -qx "  $1=.*" "$TMP/out" || { cat "$TMP/out"; fail "$2: inspect lacks $1"; }; }
lacks() { ! grep -q "^  $1=" "$TMP/out" || { cat "$TMP/out"; fail "$2: inspect lists $1"; }; }

fm() { expect_rc 0 "$F" train --model fm --from-ratings "$TMP/r.tsv" --predictor_type regressor --num_factors 2 "$@" --out "$M"; }
fm --solver mcmc --num_iter 2
expect_rc 0 "$F" inspect --model "$M"
for n in feature_dim num_factors solver seed num_iter init_stdev mcmc_samples mcmc_chains; do has $n mcmc; done
for n in epochs mini_batch_size bias_lr linear_lr factors_lr optimizer eps lr_decay bias_wd factors_wd \
    bias_init_method factors_init_method average_epochs; do lacks $n mcmc; done
expect_rc 0 "$F" inspect --model "$M" --json
grep -q '"factors_lr"' "$TMP/out" || fail "inspect --json: factors_lr left out"

fm --solver als --num_iter 2
expect_rc 0 "$F" inspect --model "$M"
for n in num_iter init_stdev bias_wd linear_wd factors_wd; do has $n als; done
for n in epochs factors_lr optimizer mcmc_samples mcmc_chains burn_in; do lacks $n als; done

fm --solver sgd --epochs 1
expect_rc 0 "$F" inspect --model "$M"
for n in epochs mini_batch_size factors_lr optimizer factors_wd; do has $n sgd; done
for n in num_iter init_stdev mcmc_samples mcmc_chains burn_in prior_groups; do lacks $n sgd; done

expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --epochs 1 --optimizer adam --out "$M"
expect_rc 0 "$F" inspect --model "$M"
has learning_rate "mf adam"; lacks momentum "mf adam"
expect_rc 0 "$F" train --model mf --train "$TMP/r.tsv" --epochs 1 --momentum 0.5 --out "$M"
expect_rc 0 "$F" inspect --model "$M"
has momentum "mf sgd"
echo ok
