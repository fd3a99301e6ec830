#!/usr/bin/env bash
# test_fm_lines.sh — an error about one row of an FM rows file names where
# that row is in the file, not its number among the rows read: the line of
# libsvm text (after comment and blank lines, plain or gzip), the record
# (counted from 1) and the byte offset of its header in recordIO, for
# --train, --test and `facto eval`: a classifier's label that is not 0/1,
# a key >= feature_dim, and the recordIO reader's own errors.
set -u
. "$(dirname "$0")/lib.bash"

C=("$F" train --model fm --predictor_type binary_classifier --num_factors 2 --feature_dim 4)
R=("$F" train --model fm --predictor_type regressor --num_factors 2)

# The brief's example: row 2 of the rows read is line 4 of the file.
printf '# c\n1 1:1 2:1\n\n2 1:1 3:1\n' >"$TMP/l.svm"
expect_rc 2 "${C[@]}" --train "$TMP/l.svm" --out "$TMP/l.facto"
expect_err "l.svm:4: label 2 is not 0 or 1 (or -1/+1) as binary_classifier needs"
grep -q "training row" "$TMP/err" && fail "the row number is still shown: $(cat "$TMP/err")"
[ -e "$TMP/l.facto" ] && fail "a model was written"

# More skipped lines (comments, blank and blank-looking ones, CRLF), before
# and between rows; the same file gzip-compressed.
printf '# header\n\n   \n# more\n1 0:1\n\t\n0 1:1 # ok\r\n\n\n# x\n-1 2:1\n1 3:1\n0.5 0:1\n1 1:1\n' >"$TMP/m.svm"
expect_rc 2 "${C[@]}" --train "$TMP/m.svm"
expect_err "m.svm:13: label 0.5 is not 0 or 1"
gzip -c "$TMP/m.svm" >"$TMP/m.svm.gz"
expect_rc 2 "${C[@]}" --train "$TMP/m.svm.gz"
expect_err "m.svm.gz:13: label 0.5 is not 0 or 1"

# A bad label in --test names the test file's line; the training file is fine.
printf '1 0:1\n0 1:1\n' >"$TMP/ok.svm"
printf '\n\n# test rows\n1 0:1\n\n3 1:1\n' >"$TMP/t.svm"
expect_rc 2 "${C[@]}" --train "$TMP/ok.svm" --test "$TMP/t.svm"
expect_err "t.svm:6: label 3 is not 0 or 1"

# A key >= feature_dim on a later line, in --train and in --test.
printf '1 0:1\n# c\n\n2 1:1 3:1\n3 2:1 4:1\n' >"$TMP/k.svm"
expect_rc 2 "${R[@]}" --feature_dim 4 --train "$TMP/k.svm"
expect_err "k.svm:5: key 4 is not below feature_dim 4"
expect_rc 2 "${R[@]}" --feature_dim 4 --train "$TMP/ok.svm" --test "$TMP/k.svm"
expect_err "k.svm:5: key 4 is not below feature_dim 4"
printf '1 0:1\n# c\n\n2 1:1 3:1\n' >"$TMP/k4.svm"
expect_rc 0 "${R[@]}" --feature_dim 4 --train "$TMP/k4.svm" --test "$TMP/k4.svm"

# recordIO: the same rows converted, the bad label in record 3, whose header
# starts at byte 120 (checked below to hold the RecordIO magic).
printf '1 0:1 1:1\n0 1:1 2:1\n2 0:1 3:1\n1 2:1\n' >"$TMP/r.svm"
expect_rc 0 "$F" convert --input "$TMP/r.svm" --to recordio --out "$TMP/r.rec" --feature_dim 4
[ "$(od -An -tx1 -j120 -N4 "$TMP/r.rec" | tr -d ' \n')" = "0a23d7ce" ] || fail "no record header at byte 120"
[ "$(od -An -tx1 -j60 -N4 "$TMP/r.rec" | tr -d ' \n')" = "0a23d7ce" ] || fail "no record header at byte 60"
expect_rc 2 "${C[@]}" --train "$TMP/r.rec"
expect_err "r.rec: record 3 at byte 120: label 2 is not 0 or 1 (or -1/+1) as binary_classifier needs"
expect_rc 2 "${C[@]}" --train "$TMP/ok.svm" --test "$TMP/r.rec"
expect_err "r.rec: record 3 at byte 120: label 2 is not 0 or 1"
# The reader's own errors count records from 1 too: the fifth record (the
# first of a second file, shape 8) differs from the first's shape 4.
printf '1 7:1\n' >"$TMP/r8.svm"
expect_rc 0 "$F" convert --input "$TMP/r8.svm" --to recordio --out "$TMP/r8.rec" --feature_dim 8
cat "$TMP/r.rec" "$TMP/r8.rec" >"$TMP/r48.rec"
expect_rc 2 "${R[@]}" --train "$TMP/r48.rec"
expect_err "r48.rec: record 5 at byte 236: shape 8 differs from 4 of the first record"

# eval: the model's classifier rule, by line and by record.
expect_rc 0 "${C[@]}" --train "$TMP/ok.svm" --out "$TMP/c.facto"
expect_rc 2 "$F" eval --model "$TMP/c.facto" --test "$TMP/m.svm"
expect_err "m.svm:13: label 0.5 is not 0 or 1"
expect_rc 2 "$F" eval --model "$TMP/c.facto" --test "$TMP/r.rec"
expect_err "r.rec: record 3 at byte 120: label 2 is not 0 or 1"
expect_rc 0 "$F" eval --model "$TMP/c.facto" --test "$TMP/ok.svm"

# A folder (SageMaker passes channel folders) is named as one, with or without --format.
mkdir -p "$TMP/chan/train"
cp "$TMP/ok.svm" "$TMP/chan/train/part-0"
expect_rc 2 "${C[@]}" --train "$TMP/chan/train"
expect_err "chan/train: is a folder; give a file"
expect_rc 2 "${C[@]}" --train "$TMP/chan/train" --format libsvm
expect_err "chan/train: is a folder; give a file"
exit 0
