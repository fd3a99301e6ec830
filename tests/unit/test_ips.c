/*
 * test_ips.c — debiasing ratings by inverse propensities (Schnabel et al.,
 * ICML 2016): one weighted SGD step against central finite differences of
 * the weighted objective 0.5 w (r - r^)^2 + regularisation; constant
 * weights give the unweighted model byte for byte, and weights matter;
 * only mf takes weights; the propensity reader (per pair, per item, header,
 * delimiters, clipping) and its errors naming FILE:LINE and the value;
 * facto_dataset_find_line; IPS / SNIPS errors against hand-computed sums;
 * facto_dataset_synth_mnar deterministic with the stated propensities.
 * Under a second.
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
#include "data/dataset.h"
#include "solvers/mf_solvers.h"
#include "testutil.h"

static int ips_setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_ips");
}

static int ips_teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static void write_text(const char *path, const char *text)
{
    fct_test_spit(path, text, strlen(text));
}

static facto_dataset *read_ds(facto_ctx *ctx, const char *text)
{
    const char *path = fct_test_path("ratings.tsv");
    write_text(path, text);
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, NULL, &ds, NULL) != FACTO_OK)
        fail_msg("read: %s", facto_errmsg(ctx));
    return ds;
}

/* ---- the weighted step ------------------------------------------------------ */

/* 0.5 w (r - mu - bu - bi - p.q)^2 + 0.5 rf (|p|^2 + |q|^2) + 0.5 rb (bu^2 + bi^2), x = [bu, bi, p[k], q[k]]. */
static double weighted_objective(const double *x, int k, double mu, double r, double w, double rf, double rb)
{
    double dot = 0.0, pp = 0.0, qq = 0.0;
    for (int f = 0; f < k; f++) {
        dot += x[2 + f] * x[2 + k + f];
        pp += x[2 + f] * x[2 + f];
        qq += x[2 + k + f] * x[2 + k + f];
    }
    double e = r - (mu + x[0] + x[1] + dot);
    return 0.5 * w * e * e + 0.5 * rf * (pp + qq) + 0.5 * rb * (x[0] * x[0] + x[1] * x[1]);
}

/* One SGD step with weight w moves each parameter by -lr * dJ_w / dx,
 * dJ_w / dx from central differences of the weighted objective. */
static void check_weighted_step(float w)
{
    enum { K = 4 };
    fct_mf_model *m = fct_mf_model_alloc(1, 1, K, 0);
    assert_non_null(m);
    m->mu = 3.0;
    m->bu[0] = 0.3f;
    m->bi[0] = -0.2f;
    for (int f = 0; f < K; f++) {
        m->P[f] = 0.1f * (float)(f + 1);
        m->Q[f] = 0.35f - 0.15f * (float)f;
    }
    facto_mf_params hp = facto_mf_params_default();
    hp.reg_factors = 0.05f;
    hp.reg_bias = 0.02f;
    double x[2 + 2 * K] = {m->bu[0], m->bi[0]};
    for (int f = 0; f < K; f++) {
        x[2 + f] = m->P[f];
        x[2 + K + f] = m->Q[f];
    }
    const double r = 4.5, h = 1e-4;
    double g[2 + 2 * K];
    for (int j = 0; j < 2 + 2 * K; j++) {
        double x0 = x[j];
        x[j] = x0 + h;
        double jp = weighted_objective(x, K, m->mu, r, w, hp.reg_factors, hp.reg_bias);
        x[j] = x0 - h;
        double jm = weighted_objective(x, K, m->mu, r, w, hp.reg_factors, hp.reg_bias);
        x[j] = x0;
        g[j] = (jp - jm) / (2 * h);
    }
    fct_mf_solver *s = fct_mf_solver_new(m, &hp);
    assert_non_null(s);
    int32_t us = 0, is = 0;
    float rs = (float)r, ws = w;
    int64_t order = 0;
    fct_mf_triplets t = {&us, &is, &rs, 1, &ws};
    const float lr = 0.01f;
    fct_mf_solver_run(s, m, &t, &order, 0, 1, lr, 1);
    double moved[2 + 2 * K] = {m->bu[0], m->bi[0]};
    for (int f = 0; f < K; f++) {
        moved[2 + f] = m->P[f];
        moved[2 + K + f] = m->Q[f];
    }
    for (int j = 0; j < 2 + 2 * K; j++) {
        double step = (x[j] - moved[j]) / lr;
        if (fabs(step - g[j]) > 2e-3 * (1.0 + fabs(g[j])))
            fail_msg("w %g, parameter %d: step / lr %.6f, finite-difference gradient %.6f", (double)w, j, step, g[j]);
    }
    fct_mf_solver_free(s);
    fct_mf_model_destroy(m);
}

