#!/usr/bin/env bash
# test_outputs.sh — every output file goes through one atomic output
# (src/core/output.c): it never replaces an input of the same command or a
# model (unless it writes a model), a full disk leaves the old file and no
# temporary file, concurrent writers each leave a complete file, SIGTERM
# removes the temporary file and a dead writer's leftovers are cleaned up
# by the next save. Writing to stdout fails loudly (exit 2) for every
# command. Self-contained (no data set needed).
set -u
. "$(dirname "$0")/lib.bash"

no_temp() { ! ls -A "$1" | grep -q 'facto-tmp' || fail "a temporary file was left behind in $1: $(ls -A "$1")"; }

# Ratings (20 users x 30 items) and feature rows from them.
awk 'BEGIN { srand(7); for (u = 1; u <= 20; u++) for (i = 1; i <= 30; i++) if (rand() < 0.5)
       printf "%d\t%d\t%d\n", u, i, 1 + int(5 * rand()) }' >"$TMP/r.tsv"
expect_rc 0 "$F" convert --from-ratings "$TMP/r.tsv" --to libsvm --out "$TMP/rows"
expect_rc 0 "$F" train --model fm --train "$TMP/rows.train" --epochs 2 --num_factors 2 --predictor_type regressor \
    --out "$TMP/fm.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --epochs 2 --factors 2 --out "$TMP/mf.facto"
cp "$TMP/fm.facto" "$TMP/fm.keep"
KEYS=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, ":"); if (kv[1] + 1 > m) m = kv[1] + 1 } } END { print m }' "$TMP/rows.train")
printf '{"instances": [{"data": {"features": {"keys": [0, 25], "shape": [%d], "values": [1, 1]}}}]}\n' "$KEYS" \
    >"$TMP/req.json"
expect_rc 0 "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json
grep -q '"score"' "$TMP/out" || fail "predict gave no score: $(cat "$TMP/out")"

# predict --output onto its own model or request: refused (exit 2), both intact.
expect_rc 2 "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json \
    --output "$TMP/fm.facto"
expect_err "fm.facto: is an input of this command"
cmp -s "$TMP/fm.facto" "$TMP/fm.keep" || fail "predict --output replaced its model"
cp "$TMP/req.json" "$TMP/req.keep"
expect_rc 2 "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json \
    --output "$TMP/req.json"
expect_err "req.json: is an input of this command"
cmp -s "$TMP/req.json" "$TMP/req.keep" || fail "predict --output replaced its request"
# ... through a symbolic link too
ln -s fm.facto "$TMP/link.facto"
expect_rc 2 "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json \
    --output "$TMP/link.facto"
cmp -s "$TMP/fm.facto" "$TMP/fm.keep" || fail "predict --output through a link replaced its model"
# onto another model: refused, it is not a model output
cp "$TMP/mf.facto" "$TMP/mf.keep"
expect_rc 2 "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json \
    --output "$TMP/mf.facto"
