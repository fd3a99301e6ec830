/*
 * ials_tune.c — how iALS's defaults were chosen, and its accuracy against
 * EASE on the same split.
 *
 * Protocol (issue 9): ml-100k u.data read as implicit data with threshold 4
 * (55,375 positives of weight 1), the library's per-user:0.2 split with
 * seed 1 as TEST, then per-user:0.2 of the training part (seed 2, or
 * --val-seed) as VALIDATION. NDCG@10 (binary relevance,
 * ideal DCG over min(|test items|, 10)) and Recall@20 over every item the
 * model knows, training items left out. Tuning reads VALIDATION only
 * (`--eval val`: trained on train minus validation); `--eval test` trains
 * on the whole training part and reads TEST, once the settings are fixed.
 *
 * Usage: ials_tune [--data DIR] [--eval val|test] [--val-seed S] [--seeds N]
 *                  [--ease LAMBDA] [--threads T] [name=value ...]
 *   name=value: any ials hyperparameter (num_factors=128, reg=0.003, ...);
 *   --seeds N: repeat with model seeds 1..N and print the mean and spread;
 *   --ease L: instead of iALS, EASE (Steck 2019) with L2 weight L: B = I -
 *   P diag(1 / diag P), P = (X^T X + L I)^-1, through this file's own dense
 *   double Cholesky (a reference, not the library's kind).
 * Prints one line: ndcg@10, recall@20, seconds.
 *
 * bench/ials_tune.sh runs the grid the defaults were chosen with and
 * records its figures.
 */
#include "facto.h"
#include "data/dataset.h"
#include "kernels/chol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* NDCG@k and Recall@k of the EASE reference (same definitions as the library's). */
typedef struct ru_metrics {
    double ndcg, recall;
    int32_t users;
} ru_metrics;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(facto_ctx *ctx, const char *what)
{
    fprintf(stderr, "ials_tune: %s: %s\n", what, ctx ? facto_errmsg(ctx) : "failed");
    exit(1);
}

