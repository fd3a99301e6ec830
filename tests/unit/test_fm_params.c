/*
 * test_fm_params.c — factorization machine hyperparameters (fm_params.c):
 * SageMaker's defaults as its documentation lists them, every
 * hyperparameter with a good and a bad value, the required ones missing,
 * the init-method consistency rules, hyperparameters.json with string
 * values (and its error cases), and the text dump read back exactly.
 * Files go to a mkdtemp folder; everything runs in milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "models/fm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

static facto_fm_params required(void)
{
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = 2625;
    p.num_factors = 64;
    p.predictor_type = FACTO_FM_REGRESSOR;
    return p;
}

/* Same settings: compared through the text dump (struct padding is not data). */
static void assert_same(const facto_fm_params *a, const facto_fm_params *b)
{
    char x[4096], y[4096];
    fct_fm_params_dump(a, x, sizeof x);
    fct_fm_params_dump(b, y, sizeof y);
    assert_string_equal(x, y);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Defaults from docs.aws.amazon.com/sagemaker/latest/dg/fact-machines-hyperparameters.html */
static void test_defaults_match_sagemaker_doc(void **state)
{
    (void)state;
    facto_fm_params p = facto_fm_params_default();
    assert_int_equal(p.epochs, 1);
    assert_int_equal(p.mini_batch_size, 1000);
    assert_float_equal(p.bias_lr, 0.1, 1e-9);
    assert_float_equal(p.linear_lr, 0.001, 1e-9);
    assert_float_equal(p.factors_lr, 0.0001, 1e-10);
    assert_float_equal(p.bias_wd, 0.01, 1e-9);
    assert_float_equal(p.linear_wd, 0.001, 1e-9);
    assert_float_equal(p.factors_wd, 0.00001, 1e-11);
    assert_int_equal(p.bias_init_method, FACTO_FM_INIT_NORMAL);
    assert_int_equal(p.linear_init_method, FACTO_FM_INIT_NORMAL);
    assert_int_equal(p.factors_init_method, FACTO_FM_INIT_NORMAL);
    /* scale / value have no default ("None"); sigma's NAN means the doc's default */
    assert_true(isnan(p.bias_init_scale) && isnan(p.bias_init_value) && isnan(p.bias_init_sigma));
    assert_true(isnan(p.clip_gradient) && isnan(p.eps) && isnan(p.rescale_grad));
    assert_int_equal(p.solver, FACTO_FM_SOLVER_SGD);
    assert_int_equal(p.optimizer, FACTO_OPT_ADAM);
}

static void test_required_missing(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = facto_fm_params_default();
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "feature_dim"));
    assert_int_equal(facto_fm_params_set(ctx, &p, "feature_dim", "100"), FACTO_OK);
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "num_factors"));
    assert_int_equal(facto_fm_params_set(ctx, &p, "num_factors", "8"), FACTO_OK);
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "predictor_type"));
    assert_int_equal(facto_fm_params_set(ctx, &p, "predictor_type", "binary_classifier"), FACTO_OK);
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);
    assert_int_equal(p.feature_dim, 100);
    assert_int_equal(p.num_factors, 8);
    assert_int_equal(p.predictor_type, FACTO_FM_BINARY_CLASSIFIER);
    facto_ctx_free(ctx);
}

typedef struct {
    const char *name;
    const char *good;
    const char *bad;
} case_t;

