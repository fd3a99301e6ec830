/*
 * test_mf.c — biased matrix factorization (src/models/mf.c and its solvers).
 * Independent checks: the analytic gradient of the regularized loss against
 * central finite differences; one SGD / momentum / Adam step against the
 * update rule written from that gradient; recovery of a synthetic low-rank
 * matrix; constant data; unknown-id fallback, flags, counts and clipping;
 * top-k against brute force; save -> load -> same predictions and bytes;
 * seeded determinism; divergence; validation; callbacks; blocked SGD and
 * adagrad (same bytes for any thread count); and with ml-100k in
 * FACTO_DATA_HOME, default params on u1 (test RMSE <= 0.916) and adagrad's
 * 20-epoch schedule on u1 (<= 0.916). About 6 s.
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
#include "data/dataset.h"
#include "io/modelfile.h"
#include "kernels/kernels.h"
#include "solvers/mf_solvers.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

/* The typed hyperparameters of an MF model (the library's internal struct). */
static facto_status test_mf_params_of(const facto_model *m, facto_mf_params *out)
{
    if (!m || facto_model_get_kind(m) != FACTO_MODEL_MF)
        return FACTO_ERR_INVALID;
    *out = ((const fct_mf_model *)m)->params;
    return FACTO_OK;
}

static char g_dir[256];

static int group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/fct_mf_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A data set from (user id, item id, rating) triplets given as integers; the
 * ids become the strings "u<n>" and "i<n>". */
static facto_dataset *make_ds(const int *users, const int *items, const float *ratings, int n)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *um = fct_idmap_new(), *im = fct_idmap_new();
    for (int x = 0; x < n; x++) {
        char ub[32], ib[32];
        snprintf(ub, sizeof ub, "u%d", users[x]);
        snprintf(ib, sizeof ib, "i%d", items[x]);
        int32_t u = fct_idmap_intern(um, ub, strlen(ub)), i = fct_idmap_intern(im, ib, strlen(ib));
        assert_true(u >= 0 && i >= 0);
        assert_int_equal(fct_coo_push(ctx, &coo, u, i, ratings[x], 0, 0), FACTO_OK);
    }
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, um, im, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return ds;
}

/* Synthetic rank-r data: r(u,i) = 3 + a_u + c_i + x_u . y_i (+ noise), entries
 * kept with probability `keep` go to *train, the others to *test. */
static void make_low_rank(int n_users, int n_items, int rank, double keep, double noise, uint64_t seed,
                          facto_dataset **train, facto_dataset **test)
{
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    double *X = malloc(sizeof(double) * n_users * rank), *Y = malloc(sizeof(double) * n_items * rank);
    double *a = malloc(sizeof(double) * n_users), *c = malloc(sizeof(double) * n_items);
    for (int x = 0; x < n_users * rank; x++)
        X[x] = fct_rng_normal(&rng) * 0.7;
    for (int x = 0; x < n_items * rank; x++)
        Y[x] = fct_rng_normal(&rng) * 0.7;
    for (int u = 0; u < n_users; u++)
        a[u] = fct_rng_normal(&rng) * 0.3;
    for (int i = 0; i < n_items; i++)
        c[i] = fct_rng_normal(&rng) * 0.3;
    int cap = n_users * n_items;
    int *tu = malloc(sizeof(int) * cap), *ti = malloc(sizeof(int) * cap);
    int *su = malloc(sizeof(int) * cap), *si = malloc(sizeof(int) * cap);
    float *tr = malloc(sizeof(float) * cap), *sr = malloc(sizeof(float) * cap);
    int nt = 0, ns = 0;
    for (int u = 0; u < n_users; u++) {
        for (int i = 0; i < n_items; i++) {
            double r = 3.0 + a[u] + c[i] + noise * fct_rng_normal(&rng);
            for (int f = 0; f < rank; f++)
                r += X[u * rank + f] * Y[i * rank + f];
            /* every user and item keeps its first entries in train */
            if (fct_rng_uniform(&rng) < keep || i < 2 || u < 2) {
                tu[nt] = u, ti[nt] = i, tr[nt++] = (float)r;
            } else {
                su[ns] = u, si[ns] = i, sr[ns++] = (float)r;
            }
        }
    }
    *train = make_ds(tu, ti, tr, nt);
    if (test)
        *test = make_ds(su, si, sr, ns);
    free(X), free(Y), free(a), free(c), free(tu), free(ti), free(su), free(si), free(tr), free(sr);
}

/* Parameters for small synthetic runs. */
static facto_mf_params small_params(void)
{
    facto_mf_params p = facto_mf_params_default();
    p.num_factors = 8;
    p.epochs = 150;
    p.learning_rate = 0.02f;
    p.lr_decay = 0.995f;
    p.reg_factors = 0.01f;
    p.reg_bias = 0.001f;
    p.init_std = 0.1f;
    p.seed = 3;
    return p;
}

static fct_mf_model *fit_ok(facto_ctx *ctx, const facto_dataset *train, const facto_mf_params *p)
{
    facto_model *m = NULL;
    facto_status st = facto_mf_fit(ctx, train, NULL, p, NULL, &m);
    if (st != FACTO_OK)
        fprintf(stderr, "fit failed: %s\n", facto_errmsg(ctx));
    assert_int_equal(st, FACTO_OK);
    assert_non_null(m);
    assert_int_equal(facto_model_get_kind(m), FACTO_MODEL_MF);
    return (fct_mf_model *)m;
}

static void fill_random(fct_mf_model *m, uint64_t seed)
{
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    for (int32_t u = 0; u < m->n_users; u++)
        m->bu[u] = (float)(0.3 * fct_rng_normal(&rng));
    for (int32_t i = 0; i < m->n_items; i++)
        m->bi[i] = (float)(0.3 * fct_rng_normal(&rng));
    for (int64_t x = 0; x < (int64_t)m->n_users * m->k; x++)
        m->P[x] = (float)(0.5 * fct_rng_normal(&rng));
    for (int64_t x = 0; x < (int64_t)m->n_items * m->k; x++)
        m->Q[x] = (float)(0.5 * fct_rng_normal(&rng));
}

static const int tiny_u[] = {0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3};
static const int tiny_i[] = {0, 1, 3, 1, 2, 0, 2, 4, 1, 3, 4};
static const float tiny_r[] = {5, 3, 1, 4, 2, 1, 5, 4, 2, 3, 5};
#define TINY_N 11

/* ---- gradient ---------------------------------------------------------------- */

/* Central differences of J in every parameter against fct_mf_gradient. */
static void test_gradient_finite_differences(void **state)
{
    (void)state;
    facto_dataset *ds = make_ds(tiny_u, tiny_i, tiny_r, TINY_N);
    fct_mf_model *m = fct_mf_model_alloc(ds->n_users, ds->n_items, 3, 0);
    assert_non_null(m);
    m->mu = 3.2;
    fill_random(m, 21);
    const float rf = 0.07f, rb = 0.03f;
    size_t k = (size_t)m->k, nu = (size_t)m->n_users, ni = (size_t)m->n_items;
    double *gbu = malloc(nu * sizeof(double)), *gbi = malloc(ni * sizeof(double));
    double *gP = malloc(nu * k * sizeof(double)), *gQ = malloc(ni * k * sizeof(double));
    fct_mf_gradient(m, ds, rf, rb, gbu, gbi, gP, gQ);
    struct {
        float *x;
        double *g;
        size_t n;
    } blocks[4] = {{m->bu, gbu, nu}, {m->bi, gbi, ni}, {m->P, gP, nu * k}, {m->Q, gQ, ni * k}};
    int checked = 0;
    for (int b = 0; b < 4; b++) {
        for (size_t j = 0; j < blocks[b].n; j++) {
            float x0 = blocks[b].x[j];
            float xp = x0 + 1e-2f, xm = x0 - 1e-2f;
            blocks[b].x[j] = xp;
            double jp = fct_mf_objective(m, ds, rf, rb);
            blocks[b].x[j] = xm;
            double jm = fct_mf_objective(m, ds, rf, rb);
            blocks[b].x[j] = x0;
            double fd = (jp - jm) / ((double)xp - (double)xm);
            /* J is a polynomial of degree 4 per coordinate: the central difference
             * error is h^2/6 * J''' — small against this bound. */
            assert_true(fabs(fd - blocks[b].g[j]) <= 1e-3 * (1.0 + fabs(fd)));
            checked++;
        }
    }
    assert_int_equal(checked, (int)(nu + ni + (nu + ni) * k));
    /* the gradient is not trivially zero */
    assert_true(fabs(gP[0]) + fabs(gQ[0]) + fabs(gbu[0]) > 1e-3);
    free(gbu), free(gbi), free(gP), free(gQ);
    fct_mf_model_destroy(m);
    facto_dataset_free(ds);
}

/* One SGD step on one rating moves every touched parameter by -lr * gradient
 * of that rating's loss; Adam's first step moves each by -lr * sign(g). */
