#!/bin/bash
# test_docs.sh — README.md and docs/*.md stand on their own in a clone:
# every relative Markdown link resolves to a file or folder of the repository
# (no absolute path, no link leaving the repository, no link to the web from
# docs/), and every repository path they name in backquotes (`bench/fm.sh`,
# `src/models/`, `examples/ratings.csv`) exists, unless the line says the
# thing is planned. Placeholders (`src/X/`, `fit_<kind>.c`, `factors.{c,h}`)
# are not paths. Needs no facto binary.
SRC=${FACTO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRC" || exit 1
bad=0
err() { echo "FAIL: $*" >&2; bad=1; }
shopt -s nullglob
for f in README.md docs/*.md examples/README.md; do
    [ -f "$f" ] || continue
    dir=$(dirname "$f")
    # Markdown links [text](target), outside code blocks and code spans
    while IFS=: read -r line target; do
        case $target in
        http://* | https://*)
            [ "$f" = README.md ] || err "$f:$line: links outside the repository: $target"
            continue ;;
        mailto:* | '#'*) continue ;;
        /*) err "$f:$line: absolute path $target"; continue ;;
        esac
        t=${target%%#*}
        [ -n "$t" ] || continue
        [ -e "$dir/$t" ] || { err "$f:$line: link to $target, which does not exist"; continue; }
        real=$(cd "$(dirname "$dir/$t")" && pwd -P)
        case $real/ in "$(pwd -P)"/*) ;; *) err "$f:$line: $target leaves the repository" ;; esac
    done < <(awk '/^```/ { code = !code; next } !code {
            s = $0; gsub(/`[^`]*`/, "", s)
            while (match(s, /\]\([^)]*\)/)) { print FNR ":" substr(s, RSTART + 2, RLENGTH - 3); s = substr(s, RSTART + RLENGTH) }
        }' "$f")
    # repository paths in backquotes, in text and code alike
    while IFS=: read -r line p; do
        case $p in *'<'* | *'{'* | *'*'* | src/X/*) continue ;; esac
        p=${p%.}
        [ -e "$p" ] || [ -e "${p%/}" ] || [ -e "$dir/$p" ] || compgen -G "$p*" >/dev/null ||
            err "$f:$line: names $p, which is not in the repository"
    done < <(awk '{
            s = $0
            if (s ~ /planned/) next
            while (match(s, /`[^`]*`/)) {
                span = substr(s, RSTART + 1, RLENGTH - 2); s = substr(s, RSTART + RLENGTH)
                n = split(span, w, /[ \t=,;()"'"'"']+/)
                for (i = 1; i <= n; i++)
                    if (w[i] ~ /^(bench|docs|src|tests|examples|scripts|include|cli|cmake)\/[A-Za-z0-9_.\/<>{}*-]*$/) print FNR ":" w[i]
            }
        }' "$f")
done
[ "$bad" = 0 ] || exit 1
echo "ok: links and repository paths in README.md, docs/*.md and examples/README.md resolve"
