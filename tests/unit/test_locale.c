/*
 * test_locale.c — libfacto in a process whose locale writes numbers with a
 * decimal comma (an application that called setlocale(LC_ALL,
 * "de_DE.UTF-8")): inference responses are valid JSON with '.' decimals,
 * hyperparameters such as "0.001" parse, data files with "3.5" read the
 * same, and FM and MF models saved there are byte for byte the models
 * saved in the C locale (so each loads and scores the same in the other).
 * The de_DE.UTF-8 locale is built with localedef into the scratch folder
 * (LOCPATH) when the system has none; when it cannot be made the test
 * FAILS (scripts/setup-deps installs the Debian package `locales`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "unit/testutil.h"

#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_comma_locale;

/* Switch to a decimal-comma locale, building it when the system lacks it. */
static int use_comma_locale(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", NULL};
    for (int i = 0; names[i]; i++)
        if (setlocale(LC_ALL, names[i]))
            return g_comma_locale = names[i], 1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", fct_test_dir);
    (void)system(cmd); /* localedef may exit 1 on a warning and still write the locale */
    setenv("LOCPATH", fct_test_dir, 1);
    if (setlocale(LC_ALL, "de_DE.UTF-8"))
        return g_comma_locale = "de_DE.UTF-8", 1;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (fct_test_dir_make("facto_locale") != 0)
        return -1;
    if (!use_comma_locale()) {
        fprintf(stderr, "cannot make a de_DE.UTF-8 locale (localedef -i de_DE -f UTF-8 failed): "
                        "run scripts/setup-deps (Debian package 'locales')\n");
        return -1; /* the group fails: never a silent skip */
    }
    setlocale(LC_ALL, "C");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    setlocale(LC_ALL, "C");
    return fct_test_dir_remove();
}

static void comma(void)
{
    assert_non_null(setlocale(LC_ALL, g_comma_locale));
    char buf[16];
    snprintf(buf, sizeof buf, "%.1f", 0.5);
    assert_string_equal(buf, "0,5"); /* the locale really writes a comma */
}

static void test_response_json(void **state)
{
    (void)state;
    comma();
    facto_ctx *ctx = facto_ctx_new();
    const float scores[3] = {0.4f, 1e-5f, -3.25f}, labels[3] = {0.0f, 1.0f, 0.0f};
    for (int type = 0; type < 2; type++) {
        void *body = NULL;
        size_t size = 0;
        facto_content_type t = type ? FACTO_CONTENT_JSONLINES : FACTO_CONTENT_JSON;
        assert_int_equal(facto_inference_response_write(ctx, t, scores, labels, 3, &body, &size), FACTO_OK);
        if (type == 0) {
            json_error_t err;
            json_t *root = json_loadb(body, size, 0, &err);
            assert_non_null(root); /* "0,4" would not parse */
            json_t *preds = json_object_get(root, "predictions");
            assert_int_equal(json_array_size(preds), 3);
            for (size_t i = 0; i < 3; i++) {
                json_t *s = json_object_get(json_array_get(preds, i), "score");
                assert_true(json_is_number(s));
                assert_true((float)json_number_value(s) == scores[i]);
            }
            json_decref(root);
            assert_non_null(strstr(body, "\"score\": 0.4,"));
            assert_non_null(strstr(body, "\"score\": 1e-05,"));
        } else {
            assert_non_null(strstr(body, "{\"score\": -3.25, \"predicted_label\": 0}\n"));
        }
        facto_buffer_free(body);
    }
    char buf[32];
    facto_format_float(buf, sizeof buf, 0.001f);
    assert_string_equal(buf, "0.001");
    double v = 0;
    assert_int_equal(facto_parse_number("0.001", &v), 1);
    assert_true(v == 0.001);
    assert_int_equal(facto_parse_number("0,001", &v), 0);
    facto_ctx_free(ctx);
    setlocale(LC_ALL, "C");
}

static void test_params(void **state)
{
    (void)state;
    comma();
    facto_ctx *ctx = facto_ctx_new();
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, "fm", &p), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, p, "factors_lr", "0.001"), FACTO_OK);
    char buf[64];
    double v = 0;
    assert_int_equal(facto_params_get(ctx, p, "factors_lr", buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, "0.00100000005"); /* 9 digits: the float, read back exactly */
    assert_int_equal(facto_parse_number(buf, &v), 1);
    assert_true((float)v == 0.001f);
    assert_int_not_equal(facto_params_set(ctx, p, "factors_lr", "0,001"), FACTO_OK);
    facto_params_free(p);
    assert_int_equal(facto_params_new(ctx, "mf", &p), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, p, "learning_rate", "0.015"), FACTO_OK);
    assert_int_equal(facto_params_get(ctx, p, "learning_rate", buf, sizeof buf), FACTO_OK);
    assert_int_equal(facto_parse_number(buf, &v), 1);
    assert_true((float)v == 0.015f);
    facto_params_free(p);
    facto_ctx_free(ctx);
    setlocale(LC_ALL, "C");
}

