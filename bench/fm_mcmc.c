/*
 * fm_mcmc.c (bench) — MCMC / ALS factorization machines on MovieLens 100K
 * (a split from $FACTO_DATA_HOME/ml-100k, default u1): prints seconds per
 * iteration and test RMSE (libFM's running average over all post-burn-in
 * samples, and the saved model's average over its thinned samples), plus the
 * model file size. Feature sets: onehot (user + item), side (+ u.user age
 * bucket, gender, occupation; u.item genres / n_genres, release decade),
 * implicit (+ the user's rated items / sqrt(|N(u)|)), all (side + implicit),
 * all2 (all + each item's raters / sqrt(|N(i)|) in the item block).
 * Side features are parsed here (u.user, u.item are ISO-8859-1; only ASCII
 * fields are used). Rows are block-structured unless --flat (one-hot only:
 * the expanded rows through what facto_fm_fit does with them).
 * Block data come with per-user / per-item sums (fm.h), kept as the
 * summary_rank parameter says (-1 default: rank 256; 0: --samples samples).
 * Usage: fm_mcmc [--features F] [--iter N] [--k K] [--samples S] [--seed S] [--chains C (4)] [--threads N (1)]
 *                [--split u1] [--als] [--flat] [--groups 0|1|2] [--burnin B] [--trace]
 *                [--reg L]      (ALS: linear_wd = factors_wd = L, default 10)
 *                [--rank R]     (summary_rank: -1 auto (default), 0 samples, R rank of the summary)
 *                [--classify]   (label = rating >= 4, probit MCMC; prints the classifier metrics)
 *                [--init SD]    (init_stdev of V, default 0.1)
 *                [--save FILE]  (keep the saved model there, e.g. to compare two builds byte for byte)
 */
#include "data/fm_blocks.h"
#include "solvers/fm_mcmc.h"
#include "train/fit_fm_ratings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(facto_ctx *ctx, const char *what)
{
    fprintf(stderr, "fm_mcmc: %s: %s\n", what, facto_errmsg(ctx));
    exit(2);
}

static int age_bucket(int age)
{
    return age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6;
}

