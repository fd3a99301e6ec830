/*
 * test_fm_start.c — ALS and MCMC refuse data they cannot learn from
 * (fct_fm_start_check, src/solvers/fm_cd_start.c), the two cases of issue
 * 8 built here: 501 one-hot rows of which one holds the value 1e8 (before:
 * MCMC's saved model predicted garbage, exit 0), and one-hot rows with two
 * numeric features left unscaled (x5000: AUC 0.49 where scaled ones train).
 * Each is refused with FACTO_ERR_INVALID naming the row, the feature key
 * and an init_stdev that works (checked by training with it); the spread
 * in the message is checked against the formula computed here; the same
 * rows scaled train and learn; a starting point between the warning and
 * the error bounds trains with one warning through the logger; block data
 * give the same verdict as the same rows flattened; labels far below the
 * features' scale are named as such. Runs in about a second.
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

/* One-hot rows: user key r % 40, item key 40 + r % 37, label 1..5 from
 * both (additive); `big` (if > 0) replaces row 0's item value; n_num numeric keys 77,
 * 78 with values scale * (a value in [0.1, 1)), and the label (classifier:
 * 0/1) depends on them too. */
static facto_rows *make_rows(int64_t n, float big, int n_num, float scale, int classify)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(0, 1);
    assert_non_null(r);
    for (int64_t i = 0; i < n; i++) {
        int u = (int)(i % 40), it = (int)(i % 37);
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)u, 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)(40 + it), i == 0 && big > 0.0f ? big : 1.0f), FACTO_OK);
        double a = 0.1 + 0.9 * (double)((u * 7 + 3) % 10) / 10.0, b = 0.1 + 0.9 * (double)((it * 3 + 1) % 10) / 10.0;
        for (int f = 0; f < n_num; f++)
            assert_int_equal(facto_rows_push(ctx, r, (uint32_t)(77 + f), (float)(scale * (f ? b : a))), FACTO_OK);
        double y = 1.0 + 0.5 * ((u * 7) % 5 + (it * 3) % 5);
        float label = classify ? (float)((y + 5.0 * (a - 0.5) + 3.0 * (b - 0.5)) >= 3.0) : (float)y;
        assert_int_equal(facto_rows_finish_row(ctx, r, label), FACTO_OK);
    }
    facto_ctx_free(ctx);
    return r;
}

static facto_fm_params params(facto_fm_solver solver, int classify, double init_stdev)
{
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = 79;
    p.num_factors = 4;
    p.predictor_type = classify ? FACTO_FM_BINARY_CLASSIFIER : FACTO_FM_REGRESSOR;
    p.solver = solver;
    p.num_iter = 20;
    p.mcmc_chains = 2;
    p.init_stdev = (float)init_stdev;
    return p;
}

/* R as fm_cd_start.c defines it, computed here the plain way. */
static double start_spread(const facto_rows *r, int k, double sigma, int classify)
{
    double sum = 0.0, sy = 0.0, syy = 0.0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        double pairs = 0.0;
        for (int64_t a = r->row_ptr[i]; a < r->row_ptr[i + 1]; a++)
            for (int64_t b = a + 1; b < r->row_ptr[i + 1]; b++)
                pairs += (double)r->values[a] * r->values[a] * (double)r->values[b] * r->values[b];
        sum += pairs;
        double y = classify ? (r->labels[i] > 0.0f ? 1.0 : -1.0) : r->labels[i];
        sy += y;
        syy += y * y;
    }
    double n = (double)r->n_rows, mean = sy / n;
    return sqrt(k * sum / n) * sigma * sigma / sqrt(syy / n - mean * mean);
}

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("'%s' is not in: %s", part, msg);
}

static void assert_starts(const char *msg, const char *prefix)
{
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("'%s' does not start with '%s'", msg, prefix);
}

/* The init_stdev a message suggests ("... init_stdev to S or below"). */
static float suggested(const char *msg)
{
    const char *at = strstr(msg, "init_stdev to ");
    assert_non_null(at);
    float s = 0.0f;
    assert_int_equal(sscanf(at + 14, "%g", &s), 1);
    assert_true(s > 0.0f);
    return s;
}