/* One good and at least one bad value for every hyperparameter. */
static const case_t g_cases[] = {
    {"feature_dim", "4294967296", "0"},
    {"feature_dim", "10000000", "4294967297"},
    {"feature_dim", "1", "-3"},
    {"feature_dim", "2625", "12x"},
    {"num_factors", "64", "0"},
    {"num_factors", "1", "-1"},
    {"num_factors", "2", "2.5"},
    {"predictor_type", "regressor", "classifier"},
    {"predictor_type", "binary_classifier", "Regressor"},
    {"epochs", "1", "0"},
    {"epochs", "100", "ten"},
    {"mini_batch_size", "1", "0"},
    {"mini_batch_size", "10000", "-5"},
    {"bias_lr", "0", "-0.1"},
    {"bias_lr", "0.1", "abc"},
    {"linear_lr", "1e-8", "-1e-8"},
    {"factors_lr", "512", "nan"},
    {"bias_wd", "0.01", "-1"},
    {"linear_wd", "0", "inf"},
    {"factors_wd", "1e-5", "-2e-5"},
    {"bias_init_method", "uniform", "gaussian"},
    {"linear_init_method", "constant", "NORMAL"},
    {"factors_init_method", "normal", "zeros"},
    {"bias_init_scale", "0.5", "-0.5"},
    {"linear_init_scale", "1e-8", "x"},
    {"factors_init_scale", "512", "-1"},
    {"bias_init_sigma", "0.01", "-0.01"},
    {"linear_init_sigma", "0", "1e400"},
    {"factors_init_sigma", "0.001", ""},
    {"bias_init_value", "-3.5", "three"},
    {"linear_init_value", "0", "1,5"},
    {"factors_init_value", "1e-8", "nan"},
    {"clip_gradient", "5", "big"},
    {"clip_gradient", "-1", "inf"},
    {"eps", "1e-8", "-1e-8"},
    {"rescale_grad", "0.001", "-0.001"},
    {"solver", "mcmc", "newton"},
    {"solver", "als", "SGD"},
    {"optimizer", "ftrl", "rmsprop"},
    {"optimizer", "adagrad", "adam2"},
    {"seed", "18446744073709551615", "-1"},
    {"num_iter", "500", "0"},
    {"init_stdev", "0.1", "-0.1"},
    {"mcmc_samples", "0", "-1"},
    {"log_interval", "1", "0"},
    {"lr_decay", "0.95", "0"},
    {"lr_decay", "1", "1.5"},
    {"average_epochs", "0", "-1"},
    {"average_epochs", "20", "2x"},
    {"burn_in", "0", "-1"},
    {"burn_in", "50", "1.5"},
    {"summary_rank", "-1", "-2"},
    {"summary_rank", "0", "4097"},
    {"summary_rank", "256", "r"},
};

static void test_each_hyperparameter(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++) {
        const case_t *c = &g_cases[i];
        facto_fm_params p = required();
        if (facto_fm_params_set(ctx, &p, c->name, c->good) != FACTO_OK)
            fail_msg("%s=%s refused: %s", c->name, c->good, facto_errmsg(ctx));
        facto_fm_params before = p;
        facto_status st = facto_fm_params_set(ctx, &p, c->name, c->bad);
        if (st != FACTO_ERR_INVALID)
            fail_msg("%s=%s accepted", c->name, c->bad);
        /* the message names the hyperparameter; a refused value leaves params as they were */
        if (!strstr(facto_errmsg(ctx), c->name))
            fail_msg("message for %s does not name it: %s", c->name, facto_errmsg(ctx));
        assert_same(&p, &before);
    }
    /* values arrive as strings: surrounding spaces are fine */
    facto_fm_params p = required();
    assert_int_equal(facto_fm_params_set(ctx, &p, "num_factors", " 16 "), FACTO_OK);
    assert_int_equal(p.num_factors, 16);
    assert_int_equal(facto_fm_params_set(ctx, &p, "no_such_thing", "1"), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "no_such_thing"));
    facto_ctx_free(ctx);
}

static void expect_invalid(facto_ctx *ctx, const facto_fm_params *p, const char *needle)
{
    assert_int_equal(facto_fm_params_validate(ctx, p), FACTO_ERR_INVALID);
    if (!strstr(facto_errmsg(ctx), needle))
        fail_msg("expected '%s' in: %s", needle, facto_errmsg(ctx));
}