static void test_weighted_step_finite_differences(void **state)
{
    (void)state;
    check_weighted_step(1.0f);
    check_weighted_step(3.0f);
    check_weighted_step(0.25f);
    check_weighted_step(0.0f); /* only the weight decay moves the parameters */
}

/* ---- weighted fits ---------------------------------------------------------- */

static const char *k_ratings = "1\t1\t5\n1\t2\t3\n1\t4\t1\n2\t2\t4\n2\t3\t2\n3\t1\t1\n3\t3\t5\n3\t5\t4\n"
                               "4\t2\t2\n4\t4\t3\n4\t5\t5\n5\t1\t4\n5\t3\t3\n5\t4\t2\n";

static facto_model *fit(facto_ctx *ctx, const char *kind, facto_dataset *ds, const float *w, facto_status want)
{
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, kind, &p), FACTO_OK);
    if (strcmp(kind, "mf") == 0) {
        assert_int_equal(facto_params_set(ctx, p, "epochs", "20"), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "num_factors", "3"), FACTO_OK);
    }
    facto_fit_data d = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    facto_status st = facto_dataset_set_weights(ctx, ds, w);
    if (st == FACTO_OK)
        st = facto_model_fit(ctx, p, &d, NULL, &m);
    if (st != want)
        fail_msg("fit %s: %s", kind, facto_errmsg(ctx));
    facto_params_free(p);
    return m;
}

static unsigned char *saved(facto_ctx *ctx, const facto_model *m, const char *name, size_t *n)
{
    const char *path = fct_test_path(name);
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    return fct_test_slurp(path, n);
}

