#!/usr/bin/env bash
# test_errors.sh — every bad input gets its message and exit code: data and
# I/O errors (missing file, bad rating line, empty file, corrupt model files,
# unknown user, offline fetch) exit 2 with "facto: ..." naming the problem;
# bad flags and values exit 1. Self-contained: a tiny ratings file is
# written here, no data set needed.
set -u
. "$(dirname "$0")/lib.bash"

# 4 users x 4 items, ratings chosen by hand.
printf '%s\n' "u1	i1	5" "u1	i2	3" "u1	i3	4" "u2	i1	4" "u2	i4	1" "u3	i2	2" \
    "u3	i3	5" "u4	i1	1" "u4	i4	5" "u2	i3	3" >"$TMP/r.tsv"
M="$TMP/m.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --epochs 5 --factors 4 --out "$M"

# Duplicate (user, item) pairs are merged and counted.
cat "$TMP/r.tsv" >"$TMP/dup.tsv"
printf '%s\n' "u1	i1	2" "u3	i2	4" >>"$TMP/dup.tsv"
expect_rc 0 "$F" train --train "$TMP/dup.tsv" --epochs 2 --factors 2
expect_err "2 duplicate (user, item) pairs"
# (a click log converted without --implicit kept the last of each repeat, silently about why)
expect_rc 0 "$F" convert --input "$TMP/dup.tsv" --to fds --out "$TMP/dup.fds"
expect_err "the last rating of each was kept (for clicks, plays or purchases, whose repeats add up, read it with --implicit)"

# Side features are fm's alone: every other kind refuses them (they were
# silently ignored) and writes no model.
printf 'u1\tage:1\nu2\tage:2\nu3\tage:3\nu4\tage:4\n' >"$TMP/users.attr"
for kind in mf ials warp popular ease; do
    expect_rc 2 "$F" train --model "$kind" --train "$TMP/r.tsv" --user-features "$TMP/users.attr" --out "$TMP/side.facto"
    expect_err "$kind uses no side features"
    [ ! -e "$TMP/side.facto" ] || fail "$kind with side features wrote a model"
done

# Data and I/O errors: exit 2.
expect_rc 2 "$F" train --train "$TMP/missing.tsv"
expect_err "facto: "; expect_err "missing.tsv"
printf 'u1\ti1\t5\nu1\ti2\tabc\n' >"$TMP/bad.tsv"
expect_rc 2 "$F" train --train "$TMP/bad.tsv"
expect_err "bad.tsv:2:"
: >"$TMP/empty.tsv"
expect_rc 2 "$F" train --train "$TMP/empty.tsv"
expect_err "empty.tsv"
expect_rc 2 "$F" eval --model "$M" --test "$TMP/bad.tsv"
expect_err "bad.tsv:2:"
expect_rc 2 "$F" eval --model "$TMP/nomodel" --test "$TMP/r.tsv"
expect_err "nomodel"
# Corrupt model files: truncated, foreign, one flipped byte.
head -c 100 "$M" >"$TMP/trunc.facto"
expect_rc 2 "$F" eval --model "$TMP/trunc.facto" --test "$TMP/r.tsv"
expect_err "trunc.facto"
echo "not a model" >"$TMP/foreign.facto"
expect_rc 2 "$F" recommend --model "$TMP/foreign.facto" --user u1
expect_err "foreign.facto"
size=$(wc -c <"$M")
cp "$M" "$TMP/flip.facto"
printf '\x5a' | dd of="$TMP/flip.facto" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$M" "$TMP/flip.facto" || {
    expect_rc 2 "$F" predict --model "$TMP/flip.facto" --input "$TMP/r.tsv"
    expect_err "flip.facto"
}
# Unknown user.
expect_rc 2 "$F" recommend --model "$M" --user nobody
expect_err "nobody"
expect_err "give the items they had with --history ITEMS"   # says what to do instead
# Pairs file problems.
expect_rc 2 "$F" predict --model "$M" --input "$TMP/missing.pairs"
expect_err "missing.pairs"
printf 'u1 i1\nlonely\n' >"$TMP/p.txt"
expect_rc 2 "$F" predict --model "$M" --input "$TMP/p.txt"
expect_err "p.txt:2:"
# Titles folder without a titles file.
expect_rc 2 "$F" recommend --model "$M" --user u1 --titles "$TMP"
# Offline fetch into a fake data home names the address and the folder.
FACTO_DATA_HOME="$TMP/home" FACTO_DATASETS_URL=http://127.0.0.1:1/ml FACTO_CONNECT_TIMEOUT=2 \
    expect_rc 2 "$F" datasets fetch ml-100k
expect_err "http://127.0.0.1:1/ml/ml-100k.zip"; expect_err "$TMP/home"
[ ! -e "$TMP/home/ml-100k" ] || fail "fetch left a folder behind"
FACTO_DATA_HOME="$TMP/home" expect_rc 2 "$F" datasets path ml-1m
expect_err "facto datasets fetch ml-1m"
FACTO_DATA_HOME="$TMP/home" expect_rc 2 "$F" train --dataset ml-1m --split random:0.2

# Usage errors: exit 1.
expect_rc 1 "$F" train --train "$TMP/r.tsv" --factors abc
expect_err "--factors"
expect_rc 1 "$F" train --train "$TMP/r.tsv" --lr 1e
expect_rc 1 "$F" train --train "$TMP/r.tsv" --epochs 0
expect_rc 1 "$F" train --train "$TMP/r.tsv" --optimizer rmsprop
expect_rc 1 "$F" train --train "$TMP/r.tsv" --model nope
expect_rc 1 "$F" train --train "$TMP/r.tsv" --no-such-flag
expect_rc 1 "$F" train --train "$TMP/r.tsv" --split u1
expect_rc 1 "$F" train --train "$TMP/r.tsv" --split random:2
expect_rc 1 "$F" train --train "$TMP/r.tsv" --delimiter ab
expect_rc 1 "$F" train --train "$TMP/r.tsv" --format xml
expect_rc 1 "$F" train --train "$TMP/r.tsv" --seed -3
expect_rc 1 "$F" train
expect_rc 1 "$F" train --factors
expect_rc 1 "$F" train --train "$TMP/r.tsv" stray
expect_rc 1 "$F" eval --model "$M"
expect_rc 1 "$F" eval --test "$TMP/r.tsv"
expect_rc 1 "$F" predict --model "$M"
expect_rc 1 "$F" recommend --model "$M"
expect_rc 1 "$F" recommend --model "$M" --user u1 -k abc
expect_rc 1 "$F" recommend --model "$M" --user u1 -k 0
expect_rc 1 "$F" datasets
expect_rc 1 "$F" datasets frobnicate
expect_rc 1 "$F" datasets path
expect_rc 1 "$F" nosuchcommand
expect_rc 1 "$F"
# And the good paths of the tiny model still work.
expect_rc 0 "$F" recommend --model "$M" --user u1 -k 2 --json
grep -q '"user": "u1"' "$TMP/out" || fail "recommend --json user"
grep -q '"i1"\|"i2"\|"i3"' "$TMP/out" && fail "recommended an item u1 rated"
echo ok
