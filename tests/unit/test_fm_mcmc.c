/*
 * test_fm_mcmc.c — Gibbs sampling for factorization machines (fm_mcmc.c) and
 * the block structure (fm_blocks.c). Checks: on rows drawn from a known FM
 * plus Gaussian noise the posterior-mean predictions come close to the
 * noise-free truth (their error is well under the noise level); the same
 * seed gives the same model, another seed another; sampling on block data
 * follows the same chain as on the rows expanded flat (the block sums are
 * exact algebra, so only rounding separates them); a saved MCMC model
 * predicts new rows after loading exactly as before; the probit classifier
 * separates classes; the public ratings path (facto_fm_fit_ratings) equals
 * the expanded flat path, its saved model predicts like the chain, saves and
 * loads bit for bit and flags unknown ids; and on MovieLens 100K u1 (when
 * FACTO_DATA_HOME has it) 100 iterations reach test RMSE <= 0.912 with the
 * saved model within 2e-3 of it. Runs in a few seconds (Release).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "facto.h"
#include "kernels/gram.h"
#include "solvers/fm_cd_engine.h"
#include "solvers/fm_mcmc.h"
#include "train/fit_fm_ratings.h"
#include "testutil.h"

/* ---- a known FM ---------------------------------------------------------- */

typedef struct truth {
    int U, I, k;
    double w0;
    double *w; /* [U + I] */
    double *V; /* [U + I, k] */
} truth;

/* The typed hyperparameters of an FM model (the library's internal struct). */
static facto_status test_fm_params_of(const facto_model *m, facto_fm_params *out)
{
    if (!m || facto_model_get_kind(m) != FACTO_MODEL_FM)
        return FACTO_ERR_INVALID;
    *out = ((const fct_fm_model *)m)->params;
    return FACTO_OK;
}

static void truth_make(truth *t, int U, int I, int k, uint64_t seed)
{
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    t->U = U;
    t->I = I;
    t->k = k;
    t->w0 = 3.0;
    t->w = calloc((size_t)(U + I), sizeof *t->w);
    t->V = calloc((size_t)(U + I) * (size_t)k, sizeof *t->V);
    for (int i = 0; i < U + I; i++) {
        t->w[i] = 0.3 * fct_rng_normal(&rng);
        for (int f = 0; f < k; f++)
            t->V[i * k + f] = 0.6 * fct_rng_normal(&rng);
    }
}

/* Noise-free FM output of one-hot (u, i): w0 + w_u + w_i + <v_u, v_i>. */
static double truth_eval(const truth *t, int u, int i)
{
    double y = t->w0 + t->w[u] + t->w[t->U + i];
    for (int f = 0; f < t->k; f++)
        y += t->V[u * t->k + f] * t->V[(t->U + i) * t->k + f];
    return y;
}

/* One-hot rows for pairs [from, to) of a fixed shuffle of all U*I pairs, with
 * labels truth + N(0, noise^2); clean[] gets the noise-free values. */
static facto_rows *truth_rows(const truth *t, int from, int to, double noise, uint64_t seed, double *clean)
{
    facto_ctx *ctx = facto_ctx_new();
    int n = t->U * t->I;
    int *perm = malloc((size_t)n * sizeof *perm);
    fct_rng rng;
    fct_rng_seed(&rng, 99);
    for (int p = 0; p < n; p++)
        perm[p] = p;
    for (int p = n - 1; p > 0; p--) {
        int j = (int)fct_rng_below(&rng, (uint64_t)p + 1);
        int x = perm[p];
        perm[p] = perm[j];
        perm[j] = x;
    }
    fct_rng_seed(&rng, seed);
    facto_rows *r = facto_rows_new((uint64_t)(t->U + t->I), 1);
    for (int p = from; p < to; p++) {
        int u = perm[p] / t->I, i = perm[p] % t->I;
        double y = truth_eval(t, u, i);
        if (clean)
            clean[p - from] = y;
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)u, 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)(t->U + i), 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, r, (float)(y + noise * fct_rng_normal(&rng))), FACTO_OK);
    }
    free(perm);
    facto_ctx_free(ctx);
    return r;
}

static void truth_free(truth *t)
{
    free(t->w);
    free(t->V);
}

static facto_fm_params mcmc_params(uint64_t dim, int k, int iters, uint64_t seed)
{
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = dim;
    p.num_factors = k;
    p.predictor_type = FACTO_FM_REGRESSOR;
    p.solver = FACTO_FM_SOLVER_MCMC;
    p.num_iter = iters;
    p.init_stdev = 0.1f;
    p.seed = seed;
    return p;
}

static double rmse_f(const float *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s / (double)n);
}

/* ---- tests ------------------------------------------------------------- */

/* 50 users x 50 items, a rank-2 FM, noise sd 0.3, 70% of the pairs to train.
 * The posterior mean of a well-specified model should land closer to the
 * noise-free truth than the noise itself (bound 0.7 sd), and its RMSE
 * against the noisy test labels near the floor sqrt(0.3^2 + that error^2)
 * (bound 1.25 sd). Predicting the training mean is off by the spread of the
 * truth (> 0.6, checked), a model without interactions by their spread
 * (> 0.4, checked), so the bounds fail for a broken sampler. */
static void test_recovers_synthetic_fm(void **state)
{
    (void)state;
    truth t;
    truth_make(&t, 50, 50, 2, 7);
    const int n = 50 * 50, ntr = n * 7 / 10;
    const double noise = 0.3;
    double *clean = malloc((size_t)(n - ntr) * sizeof *clean);
    facto_rows *tr = truth_rows(&t, 0, ntr, noise, 1, NULL);
    facto_rows *te = truth_rows(&t, ntr, n, noise, 2, clean);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = mcmc_params(100, 4, 200, 3);
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, tr, te, &p, NULL, &m), FACTO_OK);
    float *scores = malloc((size_t)te->n_rows * sizeof *scores);
    assert_int_equal(facto_model_predict_rows(ctx, m, te, scores, NULL), FACTO_OK);
    double to_truth = rmse_f(scores, clean, te->n_rows);
    double s = 0.0, spread = 0.0, mean = 0.0;
    for (int64_t r = 0; r < te->n_rows; r++)
        mean += clean[r] / (double)te->n_rows;
    for (int64_t r = 0; r < te->n_rows; r++) {
        s += (scores[r] - te->labels[r]) * (scores[r] - te->labels[r]);
        spread += (clean[r] - mean) * (clean[r] - mean);
    }
    double to_labels = sqrt(s / (double)te->n_rows);
    spread = sqrt(spread / (double)te->n_rows);
    /* Spread of the interaction part <v_u, v_i> over the test pairs. */
    double inter = 0.0, imean = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t r = 0; r < te->n_rows; r++) {
            int u = (int)te->keys[te->row_ptr[r]], i = (int)te->keys[te->row_ptr[r] + 1] - t.U;
            double x = clean[r] - t.w0 - t.w[u] - t.w[t.U + i];
            if (pass == 0)
                imean += x / (double)te->n_rows;
            else
                inter += (x - imean) * (x - imean) / (double)te->n_rows;
        }
    }
    inter = sqrt(inter);
    assert_true(inter > 0.4);
    printf("synthetic: rmse to truth %.4f, to labels %.4f, noise %.2f, truth sd %.3f, interaction sd %.3f\n",
           to_truth, to_labels, noise, spread, inter);
    assert_true(spread > 0.6);
    assert_true(to_truth < 0.7 * noise);
    assert_true(to_labels < 1.25 * noise);
    facto_model_free(m);
    free(scores);
    free(clean);
    facto_rows_free(tr);
    facto_rows_free(te);
    facto_ctx_free(ctx);
    truth_free(&t);
}

/* Fit, predict te, and (when bytes != NULL) return the saved model file's
 * bytes in *bytes / *n_bytes. */
static int fit_threads = 1; /* threads of fit_predict_file's context */

