#!/usr/bin/env bash
# bench/vs-libmf.sh — facto's blocked MF SGD next to LIBMF (Chin, Zhuang,
# Juan & Lin; the FPSG trainer facto's follows), issue 10's comparison:
# k 64, 10 epochs, 2 threads, on
#   - a synthetic set at MovieLens-20M's shape (`facto datasets synth
#     --users 138493 --items 27278 --ratings 20000263 --seed 7`), every 10th
#     line held out as the test set (18,000,237 train / 2,000,026 test);
#   - ml-100k u1.base / u1.test (when FACTO_DATA_HOME has ml-100k).
# Each tool runs with its own defaults otherwise (facto: lr 0.02, decay
# 0.96, reg 0.08 factors / 0.05 biases; LIBMF: eta 0.1 with its per-row
# adaptive rates, l2 0.1), both scoring the test set after every epoch
# (LIBMF -p); facto reads .fds files, LIBMF its text format. FACTO_FLAGS
# adds flags to facto's runs (e.g. "--lr 0.03"). SCALING=1 also times facto
# on the synthetic set at 1 thread against THREADS, alternately.
# Printed per tool, medians of RUNS runs taken alternately (facto, LIBMF,
# facto, ...): whole-process wall and CPU seconds, updates/s (ratings x
# epochs / wall seconds), peak RSS (/usr/bin/time -v) and test RMSE; facto
# also its own update seconds (sum of the epochs' update time); then the
# ratios facto/LIBMF. The load average is printed around each part: on a
# shared machine the wall figures move with it, CPU seconds less so.
#
# LIBMF is not part of facto; build it yourself, outside this repository:
#   get LIBMF's source (the repository cjlin1/libmf on GitHub), cd into it
#   make DFLAG="-DUSEAVX -DUSEOMP" CXXFLAGS="-Wall -O3 -pthread -std=c++0x -march=native -mavx -fopenmp"
# then LIBMF_TRAIN=/path/to/libmf/mf-train LIBMF_PREDICT=/path/to/libmf/mf-predict bench/vs-libmf.sh
# Without LIBMF_TRAIN only facto's figures are printed.
#
# Usage: bench/vs-libmf.sh [RUNS=3]   (data in $BENCH_DIR, default a temp
# folder; about 1.2 GB of text and .fds files; THREADS=2 EPOCHS=10 K=64)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${FACTO_BIN:-$here/build/facto}
runs=${1:-3}
threads=${THREADS:-2}
epochs=${EPOCHS:-10}
k=${K:-64}
libmf=${LIBMF_TRAIN:-}
libmf_predict=${LIBMF_PREDICT:-$(dirname "${libmf:-.}")/mf-predict}
dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/facto-vs-libmf.XXXXXX")}
mkdir -p "$dir"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(uname -m), $(nproc) cores; load $(load); k $k, $epochs epochs, $threads threads, $runs runs"

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# field of /usr/bin/time -v's report
tv() { grep "$1" "$2" | awk -F': ' '{print $2}'; }
secs() { # h:mm:ss or m:ss.ss -> seconds
  awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}'
}

# run_facto NAME TRAIN TEST NRATINGS -> one line: wall cpu rss_mb rmse update_s
run_facto() {
  local out=$dir/facto.$1.json err=$dir/facto.$1.err
  /usr/bin/time -v "$facto" train --train "$2" --test "$3" --factors "$k" --epochs "$epochs" \
    --threads "$threads" ${FACTO_FLAGS:-} --json >"$out" 2>"$err"
  local wall cpu rss rmse upd
  wall=$(tv "Elapsed (wall" "$err" | secs)
  cpu=$(awk -v u="$(tv 'User time' "$err")" -v s="$(tv 'System time' "$err")" 'BEGIN {print u + s}')
  rss=$(awk -v k="$(tv 'Maximum resident' "$err")" 'BEGIN {printf "%.0f", k / 1024}')
  rmse=$(grep -o '"test_rmse": [0-9.]*' "$out" | awk '{print $2}')
  upd=$(grep '^epoch' "$err" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+s$/) {sub(/s$/, "", $i); t += $i}} END {print t}')
  echo "$wall $cpu $rss $rmse $upd"
}

