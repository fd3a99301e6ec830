#!/usr/bin/env bash
# test_topn.sh — top-N through the CLI (issue 9): `facto recommend
# --all-users` equals the one-user command for every user, line for line
# (TSV and JSON lines), never lists a training item (unless
# --include-seen), honours --exclude, and writes --out whole or not at all;
# --history folds a new user in (ease: a training user's own items give its
# list, ials, bpr, warp, softmax: near it; unknown items are named; mf refuses
# with its error); `facto similar` prints the nearest items (text and --json). Self-contained first
# (generated interactions), then on ml-100k (else exit 77).
set -u
. "$(dirname "$0")/lib.bash"

# 60 users x 40 items, popular items more often; 80% train.
awk -v tr="$TMP/r.train" -v te="$TMP/r.test" 'BEGIN { srand(11);
    for (u = 1; u <= 60; u++) for (r = 0; r < 12; r++) { i = 1 + int(rand() * rand() * 40);
      printf "%d\t%d\t1\n", u, i > (rand() < 0.8 ? tr : te) } }'
E="$TMP/ease.facto"
I="$TMP/ials.facto"
expect_rc 0 "$F" train --model ease --train "$TMP/r.train" --test "$TMP/r.test" --out "$E"
expect_rc 0 "$F" train --model ials --train "$TMP/r.train" --test "$TMP/r.test" --factors 8 --out "$I"
# the kinds trained on a ranking loss, on the same factor model as ials
R=()
for kind in bpr warp softmax; do
    expect_rc 0 "$F" train --model "$kind" --train "$TMP/r.train" --test "$TMP/r.test" --factors 8 --epochs 20 \
        --out "$TMP/$kind.facto"
    R+=("$TMP/$kind.facto")
done

# every user (bpr, warp, softmax: every sixth, for time): the batch lines are the one-user lines
# (TSV), and each JSON line is --json's (ease scores users one at a time, the factor kinds in sgemm
# blocks)
for m in "$E" "$I" "${R[@]}"; do
    step=1
    case $m in "$E" | "$I") ;; *) step=6 ;; esac
    expect_rc 0 "$F" recommend --model "$m" --all-users -k 7
    cp "$TMP/out" "$TMP/all.tsv"
    cp "$TMP/out" "$m.tsv"
    expect_rc 0 "$F" recommend --model "$m" --all-users -k 7 --format jsonl --threads 2
    cp "$TMP/out" "$TMP/all.jsonl"
    [ "$(cut -f1 "$TMP/all.tsv" | uniq | tr '\n' ' ')" = "$(cut -f1 "$TMP/r.train" | sort -n -u | tr '\n' ' ')" ] ||
        fail "--all-users: users not in id order, or some missing"
    cut -f1 "$TMP/r.train" | sort -n -u | awk -v s=$step 'NR % s == 1 || s == 1' >"$TMP/users"
    awk -F'\t' 'NR == FNR { k[$1] = 1; next } $1 in k' "$TMP/users" "$TMP/all.tsv" >"$TMP/all.sub"
    mv "$TMP/all.sub" "$TMP/all.tsv"
    awk 'NR == FNR { k["{\"user\": \"" $1 "\","] = 1; next } $1 " " $2 in k' "$TMP/users" "$TMP/all.jsonl" \
        >"$TMP/all.sub"
    mv "$TMP/all.sub" "$TMP/all.jsonl"
    : >"$TMP/one.tsv"
    : >"$TMP/one.jsonl"
    for u in $(cat "$TMP/users"); do
        "$F" recommend --model "$m" --user "$u" -k 7 --format tsv >>"$TMP/one.tsv" || fail "recommend --user $u"
        "$F" recommend --model "$m" --user "$u" -k 7 --json >>"$TMP/one.jsonl" || fail "recommend --user $u --json"
    done
    cmp -s "$TMP/all.tsv" "$TMP/one.tsv" || { diff "$TMP/all.tsv" "$TMP/one.tsv" | head >&2; fail "$m: --all-users TSV != one-user"; }
    cmp -s "$TMP/all.jsonl" "$TMP/one.jsonl" || fail "$m: --all-users JSON lines != one-user --json"
    # no training item is ever listed
    if awk -F'\t' 'NR == FNR { seen[$1 FS $2] = 1; next } ($1 FS $2) in seen { print; bad = 1 } END { exit !bad }' \
        "$TMP/r.train" "$TMP/all.tsv" >&2; then fail "$m: a training item was recommended"; fi
