#!/usr/bin/env bash
# test_qa.sh — regressions found by QA with hostile input: saving a model
# never replaces what is not a model (the ratings file, a FIFO, a folder;
# a device such as /dev/null the same way), an endless or binary input is
# refused instead of eating the memory, a mirror that sends more than the
# zip's size is cut off, messages name file, line and field. Needs ml-100k
# (exit 77 without it) for a real ratings file.
set -u
. "$(dirname "$0")/lib.bash"
need_ml100k

head -n 3000 "$ML/u1.base" >"$TMP/r.tsv"
M="$TMP/m.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --epochs 2 --factors 4 --out "$M"

# --out onto the ratings themselves: refused, the data survives.
cp "$TMP/r.tsv" "$TMP/keep.tsv"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 2 --out "$TMP/r.tsv"
expect_err "r.tsv: is an input of this command"
cmp -s "$TMP/r.tsv" "$TMP/keep.tsv" || fail "--out replaced the ratings file"
# --out onto a file that is not a model (and not an input): refused as well.
expect_rc 2 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 2 --out "$TMP/keep.tsv"
expect_err "keep.tsv: exists and is a file that is not a facto model"
cmp -s "$TMP/r.tsv" "$TMP/keep.tsv" || fail "--out replaced a file that is not a model"

# --out onto a FIFO or a folder: refused, they stay what they were.
mkfifo "$TMP/fifo"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 2 --out "$TMP/fifo"
expect_err "fifo: exists and is a FIFO"
[ -p "$TMP/fifo" ] || fail "--out replaced a FIFO with a file"
mkdir "$TMP/dir"
expect_rc 2 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 2 --out "$TMP/dir"
expect_err "dir: exists and is a folder"
ls -A "$TMP" | grep -q "facto-tmp" && fail "a temporary model file was left behind"

# A model saved through a symbolic link replaces the target, keeps the link.
cp "$M" "$TMP/target.facto"
ln -s target.facto "$TMP/link.facto"
expect_rc 0 "$F" train --train "$TMP/r.tsv" --epochs 1 --factors 3 --out "$TMP/link.facto"
[ -L "$TMP/link.facto" ] || fail "the symbolic link was replaced by a file"
expect_rc 0 "$F" recommend --model "$TMP/target.facto" --user 1 -k 2

# Over an existing model: fine; a failed training leaves it as it was.
cp "$M" "$TMP/old.facto"
printf '1\t2\t3\n1\t3\tnan\n' >"$TMP/nan.tsv"
expect_rc 2 "$F" train --train "$TMP/nan.tsv" --out "$M"
expect_err "nan.tsv:2: rating 'nan'"
cmp -s "$M" "$TMP/old.facto" || fail "a failed training changed the saved model"

# Hostile bytes: a NUL in the rating, a bare CR shown escaped.
printf '1\t2\t3\n1\t3\t4\0\n' >"$TMP/nul.tsv"
expect_rc 2 "$F" train --train "$TMP/nul.tsv"
expect_err "nul.tsv:2: the rating holds a NUL byte"
printf '1\t2\t3\r1\t3\t4\r' >"$TMP/cr.tsv"
expect_rc 2 "$F" train --train "$TMP/cr.tsv"
expect_err "cr.tsv:1: rating '3\\x0d1' is not a finite number"

# An endless line (/dev/zero) is refused at 256 MiB, not read until OOM.
expect_rc 2 timeout 120 "$F" train --train /dev/zero
expect_err "/dev/zero:1: the line is longer than 256 MiB"

# --columns with a fixed format would be ignored: refused as a usage error.
expect_rc 1 "$F" train --train "$TMP/r.tsv" --format ml100k --columns 2,1,3
expect_err "columns '2,1,3' apply to delimited text"

# Splits: the message shows the fraction that was given.
printf '1\t2\t3\n' >"$TMP/one.tsv"
expect_rc 2 "$F" train --train "$TMP/one.tsv" --split random:0.9999999 --seed 1
expect_err "random:0.9999999"

