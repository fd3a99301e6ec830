/*
 * test_warp.c — the `warp` kind: the per-pair gradient of WARP's weighted
 * margin hinge L * max(0, 1 - s_ui + s_uj) (loss.h's derivative through
 * fct_pair_grads) against central finite differences on every parameter
 * of random triples on both sides of the margin; the rank weight
 * L(floor((n_items - 1) / t)) against hand-computed harmonic numbers; one
 * solver epoch on a one-pair data set is either no step (the one trial drew
 * the positive) or the step written out by hand; one-thread determinism;
 * top-N without seen items; save / load; fold-in; ml-100k NDCG@10 on
 * issue 9's protocol (skipped without the data).
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
#include "models/warp.h"
#include "solvers/pairwise.h"

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_warp");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static double rnd_unit(void) { return (double)(fct_test_rnd() % 2000001u) / 1000000.0 - 1.0; }

/* L * hinge((bi + <u, vi>) - (bj + <u, vj>)) in double. */
static double warp_objective(const double *p, int k, double weight)
{
    double sp = p[3 * k], sn = p[3 * k + 1];
    for (int f = 0; f < k; f++) {
        sp += p[f] * p[k + f];
        sn += p[f] * p[2 * k + f];
    }
    return weight * fct_loss_warp(sp, sn).loss;
}

static void test_warp_gradient(void **state)
{
    (void)state;
    enum { K = 5, P = 3 * K + 2 };
    fct_test_rng = 99;
    const double h = 1e-6;
    int violated = 0, flat = 0;
    for (int trial = 0; trial < 60; trial++) {
        const double scale = 0.3 + 0.05 * trial, weight = 1.0 + (trial % 7) * 0.9;
        float pf[P];
        double pd[P];
        for (int x = 0; x < P; x++) {
            pf[x] = (float)(scale * rnd_unit());
            pd[x] = pf[x];
        }
        double sp = pd[3 * K], sn = pd[3 * K + 1];
        for (int f = 0; f < K; f++) {
            sp += pd[f] * pd[K + f];
            sn += pd[f] * pd[2 * K + f];
        }
        if (fabs(1.0 - sp + sn) < 1e-3) /* the kink: no derivative */
            continue;
        const fct_loss_value l = fct_loss_warp(sp, sn);
        violated += l.dscore != 0.0;
        flat += l.dscore == 0.0;
        const float d = (float)(weight * l.dscore);
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
            const double fd = (warp_objective(up, K, weight) - warp_objective(dn, K, weight)) / (2.0 * h);
            if (fabs(fd - g[x]) > 1e-5 + 1e-5 * fabs(fd))
                fail_msg("trial %d parameter %d: analytic %.9g, finite difference %.9g", trial, x, (double)g[x], fd);
        }
    }
    assert_true(violated >= 10 && flat >= 10);
}

/* L(floor((n - 1) / t)), L(k) = 1 + 1/2 + ... + 1/k. */
static void test_warp_weight(void **state)
{
    (void)state;
    double H[11];
    for (int r = 0; r < 11; r++)
        H[r] = r == 0 ? 0.0 : H[r - 1] + 1.0 / r;
    assert_true(fabs(fct_warp_weight(H, 11, 1) - 7381.0 / 2520.0) < 1e-12); /* H_10 */
    assert_true(fabs(fct_warp_weight(H, 11, 3) - 11.0 / 6.0) < 1e-12);     /* floor(10 / 3) = 3 */
    assert_true(fct_warp_weight(H, 11, 10) == 1.0);
    assert_true(fct_warp_weight(H, 11, 11) == 0.0);
    assert_true(fct_warp_weight(H, 1, 1) == 0.0);
}

/* One user, two items, one interaction (u0, i0). */
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

/* max_sampled 1 on two items: the trial draws i0 (a positive: no step) or
 * i1 (a violation, set up below: the step of weight L(1) = 1). Over several
 * epochs (seeds) both happen; each time the model is one of the two. */