/* Issue 8, case 1: one value of 1e8 among 501 one-hot rows. */
static void test_one_value_far_off(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *bad = make_rows(501, 1e8f, 0, 1.0f, 0), *good = make_rows(501, 0.0f, 0, 1.0f, 0);
    double R = start_spread(bad, 4, 0.1, 0);
    assert_true(R > 9.15e4 && R < 9.17e4); /* 0.01 sqrt(4 1e16 / 501) / 0.976 (the labels' deviation) */
    char spread[128];
    snprintf(spread, sizeof spread, "spread %.3g times", R);
    facto_fm_solver solvers[] = {FACTO_FM_SOLVER_MCMC, FACTO_FM_SOLVER_ALS};
    for (int s = 0; s < 2; s++) {
        facto_fm_params p = params(solvers[s], 0, 0.1);
        facto_model *m = NULL;
        assert_int_equal(facto_fm_fit(ctx, bad, NULL, &p, NULL, &m), FACTO_ERR_INVALID);
        assert_null(m);
        const char *msg = facto_errmsg(ctx);
        /* the row (the CLI makes it FILE:LINE), the key, its value, the fix */
        assert_starts(msg, "training row 1: feature key 40 = 1e+08 (with key 0 = 1) is far off the scale of the "
                           "other feature values (typically 1): with init_stdev 0.1, ");
        assert_contains(msg, spread);
        assert_contains(msg, "scale that feature (e.g. to [0, 1]) or lower init_stdev to 0.0003 or below");
        /* the init_stdev it names trains */
        p.init_stdev = 0.0003f;
        assert_int_equal(facto_fm_fit(ctx, bad, NULL, &p, NULL, &m), FACTO_OK);
        facto_model_free(m);
        m = NULL;
        /* the rows without the odd value train, and learn: training RMSE well under the labels' 1.41 */
        p.init_stdev = 0.1f;
        assert_int_equal(facto_fm_fit(ctx, good, NULL, &p, NULL, &m), FACTO_OK);
        facto_metrics mt;
        assert_int_equal(facto_model_evaluate_rows(ctx, m, good, &mt), FACTO_OK);
        assert_true(mt.rmse < 1.0);
        facto_model_free(m);
    }
    facto_rows_free(bad);
    facto_rows_free(good);
    facto_ctx_free(ctx);
}

/* Issue 8, case 2: two numeric features x5000 next to one-hot keys. */
static void test_unscaled_numeric(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *raw = make_rows(2000, 0.0f, 2, 5000.0f, 1), *scaled = make_rows(2000, 0.0f, 2, 1.0f, 1);
    double R = start_spread(raw, 4, 0.1, 1);
    assert_true(R > FACTO_FM_START_MAX);
    assert_true(start_spread(scaled, 4, 0.1, 1) < 1.0);
    char spread[128];
    snprintf(spread, sizeof spread, "spread %.3g times the standard deviation of the training labels", R);
    facto_fm_solver solvers[] = {FACTO_FM_SOLVER_ALS, FACTO_FM_SOLVER_MCMC};
    for (int s = 0; s < 2; s++) {
        facto_fm_params p = params(solvers[s], 1, 0.1);
        facto_model *m = NULL;
        assert_int_equal(facto_fm_fit(ctx, raw, NULL, &p, NULL, &m), FACTO_ERR_INVALID);
        const char *msg = facto_errmsg(ctx);
        /* the widest row holds both numeric features at their largest */
        assert_starts(msg, "training row ");
        assert_contains(msg, ": feature key 77 = 4550 (with key 78 = 4550) is far off the scale of the other "
                             "feature values (typically 1)");
        assert_contains(msg, spread);
        assert_contains(msg, solvers[s] == FACTO_FM_SOLVER_ALS ? "als starts" : "mcmc starts");
        assert_contains(msg, "scale that feature (e.g. to [0, 1]) or lower init_stdev to ");
        /* the init_stdev it names trains, and the check then passes */
        facto_fm_params q = p;
        q.init_stdev = suggested(msg);
        assert_true(start_spread(raw, 4, q.init_stdev, 1) < 1.0);
        assert_int_equal(facto_fm_fit(ctx, raw, NULL, &q, NULL, &m), FACTO_OK);
        facto_model_free(m);
        /* scaled, the same rows train and rank: training AUC well above chance */
        assert_int_equal(facto_fm_fit(ctx, scaled, NULL, &p, NULL, &m), FACTO_OK);
        facto_metrics mt;
        assert_int_equal(facto_model_evaluate_rows(ctx, m, scaled, &mt), FACTO_OK);
        assert_true(mt.binary.auc > 0.8);
        facto_model_free(m);
    }
    facto_rows_free(raw);
    facto_rows_free(scaled);
    facto_ctx_free(ctx);
}

typedef struct captured {
    int warnings;
    char last[FACTO_ERRMSG_MAX];
} captured;

static void capture(facto_log_level level, const char *message, void *user)
{
    captured *c = user;
    if (level == FACTO_LOG_WARN) {
        c->warnings++;
        snprintf(c->last, sizeof c->last, "%s", message);
    }
}

/* Between FACTO_FM_START_WARN and FACTO_FM_START_MAX: trains, with one warning. */
static void test_warning_range(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    captured c = {0, ""};
    facto_ctx_set_log(ctx, capture, &c, FACTO_LOG_WARN);
    /* one numeric feature x4000 (values 400..3640): R about 44 */
    facto_rows *r = make_rows(1000, 0.0f, 1, 4000.0f, 0);
    double R = start_spread(r, 4, 0.1, 0);
    if (!(R >= FACTO_FM_START_WARN && R < FACTO_FM_START_MAX))
        fail_msg("R %g", R);
    facto_fm_params p = params(FACTO_FM_SOLVER_ALS, 0, 0.1);
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, r, NULL, &p, NULL, &m), FACTO_OK);
    facto_model_free(m);
    assert_int_equal(c.warnings, 1);
    char spread[128];
    snprintf(spread, sizeof spread, "spread %.3g times", R);
    assert_starts(c.last, "training row 9: feature key 77 = 3640 (with key 8 = 1) is far off the scale of the other "
                          "feature values (typically 1): with init_stdev 0.1, als starts");
    assert_contains(c.last, spread);
    assert_contains(c.last, "training may be slow or end worse (from 300 on it is refused)");
    /* under the warning bound: silent */
    p.init_stdev = 0.01f;
    assert_int_equal(facto_fm_fit(ctx, r, NULL, &p, NULL, &m), FACTO_OK);
    facto_model_free(m);
    assert_int_equal(c.warnings, 1);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

