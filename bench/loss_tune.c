/*
 * loss_tune.c — how the defaults of the kinds trained on a ranking loss
 * (bpr, warp, softmax) were chosen, and their accuracy and training time on
 * the test part once chosen.
 *
 * Protocol (issue 9, as bench/ials_tune.c): ml-100k u.data read as implicit
 * data with threshold 4 (positives of weight 1), the library's
 * per-user:0.2 split with seed 1 as TEST, then per-user:0.2 of the
 * training part (seed 2; --val-seed for other carve-outs) as VALIDATION. NDCG@10 and
 * Recall@20 through facto_model_evaluate (full ranking over every item the
 * model knows, training items left out). Tuning reads VALIDATION only
 * (`--eval val`: trained on train minus validation); `--eval test` trains
 * on the whole training part and reads TEST, once the settings are fixed.
 *
 * Fold-in (`--foldin F`): a fraction F of the users (seed 5) is held out
 * of training entirely; after training on the others, each held-out user
 * is folded in from its training pairs (the model's least-squares history
 * query) and scored on its validation (or test) pairs, so the fold-in
 * settings are chosen on users the model never saw.
 *
 * Usage: loss_tune --kind bpr|warp|softmax [--data DIR] [--eval val|test]
 *                  [--seeds N] [--val-seed S] [--threads T] [--foldin F]
 *                  [name=value ...]
 *   name=value: any hyperparameter of the kind; --seeds N: model seeds
 *   1..N, mean and spread. Prints one line: ndcg@10 (mean, sd, min, max),
 *   recall@20, seconds a fit (training only), the settings.
 *
 * bench/loss_tune.sh runs the grids the defaults were chosen with and
 * records their figures.
 */
#include "facto.h"
#include "data/dataset.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(facto_ctx *ctx, const char *what)
{
    fprintf(stderr, "loss_tune: %s: %s\n", what, ctx ? facto_errmsg(ctx) : "failed");
    exit(1);
}

/* The pairs of ds whose user is (keep 1) or is not (keep 0) in `held`
 * (one flag per user of ds), as a data set of their own. */
