#!/usr/bin/env bash
# test_qa_fm.sh — regressions found by QA on the factorization machine side:
# NUL bytes in libsvm text are refused (not read as the end of the line),
# binary bytes in messages are escaped, a recordIO shape of 0 or one whose
# product wraps past 2^64 is refused, an endless request body is cut off,
# request errors name the request file, a model with NaN parameters and a
# good checksum is refused, `facto convert` does not overwrite its inputs and
# refuses empty or unrelated side-feature files, hyperparameters.json
# rejects duplicate keys and non-string values (exit 1), and FM usage errors
# point at `facto train --model fm --help`. The convert part needs ml-100k
# (exit 77 without it, after the rest has run).
set -u
. "$(dirname "$0")/lib.bash"

T=("$F" train --model fm --predictor_type regressor --num_factors 4)
printf '1 0:1 3:1\n2 1:1 2:1\n3 0:1 2:0.5\n' >"$TMP/good.svm"

# libsvm: a NUL byte anywhere in a line is binary data, never a silent cut.
printf '1 0:1\n2 0:1\0garbage\n' >"$TMP/nul.svm"
expect_rc 2 "${T[@]}" --train "$TMP/nul.svm"
expect_err "nul.svm:2: a NUL byte at column 6"
printf '1 0:1\n\0\0\0\n' >"$TMP/nul2.svm"
expect_rc 2 "${T[@]}" --train "$TMP/nul2.svm"
expect_err "nul2.svm:2: a NUL byte at column 1"
# A bad token's bytes are shown escaped, so the message stays readable.
printf '\xff\xfe1 0:1\n' >"$TMP/bom.svm"
expect_rc 2 "${T[@]}" --train "$TMP/bom.svm"
expect_err "bom.svm:1: label '\\xff\\xfe1' is not a finite number"

# recordIO: shape [0] (an all-zero row of no columns) and a dense shape whose
# product wraps around 2^64 to the number of values.
printf '\x0a\x23\xd7\xce\x25\x00\x00\x00\x0a\x0f\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x05\x12\x03\x1a\x01\x00\x12\x12\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x08\x12\x06\x0a\x04\x00\x00\x80\x3f\x00\x00\x00' >"$TMP/shape0.rec"
expect_rc 2 "${T[@]}" --train "$TMP/shape0.rec"
expect_err "shape0.rec: record 1 at byte 0: shape 0: feature_dim must be positive"
printf '\x0a\x23\xd7\xce\x40\x00\x00\x00\x0a\x2a\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x20\x12\x1e\x0a\x10\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x1a\x0a\x81\x80\x80\x80\x80\x80\x80\x80\x40\x04\x12\x12\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x08\x12\x06\x0a\x04\x00\x00\x80\x3f' >"$TMP/wrap.rec"
expect_rc 2 "${T[@]}" --train "$TMP/wrap.rec"
expect_err "wrap.rec: record 1 at byte 0: dense features shape overflows 64 bits"

# Duplicate keys whose values sum past the float range: convert wrote
# "0:inf" (libsvm) or an infinite float (recordIO) and then refused its own
# file; refused at conversion now, naming FILE:LINE, and nothing is written.
printf '1 0:1 1:2\n2 0:3e38 0:3e38\n' >"$TMP/dupinf.svm"
for to in libsvm recordio; do
    expect_rc 2 "$F" convert --input "$TMP/dupinf.svm" --to $to --out "$TMP/dupinf.$to"
    expect_err "dupinf.svm:2: feature key 0: its duplicate values sum past the float range (3e+38 + 3e+38)"
    [ ! -e "$TMP/dupinf.$to" ] || fail "convert --to $to wrote a file"
done