static void test_constant_weights_are_unweighted(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = read_ds(ctx, k_ratings);
    int64_t n = facto_dataset_n_ratings(ds);
    float *w = malloc((size_t)n * sizeof *w);
    for (int64_t j = 0; j < n; j++)
        w[j] = 4.0f; /* scaled to mean 1: the same as none */
    facto_model *a = fit(ctx, "mf", ds, NULL, FACTO_OK), *b = fit(ctx, "mf", ds, w, FACTO_OK);
    size_t na, nb, nc;
    unsigned char *ba = saved(ctx, a, "a.facto", &na), *bb = saved(ctx, b, "b.facto", &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    /* Weights that differ change the model: rating 0 weighs 20 times the others. */
    w[0] = 80.0f;
    facto_model *c = fit(ctx, "mf", ds, w, FACTO_OK);
    unsigned char *bc = saved(ctx, c, "c.facto", &nc);
    assert_true(nc != na || memcmp(ba, bc, na) != 0);
    /* ... and pull the prediction of that rating (user 1, item 1, rating 5) towards it. */
    float sa, sc;
    assert_int_equal(facto_model_predict(ctx, a, "1", "1", &sa, NULL), FACTO_OK);
    assert_int_equal(facto_model_predict(ctx, c, "1", "1", &sc, NULL), FACTO_OK);
    assert_true(fabs(5.0 - sc) < fabs(5.0 - sa));
    assert_ptr_not_equal(facto_dataset_weights(ds), w); /* a copy */
    assert_float_equal(facto_dataset_weights(ds)[0], 80.0f, 0);
    /* Bad weights and kinds that take none are refused. */
    w[0] = -1.0f;
    assert_null(fit(ctx, "mf", ds, w, FACTO_ERR_INVALID));
    assert_non_null(strstr(facto_errmsg(ctx), "rating weight 0 is -1"));
    for (int64_t j = 0; j < n; j++)
        w[j] = 0.0f;
    assert_null(fit(ctx, "mf", ds, w, FACTO_ERR_INVALID));
    w[0] = 1.0f;
    assert_null(fit(ctx, "ials", ds, w, FACTO_ERR_INVALID));
    assert_non_null(strstr(facto_errmsg(ctx), "mf only"));
    /* NULL removes them: ials trains again. */
    facto_model_free(fit(ctx, "ials", ds, NULL, FACTO_OK));
    assert_null(facto_dataset_weights(ds));
    free(ba), free(bb), free(bc), free(w);
    facto_model_free(a), facto_model_free(b), facto_model_free(c);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* ---- the propensity reader ------------------------------------------------- */

/* Weights of ds from file text; the status must be `want`. */
static float *weights_of(facto_ctx *ctx, const facto_dataset *ds, const char *text, double max_w, facto_status want,
                         facto_propensity_stats *ps)
{
    const char *path = fct_test_path("p.txt");
    write_text(path, text);
    float *w = NULL;
    facto_status st = facto_propensity_weights(ctx, path, ds, max_w, &w, ps);
    if (st != want)
        fail_msg("'%s': status %d, want %d: %s", text, (int)st, (int)want, facto_errmsg(ctx));
    return w;
}

/* The message holds "p.txt:" + `tail`. */
static void expect_msg(facto_ctx *ctx, const char *tail)
{
    const char *msg = facto_errmsg(ctx);
    if (!strstr(msg, tail))
        fail_msg("message '%s' lacks '%s'", msg, tail);
}

static void test_propensity_reader(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    /* CSR order: (a,x) (a,y) (b,y) */
    facto_dataset *ds = read_ds(ctx, "a\tx\t4\nb\ty\t2\na\ty\t3\n");
    facto_propensity_stats ps;
    /* Per pair, commas, a header, a comment, a pair the data set lacks. */
    float *w = weights_of(ctx, ds, "user,item,propensity\n# c\nb,y,0.25\na,x,0.5\nc,x,0.1\na,y,1\n", 0, FACTO_OK, &ps);
    assert_float_equal(w[0], 2.0f, 0);
    assert_float_equal(w[1], 1.0f, 0);
    assert_float_equal(w[2], 4.0f, 0);
    assert_int_equal(ps.n_lines, 4);
    assert_int_equal(ps.per_item, 0);
    assert_int_equal(ps.n_unused, 1);
    free(w);
    /* Per item, blanks; clipped at 3. */
    w = weights_of(ctx, ds, "x 0.5\n\ny   0.2\nz 1\n", 3.0, FACTO_OK, &ps);
    assert_float_equal(w[0], 2.0f, 0);
    assert_float_equal(w[1], 3.0f, 0);
    assert_float_equal(w[2], 3.0f, 0);
    assert_int_equal(ps.per_item, 1);
    assert_int_equal(ps.n_clipped, 2);
    assert_int_equal(ps.n_unused, 1);
    free(w);
    /* Errors: FILE:LINE and the value. */
    weights_of(ctx, ds, "a\tx\t0.5\na\ty\t1.01\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:2: propensity '1.01' is not in (0, 1]");
    weights_of(ctx, ds, "x\t0.5\n\ny\t-0.5\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:3: propensity '-0.5' is not in (0, 1]");
    weights_of(ctx, ds, "x\t0.5\ny\t0\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:2: propensity '0' is not in (0, 1]");
    weights_of(ctx, ds, "x\t0.5\ny\tnan\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:2: propensity 'nan' is not a number");
    weights_of(ctx, ds, "x\t0.5\ny\t1e-50\n", 0, FACTO_ERR_PARSE, NULL); /* 0 as a float */
    expect_msg(ctx, "p.txt:2: propensity '1e-50' is not in (0, 1]");
    weights_of(ctx, ds, "x\t0.5\ny\t0.5\tz\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:2: 3 columns, but the file's first line has 2");
    weights_of(ctx, ds, "a\tx\t0.5\t9\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:1: a propensity line is `user item propensity` or `item propensity`; this one has 4");
    weights_of(ctx, ds, "x\t0.5\ny\t0.5\nx\t0.25\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:3: a second propensity for item 'x' (the first is on line 1)");
    weights_of(ctx, ds, "a\ty\t0.5\na\tx\t0.5\nb\ty\t1\na\ty\t0.5\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:4: a second propensity for user 'a', item 'y' (the first is on line 1)");
    weights_of(ctx, ds, "a\tx\t\"0.5\n", 0, FACTO_ERR_PARSE, NULL);
    expect_msg(ctx, "p.txt:1: a quoted field has no closing quote");
    weights_of(ctx, ds, "# only a comment\n\n", 0, FACTO_ERR_EMPTY, NULL);
    /* A rating without a propensity: named, with its index. */
    weights_of(ctx, ds, "a\tx\t0.5\na\ty\t0.5\n", 0, FACTO_ERR_NOT_FOUND, &ps);
    expect_msg(ctx, "no propensity for the rating of user 'b', item 'y'");
    assert_int_equal(ps.missing, 2);
    weights_of(ctx, ds, "x\t0.5\n", 0, FACTO_ERR_NOT_FOUND, &ps);
    expect_msg(ctx, "user 'a', item 'y' (the file gives propensities per item)");
    assert_int_equal(ps.missing, 1);
    weights_of(ctx, ds, "x\t0.5\n", 0.5, FACTO_ERR_INVALID, NULL);
    float *none = NULL;
    assert_int_equal(facto_propensity_weights(ctx, fct_test_path("missing.txt"), ds, 0, &none, NULL), FACTO_ERR_IO);
    assert_null(none);
    /* The line of a rating in its file: the last duplicate, as reading keeps. */
    const char *rp = fct_test_path("r.csv");
    write_text(rp, "user,item,rating\na,x,4\n\nb,y,2\na,y,3\nb,y,5\n");
    int64_t line = -1;
    assert_int_equal(facto_dataset_find_line(ctx, rp, NULL, "b", "y", &line), FACTO_OK);
    assert_int_equal(line, 6);
    assert_int_equal(facto_dataset_find_line(ctx, rp, NULL, "a", "x", &line), FACTO_OK);
    assert_int_equal(line, 2);
    assert_int_equal(facto_dataset_find_line(ctx, rp, NULL, "c", "x", &line), FACTO_OK);
    assert_int_equal(line, 0);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* ---- IPS errors --------------------------------------------------------------- */

static void test_ips_errors(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = read_ds(ctx, "a\tx\t4\na\ty\t2\nb\ty\t3\n"); /* CSR: (a,x) 4, (a,y) 2, (b,y) 3 */
    const float scores[3] = {3.0f, 2.5f, 5.0f}; /* errors -1, 0.5, 2 */
    const float w[3] = {2.0f, 4.0f, 1.0f};
    facto_ips_errors e;
    assert_int_equal(facto_ips_errors_of(ctx, ds, scores, w, 0, &e), FACTO_OK);
    /* sum w e^2 = 2 + 1 + 4 = 7; sum w |e| = 2 + 2 + 2 = 6; sum w = 7; pairs 2 x 2 = 4 */
    assert_int_equal(e.n, 3);
    assert_float_equal(e.n_pairs, 4.0, 0);
    assert_float_equal(e.weight_sum, 7.0, 1e-12);
    assert_float_equal(e.ips_rmse, sqrt(7.0 / 4.0), 1e-12);
    assert_float_equal(e.ips_mae, 6.0 / 4.0, 1e-12);
    assert_float_equal(e.snips_rmse, 1.0, 1e-12);
    assert_float_equal(e.snips_mae, 6.0 / 7.0, 1e-12);
    assert_int_equal(facto_ips_errors_of(ctx, ds, scores, w, 10.0, &e), FACTO_OK);
    assert_float_equal(e.ips_rmse, sqrt(0.7), 1e-12);
    assert_int_equal(facto_ips_errors_of(ctx, ds, NULL, w, 0, &e), FACTO_ERR_INVALID);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* ---- synthetic MNAR data ---------------------------------------------------- */

static void test_synth_mnar(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_synth_options o = facto_synth_options_default();
    o.n_users = 120;
    o.n_items = 100;
    o.n_ratings = 1500;
    o.seed = 7;
    facto_synth_mnar a, b;
    assert_int_equal(facto_dataset_synth_mnar(ctx, &o, 0.25, 0.2, 400, &a), FACTO_OK);
    assert_int_equal(facto_dataset_synth_mnar(ctx, &o, 0.25, 0.2, 400, &b), FACTO_OK);
    /* Deterministic for the options. */
    assert_int_equal(a.train->n_ratings, b.train->n_ratings);
    assert_memory_equal(a.train->ratings, b.train->ratings, (size_t)a.train->n_ratings * sizeof(float));
    assert_memory_equal(a.train_propensity->ratings, b.train_propensity->ratings,
                        (size_t)a.train->n_ratings * sizeof(float));
    /* About 1500 observed (binomial sd about 37), 20% of them in test; 400 uniform pairs. */
    int64_t obs = a.train->n_ratings + a.test->n_ratings;
    assert_true(obs > 1350 && obs < 1650);
    assert_true(a.test->n_ratings > obs / 10 && a.test->n_ratings < obs * 3 / 10);
    assert_int_equal(a.uniform->n_ratings, 400);
    /* Exposure alpha^max(0, 4 - r): ratings 4 and 5 alike, each step down a factor 4. */
    assert_float_equal(a.propensity[4], a.propensity[3], 0);
    for (int r = 0; r < 3; r++)
        assert_float_equal(a.propensity[r] / a.propensity[r + 1], 0.25, 1e-12);
    /* Each rating's propensity file entry: P(in train) = p(r) * 0.8, the same pairs. */
    assert_int_equal(a.train_propensity->n_ratings, a.train->n_ratings);
    for (int64_t j = 0; j < a.train->n_ratings; j++) {
        assert_int_equal(a.train_propensity->items[j], a.train->items[j]);
        int r = (int)a.train->ratings[j];
        assert_true(r >= 1 && r <= 5 && (float)r == a.train->ratings[j]);
        assert_float_equal(a.train_propensity->ratings[j], (float)(a.propensity[r - 1] * 0.8), 1e-6);
    }
    for (int64_t j = 0; j < a.test->n_ratings; j++) {
        int r = (int)a.test->ratings[j];
        assert_float_equal(a.test_propensity->ratings[j], (float)(a.propensity[r - 1] * 0.2), 1e-6);
    }
    /* Users rate what they like: the observed mean is above the uniform one. */
    double mo = 0, mu = 0;
    for (int64_t j = 0; j < a.train->n_ratings; j++)
        mo += a.train->ratings[j];
    for (int64_t j = 0; j < a.uniform->n_ratings; j++)
        mu += a.uniform->ratings[j];
    assert_true(mo / (double)a.train->n_ratings > mu / 400.0 + 0.4);
    /* Another seed, another set; alpha 1 is missing at random (one propensity). */
    facto_synth_mnar_free(&b);
    o.seed = 8;
    assert_int_equal(facto_dataset_synth_mnar(ctx, &o, 1.0, 0.0, 0, &b), FACTO_OK);
    assert_null(b.test);
    assert_null(b.uniform);
    assert_true(b.train->n_ratings != a.train->n_ratings + a.test->n_ratings ||
                memcmp(b.train->items, a.train->items, 64) != 0);
    assert_float_equal(b.propensity[0], b.propensity[4], 0);
    facto_synth_mnar_free(&b);
    facto_synth_mnar_free(&a);
    assert_int_equal(facto_dataset_synth_mnar(ctx, &o, 0.0, 0.1, 10, &a), FACTO_ERR_INVALID);
    assert_int_equal(facto_dataset_synth_mnar(ctx, &o, 0.5, 1.0, 10, &a), FACTO_ERR_INVALID);
    o.n_ratings = 6001; /* over half the pairs */
    assert_int_equal(facto_dataset_synth_mnar(ctx, &o, 0.5, 0.1, 10, &a), FACTO_ERR_INVALID);
    facto_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighted_step_finite_differences),
        cmocka_unit_test(test_constant_weights_are_unweighted),
        cmocka_unit_test(test_propensity_reader),
        cmocka_unit_test(test_ips_errors),
        cmocka_unit_test(test_synth_mnar),
    };
    return fct_run_tests(tests, ips_setup, ips_teardown);
}