static facto_dataset *users_part(const facto_dataset *ds, const char *held, int keep)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *us = fct_idmap_new(), *is = fct_idmap_new();
    int bad = !ctx || !us || !is;
    for (int32_t u = 0; !bad && u < ds->n_users; u++) {
        if (!held[u] == !keep)
            continue;
        const char *un = facto_idmap_name(ds->user_map, u);
        const int32_t a = fct_idmap_intern(us, un, strlen(un));
        for (int64_t x = ds->row_ptr[u]; !bad && x < ds->row_ptr[u + 1]; x++) {
            const char *in = facto_idmap_name(ds->item_map, ds->items[x]);
            const int32_t b = fct_idmap_intern(is, in, strlen(in));
            bad = a < 0 || b < 0 || fct_coo_push(ctx, &coo, a, b, ds->ratings[x], 0, 0) != FACTO_OK;
        }
    }
    facto_dataset *out = NULL;
    if (bad || fct_dataset_from_coo(ctx, &coo, us, is, &out, NULL) != FACTO_OK)
        die(ctx, "user split");
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return out;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("FACTO_DATA_HOME"), *eval = "val", *kind = NULL;
    char path[1024];
    int seeds = 0, threads = 1;
    uint64_t val_seed = 2;
    double foldin = 0.0;
    facto_ctx *ctx = facto_ctx_new();
    for (int a = 1; a + 1 < argc; a++)
        if (!strcmp(argv[a], "--kind"))
            kind = argv[a + 1];
    if (!kind) {
        fprintf(stderr, "usage: loss_tune --kind bpr|warp|softmax [--data DIR] [--eval val|test] [--seeds N] "
                        "[--val-seed S] [--threads T] [--foldin F] [name=value ...]\n");
        return 2;
    }
    facto_params *params = NULL;
    if (facto_params_new(ctx, kind, &params) != FACTO_OK)
        die(ctx, "params");
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--kind") && a + 1 < argc)
            a++;
        else if (!strcmp(argv[a], "--data") && a + 1 < argc)
            dir = argv[++a];
        else if (!strcmp(argv[a], "--eval") && a + 1 < argc)
            eval = argv[++a];
        else if (!strcmp(argv[a], "--seeds") && a + 1 < argc)
            seeds = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--val-seed") && a + 1 < argc)
            val_seed = strtoull(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            threads = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--foldin") && a + 1 < argc)
            foldin = atof(argv[++a]);
        else if (strchr(argv[a], '=')) {
            char name[128];
            const char *eq = strchr(argv[a], '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - argv[a]), argv[a]);
            if (facto_params_set(ctx, params, name, eq + 1) != FACTO_OK)
                die(ctx, argv[a]);
        } else {
            fprintf(stderr, "loss_tune: unknown argument %s\n", argv[a]);
            return 2;
        }
    }
    facto_ctx_set_threads(ctx, threads);
    snprintf(path, sizeof path, "%s/ml-100k/u.data", dir ? dir : "data");
    facto_read_options ro = facto_read_options_default();
    ro.implicit = 1;
    ro.implicit_threshold = 4.0;
    facto_dataset *all = NULL, *train = NULL, *test = NULL, *fit = NULL, *val = NULL;
    if (facto_dataset_read(ctx, path, &ro, &all, NULL) != FACTO_OK)
        die(ctx, "read");
    facto_split sp = {FACTO_SPLIT_PER_USER, 0.2, 0, 0, 1};
    if (facto_dataset_split(ctx, all, &sp, &train, &test) != FACTO_OK)
        die(ctx, "split");
    sp.seed = val_seed;
    if (facto_dataset_split(ctx, train, &sp, &fit, &val) != FACTO_OK)
        die(ctx, "split");
    const facto_dataset *tr = !strcmp(eval, "test") ? train : fit;
    const facto_dataset *te = !strcmp(eval, "test") ? test : val;
    facto_dataset *tr_kept = NULL, *history = NULL, *te_held = NULL;
    if (foldin > 0.0) {
        /* Held-out users: a fraction of tr's users (seed 5), every one of them with test pairs. */
        char *held = calloc((size_t)tr->n_users, 1), *held_te = calloc((size_t)te->n_users, 1);
        fct_rng rng;
        fct_rng_seed(&rng, 5);
        for (int32_t u = 0; u < tr->n_users; u++)
            held[u] = fct_rng_uniform(&rng) < foldin;
        for (int32_t u = 0; u < te->n_users; u++) {
            int32_t v = facto_idmap_find(tr->user_map, facto_idmap_name(te->user_map, u));
            held_te[u] = v >= 0 && held[v];
        }
        tr_kept = users_part(tr, held, 0);
        history = users_part(tr, held, 1);
        te_held = users_part(te, held_te, 1);
        free(held);
        free(held_te);
        tr = tr_kept;
        te = te_held;
    }
    const int n_runs = seeds > 0 ? seeds : 1;
    double sum = 0.0, sum2 = 0.0, lo = 1.0, hi = 0.0, rsum = 0.0, secs = 0.0;
    for (int run = 0; run < n_runs; run++) {
        if (seeds > 0) {
            char sv[32];
            snprintf(sv, sizeof sv, "%d", run + 1);
            facto_params_set(ctx, params, "seed", sv);
        }
        facto_fit_data fd = {tr, NULL, NULL, NULL, NULL, NULL};
        facto_model *model = NULL;
        const double t0 = now();
        if (facto_model_fit(ctx, params, &fd, NULL, &model) != FACTO_OK)
            die(ctx, "fit");
        secs += now() - t0;
        facto_eval_options eo = facto_eval_options_default();
        eo.metrics = "ndcg@10,recall@20";
        eo.history = history;
        facto_metrics fm;
        if (facto_model_evaluate(ctx, model, te, &eo, &fm, NULL) != FACTO_OK)
            die(ctx, "evaluate");
        const double ndcg = facto_metrics_get(&fm, "ndcg@10"), recall = facto_metrics_get(&fm, "recall@20");
        sum += ndcg;
        sum2 += ndcg * ndcg;
        rsum += recall;
        lo = ndcg < lo ? ndcg : lo;
        hi = ndcg > hi ? ndcg : hi;
        facto_model_free(model);
    }
    const double mean = sum / n_runs;
    const double sd = n_runs > 1 ? sqrt(fmax(0.0, (sum2 - n_runs * mean * mean) / (n_runs - 1))) : 0.0;
    char buf[2048];
    facto_params_format(params, buf, sizeof buf);
    for (char *c = buf; *c; c++)
        if (*c == '\n')
            *c = ' ';
    printf("%s eval=%s%s ndcg@10 %.4f (sd %.4f, min %.4f, max %.4f, %d seeds) recall@20 %.4f  %.2fs  %s\n", kind,
           eval, foldin > 0.0 ? " foldin" : "", mean, sd, lo, hi, n_runs, rsum / n_runs, secs / n_runs, buf);
    facto_dataset_free(all);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_dataset_free(fit);
    facto_dataset_free(val);
    facto_dataset_free(tr_kept);
    facto_dataset_free(history);
    facto_dataset_free(te_held);
    facto_params_free(params);
    facto_ctx_free(ctx);
    return 0;
}
