/*
 * test_bpr.c — the `bpr` kind: BPR's gradient (loss.h's derivative through
 * the solver's row gradients, fct_pair_grads) against central finite
 * differences of -log sigmoid(s_ui - s_uj) on every parameter of random
 * triples; one solver epoch on a one-pair data set equals the SGD step
 * written out by hand (so the signs, the L2 and the bias reach the model);
 * one-thread determinism; top-N without seen items (batch = one user); save / load;
 * fold-in of a training user's own items near the trained user; ml-100k
 * NDCG@10 on issue 9's protocol (skipped without the data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "unit/testutil.h"
#include "unit/rankfit.h"

#include "kernels/kernels.h"
#include "models/bpr.h"
#include "solvers/pairwise.h"

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_bpr");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static double rnd_unit(void) { return (double)(fct_test_rnd() % 2000001u) / 1000000.0 - 1.0; }

/* -log sigmoid((bi + <u, vi>) - (bj + <u, vj>)) in double. */
static double bpr_objective(const double *u, const double *vi, const double *vj, double bi, double bj, int k)
{
    double sp = bi, sn = bj;
    for (int f = 0; f < k; f++) {
        sp += u[f] * vi[f];
        sn += u[f] * vj[f];
    }
    return fct_loss_bpr(sp, sn).loss;
}

/* The analytic gradients (loss derivative x fct_pair_grads; +-d for the
 * biases) against central differences, on triples whose score difference
 * runs from -8 to 8 (scale grows with the trial). */
static void test_bpr_gradient(void **state)
{
    (void)state;
    enum { K = 6, P = 3 * K + 2 };
    fct_test_rng = 2024;
    const double h = 1e-5;
    for (int trial = 0; trial < 40; trial++) {
        const double scale = 0.2 + 0.1 * trial;
        float pf[P];
        for (int x = 0; x < P; x++)
            pf[x] = (float)(scale * rnd_unit());
        double pd[P];
        for (int x = 0; x < P; x++)
            pd[x] = pf[x];
        double sp = pd[3 * K], sn = pd[3 * K + 1];
        for (int f = 0; f < K; f++) {
            sp += pd[f] * pd[K + f];
            sn += pd[f] * pd[2 * K + f];
        }
        const float d = (float)fct_loss_bpr(sp, sn).dscore;
        float g[P];
        fct_pair_grads(pf, pf + K, pf + 2 * K, K, d, g, g + K, g + 2 * K);
        g[3 * K] = d;
        g[3 * K + 1] = -d;
        for (int x = 0; x < P; x++) {
            double up[P], dn[P];
            memcpy(up, pd, sizeof up);
            memcpy(dn, pd, sizeof dn);
            up[x] += h;
            dn[x] -= h;
            const double fd = (bpr_objective(up, up + K, up + 2 * K, up[3 * K], up[3 * K + 1], K) -
                               bpr_objective(dn, dn + K, dn + 2 * K, dn[3 * K], dn[3 * K + 1], K)) /
                              (2.0 * h);
            if (fabs(fd - g[x]) > 1e-6 + 1e-5 * fabs(fd))
                fail_msg("trial %d parameter %d: analytic %.9g, finite difference %.9g", trial, x, (double)g[x], fd);
        }
    }
}

/* A data set of one user, two items, one interaction (u0, i0): every BPR
 * sample is (u0, i0, i1). */
static facto_dataset *one_pair(facto_ctx *ctx)
{
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *us = fct_idmap_new(), *is = fct_idmap_new();
    assert_int_equal(fct_idmap_intern(us, "u0", 2), 0);
    assert_int_equal(fct_idmap_intern(is, "i0", 2), 0);
    assert_int_equal(fct_idmap_intern(is, "i1", 2), 1);
    assert_int_equal(fct_coo_push(ctx, &coo, 0, 0, 1.0f, 0, 0), FACTO_OK);
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, us, is, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    return ds;
}

/* One epoch of the solver = x - lr (g + wd x) on U_0, V_0, V_1, b_0, b_1
 * with BPR's gradients, from the old values. */
