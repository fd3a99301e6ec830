/*
 * pairs.h — reading `user item` pairs, one a line (pairs.c), as `facto
 * predict --input` and `facto recommend --exclude` take them: fields split
 * on tab, space, comma, semicolon, '|' or "::" (fixed by the first data
 * line), further fields ignored, blank and '#' lines skipped, and so is a
 * first line whose first field is user, userId or user_id; `-` is stdin.
 * A .fds data set file (told by its magic bytes) gives its pairs instead.
 * Streaming: O(1) memory (a 64 KiB line buffer), O(line) a pair.
 */
#ifndef FACTO_CLI_PAIRS_H
#define FACTO_CLI_PAIRS_H

#include "cli.h"

/* Longest line a reader takes, in bytes. */
#define CLI_LINE_MAX 65536

/* Read one line (without its end, CR stripped) into buf of `cap` bytes.
 * Returns its length, -1 at end of file, -2 when longer than cap - 1
 * bytes, -3 when it holds a NUL byte. Bounded memory whatever the input. */
long cli_read_line(FILE *f, char *buf, size_t cap);

/* A pairs file being read. */
typedef struct cli_pairs_reader {
    const char *name;   /* the input as messages name it ("<stdin>" for -) */
    FILE *f;
    int from_stdin;
    char *line;         /* [CLI_LINE_MAX] */
    long long lineno;   /* of the last line read */
    long long n_pairs;  /* pairs returned so far */
    char delim;         /* fixed by the first data line; 0 before it */
    facto_dataset *ds;  /* a .fds data set file: its pairs, in CSR order (else NULL) */
    int32_t du;         /* .fds: the user of the next pair */
    int64_t dk;         /* .fds: the index of the next pair */
} cli_pairs_reader;

/* Open `path` ("-" = stdin). Prints "facto: PATH: cannot open: ..." and
 * returns exit code 2 on failure (3 when out of memory); a .fds file is
 * mapped and verified here (a corrupt one: its message, exit 2). */
int cli_pairs_open(cli_pairs_reader *r, const char *path);

/* The next pair into *user / *item (borrowed: valid until the next call).
 * Returns 1 for a pair, 0 at the end, or minus an exit code after printing
 * "facto: NAME:LINE: what is wrong" (a line too long, a NUL byte, a line
 * without two fields, a read error). */
int cli_pairs_next(cli_pairs_reader *r, char **user, char **item);

void cli_pairs_close(cli_pairs_reader *r);

#endif /* FACTO_CLI_PAIRS_H */
