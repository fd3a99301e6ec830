/*
 * train_report.c — what `facto train` prints (train_report.h). Design: the
 * epoch line is picked by the report's task, the rate's unit by the data's
 * form (ratings/s on ratings, samples/s on rows), the header's summary and
 * notes come from facto_params_describe, the final figures are the saved
 * model's (scored after the fit by the caller), and the JSON's "params"
 * are the model's own hyperparameters. Cost O(1) per callback; the bar is
 * redrawn at most every 0.1 s.
 */
#include "train_report.h"

#include "hparams.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cli_on_epoch(const facto_epoch_report *e, void *user)
{
    cli_train_report *r = user;
    cli_report_bar_clear(r);
    FILE *out = r->info;
    fprintf(out, "epoch %*d/%d", e->epochs >= 100 ? 3 : 2, e->epoch, e->epochs);
    char a[32], b[32], c[32]; /* 4 decimals, or 4 digits for a figure below 1e-3 (cli_rnum) */
    if (e->train.task == FACTO_TASK_BINARY) {
        fprintf(out, "  train accuracy %s cross_entropy %s", cli_rnum(a, e->train.binary.accuracy, 4),
                cli_rnum(b, e->train.binary.cross_entropy, 4));
        if (e->test.n > 0)
            fprintf(out, "  test accuracy %s cross_entropy %s auc %s", cli_rnum(a, e->test.binary.accuracy, 4),
                    cli_rnum(b, e->test.binary.cross_entropy, 4), cli_rnum(c, e->test.binary.auc, 4));
    } else if (e->train.task == FACTO_TASK_REGRESSION) {
        fprintf(out, "  train RMSE %s MAE %s", cli_rnum(a, e->train.rmse, 4), cli_rnum(b, e->train.mae, 4));
        if (e->test.n > 0)
            fprintf(out, "  test RMSE %s MAE %s", cli_rnum(a, e->test.rmse, 4), cli_rnum(b, e->test.mae, 4));
    }
    if (isfinite(e->train_loss)) /* kinds that report their objective (ials) */
        fprintf(out, "  train loss %s", cli_rnum(a, e->train_loss, 6));
    /* the ranking metrics an epoch's evaluation computed, the first three */
    for (int i = 0; i < e->test.n_ranking && i < 3; i++)
        fprintf(out, "%s%s %s", i ? " " : "  test ", e->test.ranking[i].name, cli_rnum(a, e->test.ranking[i].value, 4));
    fprintf(out, "  %.3fs %.0f %s/s\n", e->seconds, e->samples_per_second, r->unit);
    fflush(out);
    r->last = *e;
    r->have_last = 1;
    r->update_seconds += e->seconds;
    return 0;
}

static int cli_on_progress(int epoch, int64_t done, int64_t total, void *user)
{
    cli_train_report *r = user;
    if (!r->tty || total <= 0)
        return 0;
    double now = cli_now();
    if (now - r->last_bar < 0.1 && done < total)
        return 0;
    r->last_bar = now;
    int epochs = r->last.epochs;
    double elapsed = now - r->t_start;
    double processed = (double)(epoch - 1) * (double)total + (double)done;
    double rate = elapsed > 0 ? processed / elapsed : 0;
    char eta[32] = "?";
    if (rate > 0 && epochs > 0) {
        double left = ((double)epochs * (double)total - processed) / rate;
        snprintf(eta, sizeof eta, "%d:%02d", (int)(left / 60), (int)fmod(left, 60));
    }
    int width = 30, fill = (int)((double)width * (double)done / (double)total);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[Kepoch %d [%s] %3d%%  %.0f %s/s  ETA %s", epoch, bar,
            (int)(100.0 * (double)done / (double)total), rate, r->unit, eta);
    fflush(stderr);
    r->bar_shown = 1;
    return 0;
}

facto_fit_callbacks cli_report_begin(cli_train_report *r, FILE *info, const cli_train_data *d)
{
    memset(r, 0, sizeof *r);
    r->info = info;
    r->tty = cli_stderr_is_tty();
    r->unit = d->on_rows ? "samples" : "ratings";
    r->n_train = d->on_rows ? facto_rows_count(d->train_rows) : facto_dataset_n_ratings(d->train);
    r->t_start = cli_now();
    facto_fit_callbacks cb = {cli_on_epoch, cli_on_progress, r};
    return cb;
}

void cli_report_bar_clear(cli_train_report *r)
{
    if (r->bar_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        r->bar_shown = 0;
    }
}

/* ", user features from FILE (N ids, C columns)" for a side table. */
static void cli_header_features(FILE *info, const char *which, const char *path, const facto_features *f)
{
    if (f) {
        long long ids = facto_features_n_ids(f), cols = facto_features_n_columns(f);
        fprintf(info, ", %s features from %s (%lld id%s, %lld column%s)", which, path, ids, cli_plural(ids), cols,
                cli_plural(cols));
    }
}