# A bad --test file is named with its line (it was blamed on the --train
# file and "row N"); recordIO names record and byte; a request names the
# file and "request instance N" (0-based, as every request error).
expect_rc 2 "${T[@]}" --train "$TMP/good.svm" --test "$TMP/dupinf.svm" --out "$TMP/dupinf.facto"
expect_err "dupinf.svm:2: feature key 0: its duplicate values sum"
grep -q "good.svm" "$TMP/err" && fail "a --test error names the --train file"
printf '\x0a\x23\xd7\xce\x2e\x00\x00\x00\x0a\x18\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x0e\x12\x0c\x0a\x04\x00\x00\x80\x3f\x12\x01\x01\x1a\x01\x04\x12\x12\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x08\x12\x06\x0a\x04\x00\x00\x80\x3f\x00\x00\x0a\x23\xd7\xce\x33\x00\x00\x00\x0a\x1d\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x13\x12\x11\x0a\x08\xe6\xb1\x61\x7f\xe6\xb1\x61\x7f\x12\x02\x00\x00\x1a\x01\x04\x12\x12\x0a\x06\x76\x61\x6c\x75\x65\x73\x12\x08\x12\x06\x0a\x04\x00\x00\x00\x40\x00' >"$TMP/dupinf.rec"
expect_rc 2 "${T[@]}" --train "$TMP/good.svm" --test "$TMP/dupinf.rec" --out "$TMP/dupinf.facto"
expect_err "dupinf.rec: record 2 at byte 56: feature key 0: its duplicate values sum past the float range"
expect_rc 2 "$F" convert --input "$TMP/dupinf.rec" --to libsvm --out "$TMP/dupinf.out"
expect_err "dupinf.rec: record 2 at byte 56: feature key 0"
[ ! -e "$TMP/dupinf.facto" ] || fail "a model was saved"

# gzip: every member is read (cat a.gz b.gz), and bytes after the gzip data
# that are not another member are refused with the byte offset (plain text
# appended to a .gz was dropped silently), for libsvm and recordIO alike.
printf '1 0:1 3:1\n' | gzip -c >"$TMP/m1.svm.gz"
printf '2 1:1 2:1\n' | gzip -c >>"$TMP/m1.svm.gz"
expect_rc 0 "$F" convert --input "$TMP/m1.svm.gz" --to recordio --out "$TMP/m1.rec"
expect_rc 0 "$F" convert --input "$TMP/m1.rec" --to libsvm --out "$TMP/m1.out"
[ "$(cat "$TMP/m1.out")" = "$(printf '1 0:1 3:1\n2 1:1 2:1')" ] || fail "two gzip members: $(cat "$TMP/m1.out")"
size=$(wc -c <"$TMP/m1.svm.gz")
printf '3 0:1 2:0.5\n' >>"$TMP/m1.svm.gz"
expect_rc 2 "$F" convert --input "$TMP/m1.svm.gz" --to libsvm --out "$TMP/m1b.out"
expect_err "m1.svm.gz: byte $size: data after the end of the gzip stream that is not another gzip member"
gzip -c "$TMP/m1.rec" >"$TMP/m1.rec.gz"
size=$(wc -c <"$TMP/m1.rec.gz")
printf 'junk' >>"$TMP/m1.rec.gz"
expect_rc 2 "${T[@]}" --train "$TMP/m1.rec.gz"
expect_err "m1.rec.gz: byte $size: data after the end of the gzip stream"

# A regressor's scores are clipped to the training labels' range (libFM's
# behaviour, said in --help); --clip_predictions false gives raw scores.
printf '1 0:1\n2 1:1\n3 2:1\n5 0:1 1:1 2:1\n' >"$TMP/clip.svm"
printf '{"instances":[{"features":[5,5,5,0]}]}' >"$TMP/clip.json"
expect_rc 0 "$F" train --model fm --help
grep -q -- "--clip_predictions NAME.*clip predictions to the training label range as libFM does" "$TMP/out" ||
    fail "--help does not explain clip_predictions"
for c in true false; do
    expect_rc 0 "${T[@]}" --solver als --num_iter 20 --feature_dim 4 --train "$TMP/clip.svm" \
        --clip_predictions $c --out "$TMP/clip_$c.facto"
    expect_rc 0 "$F" predict --model "$TMP/clip_$c.facto" --input "$TMP/clip.json" --content-type application/json
    cp "$TMP/out" "$TMP/clip_$c.out"