static float *fit_predict_file(const facto_rows *tr, const facto_rows *te, const facto_fm_params *p,
                               unsigned char **bytes, long *n_bytes)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_ctx_set_threads(ctx, fit_threads);
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, tr, NULL, p, NULL, &m), FACTO_OK);
    float *s = malloc((size_t)te->n_rows * sizeof *s);
    assert_int_equal(facto_model_predict_rows(ctx, m, te, s, NULL), FACTO_OK);
    if (bytes) {
        char path[64];
        snprintf(path, sizeof path, "test_fm_mcmc_det_%ld.facto", (long)getpid());
        assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        *n_bytes = ftell(f);
        fseek(f, 0, SEEK_SET);
        *bytes = malloc((size_t)*n_bytes);
        assert_int_equal(fread(*bytes, 1, (size_t)*n_bytes, f), (size_t)*n_bytes);
        fclose(f);
        unlink(path);
    }
    facto_model_free(m);
    facto_ctx_free(ctx);
    return s;
}

static float *fit_predict(const facto_rows *tr, const facto_rows *te, const facto_fm_params *p)
{
    return fit_predict_file(tr, te, p, NULL, NULL);
}

static void test_determinism(void **state)
{
    (void)state;
    truth t;
    truth_make(&t, 20, 20, 2, 11);
    facto_rows *tr = truth_rows(&t, 0, 250, 0.3, 1, NULL);
    facto_rows *te = truth_rows(&t, 250, 400, 0.3, 2, NULL);
    facto_fm_params p = mcmc_params(40, 3, 30, 42);
    unsigned char *fa = NULL, *fb = NULL;
    long na = 0, nb = 0;
    float *a = fit_predict_file(tr, te, &p, &fa, &na), *b = fit_predict_file(tr, te, &p, &fb, &nb);
    p.seed = 43;
    float *c = fit_predict(tr, te, &p);
    assert_memory_equal(a, b, (size_t)te->n_rows * sizeof *a);
    /* Same seed, one thread: the same model bytes. */
    assert_int_equal(na, nb);
    assert_memory_equal(fa, fb, (size_t)na);
    free(fa);
    free(fb);
    int differ = 0;
    for (int64_t r = 0; r < te->n_rows; r++)
        differ += a[r] != c[r];
    assert_true(differ > te->n_rows / 2);
    /* Three chains: the same model bytes on one thread and on three; one
     * chain is another model. */
    p.seed = 42;
    p.mcmc_chains = 3;
    unsigned char *f1 = NULL, *f3 = NULL, *fc1 = NULL;
    long n1 = 0, n3 = 0, nc1 = 0;
    float *d1 = fit_predict_file(tr, te, &p, &f1, &n1);
    fit_threads = 3;
    float *d3 = fit_predict_file(tr, te, &p, &f3, &n3);
    fit_threads = 1;
    p.mcmc_chains = 1;
    float *e1 = fit_predict_file(tr, te, &p, &fc1, &nc1);
    assert_int_equal(n1, n3);
    assert_memory_equal(f1, f3, (size_t)n1);
    assert_memory_equal(d1, d3, (size_t)te->n_rows * sizeof *d1);
    differ = 0;
    for (int64_t r = 0; r < te->n_rows; r++)
        differ += d1[r] != e1[r];
    assert_true(differ > te->n_rows / 2);
    free(f1);
    free(f3);
    free(fc1);
    free(d1);
    free(d3);
    free(e1);
    free(a);
    free(b);
    free(c);
    facto_rows_free(tr);
    facto_rows_free(te);
    truth_free(&t);
}

/* Block data: direct features [0, 3), block 0 [3, 3 + 12 + 5) (one-hot of 12
 * users, and 1..3 real-valued "implicit" entries per user), block 1 the 9
 * items [20, 29) with a second entry for some. Keys ascend source by source,
 * so the flat sampler visits the features in the same order. */
static void make_block_data(fct_fm_data *d, facto_rows **flat, int64_t n_rows, uint64_t seed)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    facto_rows *users = facto_rows_new(0, 0), *items = facto_rows_new(0, 0), *direct = facto_rows_new(0, 1);
    for (int u = 0; u < 12; u++) {
        assert_int_equal(facto_rows_push(ctx, users, (uint32_t)(3 + u), 1.0f), FACTO_OK);
        int extra = 1 + u % 3;
        for (int e = 0; e < extra; e++)
            assert_int_equal(facto_rows_push(ctx, users, (uint32_t)(15 + (u + 2 * e) % 5),
                                             (float)(0.5 + 0.25 * e)),
                             FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, users, 0.0f), FACTO_OK);
    }
    for (int i = 0; i < 9; i++) {
        assert_int_equal(facto_rows_push(ctx, items, (uint32_t)(20 + i), 1.0f), FACTO_OK);
        if (i % 2)
            assert_int_equal(facto_rows_push(ctx, items, (uint32_t)(20 + (i + 3) % 9), -0.7f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, items, 0.0f), FACTO_OK);
    }
    int32_t *uref = malloc((size_t)n_rows * sizeof *uref), *iref = malloc((size_t)n_rows * sizeof *iref);
    for (int64_t n = 0; n < n_rows; n++) {
        uref[n] = (int32_t)fct_rng_below(&rng, 12);
        iref[n] = (int32_t)fct_rng_below(&rng, 9);
        assert_int_equal(facto_rows_push(ctx, direct, (uint32_t)fct_rng_below(&rng, 3), 1.0f), FACTO_OK);
        float y = (float)(1.0 + 0.3 * uref[n] - 0.2 * iref[n] + 0.05 * uref[n] * iref[n] +
                          0.2 * fct_rng_normal(&rng));
        assert_int_equal(facto_rows_finish_row(ctx, direct, y), FACTO_OK);
    }
    fct_fm_data_init(d, direct, 1);
    assert_int_equal(fct_fm_data_add_block(ctx, d, users, 1, uref, 1), FACTO_OK);
    assert_int_equal(fct_fm_data_add_block(ctx, d, items, 1, iref, 1), FACTO_OK);
    assert_int_equal(fct_fm_data_expand(ctx, d, flat), FACTO_OK);
    facto_ctx_free(ctx);
}

static void check_blocks_equal_flat(facto_fm_solver solver)
{
    fct_fm_data d;
    facto_rows *flat = NULL;
    make_block_data(&d, &flat, 600, 5);
    assert_int_equal(d.feature_dim, 29);
    assert_int_equal(flat->n_rows, 600);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = mcmc_params(29, 3, 6, 8);
    p.solver = solver;
    p.bias_wd = 0.1f;
    p.linear_wd = 1.0f;
    p.factors_wd = 1.0f;
    facto_model *mb = NULL, *mf = NULL;
    assert_int_equal(fct_fm_fit_blocks(ctx, &d, NULL, &p, NULL, -1, 0, &mb, NULL), FACTO_OK);
    assert_int_equal(facto_fm_fit(ctx, flat, NULL, &p, NULL, &mf), FACTO_OK);
    float *sb = malloc((size_t)flat->n_rows * sizeof *sb), *sf = malloc((size_t)flat->n_rows * sizeof *sf);
    assert_int_equal(facto_model_predict_rows(ctx, mb, flat, sb, NULL), FACTO_OK);
    assert_int_equal(facto_model_predict_rows(ctx, mf, flat, sf, NULL), FACTO_OK);
    double maxd = 0.0, scale = 0.0;
    for (int64_t n = 0; n < flat->n_rows; n++) {
        maxd = fmax(maxd, fabs((double)sb[n] - sf[n]));
        scale = fmax(scale, fabs((double)sf[n]));
    }
    printf("%s blocks vs flat: max |diff| %.3g (scale %.3g)\n", solver == FACTO_FM_SOLVER_ALS ? "als" : "mcmc", maxd,
           scale);
    assert_true(scale > 1.0);
    assert_true(maxd < 1e-4 * scale);

    /* The block predictor on block data equals the flat predictor on the
     * expanded rows for the same parameters. */
    fct_fm_model *fm = (fct_fm_model *)mb;
    uint32_t *slots[3], *fslots = NULL;
    assert_int_equal(fct_fm_map_rows(ctx, fm, d.direct, "test", &slots[0]), FACTO_OK);
    assert_int_equal(fct_fm_map_rows(ctx, fm, d.block[0].rows, "test", &slots[1]), FACTO_OK);
    assert_int_equal(fct_fm_map_rows(ctx, fm, d.block[1].rows, "test", &slots[2]), FACTO_OK);
    assert_int_equal(fct_fm_map_rows(ctx, fm, flat, "test", &fslots), FACTO_OK);
    double *raw = malloc((size_t)flat->n_rows * sizeof *raw);
    assert_int_equal(fct_fm_blocks_predict_raw(ctx, fm, &d, (const uint32_t *const *)slots, raw), FACTO_OK);
    float *sum = malloc((size_t)fm->k * sizeof *sum);
    for (int64_t n = 0; n < flat->n_rows; n++) {
        int64_t b = flat->row_ptr[n], len = flat->row_ptr[n + 1] - b;
        double ref = fct_fm_row_raw(fm, fm->w, fm->V, fm->w0, fslots + b, flat->values + b, len, sum);
        assert_true(fabs(raw[n] - ref) < 1e-5 * (1.0 + fabs(ref)));
    }
    free(sum);
    free(raw);
    for (int i = 0; i < 3; i++)
        free(slots[i]);
    free(fslots);
    free(sb);
    free(sf);
    facto_model_free(mb);
    facto_model_free(mf);
    facto_rows_free(flat);
    fct_fm_data_release(&d);
    facto_ctx_free(ctx);
}