static void run_one_step(facto_optimizer opt, float momentum)
{
    const int u1[] = {0}, i1[] = {0};
    const float r1[] = {4.5f};
    facto_dataset *ds = make_ds(u1, i1, r1, 1);
    fct_mf_model *m = fct_mf_model_alloc(1, 1, 5, 0);
    m->mu = 3.0;
    fill_random(m, 5);
    facto_mf_params hp = facto_mf_params_default();
    hp.optimizer = opt;
    hp.momentum = momentum;
    hp.reg_factors = 0.05f;
    hp.reg_bias = 0.02f;
    size_t k = 5;
    double gbu, gbi, gP[5], gQ[5];
    fct_mf_gradient(m, ds, hp.reg_factors, hp.reg_bias, &gbu, &gbi, gP, gQ);
    float bu0 = m->bu[0], bi0 = m->bi[0], P0[5], Q0[5];
    memcpy(P0, m->P, sizeof P0);
    memcpy(Q0, m->Q, sizeof Q0);
    fct_mf_solver *s = fct_mf_solver_new(m, &hp);
    assert_non_null(s);
    int32_t us = 0, is = 0;
    float rs = 4.5f;
    int64_t order = 0;
    fct_mf_triplets t = {&us, &is, &rs, 1, NULL};
    const float lr = 0.01f;
    double sse = fct_mf_solver_run(s, m, &t, &order, 0, 1, lr, 1);
    double e = 4.5 - (3.0 + bu0 + bi0);
    for (size_t f = 0; f < k; f++)
        e -= (double)P0[f] * Q0[f];
    assert_true(fabs(sse - e * e) < 1e-4);
#define STEP(g) (opt == FACTO_OPT_ADAM ? (g > 0 ? lr : -lr) : lr * (g))
    assert_true(fabs((double)m->bu[0] - (bu0 - STEP(gbu))) < 1e-5);
    assert_true(fabs((double)m->bi[0] - (bi0 - STEP(gbi))) < 1e-5);
    for (size_t f = 0; f < k; f++) {
        assert_true(fabs((double)m->P[f] - (P0[f] - STEP(gP[f]))) < 1e-5);
        assert_true(fabs((double)m->Q[f] - (Q0[f] - STEP(gQ[f]))) < 1e-5);
    }
#undef STEP
    fct_mf_solver_free(s);
    fct_mf_model_destroy(m);
    facto_dataset_free(ds);
}

static void test_sgd_step_follows_gradient(void **state)
{
    (void)state;
    run_one_step(FACTO_OPT_SGD, 0.0f);
    run_one_step(FACTO_OPT_SGD, 0.9f); /* first momentum step: velocity was 0 */
    run_one_step(FACTO_OPT_ADAM, 0.0f);
}

/* ---- fitting -------------------------------------------------------------------- */

static double rmse_on(facto_ctx *ctx, const fct_mf_model *m, const facto_dataset *ds)
{
    facto_metrics r;
    assert_int_equal(facto_model_evaluate(ctx, &m->base, ds, NULL, &r, NULL), FACTO_OK);
    assert_int_equal(r.n, ds->n_ratings);
    return r.rmse;
}

/* Noise-free rank-3 data, 60% observed: held-out entries are recovered far
 * better than the mean predictor (whose RMSE is the spread, about 1). */
