/*
 * cli.h — what the `facto` subcommands share: exit codes, the subcommand
 * entry points (the table lives in main.c), option-value parsing with
 * messages that name the flag (args.c), error printing and output helpers:
 * JSON numbers, metrics in SageMaker's log form (output.c). The CLI uses
 * only the public header facto.h and jansson, and never asks which kind a
 * model is: what a model or a configuration can do comes from the library
 * (facto_model_inputs, facto_model_task, facto_params_inputs, ...).
 * Every function here is cheap (no data-sized work).
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
int cli_cmd_similar(int argc, char **argv);
int cli_cmd_inspect(int argc, char **argv);
int cli_cmd_datasets(int argc, char **argv);
int cli_cmd_convert(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
int cli_cmd_events(int argc, char **argv);

/* Read an event log folder (facto_events_read), with a note on stderr when
 * torn last lines were skipped; prints its own error and returns an exit
 * code (cmd_events.c). */
int cli_events_read(facto_ctx *ctx, const char *dir, facto_events **out);

/* ---- errors (output.c) ---- */

/* Print "facto: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* This process's rank in `train --distributed` (0 otherwise): the library's
 * log lines of a rank other than 0 name it. */
extern int cli_rank;
/* Print "facto: <errmsg>" for a failed library call and return its exit
 * code: NOMEM/INTERNAL -> 3, INVALID -> 1 when `invalid_is_usage`, else 2. */
int cli_fail(const facto_ctx *ctx, facto_status status, int invalid_is_usage);
/* The exit code of a status without printing: 3 for NOMEM/INTERNAL, else 2. */
int cli_exit_of(facto_status status);
/* A usage error: prints "facto VERB: <message>" and "try 'facto VERB --help'",
 * returns FACTO_EXIT_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- option values (args.c) ---- each prints its own message and returns
 * 0 on success, FACTO_EXIT_USAGE on a bad value. `flag` is e.g. "--k". */
int cli_arg_int(const char *verb, const char *flag, const char *text, long min, long max, int *out);
int cli_arg_u64(const char *verb, const char *flag, const char *text, uint64_t *out);
int cli_arg_float(const char *verb, const char *flag, const char *text, double min, double max, float *out);
int cli_arg_double(const char *verb, const char *flag, const char *text, double min, double max, double *out);
/* "auto", "ml100k", "ml1m", "mlcsv", "delimited". */
int cli_arg_format(const char *verb, const char *text, facto_format *out);
/* "tab", "comma", "semicolon", "space", "\t", or a single character. */
int cli_arg_delimiter(const char *verb, const char *text, char *out);
/* "libsvm" | "recordio" (and "auto" when `allow_auto`) -> *out and 1; 0 (nothing printed) otherwise. */
int cli_rows_format_of(const char *text, int allow_auto, facto_rows_format *out);
/* The same as a flag's value; usage error otherwise. */
int cli_arg_rows_format(const char *verb, const char *flag, const char *text, int allow_auto,
                        facto_rows_format *out);
/* A list of ranking metrics for --metrics (facto_ranking_metrics_check); usage error naming the bad entry. */
int cli_arg_metrics(const char *verb, const char *text);
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

/* Which models know users and items, for the refusals of recommend and
 * similar: fm by SGD encodes ratings as feature rows and keeps no ids. */
#define CLI_IDS_HINT                                                                                                \
    "(a model that keeps the ids of its ratings does: every kind trained from ratings, but fm only with "          \
    "--solver als or mcmc; fm by SGD encodes the ratings as feature rows)"

/* A JSON number from a float/double, rounded to `digits` significant digits
 * so 4.71f prints as 4.71; NaN/inf become null. */
json_t *cli_json_num(double value, int digits);
/* Numbers that are data (predictions, scores, metrics) print as the
 * shortest text that reads back as the same float (facto_format_float:
 * "0.3", "1.2345e-05", "0.91486233"), in text and JSON alike, so no scale
 * of the data prints as 0.0000. cli_num writes into buf[32] and returns it;
 * cli_json_float is JSON null when v is not finite. */
const char *cli_num(char *buf, double v);
/* "s" unless n is 1: "%lld rating%s", n, cli_plural(n). */
const char *cli_plural(long long n);
json_t *cli_json_float(double v);
/* A progress figure (per-epoch lines): `decimals` decimals, or 4
 * significant digits when 0 < |v| < 1e-3, so it never loses its magnitude. */
const char *cli_rnum(char *buf, double v, int decimals);
/* The command line's files: every argument (or --opt=VALUE value) that names
 * an existing regular file, except the values of --out and --output, is an
 * input of the command. cli_ctx_new() is facto_ctx_new() with those files
 * protected (facto_ctx_add_input), so no output of the command replaces
 * one of its inputs, whichever option named it. */
void cli_inputs_set(int argc, char **argv);
facto_ctx *cli_ctx_new(void);
/* The frame of a command over one saved model: a context (cli_ctx_new),
 * the model at `path` loaded, run(ctx, model, arg) for the exit code, both
 * freed. A load error is reported (cli_fail) and its exit code returned. */
int cli_run_with_model(const char *path, int (*run)(facto_ctx *ctx, const facto_model *model, void *arg), void *arg);
/* A JSON string of an id (facto_id_escape: valid UTF-8 as is, a backslash
 * doubled, any other byte as \xHH), so two ids never print alike. NULL
 * when out of memory. */
json_t *cli_json_str(const char *text);
/* 1 when stderr is a terminal (progress bars go there only then). */
int cli_stderr_is_tty(void);
/* Monotonic clock, seconds. */
double cli_now(void);
/* Size of the file at `path` in bytes, -1 when it cannot be read. */
long long cli_file_size(const char *path);

/* "regression", "binary" or "ranking": a task as the output names it. */
const char *cli_task_name(facto_task task);
/* A model's metrics in SageMaker's log form, one line each:
 *   #test_score (algo-1) : ('rmse', 0.914)
 * regression: rmse, mae; binary: binary_classification_accuracy,
 * binary_classification_cross_entropy, binary_f_beta, auc, precision, recall;
 * then any ranking metric computed ("ndcg@10"). `which` is "train" or "test". */
void cli_print_scores(FILE *out, const char *which, const facto_metrics *m);
/* The same figures into `root` as prefix + name (SageMaker's names; NAN,
 * or all of them when !have, become null); ranking metrics by their own
 * name, unprefixed ("ndcg@10": they are only ever computed on test data). */
void cli_json_metrics(json_t *root, const char *prefix, const facto_metrics *m, int have);
/* When m holds ranking metrics: "#test_users (algo-1) : N scored, S skipped"
 * (users with no test item left, or unknown without a history), or
 * "n_users" and "n_users_skipped" in `root`. Nothing otherwise. */
void cli_print_users(FILE *out, const char *which, const facto_metrics *m);
/* `facto eval`'s table, one layout for every task: "name  value" lines,
 * names padded to one column (at least 14 wide): the task's figures (RMSE,
 * MAE; a classifier's SageMaker names), the ranking metrics computed, users
 * and users skipped (when ranked), `count_name` ("ratings", "rows") with
 * m->n, and with `with_unknown` the unknown users and items; n_extra (at
 * most 8) more figures right after the task's own (IPS / SNIPS errors). */
void cli_print_table(FILE *out, const facto_metrics *m, const char *count_name, int with_unknown,
                     const char *const *extra_names, const double *extra_values, int n_extra);
void cli_json_users(json_t *root, const facto_metrics *m);

#endif /* FACTO_CLI_H */