/* Train `kind` on the scratch data, save to `path`, return its predictions of 4 rows / pairs. */
static void train_save(const char *kind, const char *path, float *pred)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_params *p = NULL;
    facto_model *m = NULL;
    assert_int_equal(facto_params_new(ctx, kind, &p), FACTO_OK);
    if (strcmp(kind, "fm") == 0) {
        facto_rows *rows = NULL;
        assert_int_equal(facto_libsvm_read(ctx, fct_test_path("rows.svm"), 0, 0, &rows), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "predictor_type", "regressor"), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "num_factors", "3"), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "epochs", "3"), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "factors_lr", "0.05"), FACTO_OK);
        facto_fit_data d = {NULL, NULL, rows, NULL, NULL, NULL};
        assert_int_equal(facto_model_fit(ctx, p, &d, NULL, &m), FACTO_OK);
        assert_int_equal(facto_model_predict_rows(ctx, m, rows, pred, NULL), FACTO_OK);
        facto_rows_free(rows);
    } else {
        facto_dataset *ds = NULL;
        assert_int_equal(facto_dataset_read(ctx, fct_test_path("r.tsv"), NULL, &ds, NULL), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "num_factors", "3"), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "learning_rate", "0.05"), FACTO_OK);
        facto_fit_data d = {ds, NULL, NULL, NULL, NULL, NULL};
        assert_int_equal(facto_model_fit(ctx, p, &d, NULL, &m), FACTO_OK);
        for (int i = 0; i < 4; i++) {
            char u[8], it[8];
            int flags;
            snprintf(u, sizeof u, "%d", i + 1);
            snprintf(it, sizeof it, "%d", 2 * i + 1);
            assert_int_equal(facto_model_predict(ctx, m, u, it, &pred[i], &flags), FACTO_OK);
        }
        facto_dataset_free(ds);
    }
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    facto_model_free(m);
    facto_params_free(p);
    facto_ctx_free(ctx);
}

static void load_predict(const char *kind, const char *path, float *pred)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_model *m = NULL;
    assert_int_equal(facto_model_load(ctx, path, &m), FACTO_OK);
    if (strcmp(kind, "fm") == 0) {
        facto_rows *rows = NULL;
        assert_int_equal(facto_libsvm_read(ctx, fct_test_path("rows.svm"), 0, 0, &rows), FACTO_OK);
        assert_int_equal(facto_model_predict_rows(ctx, m, rows, pred, NULL), FACTO_OK);
        facto_rows_free(rows);
    } else {
        for (int i = 0; i < 4; i++) {
            char u[8], it[8];
            int flags;
            snprintf(u, sizeof u, "%d", i + 1);
            snprintf(it, sizeof it, "%d", 2 * i + 1);
            assert_int_equal(facto_model_predict(ctx, m, u, it, &pred[i], &flags), FACTO_OK);
        }
    }
    facto_model_free(m);
    facto_ctx_free(ctx);
}

static void test_models_across_locales(void **state)
{
    (void)state;
    /* data with decimal points: ratings 3.5, feature values 0.25 */
    FILE *f = fopen(fct_test_path("r.tsv"), "w");
    FILE *g = fopen(fct_test_path("rows.svm"), "w");
    assert_non_null(f);
    assert_non_null(g);
    for (int u = 1; u <= 12; u++)
        for (int i = 1; i <= 10; i++)
            if ((u * 7 + i * 3) % 4 != 0) {
                fprintf(f, "%d\t%d\t%d.5\n", u, i, 1 + (u + i) % 4);
                fprintf(g, "%d.5 %d:0.25 %d:1\n", 1 + (u + i) % 4, u - 1, 12 + i - 1);
            }
    fclose(f);
    fclose(g);
    const char *kinds[] = {"fm", "mf"};
    for (int k = 0; k < 2; k++) {
        float pc[400], pd[400], lc[400], ld[400];
        setlocale(LC_ALL, "C");
        train_save(kinds[k], fct_test_path("c.facto"), pc);
        comma();
        train_save(kinds[k], fct_test_path("de.facto"), pd);
        load_predict(kinds[k], fct_test_path("c.facto"), ld); /* C model, comma process */
        setlocale(LC_ALL, "C");
        load_predict(kinds[k], fct_test_path("de.facto"), lc); /* comma model, C process */
        int n = strcmp(kinds[k], "fm") == 0 ? 3 : 4;
        for (int i = 0; i < n; i++) {
            assert_true(pc[i] == pd[i]);
            assert_true(lc[i] == pc[i]);
            assert_true(ld[i] == pc[i]);
            assert_true(pc[i] > 1.0f && pc[i] < 5.0f); /* the ".5" ratings were read as numbers */
        }
        size_t na = 0, nb = 0;
        unsigned char *a = fct_test_slurp(fct_test_path("c.facto"), &na);
        unsigned char *b = fct_test_slurp(fct_test_path("de.facto"), &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na); /* the model files are the same bytes */
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_json),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_models_across_locales),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