/* EASE scores of every train user against every item; NDCG@10 / Recall@20 on test. */
static void run_ease(const facto_dataset *train, const facto_dataset *test, double lambda, ru_metrics *m10,
                     ru_metrics *m20)
{
    const int32_t n = train->n_items;
    double *P = calloc((size_t)n * (size_t)n, sizeof *P);
    double *B = calloc((size_t)n * (size_t)n, sizeof *B);
    double *col = malloc((size_t)n * sizeof *col);
    if (!P || !B || !col) {
        fprintf(stderr, "ials_tune: out of memory\n");
        exit(1);
    }
    for (int32_t u = 0; u < train->n_users; u++)
        for (int64_t a = train->row_ptr[u]; a < train->row_ptr[u + 1]; a++)
            for (int64_t b = train->row_ptr[u]; b <= a; b++)
                P[(size_t)train->items[a] * n + train->items[b]] += 1.0; /* items ascending: lower triangle */
    for (int32_t i = 0; i < n; i++)
        P[(size_t)i * n + i] += lambda;
    if (fct_chol_factor_d(P, n) != 0) {
        fprintf(stderr, "ials_tune: EASE Gram matrix is not positive definite\n");
        exit(1);
    }
    /* B[:, j] = inverse column j, then B = -P / diag(P) off the diagonal. */
    for (int32_t j = 0; j < n; j++) {
        memset(col, 0, (size_t)n * sizeof *col);
        col[j] = 1.0;
        fct_chol_solve_d(P, n, col);
        for (int32_t i = 0; i < n; i++)
            B[(size_t)i * n + j] = col[i];
    }
    double *diag = malloc((size_t)n * sizeof *diag);
    for (int32_t j = 0; j < n; j++)
        diag[j] = B[(size_t)j * n + j];
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < n; j++)
            B[(size_t)i * n + j] = i == j ? 0.0 : -B[(size_t)i * n + j] / diag[j];
    /* Score, rank, evaluate. */
    int32_t *tmap = malloc((size_t)test->n_items * sizeof *tmap);
    for (int32_t i = 0; i < test->n_items; i++)
        tmap[i] = facto_idmap_find(train->item_map, facto_idmap_name(test->item_map, i));
    double *s = malloc((size_t)n * sizeof *s);
    char *seen = calloc((size_t)n, 1);
    const int K[2] = {10, 20};
    ru_metrics *outm[2] = {m10, m20};
    for (int t = 0; t < 2; t++)
        memset(outm[t], 0, sizeof *outm[t]);
    for (int32_t tu = 0; tu < test->n_users; tu++) {
        int64_t tb = test->row_ptr[tu], tn = test->row_ptr[tu + 1] - tb;
        int32_t u = facto_idmap_find(train->user_map, facto_idmap_name(test->user_map, tu));
        if (tn == 0 || u < 0)
            continue;
        memset(s, 0, (size_t)n * sizeof *s);
        for (int64_t x = train->row_ptr[u]; x < train->row_ptr[u + 1]; x++) {
            const double *row = B + (size_t)train->items[x] * n;
            for (int32_t j = 0; j < n; j++)
                s[j] += row[j];
            seen[train->items[x]] = 1;
        }
        for (int t = 0; t < 2; t++) {
            int k = K[t], hits = 0;
            double dcg = 0.0, idcg = 0.0;
            /* selection of the top k, ties to the lower index */
            int32_t top[32];
            int got = 0;
            for (int r = 0; r < k; r++) {
                int32_t best = -1;
                for (int32_t j = 0; j < n; j++) {
                    if (seen[j])
                        continue;
                    int taken = 0;
                    for (int q = 0; q < got && !taken; q++)
                        taken = top[q] == j;
                    if (!taken && (best < 0 || s[j] > s[best]))
                        best = j;
                }
                if (best < 0)
                    break;
                top[got++] = best;
                int hit = 0;
                for (int64_t x = tb; x < tb + tn && !hit; x++)
                    hit = tmap[test->items[x]] == best;
                if (hit) {
                    dcg += 1.0 / log2(r + 2.0);
                    hits++;
                }
            }
            int64_t ideal = tn < k ? tn : k;
            for (int64_t r = 0; r < ideal; r++)
                idcg += 1.0 / log2(r + 2.0);
            outm[t]->ndcg += dcg / idcg;
            outm[t]->recall += (double)hits / (double)ideal;
            outm[t]->users++;
        }
        for (int64_t x = train->row_ptr[u]; x < train->row_ptr[u + 1]; x++)
            seen[train->items[x]] = 0;
    }
    for (int t = 0; t < 2; t++) {
        outm[t]->ndcg /= outm[t]->users;
        outm[t]->recall /= outm[t]->users;
    }
    free(P);
    free(B);
    free(col);
    free(diag);
    free(tmap);
    free(s);
    free(seen);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("FACTO_DATA_HOME");
    char path[1024];
    const char *eval = "val";
    int seeds = 0, threads = 0;
    uint64_t val_seed = 2;
    double ease = -1.0;
    facto_ctx *ctx = facto_ctx_new();
    facto_params *params = NULL;
    if (facto_params_new(ctx, "ials", &params) != FACTO_OK)
        die(ctx, "params");
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--data") && a + 1 < argc)
            dir = argv[++a];
        else if (!strcmp(argv[a], "--eval") && a + 1 < argc)
            eval = argv[++a];
        else if (!strcmp(argv[a], "--seeds") && a + 1 < argc)
            seeds = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--ease") && a + 1 < argc)
            ease = atof(argv[++a]);
        else if (!strcmp(argv[a], "--val-seed") && a + 1 < argc)
            val_seed = strtoull(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
            threads = atoi(argv[++a]);
        else if (strchr(argv[a], '=')) {
            char name[128];
            const char *eq = strchr(argv[a], '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - argv[a]), argv[a]);
            if (facto_params_set(ctx, params, name, eq + 1) != FACTO_OK)
                die(ctx, argv[a]);
        } else {
            fprintf(stderr, "usage: ials_tune [--data DIR] [--eval val|test] [--val-seed S] [--seeds N] [--ease L] "
                            "[--threads T] [name=value ...]\n");
            return 2;
        }
    }
    if (threads > 0)
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
    double t0 = now();
    if (ease >= 0.0) {
        ru_metrics m10, m20;
        run_ease(tr, te, ease, &m10, &m20);
        printf("ease lambda=%g eval=%s ndcg@10 %.4f recall@20 %.4f users %d  %.2fs\n", ease, eval, m10.ndcg,
               m20.recall, m10.users, now() - t0);
        return 0;
    }
    int n_runs = seeds > 0 ? seeds : 1;
    double sum = 0.0, sum2 = 0.0, lo = 1.0, hi = 0.0, rsum = 0.0;
    for (int run = 0; run < n_runs; run++) {
        if (seeds > 0) {
            char sv[32];
            snprintf(sv, sizeof sv, "%d", run + 1);
            facto_params_set(ctx, params, "seed", sv);
        }
        facto_fit_data fd = {tr, NULL, NULL, NULL, NULL, NULL};
        facto_model *model = NULL;
        if (facto_model_fit(ctx, params, &fd, NULL, &model) != FACTO_OK)
            die(ctx, "fit");
        facto_eval_options eo = facto_eval_options_default();
        eo.metrics = "ndcg@10,recall@20";
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
    double mean = sum / n_runs, sd = n_runs > 1 ? sqrt((sum2 - n_runs * mean * mean) / (n_runs - 1)) : 0.0;
    char buf[1024];
    facto_params_format(params, buf, sizeof buf);
    for (char *c = buf; *c; c++)
        if (*c == '\n')
            *c = ' ';
    printf("ials eval=%s ndcg@10 %.4f (sd %.4f, min %.4f, max %.4f, %d seeds) recall@20 %.4f  %.2fs  %s\n", eval,
           mean, sd, lo, hi, n_runs, rsum / n_runs, (now() - t0) / n_runs, buf);
    facto_dataset_free(all);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_dataset_free(fit);
    facto_dataset_free(val);
    facto_params_free(params);
    facto_ctx_free(ctx);
    return 0;
}
