/*
 * test_softmax.c — the `softmax` kind: the full multi-label softmax loss
 * and the sampled one with the logQ correction (src/solvers/softmax.c)
 * against a double-precision reference written from their formulas, and
 * their gradients (every user, item and bias parameter) against central
 * finite differences of that reference, on a tiny problem whose sample
 * holds repeats and positives of the users (accidental hits); the sampled
 * loss tends to the full one as the sample grows (the correction makes it
 * consistent); one solver epoch equals the step written out by hand; the
 * sampled path trains when forced; one-thread determinism; top-N without
 * seen items; save / load; fold-in; ml-100k NDCG@10 on issue 9's protocol
 * (skipped without the data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "unit/testutil.h"
#include "unit/rankfit.h"

#include "models/softmax.h"
#include "solvers/softmax.h"

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_softmax");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

/* The tiny problem: 4 users, 7 items, k 3; positives by user (ascending). */
enum { NU = 4, NI = 7, K = 3 };
static const int64_t tiny_ptr[NU + 1] = {0, 2, 5, 6, 9};
static const int32_t tiny_items[9] = {1, 4, 0, 2, 6, 3, 1, 5, 6};

typedef struct tiny {
    float U[NU * K], V[NI * K], b[NI];
    fct_factors_model m;
} tiny;

static void tiny_init(tiny *t, uint64_t seed)
{
    fct_test_rng = seed;
    for (int x = 0; x < NU * K; x++)
        t->U[x] = (float)((double)(fct_test_rnd() % 2001u) / 1000.0 - 1.0);
    for (int x = 0; x < NI * K; x++)
        t->V[x] = (float)((double)(fct_test_rnd() % 2001u) / 1000.0 - 1.0);
    for (int j = 0; j < NI; j++)
        t->b[j] = (float)((double)(fct_test_rnd() % 2001u) / 2000.0 - 0.5);
    memset(&t->m, 0, sizeof t->m);
    t->m.n_users = NU;
    t->m.n_items = NI;
    t->m.k = K;
    t->m.U = t->U;
    t->m.V = t->V;
    t->m.item_bias = t->b;
}

/* Parameters as one double vector: U, then V, then b. */
enum { NP = NU * K + NI * K + NI };

static void tiny_params(const tiny *t, double *p)
{
    for (int x = 0; x < NU * K; x++)
        p[x] = t->U[x];
    for (int x = 0; x < NI * K; x++)
        p[NU * K + x] = t->V[x];
    for (int j = 0; j < NI; j++)
        p[NU * K + NI * K + j] = t->b[j];
}

static double score(const double *p, int u, int j)
{
    double s = p[NU * K + NI * K + j];
    for (int f = 0; f < K; f++)
        s += p[u * K + f] * p[NU * K + j * K + f];
    return s;
}

/* Full: sum over the batch's users of |P| log sum_j e^{s_uj} - sum_{i in P} s_ui. */
static double ref_full(const double *p, const int32_t *users, int n)
{
    double loss = 0.0;
    for (int r = 0; r < n; r++) {
        const int u = users[r];
        double z = 0.0;
        for (int j = 0; j < NI; j++)
            z += exp(score(p, u, j));
        for (int64_t x = tiny_ptr[u]; x < tiny_ptr[u + 1]; x++)
            loss += log(z) - score(p, u, tiny_items[x]);
    }
    return loss;
}

/* Sampled: for each positive i, -s_ui + log(e^{s_ui} + sum_{s: j_s != i} e^{s_uj_s - c_s}). */
static double ref_sampled(const double *p, const int32_t *users, int n, const int32_t *samples, const float *corr,
                          int S)
{
    double loss = 0.0;
    for (int r = 0; r < n; r++) {
        const int u = users[r];
        for (int64_t x = tiny_ptr[u]; x < tiny_ptr[u + 1]; x++) {
            const int i = tiny_items[x];
            double z = exp(score(p, u, i));
            for (int s = 0; s < S; s++)
                if (samples[s] != i)
                    z += exp(score(p, u, samples[s]) - corr[s]);
            loss += log(z) - score(p, u, i);
        }
    }
    return loss;
}

