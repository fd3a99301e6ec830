#!/usr/bin/env bash
# test_dsgd.sh — `facto train --distributed` for mf (DSGD, src/dist/dsgd_mf.c)
# under mpirun, oversubscribed: one rank, from text and from .fds input,
# trains as well as the single-process blocked SGD (within 0.01 train RMSE:
# another visiting order, so not the same bytes since FPSG replaced the
# per-rating loop there); 2 and 3 ranks stay within 0.005 test RMSE
# of the single-process run on MovieLens 100K u1 with the same settings
# (over seeds 1-5 they came out 0.0004-0.0013 above it);
# the .fds input read in shards gives the same accuracy; the saved model
# serves eval and recommend; a bad input or setting ends every rank with an
# error instead of a hang; reg_factors from odd data (ratings of 1e-30, all
# equal, one rating, one user) is the one process's on 1-3 ranks, text and
# .fds. Label mpi (ctest -L mpi), ~30 s on 2 cores.
set -uo pipefail
. "$(dirname "$0")/../cli/lib.bash"
MPI=${FACTO_MPIEXEC:-mpirun}
mpi() { local np=$1; shift; timeout 120 "$MPI" --oversubscribe --allow-run-as-root -np "$np" "$@"; }
rmse_of() { "$F" eval --model "$1" --test "$2" | awk '$1 == "RMSE" {print $2}'; }
reg_of() { "$F" inspect --model "$1" | sed -n 's/^ *reg_factors=//p'; }
# |a - b| <= bound
within() { [ -n "$1" ] && [ -n "$2" ] || fail "no RMSE to compare ('$1', '$2')"; awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# --- one rank, text and .fds: as good as one process ---
"$F" datasets synth --users 600 --items 300 --ratings 12000 --seed 5 --out "$TMP/s.fds" >/dev/null || fail "synth"
"$F" datasets synth --users 600 --items 300 --ratings 12000 --seed 5 --out "$TMP/s.tsv" >/dev/null || fail "synth tsv"
HP=(--factors 8 --epochs 5 --seed 7)
mpi 1 "$F" train --distributed --train "$TMP/s.fds" "${HP[@]}" --out "$TMP/np1.facto" >"$TMP/np1.out" ||
    fail "np 1 on .fds"
grep -q "read in 1 shards by offset" "$TMP/np1.out" || fail "np 1 did not read the .fds file by shards"
mpi 1 "$F" train --distributed --train "$TMP/s.tsv" "${HP[@]}" --out "$TMP/np1t.facto" >/dev/null || fail "np 1 tsv"
"$F" train --train "$TMP/s.fds" "${HP[@]}" --threads 1 --out "$TMP/one.facto" >/dev/null || fail "single-process fit"
one=$(rmse_of "$TMP/one.facto" "$TMP/s.tsv")
for m in np1 np1t; do
    got=$(rmse_of "$TMP/$m.facto" "$TMP/s.tsv")
    within "$got" "$one" 0.01 || fail "$m: train RMSE $got, single process $one (bound 0.01)"
done

# --- a .fds file split on the fly: every rank reads it whole and splits it alike ---
mpi 2 "$F" train --distributed --train "$TMP/s.fds" --split random:0.2 "${HP[@]}" --out "$TMP/sp.facto" \
    >"$TMP/sp.out" || fail "np 2 on .fds with --split"
grep -q "read in 2 shards" "$TMP/sp.out" && fail "--split on .fds: read in shards, the split ignored"
grep -q "^test: rmse" "$TMP/sp.out" || fail "--split on .fds: no test score (the split was ignored)"
ntr=$(sed -n 's/^distributed mf on 2 ranks: \([0-9]*\) ratings.*/\1/p' "$TMP/sp.out")
[ -n "$ntr" ] && [ "$ntr" -ge 9200 ] && [ "$ntr" -le 10000 ] ||
    fail "--split random:0.2 on 12000 ratings: not ~9600 training ratings: $(head -1 "$TMP/sp.out")"
expect_rc 1 mpi 2 "$F" train --distributed --train "$TMP/s.fds" --split bogus:7 --out "$TMP/x.facto"
expect_err "--split"

# --- errors end every rank, with the message ---
expect_rc 2 mpi 2 "$F" train --distributed --train "$TMP/none.fds" --out "$TMP/x.facto"
expect_err "none.fds"
# settings DSGD does not take: bad usage (exit 1; it was 2, a data error)
expect_rc 1 mpi 2 "$F" train --distributed --train "$TMP/s.fds" --optimizer adam --out "$TMP/x.facto"
expect_err "plain SGD"
expect_rc 1 mpi 2 "$F" train --distributed --train "$TMP/s.fds" --momentum 0.9 --out "$TMP/x.facto"
expect_err "--momentum 0"
[ ! -e "$TMP/x.facto" ] || fail "a failed distributed fit left a model file"
# a shard of a corrupt file: an item index out of range is caught by the shard reader
# (the first item of the ITEM section, found through the directory: docs/format.md)
le64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }
cp "$TMP/s.fds" "$TMP/bad.fds"
dir=$(le64 "$TMP/s.fds" 32) nsec=$(od -An -t u4 -j 24 -N 4 "$TMP/s.fds" | tr -d ' ') item_at=
for ((e = 0; e < nsec; e++)); do
    [ "$(dd if="$TMP/s.fds" bs=1 skip=$((dir + 24 * e)) count=4 status=none)" = ITEM ] &&
        item_at=$(le64 "$TMP/s.fds" $((dir + 24 * e + 8)))
