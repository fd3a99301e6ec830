#!/usr/bin/env bash
# bench/mpi.sh — distributed training throughput (docs/distributed.md):
# `facto train --distributed` of mf (DSGD) on a synthetic .fds set (`facto
# datasets synth`, 2M ratings by default: 40,000 users x 10,000 items) with
# 1, 2 and 4 ranks (4 oversubscribed on a 2-core machine), and fm
# (synchronous mini-batches; then optimizer sgd with batches of 100,
# synchronous and asynchronous) on MovieLens 100K u1 one-hot with 1 and 2
# ranks when FACTO_DATA_HOME has it. Prints, per rank count, the median over the
# epochs of the updates per second (ratings or rows of all ranks / epoch
# wall time), the bytes all ranks sent per epoch (counted by facto: the item
# blocks passed around, the allreduced gradients), the training seconds and
# an RMSE (mf: the last epoch's running training RMSE, as the .fds shards
# are never read whole; fm: u1.test). Then ials (users and items sharded, the
# Gram matrix all-reduced) on the same sizes of synthetic implicit data
# (--implicit) with 1, 2 and 4 ranks: interactions per second, bytes per
# iteration against the formula (P - 1) (users + items) k 4 + 2 P k^2 4 +
# 20 P, the bytes of the whole run (the one exchange of the interactions to
# their items' ranks and the final gather included), seconds, last loss.
# The single-process `facto train --threads 1` runs the same fit as a
# reference. The machine may be shared: the load average is printed.
# Usage: bench/mpi.sh [RATINGS=2000000] [EPOCHS=5] [K=32]
#   (FACTO_BIN: the facto built with -DFACTO_WITH_MPI=ON, default build-mpi/facto)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
facto=${FACTO_BIN:-$here/build-mpi/facto}
ratings=${1:-2000000} epochs=${2:-5} k=${3:-32}
users=$((ratings / 50)) items=$((ratings / 200))
dir=$(mktemp -d "${TMPDIR:-/tmp}/facto-mpi-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mpi() { local np=$1; shift; mpirun --oversubscribe --allow-run-as-root -np "$np" "$@"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# Median updates/s and bytes per epoch from the epoch lines of a run's output.
summary() {
  local out=$1 ups bytes secs rmse
  ups=$(awk '/^epoch /{for (i = 1; i <= NF; i++) if ($i == "updates/s,") print $(i - 1)}' "$out" | median)
  bytes=$(awk '/^trained in/{print $(NF-3), $(NF-2)}' "$out" | tr -d '(')
  secs=$(awk '/^trained in/{print $3}' "$out")
  rmse=$(awk '$1 == "test:" {print "test " $3 + 0}' "$out")
  [ -n "$rmse" ] || rmse=$(awk '/^epoch /{r = $5} END {print "train (running) " r}' "$out")
  printf '  %-28s %10.3gM updates/s  %10s/epoch  %6.2f s  rmse %s\n' "$2" "$(awk -v u="$ups" 'BEGIN{print u/1e6}')" \
    "$bytes" "$secs" "$rmse"
}
echo "machine: $(uname -m), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mf (DSGD): synthetic $users users x $items items x $ratings ratings, k $k, $epochs epochs"
"$facto" datasets synth --users "$users" --items "$items" --ratings "$ratings" --seed 1 --out "$dir/s.fds" >/dev/null
HP=(--factors "$k" --epochs "$epochs" --seed 1)
t0=$(date +%s.%N)
"$facto" train --train "$dir/s.fds" "${HP[@]}" --threads 1 >"$dir/one.out"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" '/ratings\/s over/ {printf "  %-28s %10.3gM updates/s  (whole command %.2f s)\n", "one process, 1 thread", $(NF-4)/1e6, b-a}' "$dir/one.out"
for np in 1 2 4; do
  mpi "$np" "$facto" train --distributed --train "$dir/s.fds" "${HP[@]}" >"$dir/np$np.out"
  summary "$dir/np$np.out" "$np rank(s), .fds shards"
done
echo "  load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -f "${FACTO_DATA_HOME:-}/ml-100k/u1.base" ]; then
  echo "fm (synchronous mini-batches): ml-100k u1 one-hot, k 8, 10 epochs, mini_batch_size 1000"
  FHP=(--model fm --predictor_type regressor --dataset ml-100k --split u1 --epochs 10 --num_factors 8 --seed 1)
  for np in 1 2; do
    mpi "$np" "$facto" train --distributed "${FHP[@]}" >"$dir/fm$np.out"
    summary "$dir/fm$np.out" "$np rank(s)"
  done
  echo "fm, optimizer sgd, mini_batch_size 100: synchronous against asynchronous (DiFacto-style, --async)"
  SHP=("${FHP[@]}" --optimizer sgd --mini_batch_size 100 --bias_lr 0.2 --linear_lr 0.2 --factors_lr 0.2)
  for np in 1 2; do
    mpi "$np" "$facto" train --distributed "${SHP[@]}" >"$dir/fs$np.out"
    summary "$dir/fs$np.out" "$np rank(s), synchronous"
  done
  mpi 2 "$facto" train --distributed --async "${SHP[@]}" >"$dir/fa2.out"
  summary "$dir/fa2.out" "2 ranks, asynchronous"
  echo "  load $(cut -d' ' -f1-3 /proc/loadavg)"
fi
echo "ials (users and items sharded, Gram all-reduced): synthetic implicit $users users x $items items x $ratings" \
  "interactions, k $k, $epochs iterations"
"$facto" datasets synth --implicit --users "$users" --items "$items" --ratings "$ratings" --seed 1 \
  --out "$dir/i.fds" >/dev/null
IHP=(--model ials --num_factors "$k" --epochs "$epochs" --seed 1)
"$facto" train --train "$dir/i.fds" "${IHP[@]}" --threads 1 >"$dir/ione.out" 2>/dev/null
awk '/ratings\/s over/ {printf "  %-28s %10.3gM interactions/s  %6.2f s\n", "one process, 1 thread", $(NF-4)/1e6, $4}' \
  "$dir/ione.out"
for np in 1 2 4; do
  mpi "$np" "$facto" train --distributed --train "$dir/i.fds" "${IHP[@]}" >"$dir/ials$np.out" 2>/dev/null
  ips=$(awk '/^epoch /{for (i = 1; i <= NF; i++) if ($i == "interactions/s,") print $(i - 1)}' "$dir/ials$np.out" |
    median)
  per=$(awk '/^trained in/{print $(NF-3), $(NF-2)}' "$dir/ials$np.out" | tr -d '(')
  all=$(awk '/^trained in/{print $6, $7}' "$dir/ials$np.out")
  secs=$(awk '/^trained in/{print $3}' "$dir/ials$np.out")
  loss=$(awk '/^epoch /{l = $5} END {print l}' "$dir/ials$np.out")
  want=$(awk -v p="$np" -v u="$users" -v i="$items" -v k="$k" \
    'BEGIN {b = (p - 1) * (u + i) * k * 4 + (p > 1 ? 2 * p * k * k * 4 + 20 * p : 0); printf "%.4g MB", b / 1e6}')
  printf '  %-28s %10.3gM interactions/s  %10s/iteration (formula %s)  %10s in all  %6.2f s  loss %s\n' \
    "$np rank(s), .fds shards" "$(awk -v u="$ips" 'BEGIN{print u/1e6}')" "$per" "$want" "$all" "$secs" "$loss"
done
echo "  load $(cut -d' ' -f1-3 /proc/loadavg)"
