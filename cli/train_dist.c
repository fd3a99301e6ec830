/*
 * train_dist.c — `facto train --distributed`, built only with
 * FACTO_WITH_MPI (CMakeLists.txt leaves the file out otherwise). Run under
 * mpirun: every rank parses the same command line. Ratings in a .fds file
 * (--train X.fds, mf) are read by each rank for its own users only (by
 * offset); any other input (text ratings, --dataset, feature rows, a .fds
 * file split on the fly by --split) is read whole by every rank, which keeps
 * its own part. Rank 0 prints one line an
 * epoch (running train RMSE of the SGD errors, seconds, updates/s, bytes
 * sent by all ranks), saves the model (an ordinary model file, the same for
 * eval, recommend, serve) and scores it on the training data it holds and
 * the test data. Messages: what every rank prints alike (notes and errors
 * of reading the same data, a setting every rank refuses) is printed once,
 * by rank 0; a rank's own error (its shard) once, as "facto: rank R: ...",
 * by that rank; each line in one write, so lines of ranks never mix.
 * docs/distributed.md says how to run it on a cluster.
 */
#include "train_dist.h"

#include "facto_dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Standard error of a step every rank runs alike, held in a temporary file
 * until the ranks have compared what they wrote (cli_dist_print). */
typedef struct cli_held {
    FILE *tmp;
    int saved; /* the real standard error, -1 when nothing is held */
} cli_held;

static void cli_hold(cli_held *h)
{
    fflush(stderr);
    h->tmp = tmpfile();
    h->saved = h->tmp ? dup(STDERR_FILENO) : -1;
    if (h->saved >= 0 && dup2(fileno(h->tmp), STDERR_FILENO) < 0) {
        close(h->saved);
        h->saved = -1;
    }
}

/* The held text (malloc'ed, *n bytes; NULL when none), standard error restored. */
static char *cli_release(cli_held *h, size_t *n)
{
    char *text = NULL;
    *n = 0;
    fflush(stderr);
    if (h->saved >= 0) {
        dup2(h->saved, STDERR_FILENO);
        close(h->saved);
        long size = fseek(h->tmp, 0, SEEK_END) == 0 ? ftell(h->tmp) : -1;
        if (size > 0 && fseek(h->tmp, 0, SEEK_SET) == 0 && (text = malloc((size_t)size)) != NULL)
            *n = fread(text, 1, (size_t)size, h->tmp);
    }
    if (h->tmp)
        fclose(h->tmp);
    h->tmp = NULL;
    h->saved = -1;
    return text;
}

/* All of buf [n] to standard error in one write where the system allows. */
static void cli_write_err(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, buf, n);
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

/*
 * Every rank's text [n] (what it held, or its error line): when all ranks
 * hold the same, rank 0 prints it as it is; else each rank prints its own
 * lines as "facto: rank R: ...". One write a line. Collective.
 */
static void cli_dist_print(const char *text, size_t n, int rank)
{
    int same = facto_dist_all_same(text ? text : "", text ? n : 0);
    if (!text || n == 0 || (same == 1 && rank != 0))
        return;
    for (size_t at = 0; at < n;) {
        const char *line = text + at, *nl = memchr(line, '\n', n - at);
        size_t len = nl ? (size_t)(nl - line) : n - at;
        at += len + 1;
        if (same == 1) {
            cli_write_err(line, len + (nl ? 1 : 0));
            if (!nl)
                cli_write_err("\n", 1);
            continue;
        }
        if (len >= 7 && strncmp(line, "facto: ", 7) == 0) {
            line += 7;
            len -= 7;
        }
        char head[48];
        int hn = snprintf(head, sizeof head, "facto: rank %d: ", rank);
        char *buf = malloc((size_t)hn + len + 1);
        if (!buf)
            return;
        memcpy(buf, head, (size_t)hn);
        memcpy(buf + hn, line, len);
        buf[(size_t)hn + len] = '\n';
        cli_write_err(buf, (size_t)hn + len + 1);
        free(buf);
    }
}

/* 1 when `path` is a regular file starting with the .fds magic. */
static int cli_is_fds(const char *path)
{
    FILE *f = path && strcmp(path, "-") != 0 ? fopen(path, "rb") : NULL;
    char head[8];
    int yes = f && fread(head, 1, 8, f) == 8 && memcmp(head, "FACTOFDS", 8) == 0;
    if (f)
        fclose(f);
    return yes;
}

