/*
 * test_fm_als.c — ALS / coordinate descent for factorization machines
 * (fm_als.c on the engine of fm_mcmc.c). Every coordinate step is the exact
 * minimiser of J = sum (y - y^)^2 + bias_wd w0^2 + linear_wd |w|^2 +
 * factors_wd |V|^2 in one parameter, so: J never increases from one sweep
 * to the next (checked on flat rows and on block rows, where the step uses
 * the block sums); after many sweeps J is stationary (central finite
 * differences of J in every parameter are ~0, while they were large after
 * one sweep); and the fitted model predicts held-out rows of a known FM
 * better than the noise. Data are small and fixed; runs in about a second.
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

#include "facto.h"
#include "data/rows.h"
#include "solvers/fm_mcmc.h"
#include "train/fit_fm_ratings.h"

/* Block data: direct features [0, 3), users [3, 15) + 5 shared real-valued
 * attributes [15, 20) in block 0, items [20, 29) in block 1. Labels from a
 * known FM (k = 2) + N(0, 0.2^2). */
static void make_data(fct_fm_data *d, facto_rows **flat, int64_t n_rows, uint64_t seed)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    double tw[29], tv[29][2];
    for (int i = 0; i < 29; i++) {
        tw[i] = 0.3 * fct_rng_normal(&rng);
        tv[i][0] = 0.6 * fct_rng_normal(&rng);
        tv[i][1] = 0.6 * fct_rng_normal(&rng);
    }
    facto_rows *users = facto_rows_new(0, 0), *items = facto_rows_new(0, 0), *direct = facto_rows_new(0, 1);
    for (int u = 0; u < 12; u++) {
        assert_int_equal(facto_rows_push(ctx, users, (uint32_t)(3 + u), 1.0f), FACTO_OK);
        for (int e = 0; e < 1 + u % 3; e++)
            assert_int_equal(facto_rows_push(ctx, users, (uint32_t)(15 + (u + 2 * e) % 5), 0.5f + 0.25f * e),
                             FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, users, 0.0f), FACTO_OK);
    }
    for (int i = 0; i < 9; i++) {
        assert_int_equal(facto_rows_push(ctx, items, (uint32_t)(20 + i), 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, items, 0.0f), FACTO_OK);
    }
    int32_t *uref = malloc((size_t)n_rows * sizeof *uref), *iref = malloc((size_t)n_rows * sizeof *iref);
    for (int64_t n = 0; n < n_rows; n++) {
        uref[n] = (int32_t)fct_rng_below(&rng, 12);
        iref[n] = (int32_t)fct_rng_below(&rng, 9);
        uint32_t c = (uint32_t)fct_rng_below(&rng, 3);
        assert_int_equal(facto_rows_push(ctx, direct, c, 1.0f), FACTO_OK);
        /* the known FM on the expanded row */
        uint32_t keys[8];
        double vals[8];
        int m = 0;
        keys[m] = c, vals[m++] = 1.0;
        for (int64_t e = users->row_ptr[uref[n]]; e < users->row_ptr[uref[n] + 1]; e++)
            keys[m] = users->keys[e], vals[m++] = users->values[e];
        keys[m] = (uint32_t)(20 + iref[n]), vals[m++] = 1.0;
        double y = 2.0, q0 = 0, q1 = 0, s = 0;
        for (int a = 0; a < m; a++) {
            y += tw[keys[a]] * vals[a];
            q0 += tv[keys[a]][0] * vals[a];
            q1 += tv[keys[a]][1] * vals[a];
            s += (tv[keys[a]][0] * tv[keys[a]][0] + tv[keys[a]][1] * tv[keys[a]][1]) * vals[a] * vals[a];
        }
        y += 0.5 * (q0 * q0 + q1 * q1 - s) + 0.2 * fct_rng_normal(&rng);
        assert_int_equal(facto_rows_finish_row(ctx, direct, (float)y), FACTO_OK);
    }
    fct_fm_data_init(d, direct, 1);
    assert_int_equal(fct_fm_data_add_block(ctx, d, users, 1, uref, 1), FACTO_OK);
    assert_int_equal(fct_fm_data_add_block(ctx, d, items, 1, iref, 1), FACTO_OK);
    assert_int_equal(fct_fm_data_expand(ctx, d, flat), FACTO_OK);
    facto_ctx_free(ctx);
}