done
grep -q '"score": 5}' "$TMP/clip_true.out" || fail "clipped score: $(cat "$TMP/clip_true.out")"
raw=$(grep -o '"score": [0-9.e+]*' "$TMP/clip_false.out" | sed 's/.*: //')
awk -v r="$raw" 'BEGIN { exit !(r > 5.5) }' || fail "raw score $raw is not past the label range"
expect_rc 1 "${T[@]}" --train "$TMP/clip.svm" --clip_predictions maybe

# FM usage errors point at the FM help.
expect_rc 1 "${T[@]}" --train "$TMP/good.svm" --epochs abc
expect_err "Try 'facto train --model fm --help'."

# hyperparameters.json: duplicate keys, a non-string value, a folder.
printf '{"num_factors":"4","predictor_type":"regressor","num_factors":"8"}' >"$TMP/dup.json"
expect_rc 2 "$F" train --model fm --train "$TMP/good.svm" --hyperparameters "$TMP/dup.json"
expect_err "duplicate object key"
printf '{"num_factors":{"v":"4"},"predictor_type":"regressor"}' >"$TMP/nest.json"
expect_rc 1 "$F" train --model fm --train "$TMP/good.svm" --hyperparameters "$TMP/nest.json"
expect_err "nest.json: hyperparameter num_factors: the value must be a string or a number"
expect_rc 2 "$F" train --model fm --train "$TMP/good.svm" --hyperparameters "$TMP"
expect_err "is a folder"

# predict: errors name the request file; an endless body is cut off.
M="$TMP/m.facto"
expect_rc 0 "${T[@]}" --train "$TMP/good.svm" --feature_dim 4 --out "$M"
printf '{"instances":[{"data":{"features":{"keys":[0,4],"shape":[4],"values":[1,1]}}}]}' >"$TMP/req.json"
expect_rc 2 "$F" predict --model "$M" --input "$TMP/req.json" --content-type application/json
expect_err "req.json: request instance 0: key 4 is not below feature_dim 4"
expect_rc 2 "$F" predict --model "$M" --input - --content-type application/json <"$TMP/req.json"
expect_err "<stdin>: request instance 0"
# --model naming a FIFO blocked forever in open() (predict, eval, recommend):
# refused by its type at once; a folder and /dev/null the same way.
mkfifo "$TMP/model.fifo"
for cmd in "predict --input $TMP/req.json --content-type application/json" "eval --test $TMP/good.svm" \
    "recommend --user 1" "similar --item 1" "inspect"; do
    # shellcheck disable=SC2086
    expect_rc 2 timeout 20 "$F" $cmd --model "$TMP/model.fifo"
    expect_err "model.fifo: not a regular file (a FIFO); a model is read from a regular file"
done
expect_rc 2 timeout 20 "$F" eval --test "$TMP/good.svm" --model "$TMP"
expect_err "not a regular file (a folder)"
expect_rc 2 timeout 20 "$F" eval --test "$TMP/good.svm" --model /dev/null
expect_err "/dev/null: not a regular file (a device)"
# Data may come through a pipe (process substitution): a rows file then needs --format.
expect_rc 0 timeout 20 "$F" eval --model "$M" --test <(cat "$TMP/good.svm") --format libsvm
printf '{"instances":[{"data":{"features":{"keys":[0,1],"shape":[4],"values":[1,1]}}},{"data":{"features":{"keys":[2,2],"shape":[4],"values":[3e38,3e38]}}}]}' >"$TMP/reqinf.json"
expect_rc 2 "$F" predict --model "$M" --input "$TMP/reqinf.json" --content-type application/json
expect_err "reqinf.json: request instance 1: feature key 2: its duplicate values sum past the float range"
if [ -r /dev/zero ]; then
    expect_rc 2 "$F" predict --model "$M" --input /dev/zero --content-type application/json
    expect_err "/dev/zero: more than 256 MiB"