static void test_blocks_equal_flat_mcmc(void **state)
{
    (void)state;
    check_blocks_equal_flat(FACTO_FM_SOLVER_MCMC);
}

static void test_blocks_equal_flat_als(void **state)
{
    (void)state;
    check_blocks_equal_flat(FACTO_FM_SOLVER_ALS);
}

/* The rank-r summary with r = the number of parameter slots is exact
 * (Nystrom with a square invertible Omega reproduces A), so on the same
 * chains (same seed; the summary draws Omega from its own stream) its
 * predictions must equal the average over all the chains' samples, which
 * the sample-keeping run stores one by one (3 chains of 60 iterations, 180
 * samples): this checks both ways of pooling chains (concatenated samples;
 * the summary of the chains' summaries) against each other. */
static void test_summary_equals_sample_average(void **state)
{
    (void)state;
    fct_fm_data d;
    facto_rows *flat = NULL;
    make_block_data(&d, &flat, 600, 6);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = mcmc_params(29, 3, 60, 12);
    p.mcmc_chains = 3;
    p.mcmc_samples = 3 * 60; /* each chain keeps all its 60 samples */
    facto_model *ms = NULL, *mr = NULL;
    assert_int_equal(fct_fm_fit_blocks(ctx, &d, NULL, &p, NULL, -1, 0, &ms, NULL), FACTO_OK);
    assert_int_equal(fct_fm_fit_blocks(ctx, &d, NULL, &p, NULL, -1, 32, &mr, NULL), FACTO_OK);
    fct_fm_model *fs = (fct_fm_model *)ms, *fr = (fct_fm_model *)mr;
    assert_int_equal(fs->n_samples, 180);
    assert_int_equal(fr->n_samples, 0);
    assert_int_equal(fr->k, 29); /* clamped to the number of slots */
    uint32_t *slots = NULL;
    assert_int_equal(fct_fm_map_rows(ctx, fs, flat, "test", &slots), FACTO_OK);
    float *sum = malloc(32 * sizeof *sum);
    double maxd = 0.0, spread = 0.0;
    for (int64_t n = 0; n < flat->n_rows; n++) {
        int64_t b = flat->row_ptr[n], len = flat->row_ptr[n + 1] - b;
        double avg = 0.0;
        for (int32_t t = 0; t < fs->n_samples; t++)
            avg += fct_fm_row_raw(fs, fs->sample_w + (size_t)t * fs->n_slots,
                                    fs->sample_V + (size_t)t * fs->n_slots * fs->k, fs->sample_w0[t], slots + b,
                                    flat->values + b, len, sum);
        avg /= fs->n_samples;
        double last = fct_fm_row_raw(fs, fs->w, fs->V, fs->w0, slots + b, flat->values + b, len, sum);
        double summ = fct_fm_row_raw(fr, fr->w, fr->V, fr->w0, slots + b, flat->values + b, len, sum);
        maxd = fmax(maxd, fabs(summ - avg));
        spread = fmax(spread, fabs(last - avg));
    }
    printf("summary vs sample average: max |diff| %.3g (last sample vs average: %.3g)\n", maxd, spread);
    assert_true(spread > 0.05);
    assert_true(maxd < 2e-3);
    /* A summary model saves and loads like any FM (num_factors = its rank). */
    char path[64];
    snprintf(path, sizeof path, "test_fm_mcmc_sum_%ld.facto", (long)getpid());
    facto_model *back = NULL;
    assert_int_equal(facto_model_save(ctx, mr, path), FACTO_OK);
    assert_int_equal(facto_model_load(ctx, path, &back), FACTO_OK);
    unlink(path);
    float *a = malloc((size_t)flat->n_rows * sizeof *a), *b2 = malloc((size_t)flat->n_rows * sizeof *b2);
    assert_int_equal(facto_model_predict_rows(ctx, mr, flat, a, NULL), FACTO_OK);
    assert_int_equal(facto_model_predict_rows(ctx, back, flat, b2, NULL), FACTO_OK);
    assert_memory_equal(a, b2, (size_t)flat->n_rows * sizeof *a);
    facto_fm_params got;
    assert_int_equal(test_fm_params_of(back, &got), FACTO_OK);
    assert_int_equal(got.num_factors, 29);
    free(a);
    free(b2);
    facto_model_free(back);
    free(sum);
    free(slots);
    facto_model_free(ms);
    facto_model_free(mr);
    facto_rows_free(flat);
    fct_fm_data_release(&d);
    facto_ctx_free(ctx);
}

static void test_shared_feature_refused(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *direct = facto_rows_new(0, 1), *blk = facto_rows_new(0, 0);
    assert_int_equal(facto_rows_push(ctx, direct, 1, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, direct, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, blk, 1, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, blk, 0.0f), FACTO_OK);
    int32_t *ref = calloc(1, sizeof *ref);
    fct_fm_data d;
    fct_fm_data_init(&d, direct, 1);
    assert_int_equal(fct_fm_data_add_block(ctx, &d, blk, 1, ref, 1), FACTO_OK);
    uint8_t *src = NULL;
    assert_int_equal(fct_fm_data_sources(ctx, &d, 2, &src), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "feature 1"));
    facto_fm_params p = mcmc_params(2, 2, 3, 1);
    facto_model *m = NULL;
    assert_int_equal(fct_fm_fit_blocks(ctx, &d, NULL, &p, NULL, -1, 0, &m, NULL), FACTO_ERR_INVALID);
    assert_null(m);
    /* A reference outside the block is refused when added. */
    int32_t *bad = malloc(sizeof *bad);
    bad[0] = 1;
    facto_rows *blk2 = facto_rows_new(0, 0);
    assert_int_equal(facto_rows_finish_row(ctx, blk2, 0.0f), FACTO_OK);
    assert_int_equal(fct_fm_data_add_block(ctx, &d, blk2, 1, bad, 1), FACTO_ERR_INVALID);
    fct_fm_data_release(&d);
    facto_ctx_free(ctx);
}

