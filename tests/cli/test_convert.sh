#!/usr/bin/env bash
# test_convert.sh — `facto convert`. Without data: a hand-made ratings pair is
# one-hot encoded to the keys worked out by hand (id-map and --numeric-ids
# layouts, --binarize, the test file through the train file's layout), rows
# round-trip libsvm <-> recordIO byte for byte, bad input exits 2 and bad
# flags 1. On ml-100k u1 (else 77): row counts, feature_dim 2593 / 2625,
# side features, binarized label counts and byte-identical round trips.
set -u
. "$(dirname "$0")/lib.bash"

printf '1\t10\t5\t0\n1\t20\t3\t0\n2\t10\t4\t0\n3\t30\t1\t0\n' >"$TMP/tiny.base"
printf '2\t20\t2\t0\n4\t10\t5\t0\n' >"$TMP/tiny.test"
# Users 1,2,3 -> keys 0,1,2; items 10,20,30 -> keys 3,4,5; user 4 is unknown.
expect_rc 0 "$F" convert --from-ratings "$TMP/tiny.base" --test-ratings "$TMP/tiny.test" --to libsvm --out "$TMP/t"
[ "$(head -n1 "$TMP/out")" = "feature_dim 6" ] || fail "feature_dim line: $(head -n1 "$TMP/out")"
[ "$(cat "$TMP/t.train")" = $'5 0:1 3:1\n3 0:1 4:1\n4 1:1 3:1\n1 2:1 5:1' ] || fail "train rows: $(cat "$TMP/t.train")"
[ "$(cat "$TMP/t.test")" = $'2 1:1 4:1\n5 3:1' ] || fail "test rows: $(cat "$TMP/t.test")"
expect_err "1 with a user"
# SageMaker demo layout: user key = id - 1, item key = 3 + id - 1; labels rating >= 4.
expect_rc 0 "$F" convert --from-ratings "$TMP/tiny.base" --test-ratings "$TMP/tiny.test" --to libsvm --out "$TMP/n" \
    --numeric-ids --binarize 4 --json
[ "$(json_num feature_dim "$TMP/out")" -eq 33 ] || fail "numeric ids feature_dim: $(cat "$TMP/out")"
[ "$(json_num n_test "$TMP/out")" -eq 2 ] || fail "n_test"
[ "$(cat "$TMP/n.train")" = $'1 0:1 12:1\n0 0:1 22:1\n1 1:1 12:1\n0 2:1 32:1' ] || fail "numeric: $(cat "$TMP/n.train")"
[ "$(cat "$TMP/n.test")" = $'0 1:1 22:1\n1 12:1' ] || fail "numeric test: $(cat "$TMP/n.test")"
# recordIO: starts with the RecordIO magic (0xCED7230A little-endian), one record a row.
expect_rc 0 "$F" convert --from-ratings "$TMP/tiny.base" --to recordio --out "$TMP/r"
[ "$(head -c4 "$TMP/r.train" | od -An -tx1 | tr -d ' \n')" = "0a23d7ce" ] || fail "recordio magic"
[ ! -e "$TMP/r.test" ] || fail "a test file without test ratings"

# Row round trips, byte for byte: odd labels, an all-zero row, unsorted and
# duplicate keys (summed), decimals (payload lengths vary mod 4).
printf '3.5\n-1 7:0.2 2:1e-07 7:0.3\n0.25 0:1 1:2 2:3 3:4 4:5\n1 4294967295:1\n' >"$TMP/odd.svm"
expect_rc 0 "$F" convert --input "$TMP/odd.svm" --to libsvm --out "$TMP/a.svm"
[ "$(sed -n 2p "$TMP/a.svm")" = "-1 2:0.0000001 7:0.5" ] || fail "canonical libsvm: $(sed -n 2p "$TMP/a.svm")"
expect_rc 0 "$F" convert --input "$TMP/a.svm" --to recordio --out "$TMP/a.rec"
grep -q '^feature_dim 4294967296$' "$TMP/out" || fail "dim of key 2^32-1: $(cat "$TMP/out")"
expect_rc 0 "$F" convert --input "$TMP/a.rec" --to libsvm --out "$TMP/b.svm"
cmp "$TMP/a.svm" "$TMP/b.svm" || fail "libsvm -> recordio -> libsvm changed bytes"
expect_rc 0 "$F" convert --input "$TMP/b.svm" --from libsvm --to recordio --out "$TMP/b.rec" --feature_dim 4294967296
cmp "$TMP/a.rec" "$TMP/b.rec" || fail "recordio -> libsvm -> recordio changed bytes"
expect_rc 0 "$F" convert --input "$TMP/a.rec" --to libsvm --out -
cmp -s "$TMP/out" "$TMP/a.svm" || fail "--out - differs"

# --help: every option line gives its default or says it is required.
expect_rc 0 "$F" convert --help
grep -q '^Usage: facto convert' "$TMP/out" || fail "convert --help usage line"
awk '/^  -/ { if (cur != "" && !ok) { print cur; bad = 1 } cur = $1; ok = 0 }
     /default|required/ { ok = 1 } /^  -h, --help/ { cur = "" }
     /^[A-Z]/ { if (cur != "" && !ok) { print cur; bad = 1 } cur = "" }
     END { if (cur != "" && !ok) { print cur; bad = 1 } exit bad }' "$TMP/out" || fail "convert --help: no default"