# Divergence caused by a huge --init-std names that setting.
expect_rc 2 "$F" train --train "$TMP/r.tsv" --epochs 1 --init-std 1000
expect_err "--init-std"

# A mirror sending more than the zip's known size is cut off, nothing left.
mkdir -p "$TMP/mirror" "$TMP/home"
head -c 6000000 /dev/zero >"$TMP/mirror/ml-100k.zip"
FACTO_DATA_HOME="$TMP/home" FACTO_DATASETS_URL="file://$TMP/mirror" \
    expect_rc 2 timeout 120 "$F" datasets fetch ml-100k
expect_err "larger than the expected 4924029 bytes"
[ -z "$(ls -A "$TMP/home")" ] || fail "fetch left files behind: $(ls -A "$TMP/home")"

# A data home that is a file is named as such.
echo x >"$TMP/home_file"
FACTO_DATA_HOME="$TMP/home_file" expect_rc 2 "$F" datasets path ml-100k
expect_err "home_file is not a folder"

# Binary input: a model file or any binary given as ratings says so.
expect_rc 2 "$F" train --train "$M"
expect_err "this is a facto model file, not ratings"
# --out that cannot be written fails before any training, as a data/I/O error.
expect_rc 2 "$F" train --train "$TMP/r.tsv" --out "$TMP/no/such/dir/m.facto"
expect_err "cannot write a file there"
grep -q "training mf" "$TMP/out" && fail "--out into a missing folder was found only after training"
expect_rc 1 "$F" train --train "$TMP/r.tsv" --out ""
expect_err "--out: the model path is empty"
# Numbers are the whole text: no blanks or '+' in front.
expect_rc 1 "$F" train --train "$TMP/r.tsv" --seed " 5"
expect_rc 1 "$F" train --train "$TMP/r.tsv" --epochs +3
# A time split of data without timestamps names the file.
printf '1\t1\t4\n1\t2\t3\n2\t1\t5\n' > "$TMP/nots.tsv"
expect_rc 1 "$F" train --train "$TMP/nots.tsv" --split time:0.5
expect_err "$TMP/nots.tsv: split time:0.5 needs timestamps"
# A user who rated every item gets a note, not a silent empty list.
printf '1\t1\t4\n1\t2\t3\n2\t1\t5\n' > "$TMP/all.tsv"
expect_rc 0 "$F" train --train "$TMP/all.tsv" --epochs 2 --out "$TMP/all.facto"
expect_rc 0 "$F" recommend --model "$TMP/all.facto" --user 1
expect_err "has rated every item the model knows"
# predict: ids with spaces keep them (the delimiter comes from the first line),
# quotes are removed, and a file with no line ends is refused in bounded memory.
printf 'user,item,rating\nAnn Lee,Up,4\nAnn Lee,Cars,3\nBob,Up,5\nBob,Cars,2\n' > "$TMP/names.csv"
expect_rc 0 "$F" train --train "$TMP/names.csv" --epochs 2 --factors 4 --out "$TMP/names.facto"
printf 'user,item\nAnn Lee,Cars\n"Bob", Up\n' > "$TMP/pairs.csv"
expect_rc 0 "$F" predict --model "$TMP/names.facto" --input "$TMP/pairs.csv"
grep -q "^Ann Lee	Cars	" "$TMP/out" || fail "predict split 'Ann Lee' at the space"
grep -q "^Bob	Up	" "$TMP/out" || fail "predict kept the quotes or blanks of '\"Bob\", Up'"
[ -s "$TMP/err" ] && fail "predict flagged known ids as unknown: $(cat "$TMP/err")"
expect_rc 2 timeout 60 "$F" predict --model "$TMP/names.facto" --input /dev/zero
expect_err "/dev/zero:1: the line is longer than 64 KiB"
exit 0
