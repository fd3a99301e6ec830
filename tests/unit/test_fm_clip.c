/*
 * test_fm_clip.c — clip_gradient in FM SGD, on the fused per-row path
 * (mini_batch_size 1, optimizer sgd) and on the mini-batch path: one step
 * on a one-row input against parameters worked out by hand below (some
 * gradient elements clipped, some not; rescale_grad applied before the
 * clip, weight decay after it, as MXNet's sgd_update does), and a clip too
 * large to bite giving a model bit-identical to no clipping at all. Runs in
 * well under a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "models/fm.h"

#include <math.h>
#include <string.h>

/*
 * The input: feature_dim 3, num_factors 2, `copies` copies of the row
 * x = (1, 0.5, 2), label 2; w0 = 0.1, w_i = 0.2, v_if = 0.3; all learning
 * rates 0.1, all weight decays 0.01; one epoch of plain sgd.
 */
static facto_rows *tiny_rows(facto_ctx *ctx, int copies)
{
    facto_rows *rows = facto_rows_new(3, 1);
    assert_non_null(rows);
    for (int c = 0; c < copies; c++) {
        assert_int_equal(facto_rows_push(ctx, rows, 0, 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, rows, 1, 0.5f), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, rows, 2, 2.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, rows, 2.0f), FACTO_OK);
    }
    return rows;
}

static facto_fm_params tiny_params(int batch, float clip, float rescale)
{
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = 3;
    p.num_factors = 2;
    p.predictor_type = FACTO_FM_REGRESSOR;
    p.solver = FACTO_FM_SOLVER_SGD;
    p.optimizer = FACTO_OPT_SGD;
    p.epochs = 1;
    p.mini_batch_size = batch;
    p.bias_init_method = p.linear_init_method = p.factors_init_method = FACTO_FM_INIT_CONSTANT;
    p.bias_init_value = 0.1f;
    p.linear_init_value = 0.2f;
    p.factors_init_value = 0.3f;
    p.bias_lr = p.linear_lr = p.factors_lr = 0.1f;
    p.bias_wd = p.linear_wd = p.factors_wd = 0.01f;
    p.clip_gradient = clip;
    p.rescale_grad = rescale;
    return p;
}

/* w0, w[3], V[3][2] after training on `copies` rows with these settings. */
static void train_tiny(int copies, int batch, float clip, float rescale, float *w0, float w[3], float V[3][2])
{
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *rows = tiny_rows(ctx, copies);
    facto_fm_params p = tiny_params(batch, clip, rescale);
    facto_model *model = NULL;
    if (facto_fm_fit(ctx, rows, NULL, &p, NULL, &model) != FACTO_OK)
        fail_msg("fit: %s", facto_errmsg(ctx));
    const fct_fm_model *m = (const fct_fm_model *)model;
    assert_int_equal(m->n_slots, 3);
    assert_int_equal(m->k, 2);
    *w0 = m->w0;
    for (int i = 0; i < 3; i++) {
        w[i] = m->w[i];
        for (int f = 0; f < 2; f++)
            V[i][f] = m->V[i * 2 + f];
    }
    facto_model_free(model);
    facto_rows_free(rows);
    facto_ctx_free(ctx);
}

static void expect_params(float w0, const float w[3], float V[3][2], double want_w0, const double want_w[3],
                          const double want_v[3])
{
    assert_float_equal(w0, want_w0, 1e-6);
    for (int i = 0; i < 3; i++) {
        assert_float_equal(w[i], want_w[i], 1e-6);
        for (int f = 0; f < 2; f++)
            assert_float_equal(V[i][f], want_v[i], 1e-6);
    }
}