expect_rc 0 "$F" help
grep -q '^  convert ' "$TMP/out" || fail "facto help does not list convert"

# Errors: data and I/O exit 2, flags exit 1.
printf '1 3:1\n2 x:1\n' >"$TMP/bad.svm"
expect_rc 2 "$F" convert --input "$TMP/bad.svm" --to recordio --out "$TMP/bad.rec"
expect_err "bad.svm:2"
expect_rc 2 "$F" convert --input "$TMP/odd.svm" --to recordio --out "$TMP/x.rec" --feature_dim 5
expect_rc 2 "$F" convert --from-ratings "$TMP/missing.tsv" --to libsvm --out "$TMP/m"
expect_err "missing.tsv"
expect_rc 2 "$F" convert --input "$TMP/a.svm" --to libsvm --out "$TMP/no/such/dir/x"
expect_rc 1 "$F" convert --input "$TMP/a.svm" --out "$TMP/x"
expect_err "--to"
expect_rc 1 "$F" convert --input "$TMP/a.svm" --to xml --out "$TMP/x"
expect_rc 1 "$F" convert --input "$TMP/a.svm" --to libsvm
expect_rc 1 "$F" convert --input "$TMP/a.svm" --from-ratings "$TMP/tiny.base" --to libsvm --out "$TMP/x"
expect_rc 1 "$F" convert --input "$TMP/a.svm" --to libsvm --out "$TMP/x" --numeric-ids
expect_rc 1 "$F" convert --dataset ml-100k --to libsvm --out "$TMP/x"
expect_rc 1 "$F" convert --from-ratings "$TMP/tiny.base" --split u1 --to libsvm --out "$TMP/x"
expect_rc 1 "$F" convert --from-ratings "$TMP/tiny.base" --to libsvm --out "$TMP/x" --binarize abc

# ---- MovieLens 100K u1 -------------------------------------------------------
need_ml100k
expect_rc 0 "$F" convert --dataset ml-100k --split u1 --to recordio --out "$TMP/u1" --json
[ "$(json_num feature_dim "$TMP/out")" -eq 2593 ] || fail "u1 feature_dim (943 users + 1650 items)"
[ "$(json_num n_train "$TMP/out")" -eq 80000 ] && [ "$(json_num n_test "$TMP/out")" -eq 20000 ] || fail "u1 rows"
# Test rows use the train file's layout: 32 u1.test ratings have an item u1.base lacks.
expect_err "32 with an item unknown"
expect_rc 0 "$F" convert --input "$TMP/u1.train" --to libsvm --out "$TMP/u1.svm"
[ "$(wc -l <"$TMP/u1.svm")" -eq 80000 ] || fail "u1 libsvm rows"
awk 'NF != 3 || $2 !~ /^[0-9]+:1$/ || $3 !~ /^[0-9]+:1$/ { exit 1 }' "$TMP/u1.svm" || fail "u1 rows are not one-hot pairs"
expect_rc 0 "$F" convert --input "$TMP/u1.svm" --to recordio --out "$TMP/u1b.rec" --feature_dim 2593
cmp "$TMP/u1.train" "$TMP/u1b.rec" || fail "u1 recordio -> libsvm -> recordio changed bytes"
# SageMaker's layout: 943 + 1682 = 2625 keys; u1.test's first rating (user 1, item 6, 5 stars).
expect_rc 0 "$F" convert --dataset ml-100k --split u1 --to libsvm --out "$TMP/u1n" --numeric-ids --binarize 4
grep -q '^feature_dim 2625$' "$TMP/out" || fail "numeric ids: $(cat "$TMP/out")"
[ "$(head -n1 "$TMP/u1n.test")" = "1 0:1 948:1" ] || fail "u1.test row 1: $(head -n1 "$TMP/u1n.test")"
pos=$(awk '$3 >= 4' "$FACTO_DATA_HOME/ml-100k/u1.base" | wc -l)
[ "$(grep -c '^1 ' "$TMP/u1n.train")" -eq "$pos" ] || fail "binarized positives != $pos"
[ "$(grep -vc '^[01] ' "$TMP/u1n.train")" -eq 0 ] || fail "labels other than 0/1"
# Side features from u.user / u.item: more keys, and every row carries them.
expect_rc 0 "$F" convert --dataset ml-100k --split u1 --to libsvm --out "$TMP/u1s" --side-features --json
d=$(json_num feature_dim "$TMP/out")
# 7 age buckets, 2 genders, 19 genres, one key per occupation and per release decade.
nocc=$(cut -d'|' -f4 "$FACTO_DATA_HOME/ml-100k/u.user" | sort -u | wc -l)
ndec=$(awk -F'|' '$3 != "" { print substr($3, length($3) - 3, 3) }' "$FACTO_DATA_HOME/ml-100k/u.item" | sort -u | wc -l)
[ "$d" -eq $((2593 + 7 + 2 + nocc + 19 + ndec)) ] || fail "side feature_dim $d ($nocc occupations, $ndec decades)"
# label, user, item, age bucket, gender, occupation, >= 1 genre (item 267 has no date: no decade)
awk 'NF < 7 { exit 1 }' "$TMP/u1s.train" || fail "a row without side features"
echo ok