static void test_init_consistency(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *terms[] = {"bias", "linear", "factors"};
    for (int t = 0; t < 3; t++) {
        char n_method[64], n_scale[64], n_sigma[64], n_value[64];
        snprintf(n_method, sizeof n_method, "%s_init_method", terms[t]);
        snprintf(n_scale, sizeof n_scale, "%s_init_scale", terms[t]);
        snprintf(n_sigma, sizeof n_sigma, "%s_init_sigma", terms[t]);
        snprintf(n_value, sizeof n_value, "%s_init_value", terms[t]);
        facto_fm_params p = required();
        /* normal (default) + sigma: fine; + scale or value: refused */
        assert_int_equal(facto_fm_params_set(ctx, &p, n_sigma, "0.2"), FACTO_OK);
        assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);
        facto_fm_params q = p;
        assert_int_equal(facto_fm_params_set(ctx, &q, n_scale, "0.2"), FACTO_OK);
        expect_invalid(ctx, &q, n_scale);
        q = p;
        assert_int_equal(facto_fm_params_set(ctx, &q, n_value, "0.2"), FACTO_OK);
        expect_invalid(ctx, &q, n_value);
        /* uniform needs a scale and refuses a sigma */
        p = required();
        assert_int_equal(facto_fm_params_set(ctx, &p, n_method, "uniform"), FACTO_OK);
        expect_invalid(ctx, &p, n_scale);
        assert_int_equal(facto_fm_params_set(ctx, &p, n_scale, "0.05"), FACTO_OK);
        assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);
        assert_int_equal(facto_fm_params_set(ctx, &p, n_sigma, "0.05"), FACTO_OK);
        expect_invalid(ctx, &p, n_sigma);
        /* constant needs a value */
        p = required();
        assert_int_equal(facto_fm_params_set(ctx, &p, n_method, "constant"), FACTO_OK);
        expect_invalid(ctx, &p, n_value);
        assert_int_equal(facto_fm_params_set(ctx, &p, n_value, "-0.25"), FACTO_OK);
        assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);
    }
    /* a bad enum value poked into the struct directly */
    facto_fm_params p = required();
    p.optimizer = (facto_optimizer)99;
    expect_invalid(ctx, &p, "optimizer");
    p = required();
    p.epochs = 0;
    expect_invalid(ctx, &p, "epochs");
    /* MCMC burn_in must leave samples: < num_iter (other solvers ignore it) */
    p = required();
    p.solver = FACTO_FM_SOLVER_MCMC;
    p.num_iter = 10;
    p.burn_in = 9;
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);
    p.burn_in = 10;
    expect_invalid(ctx, &p, "burn_in");
    p.solver = FACTO_FM_SOLVER_ALS;
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);
    /* defaults: libFM's average from the first sample, the automatic summary */
    p = facto_fm_params_default();
    assert_int_equal(p.burn_in, 0);
    assert_int_equal(p.summary_rank, -1);
    facto_ctx_free(ctx);
}