/* The analytic gradient of w (rows r of gU for users[r]; gV / gb by w->rows) as one vector like tiny_params. */
static void analytic(const fct_softmax_work *w, const int32_t *users, int n, double *g)
{
    memset(g, 0, NP * sizeof *g);
    for (int r = 0; r < n; r++)
        for (int f = 0; f < K; f++)
            g[users[r] * K + f] = w->gU[r * K + f];
    for (int t = 0; t < w->n_rows; t++) {
        const int j = w->rows[t];
        for (int f = 0; f < K; f++)
            g[NU * K + j * K + f] = w->gV[t * K + f];
        g[NU * K + NI * K + j] = w->gb[t];
    }
}

static void check_fd(const double *p, const double *g, double (*f)(const double *, const void *), const void *arg,
                     const char *what)
{
    const double h = 1e-5;
    for (int x = 0; x < NP; x++) {
        double up[NP], dn[NP];
        memcpy(up, p, sizeof up);
        memcpy(dn, p, sizeof dn);
        up[x] += h;
        dn[x] -= h;
        const double fd = (f(up, arg) - f(dn, arg)) / (2.0 * h);
        if (fabs(fd - g[x]) > 2e-5 + 2e-5 * fabs(fd))
            fail_msg("%s: parameter %d: analytic %.9g, finite difference %.9g", what, x, g[x], fd);
    }
}

typedef struct fd_arg {
    const int32_t *users;
    int n;
    const int32_t *samples;
    const float *corr;
    int S;
} fd_arg;

static double fd_full(const double *p, const void *a)
{
    const fd_arg *x = a;
    return ref_full(p, x->users, x->n);
}

static double fd_sampled(const double *p, const void *a)
{
    const fd_arg *x = a;
    return ref_sampled(p, x->users, x->n, x->samples, x->corr, x->S);
}

/* Full softmax: loss and every gradient, for batches with and without the
 * item bias; users outside the batch get no gradient. */
static void test_full_gradient(void **state)
{
    (void)state;
    const int32_t users[3] = {3, 0, 1};
    fct_softmax_batch bt = {3, users, tiny_ptr, tiny_items};
    for (int trial = 0; trial < 4; trial++) {
        tiny t;
        tiny_init(&t, 100 + (uint64_t)trial);
        if (trial == 3) /* no bias: b stays 0 in the reference, its gradient is still the column sum */
            memset(t.b, 0, sizeof t.b);
        fct_softmax_work *w = fct_softmax_work_new(K, NI, 4, 0, 0, 3, 1);
        assert_non_null(w);
        double loss = 0.0, p[NP], g[NP];
        assert_int_equal(fct_softmax_full(&t.m, &bt, w, &loss), 0);
        tiny_params(&t, p);
        assert_true(fabs(loss - ref_full(p, users, 3)) < 1e-5 * (1.0 + loss));
        analytic(w, users, 3, g);
        for (int f = 0; f < K; f++)
            assert_true(g[2 * K + f] == 0.0); /* user 2 is not in the batch */
        fd_arg a = {users, 3, NULL, NULL, 0};
        check_fd(p, g, fd_full, &a, "full softmax");
        fct_softmax_work_free(w);
    }
}

/* Sampled with the correction: a sample with repeats (item 6 three times)
 * and positives of the batch's users (accidental hits). */
static void test_sampled_gradient(void **state)
{
    (void)state;
    const int32_t users[3] = {1, 3, 0};
    fct_softmax_batch bt = {3, users, tiny_ptr, tiny_items};
    const int32_t samples[8] = {6, 2, 6, 5, 0, 6, 4, 3};
    const double q[NI] = {0.05, 0.1, 0.2, 0.05, 0.1, 0.2, 0.3};
    float corr[8];
    for (int s = 0; s < 8; s++)
        corr[s] = (float)log(8.0 * q[samples[s]]);
    for (int trial = 0; trial < 3; trial++) {
        tiny t;
        tiny_init(&t, 200 + (uint64_t)trial);
        fct_softmax_work *w = fct_softmax_work_new(K, NI, 4, 1, 8, 3, 1);
        assert_non_null(w);
        double loss = 0.0, p[NP], g[NP];
        assert_int_equal(fct_softmax_sampled(&t.m, &bt, 8, samples, corr, w, &loss), 0);
        tiny_params(&t, p);
        assert_true(fabs(loss - ref_sampled(p, users, 3, samples, corr, 8)) < 1e-5 * (1.0 + loss));
        /* rows: every sampled item and every positive of the batch, once */
        assert_int_equal(w->n_rows, 7);
        for (int j = 0; j < NI; j++)
            assert_int_equal(w->slot[j], -1);
        analytic(w, users, 3, g);
        fd_arg a = {users, 3, samples, corr, 8};
        check_fd(p, g, fd_sampled, &a, "sampled softmax");
        fct_softmax_work_free(w);
    }
}