fi

# eval: a classifier's bad test label names the file and its line.
expect_rc 0 "$F" train --model fm --predictor_type binary_classifier --num_factors 2 --feature_dim 4 \
    --format libsvm --train <(printf '1 0:1\n0 1:1\n') --out "$TMP/c.facto"
expect_rc 2 "$F" eval --model "$TMP/c.facto" --test "$TMP/good.svm"
expect_err "good.svm:2: label 2 is not 0 or 1"

# Rows from a pipe: format detection would eat the first bytes, so it asks
# for --format instead of dropping rows.
expect_rc 2 "${T[@]}" --train <(cat "$TMP/good.svm")
expect_err "not a regular file (a pipe?)"

# A model given as rows says so.
expect_rc 2 "$F" eval --model "$M" --test "$M"
expect_err "m.facto: this is a facto model file, not libsvm rows"

# convert --input onto itself: refused, the rows survive.
cp "$TMP/good.svm" "$TMP/keep.svm"
expect_rc 2 "$F" convert --input "$TMP/good.svm" --to recordio --out "$TMP/good.svm"
expect_err "is the input file"
cmp -s "$TMP/good.svm" "$TMP/keep.svm" || fail "convert replaced its input"

# --numeric-ids on string ids names the ratings file.
printf 'u1\ti1\t3\nu2\ti2\t4\n' >"$TMP/str.tsv"
expect_rc 2 "$F" convert --from-ratings "$TMP/str.tsv" --to libsvm --out "$TMP/s" --numeric-ids
expect_err "str.tsv: user id 'u1' is not a positive integer"

# An MCMC summary (summary_rank r) gives the model r factors, so its
# feature_dim x (r + 1) can fall on the other side of the dense/hashed line
# than the training k did; such a model saved fine and then did not load
# ("header is inconsistent"): dense 700000 keys x (1 + 1) with rank 5, and
# hashed 2000000 keys x (2 + 1) with rank 1.
printf '1 0:1 3:1\n2 1:1 2:1\n3 0:1 2:0.5\n4 5:1 699999:1\n' >"$TMP/wide.svm"
SR=(train --model fm --predictor_type regressor --solver mcmc --num_iter 3 --mcmc_chains 2 --train "$TMP/wide.svm")
expect_rc 0 "$F" "${SR[@]}" --num_factors 1 --feature_dim 700000 --summary_rank 5 --out "$TMP/sd.facto"
expect_rc 0 "$F" eval --model "$TMP/sd.facto" --test "$TMP/wide.svm" --json
expect_rc 0 "$F" "${SR[@]}" --num_factors 2 --feature_dim 2000000 --summary_rank 1 --out "$TMP/sh.facto"
expect_rc 0 "$F" eval --model "$TMP/sh.facto" --test "$TMP/wide.svm" --json

# Feature values near FLT_MAX: MCMC (pair form and direct) and ALS ended
# with exit 0 and saved a model whose w0 was inf, which no command could
# load; now a clear error before training (the starting point check:
# scale the feature values), and no model file (ALS on ratings of 3e38:
# the solver's "does not fit a float").
printf '1 0:3.4e38 5:3.4e38\n2 0:3.4e38 6:1\n3 1:1 5:3.4e38\n' >"$TMP/big.svm"
printf '1 0:3.4e38 5:3.4e38\n2 0:3.4e38 6:1\n3 1:1 5:3.4e38\n4 1:1 6:2\n' >"$TMP/big2.svm"
for solver in mcmc als; do
    for f in big big2; do
        expect_rc 2 "${T[@]}" --solver $solver --num_iter 5 --train "$TMP/$f.svm" --out "$TMP/big.facto"
        expect_err "(e.g. to [0, 1])"
        [ ! -e "$TMP/big.facto" ] || fail "$solver on $f.svm saved a model"
    done
