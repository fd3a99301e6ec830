#!/usr/bin/env bash
# test_badinput.sh — bad inputs found by the bad-input tester (issue 8
# follow-ups): diverging settings stop training with exit 2 and no model
# file, naming the setting to change; ids a TSV cannot carry are refused;
# synth refuses sizes it cannot hold before allocating; recommend --exclude
# names a folder and counts the pairs it skips. Self-contained.
set -u
. "$(dirname "$0")/lib.bash"

# 20 users x 30 items of implicit feedback, each user a third of the items.
for u in $(seq 1 20); do
    for i in $(seq 1 30); do
        if [ $(((u * 7 + i * 5) % 3)) -eq 0 ]; then printf 'u%s\ti%s\t1\n' "$u" "$i"; fi
    done
done >"$TMP/r.tsv"
M="$TMP/m.facto"

# (a) init_std so large the first scores overflow float: --init_std is named.
for kind in warp ials bpr softmax; do
    expect_rc 2 "$F" train --model "$kind" --from-ratings "$TMP/r.tsv" --epochs 2 --init_std 1e30 --out "$M"
    expect_err "lower --init_std (now 1e+30)"
    [ ! -e "$M" ] || fail "$kind: a model was written after the init check failed"
done
# A learning rate that blows up during the epochs: --lr is named, not --init_std.
for kind in warp bpr softmax; do
    expect_rc 2 "$F" train --model "$kind" --from-ratings "$TMP/r.tsv" --epochs 3 --lr 1e30 --out "$M"
    expect_err "$kind diverged in epoch"
    expect_err "lower the learning rate (--lr, now 1e+30)"
    [ ! -e "$M" ] || fail "$kind: a model was written after divergence"
done
expect_rc 2 "$F" train --model ials --from-ratings "$TMP/r.tsv" --epochs 2 --reg 1e30 --out "$M"
expect_err "ials diverged in iteration 1"; expect_err "--reg, now 1e+30"
[ ! -e "$M" ] || fail "ials: a model was written after divergence"

# (e) recommend --exclude DIR says it is a directory (was "DIR:1: read error");
# unknown users and items of --exclude are counted in one note.
expect_rc 0 "$F" train --model ials --from-ratings "$TMP/r.tsv" --epochs 2 --out "$M"
mkdir "$TMP/dir"
expect_rc 2 "$F" recommend --model "$M" --all-users --exclude "$TMP/dir"
expect_err "dir: is a directory"
expect_rc 2 "$F" predict --model "$M" --input "$TMP/dir"
expect_err "dir: is a directory"
printf 'u1\ti2\nnobody\ti2\nu1\tnothing\nu2\ti3\n' >"$TMP/ex.tsv"
expect_rc 0 "$F" recommend --model "$M" --all-users --exclude "$TMP/ex.tsv"
expect_err "2 of 4 pairs name a user or item the model never saw; ignored"