static void cli_bytes_text(char *buf, size_t size, double b)
{
    if (b >= 1e9)
        snprintf(buf, size, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, size, "%.2f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(buf, size, "%.1f kB", b / 1e3);
    else
        snprintf(buf, size, "%.0f B", b);
}

typedef struct cli_dist_log {
    int64_t bytes;  /* sum over the epochs */
    int epochs;
} cli_dist_log;

static int cli_dist_epoch(const facto_dist_report *r, void *user_data)
{
    cli_dist_log *log = user_data;
    char b[32];
    cli_bytes_text(b, sizeof b, (double)r->bytes);
    if (isnan(r->train_rmse)) /* a kind that reports its objective instead (ials) */
        printf("epoch %d/%d: train loss %.6f (per pair), %.2f s, %.3g interactions/s, %s sent\n", r->epoch,
               r->epochs, r->train_loss, r->seconds, r->updates_per_second, b);
    else
        printf("epoch %d/%d: train rmse %.4f (running), %.2f s, %.3g updates/s, %s sent\n", r->epoch, r->epochs,
               r->train_rmse, r->seconds, r->updates_per_second, b);
    fflush(stdout);
    log->bytes += r->bytes;
    log->epochs++;
    return 0;
}

static void cli_dist_scores(const char *what, const facto_metrics *m)
{
    if (m->task == FACTO_TASK_REGRESSION)
        printf("%s: rmse %.4f, mae %.4f (%lld)\n", what, m->rmse, m->mae, (long long)m->n);
    else if (m->task == FACTO_TASK_BINARY)
        printf("%s: accuracy %.4f, auc %.4f (%lld)\n", what, m->binary.accuracy, m->binary.auc, (long long)m->n);
    else if (m->task == FACTO_TASK_RANKING) {
        printf("%s:", what);
        for (int x = 0; x < m->n_ranking; x++)
            printf("%s %s %.4f", x ? "," : "", m->ranking[x].name, m->ranking[x].value);
        printf(" (%lld users)\n", (long long)m->n_users);
    }
}

int cli_train_dist(facto_ctx *ctx, const char *verb, facto_params *p, const cli_data_opts *data, const char *out,
                   int async)
{
    if (facto_dist_init(NULL, NULL) != 0)
        return FACTO_EXIT_INTERNAL;
    const int rank = facto_dist_rank(), size = facto_dist_size();
    const char *kind = facto_params_kind(p);
    cli_rank = rank;
    /* until the ranks have compared notes, what they print is held */
    cli_held held;
    cli_hold(&held);
    /* A .fds training file of a kind that trains on the ratings themselves
     * (mf, ials) is read in shards: no rank reads it whole. An implicit
     * threshold drops pairs as the whole file is read, and --split splits the
     * whole file: with either, every rank reads it whole. */
    const char *fds = facto_params_inputs(p) == FACTO_INPUT_RATINGS && !data->src.dataset && data->src.ratings &&
                              !data->src.split && !(data->read.opts.implicit_threshold > 0.0) &&
                              cli_is_fds(data->src.ratings)
                          ? data->src.ratings : NULL;
    FILE *sink = rank == 0 ? stdout : fopen("/dev/null", "w");
    facto_status st = FACTO_OK;
    int rc = 0;
    cli_train_data d;
    memset(&d, 0, sizeof d);
    if (!sink)
        rc = FACTO_EXIT_INTERNAL;
    /* a kind without a distributed trainer, or settings it does not take:
     * refused before anything is read, as bad usage */
    if (rc == 0 && (st = facto_dist_check_settings(ctx, p, async, size)) != FACTO_OK)
        rc = cli_fail(ctx, st, 1);
    if (rc == 0 && rank == 0 && out && (st = facto_model_save_check(ctx, out)) != FACTO_OK)
        rc = cli_fail(ctx, st, 0);
    if (rc == 0 && fds) {
        /* rank 0 reads the test file whole, to score the model */
        if (rank == 0 && data->src.test_ratings) {
            facto_read_options ro = data->read.opts;
            if (facto_params_task(p) == FACTO_TASK_RANKING) /* as cli_data_load reads for a ranking kind */
                ro.implicit = 1;
            if ((st = facto_dataset_read(ctx, data->src.test_ratings, &ro, &d.test, NULL)) != FACTO_OK)
                rc = cli_fail(ctx, st, 0);
        }
    } else if (rc == 0) {
        rc = cli_data_load(ctx, verb, data, p, sink, &d);
    }
    size_t n_held = 0;
    char *text = cli_release(&held, &n_held);
    cli_dist_print(text, n_held, rank);
    free(text);
    if (facto_dist_agree(ctx, rc ? FACTO_ERR_IO : FACTO_OK) != FACTO_OK) {
        if (sink && sink != stdout)
            fclose(sink);
        cli_data_free(&d);
        facto_dist_finalize();
        return rc ? rc : FACTO_EXIT_DATA;
    }
    if (rank == 0) {
        printf("distributed %s%s on %d rank%s: ", async ? "asynchronous " : "", kind, size, size == 1 ? "" : "s");
        if (fds)
            printf("%s, read in %d shards by offset\n", fds, size);
        else if (d.on_rows) {
            long long rows = facto_rows_count(d.train_rows), dim = (long long)facto_rows_dim(d.train_rows);
            printf("%lld row%s of %lld feature%s (every rank reads them, keeps every %d-th)\n", rows,
                   cli_plural(rows), dim, cli_plural(dim), size);
        } else {
            long long n = facto_dataset_n_ratings(d.train), nu = facto_dataset_n_users(d.train),
                      ni = facto_dataset_n_items(d.train);
            printf("%lld rating%s (%lld user%s, %lld item%s; every rank reads them, keeps its users)\n", n,
                   cli_plural(n), nu, cli_plural(nu), ni, cli_plural(ni));
        }
        fflush(stdout);
    }
    cli_dist_log log = {0, 0};
    facto_dist_data dd = {fds ? NULL : d.on_rows ? NULL : d.train, fds, d.on_rows ? d.train_rows : NULL,
                          cli_dist_epoch, &log, async};
    facto_model *model = NULL;
    int64_t bytes = 0;
    double t0 = cli_now();
    st = facto_dist_fit(ctx, p, &dd, &model, &bytes);
    double secs = cli_now() - t0;
    {
        /* the fit's error: printed once when every rank had it, else by each
         * rank that failed itself (not by those told that another rank did) */
        char line[4200] = "";
        if (st != FACTO_OK && !facto_dist_failed_elsewhere()) {
            const char *msg = facto_errmsg(ctx);
            snprintf(line, sizeof line, "facto: %s\n", msg && *msg ? msg : facto_status_str(st));
        }
        cli_dist_print(line, strlen(line), rank);
    }
    if (st != FACTO_OK) {
        rc = cli_exit_of(st);
    } else if (rank == 0) {
        char b1[32], b2[32];
        cli_bytes_text(b1, sizeof b1, (double)bytes);
        cli_bytes_text(b2, sizeof b2, log.epochs ? (double)log.bytes / log.epochs : 0.0);
        printf("trained in %.2f s; sent %s in all (%s per epoch)\n", secs, b1, b2);
        if (out && (st = facto_model_save(ctx, model, out)) == FACTO_OK)
            printf("saved model to %s (%lld bytes)\n", out, cli_file_size(out));
        facto_metrics m;
        facto_eval_options eo = facto_eval_options_default();
        if (st == FACTO_OK && d.on_rows) {
            if ((st = facto_model_evaluate_rows(ctx, model, d.train_rows, &m)) == FACTO_OK)
                cli_dist_scores("train", &m);
            if (st == FACTO_OK && d.test_rows && (st = facto_model_evaluate_rows(ctx, model, d.test_rows, &m)) ==
                                                     FACTO_OK)
                cli_dist_scores("test", &m);
        } else if (st == FACTO_OK) {
            /* (a ranking model leaves each user's training items out: nothing to score on them) */
            if (d.train && facto_model_task(model) != FACTO_TASK_RANKING &&
                (st = facto_model_evaluate(ctx, model, d.train, &eo, &m, NULL)) == FACTO_OK)
                cli_dist_scores("train", &m);
            if (st == FACTO_OK && d.test && (st = facto_model_evaluate(ctx, model, d.test, &eo, &m, NULL)) ==
                                                FACTO_OK)
                cli_dist_scores("test", &m);
        }
        if (st != FACTO_OK)
            rc = cli_fail(ctx, st, 0);
    }
    facto_model_free(model);
    cli_data_free(&d);
    if (sink && sink != stdout)
        fclose(sink);
    facto_dist_finalize();
    return rc;
}
