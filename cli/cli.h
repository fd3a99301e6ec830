/*
 * cli.h — what the `facto` subcommands share: exit codes, the subcommand
 * entry points (the table lives in main.c), option-value parsing with
 * messages that name the flag (args.c), error printing and small output
 * helpers (output.c). The CLI uses only the public header facto.h and
 * jansson; every function here is cheap (no data-sized work).
 */
#ifndef FACTO_CLI_H
#define FACTO_CLI_H

#include "facto.h"

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every subcommand. */
enum {
    FACTO_EXIT_OK = 0,
    FACTO_EXIT_USAGE = 1,    /* bad flag, missing option, bad value */
    FACTO_EXIT_DATA = 2,     /* data or I/O error, unknown user, bad model file */
    FACTO_EXIT_INTERNAL = 3  /* a bug, or out of memory */
};

/* A subcommand: argv[0] is "facto VERB"; returns an exit code. */
typedef int (*cli_fn)(int argc, char **argv);

int cli_cmd_train(int argc, char **argv);
int cli_cmd_eval(int argc, char **argv);
int cli_cmd_predict(int argc, char **argv);
int cli_cmd_recommend(int argc, char **argv);
int cli_cmd_datasets(int argc, char **argv);
int cli_cmd_convert(int argc, char **argv);

/* ---- factorization machines (cmd_train_fm.c, cmd_convert.c) ---- */

/* `facto train --model fm ...`: the whole argv of `facto train`. */
int cli_train_fm(int argc, char **argv);
/* `facto predict` for a loaded FM model: a SageMaker inference request from
 * `input` ("-" = stdin) in `content_type`, the response in `accept` (NULL =
 * the content type) to `output` (NULL or "-" = stdout). Returns an exit code. */
int cli_fm_predict(facto_ctx *ctx, const facto_model *model, const char *input, const char *content_type,
                         const char *accept, const char *output);
/* `facto eval` for a loaded FM model on the labelled rows of `path`. */
int cli_fm_eval(facto_ctx *ctx, const facto_model *model, const char *path, facto_rows_format format, int json);
/* Print FM test metrics as facto eval does (text, or JSON with --json); returns an exit code. */
int cli_fm_report(const facto_metrics *m, int json);

/* Where FM rows come from when they are built from ratings (cmd_convert.c). */
typedef struct cli_fm_source {
    const char *dataset;      /* --dataset NAME, or NULL */
    const char *split;        /* --split: official name or random:F / kfold:K:I / time:F */
    const char *ratings;      /* --from-ratings FILE, or NULL */
    const char *test_ratings; /* --test-ratings FILE, or NULL */
    const char *user_file;    /* --user-features FILE, or NULL */
    const char *item_file;    /* --item-features FILE, or NULL */
    int side_features;        /* --side-features: u.user / u.item next to the ratings */
    facto_fm_encode_options enc;
    uint64_t seed;            /* random/kfold splits */
} cli_fm_source;

/* Read the ratings `src` names, one-hot encode train (and test, with the
 * train file's layout) into *train / *test (NULL when there is no test) and
 * the layout's size into *dim. Notes (rows, unknown ids) go to `info`.
 * Prints its own errors; returns an exit code. */
int cli_fm_from_ratings(facto_ctx *ctx, const char *verb, const cli_fm_source *src, FILE *info,
                              facto_rows **train, facto_rows **test, uint64_t *dim);
/* The same ratings as data sets (*test NULL when there is none), and the side
 * files to use in user_file / item_file ("" = none; --side-features gives
 * u.user / u.item next to the ratings), buffers of `size` bytes. */
int cli_fm_read_sets(facto_ctx *ctx, const char *verb, const cli_fm_source *src, facto_dataset **train,
                           facto_dataset **test, char *user_file, char *item_file, size_t size);
/* "libsvm" | "recordio" (and "auto" when `allow_auto`) -> *out; usage error otherwise. */
int cli_arg_rows_format(const char *verb, const char *flag, const char *text, int allow_auto,
                          facto_rows_format *out);

/* ---- errors (output.c) ---- */

/* Print "facto: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "facto: <errmsg>" for a failed library call and return its exit
 * code: NOMEM/INTERNAL -> 3, INVALID -> 1 when `invalid_is_usage`, else 2. */
int cli_fail(const facto_ctx *ctx, facto_status status, int invalid_is_usage);
/* A usage error: prints "facto VERB: <message>" and "try 'facto VERB --help'",
 * returns FACTO_EXIT_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- option values (args.c) ---- each prints its own message and returns
 * 0 on success, FACTO_EXIT_USAGE on a bad value. `flag` is e.g. "--factors". */
int cli_arg_int(const char *verb, const char *flag, const char *text, long min, long max, int *out);
int cli_arg_u64(const char *verb, const char *flag, const char *text, uint64_t *out);
int cli_arg_float(const char *verb, const char *flag, const char *text, double min, double max, float *out);
/* "auto", "ml100k", "ml1m", "mlcsv", "delimited". */
int cli_arg_format(const char *verb, const char *text, facto_format *out);
/* "tab", "comma", "semicolon", "space", "\t", or a single character. */
int cli_arg_delimiter(const char *verb, const char *text, char *out);
/* Name of a format for --help and messages. */
const char *cli_format_name(facto_format f);

/*
 * getopt_long driver shared by the subcommands. Call cli_getopt_begin()
 * before the first cli_getopt() of a scan. Unknown options, missing values
 * and stray arguments are reported as usage errors. Returns the option's
 * `val`, -1 at the end, or '?' after printing a usage error.
 */
void cli_getopt_begin(void);
int cli_getopt(const char *verb, int argc, char **argv, const char *shortopts, const struct option *longopts);

/* ---- output (output.c) ---- */

/* Print `root` as one line of JSON on stdout, then free it. Returns an exit code. */
int cli_json_print(json_t *root);
/* A JSON number from a float/double, rounded to `digits` significant digits
 * so 4.71f prints as 4.71; NaN/inf become null. */
json_t *cli_json_num(double value, int digits);
/* A JSON string of `text`; bytes that are not UTF-8 are read as ISO-8859-1
 * (ids are the data's own bytes). NULL when out of memory. */
json_t *cli_json_str(const char *text);
/* 1 when stderr is a terminal (progress bars go there only then). */
int cli_stderr_is_tty(void);

#endif /* FACTO_CLI_H */
