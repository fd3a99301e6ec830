/*
 * output.c — how the CLI speaks: "facto: ..." error lines on stderr, the map
 * from a library status to an exit code (0 ok, 1 usage, 2 data or I/O,
 * 3 internal), JSON output through jansson with numbers rounded to a
 * readable number of significant digits, and a model's metrics in
 * SageMaker's log form or as JSON, chosen by the task (never the kind).
 * O(size of the output).
 */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One write a message (ranks of an MPI job share the terminal: pieces
 * written apart interleave, "facto: facto: ..."). */
int cli_rank = 0;

void cli_error(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof buf) {
        fprintf(stderr, "facto: %s\n", buf);
        return;
    }
    fputs("facto: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_of(facto_status status)
{
    switch (status) {
    case FACTO_OK: return FACTO_EXIT_OK;
    case FACTO_ERR_NOMEM:
    case FACTO_ERR_INTERNAL: return FACTO_EXIT_INTERNAL;
    default: return FACTO_EXIT_DATA;
    }
}

int cli_fail(const facto_ctx *ctx, facto_status status, int invalid_is_usage)
{
    const char *msg = facto_errmsg(ctx);
    cli_error("%s", msg && *msg ? msg : facto_status_str(status));
    if (status == FACTO_ERR_INVALID && invalid_is_usage)
        return FACTO_EXIT_USAGE;
    return cli_exit_of(status);
}

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", verb);
    return FACTO_EXIT_USAGE;
}

json_t *cli_json_num(double value, int digits)
{
    if (!isfinite(value))
        return json_null();
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", digits, value);
    return json_real(strtod(buf, NULL));
}

static int cli_argc;
static char **cli_argv;

void cli_inputs_set(int argc, char **argv)
{
    cli_argc = argc;
    cli_argv = argv;
}

static int cli_is_output_opt(const char *arg, size_t n)
{
    return (n == 5 && strncmp(arg, "--out", 5) == 0) || (n == 8 && strncmp(arg, "--output", 8) == 0);
}

facto_ctx *cli_ctx_new(void)
{
    facto_ctx *ctx = facto_ctx_new();
    for (int i = 1; ctx && i < cli_argc; i++) {
        const char *arg = cli_argv[i], *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        if (cli_is_output_opt(arg, eq ? (size_t)(eq - arg) : strlen(arg))) {
            i += !eq; /* its value is the output, not an input */
            continue;
        }
        struct stat st;
        const char *path = eq ? eq + 1 : arg;
        if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            (void)facto_ctx_add_input(ctx, path);
    }
    return ctx;
}

int cli_run_with_model(const char *path, int (*run)(facto_ctx *ctx, const facto_model *model, void *arg), void *arg)
{
    facto_ctx *ctx = cli_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_model *model = NULL;
    facto_status st = facto_model_load(ctx, path, &model);
    int rc = st != FACTO_OK ? cli_fail(ctx, st, 0) : run(ctx, model, arg);
    facto_model_free(model);
    facto_ctx_free(ctx);
    return rc;
}

const char *cli_plural(long long n) { return n == 1 ? "" : "s"; }

const char *cli_num(char *buf, double v)
{
    facto_format_float(buf, 32, (float)v);
    return buf;
}

json_t *cli_json_float(double v)
{
    if (!isfinite((float)v))
        return json_null();
    char buf[32];
    double back = 0.0;
    facto_format_float(buf, sizeof buf, (float)v);
    /* printed with 15 digits by cli_json_print: the same short text */
    return json_real(facto_parse_number(buf, &back) ? back : v);
}

const char *cli_rnum(char *buf, double v, int decimals)
{
    if (v != 0.0 && isfinite(v) && fabs(v) < 1e-3)
        snprintf(buf, 32, "%.4g", v);
    else
        snprintf(buf, 32, "%.*f", decimals, v);
    return buf;
}

int cli_json_print(json_t *root)
{
    if (!root) {
        cli_error("out of memory building JSON output");
        return FACTO_EXIT_INTERNAL;
    }
    /* 15 significant digits: every value rounded by cli_json_num prints as written. */
    int rc = json_dumpf(root, stdout, JSON_REAL_PRECISION(15));
    json_decref(root);
    fputc('\n', stdout);
    if (rc != 0 || fflush(stdout) != 0) {
        cli_error("cannot write JSON to stdout");
        return FACTO_EXIT_DATA;
    }
    return FACTO_EXIT_OK;
}

json_t *cli_json_str(const char *text)
{
    /* Ids are the data's own bytes: facto_id_escape makes them UTF-8 without
     * making two ids alike (invalid bytes as \xHH, a backslash doubled). */
    char small[256];
    size_t n = facto_id_escape(text, small, sizeof small);
    if (n < sizeof small)
        return json_string(small);
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    facto_id_escape(text, buf, n + 1);
    json_t *j = json_string(buf);
    free(buf);
    return j;
}

int cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

long long cli_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

const char *cli_task_name(facto_task task)
{
    switch (task) {
    case FACTO_TASK_REGRESSION: return "regression";
    case FACTO_TASK_BINARY: return "binary";
    case FACTO_TASK_RANKING: return "ranking";
    }
    return "unknown";
}

/* Room for every figure cli_metric_list gives. */
#define CLI_MAX_FIGURES (6 + FACTO_METRICS_MAX_RANKING)