static void test_bpr_solver_step(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = one_pair(ctx);
    fct_bpr_params p;
    fct_bpr_ptable.defaults(&p);
    enum { K = 4 };
    const fct_factors_foldin foldin = {0.0f, 0.1f, 1.0f, 0.0f};
    fct_factors_model *m = NULL;
    assert_int_equal(fct_factors_create(ctx, &fct_bpr_ops, &p, ds, K, 1, &foldin, &m), FACTO_OK);
    fct_rng rng;
    fct_rng_seed(&rng, 3);
    fct_factors_init_normal(m, &rng, 0.5);
    m->item_bias[0] = 0.25f;
    m->item_bias[1] = -0.5f;
    float u[K], v0[K], v1[K];
    memcpy(u, m->U, sizeof u);
    memcpy(v0, m->V, sizeof v0);
    memcpy(v1, m->V + K, sizeof v1);
    const float b0 = m->item_bias[0], b1 = m->item_bias[1];
    const float lr = 0.1f, reg = 0.01f, reg_b = 0.02f;
    const fct_pair_cfg cfg = {FCT_LOSS_BPR, FCT_OPTIM_SGD, lr, reg, reg_b, 1, FCT_NEG_UNIFORM, 1, 9};
    fct_pair_solver *s = NULL;
    assert_int_equal(fct_pair_solver_new(ctx, &cfg, m, ds, &s), FACTO_OK);
    fct_pair_stats st;
    fct_pair_epoch(s, 1, &st);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.updates, 1);
    const double sp = b0 + fct_dot(u, v0, K), sn = b1 + fct_dot(u, v1, K);
    const fct_loss_value l = fct_loss_bpr(sp, sn);
    assert_true(fabs(st.loss - l.loss) < 1e-12);
    const float d = (float)l.dscore;
    for (int f = 0; f < K; f++) {
        assert_float_equal(m->U[f], u[f] - lr * (d * (v0[f] - v1[f]) + reg * u[f]), 1e-6);
        assert_float_equal(m->V[f], v0[f] - lr * (d * u[f] + reg * v0[f]), 1e-6);
        assert_float_equal(m->V[K + f], v1[f] - lr * (-d * u[f] + reg * v1[f]), 1e-6);
    }
    assert_float_equal(m->item_bias[0], b0 - lr * (d + reg_b * b0), 1e-6);
    assert_float_equal(m->item_bias[1], b1 - lr * (-d + reg_b * b1), 1e-6);
    /* the step lowered the pair's loss */
    const double sp2 = m->item_bias[0] + fct_dot(m->U, m->V, K), sn2 = m->item_bias[1] + fct_dot(m->U, m->V + K, K);
    assert_true(fct_loss_bpr(sp2, sn2).loss < l.loss);
    fct_pair_solver_free(s);
    fct_factors_destroy(m);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static const char *const small_nv[] = {"num_factors", "8", "epochs", "40", NULL};

static void test_bpr_determinism(void **state)
{
    (void)state;
    rf_check_determinism("bpr", small_nv);
}

static void test_bpr_topn_save_load(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = rf_data(ctx);
    const char *const pop_nv[] = {"num_factors", "8", "epochs", "40", "negative_sampling", "popularity",
                                  "optimizer", "adam", "learning_rate", "0.01", "item_bias", "0", NULL};
    const char *const *settings[2] = {small_nv, pop_nv};
    for (int c = 0; c < 2; c++) {
        facto_model *m = rf_fit(ctx, "bpr", ds, settings[c], 1);
        assert_int_equal(facto_model_get_kind(m), FACTO_MODEL_BPR);
        rf_check_topn(ctx, m, ds);
        rf_check_save_load(ctx, m);
        const double overlap = rf_foldin_overlap(ctx, m, ds);
        print_message("bpr settings %d: fold-in top-10 overlap %.3f\n", c, overlap);
        assert_true(overlap >= 0.6);
        facto_model_free(m);
    }
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Issue 9's protocol at the defaults, one thread: NDCG@10 0.302-0.307 over model seeds 1-5 (sd 0.003) with
 * bench/loss_tune --eval test (popular: 0.150); the bounds sit five or more
 * seed deviations below, near twice popular's. */
static void test_bpr_ml100k(void **state)
{
    (void)state;
    double ndcg = 0.0, recall = 0.0;
    if (!rf_ml100k("bpr", NULL, &ndcg, &recall))
        skip();
    assert_true(ndcg >= 0.29);
    assert_true(recall >= 0.37);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bpr_gradient),
        cmocka_unit_test(test_bpr_solver_step),
        cmocka_unit_test(test_bpr_determinism),
        cmocka_unit_test(test_bpr_topn_save_load),
        cmocka_unit_test(test_bpr_ml100k),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