static void test_warp_solver_step(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = one_pair(ctx);
    fct_warp_params p;
    fct_warp_ptable.defaults(&p);
    enum { K = 4 };
    const fct_factors_foldin foldin = {0.0f, 0.1f, 1.0f, 0.0f};
    int stepped = 0, still = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        fct_factors_model *m = NULL;
        assert_int_equal(fct_factors_create(ctx, &fct_warp_ops, &p, ds, K, 1, &foldin, &m), FACTO_OK);
        fct_rng rng;
        fct_rng_seed(&rng, seed);
        fct_factors_init_normal(m, &rng, 0.3);
        m->item_bias[0] = -0.25f; /* s_u1 > s_u0 - 1: a violation */
        m->item_bias[1] = 0.5f;
        float u[K], v0[K], v1[K];
        memcpy(u, m->U, sizeof u);
        memcpy(v0, m->V, sizeof v0);
        memcpy(v1, m->V + K, sizeof v1);
        const float b0 = m->item_bias[0], b1 = m->item_bias[1];
        const float sp = b0 + fct_dot(u, v0, K), sn = b1 + fct_dot(u, v1, K);
        assert_true(sn > sp - 1.0f);
        const float lr = 0.1f, reg = 0.01f, reg_b = 0.02f;
        const fct_pair_cfg cfg = {FCT_LOSS_WARP, FCT_OPTIM_SGD, lr, reg, reg_b, 1, FCT_NEG_UNIFORM, 1, seed};
        fct_pair_solver *s = NULL;
        assert_int_equal(fct_pair_solver_new(ctx, &cfg, m, ds, &s), FACTO_OK);
        fct_pair_stats st;
        fct_pair_epoch(s, 1, &st);
        assert_int_equal(st.n, 1);
        assert_int_equal(st.trials, 1);
        if (st.updates == 0) {
            still++;
            assert_memory_equal(m->U, u, sizeof u);
            assert_memory_equal(m->V, v0, sizeof v0);
            assert_memory_equal(m->V + K, v1, sizeof v1);
        } else {
            stepped++;
            assert_true(fabs(st.loss - (1.0 - sp + sn)) < 1e-6);
            const float d = -1.0f; /* weight L(floor(1 / 1)) = 1 times the hinge's -1 */
            for (int f = 0; f < K; f++) {
                assert_float_equal(m->U[f], u[f] - lr * (d * (v0[f] - v1[f]) + reg * u[f]), 1e-6);
                assert_float_equal(m->V[f], v0[f] - lr * (d * u[f] + reg * v0[f]), 1e-6);
                assert_float_equal(m->V[K + f], v1[f] - lr * (-d * u[f] + reg * v1[f]), 1e-6);
            }
            assert_float_equal(m->item_bias[0], b0 - lr * (d + reg_b * b0), 1e-6);
            assert_float_equal(m->item_bias[1], b1 - lr * (-d + reg_b * b1), 1e-6);
        }
        fct_pair_solver_free(s);
        fct_factors_destroy(m);
    }
    assert_true(stepped > 0 && still > 0);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static const char *const small_nv[] = {"num_factors", "8", "epochs", "40", NULL};

static void test_warp_determinism(void **state)
{
    (void)state;
    rf_check_determinism("warp", small_nv);
}

static void test_warp_topn_save_load(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = rf_data(ctx);
    const char *const pop_nv[] = {"num_factors", "8", "epochs", "40", "negative_sampling", "popularity",
                                  "optimizer", "adam", "learning_rate", "0.01", "max_sampled", "30", NULL};
    const char *const *settings[2] = {small_nv, pop_nv};
    for (int c = 0; c < 2; c++) {
        facto_model *m = rf_fit(ctx, "warp", ds, settings[c], 1);
        assert_int_equal(facto_model_get_kind(m), FACTO_MODEL_WARP);
        rf_check_topn(ctx, m, ds);
        rf_check_save_load(ctx, m);
        const double overlap = rf_foldin_overlap(ctx, m, ds);
        print_message("warp settings %d: fold-in top-10 overlap %.3f\n", c, overlap);
        assert_true(overlap >= 0.6);
        facto_model_free(m);
    }
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Issue 9's protocol at the defaults: the bound is below every seed's
 * figure measured in bench/rank_tune.sh, not at the edge. */
static void test_warp_ml100k(void **state)
{
    (void)state;
    double ndcg = 0.0, recall = 0.0;
    if (!rf_ml100k("warp", NULL, &ndcg, &recall))
        skip();
    assert_true(ndcg >= 0.28);
    assert_true(recall >= 0.35);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warp_gradient),
        cmocka_unit_test(test_warp_weight),
        cmocka_unit_test(test_warp_solver_step),
        cmocka_unit_test(test_warp_determinism),
        cmocka_unit_test(test_warp_topn_save_load),
        cmocka_unit_test(test_warp_ml100k),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