/* The sampled loss with the logQ correction tends to the full loss as the
 * sample grows (samples from a proposal far from uniform), and without
 * the correction it does not. */
static void test_sampled_consistency(void **state)
{
    (void)state;
    tiny t;
    tiny_init(&t, 7);
    const int32_t users[4] = {0, 1, 2, 3};
    fct_softmax_batch bt = {4, users, tiny_ptr, tiny_items};
    double p[NP];
    tiny_params(&t, p);
    const double full = ref_full(p, users, 4);
    const double w[NI] = {1.0, 8.0, 2.0, 0.5, 4.0, 1.0, 3.0};
    fct_alias a;
    assert_int_equal(fct_alias_build(&a, w, NI), 0);
    fct_rng rng;
    fct_rng_seed(&rng, 4);
    enum { S = 100000 };
    int32_t *samples = malloc(S * sizeof *samples);
    float *corr = malloc(S * sizeof *corr), *flat = malloc(S * sizeof *flat);
    for (int s = 0; s < S; s++) {
        samples[s] = fct_alias_draw(&a, &rng);
        corr[s] = (float)(log((double)S) + a.log_q[samples[s]]);
        flat[s] = (float)log((double)S / NI); /* as if the samples were uniform */
    }
    fct_softmax_work *wk = fct_softmax_work_new(K, NI, 4, 1, S, 3, 1);
    double loss = 0.0, biased = 0.0;
    assert_int_equal(fct_softmax_sampled(&t.m, &bt, S, samples, corr, wk, &loss), 0);
    assert_int_equal(fct_softmax_sampled(&t.m, &bt, S, samples, flat, wk, &biased), 0);
    print_message("full %.5f, sampled (corrected) %.5f, sampled (uncorrected) %.5f\n", full, loss, biased);
    assert_true(fabs(loss - full) < 0.002 * full);
    assert_true(fabs(biased - full) > 5.0 * fabs(loss - full));
    fct_softmax_work_free(wk);
    fct_alias_free(&a);
    free(samples);
    free(corr);
    free(flat);
}

/* A data set of the tiny problem's interactions, ids u<n> / i<n>. */
static facto_dataset *tiny_data(facto_ctx *ctx)
{
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *us = fct_idmap_new(), *is = fct_idmap_new();
    char id[16];
    for (int u = 0; u < NU; u++) {
        snprintf(id, sizeof id, "u%d", u);
        assert_int_equal(fct_idmap_intern(us, id, strlen(id)), u);
    }
    for (int j = 0; j < NI; j++) {
        snprintf(id, sizeof id, "i%d", j);
        assert_int_equal(fct_idmap_intern(is, id, strlen(id)), j);
    }
    for (int u = 0; u < NU; u++)
        for (int64_t x = tiny_ptr[u]; x < tiny_ptr[u + 1]; x++)
            assert_int_equal(fct_coo_push(ctx, &coo, u, tiny_items[x], 1.0f, 0, 0), FACTO_OK);
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, us, is, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    return ds;
}

/* One epoch with every user in one batch and SGD = x - lr (g / B + reg x)
 * on U and V, x - lr g / B on b, with g the full softmax's gradient at the
 * old values. */