static void test_json_strings(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char path[300];
    snprintf(path, sizeof path, "%s/hyperparameters.json", g_dir);
    write_file(path, "{\n  \"feature_dim\": \"2625\",\n  \"num_factors\": \"64\",\n"
                     "  \"predictor_type\": \"binary_classifier\",\n  \"epochs\": \"5\",\n"
                     "  \"mini_batch_size\": \"200\",\n  \"bias_init_method\": \"constant\",\n"
                     "  \"bias_init_value\": \"0.5\",\n  \"factors_lr\": \"0.002\",\n"
                     "  \"clip_gradient\": \"1.5\",\n  \"_tuning_objective_metric\": \"test:rmse\",\n"
                     "  \"solver\": \"sgd\"\n}\n");
    facto_fm_params p = facto_fm_params_default();
    assert_int_equal(facto_fm_params_load_json(ctx, &p, path), FACTO_OK);
    assert_int_equal(p.feature_dim, 2625);
    assert_int_equal(p.num_factors, 64);
    assert_int_equal(p.predictor_type, FACTO_FM_BINARY_CLASSIFIER);
    assert_int_equal(p.epochs, 5);
    assert_int_equal(p.mini_batch_size, 200);
    assert_int_equal(p.bias_init_method, FACTO_FM_INIT_CONSTANT);
    assert_float_equal(p.bias_init_value, 0.5, 0);
    assert_float_equal(p.factors_lr, 0.002, 1e-9);
    assert_float_equal(p.clip_gradient, 1.5, 0);
    assert_float_equal(p.linear_lr, 0.001, 1e-9); /* untouched default */
    assert_int_equal(facto_fm_params_validate(ctx, &p), FACTO_OK);

    /* a bad value names the file and the hyperparameter, and changes nothing */
    write_file(path, "{\"num_factors\": \"8\", \"epochs\": \"zero\"}");
    facto_fm_params q = p;
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), path));
    assert_non_null(strstr(facto_errmsg(ctx), "epochs"));
    assert_same(&q, &p);
    /* malformed JSON: the message has file:line */
    write_file(path, "{\n\"epochs\": \"3\",\n\"num_factors\" \"8\"\n}");
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_PARSE);
    char needle[320];
    snprintf(needle, sizeof needle, "%s:3:", path);
    assert_non_null(strstr(facto_errmsg(ctx), needle));
    write_file(path, "[\"epochs\"]");
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_PARSE);
    /* a value of the wrong JSON type is an invalid hyperparameter (exit 1), as "zero" is */
    write_file(path, "{\"epochs\": [3]}");
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "hyperparameter epochs"));
    write_file(path, "{\"epochs\": null}");
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_INVALID);
    /* QA: a key given twice is refused, not resolved silently */
    write_file(path, "{\"epochs\": \"3\", \"epochs\": \"4\"}");
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "duplicate"));
    assert_same(&q, &p);
    /* numbers (not strings) are accepted too */
    write_file(path, "{\"epochs\": 7, \"bias_lr\": 0.25}");
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_OK);
    assert_int_equal(q.epochs, 7);
    assert_float_equal(q.bias_lr, 0.25, 0);
    snprintf(path, sizeof path, "%s/missing.json", g_dir);
    assert_int_equal(facto_fm_params_load_json(ctx, &q, path), FACTO_ERR_IO);
    facto_ctx_free(ctx);
}

static void test_dump_round_trip(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_params p = required();
    p.factors_lr = 0.0123456789f;
    p.bias_init_method = FACTO_FM_INIT_UNIFORM;
    p.bias_init_scale = 1.0f / 3.0f;
    p.seed = 12345678901234ull;
    p.optimizer = FACTO_OPT_FTRL;
    p.clip_gradient = 2.5f;
    char buf[4096];
    size_t n = fct_fm_params_dump(&p, buf, sizeof buf);
    assert_true(n < sizeof buf);
    assert_int_equal(strlen(buf), n);
    facto_fm_params q = facto_fm_params_default();
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        assert_non_null(eq);
        *eq = '\0';
        assert_int_equal(facto_fm_params_set(ctx, &q, line, eq + 1), FACTO_OK);
    }
    assert_same(&p, &q);
    assert_int_equal(q.seed, 12345678901234ull);
    assert_true(q.factors_lr == p.factors_lr && q.bias_init_scale == p.bias_init_scale);
    /* the public name gives the same text; defaults print every SageMaker default */
    char pub[4096];
    assert_int_equal(facto_fm_params_format(&p, pub, sizeof pub), n);
    facto_fm_params d = facto_fm_params_default();
    facto_fm_params_format(&d, pub, sizeof pub);
    assert_non_null(strstr(pub, "mini_batch_size=1000\n"));
    assert_non_null(strstr(pub, "factors_lr=9.99999975e-05\n")); /* 0.0001 as a float, 9 digits */
    assert_null(strstr(pub, "feature_dim=")); /* not set */
    /* a too-small buffer reports the length it needs */
    char small[8];
    assert_int_equal(fct_fm_params_dump(&p, small, sizeof small), n);
    facto_ctx_free(ctx);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/fct_fm_params_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/hyperparameters.json", g_dir);
    unlink(path);
    rmdir(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_match_sagemaker_doc),
        cmocka_unit_test(test_required_missing),
        cmocka_unit_test(test_each_hyperparameter),
        cmocka_unit_test(test_init_consistency),
        cmocka_unit_test(test_json_strings),
        cmocka_unit_test(test_dump_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