static facto_fm_params als_params(int iters)
{
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = 29;
    p.num_factors = 3;
    p.predictor_type = FACTO_FM_REGRESSOR;
    p.solver = FACTO_FM_SOLVER_ALS;
    p.num_iter = iters;
    p.init_stdev = 0.1f;
    p.seed = 17;
    p.bias_wd = 0.5f;
    p.linear_wd = 2.0f;
    p.factors_wd = 2.0f;
    return p;
}

/* Fit on block data (blocks = 1) or its flat expansion; J of the result. */
static double fit_objective(fct_fm_data *d, facto_rows *flat, int blocks, int iters, facto_model **keep)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = als_params(iters);
    facto_model *m = NULL;
    if (blocks)
        assert_int_equal(fct_fm_fit_blocks(ctx, d, NULL, &p, NULL, -1, 0, &m, NULL), FACTO_OK);
    else
        assert_int_equal(facto_fm_fit(ctx, flat, NULL, &p, NULL, &m), FACTO_OK);
    fct_fm_data fd;
    fct_fm_data_init(&fd, flat, 0);
    uint32_t *slots = NULL;
    assert_int_equal(fct_fm_map_rows(ctx, (fct_fm_model *)m, flat, "test", &slots), FACTO_OK);
    const uint32_t *ss[1] = {slots};
    double J = 0.0;
    assert_int_equal(fct_fm_als_objective(ctx, (fct_fm_model *)m, &fd, ss, &J), FACTO_OK);
    free(slots);
    if (keep)
        *keep = m;
    else
        facto_model_free(m);
    facto_ctx_free(ctx);
    return J;
}

static void check_monotone(int blocks)
{
    fct_fm_data d;
    facto_rows *flat = NULL;
    make_data(&d, &flat, 500, 3);
    double prev = INFINITY, first = 0.0, last = 0.0;
    for (int t = 1; t <= 12; t++) {
        double J = fit_objective(&d, flat, blocks, t, NULL);
        assert_true(isfinite(J));
        /* Parameters are stored as floats: allow their rounding only. */
        assert_true(J <= prev * (1.0 + 1e-6));
        if (t == 1)
            first = J;
        last = J;
        prev = J;
    }
    printf("%s: J after 1 sweep %.4f, after 12 %.4f\n", blocks ? "blocks" : "flat", first, last);
    assert_true(last < first);
    facto_rows_free(flat);
    fct_fm_data_release(&d);
}

static void test_monotone_flat(void **state)
{
    (void)state;
    check_monotone(0);
}

static void test_monotone_blocks(void **state)
{
    (void)state;
    check_monotone(1);
}

/* Largest |dJ/dtheta| over all parameters, by central differences. */
static double max_abs_gradient(fct_fm_model *m, fct_fm_data *fd, const uint32_t *const *ss)
{
    facto_ctx *ctx = facto_ctx_new();
    const float h = 1e-2f;
    double worst = 0.0;
    int64_t np = 1 + m->n_slots * (1 + m->k);
    for (int64_t i = 0; i < np; i++) {
        float *theta = i == 0 ? &m->w0 : i <= m->n_slots ? &m->w[i - 1] : &m->V[i - 1 - m->n_slots];
        float old = *theta;
        double jp, jm;
        *theta = old + h;
        assert_int_equal(fct_fm_als_objective(ctx, m, fd, ss, &jp), FACTO_OK);
        *theta = old - h;
        assert_int_equal(fct_fm_als_objective(ctx, m, fd, ss, &jm), FACTO_OK);
        *theta = old;
        double g = (jp - jm) / (2.0 * (double)h);
        worst = fmax(worst, fabs(g));
    }
    facto_ctx_free(ctx);
    return worst;
}