done

# --history: a training user's own items fold in to that user's list (EASE scores a history as a user)
items=$(awk '$1 == 3 { print $2 }' "$TMP/r.train" | paste -sd, -) # repeats add, as in training
expect_rc 0 "$F" recommend --model "$E" --user 3 -k 5
awk 'NR > 1 { print $2 }' "$TMP/out" >"$TMP/u3"
expect_rc 0 "$F" recommend --model "$E" --history "$items" -k 5
awk 'NR > 1 { print $2 }' "$TMP/out" >"$TMP/h3"
cmp -s "$TMP/u3" "$TMP/h3" || fail "--history of user 3's items does not give user 3's list"
tr ',' '\n' <<<"$items,nosuch" | expect_rc 0 "$F" recommend --model "$E" --history - -k 5 --json
expect_err "1 of"; expect_err "'nosuch'"
grep -q '"unknown_items": \["nosuch"\]' "$TMP/out" || fail "--history --json lacks unknown_items"
[ "$(grep -o '"item": "[^"]*"' "$TMP/out" | cut -d'"' -f4 | tr '\n' ' ')" = "$(tr '\n' ' ' <"$TMP/h3")" ] ||
    fail "--history - (stdin) differs from the comma list"
expect_rc 2 "$F" recommend --model "$E" --history nosuch,nothing
expect_err "none of its 2 items"
# ials folds a user in with one least-squares solve: near the trained user's own list
expect_rc 0 "$F" recommend --model "$I" --user 3 -k 10
awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/iu3"
expect_rc 0 "$F" recommend --model "$I" --history "$items,nosuch" -k 10
expect_err "'nosuch'"
awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/ih3"
common=$(comm -12 "$TMP/iu3" "$TMP/ih3" | wc -l)
[ "$common" -ge 7 ] || fail "ials --history of user 3's items shares $common of 10 items with user 3's list"
# bpr, warp, softmax fold in by the same solve against item factors trained on another loss: nearer
# their own list than a popularity list is; similar lists k items, never the item itself
for m in "${R[@]}"; do
    expect_rc 0 "$F" recommend --model "$m" --user 3 -k 10
    awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/ru3"
    expect_rc 0 "$F" recommend --model "$m" --history "$items" -k 10
    awk 'NR > 1 { print $2 }' "$TMP/out" | sort >"$TMP/rh3"
    common=$(comm -12 "$TMP/ru3" "$TMP/rh3" | wc -l)
    [ "$common" -ge 5 ] || fail "$m --history of user 3's items shares $common of 10 items with user 3's list"
    expect_rc 0 "$F" similar --model "$m" --item 5 -k 4
    [ "$(awk 'NR > 1' "$TMP/out" | wc -l)" -eq 4 ] || fail "$m similar -k 4 did not list 4 items"
    if awk 'NR > 1 && $2 == "5"' "$TMP/out" | grep -q .; then fail "$m similar listed the item itself"; fi
done

# mf cannot fold a user in: the library's error, exit 2
M="$TMP/mf.facto"
expect_rc 0 "$F" train --train "$TMP/r.train" --factors 4 --epochs 3 --out "$M"
expect_rc 2 "$F" recommend --model "$M" --history "$items"
expect_err "mf scores users of its training data"

# --out: whole or nothing
expect_rc 0 "$F" recommend --model "$E" --all-users -k 7 --out "$TMP/recs.tsv"
cmp -s "$TMP/recs.tsv" "$E.tsv" || fail "--out wrote another list than stdout"
[ ! -s "$TMP/out" ] || fail "--out also printed to stdout"
mkdir "$TMP/adir"
expect_rc 2 "$F" recommend --model "$E" --all-users --out "$TMP/adir"
expect_err "adir"
[ -d "$TMP/adir" ] || fail "a folder in the way was destroyed"
expect_rc 2 "$F" recommend --model "$E" --all-users --out "$TMP/nofolder/recs.tsv"
if ls -A "$TMP" | grep -q 'facto-tmp'; then fail "a temporary file was left behind: $(ls "$TMP")"; fi

# usage errors
expect_rc 1 "$F" recommend --model "$E" --all-users --json
expect_rc 1 "$F" recommend --model "$E" --user 1 --all-users
expect_rc 1 "$F" recommend --model "$E" --all-users --format xml
expect_rc 1 "$F" recommend --model "$E" --user 1 --out "$TMP/x.tsv"
expect_rc 1 "$F" recommend --model "$E" --history 1,2 --exclude "$TMP/r.train"
expect_rc 1 "$F" recommend --model "$E"

# similar: k rows, never the item itself; unknown item exit 2
expect_rc 0 "$F" similar --model "$M" --item 5 -k 4
[ "$(awk 'NR > 1' "$TMP/out" | wc -l)" -eq 4 ] || fail "similar -k 4 did not list 4 items"
if awk 'NR > 1 && $2 == "5"' "$TMP/out" | grep -q .; then fail "similar listed the item itself"; fi
expect_rc 2 "$F" similar --model "$M" --item nosuch
expect_err "nosuch"
expect_rc 1 "$F" similar --model "$M"

# ---- MovieLens 100K ---------------------------------------------------------
need_ml100k
M="$TMP/ml.facto"
expect_rc 0 "$F" train --dataset ml-100k --split u1 --factors 8 --epochs 2 --out "$M"
expect_rc 0 "$F" recommend --model "$M" --all-users -k 20 --out "$TMP/ml.tsv"
[ "$(wc -l <"$TMP/ml.tsv")" -eq $((943 * 20)) ] || fail "--all-users -k 20: not 20 lines for each of 943 users"
# every user's one-user list, every line
for u in $(seq 1 943); do
    "$F" recommend --model "$M" --user "$u" -k 20 --format tsv || fail "recommend --user $u"
done >"$TMP/ml1.tsv"
cmp -s "$TMP/ml.tsv" "$TMP/ml1.tsv" || { diff "$TMP/ml.tsv" "$TMP/ml1.tsv" | head >&2; fail "ml-100k: --all-users != one-user"; }
# seen items never listed; --include-seen lists some
B="$ML/u1.base"
if awk -F'\t' 'NR == FNR { seen[$1 FS $2] = 1; next } ($1 FS $2) in seen { print; bad = 1 } END { exit !bad }' \
    "$B" "$TMP/ml.tsv" >&2; then fail "ml-100k: an item seen in training was recommended"; fi
expect_rc 0 "$F" recommend --model "$M" --all-users -k 20 --include-seen
awk -F'\t' 'NR == FNR { seen[$1 FS $2] = 1; next } ($1 FS $2) in seen { n++ } END { exit !(n > 0) }' \
    "$B" "$TMP/out" || fail "--include-seen never listed a training item"

# --exclude the top 3 of every user: the lists move up by three
expect_rc 0 "$F" recommend --model "$M" --all-users -k 13 --out "$TMP/k13.tsv"
awk -F'\t' '{ if (++n[$1] <= 3) print $1 "," $2 }' "$TMP/k13.tsv" >"$TMP/excl.csv"
awk -F'\t' '{ if (++n[$1] > 3) print }' "$TMP/k13.tsv" >"$TMP/want.tsv"
expect_rc 0 "$F" recommend --model "$M" --all-users -k 10 --exclude "$TMP/excl.csv" --threads 2
cmp -s "$TMP/out" "$TMP/want.tsv" || fail "--all-users --exclude: lists are not the next 10"
expect_rc 0 "$F" recommend --model "$M" --user 42 -k 10 --exclude "$TMP/excl.csv" --format tsv
cmp -s "$TMP/out" <(awk -F'\t' '$1 == 42' "$TMP/want.tsv") || fail "--user 42 --exclude: not the next 10"

# similar with titles, as JSON
expect_rc 0 "$F" similar --model "$M" --item 50 -k 3 --json --dataset ml-100k
grep -Eq '^\{"item": "50", "items": \[\{"item": "[0-9]+", "score": [-0-9.e]+, "title": "[^"]+"\}(, \{"item": "[0-9]+", "score": [-0-9.e]+, "title": "[^"]+"\}){2}\]\}$' \
    "$TMP/out" || fail "similar --json shape: $(cat "$TMP/out")"
echo ok