static void test_solver_step(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = tiny_data(ctx);
    fct_softmax_params sp;
    fct_softmax_ptable.defaults(&sp);
    const fct_factors_foldin foldin = {0.0f, 0.1f, 1.0f, 0.0f};
    fct_factors_model *m = NULL;
    assert_int_equal(fct_factors_create(ctx, &fct_softmax_ops, &sp, ds, K, 1, &foldin, &m), FACTO_OK);
    tiny t;
    tiny_init(&t, 55);
    memcpy(m->U, t.U, sizeof t.U);
    memcpy(m->V, t.V, sizeof t.V);
    memcpy(m->item_bias, t.b, sizeof t.b);
    /* the gradient at the old values, users in any order (one batch) */
    const int32_t all[NU] = {0, 1, 2, 3};
    fct_softmax_batch bt = {NU, all, tiny_ptr, tiny_items};
    fct_softmax_work *w = fct_softmax_work_new(K, NI, NU, 0, 0, 3, 1);
    double loss0 = 0.0;
    assert_int_equal(fct_softmax_full(&t.m, &bt, w, &loss0), 0);
    const float lr = 0.05f, reg = 0.01f;
    const fct_softmax_cfg cfg = {FCT_OPTIM_SGD, lr, reg, 64, 0, 1, 1, 5};
    fct_softmax_solver *s = NULL;
    assert_int_equal(fct_softmax_solver_new(ctx, &cfg, m, ds, &s), FACTO_OK);
    double loss = 0.0;
    int64_t n_pos = 0;
    assert_int_equal(fct_softmax_epoch(ctx, s, 1, &loss, &n_pos), FACTO_OK);
    assert_int_equal(n_pos, 9);
    assert_true(fabs(loss - loss0) < 1e-4 * loss0);
    for (int u = 0; u < NU; u++)
        for (int f = 0; f < K; f++) {
            const float x = t.U[u * K + f], g = w->gU[u * K + f] / NU;
            assert_float_equal(m->U[u * K + f], x - lr * (g + reg * x), 1e-5);
        }
    for (int j = 0; j < NI; j++) {
        for (int f = 0; f < K; f++) {
            const float x = t.V[j * K + f], g = w->gV[j * K + f] / NU;
            assert_float_equal(m->V[j * K + f], x - lr * (g + reg * x), 1e-5);
        }
        assert_float_equal(m->item_bias[j], t.b[j] - lr * w->gb[j] / NU, 1e-5);
    }
    fct_softmax_solver_free(s);
    fct_softmax_work_free(w);
    fct_factors_destroy(m);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static const char *const small_nv[] = {"num_factors", "8", "epochs", "40", "batch_size", "16", NULL};
static const char *const sampled_nv[] = {"num_factors", "8",  "epochs",      "40", "batch_size", "16",
                                         "full_softmax_max", "0", "num_sampled", "12", NULL};

static void test_softmax_determinism(void **state)
{
    (void)state;
    rf_check_determinism("softmax", small_nv);
    rf_check_determinism("softmax", sampled_nv);
}

static void test_softmax_topn_save_load(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = rf_data(ctx);
    const char *const *settings[2] = {small_nv, sampled_nv};
    for (int c = 0; c < 2; c++) {
        facto_model *m = rf_fit(ctx, "softmax", ds, settings[c], 1);
        assert_int_equal(facto_model_get_kind(m), FACTO_MODEL_SOFTMAX);
        rf_check_topn(ctx, m, ds);
        rf_check_save_load(ctx, m);
        const double overlap = rf_foldin_overlap(ctx, m, ds);
        print_message("softmax settings %d: fold-in top-10 overlap %.3f\n", c, overlap);
        assert_true(overlap >= 0.6);
        facto_model_free(m);
    }
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Issue 9's protocol at the defaults, one thread: NDCG@10 0.308-0.314 (sd 0.002) with
 * bench/loss_tune --eval test (popular: 0.150); the bounds sit five or more
 * seed deviations below, near twice popular's. */
static void test_softmax_ml100k(void **state)
{
    (void)state;
    double ndcg = 0.0, recall = 0.0;
    if (!rf_ml100k("softmax", NULL, &ndcg, &recall))
        skip();
    assert_true(ndcg >= 0.29);
    assert_true(recall >= 0.37);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_gradient),
        cmocka_unit_test(test_sampled_gradient),
        cmocka_unit_test(test_sampled_consistency),
        cmocka_unit_test(test_solver_step),
        cmocka_unit_test(test_softmax_determinism),
        cmocka_unit_test(test_softmax_topn_save_load),
        cmocka_unit_test(test_softmax_ml100k),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