# (c) synth: a catalogue far past the ratings is refused before any
# allocation (it took 80 bytes an item: --items 1e9 --ratings 10 asked for
# 80 GB). Under a 400 MB address-space limit (not with the sanitizers, whose
# shadow memory needs terabytes of address space) the refusal is the error,
# not "out of memory"; a catalogue of 1M items for 10 ratings still fits.
limit_vm() { if grep -q __asan_init "$F"; then "$@"; else (ulimit -v 400000 && exec "$@"); fi; }
expect_rc 1 limit_vm "$F" datasets synth --users 5 --items 1000000000 --ratings 10 --out "$TMP/s.fds"
expect_err "1000000000 items for 10 ratings: at most 10 items can get a rating"
[ ! -e "$TMP/s.fds" ] || fail "synth wrote a file after refusing"
expect_rc 1 limit_vm "$F" datasets synth --users 100000 --items 2000000000 --ratings 2000000000 --out "$TMP/s.fds"
expect_err "more than this machine's"
expect_rc 0 limit_vm "$F" datasets synth --users 5 --items 1000000 --ratings 10 --out "$TMP/s.fds"
grep -q "5 users, 10 items, 10 ratings -> $TMP/s.fds (--items 1000000 is an upper bound: 999990 items drew no \
rating and are absent)$" "$TMP/out" || fail "synth: $(cat "$TMP/out")"
# every item drawn: the summary says nothing more
expect_rc 0 "$F" datasets synth --users 5 --items 2 --ratings 10 --out "$TMP/s.tsv"
grep -qx "5 users, 2 items, 10 ratings -> $TMP/s.tsv" "$TMP/out" || fail "synth: $(cat "$TMP/out")"
# sizes the generator cannot meet: said with the flags and the values needed
expect_rc 1 "$F" datasets synth --users 100 --items 50 --ratings 60 --out "$TMP/s2.fds"
expect_err "--ratings 60 is fewer than --users 100: every user gets at least one rating, so --ratings must be at least 100"
expect_rc 1 "$F" datasets synth --users 100 --items 50 --ratings 5001 --out "$TMP/s2.fds"
expect_err "--ratings 5001 is more than --users x --items (100 x 50 = 5000)"
expect_rc 1 "$F" datasets synth --mnar 0.5 --users 100 --items 50 --ratings 2501 --out "$TMP/mn"
expect_err "--mnar: --ratings 2501 is more than half of --users x --items (100 x 50 = 5000): give at most 2500"
expect_rc 1 "$F" datasets synth --mnar 0.5 --users 100 --items 50 --ratings 100 --uniform 2501 --out "$TMP/mn"
expect_err "--mnar: --uniform 2501 is more than half"
expect_rc 1 "$F" datasets synth --mnar 0.5 --users 20000 --items 20000 --ratings 100 --out "$TMP/mn"
expect_err "20000 x 20000 = 400000000, more than the 268435456 (2^28)"
expect_rc 1 "$F" datasets synth --mnar 0.5 --implicit --users 10 --items 10 --ratings 10 --out "$TMP/mn"
expect_err "does not take --implicit"
expect_rc 1 "$F" datasets synth --mnar 1 --users 1 --items 1 --ratings 1 --out "$TMP/mn"
expect_err "--users x --items is 1 x 1 = 1, give at least 2 pairs" # was 'give at most 0'
! grep -q "rank 1..256\|zipf\|noise" "$TMP/err" || fail "synth named limits of no flag: $(cat "$TMP/err")"
# too few ratings to fill a part: the part named, with what was drawn (exit 2: a chance outcome), nothing written
expect_rc 2 "$F" datasets synth --mnar 0.5 --users 10 --items 10 --ratings 1 --out "$TMP/mn"
expect_err "the training part (train.tsv) came out empty (0 observed for training, 0 for test, 0 uniform)"
expect_rc 2 "$F" datasets synth --mnar 0.5 --users 10 --items 10 --ratings 20 --test-fraction 0.99 --out "$TMP/mn"
expect_err "the training part (train.tsv) came out empty (0 observed for training, 21 for test, 5 uniform)"
[ ! -e "$TMP/s2.fds" ] && [ ! -e "$TMP/mn" ] || fail "synth wrote after refusing"

# (b) ids a bare TSV field cannot carry (a tab, quotes, "::", blanks at an
# end, a leading '#') are quoted by convert --to tsv, so .fds -> TSV -> .fds
# gives the same file (they were written raw: the TSV did not read back).
printf 'user,item,rating\n"a::b",x,5\n"c\td",y,4\n" e ",x,3\n"#f",y,2\n"""g""",x,1\nh;i,y,1\n' >"$TMP/q.csv"
expect_rc 0 "$F" convert --input "$TMP/q.csv" --to fds --out "$TMP/q.fds"
expect_rc 0 "$F" convert --input "$TMP/q.fds" --to tsv --out "$TMP/q.tsv"
expect_rc 0 "$F" convert --input "$TMP/q.tsv" --to fds --out "$TMP/q2.fds"
cmp -s "$TMP/q.fds" "$TMP/q2.fds" || fail ".fds -> tsv -> .fds changed the data set"
grep -qF '"c	d"	y	4' "$TMP/q.tsv" || fail "the tab id is not quoted: $(cat -A "$TMP/q.tsv")"

# Sweep: a NUL byte in place of a tab past the first line was reported as
# a missing column only.
printf 'u1\ti1\t3\nu2\ti2\t3\nu3\ti3\x004\n' >"$TMP/nul.tsv"
expect_rc 2 "$F" train --from-ratings "$TMP/nul.tsv" --epochs 1
expect_err "nul.tsv:3: missing column 3 (rating): the line has 2 columns and holds a NUL byte (binary data?)"
