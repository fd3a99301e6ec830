#!/bin/bash
# test_recipes.sh — runs every recipe of README.md against examples/ and checks
# the output the README shows, so the README cannot drift from the tool.
#
# A recipe is a code block fenced as ```sh recipe (GitHub shows it as sh).
# When the next block after it (blank lines aside) is fenced as ```text, that
# block is the recipe's expected output, trimmed: its lines must appear in the
# output of the recipe's commands (stdout and stderr together), in that
# order, with runs of spaces counted as one; a line "..." only marks a cut.
# Numbers written with a point or an exponent may differ by 0.5% + 0.005
# (FACTO_RECIPE_TOL=REL,ABS), other text (ids, counts) must be equal; a line
# ending in " ..." needs only to begin the output's line; a request_id's
# value is not compared.
# The recipes run in order in one shell (a server started in one block serves
# the next), in a scratch folder holding build/facto (this $FACTO_BIN) and
# examples/ (the repository's), as a user's clone would; port 8080 becomes
# a free one. `FACTO_BIN=build/facto bash tests/cli/test_recipes.sh --show` prints
# each block's output (to update the README after a deliberate change).
. "$(dirname "$0")/lib.bash"
SRC=${FACTO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
README=$SRC/README.md
SHOW=0
[ "${1:-}" = --show ] && SHOW=1
command -v curl >/dev/null || { echo "skip: no curl" >&2; exit 77; }
IFS=, read -r TOL_REL TOL_ABS <<<"${FACTO_RECIPE_TOL:-0.005,0.005}"

# Blocks: $TMP/rN.sh (commands) and, when shown, $TMP/rN.want.
n=$(awk -v dir="$TMP" '
    /^```sh recipe[ \t]*$/ { n++; out = dir "/r" n ".sh"; inblk = 1; printf "" > out; next }
    inblk && /^```[ \t]*$/ { inblk = 0; close(out); after = 1; next }
    inblk { print > out; next }
    after && /^[ \t]*$/ { next }
    after && /^```text[ \t]*$/ { want = dir "/r" n ".want"; inwant = 1; after = 0; printf "" > want; next }
    { after = 0 }
    inwant && /^```[ \t]*$/ { inwant = 0; close(want); next }
    inwant { print > want }
    END { print n + 0 }' "$README")
[ "$n" -ge 6 ] || fail "README.md has $n recipe blocks (\`\`\`sh recipe), want at least 6"

W=$TMP/w
mkdir -p "$W/build"
ln -s "$(cd "$(dirname "$F")" && pwd)/$(basename "$F")" "$W/build/facto"
ln -s "$SRC/examples" "$W/examples"
PORT=$((20000 + $$ % 20000))
# a port nothing answers on (a busy one would fail `facto serve`)
while curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null || [ $? -ne 7 ]; do PORT=$((PORT + 1)); done

# One script runs every block, each block's output to rN.out and its exit
# code to rN.rc. Blocks with a background server run in the main shell (so it outlives the
# block); the others in a subshell with set -e.
{
    for i in $(seq 1 "$n"); do
        if grep -q '&[[:space:]]*\(server=\|$\)' "$TMP/r$i.sh"; then
            echo "{"
            sed "s/8080/$PORT/g" "$TMP/r$i.sh"
            echo "} >'$TMP/r$i.out' 2>&1 </dev/null; echo \$? >'$TMP/r$i.rc'"
        else
            echo "( set -e"
            sed "s/8080/$PORT/g" "$TMP/r$i.sh"
            echo ") >'$TMP/r$i.out' 2>&1 </dev/null; echo \$? >'$TMP/r$i.rc'"
        fi
    done
    echo 'kill $(jobs -p) 2>/dev/null; wait'
} >"$TMP/all.sh"

(cd "$W" && timeout 120 bash "$TMP/all.sh") || fail "the recipes did not finish (exit $?)"

# match WANT OUT: every line of WANT, in order, in OUT (numbers within tolerance)
match() {
    awk -v rel="$TOL_REL" -v abs="$TOL_ABS" -v wantf="$1" '
    function norm(s) {
        gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s)
        gsub(/"request_id": "[^"]*"/, "\"request_id\": \"\"", s)   # differs every run
        return s
    }
    # skel: s with each decimal number replaced by "#", the numbers in nums[1..]
    function skel(s, nums,    out, k, pre, num) {
        out = ""; k = 0
        while (match(s, /[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+/)) {
            pre = substr(s, 1, RSTART - 1); num = substr(s, RSTART, RLENGTH)
            # a sign belongs to the number
            if (pre ~ /-$/ && (length(pre) == 1 || substr(pre, length(pre) - 1, 1) ~ /[ :,\[(]/)) {
                pre = substr(pre, 1, length(pre) - 1); num = "-" num
            }
            nums[++k] = num + 0; out = out pre "#"; s = substr(s, RSTART + RLENGTH)
        }
        nums[0] = k
        return out s
    }
    function same(w, a,    sw, sa, i, d, lim, pre) {
        split("", wn); split("", an)
        pre = w ~ / \.\.\.$/
        if (pre) w = substr(w, 1, length(w) - 4)
        sw = skel(w, wn); sa = skel(a, an)
        if (pre) { if (substr(sa, 1, length(sw)) != sw || an[0] < wn[0]) return 0 }
        else if (sw != sa || wn[0] != an[0]) return 0
        for (i = 1; i <= wn[0]; i++) {
            d = wn[i] - an[i]; if (d < 0) d = -d
            lim = wn[i] < 0 ? -wn[i] : wn[i]
            if (d > abs + rel * lim) return 0
        }
        return 1
    }
    { got[++ng] = norm($0) }
    END {
        pos = 1
        while ((getline w < wantf) > 0) {
            w = norm(w)
            if (w == "" || w == "...") continue
            for (j = pos; j <= ng; j++) if (same(w, got[j])) break
            if (j > ng) { print "expected line not found (in order): " w; exit 1 }
            pos = j + 1
        }
    }'
}

bad=0
for i in $(seq 1 "$n"); do
    rc=$(cat "$TMP/r$i.rc" 2>/dev/null || echo missing)
    if [ "$SHOW" = 1 ]; then
        echo "=== recipe block $i (exit $rc)"; cat "$TMP/r$i.sh"; echo "--- output"; cat "$TMP/r$i.out"
    fi
    if [ "$rc" != 0 ]; then
        echo "recipe block $i exited $rc:" >&2; cat "$TMP/r$i.sh" "$TMP/r$i.out" >&2; bad=1; continue
    fi
    [ -f "$TMP/r$i.want" ] && sed -i "s/8080/$PORT/g" "$TMP/r$i.want"
    if [ -f "$TMP/r$i.want" ] && ! match "$TMP/r$i.want" <"$TMP/r$i.out" >"$TMP/why" ; then
        echo "recipe block $i: $(cat "$TMP/why")" >&2
        echo "--- commands" >&2; cat "$TMP/r$i.sh" >&2; echo "--- output" >&2; cat "$TMP/r$i.out" >&2
        bad=1
    fi
done
[ "$bad" = 0 ] || fail "a README recipe differs from the tool (README.md, \`\`\`sh recipe blocks; tests/cli/test_recipes.sh --show prints what each block prints now)"
echo "ok: $n README recipe blocks ran and showed their output"
