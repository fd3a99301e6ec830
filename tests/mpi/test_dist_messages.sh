#!/usr/bin/env bash
# test_dist_messages.sh — what `facto train --distributed` prints on standard
# error under mpirun with 3 ranks: an error every rank hits alike (a missing
# --train file, a kind without a distributed trainer) and a note every rank
# prints alike (duplicate pairs read) appear once, whole lines; an error of
# one rank's own shard (a corrupt item index in the last user's ratings,
# rank 2's shard) appears once, as "facto: rank 2: ..."; `--model ease`
# is refused before any data is read, and so are settings a trainer does
# not take (--optimizer adam for mf: exit 1). Label mpi, a few seconds.
set -uo pipefail
. "$(dirname "$0")/../cli/lib.bash"
MPI=${FACTO_MPIEXEC:-mpirun}
mpi() { local np=$1; shift; timeout 120 "$MPI" --oversubscribe --allow-run-as-root -np "$np" "$@"; }
# facto's own lines of $TMP/err (mpirun adds its report of the exit code)
ours() { grep '^facto: \|^\[' "$TMP/err"; }
once() { # $1 a fixed string: exactly one line of ours holds it
    local n
    n=$(ours | grep -cF -- "$1")
    [ "$n" -eq 1 ] || { cat "$TMP/err" >&2; fail "'$1' printed $n times, want once"; }
}

# an error every rank hits alike: once, by rank 0, without a rank
expect_rc 2 mpi 3 "$F" train --distributed --train "$TMP/none.tsv" --out "$TMP/x.facto"
once "none.tsv: cannot open"
[ "$(ours | wc -l)" -eq 1 ] || { cat "$TMP/err" >&2; fail "more than the one error line"; }

# a kind without a distributed trainer: refused before reading (the missing file is not named)
expect_rc 1 mpi 3 "$F" train --distributed --model ease --train "$TMP/none.tsv" --out "$TMP/x.facto"
once "distributed training covers the kinds mf, fm and ials, not ease"
! grep -q "none.tsv" "$TMP/err" || fail "ease: the data was read before the kind was refused"
# settings the kind's trainer does not take: bad usage (exit 1; was 2), refused before reading, once
expect_rc 1 mpi 3 "$F" train --distributed --model mf --optimizer adam --train "$TMP/none.tsv" --out "$TMP/x.facto"
once "distributed mf trains with plain SGD (DSGD): use --optimizer sgd and --momentum 0"
! grep -q "none.tsv" "$TMP/err" || fail "adam: the data was read before the settings were refused"
expect_rc 1 mpi 3 "$F" train --distributed --async --model mf --train "$TMP/none.tsv" --out "$TMP/x.facto"
once "asynchronous training (--async) is fm's; mf trains by DSGD"

# notes every rank prints alike: once each, whole lines (no line of one rank inside another's)
awk 'BEGIN { for (u = 1; u <= 60; u++) for (i = 1; i <= 40; i++) if ((u * 7 + i * 13) % 5 < 2)
    printf "%d\t%d\t%d\n", u, i, 1 + (u + i) % 5; print "1\t1\t3"; print "1\t1\t4" }' >"$TMP/r.tsv"
expect_rc 0 mpi 3 "$F" train --distributed --train "$TMP/r.tsv" --epochs 2 --out "$TMP/m.facto"
once "facto: note: $TMP/r.tsv: 2 duplicate (user, item) pairs"
expect_rc 0 mpi 3 "$F" train --distributed --model ials --train "$TMP/r.tsv" --epochs 2 --out "$TMP/m.facto"
once "facto: note: $TMP/r.tsv: 962 lines of implicit feedback -> 960 pairs (60 users, 40 items); 2 repeated lines added into their pair"
[ "$(ours | wc -l)" -eq 1 ] || { cat "$TMP/err" >&2; fail "ials: more than the one note"; }

# an error of one rank's shard: once, with its rank; the others say nothing
"$F" datasets synth --users 300 --items 200 --ratings 6000 --seed 5 --out "$TMP/s.fds" >/dev/null || fail "synth"
le64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }
cp "$TMP/s.fds" "$TMP/bad.fds"
dir=$(le64 "$TMP/s.fds" 32) nsec=$(od -An -t u4 -j 24 -N 4 "$TMP/s.fds" | tr -d ' ') item_at= item_len=
for ((e = 0; e < nsec; e++)); do
    if [ "$(dd if="$TMP/s.fds" bs=1 skip=$((dir + 24 * e)) count=4 status=none)" = ITEM ]; then
        item_at=$(le64 "$TMP/s.fds" $((dir + 24 * e + 8)))
        item_len=$(le64 "$TMP/s.fds" $((dir + 24 * e + 16)))
    fi
done
[ -n "$item_at" ] || fail "no ITEM section in the directory"
# 2-byte item indices (200 items): the last rating's item, the last user's (rank 2's shard)
printf '\377\377' | dd of="$TMP/bad.fds" bs=1 seek=$((item_at + 2 * 6000 - 2)) conv=notrunc status=none
[ "$item_len" -ge 12000 ] || fail "ITEM section of $item_len bytes, want 2 a rating"
expect_rc 2 mpi 3 "$F" train --distributed --train "$TMP/bad.fds" --out "$TMP/x.facto"
once "facto: rank 2: "
ours | grep -q "out of range" || { cat "$TMP/err" >&2; fail "no out-of-range message"; }
[ "$(ours | wc -l)" -eq 1 ] || { cat "$TMP/err" >&2; fail "the shard error: more than one line"; }
echo ok
