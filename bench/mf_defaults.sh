#!/usr/bin/env bash
# bench/mf_defaults.sh — the validation study behind MF's default optimizer
# and schedule (issue 10; docs/benchmarks.md "MF defaults"). Never reads a
# test file: every validation set is carved out of a training file, every
# 10th line held out:
#   ml1..ml5  ml-100k u1.base..u5.base (72,000 train / 8,000 validation)
#   s2m       `facto datasets synth --users 20000 --items 5000
#             --ratings 2000000 --seed 11` (half stars, 100 ratings a user)
#   s2i       the same set rounded to integer stars 1..5
#   sp1m      `--users 100000 --items 20000 --ratings 1000000 --seed 12`
#             (sparse: 10 ratings a user)
# (seeds other than the LIBMF comparison's 7). Each SETTING is trained at
# the defaults' schedule (k 512, 60 epochs) and at issue 10's (k 64, 10
# epochs), one thread, seeds 1..SEEDS; printed: validation RMSE per data
# set (ml: mean over the 5 bases) as the mean over seeds and its range.
#
# Usage: bench/mf_defaults.sh [SEEDS=3] 'NAME:FLAGS' ...
#   e.g. bench/mf_defaults.sh 3 'default:' 'sgd-0.05-0.9:--lr 0.05 --lr-decay 0.9'
#   or the initial scale: SHAPES=64:10 bench/mf_defaults.sh 1 'default:' 'i0.1:--init-std 0.1'
# (one FLAGS serve every shape; for a scale that depends on k run each
# shape on its own, SHAPES=..., into the same BENCH_DIR under one NAME)
# Data and results in $BENCH_DIR (default a temp folder; about 100 MB);
# needs FACTO_DATA_HOME with ml-100k (else the synthetic sets only).
# Cost: about 3 CPU minutes per setting and seed (k 512 on the synthetic
# sets dominates); SETS="ml s2m" narrows the data sets, SHAPES="64:10"
# the schedules.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${FACTO_BIN:-$here/build/facto}
seeds=${1:-3}
shift || true
[ $# -gt 0 ] || set -- 'default:'
dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/facto-mf-defaults.XXXXXX")}
mkdir -p "$dir/out"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
sets=${SETS:-ml s2m s2i sp1m}
shapes=${SHAPES:-512:60 64:10}

# carve FILE NAME: every 10th line to NAME.val, the others to NAME.tr
carve() {
    awk -v OFS='\t' -v tr="$dir/$2.tr" -v va="$dir/$2.val" \
        'NR % 10 == 0 { print $1, $2, $3 > va; next } { print $1, $2, $3 > tr }' "$1"
}
ml=${FACTO_DATA_HOME:-}/ml-100k
for f in 1 2 3 4 5; do
    [ -s "$dir/ml$f.tr" ] || [ ! -f "$ml/u$f.base" ] || carve "$ml/u$f.base" "ml$f"
done
if [ ! -s "$dir/s2m.tr" ]; then
    "$facto" datasets synth --users 20000 --items 5000 --ratings 2000000 --seed 11 --out "$dir/s2m.tsv" >/dev/null
    carve "$dir/s2m.tsv" s2m
    awk -v OFS='\t' '{ r = int($3 + 0.5); if (r < 1) r = 1; print $1, $2, r }' "$dir/s2m.tsv" > "$dir/s2i.tsv"
    carve "$dir/s2i.tsv" s2i
    "$facto" datasets synth --users 100000 --items 20000 --ratings 1000000 --seed 12 --out "$dir/sp1m.tsv" >/dev/null
    carve "$dir/sp1m.tsv" sp1m
fi

# run NAME SET K EPOCHS SEED FLAGS: the validation RMSE into out/, once
run() {
    local o="$dir/out/$2.$1.k$3.e$4.s$5"
    [ -s "$o" ] && return 0
    [ -s "$dir/$2.tr" ] || return 0
    # shellcheck disable=SC2086
    "$facto" train --model mf --train "$dir/$2.tr" --test "$dir/$2.val" --threads 1 --seed "$5" \
        --factors "$3" --epochs "$4" $6 2>&1 |
        sed -n "s/^#test_score (algo-1) : ('rmse', \([0-9.]*\))$/\1/p" > "$o.tmp"
    if [ -s "$o.tmp" ]; then
        mv "$o.tmp" "$o"
    else
        echo "failed: $2 $1 k$3 e$4 seed $5: $6" >&2
        rm -f "$o.tmp"
    fi
}

for spec in "$@"; do
    name=${spec%%:*} flags=${spec#*:}
    for shape in $shapes; do
        for s in $sets; do
            for seed in $(seq 1 "$seeds"); do
                if [ "$s" = ml ]; then
                    for f in 1 2 3 4 5; do run "$name" "ml$f" "${shape%:*}" "${shape#*:}" "$seed" "$flags"; done
                else
                    run "$name" "$s" "${shape%:*}" "${shape#*:}" "$seed" "$flags"
                fi
            done
        done
    done
done

# the table: data set x setting, mean over seeds (of the mean over ml's 5 bases) and range
for shape in $shapes; do
    echo "k ${shape%:*}, ${shape#*:} epochs: validation RMSE, mean over seeds 1-$seeds [min-max]"
    for spec in "$@"; do
        name=${spec%%:*}
        line=$(printf '%-24s' "$name")
        for s in $sets; do
            vals=""
            for seed in $(seq 1 "$seeds"); do
                if [ "$s" = ml ]; then
                    v=$(cat "$dir"/out/ml[1-5]."$name".k"${shape%:*}".e"${shape#*:}".s"$seed" 2>/dev/null |
                        awk '{ t += $1; n++ } END { if (n == 5) printf "%.6f", t / n }')
                else
                    v=$(cat "$dir/out/$s.$name.k${shape%:*}.e${shape#*:}.s$seed" 2>/dev/null || true)
                fi
                [ -n "$v" ] && vals="$vals $v"
            done
            line="$line  $s $(echo "$vals" | awk '{ if (NF == 0) { printf "-"; exit }
                lo = $1; hi = $1; t = 0; for (i = 1; i <= NF; i++) { t += $i; if ($i < lo) lo = $i; if ($i > hi) hi = $i }
                printf "%.4f [%.4f-%.4f]", t / NF, lo, hi }')"
        done
        echo "$line"
    done
done