/* Per train user: age bucket (7), gender (2), occupation (up to 32). */
static facto_rows *user_side(facto_ctx *ctx, const char *dir, const facto_dataset *train)
{
    char path[1100], line[1024], occs[32][32];
    int n_occ = 0;
    snprintf(path, sizeof path, "%s/u.user", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    int32_t U = facto_dataset_n_users(train);
    int *age = calloc((size_t)U, sizeof *age), *gender = calloc((size_t)U, sizeof *gender);
    int *occ = calloc((size_t)U, sizeof *occ);
    for (int32_t u = 0; u < U; u++)
        age[u] = -1;
    while (fgets(line, sizeof line, f)) {
        char *id = strtok(line, "|"), *a = strtok(NULL, "|"), *g = strtok(NULL, "|"), *o = strtok(NULL, "|");
        if (!id || !a || !g || !o)
            continue;
        int oi = 0;
        while (oi < n_occ && strcmp(occs[oi], o) != 0)
            oi++;
        if (oi == n_occ && n_occ < 32)
            snprintf(occs[n_occ++], sizeof occs[0], "%s", o);
        int32_t u = facto_idmap_find(facto_dataset_users(train), id);
        if (u < 0)
            continue;
        age[u] = age_bucket(atoi(a));
        gender[u] = g[0] == 'F';
        occ[u] = oi;
    }
    fclose(f);
    facto_rows *r = facto_rows_new(0, 0);
    for (int32_t u = 0; u < U; u++) {
        if (age[u] >= 0) {
            facto_rows_push(ctx, r, (uint32_t)age[u], 1.0f);
            facto_rows_push(ctx, r, (uint32_t)(7 + gender[u]), 1.0f);
            facto_rows_push(ctx, r, (uint32_t)(9 + occ[u]), 1.0f);
        }
        facto_rows_finish_row(ctx, r, 0.0f);
    }
    free(age);
    free(gender);
    free(occ);
    return r;
}

/* Per train item: 19 genres each 1/n_genres, release decade (1920s..1990s). */
static facto_rows *item_side(facto_ctx *ctx, const char *dir, const facto_dataset *train)
{
    char path[1100], line[4096];
    snprintf(path, sizeof path, "%s/u.item", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    int32_t I = facto_dataset_n_items(train);
    int(*genre)[19] = calloc((size_t)I, sizeof *genre);
    int *decade = calloc((size_t)I, sizeof *decade);
    for (int32_t i = 0; i < I; i++)
        decade[i] = -1;
    while (fgets(line, sizeof line, f)) {
        char *fields[32];
        int nf = 0;
        char *p = line;
        fields[nf++] = p;
        while (*p && nf < 32) {
            if (*p == '|') {
                *p = 0;
                fields[nf++] = p + 1;
            }
            p++;
        }
        if (nf < 24)
            continue;
        int32_t i = facto_idmap_find(facto_dataset_items(train), fields[0]);
        if (i < 0)
            continue;
        size_t dl = strlen(fields[2]);
        if (dl >= 4) {
            int year = atoi(fields[2] + dl - 4);
            int d = (year - 1920) / 10;
            decade[i] = d < 0 ? 0 : d > 7 ? 7 : d;
        }
        for (int g = 0; g < 19; g++)
            genre[i][g] = fields[5 + g][0] == '1';
    }
    fclose(f);
    facto_rows *r = facto_rows_new(0, 0);
    for (int32_t i = 0; i < I; i++) {
        int ng = 0;
        for (int g = 0; g < 19; g++)
            ng += genre[i][g];
        for (int g = 0; g < 19; g++)
            if (genre[i][g])
                facto_rows_push(ctx, r, (uint32_t)g, 1.0f / (float)ng);
        if (decade[i] >= 0)
            facto_rows_push(ctx, r, (uint32_t)(19 + decade[i]), 1.0f);
        facto_rows_finish_row(ctx, r, 0.0f);
    }
    free(genre);
    free(decade);
    return r;
}

typedef struct trace_state {
    int every;
} trace_state;

static int on_iter(const fct_fm_epoch_report *r, void *ud)
{
    trace_state *t = ud;
    if (t->every > 0 && (r->epoch % t->every == 0 || r->epoch == r->epochs))
        printf("  iter %4d  train rmse %.4f  test rmse (avg) %.4f  %.1f ms\n", r->epoch, r->train.rmse,
               r->test.rmse, 1e3 * r->seconds);
    return 0;
}

int main(int argc, char **argv)
{
    const char *features = "onehot", *split = "u1", *save = NULL;
    int iters = 500, k = 32, samples = 16, als = 0, flat = 0, groups = 1, trace = 0, burnin = -1, classify = 0, rank = -1;
    int chains = 4, threads = 1;
    float reg = 10.0f, init = 0.1f;
    uint64_t seed = 1;
    for (int a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : "";
        if (!strcmp(argv[a], "--features"))
            features = v, a++;
        else if (!strcmp(argv[a], "--iter"))
            iters = atoi(v), a++;
        else if (!strcmp(argv[a], "--k"))
            k = atoi(v), a++;
        else if (!strcmp(argv[a], "--samples"))
            samples = atoi(v), a++;
        else if (!strcmp(argv[a], "--seed"))
            seed = strtoull(v, NULL, 10), a++;
        else if (!strcmp(argv[a], "--split"))
            split = v, a++;
        else if (!strcmp(argv[a], "--burnin"))
            burnin = atoi(v), a++;
        else if (!strcmp(argv[a], "--groups"))
            groups = atoi(v), a++;
        else if (!strcmp(argv[a], "--chains"))
            chains = atoi(v), a++;
        else if (!strcmp(argv[a], "--threads"))
            threads = atoi(v), a++;
        else if (!strcmp(argv[a], "--als"))
            als = 1;
        else if (!strcmp(argv[a], "--reg"))
            reg = (float)atof(v), a++;
        else if (!strcmp(argv[a], "--rank"))
            rank = atoi(v), a++;
        else if (!strcmp(argv[a], "--classify"))
            classify = 1;
        else if (!strcmp(argv[a], "--flat"))
            flat = 1;
        else if (!strcmp(argv[a], "--init"))
            init = (float)atof(v), a++;
        else if (!strcmp(argv[a], "--save"))
            save = v, a++;
        else if (!strcmp(argv[a], "--trace"))
            trace = 50;
        else {
            fprintf(stderr, "usage: fm_mcmc [--features onehot|side|implicit|all|all2] [--iter N] [--k K] "
                            "[--samples S] [--seed S] [--chains C] [--threads N] [--split u1] [--als] [--flat] [--groups 0|1|2] [--burnin B] [--classify] [--rank R] [--reg L (als)] [--trace] [--init SD] [--save FILE]\n");
            return 1;
        }
    }
    const char *home = getenv("FACTO_DATA_HOME");
    if (!home || !*home) {
        fprintf(stderr, "fm_mcmc: set FACTO_DATA_HOME to the folder holding ml-100k\n");
        return 77;
    }
    char dir[1024], base[1100], test[1100];
    snprintf(dir, sizeof dir, "%s/ml-100k", home);
    snprintf(base, sizeof base, "%s/%s.base", dir, split);
    snprintf(test, sizeof test, "%s/%s.test", dir, split);
    facto_ctx *ctx = facto_ctx_new();
    facto_read_options o = facto_read_options_default();
    facto_dataset *dtr = NULL, *dte = NULL;
    if (facto_dataset_read(ctx, base, &o, &dtr, NULL) != FACTO_OK)
        die(ctx, base);
    if (facto_dataset_read(ctx, test, &o, &dte, NULL) != FACTO_OK)
        die(ctx, test);

    int side = !strcmp(features, "side") || !strcmp(features, "all");
    int implicit = !strcmp(features, "implicit") || !strcmp(features, "all");
    int implicit_items = !strcmp(features, "all2");
    if (implicit_items)
        side = implicit = 1;
    fct_fm_ratings_spec spec = {implicit, implicit_items, NULL, NULL, NULL, NULL};
    /* Side columns: user age 0-6, gender 7-8, occupation 9..; item genres
     * 0-18, decade 19..26. One prior group per kind with --groups 2. */
    int32_t ugroup[9 + 32], igroup[27];
    for (int c = 0; c < 9 + 32; c++)
        ugroup[c] = c < 7 ? 0 : c < 9 ? 1 : 2;
    for (int c = 0; c < 27; c++)
        igroup[c] = c < 19 ? 0 : 1;
    if (groups == 2) {
        spec.user_side_group = ugroup;
        spec.item_side_group = igroup;
    }
    facto_rows *us = NULL, *is = NULL;
    if (side) {
        us = user_side(ctx, dir, dtr);
        is = item_side(ctx, dir, dtr);
        if (!us || !is) {
            fprintf(stderr, "fm_mcmc: cannot read u.user / u.item in %s\n", dir);
            return 2;
        }
        spec.user_side = us;
        spec.item_side = is;
    }
    fct_fm_data tr, te;
    if (fct_fm_data_from_ratings(ctx, dtr, dte, &spec, &tr, &te) != FACTO_OK)
        die(ctx, "building rows");
    if (classify) {
        facto_rows *l1 = (facto_rows *)tr.direct, *l2 = (facto_rows *)te.direct;
        for (int64_t n = 0; n < l1->n_rows; n++)
            l1->labels[n] = l1->labels[n] >= 4.0f ? 1.0f : 0.0f;
        for (int64_t n = 0; n < l2->n_rows; n++)
            l2->labels[n] = l2->labels[n] >= 4.0f ? 1.0f : 0.0f;
    }
    if (!groups) {
        if (tr.groups_owned)
            free((int32_t *)tr.feature_group);
        tr.feature_group = NULL;
        tr.n_groups = 0;
        tr.groups_owned = 0;
    }
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = tr.feature_dim;
    p.num_factors = k;
    p.predictor_type = classify ? FACTO_FM_BINARY_CLASSIFIER : FACTO_FM_REGRESSOR;
    p.solver = als ? FACTO_FM_SOLVER_ALS : FACTO_FM_SOLVER_MCMC;
    p.num_iter = iters;
    p.init_stdev = init;
    p.mcmc_samples = samples;
    p.seed = seed;
    p.summary_rank = rank;
    p.mcmc_chains = chains;
    p.prior_groups = groups ? 1 : 0;
    facto_ctx_set_threads(ctx, threads);
    if (als) {
        p.bias_wd = 0.0f;
        p.linear_wd = reg;
        p.factors_wd = reg;
    }
    trace_state ts = {trace};
    fct_fm_callbacks cb = {on_iter, &ts};
    facto_model *m = NULL;
    fct_fm_cd_result res;
    memset(&res, 0, sizeof res);
    facto_rows *ftr = NULL, *fte = NULL;
    if (fct_fm_data_expand(ctx, &te, &fte) != FACTO_OK)
        die(ctx, "expanding test rows");
    clock_t cpu0 = clock();
    if (flat) {
        if (fct_fm_data_expand(ctx, &tr, &ftr) != FACTO_OK)
            die(ctx, "expanding train rows");
        /* what facto_fm_fit's MCMC / ALS does with flat rows (one-hot
         * fields found, two of them swept in pair form), called here to
         * get the engine's time per iteration */
        fct_fm_model *fm = NULL;
        uint32_t *trs = NULL, *tes = NULL;
        if (fct_fm_model_new(ctx, &p, ftr, &fm) != FACTO_OK || fct_fm_map_rows(ctx, fm, ftr, "test", &trs) != FACTO_OK ||
            fct_fm_map_rows(ctx, fm, fte, "test", &tes) != FACTO_OK)
            die(ctx, "model");
        if (fct_fm_cd_run_rows(ctx, fm, als ? FACTO_FM_CD_ALS : FACTO_FM_CD_MCMC, ftr, trs, fte, tes,
                                 trace ? &cb : NULL, &res) != FACTO_OK)
            die(ctx, "fit");
        free(trs);
        free(tes);
        m = &fm->base;
    } else if (fct_fm_fit_blocks(ctx, &tr, &te, &p, trace ? &cb : NULL, burnin, 0, &m, &res) != FACTO_OK) {
        die(ctx, "fit");
    }
    double cpu_fit = (double)(clock() - cpu0) / CLOCKS_PER_SEC;
    facto_metrics mt;
    fct_fm_model *fmm = (fct_fm_model *)m;
    if (fmm->pair_b) {
        /* block data from ratings: the model keeps per-user / per-item sums
         * and predicts by ids (the ids as facto_fm_fit_ratings sets them) */
        fmm->users = fct_idmap_clone(facto_dataset_users(dtr));
        fmm->items = fct_idmap_clone(facto_dataset_items(dtr));
        facto_eval_options eo = facto_eval_options_default();
        eo.binarize = classify ? 4.0f : 0.0f;
        if (facto_model_evaluate(ctx, m, dte, &eo, &mt, NULL) != FACTO_OK)
            die(ctx, "evaluate");
    } else if (facto_model_evaluate_rows(ctx, m, fte, &mt) != FACTO_OK) {
        die(ctx, "evaluate");
    }
    char path[512];
    snprintf(path, sizeof path, "/tmp/fm_mcmc_bench_%ld.facto", (long)getpid());
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    if (save)
        snprintf(path, sizeof path, "%s", save);
    if (facto_model_save(ctx, m, path) == FACTO_OK)
        stat(path, &sb);
    if (!save)
        unlink(path);
    fct_fm_model *fm = (fct_fm_model *)m;
    if (classify) {
        printf("ml-100k %s %s mcmc classifier (rating >= 4) k=%d iter=%d, %d samples: accuracy %.4f "
               "cross-entropy %.4f F1 %.4f AUC %.4f precision %.4f recall %.4f\n",
               split, features, k, iters, (int)fm->n_samples, mt.binary.accuracy, mt.binary.cross_entropy,
               mt.binary.f_beta, mt.binary.auc, mt.binary.precision, mt.binary.recall);
        return 0;
    }
    /* The stored samples averaged before clipping (the running average's
     * order), to tell sampling variance from the per-sample clipping of the
     * model's scorer. */
    double avg_then_clip = NAN;
    if (fm->n_samples > 0) {
        uint32_t *slots = NULL;
        float *sum = malloc((size_t)fm->k * sizeof *sum);
        if (fct_fm_map_rows(ctx, fm, fte, "test", &slots) != FACTO_OK || !sum)
            die(ctx, "mapping rows");
        double se = 0.0;
        for (int64_t r = 0; r < fte->n_rows; r++) {
            int64_t b = fte->row_ptr[r], len = fte->row_ptr[r + 1] - b;
            double acc = 0.0;
            for (int32_t t = 0; t < fm->n_samples; t++)
                acc += fct_fm_row_raw(fm, fm->sample_w + (size_t)t * fm->n_slots,
                                        fm->sample_V + (size_t)t * fm->n_slots * fm->k, fm->sample_w0[t], slots + b,
                                        fte->values + b, len, sum);
            acc /= fm->n_samples;
            acc = acc < fm->target_min ? fm->target_min : acc > fm->target_max ? fm->target_max : acc;
            se += (acc - fte->labels[r]) * (acc - fte->labels[r]);
        }
        avg_then_clip = sqrt(se / (double)fte->n_rows);
        free(slots);
        free(sum);
    }
    int nch = als ? 1 : res.chains > 0 ? res.chains : 1;
    printf("ml-100k %s %s %s k=%d iter=%d chains=%d threads=%d%s: features %llu, train rows %lld\n", split, features,
           als ? "als" : "mcmc", k, iters, nch, threads, flat ? " (flat rows)" : " (blocks)",
           (unsigned long long)tr.feature_dim, (long long)tr.n_rows);
    printf("  seconds/iteration %.4f wall (all chains), %.4f CPU a chain  (total %.2f s wall, test scoring excluded)\n",
           res.seconds / res.iterations, res.cpu_seconds / res.iterations / nch, res.seconds);
    printf("  CPU seconds/iteration of the whole fit a chain, scoring the test rows every iteration included: %.4f\n",
           cpu_fit / iters / nch);
    if (!als)
        printf("  test RMSE, running average of %d post-burn-in samples: %.4f\n", res.iterations - res.burnin,
               res.test_rmse_avg);
    if (fm->pair_b)
        printf("  test RMSE, saved model (per-user / per-item sums, %d floats each): %.4f  MAE %.4f\n",
               (int)fm->pair_k, mt.rmse, mt.mae);
    else
        printf("  test RMSE, saved model (%d samples): %.4f  MAE %.4f; averaged before clipping %.4f\n",
               (int)fm->n_samples, mt.rmse, mt.mae, avg_then_clip);
    if (fm->pair_b)
        printf("  model file %.2f MiB (%d users + %d items x (%d+1) floats, plus w and V of %lld slots)\n",
               (double)sb.st_size / 1048576.0, (int)fm->n_users, (int)fm->n_items, (int)fm->pair_k,
               (long long)fm->n_slots);
    else if (rank > 0)
        printf("  model file %.2f MiB (rank-%d posterior summary: %lld slots x (%d+1) floats)\n",
               (double)sb.st_size / 1048576.0, rank, (long long)fm->n_slots, (int)fm->k);
    else
        printf("  model file %.2f MiB (%lld slots x (k+1) floats x %d samples + last sample)\n",
               (double)sb.st_size / 1048576.0, (long long)fm->n_slots, (int)fm->n_samples);
    facto_model_free(m);
    facto_rows_free(ftr);
    facto_rows_free(fte);
    fct_fm_data_release(&te);
    fct_fm_data_release(&tr);
    facto_rows_free(us);
    facto_rows_free(is);
    facto_dataset_free(dtr);
    facto_dataset_free(dte);
    facto_ctx_free(ctx);
    return 0;
}