expect_err "mf.facto: is a facto model; refusing to replace it"
cmp -s "$TMP/mf.facto" "$TMP/mf.keep" || fail "predict --output replaced another model"
# predict --output for (user, item) pairs: was refused with "not feature rows or SageMaker
# requests"; now the same lines as on stdout, in one file; onto the model: refused
printf '1\t1\n2\t3\nnobody\t1\n' >"$TMP/pairs.tsv"
expect_rc 0 "$F" predict --model "$TMP/mf.facto" --input "$TMP/pairs.tsv"
cp "$TMP/out" "$TMP/pairs.stdout"
[ "$(grep -c . "$TMP/pairs.stdout")" -eq 3 ] || fail "predict pairs: $(cat "$TMP/pairs.stdout")"
expect_rc 0 "$F" predict --model "$TMP/mf.facto" --input "$TMP/pairs.tsv" --output "$TMP/pairs.out"
cmp -s "$TMP/pairs.out" "$TMP/pairs.stdout" || fail "predict --output: $(cat "$TMP/pairs.out")"
[ ! -s "$TMP/out" ] || fail "predict --output also printed: $(cat "$TMP/out")"
expect_rc 0 "$F" predict --model "$TMP/mf.facto" --input "$TMP/pairs.tsv" --json --output "$TMP/pairs.json"
grep -q '^{"predictions": \[{"user": "1", "item": "1", "score": ' "$TMP/pairs.json" || fail "predict --json --output: $(cat "$TMP/pairs.json")"
expect_rc 2 "$F" predict --model "$TMP/mf.facto" --input "$TMP/pairs.tsv" --output "$TMP/mf.facto"
cmp -s "$TMP/mf.facto" "$TMP/mf.keep" || fail "predict --output (pairs) replaced its model"
printf '1\t1\n1\n' >"$TMP/badpairs.tsv" # line 2 has one field: nothing is written
expect_rc 2 "$F" predict --model "$TMP/mf.facto" --input "$TMP/badpairs.tsv" --output "$TMP/bad.out"
[ ! -e "$TMP/bad.out" ] || fail "a failed predict left $TMP/bad.out"
no_temp "$TMP"
# convert --out onto a model or its own input: refused
expect_rc 2 "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/mf.facto"
expect_err "is a facto model; refusing to replace it"
cmp -s "$TMP/mf.facto" "$TMP/mf.keep" || fail "convert --out replaced a model"
cp "$TMP/rows.train" "$TMP/rows.keep"
expect_rc 2 "$F" convert --input "$TMP/rows.train" --to recordio --out "$TMP/rows.train"
cmp -s "$TMP/rows.train" "$TMP/rows.keep" || fail "convert --out replaced its input"
# recommend --all-users --out onto the model or an --exclude file: refused
expect_rc 2 "$F" recommend --model "$TMP/mf.facto" --all-users --out "$TMP/mf.facto"
cmp -s "$TMP/mf.facto" "$TMP/mf.keep" || fail "recommend --out replaced its model"
printf '1\t1\n' >"$TMP/excl.tsv"
expect_rc 2 "$F" recommend --model "$TMP/mf.facto" --all-users --exclude "$TMP/excl.tsv" --out "$TMP/excl.tsv"
expect_err "excl.tsv: is an input of this command"
[ "$(cat "$TMP/excl.tsv")" = "$(printf '1\t1')" ] || fail "recommend --out replaced its --exclude file"
# an --exclude file with no pair the model knows (empty, or unknown ids): nothing to leave out
# (under the sanitizer build this once reported qsort(NULL, 0))
expect_rc 0 "$F" recommend --model "$TMP/mf.facto" --user 1 -k 2 --exclude /dev/null
printf '1\tnot-an-item\n' >"$TMP/excl_unknown.tsv"
expect_rc 0 "$F" recommend --model "$TMP/mf.facto" --all-users -k 2 --exclude "$TMP/excl_unknown.tsv" --out "$TMP/recs_u.tsv"
# a model output replaces a model (and only that)
expect_rc 0 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 2 --out "$TMP/mf2.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 3 --out "$TMP/mf2.facto"
no_temp "$TMP"

# A full disk (a file size limit: write fails with EFBIG): the old file stays, no temporary file.
expect_rc 0 "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/big.svm"
echo "old contents" >"$TMP/big.svm"
expect_rc 0 "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json \
    --output "$TMP/resp.json"
(ulimit -f 1; exec "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/big.svm") 2>"$TMP/err" &&
    fail "convert exited 0 past the file size limit"
expect_err "big.svm: cannot write"
[ "$(cat "$TMP/big.svm")" = "old contents" ] || fail "a failed convert changed the old file"
(ulimit -f 1; exec "$F" convert --input "$TMP/rows.train" --to recordio --out "$TMP/big.svm") 2>"$TMP/err" &&
    fail "convert --to recordio exited 0 past the file size limit"
[ "$(cat "$TMP/big.svm")" = "old contents" ] || fail "a failed convert (recordio) changed the old file"
(ulimit -f 1; exec "$F" recommend --model "$TMP/mf.facto" --all-users -k 30 --out "$TMP/big.svm") 2>"$TMP/err" &&
    fail "recommend --out exited 0 past the file size limit"
