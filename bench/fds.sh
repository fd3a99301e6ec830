#!/usr/bin/env bash
# bench/fds.sh — the compact data set file at MovieLens-20M's shape (issue
# 10's targets: <= 64 MB on disk, 3.2 bytes a rating, opened in < 0.1 s).
# Generates 138,493 users x 27,278 items x 20,000,263 half-star ratings with
# `facto datasets synth --seed 1` (seconds and peak RSS of the generation),
# then prints the file size, bytes a rating, and, over RUNS separate
# processes of bench/fds_open.c (medians): the seconds to map and verify the
# file (mmap + XXH64 + directory checks), to load it as a data set (verify +
# decode the 2-byte items and 1-byte codes to int32 / float + id views),
# and the peak RSS of that process; wall and CPU seconds (on a shared
# machine the CPU figure is the steadier one). The same for ml-100k's u.data as text
# and as .fds when FACTO_DATA_HOME has it. The machine may be shared: the
# load average is printed around each part.
# Usage: bench/fds.sh [RUNS=3]   (files go to $FDS_DIR, default a temp folder)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${FACTO_BIN:-$here/build/facto}
open=${FDS_OPEN:-$here/build/bench/fds_open}
runs=${1:-3}
dir=${FDS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/facto-fds-bench.XXXXXX")}
[ -n "${FDS_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
echo "machine: $(uname -m), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

# One file: size, bytes a rating, medians of verify / load seconds, peak RSS.
report() {
  local label=$1 file=$2 n size out v=() l=() r=() vc=() lc=()
  for i in $(seq 1 "$runs"); do
    out=$("$open" "$file")
    v+=("$(awk '{print $2}' <<<"$out")"); l+=("$(awk '{print $4}' <<<"$out")"); r+=("$(awk '{print $8}' <<<"$out")")
    vc+=("$(awk '{print $10}' <<<"$out")"); lc+=("$(awk '{print $12}' <<<"$out")")
    n=$(awk '{print $6}' <<<"$out")
  done
  size=$(stat -c %s "$file")
  printf '%-22s %11d bytes (%6.2f MB), %5.2f bytes/rating; verify %s s (CPU %s), load %s s (CPU %s) (medians of %d); peak RSS %s MB\n' \
    "$label" "$size" "$(awk -v s="$size" 'BEGIN {print s / 1e6}')" "$(awk -v s="$size" -v n="$n" 'BEGIN {print s / n}')" \
    "$(printf '%s\n' "${v[@]}" | median)" "$(printf '%s\n' "${vc[@]}" | median)" \
    "$(printf '%s\n' "${l[@]}" | median)" "$(printf '%s\n' "${lc[@]}" | median)" "$runs" \
    "$(printf '%s\n' "${r[@]}" | median | awk '{printf "%.1f", $1 / 1024}')"
}

big=$dir/ml20m-shape.fds
gen=$( { /usr/bin/time -f '%e %M' "$facto" datasets synth --users 138493 --items 27278 --ratings 20000263 --seed 1 \
         --out "$big" >/dev/null; } 2>&1 | tail -n1)
echo "synth 20,000,263 ratings: $(cut -d' ' -f1 <<<"$gen") s, peak RSS $(awk '{printf "%.0f", $2 / 1024}' <<<"$gen") MB;" \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
report "ml-20m shape .fds" "$big"
if [ -n "${FACTO_DATA_HOME:-}" ] && [ -f "$FACTO_DATA_HOME/ml-100k/u.data" ]; then
  "$facto" convert --train "$FACTO_DATA_HOME/ml-100k/u.data" --to fds --out "$dir/u.fds" >/dev/null
  report "ml-100k u.data (text)" "$FACTO_DATA_HOME/ml-100k/u.data"
  report "ml-100k u.data .fds" "$dir/u.fds"
else
  echo "ml-100k: FACTO_DATA_HOME has no ml-100k/u.data; skipped"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