static void test_saved_model_predicts_new_rows(void **state)
{
    (void)state;
    truth t;
    truth_make(&t, 20, 20, 2, 3);
    facto_rows *tr = truth_rows(&t, 0, 250, 0.3, 1, NULL);
    facto_rows *te = truth_rows(&t, 250, 400, 0.3, 2, NULL);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = mcmc_params(40, 3, 40, 4);
    p.mcmc_samples = 8;
    p.summary_rank = 0; /* thinned samples (one-hot rows default to the rank-128 summary) */
    facto_model *m = NULL, *back = NULL;
    assert_int_equal(facto_fm_fit(ctx, tr, NULL, &p, NULL, &m), FACTO_OK);
    fct_fm_model *fm = (fct_fm_model *)m;
    assert_int_equal(fm->n_samples, 8);
    /* The stored samples differ from one another (they are draws). */
    assert_true(memcmp(fm->sample_V, fm->sample_V + fm->n_slots * fm->k, (size_t)fm->n_slots * fm->k * 4) != 0);
    char path[64];
    snprintf(path, sizeof path, "test_fm_mcmc_%ld.facto", (long)getpid());
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    assert_int_equal(facto_model_load(ctx, path, &back), FACTO_OK);
    unlink(path);
    float *a = malloc((size_t)te->n_rows * sizeof *a), *b = malloc((size_t)te->n_rows * sizeof *b);
    assert_int_equal(facto_model_predict_rows(ctx, m, te, a, NULL), FACTO_OK);
    assert_int_equal(facto_model_predict_rows(ctx, back, te, b, NULL), FACTO_OK);
    assert_memory_equal(a, b, (size_t)te->n_rows * sizeof *a);
    /* The average over samples is not the last sample's prediction. */
    int differ = 0;
    float *sum = malloc((size_t)fm->k * sizeof *sum);
    uint32_t *slots = NULL;
    assert_int_equal(fct_fm_map_rows(ctx, fm, te, "test", &slots), FACTO_OK);
    for (int64_t r = 0; r < te->n_rows; r++) {
        int64_t o = te->row_ptr[r];
        double last = fct_fm_row_raw(fm, fm->w, fm->V, fm->w0, slots + o, te->values + o, 2, sum);
        differ += fabs(last - a[r]) > 1e-4;
    }
    assert_true(differ > te->n_rows / 2);
    free(slots);
    free(sum);
    free(a);
    free(b);
    facto_model_free(m);
    facto_model_free(back);
    facto_rows_free(tr);
    facto_rows_free(te);
    facto_ctx_free(ctx);
    truth_free(&t);
}

/* Probit MCMC: label = 1 when the known FM's noise-free output is above its
 * median. AUC on held-out pairs must be high (0.5 = chance). */
static void test_probit_classifier(void **state)
{
    (void)state;
    truth t;
    truth_make(&t, 30, 30, 2, 21);
    const int n = 900, ntr = 600;
    double *clean = malloc((size_t)n * sizeof *clean);
    facto_rows *tr = truth_rows(&t, 0, ntr, 0.0, 1, clean);
    facto_rows *te = truth_rows(&t, ntr, n, 0.0, 2, clean + ntr);
    double *sorted = malloc((size_t)n * sizeof *sorted);
    memcpy(sorted, clean, (size_t)n * sizeof *sorted);
    double med = 0.0;
    for (int i = 0; i < n; i++) {
        int below = 0;
        for (int j = 0; j < n; j++)
            below += sorted[j] < sorted[i];
        if (below == n / 2)
            med = sorted[i];
    }
    for (int64_t r = 0; r < tr->n_rows; r++)
        tr->labels[r] = clean[r] > med ? 1.0f : 0.0f;
    for (int64_t r = 0; r < te->n_rows; r++)
        te->labels[r] = clean[ntr + r] > med ? 1.0f : 0.0f;
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = mcmc_params(60, 3, 100, 5);
    p.predictor_type = FACTO_FM_BINARY_CLASSIFIER;
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, tr, NULL, &p, NULL, &m), FACTO_OK);
    facto_metrics mt;
    assert_int_equal(facto_model_evaluate_rows(ctx, m, te, &mt), FACTO_OK);
    printf("probit: test accuracy %.3f auc %.3f\n", mt.binary.accuracy, mt.binary.auc);
    assert_true(mt.binary.auc > 0.85);
    assert_true(mt.binary.accuracy > 0.75);
    facto_model_free(m);
    free(clean);
    free(sorted);
    facto_rows_free(tr);
    facto_rows_free(te);
    facto_ctx_free(ctx);
    truth_free(&t);
}

/* MovieLens 100K u1, one-hot user + item in block form with prior groups
 * per kind of feature (as libFM's -meta), dim 32, 100 iterations. libFM
 * reaches 0.9056 after 500 iterations; a tuned biased MF about 0.91. The
 * saved model's average over its 16 thinned samples is scored on the test
 * rows expanded flat, i.e. as a later prediction from a loaded model. */
/* ---- training from ratings through the public block path ---------------- */

/* Ratings of a known rank-2 model + N(0, 0.3^2) noise on `U` users x `I`
 * items (about `per_user` each), ids "u<n>" / "i<n>", written to a file
 * and read back; side attribute files for both; a held-out test set. */
typedef struct rdata {
    facto_dataset *train, *test;
    char dir[256], users[300], items[300];
} rdata;

static double rdata_rnd(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*x >> 11) / 9007199254740992.0;
}