done
printf '1\t1\t3e38\n1\t2\t1\n2\t1\t2\n2\t2\t3.4e38\n' >"$TMP/big.tsv"
expect_rc 2 "$F" train --model fm --predictor_type regressor --num_factors 2 --solver als --num_iter 3 \
    --from-ratings "$TMP/big.tsv" --out "$TMP/big.facto"
expect_err "does not fit a float"
[ ! -e "$TMP/big.facto" ] || fail "als on big.tsv saved a model"
# The same through init_stdev 1e30 with 2 chains on 2 threads: refused
# before the chains start, its starting point being far off the labels.
expect_rc 2 "${T[@]}" --solver mcmc --num_iter 3 --init_stdev 1e30 --mcmc_chains 2 --threads 2 \
    --train "$TMP/good.svm" --out "$TMP/big.facto"
expect_err "with init_stdev 1e+30, mcmc starts from predictions"
expect_err "lower init_stdev to 0.6 or below"
[ ! -e "$TMP/big.facto" ] || fail "init_stdev 1e30 saved a model"
# One libsvm value of 1e8 among 501 one-hot rows: MCMC learned nothing and
# saved a model predicting garbage, exit 0. Refused now, naming FILE:LINE,
# the feature key and both fixes; a numeric feature x100 among one-hot rows
# (x2000) trains with a warning naming FILE:LINE (spread 52.5 label deviations).
awk 'BEGIN { for (i = 0; i < 501; i++) printf "%d %d:1 %d:%s\n", 1 + i % 5, i % 40, 40 + i % 37, i == 5 ? "1e8" : "1" }' >"$TMP/far.svm"
for solver in mcmc als; do
    expect_rc 2 "${T[@]}" --solver $solver --num_iter 5 --feature_dim 80 --train "$TMP/far.svm" --out "$TMP/far.facto"
    expect_err "far.svm:6: feature key 45 = 1e+08 (with key 5 = 1) is far off the scale of the other feature values"
    expect_err "scale that feature (e.g. to [0, 1]) or lower init_stdev to 0.0003 or below"
    [ ! -e "$TMP/far.facto" ] || fail "$solver on far.svm saved a model"
done
expect_rc 0 "${T[@]}" --solver mcmc --num_iter 5 --feature_dim 80 --init_stdev 0.0003 --train "$TMP/far.svm" --out "$TMP/far.facto"
awk 'BEGIN { for (i = 0; i < 501; i++) printf "%d %d:1 %d:1 79:%d\n", 1 + i % 5, i % 40, 40 + i % 37, 2000 + 200 * (i % 7) }' >"$TMP/warn.svm"
expect_rc 0 "${T[@]}" --solver als --num_iter 5 --feature_dim 80 --train "$TMP/warn.svm" --out "$TMP/warn.facto"
expect_err "warn.svm:7: feature key 79 = 3200 (with key 6 = 1) is far off"
expect_err "training may be slow or end worse (from 300 on it is refused)"
# Ratings with summary_rank 0 keep mcmc_samples x num_factors columns per
# user and item; past 2^20 the model saved (85 MB here, 256 chains of 64
# iterations: 16384 x 65) and then failed to load ("the per-user / per-item
# header is inconsistent"). Refused before training now.
printf 'u1\ti1\t3\nu1\ti2\t4\nu2\ti1\t5\n' >"$TMP/r3.tsv"
PK=(train --model fm --solver mcmc --predictor_type regressor --from-ratings "$TMP/r3.tsv" --num_iter 64
    --mcmc_samples 16384 --mcmc_chains 256 --summary_rank 0 --out "$TMP/pk.facto")
expect_rc 2 "$F" "${PK[@]}" --num_factors 65
expect_err "more than 2^20"
[ ! -e "$TMP/pk.facto" ] || fail "a model of more than 2^20 columns per user was saved"
expect_rc 0 "$F" "${PK[@]}" --num_factors 64
expect_rc 0 "$F" eval --model "$TMP/pk.facto" --test "$TMP/r3.tsv"