static void test_low_rank_recovery(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train, *test;
    make_low_rank(60, 50, 3, 0.6, 0.0, 17, &train, &test);
    facto_mf_params p = small_params();
    fct_mf_model *m = fit_ok(ctx, train, &p);
    double tr = rmse_on(ctx, m, train), te = rmse_on(ctx, m, test);
    /* spread of the held-out ratings around their mean */
    double mean = 0, var = 0;
    for (int64_t x = 0; x < test->n_ratings; x++)
        mean += test->ratings[x];
    mean /= (double)test->n_ratings;
    for (int64_t x = 0; x < test->n_ratings; x++)
        var += (test->ratings[x] - mean) * (test->ratings[x] - mean);
    double sd = sqrt(var / (double)test->n_ratings);
    assert_true(sd > 0.8);
    assert_true(tr < 0.05);
    assert_true(te < 0.15);

    /* Adam reaches the same neighbourhood. */
    facto_mf_params pa = p;
    pa.optimizer = FACTO_OPT_ADAM;
    pa.learning_rate = 0.005f;
    pa.epochs = 100;
    fct_mf_model *ma = fit_ok(ctx, train, &pa);
    assert_true(rmse_on(ctx, ma, test) < 0.2);

    /* Momentum with a smaller step, too. */
    facto_mf_params pm = p;
    pm.momentum = 0.5f;
    pm.learning_rate = 0.01f;
    fct_mf_model *mm = fit_ok(ctx, train, &pm);
    assert_true(rmse_on(ctx, mm, test) < 0.15);

    /* Hogwild with two threads: not deterministic, still accurate. */
    facto_ctx_set_threads(ctx, 2);
    fct_mf_model *mh = fit_ok(ctx, train, &p);
    assert_true(rmse_on(ctx, mh, test) < 0.2);

    facto_model_free(&m->base);
    facto_model_free(&ma->base);
    facto_model_free(&mm->base);
    facto_model_free(&mh->base);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

/* An unset reg_factors comes from the data: 0.27 sd (1/sqrt(n/users) +
 * 1/sqrt(n/items)) over the users and items with a rating, at most 0.08,
 * whatever the threads; a value given is kept. By hand: ratings 1, 3, 5, 3
 * (mean 3, sd sqrt(2)), 3 users, 2 rated items of 3 in the map: 0.27
 * sqrt(2) (sqrt(3/4) + sqrt(2/4)) = 0.6006811, capped at 0.08; the same
 * ratings divided by 100 (sd 0.01414) give 0.006006811. */
static void test_reg_from_data(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const int us[] = {1, 1, 2, 3}, is[] = {1, 2, 1, 2};
    const float rs[] = {0.01f, 0.03f, 0.05f, 0.03f};
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *um = fct_idmap_new(), *im = fct_idmap_new();
    assert_int_equal(fct_idmap_intern(im, "i9", 2), 0); /* named by the map, never rated */
    for (int x = 0; x < 4; x++) {
        char ub[32], ib[32];
        snprintf(ub, sizeof ub, "u%d", us[x]);
        snprintf(ib, sizeof ib, "i%d", is[x]);
        int32_t u = fct_idmap_intern(um, ub, strlen(ub)), i = fct_idmap_intern(im, ib, strlen(ib));
        assert_int_equal(fct_coo_push(ctx, &coo, u, i, rs[x], 0, 0), FACTO_OK);
    }
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, um, im, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    assert_int_equal(facto_dataset_n_items(ds), 3);
    double sd = 0.0;
    int32_t nu = 0, ni = 0;
    assert_int_equal(fct_dataset_spread(ctx, ds, 0.03, 2, &sd, &nu, &ni), FACTO_OK);
    assert_true(fabs(sd - 0.01 * sqrt(2.0)) < 1e-9);
    assert_int_equal(nu, 3);
    assert_int_equal(ni, 2);
    const double want = 0.27 * 0.01 * sqrt(2.0) * (sqrt(3.0 / 4.0) + sqrt(2.0 / 4.0));
    assert_true(fabs(want - 0.006006811) < 1e-8);
    assert_true(fct_mf_reg_from_data(sqrt(2.0), 4, 3, 2) == 0.08f); /* 0.6006811, capped */
    for (int threads = 1; threads <= 3; threads++) {
        facto_ctx_set_threads(ctx, threads);
        for (int opt = 0; opt < 2; opt++) { /* blocked sgd, and adam's path */
            facto_mf_params p = facto_mf_params_default();
            assert_true(isnan(p.reg_factors));
            p.num_factors = 4;
            p.epochs = 2;
            if (opt)
                p.optimizer = FACTO_OPT_ADAM, p.learning_rate = 0.001f;
            fct_mf_model *m = fit_ok(ctx, ds, &p);
            assert_true(fabs((double)m->params.reg_factors - want) < 1e-8);
            facto_model_free(&m->base);
        }
    }
    facto_mf_params p = facto_mf_params_default();
    p.num_factors = 4;
    p.epochs = 1;
    p.reg_factors = 0.05f; /* given: kept */
    fct_mf_model *m = fit_ok(ctx, ds, &p);
    assert_true(m->params.reg_factors == 0.05f);
    facto_model_free(&m->base);
    /* constant ratings: nothing to fit, no weight */
    assert_true(fct_mf_reg_from_data(0.0, 4, 3, 2) == 0.0f);
    assert_true(fct_mf_reg_from_data(NAN, 4, 3, 2) == 0.0f);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static void test_constant_ratings(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    float r[TINY_N];
    for (int x = 0; x < TINY_N; x++)
        r[x] = 3.5f;
    facto_dataset *ds = make_ds(tiny_u, tiny_i, r, TINY_N);
    facto_mf_params p = small_params();
    p.epochs = 200;
    p.learning_rate = 0.05f;
    p.lr_decay = 1.0f;
    p.reg_factors = 0.1f;
    fct_mf_model *m = fit_ok(ctx, ds, &p);
    assert_true(fabs(m->mu - 3.5) < 1e-9);
    for (int32_t u = 0; u < m->n_users; u++)
        for (int32_t i = 0; i < m->n_items; i++)
            assert_true(fabs(fct_mf_score(m, u, i) - 3.5f) < 0.01f); /* unclipped score */
    float s = 0;
    assert_int_equal(facto_model_predict(ctx, &m->base, "u2", "i3", &s, NULL), FACTO_OK);
    assert_true(s == 3.5f);
    facto_model_free(&m->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static void test_unknown_fallback_and_clipping(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_ds(tiny_u, tiny_i, tiny_r, TINY_N);
    facto_mf_params p = small_params();
    p.epochs = 5;
    fct_mf_model *m = fit_ok(ctx, ds, &p);
    int32_t u1 = facto_idmap_find(facto_model_users(&m->base), "u1");
    int32_t i2 = facto_idmap_find(facto_model_items(&m->base), "i2");
    assert_true(u1 >= 0 && i2 >= 0);
    /* make the biases large enough that mu + bias leaves the range both ways */
    m->bu[u1] = 0.4f;
    m->bi[i2] = -0.3f;
    float s;
    int flags = -1;
    assert_int_equal(facto_model_predict(ctx, &m->base, "nobody", "i2", &s, &flags), FACTO_OK);
    assert_int_equal(flags, FACTO_PRED_UNKNOWN_USER);
    assert_true(fabs(s - (float)(m->mu - 0.3)) < 1e-6);
    assert_int_equal(facto_model_predict(ctx, &m->base, "u1", "nothing", &s, &flags), FACTO_OK);
    assert_int_equal(flags, FACTO_PRED_UNKNOWN_ITEM);
    assert_true(fabs(s - (float)(m->mu + 0.4)) < 1e-6);
    assert_int_equal(facto_model_predict(ctx, &m->base, "nobody", "nothing", &s, &flags), FACTO_OK);
    assert_int_equal(flags, FACTO_PRED_UNKNOWN_USER | FACTO_PRED_UNKNOWN_ITEM);
    assert_true(fabs(s - (float)m->mu) < 1e-6);
    assert_int_equal(facto_model_predict(ctx, &m->base, "u1", "i2", &s, &flags), FACTO_OK);
    assert_int_equal(flags, 0);
    assert_true(fabs(s - fct_mf_score(m, u1, i2)) < 1e-6);

    /* clipping to the training range [1, 5] */
    m->bu[u1] = 100.0f;
    assert_int_equal(facto_model_predict(ctx, &m->base, "u1", "i2", &s, NULL), FACTO_OK);
    assert_true(s == 5.0f);
    assert_int_equal(facto_model_predict(ctx, &m->base, "u1", "nothing", &s, NULL), FACTO_OK);
    assert_true(s == 5.0f);
    m->bu[u1] = -100.0f;
    assert_int_equal(facto_model_predict(ctx, &m->base, "u1", "i2", &s, NULL), FACTO_OK);
    assert_true(s == 1.0f);
    m->bu[u1] = 0.4f;

    /* evaluate counts unknowns: 1 unknown user rating, 2 unknown item ratings
     * (one of them also with the unknown user) */
    const int eu[] = {1, 99, 0, 1}, ei[] = {2, 2, 98, 98};
    const float er[] = {3, 4, 2, 5};
    facto_dataset *test = make_ds(eu, ei, er, 4);
    facto_metrics res;
    float scores[4];
    assert_int_equal(facto_model_evaluate(ctx, &m->base, test, NULL, &res, scores), FACTO_OK);
    assert_int_equal(res.n, 4);
    assert_int_equal(res.n_unknown_users, 1);
    assert_int_equal(res.n_unknown_items, 2);
    /* scores in test's CSR order must equal predict's, and give the RMSE */
    double sse = 0, sae = 0;
    for (int32_t tu = 0; tu < test->n_users; tu++) {
        for (int64_t x = test->row_ptr[tu]; x < test->row_ptr[tu + 1]; x++) {
            float want;
            assert_int_equal(facto_model_predict(ctx, &m->base, facto_idmap_name(test->user_map, tu),
                                                 facto_idmap_name(test->item_map, test->items[x]), &want, NULL),
                             FACTO_OK);
            assert_true(scores[x] == want);
            sse += (want - test->ratings[x]) * (double)(want - test->ratings[x]);
            sae += fabs(want - test->ratings[x]);
        }
    }
    assert_true(fabs(res.rmse - sqrt(sse / 4)) < 1e-9);
    assert_true(fabs(res.mae - sae / 4) < 1e-9);
    facto_dataset_free(test);
    facto_model_free(&m->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* ---- recommend ------------------------------------------------------------------ */

static int cmp_desc(const void *a, const void *b)
{
    const facto_recommendation *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static void test_recommend_brute_force(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(30, 40, 3, 0.3, 0.1, 23, &train, NULL);
    facto_mf_params p = small_params();
    p.epochs = 20;
    fct_mf_model *m = fit_ok(ctx, train, &p);
    facto_recommendation all[40], got[40];
    for (int include = 0; include < 2; include++) {
        for (int32_t u = 0; u < m->n_users; u++) {
            const char *uid = facto_idmap_name(m->users, u);
            int32_t tu = facto_idmap_find(train->user_map, uid);
            int n = 0;
            for (int32_t i = 0; i < m->n_items; i++) {
                int seen = 0;
                const char *iid = facto_idmap_name(m->items, i);
                int32_t ti = facto_idmap_find(train->item_map, iid);
                for (int64_t x = train->row_ptr[tu]; x < train->row_ptr[tu + 1]; x++)
                    seen |= train->items[x] == ti;
                if (seen && !include)
                    continue;
                all[n].item = i;
                all[n++].score = fct_mf_score(m, u, i);
            }
            qsort(all, (size_t)n, sizeof *all, cmp_desc);
            int k = 7, n_out = -1;
            assert_int_equal(facto_model_recommend(ctx, &m->base, uid, k, include, got, &n_out), FACTO_OK);
            assert_int_equal(n_out, n < k ? n : k);
            /* top-N scores come from one sgemm per block of users, the brute
             * force from the dot kernel: equal up to float rounding */
            for (int x = 0; x < n_out; x++) {
                assert_int_equal(got[x].item, all[x].item);
                assert_true(fabsf(got[x].score - all[x].score) <= 1e-5f * (1.0f + fabsf(all[x].score)));
            }
            /* asking for more than there are returns them all */
            assert_int_equal(facto_model_recommend(ctx, &m->base, uid, 40, include, got, &n_out), FACTO_OK);
            assert_int_equal(n_out, n);
        }
    }
    int n_out = 0;
    assert_int_equal(facto_model_recommend(ctx, &m->base, "nobody", 5, 0, got, &n_out), FACTO_ERR_NOT_FOUND);
    assert_int_equal(facto_model_recommend(ctx, &m->base, "u1", -1, 0, got, &n_out), FACTO_ERR_INVALID);
    facto_model_free(&m->base);
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* ---- save / load / determinism -------------------------------------------------------- */

static unsigned char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*size + 1);
    assert_int_equal(fread(b, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b)
{
    long na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = na == nb && memcmp(x, y, (size_t)na) == 0;
    free(x);
    free(y);
    return same;
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(25, 30, 2, 0.5, 0.2, 29, &train, NULL);
    facto_mf_params p = small_params();
    p.epochs = 10;
    p.momentum = 0.3f;
    fct_mf_model *m = fit_ok(ctx, train, &p);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/a.facto", g_dir);
    snprintf(b, sizeof b, "%s/b.facto", g_dir);
    assert_int_equal(facto_model_save(ctx, &m->base, a), FACTO_OK);
    facto_model *l = NULL;
    assert_int_equal(facto_model_load(ctx, a, &l), FACTO_OK);
    assert_int_equal(facto_model_get_kind(l), FACTO_MODEL_MF);
    facto_mf_params q;
    assert_int_equal(test_mf_params_of(l, &q), FACTO_OK);
    assert_true(memcmp(&p, &q, sizeof p) == 0);
    for (int32_t u = 0; u < m->n_users; u++) {
        const char *uid = facto_idmap_name(m->users, u);
        for (int32_t i = 0; i < m->n_items; i++) {
            float s1, s2;
            int f1, f2;
            const char *iid = facto_idmap_name(m->items, i);
            assert_int_equal(facto_model_predict(ctx, &m->base, uid, iid, &s1, &f1), FACTO_OK);
            assert_int_equal(facto_model_predict(ctx, l, uid, iid, &s2, &f2), FACTO_OK);
            assert_true(s1 == s2 && f1 == f2);
        }
        facto_recommendation r1[30], r2[30];
        int n1, n2;
        assert_int_equal(facto_model_recommend(ctx, &m->base, uid, 30, 0, r1, &n1), FACTO_OK);
        assert_int_equal(facto_model_recommend(ctx, l, uid, 30, 0, r2, &n2), FACTO_OK);
        assert_int_equal(n1, n2);
        assert_true(memcmp(r1, r2, sizeof(r1[0]) * (size_t)n1) == 0);
    }
    assert_int_equal(facto_model_save(ctx, l, b), FACTO_OK);
    assert_true(same_file(a, b));
    facto_model_free(l);
    facto_model_free(&m->base);
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* Seen lists: kept and saved as uint16 up to 65,536 items (format 2: the
 * MFSI section is 2 bytes an item); a format-1 file (int32 items, written
 * here section by section as a build before format 2 wrote it) still loads;
 * both give the same top-N lists (seen items left out) and ranking
 * figures, and an int32 model saves to the same bytes as the narrow one. */
static void test_seen_narrow_and_format1(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train, *test;
    make_low_rank(25, 30, 2, 0.5, 0.2, 31, &train, &test);
    facto_mf_params p = small_params();
    p.epochs = 5;
    fct_mf_model *m = fit_ok(ctx, train, &p);
    assert_null(m->seen_items);
    assert_non_null(m->seen16);
    assert_int_equal(m->n_seen, train->n_ratings);
    for (int64_t x = 0; x < m->n_seen; x++)
        assert_int_equal(m->seen16[x], train->items[x]);
    char a[512], old[512], c[512];
    snprintf(a, sizeof a, "%s/seen2.facto", g_dir);
    snprintf(old, sizeof old, "%s/seen1.facto", g_dir);
    snprintf(c, sizeof c, "%s/seen2b.facto", g_dir);
    assert_int_equal(facto_model_save(ctx, &m->base, a), FACTO_OK);
    /* the file: format 2, MFSI 2 bytes an item; rewritten as format 1 */
    fct_mfile_reader *r = NULL;
    assert_int_equal(fct_mfile_open(ctx, a, &r), FACTO_OK);
    assert_int_equal(fct_mfile_version(r), 2);
    fct_mfile_writer *w = NULL;
    assert_int_equal(fct_mfile_create(ctx, old, FACTO_MODEL_MF, &w), FACTO_OK);
    int32_t *wide = malloc((size_t)m->n_seen * sizeof *wide);
    assert_non_null(wide);
    for (int32_t s = 0; s < fct_mfile_n_sections(r); s++) {
        uint32_t tag;
        uint64_t nb;
        const void *data;
        assert_int_equal(fct_mfile_section(r, s, &tag, &nb), FACTO_OK);
        assert_int_equal(fct_mfile_get(ctx, r, tag, -1, &data, &nb), FACTO_OK);
        if (tag == FACTO_TAG('M', 'F', 'S', 'I')) {
            assert_int_equal(nb, (uint64_t)m->n_seen * 2);
            for (int64_t x = 0; x < m->n_seen; x++)
                wide[x] = ((const uint16_t *)data)[x];
            assert_int_equal(fct_mfile_put_array(ctx, w, tag, wide, 4, (uint64_t)m->n_seen), FACTO_OK);
        } else if (tag == FACTO_TAG('M', 'F', 'S', 'P')) {
            assert_int_equal(fct_mfile_put_array(ctx, w, tag, data, 8, nb / 8), FACTO_OK);
        } else if (tag == FACTO_TAG('M', 'F', 'B', 'U') || tag == FACTO_TAG('M', 'F', 'B', 'I') ||
                   tag == FACTO_TAG('M', 'F', 'P', 'U') || tag == FACTO_TAG('M', 'F', 'Q', 'I')) {
            assert_int_equal(fct_mfile_put_array(ctx, w, tag, data, 4, nb / 4), FACTO_OK);
        } else {
            assert_int_equal(fct_mfile_put(ctx, w, tag, data, nb), FACTO_OK);
        }
    }
    assert_int_equal(fct_mfile_commit(ctx, w), FACTO_OK);
    fct_mfile_close(r);
    free(wide);
    assert_int_equal(fct_mfile_open(ctx, old, &r), FACTO_OK);
    assert_int_equal(fct_mfile_version(r), 1);
    fct_mfile_close(r);

    facto_model *ln = NULL, *lo = NULL;
    assert_int_equal(facto_model_load(ctx, a, &ln), FACTO_OK);
    assert_int_equal(facto_model_load(ctx, old, &lo), FACTO_OK);
    assert_non_null(((fct_mf_model *)ln)->seen16);
    assert_null(((fct_mf_model *)ln)->seen_items);
    assert_non_null(((fct_mf_model *)lo)->seen_items);
    assert_null(((fct_mf_model *)lo)->seen16);
    for (int32_t u = 0; u < m->n_users; u++) {
        const char *uid = facto_idmap_name(m->users, u);
        const int64_t n_seen = m->seen_ptr[u + 1] - m->seen_ptr[u];
        facto_recommendation r1[30], r2[30], r3[30];
        int n1, n2, n3;
        assert_int_equal(facto_model_recommend(ctx, &m->base, uid, 30, 0, r1, &n1), FACTO_OK);
        assert_int_equal(facto_model_recommend(ctx, ln, uid, 30, 0, r2, &n2), FACTO_OK);
        assert_int_equal(facto_model_recommend(ctx, lo, uid, 30, 0, r3, &n3), FACTO_OK);
        assert_int_equal(n1, 30 - n_seen); /* every unseen item, no seen one */
        assert_int_equal(n1, n2);
        assert_int_equal(n1, n3);
        assert_true(memcmp(r1, r2, sizeof(r1[0]) * (size_t)n1) == 0);
        assert_true(memcmp(r1, r3, sizeof(r1[0]) * (size_t)n1) == 0);
        for (int x = 0; x < n1; x++)
            for (int64_t j = m->seen_ptr[u]; j < m->seen_ptr[u + 1]; j++)
                assert_true(r1[x].item != (int32_t)m->seen16[j]);
    }
    facto_eval_options eo = facto_eval_options_default();
    eo.metrics = "ndcg@5,recall@10,auc";
    facto_metrics e1, e2;
    /* pairs of another draw: some seen in training (not ranked), some not */
    facto_dataset *tr2, *te2;
    make_low_rank(25, 30, 2, 0.5, 0.2, 32, &tr2, &te2);
    assert_int_equal(facto_model_evaluate(ctx, ln, te2, &eo, &e1, NULL), FACTO_OK);
    assert_int_equal(facto_model_evaluate(ctx, lo, te2, &eo, &e2, NULL), FACTO_OK);
    assert_true(facto_metrics_get(&e1, "ndcg@5") == facto_metrics_get(&e2, "ndcg@5"));
    assert_true(facto_metrics_get(&e1, "recall@10") == facto_metrics_get(&e2, "recall@10"));
    assert_true(facto_metrics_get(&e1, "auc") == facto_metrics_get(&e2, "auc"));
    assert_true(facto_metrics_get(&e1, "auc") > 0.0 && facto_metrics_get(&e1, "auc") < 1.0);
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    /* an int32 model writes the narrow format, byte for byte */
    assert_int_equal(facto_model_save(ctx, lo, c), FACTO_OK);
    assert_true(same_file(a, c));
    facto_model_free(ln);
    facto_model_free(lo);
    facto_model_free(&m->base);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

static void test_determinism(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(40, 35, 3, 0.5, 0.3, 31, &train, NULL);
    char path[3][512];
    for (int run = 0; run < 3; run++) {
        facto_mf_params p = small_params();
        p.epochs = 15;
        if (run == 2)
            p.seed = 4; /* a different seed gives a different model */
        fct_mf_model *m = fit_ok(ctx, train, &p);
        snprintf(path[run], sizeof path[run], "%s/det%d.facto", g_dir, run);
        assert_int_equal(facto_model_save(ctx, &m->base, path[run]), FACTO_OK);
        facto_model_free(&m->base);
    }
    assert_true(same_file(path[0], path[1]));
    assert_false(same_file(path[0], path[2]));
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* fct_mf_init's starting factors: those of a plain loop of fct_rng_normal
 * (P then Q, row by row, the padding 0, the spare zero rows) whatever the
 * thread count, for odd k (one pair split across rows, and across P and Q)
 * and padded rows; the stream left where that loop leaves it. */
static void test_init_factors_plain_loop(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(1201, 1003, 3, 0.02, 0.3, 7, &train, NULL);
    facto_mf_params p = small_params();
    static const int32_t ks[] = {7, 9};
    for (int c = 0; c < 2; c++) {
        p.num_factors = ks[c];
        const int32_t ld = fct_mf_blocked_stride(p.num_factors);
        assert_true(ld > p.num_factors);
        const size_t k = (size_t)p.num_factors, nu = (size_t)train->n_users, ni = (size_t)train->n_items;
        float *P = malloc((nu + 1) * (size_t)ld * sizeof *P), *Q = malloc((ni + 1) * (size_t)ld * sizeof *Q);
        assert_non_null(P);
        assert_non_null(Q);
        fct_rng want;
        fct_rng_seed(&want, p.seed);
        memset(P, 0, (nu + 1) * (size_t)ld * sizeof *P);
        memset(Q, 0, (ni + 1) * (size_t)ld * sizeof *Q);
        for (size_t u = 0; u < nu; u++)
            for (size_t f = 0; f < k; f++)
                P[u * (size_t)ld + f] = (float)(p.init_std * fct_rng_normal(&want));
        for (size_t i = 0; i < ni; i++)
            for (size_t f = 0; f < k; f++)
                Q[i * (size_t)ld + f] = (float)(p.init_std * fct_rng_normal(&want));
        assert_int_equal(want.has_spare, (int)(((nu + ni) * k) % 2));
        for (int t = 1; t <= 3; t += 2) {
            facto_ctx_set_threads(ctx, t);
            fct_rng rng;
            fct_rng_seed(&rng, p.seed);
            fct_mf_model *m = NULL;
            assert_int_equal(fct_mf_init(ctx, train, &p, &rng, ld, 0, &m), FACTO_OK);
            assert_memory_equal(m->P, P, (nu + 1) * (size_t)ld * sizeof *P);
            assert_memory_equal(m->Q, Q, (ni + 1) * (size_t)ld * sizeof *Q);
            assert_memory_equal(rng.s, want.s, sizeof want.s);
            assert_int_equal(rng.has_spare, want.has_spare);
            fct_mf_model_destroy(m);
        }
        free(P);
        free(Q);
    }
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* A model whose sections disagree is refused as corrupt, never used. */
static void test_load_refuses_inconsistent_sections(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(12, 10, 2, 0.5, 0.2, 43, &train, NULL);
    facto_mf_params p = small_params();
    p.epochs = 2;
    char path[512];
    snprintf(path, sizeof path, "%s/bad.facto", g_dir);
    for (int c = 0; c < 9; c++) {
        fct_mf_model *m = fit_ok(ctx, train, &p);
        if (c == 8)
            m->params.reg_factors = NAN; /* "unset": valid for a fit, never in a trained model */
        else if (c == 4)
            m->P[1] = NAN; /* a checksummed file can still carry nan/inf figures */
        else if (c == 5)
            m->bi[0] = INFINITY;
        else if (c == 6)
            m->max_rating = INFINITY;
        else if (c == 7)
            m->mu = -1e300; /* finite, but outside the rating range */
        else if (c == 0)
            m->seen16[0] = (uint16_t)(m->n_items + 3); /* item out of range */
        else if (c == 1)
            m->seen_ptr[1] = m->seen_ptr[2] + 1; /* offsets not increasing */
        else if (c == 2)
            m->max_rating = m->min_rating - 1.0f; /* empty rating range */
        else
            m->seen16[m->seen_ptr[0] + 1] = m->seen16[m->seen_ptr[0]]; /* repeated item */
        assert_int_equal(facto_model_save(ctx, &m->base, path), FACTO_OK);
        facto_model *l = (facto_model *)0x1;
        assert_int_equal(facto_model_load(ctx, path, &l), FACTO_ERR_CORRUPT);
        assert_null(l);
        assert_non_null(strstr(facto_errmsg(ctx), path));
        if (c == 4) /* the section is named */
            assert_non_null(strstr(facto_errmsg(ctx), "user factors (section 'MFPU')"));
        if (c == 5)
            assert_non_null(strstr(facto_errmsg(ctx), "item biases (section 'MFBI')"));
        if (c == 8)
            assert_non_null(strstr(facto_errmsg(ctx), "reg_factors is unset"));
        facto_model_free(&m->base);
    }
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* ---- errors ------------------------------------------------------------------------ */

typedef struct {
    int epochs_seen, nonfinite, progress_calls, stop_after;
    int64_t last_done, last_total;
} cb_state;

static double g_last_train_rmse;

static int on_epoch(const facto_epoch_report *r, void *ud)
{
    cb_state *s = ud;
    g_last_train_rmse = r->train.rmse;
    s->epochs_seen++;
    if (!isfinite(r->train.rmse) || !isfinite(r->train.mae) || !(r->seconds >= 0) ||
        !(r->samples_per_second >= 0) || r->epoch != s->epochs_seen)
        s->nonfinite++;
    return s->stop_after && s->epochs_seen >= s->stop_after;
}

static int on_progress(int epoch, int64_t done, int64_t total, void *ud)
{
    (void)epoch;
    cb_state *s = ud;
    s->progress_calls++;
    s->last_done = done;
    s->last_total = total;
    return 0;
}

static void test_diverged(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(40, 35, 3, 0.5, 0.3, 37, &train, NULL);
    facto_mf_params p = small_params();
    p.learning_rate = 50.0f;
    p.reg_factors = 0.0f;
    cb_state cs = {0};
    facto_fit_callbacks cb = {on_epoch, NULL, &cs};
    facto_model *m = (facto_model *)0x1;
    assert_int_equal(facto_mf_fit(ctx, train, NULL, &p, &cb, &m), FACTO_ERR_DIVERGED);
    assert_null(m);
    assert_int_equal(facto_errcode(ctx), FACTO_ERR_DIVERGED);
    assert_non_null(strstr(facto_errmsg(ctx), "--lr"));
    assert_int_equal(cs.nonfinite, 0); /* never reported a nan epoch */
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

static void test_invalid_params(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_ds(tiny_u, tiny_i, tiny_r, TINY_N);
    facto_mf_params bad[12];
    const char *field[12];
    int n = 0;
    for (int c = 0; c < 12; c++)
        bad[c] = facto_mf_params_default();
    bad[n].num_factors = 0, field[n++] = "num_factors";
    bad[n].epochs = 0, field[n++] = "epochs";
    bad[n].optimizer = FACTO_OPT_FTRL, field[n++] = "optimizer";
    bad[n].learning_rate = 0.0f, field[n++] = "learning_rate";
    bad[n].learning_rate = NAN, field[n++] = "learning_rate";
    bad[n].lr_decay = 0.0f, field[n++] = "lr_decay";
    bad[n].lr_decay = 1.5f, field[n++] = "lr_decay";
    bad[n].momentum = 1.0f, field[n++] = "momentum";
    bad[n].reg_factors = -0.1f, field[n++] = "reg_factors";
    bad[n].reg_bias = INFINITY, field[n++] = "reg_bias";
    bad[n].init_std = -1.0f, field[n++] = "init_std";
    for (int c = 0; c < n; c++) {
        facto_model *m = NULL;
        assert_int_equal(facto_mf_fit(ctx, ds, NULL, &bad[c], NULL, &m), FACTO_ERR_INVALID);
        assert_null(m);
        assert_non_null(strstr(facto_errmsg(ctx), field[c]));
    }
    facto_model *m = NULL;
    facto_mf_params ok = facto_mf_params_default();
    assert_int_equal(facto_mf_fit(ctx, NULL, NULL, &ok, NULL, &m), FACTO_ERR_INVALID);
    assert_int_equal(facto_mf_fit(ctx, ds, NULL, NULL, NULL, &m), FACTO_ERR_INVALID);
    facto_mf_params out;
    assert_int_equal(test_mf_params_of(NULL, &out), FACTO_ERR_INVALID);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static void test_callbacks(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train, *test;
    make_low_rank(40, 35, 3, 0.5, 0.3, 41, &train, &test);
    facto_mf_params p = small_params();
    p.epochs = 6;
    cb_state cs = {0};
    facto_fit_callbacks cb = {on_epoch, on_progress, &cs};
    facto_model *m = NULL;
    assert_int_equal(facto_mf_fit(ctx, train, test, &p, &cb, &m), FACTO_OK);
    assert_int_equal(cs.epochs_seen, 6);
    assert_int_equal(cs.nonfinite, 0);
    /* plain SGD: once per stratum, g = 16 strata per epoch (40 users, 35 items) */
    assert_int_equal(cs.progress_calls, 6 * FCT_MF_GRID);
    assert_int_equal(cs.last_done, train->n_ratings);
    assert_int_equal(cs.last_total, train->n_ratings);
    facto_model_free(m);
    /* momentum: about every 1%: chunks of ceil(n / 100) ratings, so calls per
     * epoch: ceil(n / ceil(n / 100)), which is 88..100 for n in 700..1100 */
    cb_state cm = {0};
    facto_fit_callbacks cbm = {on_epoch, on_progress, &cm};
    facto_mf_params pm = p;
    pm.momentum = 0.5f;
    assert_int_equal(facto_mf_fit(ctx, train, test, &pm, &cbm, &m), FACTO_OK);
    assert_int_equal(cm.epochs_seen, 6);
    assert_int_equal(cm.nonfinite, 0);
    assert_true(train->n_ratings > 700 && train->n_ratings < 1100);
    assert_true(cm.progress_calls >= 6 * 88 && cm.progress_calls <= 6 * 100);
    assert_int_equal(cm.last_done, train->n_ratings);
    facto_model_free(m);
    /* returning non-zero stops early with FACTO_OK */
    cb_state stop = {0};
    stop.stop_after = 2;
    facto_fit_callbacks cb2 = {on_epoch, NULL, &stop};
    assert_int_equal(facto_mf_fit(ctx, train, NULL, &p, &cb2, &m), FACTO_OK);
    assert_int_equal(stop.epochs_seen, 2);
    facto_model_free(m);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

/* ---- blocked SGD (fpsg_mf.c) ------------------------------------------------------------- */

/* The grid covers every rating exactly once per epoch, its cuts are
 * monotone and balanced, and each stratum is a set of disjoint blocks. */
static void test_blocked_grid(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(60, 45, 3, 0.5, 0.3, 53, &train, NULL);
    facto_mf_params p = small_params();
    fct_rng rng;
    fct_rng_seed(&rng, 1);
    fct_mf_model *m = NULL;
    /* the padded rows: the same draws as an unpadded model's, in place */
    fct_mf_model *m0 = NULL;
    assert_int_equal(fct_mf_init(ctx, train, &p, &rng, p.num_factors, 1, &m0), FACTO_OK);
    fct_rng_seed(&rng, 1);
    assert_int_equal(fct_mf_init(ctx, train, &p, &rng, fct_mf_blocked_stride(p.num_factors), 0, &m), FACTO_OK);
    assert_null(m->seen_items);
    assert_null(m->seen16);
    assert_null(m0->seen_items); /* 45 items: kept as uint16 */
    for (int32_t u = 0; u < train->n_users; u++)
        for (int64_t x = train->row_ptr[u]; x < train->row_ptr[u + 1]; x++)
            assert_int_equal(m0->seen16[x], train->items[x]);
    const int g = fct_mf_blocked_grid_size(m->n_users, m->n_items, 2);
    assert_int_equal(g, FCT_MF_GRID);
    for (int t = 1; t <= FCT_MF_GRID; t++) /* up to 16 threads: the same grid, so the same model */
        assert_int_equal(fct_mf_blocked_grid_size(m->n_users, m->n_items, t), FCT_MF_GRID);
    assert_int_equal(fct_mf_blocked_grid_size(m->n_users, m->n_items, 20), 41); /* above: 2 threads + 1 */
    assert_int_equal(fct_mf_blocked_grid_size(3, 40, 1), 3);
    fct_mf_blocked b;
    fct_mf_csr d = {train->row_ptr, train->items, 4, NULL, NULL, train->ratings, NULL};
    assert_int_equal(fct_mf_blocked_init(&b, m, &d, g, 9, 2), 0);
    assert_int_equal(b.stride % 16, 0);
    assert_true(b.stride >= m->k + 1);
    assert_int_equal(b.ucut[0], 0);
    assert_int_equal(b.ucut[g], m->n_users);
    assert_int_equal(b.icut[g], m->n_items);
    for (int r = 0; r < g; r++) {
        assert_true(b.ucut[r] <= b.ucut[r + 1]);
        assert_true(b.icut[r] <= b.icut[r + 1]);
    }
    /* every rating in exactly one block: the run of (u, c) holds the user's
     * items inside item range c, and the runs tile the row */
    int64_t total = 0;
    for (int32_t u = 0; u < m->n_users; u++) {
        const uint32_t *sg = b.seg + (size_t)u * (size_t)(g + 1);
        assert_int_equal(sg[0], 0);
        assert_int_equal(sg[g], train->row_ptr[u + 1] - train->row_ptr[u]);
        for (int c = 0; c < g; c++)
            for (int64_t x = train->row_ptr[u] + sg[c]; x < train->row_ptr[u] + sg[c + 1]; x++) {
                assert_true(train->items[x] >= b.icut[c] && train->items[x] < b.icut[c + 1]);
                total++;
            }
    }
    assert_int_equal(total, train->n_ratings);
    /* the padded rows hold the model's parameters, bias and padding 0 */
    for (int f = 0; f < m->k; f++)
        assert_true(b.U[(size_t)5 * b.stride + f] == m0->P[5 * m->k + f]);
    for (int f = m->k; f < b.stride; f++)
        assert_true(b.U[(size_t)5 * b.stride + f] == 0.0f);
    /* compacting gives the unpadded model's rows back */
    fct_mf_compact(m);
    assert_int_equal(m->ld, m->k);
    assert_memory_equal(m->P, m0->P, (size_t)m->n_users * (size_t)m->k * sizeof(float));
    assert_memory_equal(m->Q, m0->Q, (size_t)m->n_items * (size_t)m->k * sizeof(float));
    /* schedule: in each stratum the item ranges are a permutation; over the
     * epoch every (r, c) once */
    fct_mf_blocked_schedule(&b, 3);
    int seen[FCT_MF_GRID][FCT_MF_GRID] = {{0}};
    for (int s2 = 0; s2 < g; s2++) {
        int used[FCT_MF_GRID] = {0};
        for (int r = 0; r < g; r++) {
            int c = b.cols[s2 * g + r];
            assert_true(c >= 0 && c < g);
            assert_int_equal(used[c]++, 0);
            seen[r][c]++;
        }
    }
    for (int r = 0; r < g; r++)
        for (int c = 0; c < g; c++)
            assert_int_equal(seen[r][c], 1);
    fct_mf_blocked_free(&b);
    fct_mf_model_destroy(m);
    fct_mf_model_destroy(m0);
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* An epoch without barriers (fct_mf_blocked_epoch: a block starts once
 * its user range's and item range's blocks of the stratum before are done)
 * trains the same bits as the strata one by one, with the same error sums,
 * on 1, 2 and 3 threads; progress sees 1 .. g in order, and a progress
 * that says stop after 2 strata is not called again (one thread: the
 * epoch ends there). */
static int g_flow_calls, g_flow_last, g_flow_order_ok, g_flow_stop_at;
static int flow_progress(int done, void *user)
{
    (void)user;
    g_flow_calls++;
    if (done != g_flow_last + 1)
        g_flow_order_ok = 0;
    g_flow_last = done;
    return g_flow_stop_at > 0 && done >= g_flow_stop_at;
}

static void test_blocked_epoch_flow(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train;
    make_low_rank(70, 55, 3, 0.5, 0.3, 61, &train, NULL);
    facto_mf_params p = small_params();
    fct_mf_csr d = {train->row_ptr, train->items, 4, NULL, NULL, train->ratings, NULL};
    const int32_t ld = fct_mf_blocked_stride(p.num_factors);
    fct_mf_model *m[4] = {NULL};
    fct_mf_blocked b[4];
    double sse[4] = {0}, sae[4] = {0};
    for (int v = 0; v < 4; v++) {
        fct_rng rng;
        fct_rng_seed(&rng, 5);
        assert_int_equal(fct_mf_init(ctx, train, &p, &rng, ld, 0, &m[v]), FACTO_OK);
        const int g = fct_mf_blocked_grid_size(m[v]->n_users, m[v]->n_items, 2);
        assert_int_equal(fct_mf_blocked_init(&b[v], m[v], &d, g, 13, 2), 0);
    }
    const int g = b[0].g;
    for (int epoch = 1; epoch <= 3; epoch++) {
        for (int v = 0; v < 4; v++)
            fct_mf_blocked_schedule(&b[v], epoch);
        for (int s = 0; s < g; s++) /* v 0: the strata one by one */
            fct_mf_blocked_stratum(&b[0], epoch, s, 3.5f, 0.05f, 0.02f, 0.01f, 2, &sse[0], &sae[0]);
        for (int v = 1; v < 4; v++) { /* v 1..3: 1, 2, 3 threads */
            g_flow_calls = 0;
            g_flow_last = 0;
            g_flow_order_ok = 1;
            g_flow_stop_at = 0;
            assert_int_equal(fct_mf_blocked_epoch(&b[v], epoch, 3.5f, 0.05f, 0.02f, 0.01f, v, flow_progress, NULL,
                                                  &sse[v], &sae[v]),
                             g);
            assert_int_equal(g_flow_calls, g);
            assert_int_equal(g_flow_last, g);
            assert_true(g_flow_order_ok);
        }
    }
    const size_t nu = (size_t)m[0]->n_users * (size_t)ld, ni = (size_t)m[0]->n_items * (size_t)ld;
    assert_true(sse[0] > 0.0 && isfinite(sse[0]));
    for (int v = 1; v < 4; v++) {
        assert_memory_equal(m[v]->P, m[0]->P, nu * sizeof(float));
        assert_memory_equal(m[v]->Q, m[0]->Q, ni * sizeof(float));
        assert_memory_equal(&sse[v], &sse[0], sizeof(double));
        assert_memory_equal(&sae[v], &sae[0], sizeof(double));
    }
    /* stop after 2 strata: on one thread exactly 2 done, on 3 threads at
     * least 2 */
    fct_mf_blocked_schedule(&b[1], 4);
    fct_mf_blocked_schedule(&b[3], 4);
    g_flow_calls = 0;
    g_flow_last = 0;
    g_flow_stop_at = 2;
    double s1 = 0.0, a1 = 0.0;
    assert_int_equal(fct_mf_blocked_epoch(&b[1], 4, 3.5f, 0.05f, 0.02f, 0.01f, 1, flow_progress, NULL, &s1, &a1), 2);
    g_flow_calls = 0;
    g_flow_last = 0;
    const int done3 = fct_mf_blocked_epoch(&b[3], 4, 3.5f, 0.05f, 0.02f, 0.01f, 3, flow_progress, NULL, &s1, &a1);
    assert_true(done3 >= 2); /* blocks running (or the whole of a tiny epoch) may finish meanwhile */
    assert_int_equal(g_flow_last, 2); /* no progress after the stop */
    for (int v = 0; v < 4; v++) {
        fct_mf_blocked_free(&b[v]);
        fct_mf_model_destroy(m[v]);
    }
    facto_dataset_free(train);
    facto_ctx_free(ctx);
}

/* The same seed gives the same model bytes on 1, 2 and 3 threads; the
 * scalar kernels (forced) train a model that predicts like the vector
 * ones (the paths differ by float rounding only); the train figures of the
 * report are the errors seen during the epoch, or with train_pass those of
 * the whole training set. */
static void test_blocked_threads_and_paths(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train, *test;
    make_low_rank(60, 50, 3, 0.6, 0.0, 17, &train, &test);
    facto_mf_params p = small_params();
    /* More threads than cores would also pass, but libomp's pool grown past
     * the cores reads as a leak to LSan (make asan-test); that the grid, the
     * only thing the count changes, stays 16 x 16 up to 16 threads is
     * test_blocked_grid's (a tester saw 8 threads train another model when
     * the grid grew with the count). */
    static const int counts[] = {1, 2, 3};
    char path[3][512];
    for (int c = 0; c < 3; c++) {
        facto_ctx_set_threads(ctx, counts[c]);
        fct_mf_model *m = fit_ok(ctx, train, &p);
        snprintf(path[c], sizeof path[c], "%s/thr%d.facto", g_dir, counts[c]);
        assert_int_equal(facto_model_save(ctx, &m->base, path[c]), FACTO_OK);
        facto_model_free(&m->base);
    }
    for (int c = 1; c < 3; c++)
        assert_true(same_file(path[0], path[c]));

    facto_ctx_set_threads(ctx, 2);
    fct_mf_model *mv = fit_ok(ctx, train, &p);
    const fct_kernel_path det = fct_kernel_path_get();
    fct_kernel_path_set(FACTO_KERNEL_SCALAR);
    assert_true(fct_kern.mf_sgd_row == fct_mf_sgd_row_scalar);
    fct_mf_model *ms = fit_ok(ctx, train, &p);
    fct_kernel_path_set(det);
    const double rv = rmse_on(ctx, mv, test), rs = rmse_on(ctx, ms, test);
    print_message("blocked SGD test RMSE: vector path %.6f, scalar path %.6f\n", rv, rs);
    assert_true(rv < 0.15); /* the bound of test_low_rank_recovery on the same data */
    assert_true(fabs(rv - rs) < 1e-3);
    double maxdiff = 0.0;
    for (int64_t x = 0; x < (int64_t)ms->n_users * ms->k; x++)
        maxdiff = fmax(maxdiff, fabs((double)ms->P[x] - mv->P[x]));
    assert_true(maxdiff < 1e-3);
    facto_model_free(&mv->base);
    facto_model_free(&ms->base);

    /* report: seen errors (default) vs a full pass (train_pass = 1) */
    cb_state cs = {0};
    facto_fit_callbacks cb = {on_epoch, NULL, &cs};
    facto_mf_params pp = p;
    pp.train_pass = 1;
    pp.epochs = 1;
    facto_model *m1 = NULL;
    assert_int_equal(facto_mf_fit(ctx, train, NULL, &pp, &cb, &m1), FACTO_OK);
    facto_metrics full;
    assert_int_equal(facto_model_evaluate(ctx, m1, train, NULL, &full, NULL), FACTO_OK);
    assert_true(fabs(g_last_train_rmse - full.rmse) < 1e-6);
    facto_model_free(m1);
    pp.train_pass = 0;
    cb_state cs2 = {0};
    facto_fit_callbacks cb2 = {on_epoch, NULL, &cs2};
    assert_int_equal(facto_mf_fit(ctx, train, NULL, &pp, &cb2, &m1), FACTO_OK);
    /* in epoch 1 the errors seen before each update are those of a model
     * still near the mean: larger than after the epoch */
    assert_true(g_last_train_rmse > full.rmse + 0.01);
    assert_int_equal(cs.nonfinite, 0);
    assert_int_equal(cs2.nonfinite, 0);
    facto_model_free(m1);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

/* optimizer adagrad (blocked SGD with a rate per row, kernels.h
 * mf_adagrad_row): the same bytes on 1, 2 and 3 threads, the scalar path
 * trains a model within rounding of the vector one, and it learns the
 * noise-free rank-3 data as well as plain SGD does (another model than
 * plain SGD's: the rates differ). */
static void test_blocked_adagrad(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *train, *test;
    make_low_rank(60, 50, 3, 0.6, 0.0, 17, &train, &test);
    facto_mf_params p = small_params();
    p.optimizer = FACTO_OPT_ADAGRAD;
    p.learning_rate = 0.1f;
    p.lr_decay = 1.0f;
    static const int counts[] = {1, 2, 3};
    char path[3][512];
    for (int c = 0; c < 3; c++) {
        facto_ctx_set_threads(ctx, counts[c]);
        fct_mf_model *m = fit_ok(ctx, train, &p);
        snprintf(path[c], sizeof path[c], "%s/ada%d.facto", g_dir, counts[c]);
        assert_int_equal(facto_model_save(ctx, &m->base, path[c]), FACTO_OK);
        facto_model_free(&m->base);
    }
    for (int c = 1; c < 3; c++)
        assert_true(same_file(path[0], path[c]));

    facto_ctx_set_threads(ctx, 2);
    fct_mf_model *mv = fit_ok(ctx, train, &p);
    const fct_kernel_path det = fct_kernel_path_get();
    fct_kernel_path_set(FACTO_KERNEL_SCALAR);
    assert_true(fct_kern.mf_adagrad_row == fct_mf_adagrad_row_scalar);
    fct_mf_model *ms = fit_ok(ctx, train, &p);
    fct_kernel_path_set(det);
    facto_mf_params ps = small_params();
    fct_mf_model *mp = fit_ok(ctx, train, &ps);
    const double rv = rmse_on(ctx, mv, test), rs = rmse_on(ctx, ms, test), rp = rmse_on(ctx, mp, test);
    print_message("blocked adagrad test RMSE: vector path %.6f, scalar path %.6f; plain sgd %.6f\n", rv, rs, rp);
    assert_true(rv < 0.15); /* the bound of test_low_rank_recovery on the same data */
    assert_true(fabs(rv - rs) < 1e-3);
    double maxdiff = 0.0, sgddiff = 0.0;
    for (int64_t x = 0; x < (int64_t)ms->n_users * ms->k; x++) {
        maxdiff = fmax(maxdiff, fabs((double)ms->P[x] - mv->P[x]));
        sgddiff = fmax(sgddiff, fabs((double)mp->P[x] - mv->P[x]));
    }
    assert_true(maxdiff < 1e-3);
    assert_true(sgddiff > 1e-2);
    /* the model file keeps the optimizer */
    fct_mf_model *back = NULL;
    assert_int_equal(facto_model_load(ctx, path[0], (facto_model **)&back), FACTO_OK);
    assert_int_equal(back->params.optimizer, FACTO_OPT_ADAGRAD);
    facto_model_free(&back->base);
    facto_model_free(&mv->base);
    facto_model_free(&ms->base);
    facto_model_free(&mp->base);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

/* ---- real data -------------------------------------------------------------------------- */

static void test_ml100k_u1_defaults(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u1.base", "ml-100k/u1.test");
    char base[4096], test[4096];
    snprintf(base, sizeof base, "%s/ml-100k/u1.base", home);
    snprintf(test, sizeof test, "%s/ml-100k/u1.test", home);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *tr = NULL, *te = NULL;
    assert_int_equal(facto_dataset_read(ctx, base, NULL, &tr, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_read(ctx, test, NULL, &te, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_n_ratings(tr), 80000);
    facto_mf_params p = facto_mf_params_default();
    p.seed = fct_test_seed(p.seed);
    facto_model *m = NULL;
    assert_int_equal(facto_mf_fit(ctx, tr, NULL, &p, NULL, &m), FACTO_OK);
    facto_metrics r;
    assert_int_equal(facto_model_evaluate(ctx, m, te, NULL, &r, NULL), FACTO_OK);
    assert_int_equal(r.n, 20000);
    print_message("ml-100k u1 default params: test RMSE %.5f MAE %.5f (%lld unknown items)\n", r.rmse, r.mae,
                  (long long)r.n_unknown_items);
    /* seeds 1-10 (tests/measure-bounds) under Hogwild: 0.91463-0.91530, mean
     * 0.91489, sd 0.00022; blocked SGD, seeds 1-3: 0.91471-0.91533, mean
     * 0.91502, sd 0.00031; bound mean + 4 sd rounded up (docs/testing.md) */
    assert_true(r.rmse <= 0.916);
    assert_true(r.rmse > 0.80); /* far below what is published for this split: a leak */
    facto_model_free(m);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_ctx_free(ctx);
}

/* optimizer adagrad on u1 at its suggested short schedule (k 512, 20
 * epochs, learning_rate 0.05, lr_decay 0.96: chosen on a 90/10 validation
 * carve-out of u1.base, see the commit), a third of the default's epochs. */
static void test_ml100k_u1_adagrad(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u1.base", "ml-100k/u1.test");
    char base[4096], test[4096];
    snprintf(base, sizeof base, "%s/ml-100k/u1.base", home);
    snprintf(test, sizeof test, "%s/ml-100k/u1.test", home);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *tr = NULL, *te = NULL;
    assert_int_equal(facto_dataset_read(ctx, base, NULL, &tr, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_read(ctx, test, NULL, &te, NULL), FACTO_OK);
    facto_mf_params p = facto_mf_params_default();
    p.optimizer = FACTO_OPT_ADAGRAD;
    p.epochs = 20;
    p.learning_rate = 0.05f;
    p.lr_decay = 0.96f;
    p.seed = fct_test_seed(p.seed);
    facto_model *m = NULL;
    assert_int_equal(facto_mf_fit(ctx, tr, NULL, &p, NULL, &m), FACTO_OK);
    facto_metrics r;
    assert_int_equal(facto_model_evaluate(ctx, m, te, NULL, &r, NULL), FACTO_OK);
    assert_int_equal(r.n, 20000);
    print_message("ml-100k u1 adagrad, 20 epochs: test RMSE %.5f\n", r.rmse);
    /* seeds 1-3: 0.91481, 0.91490, 0.91517, mean 0.91496, sd 0.00019; bound
     * mean + 4 sd rounded up (docs/testing.md). Plain SGD at these 20
     * epochs (lr 0.02) stops near 0.93 on the validation carve-out. */
    assert_true(r.rmse <= 0.916);
    assert_true(r.rmse > 0.80);
    facto_model_free(m);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_ctx_free(ctx);
}

/* The acceptance figure of the issue: mean test RMSE over u1..u5 <= 0.915
 * with the defaults (five fits, about 4 s). */
static void test_ml100k_u1_u5_mean(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u1.base", "ml-100k/u5.test");
    char base[4096], test[4096];
    facto_ctx *ctx = facto_ctx_new();
    facto_mf_params p = facto_mf_params_default();
    p.seed = fct_test_seed(p.seed);
    double sum = 0;
    for (int s = 1; s <= 5; s++) {
        snprintf(base, sizeof base, "%s/ml-100k/u%d.base", home, s);
        snprintf(test, sizeof test, "%s/ml-100k/u%d.test", home, s);
        facto_dataset *tr = NULL, *te = NULL;
        assert_int_equal(facto_dataset_read(ctx, base, NULL, &tr, NULL), FACTO_OK);
        assert_int_equal(facto_dataset_read(ctx, test, NULL, &te, NULL), FACTO_OK);
        facto_model *m = NULL;
        assert_int_equal(facto_mf_fit(ctx, tr, NULL, &p, NULL, &m), FACTO_OK);
        facto_metrics r;
        assert_int_equal(facto_model_evaluate(ctx, m, te, NULL, &r, NULL), FACTO_OK);
        sum += r.rmse;
        facto_model_free(m);
        facto_dataset_free(tr);
        facto_dataset_free(te);
    }
    print_message("ml-100k u1..u5 default params: mean test RMSE %.5f\n", sum / 5);
    /* seeds 1-10 (Hogwild): 0.90445-0.90479, mean 0.90462, sd 0.00011;
     * blocked SGD, seeds 1-3: 0.90445-0.90484, mean 0.90467, sd 0.00020 */
    assert_true(sum / 5 <= 0.906);
    facto_ctx_free(ctx);
}

/* Blocked SGD from a .fds data set's narrow arrays (2-byte items; 1-byte
 * rating codes for half-stars, float32 otherwise), with and without IPS
 * weights, trains the same model bytes as from the wide arrays of the same
 * data, and never widens the training set; the seen lists and the error
 * figures match. */
static void test_blocked_narrow_fds(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    for (int coded = 0; coded < 2; coded++)
        for (int weighted = 0; weighted < 2; weighted++) {
            facto_dataset *wide = NULL, *nar = NULL;
            make_low_rank(50, 40, 3, 0.6, 0.3, 71, &wide, NULL);
            if (coded) { /* half-stars: 1-byte codes in the file */
                float lo = 5.0f, hi = 0.5f;
                for (int64_t x = 0; x < wide->n_ratings; x++) {
                    float r = roundf(wide->ratings[x] * 2.0f) / 2.0f;
                    wide->ratings[x] = r < 0.5f ? 0.5f : r > 5.0f ? 5.0f : r;
                    lo = fminf(lo, wide->ratings[x]);
                    hi = fmaxf(hi, wide->ratings[x]);
                }
                wide->min_rating = lo;
                wide->max_rating = hi;
            }
            char path[512];
            snprintf(path, sizeof path, "%s/narrow%d.fds", g_dir, coded);
            assert_int_equal(facto_dataset_write_fds(ctx, wide, path), FACTO_OK);
            assert_int_equal(facto_dataset_read(ctx, path, NULL, &nar, NULL), FACTO_OK);
            assert_int_equal(nar->narrow.item_w, 2);
            assert_true((nar->narrow.codes != NULL) == coded);
            if (weighted) {
                float *w = malloc(sizeof(float) * (size_t)wide->n_ratings);
                for (int64_t x = 0; x < wide->n_ratings; x++)
                    w[x] = 0.5f + (float)(x % 7) * 0.25f;
                assert_int_equal(facto_dataset_set_weights(ctx, wide, w), FACTO_OK);
                assert_int_equal(facto_dataset_set_weights(ctx, nar, w), FACTO_OK);
                free(w);
            }
            facto_mf_params p = small_params();
            p.epochs = 5;
            facto_ctx_set_threads(ctx, 2);
            fct_mf_model *a = fit_ok(ctx, wide, &p), *b = fit_ok(ctx, nar, &p);
            assert_null(nar->items); /* trained from the mapping */
            assert_int_equal(a->ld, a->k);
            assert_int_equal(b->ld, b->k);
            assert_true(a->mu == b->mu);
            assert_memory_equal(a->P, b->P, (size_t)a->n_users * (size_t)a->k * sizeof(float));
            assert_memory_equal(a->Q, b->Q, (size_t)a->n_items * (size_t)a->k * sizeof(float));
            assert_memory_equal(a->bu, b->bu, (size_t)a->n_users * sizeof(float));
            assert_memory_equal(a->bi, b->bi, (size_t)a->n_items * sizeof(float));
            assert_int_equal(a->n_seen, b->n_seen);
            assert_null(a->seen_items);
            assert_null(b->seen_items);
            assert_memory_equal(a->seen16, b->seen16, (size_t)a->n_seen * sizeof(uint16_t));
            assert_memory_equal(a->seen_ptr, b->seen_ptr, ((size_t)a->n_users + 1) * sizeof(int64_t));
            facto_metrics ma, mb;
            assert_int_equal(facto_model_evaluate(ctx, &a->base, wide, NULL, &ma, NULL), FACTO_OK);
            assert_int_equal(facto_model_evaluate(ctx, &b->base, nar, NULL, &mb, NULL), FACTO_OK);
            assert_true(ma.rmse == mb.rmse && ma.mae == mb.mae);
            assert_true(mb.rmse > 0.0 && mb.rmse < 1.0);
            assert_null(nar->items);
            facto_model_free(&a->base);
            facto_model_free(&b->base);
            facto_dataset_free(wide);
            facto_dataset_free(nar);
        }
    facto_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_finite_differences),
        cmocka_unit_test(test_sgd_step_follows_gradient),
        cmocka_unit_test(test_low_rank_recovery),
        cmocka_unit_test(test_constant_ratings),
        cmocka_unit_test(test_reg_from_data),
        cmocka_unit_test(test_unknown_fallback_and_clipping),
        cmocka_unit_test(test_recommend_brute_force),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_seen_narrow_and_format1),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_diverged),
        cmocka_unit_test(test_invalid_params),
        cmocka_unit_test(test_callbacks),
        cmocka_unit_test(test_blocked_grid),
        cmocka_unit_test(test_blocked_narrow_fds),
        cmocka_unit_test(test_blocked_threads_and_paths),
        cmocka_unit_test(test_blocked_epoch_flow),
        cmocka_unit_test(test_blocked_adagrad),
        cmocka_unit_test(test_load_refuses_inconsistent_sections),
        cmocka_unit_test(test_init_factors_plain_loop),
        fct_data_test(test_ml100k_u1_defaults),
        fct_data_test(test_ml100k_u1_adagrad),
        fct_data_test(test_ml100k_u1_u5_mean),
    };
    return fct_run_tests(tests, group_setup, group_teardown);
}