static void test_stationary(void **state)
{
    (void)state;
    fct_fm_data d;
    facto_rows *flat = NULL;
    make_data(&d, &flat, 400, 9);
    facto_model *m1 = NULL, *m300 = NULL;
    fit_objective(&d, flat, 1, 1, &m1);
    fit_objective(&d, flat, 1, 300, &m300);
    facto_ctx *ctx = facto_ctx_new();
    fct_fm_data fd;
    fct_fm_data_init(&fd, flat, 0);
    uint32_t *slots = NULL;
    assert_int_equal(fct_fm_map_rows(ctx, (fct_fm_model *)m1, flat, "test", &slots), FACTO_OK);
    const uint32_t *ss[1] = {slots};
    double g1 = max_abs_gradient((fct_fm_model *)m1, &fd, ss);
    double g300 = max_abs_gradient((fct_fm_model *)m300, &fd, ss);
    printf("max |dJ/dtheta|: %.4g after 1 sweep, %.4g after 300\n", g1, g300);
    assert_true(g1 > 1.0);
    assert_true(g300 < 1e-2 * g1);
    free(slots);
    facto_model_free(m1);
    facto_model_free(m300);
    facto_rows_free(flat);
    fct_fm_data_release(&d);
    facto_ctx_free(ctx);
}

/* Trained on 1500 rows, ALS predicts 500 fresh rows of the same known FM
 * with RMSE below 1.5 x the noise sd (0.2); the labels' own sd is ~1. */
static void test_generalises(void **state)
{
    (void)state;
    fct_fm_data d;
    facto_rows *flat = NULL;
    make_data(&d, &flat, 2000, 4);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *tr = facto_rows_new(29, 1), *te = facto_rows_new(29, 1);
    for (int64_t n = 0; n < flat->n_rows; n++) {
        facto_rows *dst = n < 1500 ? tr : te;
        for (int64_t e = flat->row_ptr[n]; e < flat->row_ptr[n + 1]; e++)
            assert_int_equal(facto_rows_push(ctx, dst, flat->keys[e], flat->values[e]), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, dst, flat->labels[n]), FACTO_OK);
    }
    facto_fm_params p = als_params(100);
    p.linear_wd = 0.5f;
    p.factors_wd = 0.5f;
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, tr, NULL, &p, NULL, &m), FACTO_OK);
    facto_metrics mt;
    assert_int_equal(facto_model_evaluate_rows(ctx, m, te, &mt), FACTO_OK);
    double mean = 0.0, sd = 0.0;
    for (int64_t n = 0; n < te->n_rows; n++)
        mean += te->labels[n] / (double)te->n_rows;
    for (int64_t n = 0; n < te->n_rows; n++)
        sd += (te->labels[n] - mean) * (te->labels[n] - mean) / (double)te->n_rows;
    printf("als: test rmse %.4f (noise 0.2, label sd %.3f)\n", mt.rmse, sqrt(sd));
    assert_true(sqrt(sd) > 0.6);
    assert_true(mt.rmse < 1.5 * 0.2);
    facto_model_free(m);
    facto_rows_free(tr);
    facto_rows_free(te);
    facto_rows_free(flat);
    fct_fm_data_release(&d);
    facto_ctx_free(ctx);
}

/* Rows with one feature each leave v undetermined (h = x (q - x v) = 0)
 * and without L2 its precision is 0: ALS must still finish with finite
 * predictions, and then y^ = w0 + w_i fits each feature's mean label. */
static void test_undetermined_parameters(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(3, 1);
    const float labels[6] = {1.0f, 3.0f, 2.0f, 2.0f, 5.0f, 4.0f};
    for (int n = 0; n < 6; n++) {
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)(n / 2), 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, r, labels[n]), FACTO_OK);
    }
    facto_fm_params p = als_params(20);
    p.feature_dim = 3;
    p.bias_wd = p.linear_wd = p.factors_wd = 0.0f;
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, r, NULL, &p, NULL, &m), FACTO_OK);
    float s[6];
    assert_int_equal(facto_model_predict_rows(ctx, m, r, s, NULL), FACTO_OK);
    /* means per feature: 2, 2, 4.5 */
    const float want[6] = {2.0f, 2.0f, 2.0f, 2.0f, 4.5f, 4.5f};
    for (int n = 0; n < 6; n++)
        assert_true(fabsf(s[n] - want[n]) < 1e-4f);
    facto_model_free(m);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotone_flat),
        cmocka_unit_test(test_monotone_blocks),
        cmocka_unit_test(test_stationary),
        cmocka_unit_test(test_generalises),
        cmocka_unit_test(test_undetermined_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