done
[ -n "$item_at" ] || fail "no ITEM section in the directory"
printf '\377\377' | dd of="$TMP/bad.fds" bs=1 seek="$item_at" conv=notrunc status=none
expect_rc 2 mpi 2 "$F" train --distributed --train "$TMP/bad.fds" --out "$TMP/x.facto"
expect_err "out of range"

# --- accuracy on MovieLens 100K u1: 2 and 3 ranks against one process ---
need_ml100k
HP=(--factors 32 --epochs 20 --seed 1)
"$F" train --dataset ml-100k --split u1 "${HP[@]}" --threads 1 --out "$TMP/ml1.facto" >/dev/null || fail "ml fit"
base=$(rmse_of "$TMP/ml1.facto" "$ML/u1.test")
"$F" convert --input "$ML/u1.base" --to fds --out "$TMP/u1.fds" >/dev/null 2>&1 || fail "convert u1.base"
for np in 2 3; do
    mpi $np "$F" train --distributed --dataset ml-100k --split u1 "${HP[@]}" --out "$TMP/ml$np.facto" \
        >"$TMP/ml$np.out" || fail "np $np on ml-100k u1"
    got=$(rmse_of "$TMP/ml$np.facto" "$ML/u1.test")
    # reg_factors unset: every rank's ratings give the value one process takes
    # (u1.base by hand: 0.27 x sd 1.1186 x (1/sqrt(80000/943) + 1/sqrt(80000/1650)) = 0.0762)
    r1=$(reg_of "$TMP/ml1.facto") rn=$(reg_of "$TMP/ml$np.facto")
    within "$r1" 0.0762 0.00005 || fail "one process: reg_factors $r1 from u1.base, by hand 0.0762"
    within "$rn" "$r1" 0.0000001 || fail "np $np: reg_factors $rn from the data, one process $r1"
    echo "u1 test RMSE: 1 process $base, $np ranks $got"
    within "$got" "$base" 0.005 || fail "np $np: test RMSE $got, single process $base (bound 0.005)"
    grep -q "^epoch 20/20: .* sent$" "$TMP/ml$np.out" || fail "np $np: no epoch lines"
    mpi $np "$F" train --distributed --train "$TMP/u1.fds" --test "$ML/u1.test" "${HP[@]}" \
        --out "$TMP/mlf$np.facto" >"$TMP/mlf$np.out" || fail "np $np on u1.fds"
    grep -q "read in $np shards by offset" "$TMP/mlf$np.out" || fail "np $np: the .fds file was not read in shards"
    got=$(rmse_of "$TMP/mlf$np.facto" "$ML/u1.test")
    echo "u1 test RMSE from .fds shards: $np ranks $got"
    within "$got" "$base" 0.005 || fail "np $np (.fds): test RMSE $got, single process $base (bound 0.005)"
done
# the gathered model is an ordinary mf model: recommend leaves each user's training items out
"$F" recommend --model "$TMP/ml3.facto" --user 1 --k 5 >"$TMP/rec.out" || fail "recommend from the np 3 model"
[ "$(grep -c . "$TMP/rec.out")" -ge 5 ] || fail "recommend printed fewer than 5 lines"
# odd data: ratings of 1e-30 (reg_factors from the data 3.5218053e-31), all
# equal (0), one rating (0) and one user (capped at 0.08): every rank count,
# text and .fds read in shards (ranks without a rating), the value one process takes
printf '1\t1\t1e-30\n1\t2\t2e-30\n2\t1\t3e-30\n2\t3\t1e-30\n' >"$TMP/tiny.tsv"
printf '1\t1\t4\n1\t2\t4\n2\t1\t4\n' >"$TMP/eq.tsv"
printf '1\t1\t4\n' >"$TMP/one.tsv"
printf '1\t1\t3\n1\t2\t5\n1\t3\t1\n' >"$TMP/user.tsv"
for d in tiny eq one user; do
    "$F" convert --train "$TMP/$d.tsv" --to fds --out "$TMP/$d.fds" >/dev/null || fail "convert $d"
    "$F" train --train "$TMP/$d.tsv" --factors 2 --epochs 2 --out "$TMP/$d.facto" >/dev/null || fail "$d: one process"
    r1=$(reg_of "$TMP/$d.facto")
    for np in 1 2 3; do
        for x in tsv fds; do
            mpi $np "$F" train --distributed --train "$TMP/$d.$x" --factors 2 --epochs 2 --out "$TMP/$d$np.facto" \
                >/dev/null 2>"$TMP/err" || fail "$d.$x np $np: $(cat "$TMP/err")"
            rn=$(reg_of "$TMP/$d$np.facto")
            [ -n "$rn" ] && [ "$rn" = "$r1" ] || fail "$d.$x np $np: reg_factors '$rn', one process '$r1'"
        done
    done
done
[ "$(reg_of "$TMP/tiny.facto")" = 3.5218053e-31 ] && [ "$(reg_of "$TMP/eq.facto")" = 0 ] &&
    [ "$(reg_of "$TMP/one.facto")" = 0 ] && [ "$(reg_of "$TMP/user.facto")" = 0.08 ] ||
    fail "odd data: reg_factors $(for d in tiny eq one user; do reg_of "$TMP/$d.facto"; done | tr '\n' ' ')"
echo "ok"