need_ml100k
head -n 2000 "$ML/u1.base" >"$TMP/r.base"
head -n 500 "$ML/u1.test" >"$TMP/r.test"
cp "$TMP/r.test" "$TMP/r.test.keep"
# PREFIX.test would be the test ratings themselves.
expect_rc 2 "$F" convert --from-ratings "$TMP/r.base" --test-ratings "$TMP/r.test" --to libsvm --out "$TMP/r"
expect_err "is the input file"
cmp -s "$TMP/r.test" "$TMP/r.test.keep" || fail "convert replaced the test ratings"
# Empty side files (undefined behaviour before) and side files of other ids.
: >"$TMP/empty.user"
expect_rc 2 "$F" convert --from-ratings "$TMP/r.base" --to libsvm --out "$TMP/o" --user-features "$TMP/empty.user"
expect_err "empty.user: no users"
: >"$TMP/empty.item"
expect_rc 2 "$F" convert --from-ratings "$TMP/r.base" --to libsvm --out "$TMP/o" --item-features "$TMP/empty.item"
expect_err "empty.item: no items"
printf '99999|30|M|writer|12345\n' >"$TMP/other.user"
expect_rc 2 "$F" convert --from-ratings "$TMP/r.base" --to libsvm --out "$TMP/o" --user-features "$TMP/other.user"
expect_err "other.user: none of its 1 user ids"
expect_rc 0 "$F" convert --from-ratings "$TMP/r.base" --to libsvm --out "$TMP/o" --user-features "$ML/u.user" \
    --item-features "$ML/u.item"
# The same for MCMC/ALS in block form, which reads side files on its own path;
# a value that overflows a float is not finite.
MC=(train --model fm --solver mcmc --num_iter 3 --num_factors 4 --predictor_type regressor --from-ratings "$TMP/r.base")
expect_rc 2 "$F" "${MC[@]}" --user-features "$TMP/empty.user"
expect_err "empty.user: no ids"
printf 'zzz\tage:3\n' >"$TMP/other.attr"
expect_rc 2 "$F" "${MC[@]}" --item-features "$TMP/other.attr"
expect_err "other.attr: gives no item of the training ratings a feature"
# hyperparameters.json's prior_groups on ratings (block form) was ignored:
# "0" trained with the default groups (1) and the model's hyperparameters
# said 0. It must train as --prior-groups 0 does.
printf '{"prior_groups":"0"}' >"$TMP/pg0.json"
expect_rc 0 "$F" "${MC[@]}" --mcmc_chains 1 --hyperparameters "$TMP/pg0.json" --out "$TMP/pgj.facto"
expect_rc 0 "$F" eval --model "$TMP/pgj.facto" --test "$TMP/r.test" --json
mv "$TMP/out" "$TMP/pgj.eval"
expect_rc 0 "$F" "${MC[@]}" --mcmc_chains 1 --prior-groups 0 --out "$TMP/pgf.facto"
expect_rc 0 "$F" eval --model "$TMP/pgf.facto" --test "$TMP/r.test" --json
cmp -s "$TMP/out" "$TMP/pgj.eval" || fail "prior_groups 0 in hyperparameters.json is not --prior-groups 0"
expect_rc 0 "$F" "${MC[@]}" --mcmc_chains 1 --out "$TMP/pgd.facto"
expect_rc 0 "$F" eval --model "$TMP/pgd.facto" --test "$TMP/r.test" --json
cmp -s "$TMP/out" "$TMP/pgj.eval" && fail "prior_groups 0 trained as the default"
printf '1\tage:1e39\n' >"$TMP/huge.attr"
expect_rc 2 "$F" "${MC[@]}" --user-features "$TMP/huge.attr"
expect_err "huge.attr:1: value of 'age:1e39' is not a finite number"
# libsvm rows with a label and no feature: the message was "hyperparameter feature_dim: 0 is not in 1..2^32"
printf '1\n0\n1\n' >"$TMP/labels.svm"
expect_rc 2 "$F" train --model fm --train "$TMP/labels.svm" --epochs 1 --num_factors 2 --predictor_type regressor
expect_err "labels.svm: no row holds a feature"
exit 0