# run_libmf NAME TRAIN_TXT TEST_TXT -> wall cpu rss_mb rmse
run_libmf() {
  local err=$dir/libmf.$1.err model=$dir/libmf.$1.model
  /usr/bin/time -v "$libmf" -k "$k" -t "$epochs" -s "$threads" -p "$3" "$2" "$model" >"$dir/libmf.$1.out" 2>"$err"
  local wall cpu rss rmse
  wall=$(tv "Elapsed (wall" "$err" | secs)
  cpu=$(awk -v u="$(tv 'User time' "$err")" -v s="$(tv 'System time' "$err")" 'BEGIN {print u + s}')
  rss=$(awk -v k="$(tv 'Maximum resident' "$err")" 'BEGIN {printf "%.0f", k / 1024}')
  if [ -x "$libmf_predict" ]; then
    rmse=$("$libmf_predict" "$3" "$model" "$dir/libmf.$1.pred" | awk '/RMSE/ {print $NF}')
  else
    rmse=$(awk 'NF == 3 || NF == 4 {v = $3} END {print v}' "$dir/libmf.$1.out")
  fi
  echo "$wall $cpu $rss $rmse"
}

# compare NAME TRAIN_FDS TEST_FDS TRAIN_TXT TEST_TXT NRATINGS
compare() {
  local name=$1 n=$6 f=() l=() i
  echo
  echo "== $name: $n training ratings; load $(load)"
  for i in $(seq 1 "$runs"); do
    f+=("$(run_facto "$name" "$2" "$3")")
    [ -z "$libmf" ] || l+=("$(run_libmf "$name" "$4" "$5")")
  done
  col() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
  local fw fc fr fe fu
  fw=$(col 1 "${f[@]}"); fc=$(col 2 "${f[@]}"); fr=$(col 3 "${f[@]}"); fe=$(col 4 "${f[@]}"); fu=$(col 5 "${f[@]}")
  printf '%-7s %9s %9s %12s %9s %10s %12s\n' tool wall_s cpu_s updates/s rss_MB test_RMSE update_s
  printf '%-7s %9.2f %9.2f %12.0f %9d %10.4f %12.2f\n' facto "$fw" "$fc" \
    "$(awk -v n="$n" -v e="$epochs" -v w="$fw" 'BEGIN {print n * e / w}')" "$fr" "$fe" "$fu"
  if [ -n "$libmf" ]; then
    local lw lc lr le
    lw=$(col 1 "${l[@]}"); lc=$(col 2 "${l[@]}"); lr=$(col 3 "${l[@]}"); le=$(col 4 "${l[@]}")
    printf '%-7s %9.2f %9.2f %12.0f %9d %10.4f %12s\n' LIBMF "$lw" "$lc" \
      "$(awk -v n="$n" -v e="$epochs" -v w="$lw" 'BEGIN {print n * e / w}')" "$lr" "$le" -
    # ratios of the paired runs' medians: > 1 on speed = facto faster
    local ps=() pc=() j
    for j in $(seq 0 $((runs - 1))); do
      ps+=("$(awk -v a="$(echo "${f[$j]}" | cut -d' ' -f1)" -v b="$(echo "${l[$j]}" | cut -d' ' -f1)" 'BEGIN {print b / a}')")
      pc+=("$(awk -v a="$(echo "${f[$j]}" | cut -d' ' -f2)" -v b="$(echo "${l[$j]}" | cut -d' ' -f2)" 'BEGIN {print b / a}')")
    done
    echo "speed facto/LIBMF (median of paired runs): wall $(printf '%s\n' "${ps[@]}" | median)x," \
      "CPU $(printf '%s\n' "${pc[@]}" | median)x; RSS facto/LIBMF $(awk -v a="$fr" -v b="$lr" 'BEGIN {printf "%.2f", a / b}');" \
      "test RMSE facto - LIBMF $(awk -v a="$fe" -v b="$le" 'BEGIN {printf "%+.4f", a - b}')"
  fi
  echo "load after: $(load)"
}

