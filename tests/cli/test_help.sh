#!/usr/bin/env bash
# test_help.sh — `facto --version`, `facto help` and every subcommand's --help
# exit 0 (train's also with --model mf and --model fm, which add the kind's
# hyperparameters); every option line of --help shows its default (or says
# it is required), and train's defaults are the library's (a model trained
# without flags records the factor count that --help printed). No data set
# needed.
set -u
. "$(dirname "$0")/lib.bash"

expect_rc 0 "$F" --version
grep -q '^facto [0-9]' "$TMP/out" || fail "--version"
expect_rc 0 "$F" help
for c in train eval predict recommend similar inspect datasets convert events; do
    grep -q "^  $c " "$TMP/out" || fail "help does not list $c"
done
for c in train "train --model mf" "train --model fm" eval predict recommend similar inspect datasets convert events; do
    # shellcheck disable=SC2086
    expect_rc 0 "$F" $c --help
    grep -q "^Usage: facto $c" "$TMP/out" || fail "$c --help has no usage line"
    # Every option line ("  --name ..." or "  -k, --k") ends up mentioning a default,
    # except --help itself and options that are flags of the action words.
    awk '/^  -/ { if (cur != "" && !ok) { print cur; bad = 1 } cur = $1; ok = 0 }
         /default|required/ { ok = 1 } /^  -h, --help/ { cur = "" }
         /^$/ { if (cur != "" && !ok) { print cur; bad = 1 } cur = "" }
         END { if (cur != "" && !ok) { print cur; bad = 1 } exit bad }' "$TMP/out" \
        || fail "$c --help: an option without its default"
    # shellcheck disable=SC2086
    expect_rc 0 "$F" help $c
done
expect_rc 0 "$F" train --model mf --help
factors=$(grep -- '--factors' "$TMP/out" | sed 's/.*default \([0-9]*\).*/\1/')
epochs=$(grep -- '--epochs' "$TMP/out" | sed 's/.*default \([0-9]*\).*/\1/')
[ -n "$factors" ] && [ -n "$epochs" ] || fail "train --help lacks --factors/--epochs defaults"
# A model trained with default flags has that many factors: its predictions
# change when trained with --factors equal to the printed default? They must not.
printf '%s\n' "a	x	5" "a	y	1" "b	x	4" "b	z	2" "c	y	3" "c	z	5" >"$TMP/r.tsv"
"$F" train --train "$TMP/r.tsv" --epochs 3 --out "$TMP/d.facto" >/dev/null 2>&1 || fail "train defaults"
"$F" train --train "$TMP/r.tsv" --epochs 3 --factors "$factors" --out "$TMP/e.facto" >/dev/null 2>&1 \
    || fail "train --factors $factors"
cmp -s "$TMP/d.facto" "$TMP/e.facto" || fail "--factors default $factors printed by --help is not the library's"
echo ok