void cli_report_header(FILE *info, const facto_params *p, const cli_train_data *d)
{
    size_t need = facto_params_describe(p, NULL, 0);
    char *text = malloc(need + 1);
    if (text)
        facto_params_describe(p, text, need + 1);
    const char *notes = text ? strchr(text, '\n') : NULL;
    int summary = text ? (int)(notes ? (size_t)(notes - text) : strlen(text)) : 0;
    fprintf(info, "training %s%s%.*s%s", facto_params_kind(p), summary ? " (" : "", summary, text ? text : "",
            summary ? ")" : "");
    if (d->on_rows) {
        long long rows = facto_rows_count(d->train_rows), dim = (long long)facto_rows_dim(d->train_rows);
        fprintf(info, " on %lld row%s of %lld feature%s", rows, cli_plural(rows), dim, cli_plural(dim));
    } else {
        long long n = facto_dataset_n_ratings(d->train), nu = facto_dataset_n_users(d->train),
                  ni = facto_dataset_n_items(d->train);
        fprintf(info, " on %lld rating%s (%lld user%s, %lld item%s)", n, cli_plural(n), nu, cli_plural(nu), ni,
                cli_plural(ni));
    }
    cli_header_features(info, "user", d->user_file, d->user_features);
    cli_header_features(info, "item", d->item_file, d->item_features);
    if (d->test_rows && d->on_rows) {
        long long rows = facto_rows_count(d->test_rows);
        fprintf(info, ", testing on %lld row%s", rows, cli_plural(rows));
    } else if (d->test && !d->on_rows && d->history) {
        long long n = facto_dataset_n_ratings(d->test), nu = facto_dataset_n_users(d->history);
        fprintf(info, ", testing on %lld rating%s of %lld held-out user%s folded in from %lld more", n, cli_plural(n),
                nu, cli_plural(nu), (long long)facto_dataset_n_ratings(d->history));
    } else if (d->test && !d->on_rows) {
        long long n = facto_dataset_n_ratings(d->test);
        fprintf(info, ", testing on %lld rating%s", n, cli_plural(n));
    }
    fprintf(info, "\n");
    if (notes && notes[1])
        fputs(notes + 1, info);
    fflush(info);
    free(text);
}

/* The running average of an MCMC regressor's predictions (libFM's figure). */
static double cli_chain_rmse(const cli_train_report *r, const cli_train_result *res)
{
    return r->have_last && res->have_test ? r->last.test_rmse_average : NAN;
}

static int cli_report_json(facto_ctx *ctx, const cli_train_report *r, const cli_train_result *res,
                           const facto_params *p, const cli_train_data *d, double rate)
{
    json_t *root = json_object();
    facto_task task = res->train.task;
    json_object_set_new(root, "model", json_string(res->kind));
    json_object_set_new(root, "task", json_string(cli_task_name(task)));
    json_object_set_new(root, "trained_on", json_string(d->on_rows ? "rows" : "ratings"));
    cli_json_metrics(root, "train_", &res->train, 1);
    /* SageMaker names a classifier's test figures without a prefix */
    cli_json_metrics(root, task == FACTO_TASK_BINARY ? "" : "test_", &res->test, res->have_test);
    if (isfinite(cli_chain_rmse(r, res)))
        json_object_set_new(root, "test_rmse_chain", cli_json_float(cli_chain_rmse(r, res)));
    json_object_set_new(root, "epochs", json_integer(r->have_last ? r->last.epoch : 0));
    json_object_set_new(root, "seconds", cli_json_num(res->seconds, 4));
    json_object_set_new(root, "samples_per_second", cli_json_num(rate, 4));
    if (!d->on_rows)
        json_object_set_new(root, "ratings_per_second", cli_json_num(rate, 4));
    json_object_set_new(root, "n_train", json_integer(r->n_train));
    json_object_set_new(root, "n_test", json_integer(!res->have_test ? 0 : res->test.n));
    if (d->train)
        json_object_set_new(root, "duplicates", json_integer(d->duplicates));
    cli_json_users(root, &res->test);
    if (!d->on_rows && res->have_test) { /* as `facto eval` counts them */
        json_object_set_new(root, "unknown_users", json_integer(res->test.n_unknown_users));
        json_object_set_new(root, "unknown_items", json_integer(res->test.n_unknown_items));
    }
    if (d->history)
        json_object_set_new(root, "n_history", json_integer(facto_dataset_n_ratings(d->history)));
    if (d->train && d->read.implicit) {
        json_object_set_new(root, "implicit", json_true());
        json_object_set_new(root, "implicit_threshold", cli_json_num(d->read.implicit_threshold, 9));
        json_object_set_new(root, "below_threshold", json_integer(d->stats.n_below_threshold));
        json_object_set_new(root, "users_dropped", json_integer(d->stats.n_users_dropped));
        json_object_set_new(root, "items_dropped", json_integer(d->stats.n_items_dropped));
    }
    if (res->out) {
        json_object_set_new(root, "out", cli_json_str(res->out));
        json_object_set_new(root, "model_bytes", json_integer(res->model_bytes));
    }
    /* last, so a reader looking for the first "epochs" finds the run's, not a hyperparameter */
    json_object_set_new(root, "params", cli_params_json(ctx, p));
    return cli_json_print(root);
}

int cli_report_final(facto_ctx *ctx, const cli_train_report *r, const cli_train_result *res, const facto_params *p,
                     const cli_train_data *d, int json)
{
    double rate = r->update_seconds > 0 ? (double)r->n_train * (r->have_last ? r->last.epoch : 0) / r->update_seconds
                                        : 0;
    if (json)
        return cli_report_json(ctx, r, res, p, d, rate);
    cli_print_scores(stdout, "train", &res->train);
    if (res->have_test) {
        cli_print_scores(stdout, "test", &res->test);
        cli_print_users(stdout, "test", &res->test);
    }
    if (isfinite(cli_chain_rmse(r, res)))
    {
        char num[32];
        printf("#test_score (algo-1) : ('rmse_chain', %s)\n", cli_num(num, cli_chain_rmse(r, res)));
    }
    const int epochs = r->have_last ? r->last.epoch : 0;
    printf("#seconds (algo-1) : %.3f, %.0f %s/s over %d epoch%s\n", res->seconds, rate, r->unit, epochs,
           cli_plural(epochs));
    return 0;
}
