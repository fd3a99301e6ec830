/*
 * test_warp.c — the `warp` kind: the per-pair gradient of WARP's weighted
 * margin hinge L * max(0, 1 - s_ui + s_uj) (loss.h's derivative through
 * fct_pair_grads) against central finite differences on every parameter
 * of random triples on both sides of the margin; the rank weight
 * log(max(1, floor((n_items - 1) / t))) (LightFM's) against hand-computed
 * values; one solver epoch on a one-pair data set of three items is either
 * no step (the one trial drew the positive) or the step written out by
 * hand against the negative it drew; one-thread determinism;
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

/* log(max(1, floor((n - 1) / t))). */
static void test_warp_weight(void **state)
{
    (void)state;
    assert_true(fabs(fct_warp_weight(11, 1) - log(10.0)) < 1e-12);
    assert_true(fabs(fct_warp_weight(11, 3) - log(3.0)) < 1e-12); /* floor(10 / 3) = 3 */
    assert_true(fabs(fct_warp_weight(1683, 7) - log(240.0)) < 1e-12); /* floor(1682 / 7) = 240 */
    assert_true(fct_warp_weight(11, 6) == 0.0);                   /* floor(10 / 6) = 1 */
    assert_true(fct_warp_weight(11, 11) == 0.0);                  /* floor(10 / 11) = 0, max 1 */
    assert_true(fct_warp_weight(1, 1) == 0.0);
}

/* One user, three items, one interaction (u0, i0). */
static facto_dataset *one_pair(facto_ctx *ctx)
{
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *us = fct_idmap_new(), *is = fct_idmap_new();
    assert_int_equal(fct_idmap_intern(us, "u0", 2), 0);
    assert_int_equal(fct_idmap_intern(is, "i0", 2), 0);
    assert_int_equal(fct_idmap_intern(is, "i1", 2), 1);
    assert_int_equal(fct_idmap_intern(is, "i2", 2), 2);
    assert_int_equal(fct_coo_push(ctx, &coo, 0, 0, 1.0f, 0, 0), FACTO_OK);
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, us, is, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    return ds;
}

/* max_sampled 1 on three items: the trial draws i0 (a positive: no step)
 * or i1 or i2 (violations, set up below: the step of weight
 * log(floor(2 / 1)) = log 2 against that item). Over several epochs
 * (seeds) both happen; each time the model is one of the two. */
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
        m->item_bias[0] = -0.25f; /* s_u1, s_u2 > s_u0 - 1: violations */
        m->item_bias[1] = 0.5f;
        m->item_bias[2] = 0.6f;
        float u[K], v[3][K], b[3];
        memcpy(u, m->U, sizeof u);
        memcpy(v, m->V, sizeof v);
        memcpy(b, m->item_bias, sizeof b);
        const float sp = b[0] + fct_dot(u, v[0], K);
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
            assert_memory_equal(m->V, v, sizeof v);
        } else {
            stepped++;
            const int j = memcmp(m->V + K, v[1], sizeof v[1]) != 0 ? 1 : 2; /* the negative drawn */
            const int o = 3 - j;                                             /* the item left alone */
            assert_memory_equal(m->V + o * K, v[o], sizeof v[o]);
            assert_true(m->item_bias[o] == b[o]);
            const float sn = b[j] + fct_dot(u, v[j], K);
            assert_true(sn > sp - 1.0f);
            const double w = log(2.0);
            assert_true(fabs(st.loss - w * (1.0 - sp + sn)) < 1e-6);
            const float d = (float)-w; /* the weight times the hinge's -1 */
            for (int f = 0; f < K; f++) {
                assert_float_equal(m->U[f], u[f] - lr * (d * (v[0][f] - v[j][f]) + reg * u[f]), 1e-6);
                assert_float_equal(m->V[f], v[0][f] - lr * (d * u[f] + reg * v[0][f]), 1e-6);
                assert_float_equal(m->V[j * K + f], v[j][f] - lr * (-d * u[f] + reg * v[j][f]), 1e-6);
            }
            assert_float_equal(m->item_bias[0], b[0] - lr * (d + reg_b * b[0]), 1e-6);
            assert_float_equal(m->item_bias[j], b[j] - lr * (-d + reg_b * b[j]), 1e-6);
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

/* Issue 9's protocol at the defaults, one thread: NDCG@10 0.313-0.316 (sd 0.001) with
 * bench/loss_tune --eval test (popular: 0.150); the bounds sit five or more
 * seed deviations below, near twice popular's. */
static void test_warp_ml100k(void **state)
{
    (void)state;
    double ndcg = 0.0, recall = 0.0;
    if (!rf_ml100k("warp", NULL, &ndcg, &recall))
        skip();
    assert_true(ndcg >= 0.29);
    assert_true(recall >= 0.37);
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
