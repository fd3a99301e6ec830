#!/usr/bin/env bash
# test_ials_dist.sh — `facto train --distributed --model ials`
# (src/dist/ials_dist.c: users and items sharded, the Gram matrix
# all-reduced) under mpirun, oversubscribed, on MovieLens 100K u1 as
# implicit feedback:
# - one rank gives the single-process model byte for byte (CG and exact
#   solver, from text and from .fds shards): every sum is then in the single
#   process's order (the Gram matrix of one rank's rows is all of it);
# - 2 and 3 ranks differ only in the summation order of the Gram matrices:
#   every test pair's score within 1e-4 of one rank's (measured: 3e-5 at
#   most) and NDCG@10, precision@10 within 0.005 of the single process;
#   the .fds shards give the same bytes as the text input;
# - the bytes per iteration are the formula of docs/distributed.md,
#   (P - 1) (n_users + n_items) k 4 + 2 P k^2 4 + 20 P;
# - the model serves eval and recommend; bad settings end every rank with
#   an error and no model file. Label mpi (ctest -L mpi), ~30 s on 2 cores.
set -uo pipefail
. "$(dirname "$0")/../cli/lib.bash"
MPI=${FACTO_MPIEXEC:-mpirun}
mpi() { local np=$1; shift; timeout 120 "$MPI" --oversubscribe --allow-run-as-root -np "$np" "$@"; }
metric() { "$F" eval --model "$1" --test "$ML/u1.test" 2>/dev/null | awk -v m="$2" '$1 == m {print $2}'; }
# |a - b| <= bound
within() { [ -n "$1" ] && [ -n "$2" ] || fail "nothing to compare ('$1', '$2')"; awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# largest |score difference| of two models over the u1.test pairs
maxdiff() {
    "$F" predict --model "$1" --input "$ML/u1.test" >"$TMP/a.pred" 2>/dev/null || fail "predict $1"
    "$F" predict --model "$2" --input "$ML/u1.test" >"$TMP/b.pred" 2>/dev/null || fail "predict $2"
    [ "$(wc -l <"$TMP/a.pred")" -eq 20000 ] || fail "predict $1: $(wc -l <"$TMP/a.pred") lines, not 20000"
    paste "$TMP/a.pred" "$TMP/b.pred" | awk '{ d = $3 - $6; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g\n", m }'
}

need_ml100k
"$F" convert --input "$ML/u1.base" --to fds --out "$TMP/u1.fds" >/dev/null 2>&1 || fail "convert u1.base"
HP=(--model ials --num_factors 32 --epochs 8 --seed 1)
TRAIN=(--dataset ml-100k --split u1)

# --- one rank: the single-process model, byte for byte ---
for solver in 3 0; do
    "$F" train "${TRAIN[@]}" "${HP[@]}" --cg_steps $solver --threads 1 --out "$TMP/one$solver.facto" \
        >"$TMP/one$solver.out" 2>/dev/null || fail "single-process ials (cg_steps $solver)"
    mpi 1 "$F" train --distributed "${TRAIN[@]}" "${HP[@]}" --cg_steps $solver --out "$TMP/np1_$solver.facto" \
        >"$TMP/np1_$solver.out" 2>/dev/null || fail "np 1 ials (cg_steps $solver)"
    cmp -s "$TMP/one$solver.facto" "$TMP/np1_$solver.facto" ||
        fail "cg_steps $solver: one rank trained another model than one process"
    # the same objective on every iteration line
    diff <(awk '/^epoch/ { print $5 }' "$TMP/one$solver.out") \
         <(awk '/^epoch/ { print $5 }' "$TMP/np1_$solver.out") >/dev/null ||
        fail "cg_steps $solver: the train loss lines differ: $(grep '^epoch' "$TMP/np1_$solver.out")"
done
grep -q "^epoch 8/8: train loss [0-9.]* (per pair), .* 0 B sent$" "$TMP/np1_3.out" ||
    fail "np 1: no loss line: $(cat "$TMP/np1_3.out")"
mpi 1 "$F" train --distributed --train "$TMP/u1.fds" "${HP[@]}" --out "$TMP/np1f.facto" >"$TMP/np1f.out" 2>&1 ||
    fail "np 1 on u1.fds: $(cat "$TMP/np1f.out")"
grep -q "read in 1 shards by offset" "$TMP/np1f.out" || fail "np 1 did not read the .fds file by shards"
cmp -s "$TMP/one3.facto" "$TMP/np1f.facto" || fail "np 1 from .fds: another model than one process"

# --- 2 and 3 ranks: only the Gram matrices' summation order differs ---
ndcg1=$(metric "$TMP/one3.facto" ndcg@10) prec1=$(metric "$TMP/one3.facto" precision@10)
for np in 2 3; do
    mpi $np "$F" train --distributed "${TRAIN[@]}" "${HP[@]}" --out "$TMP/np$np.facto" >"$TMP/np$np.out" 2>/dev/null ||
        fail "np $np ials"
    d=$(maxdiff "$TMP/one3.facto" "$TMP/np$np.facto")
    ndcg=$(metric "$TMP/np$np.facto" ndcg@10) prec=$(metric "$TMP/np$np.facto" precision@10)
    echo "u1 ials k 32: np $np scores within $d of one process; ndcg@10 $ndcg ($ndcg1), precision@10 $prec ($prec1)"
    within "$d" 0 1e-4 || fail "np $np: a test pair's score moved by $d (bound 1e-4)"
    within "$ndcg" "$ndcg1" 0.005 || fail "np $np: ndcg@10 $ndcg, single process $ndcg1"
    within "$prec" "$prec1" 0.005 || fail "np $np: precision@10 $prec, single process $prec1"
    # (P - 1) (943 + 1650) 32 4 + 2 P 32^2 4 + 20 P bytes an iteration
    want=$(( (np - 1) * 2593 * 128 + 2 * np * 4096 + 20 * np ))
    got=$(awk '/^epoch 8\/8/ { print $(NF - 2), $(NF - 1) }' "$TMP/np$np.out")
    want_text=$(awk -v b="$want" 'BEGIN { printf "%.1f kB", b / 1e3 }')
    [ "$got" = "$want_text" ] || fail "np $np: $got an iteration, formula $want_text ($want B)"
    mpi $np "$F" train --distributed --train "$TMP/u1.fds" "${HP[@]}" --out "$TMP/npf$np.facto" \
        >"$TMP/npf$np.out" 2>&1 || fail "np $np on u1.fds: $(cat "$TMP/npf$np.out")"
    grep -q "read in $np shards by offset" "$TMP/npf$np.out" || fail "np $np: the .fds file was not read in shards"
    cmp -s "$TMP/np$np.facto" "$TMP/npf$np.facto" || fail "np $np: .fds shards and text trained different models"
done
# the exact solver on 3 ranks
mpi 3 "$F" train --distributed "${TRAIN[@]}" "${HP[@]}" --cg_steps 0 --out "$TMP/np3e.facto" >/dev/null 2>&1 ||
    fail "np 3 exact"
d=$(maxdiff "$TMP/one0.facto" "$TMP/np3e.facto")
within "$d" 0 1e-4 || fail "np 3, cg_steps 0: a test pair's score moved by $d (bound 1e-4)"

# the gathered model is an ordinary ials model: recommend leaves each user's training items out
"$F" recommend --model "$TMP/np3.facto" --user 1 -k 10 >"$TMP/rec.out" 2>/dev/null || fail "recommend from np 3"
awk 'NR > 1 { print $2 }' "$TMP/rec.out" | sort >"$TMP/rec"
[ "$(wc -l <"$TMP/rec")" -eq 10 ] || fail "recommend: $(cat "$TMP/rec.out")"
awk -F'\t' '$1 == 1 { print $2 }' "$ML/u1.base" | sort -u >"$TMP/seen"
[ -z "$(comm -12 "$TMP/rec" "$TMP/seen")" ] || fail "recommend from np 3 listed an item user 1 had in training"

# --- errors end every rank, with the message, and leave no model ---
expect_rc 1 mpi 2 "$F" train --distributed "${TRAIN[@]}" --model ials --reg 0 --out "$TMP/x.facto"
expect_err "reg"
expect_rc 1 mpi 2 "$F" train --distributed --async "${TRAIN[@]}" --model ials --out "$TMP/x.facto"
expect_err "async"
expect_rc 2 mpi 2 "$F" train --distributed --model ials --train "$TMP/none.fds" --out "$TMP/x.facto"
expect_err "none.fds"
[ ! -e "$TMP/x.facto" ] || fail "a failed distributed fit left a model file"
echo "ok"