/*
 * By hand. sum_f = sum_i v_if x_i = 0.3 * 3.5 = 1.05; sum_i v_if^2 x_i^2 =
 * 0.09 * 5.25 = 0.4725; y^ = 0.1 + 0.2 * 3.5 + 1/2 * 2 * (1.05^2 - 0.4725)
 * = 0.1 + 0.7 + 0.63 = 1.43, so d loss / d y^ = 1.43 - 2 = -0.57.
 * Gradient elements: bias -0.57; linear g x_i = -0.57, -0.285, -1.14;
 * factors g x_i (sum_f - v_if x_i) = -0.57 * 0.75 = -0.4275,
 * -0.285 * 0.9 = -0.2565, -1.14 * 0.45 = -0.513.
 * clip 0.5: -0.5 | -0.5, -0.285, -0.5 | -0.4275, -0.2565, -0.5, then
 * theta -= 0.1 * (clipped + 0.01 theta):
 *   w0 = 0.1 - 0.1 (-0.5 + 0.001) = 0.1499
 *   w  = 0.2 - 0.1 (-0.5 + 0.002) = 0.2498, 0.2 - 0.1 (-0.285 + 0.002) = 0.2283, 0.2498
 *   v  = 0.3 - 0.1 (-0.4275 + 0.003) = 0.34245, 0.3 - 0.1 (-0.2565 + 0.003) = 0.32535,
 *        0.3 - 0.1 (-0.5 + 0.003) = 0.3497
 */
static const double k_w0 = 0.1499, k_w[3] = {0.2498, 0.2283, 0.2498}, k_v[3] = {0.34245, 0.32535, 0.3497};

/*
 * rescale_grad 0.5 and clip 0.2: rescaled first (-0.285 | -0.285, -0.1425,
 * -0.57 | -0.21375, -0.12825, -0.2565), then clipped (-0.2 | -0.2, -0.1425,
 * -0.2 | -0.2, -0.12825, -0.2):
 *   w0 = 0.1 - 0.1 (-0.2 + 0.001) = 0.1199
 *   w  = 0.2 - 0.1 (-0.2 + 0.002) = 0.2198, 0.2 - 0.1 (-0.1425 + 0.002) = 0.21405, 0.2198
 *   v  = 0.3 - 0.1 (-0.2 + 0.003) = 0.3197, 0.3 - 0.1 (-0.12825 + 0.003) = 0.312525, 0.3197
 * (clipping before rescaling would give w0 = 0.1 - 0.1 (-0.1 + 0.001) = 0.1099).
 */
static const double k_rs_w0 = 0.1199, k_rs_w[3] = {0.2198, 0.21405, 0.2198}, k_rs_v[3] = {0.3197, 0.312525, 0.3197};

static void test_clip_fused_by_hand(void **state)
{
    (void)state;
    float w0, w[3], V[3][2];
    train_tiny(1, 1, 0.5f, NAN, &w0, w, V);
    expect_params(w0, w, V, k_w0, k_w, k_v);
    train_tiny(1, 1, 0.2f, 0.5f, &w0, w, V);
    expect_params(w0, w, V, k_rs_w0, k_rs_w, k_rs_v);
    /* unclipped, for contrast: w0 = 0.1 - 0.1 (-0.57 + 0.001) = 0.1569 */
    train_tiny(1, 1, NAN, NAN, &w0, w, V);
    assert_float_equal(w0, 0.1569, 1e-6);
    assert_float_equal(V[2][0], 0.3 - 0.1 * (-0.513 + 0.003), 1e-6);
}

/* Two copies of the row in one mini-batch of 2: the summed gradient times
 * the default rescale 1/2 is the one row's, so the same numbers. */
static void test_clip_batch_by_hand(void **state)
{
    (void)state;
    float w0, w[3], V[3][2];
    train_tiny(2, 2, 0.5f, NAN, &w0, w, V);
    expect_params(w0, w, V, k_w0, k_w, k_v);
    /* rescale 0.25 on the sum of two = 0.5 on one */
    train_tiny(2, 2, 0.2f, 0.25f, &w0, w, V);
    expect_params(w0, w, V, k_rs_w0, k_rs_w, k_rs_v);
}

