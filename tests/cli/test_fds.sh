#!/usr/bin/env bash
# test_fds.sh — .fds data set files from the command line, no data needed:
# text -> fds -> tsv gives the same (user, item, rating, timestamp) lines; a
# .fds file is recognised by its magic whatever its name; training on it
# gives the same model bytes as training on the text; --implicit-threshold
# applies to it; `datasets synth` is the same file for a seed (fds and tsv
# agree), and a model trained on it beats the mean by a wide margin;
# predict and recommend --exclude read .fds pairs; corrupt files exit 2,
# bad flags 1. About two seconds.
set -u
. "$(dirname "$0")/lib.bash"

# Text with ids that are not numbers, half-stars, decimals and timestamps.
printf 'u1\tA\t4.5\t100\nu1\tB\t3\t101\nu2\tA\t0.1\t102\nu3\tC\t5\t103\nu2\tC\t2.75\t104\nu1\tC\t1e-3\t105\n' >"$TMP/r.tsv"
expect_rc 0 "$F" convert --train "$TMP/r.tsv" --to fds --out "$TMP/r.fds"
grep -q '^3 users, 3 items, 6 ratings' "$TMP/out" || fail "convert summary: $(cat "$TMP/out")"
[ "$(head -c8 "$TMP/r.fds")" = "FACTOFDS" ] || fail "magic"
expect_rc 0 "$F" convert --input "$TMP/r.fds" --to tsv --out "$TMP/back.tsv"
[ "$(sort "$TMP/r.tsv" | sed 's/\t1e-3\t/\t0.001\t/')" = "$(sort "$TMP/back.tsv")" ] ||
    fail "text -> fds -> tsv: $(cat "$TMP/back.tsv")"
# By magic, not by name; stdout export.
cp "$TMP/r.fds" "$TMP/ratings.dat"
expect_rc 0 "$F" convert --input "$TMP/ratings.dat" --to tsv --out -
[ "$(sort "$TMP/out")" = "$(sort "$TMP/back.tsv")" ] || fail "fds under another name"
# --implicit-threshold on a .fds file: the pairs >= 3, weight 1.
expect_rc 0 "$F" convert --train "$TMP/r.fds" --implicit-threshold 3 --to tsv --out "$TMP/thr.tsv"
[ "$(cut -f1-3 "$TMP/thr.tsv" | sort | tr '\n' ' ')" = "u1	A	1 u1	B	1 u3	C	1 " ] ||
    fail "threshold: $(cat "$TMP/thr.tsv")"

# Synthetic sets: the same bytes for a seed; fds and tsv hold the same data.
expect_rc 0 "$F" datasets synth --users 2000 --items 800 --ratings 120000 --seed 5 --out "$TMP/s1.fds"
expect_rc 0 "$F" datasets synth --users 2000 --items 800 --ratings 120000 --seed 5 --out "$TMP/s2.fds"
cmp -s "$TMP/s1.fds" "$TMP/s2.fds" || fail "synth: same seed, different bytes"
expect_rc 0 "$F" datasets synth --users 2000 --items 800 --ratings 120000 --seed 6 --out "$TMP/s3.fds"
cmp -s "$TMP/s1.fds" "$TMP/s3.fds" && fail "synth: another seed, same bytes"
expect_rc 0 "$F" datasets synth --users 2000 --items 800 --ratings 120000 --seed 5 --out "$TMP/s1.tsv"
[ "$(wc -l <"$TMP/s1.tsv")" -eq 120000 ] || fail "synth tsv lines"
[ "$(cut -f1,2 "$TMP/s1.tsv" | sort -u | wc -l)" -eq 120000 ] || fail "synth pairs are not distinct"
expect_rc 0 "$F" convert --input "$TMP/s1.fds" --to tsv --out "$TMP/s1x.tsv"
cmp -s "$TMP/s1.tsv" "$TMP/s1x.tsv" || fail "synth tsv differs from the fds exported"
# 3 bytes a rating or less at this size (2-byte items, 1-byte codes).
size=$(stat -c %s "$TMP/s1.fds")
[ "$size" -lt $((120000 * 3 + 60000)) ] || fail "synth fds takes $size bytes"
# Implicit: every weight 1.
expect_rc 0 "$F" datasets synth --users 50 --items 40 --ratings 600 --seed 1 --implicit --out "$TMP/imp.tsv"
[ "$(cut -f3 "$TMP/imp.tsv" | sort -u)" = "1" ] || fail "implicit weights"

# Learnable structure: MF's test RMSE well below the spread of the ratings
# (the RMSE of predicting the mean: about 0.9 here; MF reaches about 0.6).
sd=$(awk '{s += $3; q += $3 * $3; n++} END {printf "%.4f", sqrt(q / n - (s / n) ^ 2)}' "$TMP/s1.tsv")
expect_rc 0 "$F" train --train "$TMP/s1.fds" --split random:0.2 --seed 1 --epochs 20 --out "$TMP/m.facto"
rmse=$(sed -n "s/^#test_score (algo-1) : ('rmse', \([0-9.]*\))$/\1/p" "$TMP/out")
[ -n "$rmse" ] || fail "no test RMSE: $(tail -n3 "$TMP/out")"
awk -v r="$rmse" -v s="$sd" 'BEGIN {exit !(r < 0.8 * s)}' || fail "test RMSE $rmse not below 0.8 x sd $sd"
echo "synth: test RMSE $rmse, sd of the ratings $sd" >&2