/* The figures of a task under SageMaker's metric names, then the ranking
 * metrics computed (their own names, "ndcg@10"); returns their count. */
static int cli_metric_list(const facto_metrics *m, const char **names, double *values)
{
    int n = 0;
    if (m->task == FACTO_TASK_BINARY) {
        static const char *const bin[] = {"binary_classification_accuracy", "binary_classification_cross_entropy",
                                          "binary_f_beta", "auc", "precision", "recall"};
        const double v[] = {m->binary.accuracy, m->binary.cross_entropy, m->binary.f_beta,
                            m->binary.auc,      m->binary.precision,     m->binary.recall};
        for (; n < 6; n++) {
            names[n] = bin[n];
            values[n] = v[n];
        }
    } else if (m->task == FACTO_TASK_REGRESSION) {
        names[n] = "rmse";
        values[n++] = m->rmse;
        names[n] = "mae";
        values[n++] = m->mae;
    }
    for (int i = 0; i < m->n_ranking && i < FACTO_METRICS_MAX_RANKING; i++) {
        names[n] = m->ranking[i].name;
        values[n++] = m->ranking[i].value;
    }
    return n;
}

void cli_print_scores(FILE *out, const char *which, const facto_metrics *m)
{
    const char *names[CLI_MAX_FIGURES];
    double values[CLI_MAX_FIGURES];
    int n = cli_metric_list(m, names, values);
    for (int i = 0; i < n; i++) {
        char num[32];
        fprintf(out, "#%s_score (algo-1) : ('%s', %s)\n", which, names[i], cli_num(num, values[i]));
    }
}

void cli_print_table(FILE *out, const facto_metrics *m, const char *count_name, int with_unknown,
                     const char *const *extra_names, const double *extra_values, int n_extra)
{
    const char *names[CLI_MAX_FIGURES + 6 + 8];
    char values[CLI_MAX_FIGURES + 6 + 8][32];
    double v[CLI_MAX_FIGURES];
    int nm = cli_metric_list(m, names, v), w = 14, n = 0, first = m->task == FACTO_TASK_REGRESSION ? 2 : 0;
    const char *mn[CLI_MAX_FIGURES];
    memcpy(mn, names, sizeof mn);
    n_extra = n_extra < 8 ? n_extra : 8;
    for (int i = 0; i < nm; i++) {
        if (i == first) /* the extra figures after the task's own (IPS after RMSE and MAE) */
            for (int x = 0; x < n_extra; x++) {
                names[n] = extra_names[x];
                cli_num(values[n++], extra_values[x]);
            }
        names[n] = mn[i];
        if (m->task == FACTO_TASK_REGRESSION && i < 2)
            names[n] = i == 0 ? "RMSE" : "MAE"; /* the table's names since the first release */
        cli_num(values[n++], v[i]);
    }
    if (first >= nm)
        for (int x = 0; x < n_extra; x++) {
            names[n] = extra_names[x];
            cli_num(values[n++], extra_values[x]);
        }
    if (m->n_ranking > 0) {
        names[n] = "users";
        snprintf(values[n++], sizeof values[0], "%lld", (long long)m->n_users);
        names[n] = "users skipped";
        snprintf(values[n++], sizeof values[0], "%lld", (long long)m->n_users_skipped);
    }
    names[n] = count_name;
    snprintf(values[n++], sizeof values[0], "%lld", (long long)m->n);
    if (with_unknown) {
        names[n] = "unknown users";
        snprintf(values[n++], sizeof values[0], "%lld", (long long)m->n_unknown_users);
        names[n] = "unknown items";
        snprintf(values[n++], sizeof values[0], "%lld", (long long)m->n_unknown_items);
    }
    for (int i = 0; i < n; i++)
        if ((int)strlen(names[i]) + 1 > w)
            w = (int)strlen(names[i]) + 1;
    for (int i = 0; i < n; i++)
        fprintf(out, "%-*s %s\n", w, names[i], values[i]);
}

void cli_print_users(FILE *out, const char *which, const facto_metrics *m)
{
    if (m->n_ranking > 0)
        fprintf(out, "#%s_users (algo-1) : %lld scored, %lld skipped\n", which, (long long)m->n_users,
                (long long)m->n_users_skipped);
}

void cli_json_users(json_t *root, const facto_metrics *m)
{
    if (m->n_ranking <= 0)
        return;
    json_object_set_new(root, "n_users", json_integer(m->n_users));
    json_object_set_new(root, "n_users_skipped", json_integer(m->n_users_skipped));
}

void cli_json_metrics(json_t *root, const char *prefix, const facto_metrics *m, int have)
{
    const char *names[CLI_MAX_FIGURES];
    double values[CLI_MAX_FIGURES];
    int n = cli_metric_list(m, names, values), first_ranking = n - m->n_ranking;
    for (int i = 0; i < n; i++) {
        char key[96];
        snprintf(key, sizeof key, "%s%s", i < first_ranking ? prefix : "", names[i]);
        if (i >= first_ranking && json_object_get(root, key)) /* a classifier's own "auc" */
            snprintf(key, sizeof key, "ranking_%s", names[i]);
        json_object_set_new(root, key, cli_json_float(have ? values[i] : NAN));
    }
}