[ "$(cat "$TMP/big.svm")" = "old contents" ] || fail "a failed recommend --out changed the old file"
cp "$TMP/mf.facto" "$TMP/mfbig.facto"
(ulimit -f 1; exec "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 64 --out "$TMP/mfbig.facto") >/dev/null 2>"$TMP/err" &&
    fail "train --out exited 0 past the file size limit"
cmp -s "$TMP/mfbig.facto" "$TMP/mf.facto" || fail "a failed save changed the old model"
no_temp "$TMP"

# Two concurrent writers of one path: each writes a complete file, the last rename wins.
for r in 1 2 3; do
    "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/same.svm" >/dev/null 2>"$TMP/err1" & p1=$!
    "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/same.svm" >/dev/null 2>"$TMP/err2" & p2=$!
    wait $p1 || fail "concurrent convert 1 failed: $(cat "$TMP/err1")"
    wait $p2 || fail "concurrent convert 2 failed: $(cat "$TMP/err2")"
    cmp -s "$TMP/same.svm" "$TMP/rows.train" || fail "concurrent converts left a file unlike either"
done
no_temp "$TMP"

# (SIGINT / SIGTERM removing the temporary file: tests/unit/test_output.c.)

# A temporary file left by a process that is gone is removed by the next save of the same path.
touch "$TMP/.same.svm.facto-tmp.999999999.0" "$TMP/.other.svm.facto-tmp.999999999.0"
expect_rc 0 "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/same.svm"
[ -e "$TMP/.same.svm.facto-tmp.999999999.0" ] && fail "a dead writer's temporary file was not cleaned up"
[ -e "$TMP/.other.svm.facto-tmp.999999999.0" ] || fail "another file's temporary file was removed"
rm -f "$TMP/.other.svm.facto-tmp.999999999.0"

# Devices are written in place.
expect_rc 0 "$F" convert --input "$TMP/rows.train" --to libsvm --out /dev/null

# Ids in other encodings: --json keeps valid UTF-8, writes other bytes as \xHH and
# doubles a backslash, so a Latin-1 "jos\xe9" and a UTF-8 "josé" stay two users.
printf 'jos\xe9\t1\t5\njos\xc3\xa9\t2\t3\na\\b\t1\t4\njos\xe9\t3\t2\n' >"$TMP/ids.tsv"
expect_rc 0 "$F" train --train "$TMP/ids.tsv" --epochs 1 --factors 2 --out "$TMP/ids.facto"
printf 'jos\xe9 1\njos\xc3\xa9 1\na\\b 1\n' >"$TMP/idp.txt"
expect_rc 0 "$F" predict --model "$TMP/ids.facto" --input "$TMP/idp.txt" --json
grep -qF '"user": "jos\\xe9"' "$TMP/out" || fail "a Latin-1 id is not written as \\xe9: $(cat "$TMP/out")"
grep -qF "\"user\": \"jos$(printf '\xc3\xa9')\"" "$TMP/out" || fail "a UTF-8 id was changed: $(cat "$TMP/out")"
grep -qF '"user": "a\\\\b"' "$TMP/out" || fail "a backslash in an id is not doubled: $(cat "$TMP/out")"
grep -q unknown_user "$TMP/out" && fail "an id was not found again: $(cat "$TMP/out")"
expect_rc 0 "$F" recommend --model "$TMP/ids.facto" --all-users --format jsonl -k 1
[ "$(grep -c '"user": "jos' "$TMP/out")" = 2 ] || fail "two users print alike: $(cat "$TMP/out")"
# text output keeps the bytes as they were
expect_rc 0 "$F" predict --model "$TMP/ids.facto" --input "$TMP/idp.txt"
grep -q "^jos$(printf '\xe9')	1	" "$TMP/out" || fail "text output changed a Latin-1 id"

# Writing to stdout fails loudly: every command exits 2 on /dev/full.
full() { "$@" >/dev/full 2>"$TMP/err"; local rc=$?; [ $rc -eq 2 ] || fail "exit $rc on /dev/full, want 2: $*"; }
full "$F" --version
full "$F" --help
full "$F" help train
full "$F" train --train "$TMP/r.tsv" --epochs 2 --factors 2
full "$F" train --train "$TMP/r.tsv" --epochs 2 --factors 2 --json
full "$F" train --model fm --train "$TMP/rows.train" --epochs 2 --num_factors 2 --predictor_type regressor
full "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.tsv"
full "$F" eval --model "$TMP/mf.facto" --test "$TMP/r.tsv" --json
printf '1 1\n2 2\n' >"$TMP/pairs.txt"
full "$F" predict --model "$TMP/mf.facto" --input "$TMP/pairs.txt"
full "$F" predict --model "$TMP/mf.facto" --input "$TMP/pairs.txt" --json
full "$F" predict --model "$TMP/fm.facto" --input "$TMP/req.json" --content-type application/json
full "$F" recommend --model "$TMP/mf.facto" --user 1
full "$F" recommend --model "$TMP/mf.facto" --user 1 --json
full "$F" recommend --model "$TMP/mf.facto" --all-users
full "$F" similar --model "$TMP/mf.facto" --item 1
full "$F" inspect --model "$TMP/mf.facto"
full "$F" inspect --model "$TMP/mf.facto" --json
full "$F" datasets list
full "$F" convert --input "$TMP/rows.train" --to libsvm --out -
full "$F" convert --input "$TMP/rows.train" --to libsvm --out "$TMP/x.svm" --json
echo ok