/* Labels far below features of one scale: the labels and init_stdev are named, no feature. */
static void test_small_labels(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = make_rows(501, 0.0f, 0, 1.0f, 0);
    for (int64_t i = 0; i < r->n_rows; i++)
        r->labels[i] *= 1e-5f;
    facto_fm_params p = params(FACTO_FM_SOLVER_ALS, 0, 0.1);
    facto_model *m = NULL;
    assert_int_equal(facto_fm_fit(ctx, r, NULL, &p, NULL, &m), FACTO_ERR_INVALID);
    const char *msg = facto_errmsg(ctx);
    assert_starts(msg, "feature values of typically 1 against these labels: with init_stdev 0.1, als starts");
    assert_contains(msg, "or scale the labels up (or the feature values down)");
    p.init_stdev = suggested(msg);
    assert_int_equal(facto_fm_fit(ctx, r, NULL, &p, NULL, &m), FACTO_OK);
    facto_model_free(m);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

/* Block data (direct rows + joined block rows) give the verdict of the
 * same rows flattened: same spread, row and keys. */
static void test_blocks_equal_flat(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *users = facto_rows_new(0, 0), *items = facto_rows_new(0, 0), *direct = facto_rows_new(0, 1);
    for (int u = 0; u < 6; u++) {
        assert_int_equal(facto_rows_push(ctx, users, (uint32_t)(2 + u), 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, users, 20, (float)(3000 * (u + 1))), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, users, 0.0f), FACTO_OK);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(facto_rows_push(ctx, items, (uint32_t)(10 + i), 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, items, 0.0f), FACTO_OK);
    }
    enum { N = 60 };
    int32_t *uref = malloc(N * sizeof *uref), *iref = malloc(N * sizeof *iref);
    for (int n = 0; n < N; n++) {
        uref[n] = (n * 5) % 6;
        iref[n] = n % 5;
        assert_int_equal(facto_rows_push(ctx, direct, (uint32_t)(n % 2), 1.0f + (float)(n % 3)), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, direct, (float)(1 + (n * 3) % 5)), FACTO_OK);
    }
    fct_fm_data d;
    fct_fm_data_init(&d, direct, 1);
    assert_int_equal(fct_fm_data_add_block(ctx, &d, users, 1, uref, 1), FACTO_OK);
    assert_int_equal(fct_fm_data_add_block(ctx, &d, items, 1, iref, 1), FACTO_OK);
    facto_rows *flat = NULL;
    assert_int_equal(fct_fm_data_expand(ctx, &d, &flat), FACTO_OK);
    fct_fm_data f;
    fct_fm_data_init(&f, flat, 0);
    facto_fm_params p = params(FACTO_FM_SOLVER_MCMC, 0, 0.1);
    fct_fm_model m;
    memset(&m, 0, sizeof m);
    m.params = p;
    m.k = p.num_factors;
    assert_int_equal(fct_fm_start_check(ctx, &m, FACTO_FM_CD_MCMC, &d), FACTO_ERR_INVALID);
    char from_blocks[FACTO_ERRMSG_MAX];
    snprintf(from_blocks, sizeof from_blocks, "%s", facto_errmsg(ctx));
    assert_int_equal(fct_fm_start_check(ctx, &m, FACTO_FM_CD_MCMC, &f), FACTO_ERR_INVALID);
    assert_string_equal(from_blocks, facto_errmsg(ctx));
    /* the widest rows join user 4 (15000) with direct value 3: the first is row 3 */
    assert_starts(from_blocks, "training row 3: feature key 20 = 15000 (with key 0 = 3) is far off the scale of the "
                               "other feature values (typically 1)");
    char spread[128];
    snprintf(spread, sizeof spread, "spread %.3g times", start_spread(flat, 4, 0.1, 0));
    assert_contains(from_blocks, spread);
    /* ratings in block form have no file rows to name */
    d.pairs = 1;
    assert_int_equal(fct_fm_start_check(ctx, &m, FACTO_FM_CD_ALS, &d), FACTO_ERR_INVALID);
    assert_starts(facto_errmsg(ctx), "feature key 20 = 15000 (with key 0 = 3) is far off");
    fct_fm_data_release(&d);
    facto_rows_free(flat);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_value_far_off),
        cmocka_unit_test(test_unscaled_numeric),
        cmocka_unit_test(test_warning_range),
        cmocka_unit_test(test_small_labels),
        cmocka_unit_test(test_blocks_equal_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