/* ---- a clip too large to bite is no clip at all ------------------------------ */

static uint64_t g_lcg = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    g_lcg ^= g_lcg << 13;
    g_lcg ^= g_lcg >> 7;
    g_lcg ^= g_lcg << 17;
    return (double)(g_lcg >> 11) * (1.0 / 9007199254740992.0);
}

static facto_rows *random_rows(facto_ctx *ctx, int classifier)
{
    facto_rows *rows = facto_rows_new(40, 1);
    for (int r = 0; r < 300; r++) {
        int len = 1 + (int)(urand() * 6);
        for (int j = 0; j < len; j++)
            assert_int_equal(facto_rows_push(ctx, rows, (uint32_t)(urand() * 40), (float)(2 * urand() - 1)),
                             FACTO_OK);
        float label = classifier ? (urand() < 0.5 ? 0.0f : 1.0f) : (float)(1 + 4 * urand());
        assert_int_equal(facto_rows_finish_row(ctx, rows, label), FACTO_OK);
    }
    return rows;
}

static facto_model *fit(facto_ctx *ctx, const facto_rows *rows, facto_fm_params p)
{
    facto_model *model = NULL;
    if (facto_fm_fit(ctx, rows, NULL, &p, NULL, &model) != FACTO_OK)
        fail_msg("fit: %s", facto_errmsg(ctx));
    return model;
}

static int same_params(const facto_model *a, const facto_model *b)
{
    const fct_fm_model *x = (const fct_fm_model *)a, *y = (const fct_fm_model *)b;
    assert_int_equal(x->n_slots, y->n_slots);
    return memcmp(&x->w0, &y->w0, sizeof x->w0) == 0 &&
           memcmp(x->w, y->w, (size_t)x->n_slots * sizeof(float)) == 0 &&
           memcmp(x->V, y->V, (size_t)x->n_slots * (size_t)x->k * sizeof(float)) == 0;
}

static void test_huge_clip_is_no_clip(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const struct {
        int classifier, batch;
        facto_optimizer opt;
    } cases[] = {
        {0, 1, FACTO_OPT_SGD},  /* fused path */
        {1, 1, FACTO_OPT_SGD},  /* fused path, classifier */
        {0, 16, FACTO_OPT_SGD}, /* mini-batch */
        {0, 1, FACTO_OPT_ADAM}, /* per-row, through the optimizer step */
        {0, 16, FACTO_OPT_ADAGRAD},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        facto_rows *rows = random_rows(ctx, cases[c].classifier);
        facto_fm_params p = facto_fm_params_default();
        p.feature_dim = 40;
        p.num_factors = 8;
        p.predictor_type = cases[c].classifier ? FACTO_FM_BINARY_CLASSIFIER : FACTO_FM_REGRESSOR;
        p.optimizer = cases[c].opt;
        p.mini_batch_size = cases[c].batch;
        p.epochs = 4;
        p.bias_lr = p.linear_lr = p.factors_lr = 0.05f;
        p.factors_init_method = FACTO_FM_INIT_UNIFORM;
        p.factors_init_scale = 0.3f;
        p.seed = 11;
        facto_model *plain = fit(ctx, rows, p);
        p.clip_gradient = 1e30f;
        facto_model *huge = fit(ctx, rows, p);
        if (!same_params(plain, huge))
            fail_msg("case %zu: clip_gradient 1e30 changed the model", c);
        /* and a clip that bites does change it */
        p.clip_gradient = 1e-3f;
        facto_model *tight = fit(ctx, rows, p);
        assert_false(same_params(plain, tight));
        facto_model_free(plain);
        facto_model_free(huge);
        facto_model_free(tight);
        facto_rows_free(rows);
    }
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_fused_by_hand),
        cmocka_unit_test(test_clip_batch_by_hand),
        cmocka_unit_test(test_huge_clip_is_no_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