static void rdata_make(rdata *d, int U, int I, int per_user, uint64_t seed)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/fct_test_fm_ratings.%ld", (long)getpid());
    char cmd[512], tr[300], te[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", d->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(tr, sizeof tr, "%s/train.tsv", d->dir);
    snprintf(te, sizeof te, "%s/test.tsv", d->dir);
    snprintf(d->users, sizeof d->users, "%s/users.txt", d->dir);
    snprintf(d->items, sizeof d->items, "%s/items.txt", d->dir);
    FILE *ft = fopen(tr, "w"), *fe = fopen(te, "w"), *fu = fopen(d->users, "w"), *fi = fopen(d->items, "w");
    assert_non_null(ft);
    assert_non_null(fe);
    assert_non_null(fu);
    assert_non_null(fi);
    uint64_t x = seed * 2654435761u + 1;
#define RND() rdata_rnd(&x)
    double *pu = malloc((size_t)U * 3 * sizeof *pu), *qi = malloc((size_t)I * 3 * sizeof *qi);
    for (int u = 0; u < U; u++) {
        for (int f = 0; f < 3; f++)
            pu[u * 3 + f] = RND() - 0.5;
        /* attribute lines: a group "kind" with two values, and a weighted one */
        fprintf(fu, "u%d\tkind=%s score:%.3f\n", u, pu[u * 3] > 0 ? "a" : "b", pu[u * 3 + 1]);
    }
    for (int i = 0; i < I; i++) {
        for (int f = 0; f < 3; f++)
            qi[i * 3 + f] = 2.0 * RND() - 1.0;
        if (i % 5 != 4) /* some items have no line */
            fprintf(fi, "i%d\tgenre=%d\n", i, (int)(qi[i * 3] > 0));
    }
    fprintf(fu, "# a comment, and an id not in the ratings\nu_nobody\tkind=a\n");
    for (int u = 0; u < U; u++)
        for (int r = 0; r < per_user; r++) {
            int i = (int)(RND() * I);
            double r1 = RND(), r2 = RND();
            double z = sqrt(-2.0 * log(r1 + 1e-12)) * cos(6.283185307 * r2);
            double y = 3.0 + pu[u * 3 + 2] + 0.5 * qi[i * 3 + 2] + 2.0 * (pu[u * 3] * qi[i * 3] +
                                                                          pu[u * 3 + 1] * qi[i * 3 + 1]) +
                       0.3 * z;
            fprintf(RND() < 0.8 ? ft : fe, "u%d\ti%d\t%.3f\n", u, i, y);
        }
#undef RND
    free(pu);
    free(qi);
    fclose(ft);
    fclose(fe);
    fclose(fu);
    fclose(fi);
    facto_ctx *ctx = facto_ctx_new();
    facto_read_options o = facto_read_options_default();
    o.format = FACTO_FORMAT_DELIMITED;
    o.header = 0;
    assert_int_equal(facto_dataset_read(ctx, tr, &o, &d->train, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_read(ctx, te, &o, &d->test, NULL), FACTO_OK);
    facto_ctx_free(ctx);
}

static void rdata_free(rdata *d)
{
    facto_dataset_free(d->train);
    facto_dataset_free(d->test);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d->dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct last_report {
    double test_rmse;
} last_report;

static int keep_last(const facto_epoch_report *r, void *user)
{
    ((last_report *)user)->test_rmse = r->test.rmse;
    return 0;
}

/* The public block path (facto_fm_fit_ratings) against facto_fm_fit on the
 * same rows expanded flat (one prior group on both sides). One-hot MCMC:
 * the sweeps visit the features in the same order, so the chains are the
 * same up to rounding, and the saved pair predictions (every sample kept)
 * equal the flat model's. With side attribute files and both implicit
 * blocks the block sweep visits features in another order (user block, then
 * item block), so ALS is run to convergence and the optima compared. */
static void check_ratings_equal_flat(facto_fm_solver solver, int rich, int chains)
{
    rdata d;
    rdata_make(&d, 30, 20, 12, 5);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_ratings_options o = facto_fm_ratings_options_default();
    if (rich) {
        o.user_file = d.users;
        o.item_file = d.items;
        o.implicit = FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM;
    }
    /* one-hot: a prior group for users and one for items on both paths (the
     * flat path finds the two one-hot fields itself, prior_groups 1) */
    o.prior_groups = rich ? 0 : 1;
    const int T = rich ? 400 : 12;
    facto_fm_params p = mcmc_params(0, 4, T, 3);
    p.solver = solver;
    p.summary_rank = 0;
    p.mcmc_chains = chains;
    p.mcmc_samples = chains * T; /* every sample: the pair model is the exact average */
    p.linear_wd = p.factors_wd = 0.5f;
    last_report lb = {NAN}, lf = {NAN};
    facto_fit_callbacks cb = {keep_last, NULL, &lb};
    facto_model *mb = NULL, *mf = NULL;
    double chain = NAN;
    assert_int_equal(facto_fm_fit_ratings(ctx, d.train, d.test, &o, &p, &cb, &mb, &chain), FACTO_OK);
    assert_true((facto_model_inputs(mb) & FACTO_INPUT_RATINGS));
    /* the same data flat, through the internal builder the public path uses */
    facto_rows *us = NULL, *is = NULL;
    int32_t *ug = NULL, *ig = NULL, nu = 0, ni = 0;
    assert_int_equal(fct_fm_side_table(ctx, d.users, 1, facto_dataset_users(d.train), &us, &ug, &nu), FACTO_OK);
    assert_int_equal(fct_fm_side_table(ctx, d.items, 0, facto_dataset_items(d.train), &is, &ig, &ni), FACTO_OK);
    assert_int_equal(nu, 3); /* kind=a, kind=b, score (u_nobody adds no new name) */
    fct_fm_ratings_spec spec = {rich, rich, rich ? us : NULL, rich ? is : NULL, ug, ig};
    fct_fm_data tr, te;
    assert_int_equal(fct_fm_data_from_ratings(ctx, d.train, d.test, &spec, &tr, &te), FACTO_OK);
    facto_rows *ftr = NULL, *fte = NULL;
    assert_int_equal(fct_fm_data_expand(ctx, &tr, &ftr), FACTO_OK);
    assert_int_equal(fct_fm_data_expand(ctx, &te, &fte), FACTO_OK);
    facto_fm_params pf = p;
    pf.feature_dim = tr.feature_dim;
    cb.user_data = &lf;
    assert_int_equal(facto_fm_fit(ctx, ftr, fte, &pf, &cb, &mf), FACTO_OK);
    printf("%s: block chain %.6f, flat chain %.6f\n", solver == FACTO_FM_SOLVER_ALS ? "als" : "mcmc",
           lb.test_rmse, lf.test_rmse);
    assert_true(fabs(lb.test_rmse - lf.test_rmse) < (rich ? 2e-3 : 1e-4));
    if (solver == FACTO_FM_SOLVER_MCMC && chains == 1) /* the callbacks see the first chain only */
        assert_true(fabs(chain - lb.test_rmse) < 1e-6);
    if (chains > 1) /* pooled: better than the first chain alone on this noisy set */
        assert_true(chain < lb.test_rmse);
    /* saved predictions, pair by pair, against the flat model on the expanded rows */
    float *sf = malloc((size_t)fte->n_rows * sizeof *sf), *sb = malloc((size_t)fte->n_rows * sizeof *sb);
    assert_int_equal(facto_model_predict_rows(ctx, mf, fte, sf, NULL), FACTO_OK);
    const fct_fm_model *ff = (const fct_fm_model *)mf;
    if (ff->n_samples > 0) {
        /* the flat model clips each sample's prediction, the pair model the
         * mean: compare the clipped mean of the raw sample predictions */
        uint32_t *slots = NULL;
        assert_int_equal(fct_fm_map_rows(ctx, ff, fte, "test", &slots), FACTO_OK);
        float *sum = malloc((size_t)ff->k * sizeof *sum);
        for (int64_t n = 0; n < fte->n_rows; n++) {
            int64_t b = fte->row_ptr[n], len = fte->row_ptr[n + 1] - b;
            double acc = 0.0;
            for (int32_t t = 0; t < ff->n_samples; t++)
                acc += fct_fm_row_raw(ff, ff->sample_w + (int64_t)t * ff->n_slots,
                                        ff->sample_V + (int64_t)t * ff->n_slots * ff->k, ff->sample_w0[t],
                                        slots + b, fte->values + b, len, sum);
            acc /= ff->n_samples;
            sf[n] = (float)fmin(fmax(acc, ff->target_min), ff->target_max);
        }
        free(sum);
        free(slots);
    }
    facto_metrics er;
    assert_int_equal(facto_model_evaluate(ctx, mb, d.test, NULL, &er, sb), FACTO_OK);
    double worst = 0.0;
    for (int64_t n = 0; n < fte->n_rows; n++)
        worst = fmax(worst, fabs((double)sf[n] - sb[n]));
    printf("  largest |pair - flat| saved prediction: %.2e\n", worst);
    assert_true(worst < (rich ? 5e-2 : 1e-4));
    free(sf);
    free(sb);
    facto_rows_free(ftr);
    facto_rows_free(fte);
    fct_fm_data_release(&te);
    fct_fm_data_release(&tr);
    facto_rows_free(us);
    facto_rows_free(is);
    free(ug);
    free(ig);
    facto_model_free(mb);
    facto_model_free(mf);
    facto_ctx_free(ctx);
    rdata_free(&d);
}

static void test_ratings_equal_flat_mcmc(void **state)
{
    (void)state;
    check_ratings_equal_flat(FACTO_FM_SOLVER_MCMC, 0, 1);
    check_ratings_equal_flat(FACTO_FM_SOLVER_MCMC, 0, 3);
}

static void test_ratings_equal_flat_als(void **state)
{
    (void)state;
    check_ratings_equal_flat(FACTO_FM_SOLVER_ALS, 0, 1);
    check_ratings_equal_flat(FACTO_FM_SOLVER_ALS, 1, 1);
}

/* One-hot fields of flat rows (fct_fm_infer_fields): found for the
 * user + item layout in any key order within rows, with the gap keys and the
 * keys past the last field assigned to the neighbouring field; not found
 * for rows of different lengths, overlapping position ranges or one key a
 * row. */
static void test_infer_fields(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(12, 1);
    const uint32_t pairs[][2] = {{0, 6}, {4, 5}, {1, 9}, {9, 2}, {3, 6}}; /* {9, 2}: item key first */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(facto_rows_push(ctx, r, pairs[i][0], 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, r, pairs[i][1], 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, r, 1.0f), FACTO_OK);
    }
    int32_t *g = NULL, ng = 0;
    assert_int_equal(fct_fm_infer_fields(ctx, r, 12, &g, &ng), FACTO_OK);
    assert_non_null(g);
    assert_int_equal(ng, 2);
    /* position 0 spans keys 0..4, position 1 keys 5..9: field 1 from key 5 */
    const int32_t want[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1};
    assert_memory_equal(g, want, sizeof want);
    free(g);
    /* a row {4, 5} -> {5, 7}: position 0 now reaches 5 = position 1's lowest */
    facto_rows *o = facto_rows_new(12, 1);
    const uint32_t over[][2] = {{0, 6}, {5, 7}, {1, 5}};
    for (int i = 0; i < 3; i++) {
        facto_rows_push(ctx, o, over[i][0], 1.0f);
        facto_rows_push(ctx, o, over[i][1], 1.0f);
        facto_rows_finish_row(ctx, o, 1.0f);
    }
    assert_int_equal(fct_fm_infer_fields(ctx, o, 12, &g, &ng), FACTO_OK);
    assert_null(g);
    assert_int_equal(ng, 1);
    /* a third key in one row */
    facto_rows_push(ctx, r, 0, 1.0f);
    facto_rows_push(ctx, r, 6, 1.0f);
    facto_rows_push(ctx, r, 11, 1.0f);
    facto_rows_finish_row(ctx, r, 1.0f);
    assert_int_equal(fct_fm_infer_fields(ctx, r, 12, &g, &ng), FACTO_OK);
    assert_null(g);
    /* one key a row: nothing to tell apart */
    facto_rows *one = facto_rows_new(12, 1);
    facto_rows_push(ctx, one, 3, 1.0f);
    facto_rows_finish_row(ctx, one, 1.0f);
    assert_int_equal(fct_fm_infer_fields(ctx, one, 12, &g, &ng), FACTO_OK);
    assert_null(g);
    assert_int_equal(ng, 1);
    facto_rows_free(r);
    facto_rows_free(o);
    facto_rows_free(one);
    facto_ctx_free(ctx);
}

/* Rows of two one-hot fields (user + item keys) train through the pair-form
 * sweep (fct_fm_data_two_fields); the chain must be the one the direct
 * sweep of the same rows follows with the same two prior groups, up to
 * rounding, for MCMC and ALS. */
static void test_two_fields_equal_direct(void **state)
{
    (void)state;
    truth t;
    truth_make(&t, 25, 15, 2, 21);
    facto_rows *tr = truth_rows(&t, 0, 300, 0.3, 1, NULL);
    facto_rows *te = truth_rows(&t, 300, 375, 0.3, 2, NULL);
    facto_ctx *ctx = facto_ctx_new();
    int32_t *g = NULL, ng = 0;
    assert_int_equal(fct_fm_infer_fields(ctx, tr, 40, &g, &ng), FACTO_OK);
    assert_int_equal(ng, 2);
    for (int solver = 0; solver < 2; solver++) {
        facto_fm_params p = mcmc_params(40, 3, 25, 5);
        p.solver = solver ? FACTO_FM_SOLVER_ALS : FACTO_FM_SOLVER_MCMC;
        p.linear_wd = p.factors_wd = 0.3f;
        p.mcmc_chains = 2;
        p.summary_rank = 0; /* both as thinned samples, as fct_fm_fit_blocks keeps them here */
        facto_model *mp = NULL, *md = NULL;
        assert_int_equal(facto_fm_fit(ctx, tr, NULL, &p, NULL, &mp), FACTO_OK);
        fct_fm_data d;
        fct_fm_data_init(&d, tr, 0);
        d.feature_group = solver ? NULL : g;
        d.n_groups = solver ? 0 : 2;
        assert_int_equal(fct_fm_fit_blocks(ctx, &d, NULL, &p, NULL, -1, 0, &md, NULL), FACTO_OK);
        float *sp = malloc((size_t)te->n_rows * sizeof *sp), *sd = malloc((size_t)te->n_rows * sizeof *sd);
        assert_int_equal(facto_model_predict_rows(ctx, mp, te, sp, NULL), FACTO_OK);
        assert_int_equal(facto_model_predict_rows(ctx, md, te, sd, NULL), FACTO_OK);
        double maxd = 0.0, scale = 0.0;
        for (int64_t n = 0; n < te->n_rows; n++) {
            maxd = fmax(maxd, fabs((double)sp[n] - sd[n]));
            scale = fmax(scale, fabs((double)sd[n]));
        }
        printf("%s two fields (pair sweep) vs direct sweep: max |diff| %.3g (scale %.3g)\n", solver ? "als" : "mcmc",
               maxd, scale);
        assert_true(scale > 1.0);
        assert_true(maxd < 1e-4 * scale);
        free(sp);
        free(sd);
        facto_model_free(mp);
        facto_model_free(md);
    }
    /* a key seen with two values is not one-hot: no pair form */
    facto_rows *v = facto_rows_new(40, 1);
    facto_rows_push(ctx, v, 1, 1.0f);
    facto_rows_push(ctx, v, 30, 1.0f);
    facto_rows_finish_row(ctx, v, 3.0f);
    facto_rows_push(ctx, v, 1, 2.0f);
    facto_rows_push(ctx, v, 31, 1.0f);
    facto_rows_finish_row(ctx, v, 4.0f);
    fct_fm_data pd;
    int ok = 1;
    assert_int_equal(fct_fm_data_two_fields(ctx, v, g, 40, &pd, &ok), FACTO_OK);
    assert_int_equal(ok, 0);
    assert_int_equal(pd.n_blocks, 0);
    facto_rows_free(v);
    free(g);
    facto_rows_free(tr);
    facto_rows_free(te);
    facto_ctx_free(ctx);
    truth_free(&t);
}

/* The default saved model (the summary of the per-user / per-item sums)
 * predicts like the chain's running average; 16 thinned samples do worse.
 * A block model saves, loads and predicts pairs bit for bit; unknown ids are
 * flagged and contribute nothing; a flat model refuses ids. */
static void test_ratings_saved_model(void **state)
{
    (void)state;
    rdata d;
    rdata_make(&d, 80, 50, 25, 9);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = mcmc_params(0, 8, 150, 1);
    facto_model *m = NULL;
    double chain = NAN;
    assert_int_equal(facto_fm_fit_ratings(ctx, d.train, d.test, NULL, &p, NULL, &m, &chain), FACTO_OK);
    facto_metrics er;
    float *scores = malloc((size_t)facto_dataset_n_ratings(d.test) * sizeof *scores);
    assert_int_equal(facto_model_evaluate(ctx, m, d.test, NULL, &er, scores), FACTO_OK);
    p.summary_rank = 0;
    facto_model *m16 = NULL;
    double chain16 = NAN;
    assert_int_equal(facto_fm_fit_ratings(ctx, d.train, d.test, NULL, &p, NULL, &m16, &chain16), FACTO_OK);
    facto_metrics e16;
    assert_int_equal(facto_model_evaluate(ctx, m16, d.test, NULL, &e16, NULL), FACTO_OK);
    printf("synthetic 80x50: chain %.4f, saved summary %.4f, 16 thinned samples %.4f\n", chain, er.rmse, e16.rmse);
    assert_true(chain16 == chain);
    assert_true(fabs(er.rmse - chain) < 2e-3);
    assert_true(er.rmse < 0.45); /* noise 0.3 */
    facto_model_free(m16);

    char path[512];
    snprintf(path, sizeof path, "%s/block.facto", d.dir);
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    facto_model *l = NULL;
    assert_int_equal(facto_model_load(ctx, path, &l), FACTO_OK);
    assert_true((facto_model_inputs(l) & FACTO_INPUT_RATINGS));
    float *again = malloc((size_t)facto_dataset_n_ratings(d.test) * sizeof *again);
    facto_metrics el;
    assert_int_equal(facto_model_evaluate(ctx, l, d.test, NULL, &el, again), FACTO_OK);
    assert_memory_equal(scores, again, (size_t)facto_dataset_n_ratings(d.test) * sizeof *scores);
    float s1, s2, s3;
    int f1, f2, f3;
    assert_int_equal(facto_model_predict(ctx, m, "u3", "i7", &s1, &f1), FACTO_OK);
    assert_int_equal(facto_model_predict(ctx, l, "u3", "i7", &s2, &f2), FACTO_OK);
    assert_true(s1 == s2);
    assert_int_equal(f1, 0);
    /* unknown user: w0 + b_i; unknown both: w0 */
    const fct_fm_model *fm = (const fct_fm_model *)l;
    int32_t i7 = facto_idmap_find(fm->items, "i7");
    assert_int_equal(facto_model_predict(ctx, l, "nobody", "i7", &s3, &f3), FACTO_OK);
    assert_int_equal(f3, FACTO_PRED_UNKNOWN_USER);
    assert_float_equal(s3, fm->pair_w0 + fm->pair_b[fm->n_users + i7], 1e-5);
    assert_int_equal(facto_model_predict(ctx, l, "nobody", "nothing", &s3, &f3), FACTO_OK);
    assert_int_equal(f3, FACTO_PRED_UNKNOWN_USER | FACTO_PRED_UNKNOWN_ITEM);
    assert_float_equal(s3, fm->pair_w0, 1e-6);
    /* sgd is refused; a flat model does not predict by ids */
    p.solver = FACTO_FM_SOLVER_SGD;
    facto_model *bad = NULL;
    assert_int_equal(facto_fm_fit_ratings(ctx, d.train, NULL, NULL, &p, NULL, &bad, NULL), FACTO_ERR_INVALID);
    assert_null(bad);
    facto_rows *rows = facto_rows_new(4, 1);
    facto_rows_push(ctx, rows, 1, 1.0f);
    facto_rows_finish_row(ctx, rows, 1.0f);
    facto_fm_params pf = mcmc_params(4, 2, 3, 1);
    assert_int_equal(facto_fm_fit(ctx, rows, NULL, &pf, NULL, &bad), FACTO_OK);
    assert_false((facto_model_inputs(bad) & FACTO_INPUT_RATINGS));
    assert_int_equal(facto_model_predict(ctx, bad, "u1", "i1", &s3, NULL), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "feature rows"));
    facto_model_free(bad);
    facto_rows_free(rows);
    free(scores);
    free(again);
    facto_model_free(l);
    facto_model_free(m);
    facto_ctx_free(ctx);
    rdata_free(&d);
}