# ---- the synthetic 20M set (made once per BENCH_DIR) ----
if [ ! -s "$dir/s20.test.fds" ]; then
  "$facto" datasets synth --users 138493 --items 27278 --ratings 20000263 --seed 7 --out "$dir/s20.tsv" >/dev/null
  awk -F'\t' -v tr="$dir/s20.train" -v te="$dir/s20.test" \
    'NR % 10 == 0 {print > te; next} {print > tr}' "$dir/s20.tsv"
  rm -f "$dir/s20.tsv"
  "$facto" convert --input "$dir/s20.train" --to fds --out "$dir/s20.train.fds" >/dev/null
  "$facto" convert --input "$dir/s20.test" --to fds --out "$dir/s20.test.fds" >/dev/null
fi
echo "data: s20.train.fds $(($(stat -c %s "$dir/s20.train.fds") / 1048576)) MB," \
  "s20.train (text) $(($(stat -c %s "$dir/s20.train") / 1048576)) MB"
compare synthetic-20M "$dir/s20.train.fds" "$dir/s20.test.fds" "$dir/s20.train" "$dir/s20.test" \
  "$(wc -l <"$dir/s20.train")"

# ---- facto on the synthetic set: 1 thread against $threads (SCALING=1) ----
# Alternating runs (1 thread, then $threads, ...); the speed-up is the median
# of the pairs' wall ratios, the whole process timed as above.
if [ "${SCALING:-0}" = 1 ] && [ "$threads" -gt 1 ]; then
  echo
  echo "== facto, 1 thread against $threads, synthetic-20M; load $(load)"
  one=() many=() r=()
  for i in $(seq 1 "$runs"); do
    one+=("$(threads=1 run_facto scaling1 "$dir/s20.train.fds" "$dir/s20.test.fds")")
    many+=("$(run_facto scaling "$dir/s20.train.fds" "$dir/s20.test.fds")")
    r+=("$(awk -v a="$(echo "${one[$((i - 1))]}" | cut -d' ' -f1)" \
      -v b="$(echo "${many[$((i - 1))]}" | cut -d' ' -f1)" 'BEGIN {print a / b}')")
  done
  col1() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
  printf '%-9s %9s %9s\n' threads wall_s cpu_s
  printf '%-9s %9.2f %9.2f\n' 1 "$(col1 1 "${one[@]}")" "$(col1 2 "${one[@]}")"
  printf '%-9s %9.2f %9.2f\n' "$threads" "$(col1 1 "${many[@]}")" "$(col1 2 "${many[@]}")"
  echo "speed-up $threads threads / 1 (median of paired runs' wall ratios): $(printf '%s\n' "${r[@]}" | median)x"
  echo "load after: $(load)"
fi

# ---- ml-100k u1 ----
ml=${FACTO_DATA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/facto}/ml-100k
if [ -s "$ml/u1.base" ]; then
  cut -f1-3 "$ml/u1.base" >"$dir/u1.base3"
  cut -f1-3 "$ml/u1.test" >"$dir/u1.test3"
  "$facto" convert --input "$ml/u1.base" --to fds --out "$dir/u1.base.fds" >/dev/null
  "$facto" convert --input "$ml/u1.test" --to fds --out "$dir/u1.test.fds" >/dev/null
  compare ml-100k-u1 "$dir/u1.base.fds" "$dir/u1.test.fds" "$dir/u1.base3" "$dir/u1.test3" 80000
else
  echo; echo "ml-100k not found under FACTO_DATA_HOME: u1 skipped"
fi