# Training on the .fds converted from text gives the same model bytes.
expect_rc 0 "$F" convert --train "$TMP/s1.tsv" --to fds --out "$TMP/t.fds"
expect_rc 0 "$F" train --train "$TMP/s1.tsv" --split random:0.2 --seed 1 --epochs 5 --out "$TMP/a.facto"
expect_rc 0 "$F" train --train "$TMP/t.fds" --split random:0.2 --seed 1 --epochs 5 --out "$TMP/b.facto"
cmp -s "$TMP/a.facto" "$TMP/b.facto" || fail "train on fds differs from train on text"

# predict --input and recommend --exclude take a .fds file of pairs too.
head -n 300 "$TMP/s1.tsv" >"$TMP/p.tsv"
expect_rc 0 "$F" convert --train "$TMP/p.tsv" --to fds --out "$TMP/p.fds"
expect_rc 0 "$F" predict --model "$TMP/a.facto" --input "$TMP/p.tsv"
sort "$TMP/out" >"$TMP/pa"
expect_rc 0 "$F" predict --model "$TMP/a.facto" --input "$TMP/p.fds"
[ "$(wc -l <"$TMP/pa")" -eq 300 ] && [ "$(sort "$TMP/out")" = "$(cat "$TMP/pa")" ] || fail "predict on fds pairs"
expect_rc 0 "$F" recommend --model "$TMP/a.facto" --user 1 --exclude "$TMP/p.tsv" -k 20
cp "$TMP/out" "$TMP/ra"
expect_rc 0 "$F" recommend --model "$TMP/a.facto" --user 1 --exclude "$TMP/p.fds" -k 20
cmp -s "$TMP/out" "$TMP/ra" || fail "recommend --exclude fds"

# Corrupt files: exit 2 with the reason; bad flags: exit 1.
cp "$TMP/r.fds" "$TMP/bad.fds"
printf 'Z' | dd of="$TMP/bad.fds" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_rc 2 "$F" convert --input "$TMP/bad.fds" --to tsv --out "$TMP/x.tsv"
expect_err "checksum mismatch"
[ ! -e "$TMP/x.tsv" ] || fail "an output after a failed read"
head -c 300 "$TMP/r.fds" >"$TMP/short.fds"
expect_rc 2 "$F" train --train "$TMP/short.fds" --split random:0.2 --out "$TMP/m2.facto"
expect_err "truncated"
# 1-7 bytes that begin the magic: a truncated .fds whatever the name (they were read as
# text: "missing column 2"); as a test file and a file of pairs too
for n in 1 5 7; do
    for name in cut.fds cut.tsv; do
        head -c "$n" "$TMP/r.fds" >"$TMP/$name"
        expect_rc 2 "$F" train --train "$TMP/$name" --out "$TMP/m2.facto"
        expect_err "$TMP/$name: corrupt data set file: truncated to $n byte"
    done
    expect_rc 2 "$F" eval --model "$TMP/a.facto" --test "$TMP/cut.tsv"
    expect_err "$TMP/cut.tsv: corrupt data set file: truncated"
    expect_rc 2 "$F" predict --model "$TMP/a.facto" --input "$TMP/cut.tsv"
    expect_err "$TMP/cut.tsv: corrupt data set file: truncated"
    expect_rc 2 "$F" recommend --model "$TMP/a.facto" --user 1 --exclude "$TMP/cut.fds"
    expect_err "$TMP/cut.fds: corrupt data set file: truncated"
done
! grep -q "column" "$TMP/err" || fail "a magic prefix read as text: $(cat "$TMP/err")"
printf 'FACTOX' >"$TMP/cut.tsv" # not the magic's start: text, as before
expect_rc 2 "$F" train --train "$TMP/cut.tsv" --out "$TMP/m2.facto"
expect_err "$TMP/cut.tsv:1: missing column 2"
expect_rc 1 "$F" convert --dataset ml-100k --to fds --out "$TMP/x.fds"
expect_rc 1 "$F" datasets synth --users 10 --items 10 --ratings 101 --out "$TMP/x.fds"
expect_rc 1 "$F" datasets synth --users 10 --items 10 --ratings 50
expect_rc 1 "$F" datasets list --users 10
# An empty --out is a usage error (it was exit 2 naming an internal function).
expect_rc 1 "$F" convert --input "$TMP/r.fds" --to tsv --out ''
expect_err "--out: the path is empty"
expect_rc 1 "$F" datasets synth --users 10 --items 10 --ratings 50 --out ''
expect_err "the path is empty"
# --to names all four formats when it gets none of them (it named only the row formats).
expect_rc 1 "$F" convert --input "$TMP/r.fds" --to csv --out "$TMP/x.csv"
expect_err "'csv' is not one of libsvm, recordio (rows), fds, tsv (ratings)"
echo ok