/* A callback that asks to stop after epoch *(int *)user. */
static int stop_after(const facto_epoch_report *r, void *user)
{
    return r->epoch >= *(const int *)user;
}

/* The same for the solver's own report (fct_fm_fit_blocks). */
static int stop_after_fm(const fct_fm_epoch_report *r, void *user)
{
    return r->epoch >= *(const int *)user;
}

static unsigned char *model_bytes(facto_ctx *ctx, const facto_model *m, long *n)
{
    char path[64];
    snprintf(path, sizeof path, "test_fm_mcmc_stop_%ld.facto", (long)getpid());
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n);
    assert_int_equal(fread(b, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    unlink(path);
    return b;
}

/* QA: the callback (it sees chain 0) stops the run after epoch 8 of 20,
 * burn-in 5. Every chain must end after the same 8 iterations, so the model
 * does not depend on the thread count (it did: on one thread chains 1..2 ran
 * one iteration after chain 0 had stopped, on three as far as they had got)
 * and the chains' outputs have one shape (chain 1 stopped inside the
 * burn-in kept its k-factor V beside chain 0's rank-8 summary, or its
 * k-column q beside chain 0's rank-r q on ratings, and the merge read past
 * them). Feature rows with the summary and with samples, and ratings. */
static void test_chains_stop_together(void **state)
{
    (void)state;
    fct_fm_data d;
    facto_rows *flat = NULL;
    make_block_data(&d, &flat, 300, 7);
    facto_fm_params p = mcmc_params(29, 3, 20, 5);
    p.mcmc_chains = 3;
    p.burn_in = 5;
    for (int stop = 3; stop <= 8; stop += 5) {
        for (int summary = 0; summary <= 8; summary += 8) {
            unsigned char *bytes[2] = {NULL, NULL};
            long n[2] = {0, 0};
            for (int t = 0; t < 2; t++) {
                facto_ctx *ctx = facto_ctx_new();
                facto_ctx_set_threads(ctx, t ? 3 : 1);
                fct_fm_callbacks cb = {stop_after_fm, &stop};
                facto_model *m = NULL;
                fct_fm_cd_result res;
                assert_int_equal(fct_fm_fit_blocks(ctx, &d, NULL, &p, &cb, -1, summary, &m, &res), FACTO_OK);
                assert_int_equal(res.iterations, stop);
                assert_int_equal(res.chains, 3);
                bytes[t] = model_bytes(ctx, m, &n[t]);
                facto_model_free(m);
                facto_ctx_free(ctx);
            }
            assert_int_equal(n[0], n[1]);
            assert_memory_equal(bytes[0], bytes[1], (size_t)n[0]);
            free(bytes[0]);
            free(bytes[1]);
        }
    }
    facto_rows_free(flat);
    fct_fm_data_release(&d);

    rdata r;
    rdata_make(&r, 30, 20, 12, 5);
    facto_fm_params pr = mcmc_params(0, 3, 20, 4);
    pr.mcmc_chains = 3;
    pr.burn_in = 5;
    int stop = 8;
    unsigned char *bytes[2] = {NULL, NULL};
    long n[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        facto_ctx *ctx = facto_ctx_new();
        facto_ctx_set_threads(ctx, t ? 3 : 1);
        facto_fit_callbacks cb = {stop_after, NULL, &stop};
        facto_model *m = NULL;
        assert_int_equal(facto_fm_fit_ratings(ctx, r.train, r.test, NULL, &pr, &cb, &m, NULL), FACTO_OK);
        bytes[t] = model_bytes(ctx, m, &n[t]);
        facto_model_free(m);
        facto_ctx_free(ctx);
    }
    assert_int_equal(n[0], n[1]);
    assert_memory_equal(bytes[0], bytes[1], (size_t)n[0]);
    free(bytes[0]);
    free(bytes[1]);
    rdata_free(&r);
}

/* Threads within a factor (fm_cd_sweep.c, reached here by lowering the
 * engine's thresholds): the parameters of columns sharing no block row are
 * conditionally independent, their draws come in column order from the one
 * stream, and the pair-form passes are cut at user starts and by item, so
 * MCMC and ALS on ratings (one-hot, and with side attributes and both
 * implicit blocks: multi-hot columns, runs of many lengths) give the same
 * model on 2 and 3 threads as on one; so do 2 chains on 4 threads (2 each). */
static void test_threads_within_factor(void **state)
{
    (void)state;
    rdata d;
    rdata_make(&d, 60, 40, 15, 11);
    const int64_t rows0 = fct_fm_par_min_rows, nnz0 = fct_fm_par_min_nnz;
    fct_fm_par_min_rows = 1;
    fct_fm_par_min_nnz = 1;
    for (int solver = 0; solver < 2; solver++) {
        for (int rich = 0; rich < 2; rich++) {
            for (int chains = 1; chains <= 2; chains++) {
                facto_fm_ratings_options o = facto_fm_ratings_options_default();
                if (rich) {
                    o.user_file = d.users;
                    o.item_file = d.items;
                    o.implicit = FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM;
                }
                facto_fm_params p = mcmc_params(0, 4, 12, 3);
                p.solver = solver ? FACTO_FM_SOLVER_ALS : FACTO_FM_SOLVER_MCMC;
                p.mcmc_chains = solver ? 1 : chains;
                if (solver)
                    p.linear_wd = p.factors_wd = 0.5f;
                unsigned char *bytes[3] = {NULL, NULL, NULL};
                long n[3] = {0, 0, 0};
                for (int t = 0; t < 3; t++) {
                    facto_ctx *ctx = facto_ctx_new();
                    facto_ctx_set_threads(ctx, chains == 2 ? (t ? 4 : 1) : t + 1);
                    facto_model *m = NULL;
                    assert_int_equal(facto_fm_fit_ratings(ctx, d.train, d.test, &o, &p, NULL, &m, NULL), FACTO_OK);
                    bytes[t] = model_bytes(ctx, m, &n[t]);
                    facto_model_free(m);
                    facto_ctx_free(ctx);
                }
                for (int t = 1; t < 3; t++) {
                    assert_int_equal(n[0], n[t]);
                    assert_memory_equal(bytes[0], bytes[t], (size_t)n[0]);
                }
                for (int t = 0; t < 3; t++)
                    free(bytes[t]);
            }
        }
    }
    fct_fm_par_min_rows = rows0;
    fct_fm_par_min_nnz = nnz0;
    rdata_free(&d);
}

/* QA: a probit classifier's rank-r summary (summary_rank > 0 on feature
 * rows) was saved without the probit-to-logistic scale the stored samples
 * carry (w0, w times 1.7, V times sqrt(1.7)), so its probabilities were
 * pulled towards 0.5 (one sample: 0.320 where the sample says 0.217). With
 * burn_in = num_iter - 1 both models hold the same single sample, and a
 * summary of rank n_slots is exact: the two must predict alike, for one
 * chain and for two pooled. */
static void test_classifier_summary_scaled(void **state)
{
    (void)state;
    truth t;
    truth_make(&t, 12, 12, 2, 31);
    facto_rows *tr = truth_rows(&t, 0, 120, 0.3, 1, NULL);
    facto_rows *te = truth_rows(&t, 120, 144, 0.3, 2, NULL);
    for (int64_t n = 0; n < tr->n_rows; n++)
        tr->labels[n] = tr->labels[n] > 3.0f ? 1.0f : 0.0f;
    for (int64_t n = 0; n < te->n_rows; n++)
        te->labels[n] = te->labels[n] > 3.0f ? 1.0f : 0.0f;
    facto_ctx *ctx = facto_ctx_new();
    for (int chains = 1; chains <= 2; chains++) {
        facto_fm_params p = mcmc_params(24, 3, 4, 6);
        p.predictor_type = FACTO_FM_BINARY_CLASSIFIER;
        p.burn_in = 3;
        p.mcmc_chains = chains;
        p.mcmc_samples = chains;
        p.summary_rank = 0;
        facto_model *ms = NULL, *mr = NULL;
        assert_int_equal(facto_fm_fit(ctx, tr, NULL, &p, NULL, &ms), FACTO_OK);
        p.summary_rank = 24;
        assert_int_equal(facto_fm_fit(ctx, tr, NULL, &p, NULL, &mr), FACTO_OK);
        assert_int_equal(((fct_fm_model *)mr)->n_samples, 0);
        /* the summary's logit against the mean of the samples' logits (the
         * sample model averages probabilities, so compare before the link) */
        const fct_fm_model *fs = (const fct_fm_model *)ms, *fr = (const fct_fm_model *)mr;
        assert_int_equal(fs->n_samples, chains);
        uint32_t *slots = NULL;
        assert_int_equal(fct_fm_map_rows(ctx, fs, te, "test", &slots), FACTO_OK);
        float *sum = malloc(32 * sizeof *sum);
        double maxd = 0.0, spread = 0.0;
        for (int64_t n = 0; n < te->n_rows; n++) {
            int64_t o = te->row_ptr[n], len = te->row_ptr[n + 1] - o;
            double avg = 0.0;
            for (int32_t t = 0; t < fs->n_samples; t++)
                avg += fct_fm_row_raw(fs, fs->sample_w + (size_t)t * fs->n_slots,
                                        fs->sample_V + (size_t)t * fs->n_slots * fs->k, fs->sample_w0[t], slots + o,
                                        te->values + o, len, sum);
            avg /= fs->n_samples;
            double summ = fct_fm_row_raw(fr, fr->w, fr->V, fr->w0, slots + o, te->values + o, len, sum);
            maxd = fmax(maxd, fabs(summ - avg));
            spread = fmax(spread, fabs(avg));
        }
        printf("classifier, %d chain(s): summary vs samples, logits: max |diff| %.3g (max |logit| %.3g)\n", chains,
               maxd, spread);
        assert_true(spread > 0.5);
        assert_true(maxd < 1e-4 * (1.0 + spread));
        free(sum);
        free(slots);
        facto_model_free(ms);
        facto_model_free(mr);
    }
    facto_ctx_free(ctx);
    facto_rows_free(tr);
    facto_rows_free(te);
    truth_free(&t);
}

static void test_ml100k_u1(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u1.base", "ml-100k/u1.test");
    char base[1024], test[1024];
    snprintf(base, sizeof base, "%s/ml-100k/u1.base", home);
    snprintf(test, sizeof test, "%s/ml-100k/u1.test", home);
    facto_ctx *ctx = facto_ctx_new();
    facto_read_options o = facto_read_options_default();
    facto_dataset *dtr = NULL, *dte = NULL;
    assert_int_equal(facto_dataset_read(ctx, base, &o, &dtr, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_read(ctx, test, &o, &dte, NULL), FACTO_OK);
    facto_fm_params p = mcmc_params(0, 32, 100, fct_test_seed(1));
    p.mcmc_chains = 2; /* pooled chains on real data, at half the default's time (ASan runs this too) */
    facto_model *m = NULL;
    double chain = NAN;
    assert_int_equal(facto_fm_fit_ratings(ctx, dtr, dte, NULL, &p, NULL, &m, &chain), FACTO_OK);
    facto_metrics er;
    assert_int_equal(facto_model_evaluate(ctx, m, dte, NULL, &er, NULL), FACTO_OK);
    assert_int_equal(er.n, 20000);
    printf("ml-100k u1 one-hot (public block path), mcmc k=32, 100 iterations: test RMSE %.5f (running average), "
           "%.5f (saved model, rank-%d summary)\n",
           chain, er.rmse, (int)((fct_fm_model *)m)->pair_k);
    /* seeds 1-10 (tests/measure-bounds): chain 0.90840-0.91106 (mean 0.90974,
     * sd 0.00081), saved - chain 0.00046-0.00079; bound mean + 4 sd rounded up */
    assert_true(chain <= 0.913);
    /* the saved model predicts about as well as the chain's average */
    assert_true(er.rmse <= chain + 2e-3);
    facto_model_free(m);
    /* 16 thinned samples of the per-user / per-item sums instead: exact for
     * those samples, further from the average over all 100. */
    p.summary_rank = 0;
    double chain2 = NAN;
    assert_int_equal(facto_fm_fit_ratings(ctx, dtr, dte, NULL, &p, NULL, &m, &chain2), FACTO_OK);
    assert_int_equal(facto_model_evaluate(ctx, m, dte, NULL, &er, NULL), FACTO_OK);
    printf("  16 thinned samples: test RMSE %.5f\n", er.rmse);
    assert_true(chain2 == chain);
    assert_int_equal(((fct_fm_model *)m)->pair_k, 16 * 32); /* 2 chains x 8 samples x k */
    assert_true(er.rmse <= 0.918); /* seeds 1-10: 0.91095-0.91472, mean 0.91249, sd 0.00126 */
    facto_model_free(m);
    facto_dataset_free(dtr);
    facto_dataset_free(dte);
    facto_ctx_free(ctx);
}

/* The summary kernel Y += V V^T Omega: the scalar reference and the BLAS
 * version against a direct sum, with odd sizes (k, n, r not multiples of
 * any blocking). */
static void test_gram_kernel(void **state)
{
    (void)state;
    const int64_t n = 131;
    const int32_t k = 5, r = 37;
    fct_rng rng;
    fct_rng_seed(&rng, 7);
    double *V = malloc((size_t)(k * n) * sizeof *V), *om = malloc((size_t)(n * r) * sizeof *om);
    double *y0 = malloc((size_t)(n * r) * sizeof *y0), *y1 = malloc((size_t)(n * r) * sizeof *y1);
    double *ref = malloc((size_t)(n * r) * sizeof *ref), *t = malloc((size_t)(k * r) * sizeof *t);
    for (int64_t i = 0; i < k * n; i++)
        V[i] = fct_rng_normal(&rng);
    for (int64_t i = 0; i < n * r; i++) {
        om[i] = fct_rng_normal(&rng);
        y0[i] = y1[i] = ref[i] = 0.25 * (double)(i % 7);
    }
    for (int64_t i = 0; i < n; i++)
        for (int32_t c = 0; c < r; c++) {
            double a = 0.0;
            for (int64_t j = 0; j < n; j++) {
                double g = 0.0;
                for (int32_t f = 0; f < k; f++)
                    g += V[f * n + i] * V[f * n + j];
                a += g * om[j * r + c];
            }
            ref[i * r + c] += a;
        }
    fct_gram_update_scalar(V, n, k, om, r, t, y0);
    fct_gram_update(V, n, k, om, r, t, y1);
    for (int64_t i = 0; i < n * r; i++) {
        assert_true(fabs(y0[i] - ref[i]) < 1e-9 * (1.0 + fabs(ref[i])));
        assert_true(fabs(y1[i] - ref[i]) < 1e-9 * (1.0 + fabs(ref[i])));
    }
    free(V);
    free(om);
    free(y0);
    free(y1);
    free(ref);
    free(t);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gram_kernel),
        cmocka_unit_test(test_recovers_synthetic_fm),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_blocks_equal_flat_mcmc),
        cmocka_unit_test(test_blocks_equal_flat_als),
        cmocka_unit_test(test_summary_equals_sample_average),
        cmocka_unit_test(test_shared_feature_refused),
        cmocka_unit_test(test_saved_model_predicts_new_rows),
        cmocka_unit_test(test_probit_classifier),
        cmocka_unit_test(test_ratings_equal_flat_mcmc),
        cmocka_unit_test(test_ratings_equal_flat_als),
        cmocka_unit_test(test_ratings_saved_model),
        cmocka_unit_test(test_infer_fields),
        cmocka_unit_test(test_two_fields_equal_direct),
        cmocka_unit_test(test_chains_stop_together),
        cmocka_unit_test(test_threads_within_factor),
        cmocka_unit_test(test_classifier_summary_scaled),
        fct_data_test(test_ml100k_u1),
    };
    return fct_run_tests(tests, NULL, NULL);
}
