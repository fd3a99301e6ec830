/*
 * test_optim.c — the optimizer module (src/solvers/optim.h): each kind's
 * step on a three-element vector against values worked out by hand from
 * the papers' formulas (written next to each check), gradient
 * preprocessing (rescale, clip), Adam's two bias-correction forms and its
 * two clocks (from powers and from running products), FTRL's lambda_1,
 * lazy updates (a step on one row leaves every other row and its state
 * bit for bit as it was), and the pair step (both gradients from the old
 * values; fused kernels agree with the generic path). Runs in milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "solvers/optim.h"

#define TOL 1e-5

static const float X0[3] = {1.0f, -2.0f, 0.5f};
static const float G[3] = {0.5f, 1.0f, -2.0f};

/* A one-row, three-column parameter for `o`, x copied from X0. */
static void setup(fct_optim_param *p, const fct_optim *o, float *x)
{
    memcpy(x, X0, sizeof X0);
    assert_int_equal(fct_optim_param_init(p, o, x, 1, 3), 0);
}

/* One step of row 0 with gradient G. */
static void step(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *p)
{
    float g[3];
    memcpy(g, G, sizeof g);
    fct_optim_step(o, r, p, 0, g);
}

static void expect(const float *x, double a, double b, double c)
{
    assert_true(fabs(x[0] - a) <= TOL);
    assert_true(fabs(x[1] - b) <= TOL);
    assert_true(fabs(x[2] - c) <= TOL);
}

static void test_sgd(void **state)
{
    (void)state;
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_SGD);
    fct_optim_param p;
    float x[3];
    setup(&p, &o, x);
    assert_null(p.s1);
    assert_null(p.s2);
    /* g + wd x = {0.6, 0.8, -1.95}; x - 0.1 (g + wd x) */
    fct_optim_rate r = fct_optim_rate_of(&o, fct_optim_clock_at(&o, 1), 0.1f, 0.1f);
    step(&o, &r, &p);
    expect(x, 0.94, -2.08, 0.695);
    /* the single-parameter step agrees */
    fct_optim_step1(&o, &r, &p, 1, 1.0f);
    assert_true(fabs(x[1] - (-2.08 - 0.1 * (1.0 - 0.1 * 2.08))) <= TOL);
    fct_optim_param_free(&p);
}

static void test_momentum(void **state)
{
    (void)state;
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_MOMENTUM);
    o.momentum = 0.9f;
    fct_optim_param p;
    float x[3];
    setup(&p, &o, x);
    assert_non_null(p.s1);
    assert_null(p.s2);
    fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 0.1f, 0.0f);
    /* u = -0.1 g = {-0.05, -0.1, 0.2}; x += u */
    step(&o, &r, &p);
    expect(x, 0.95, -2.1, 0.7);
    expect(p.s1, -0.05, -0.1, 0.2);
    /* u = 0.9 u - 0.1 g = {-0.095, -0.19, 0.38} */
    step(&o, &r, &p);
    expect(x, 0.855, -2.29, 1.08);
    fct_optim_param_free(&p);
}

static void test_adagrad(void **state)
{
    (void)state;
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_ADAGRAD);
    fct_optim_param p;
    float x[3];
    setup(&p, &o, x);
    fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 0.1f, 0.0f);
    /* h = g^2, step 0.1 g / |g| */
    step(&o, &r, &p);
    expect(x, 0.9, -2.1, 0.6);
    expect(p.s1, 0.25, 1.0, 4.0);
    /* h = 2 g^2, step 0.1 / sqrt(2) per coordinate */
    step(&o, &r, &p);
    const double s = 0.1 / sqrt(2.0);
    expect(x, 0.9 - s, -2.1 - s, 0.6 + s);
    fct_optim_param_free(&p);
}

/* With a constant gradient the bias-corrected moments are g and g^2 at
 * every step: m_t = (1 - b1^t) g, v_t = (1 - b2^t) g^2, so each step moves
 * x by lr * sign(g) (eps aside), in both forms of the correction. */
static void check_adam(fct_adam_form form)
{
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_ADAM);
    o.adam_form = form;
    fct_optim_param p;
    float x[3];
    setup(&p, &o, x);
    assert_non_null(p.s1);
    assert_non_null(p.s2);
    fct_optim_tick(&o);
    fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 0.1f, 0.0f);
    step(&o, &r, &p);
    expect(x, 0.9, -2.1, 0.6);
    expect(p.s1, 0.05, 0.1, -0.2);     /* (1 - b1) g */
    expect(p.s2, 0.00025, 0.001, 0.004); /* (1 - b2) g^2 */
    fct_optim_tick(&o);
    r = fct_optim_rate_of(&o, o.clock, 0.1f, 0.0f);
    step(&o, &r, &p);
    expect(x, 0.8, -2.2, 0.7);
    expect(p.s1, 0.095, 0.19, -0.38); /* 0.9 m + 0.1 g */
    fct_optim_param_free(&p);
}

static void test_adam(void **state)
{
    (void)state;
    check_adam(FCT_ADAM_MOMENTS);
    check_adam(FCT_ADAM_RATE);
}

/* The clock from powers and the one from running products agree; the
 * rates have each form's shape; other kinds and late steps get 1. */
static void test_adam_clocks(void **state)
{
    (void)state;
    for (int form = 0; form < 2; form++) {
        fct_optim o;
        fct_optim_init(&o, FCT_OPTIM_ADAM);
        o.adam_form = (fct_adam_form)form;
        for (int64_t t = 1; t <= 2000; t++) {
            fct_optim_tick(&o);
            assert_int_equal(o.t, t);
            fct_optim_clock c = fct_optim_clock_at(&o, t);
            assert_true(fabs(c.c1 - o.clock.c1) <= 1e-6 * c.c1);
            assert_true(fabs(c.c2 - o.clock.c2) <= 1e-6 * c.c2);
            const double c1 = 1.0 - pow(0.9f, (double)t), c2 = 1.0 - pow(0.999f, (double)t); /* float betas */
            fct_optim_rate r = fct_optim_rate_of(&o, c, 0.01f, 0.5f);
            assert_true(r.lr == 0.01f && r.wd == 0.5f);
            if (form == FCT_ADAM_MOMENTS) {
                assert_true(fabs(r.a - 0.01 / c1) <= 1e-6 * r.a);
                assert_true(fabs(r.c - 1.0 / c2) <= 1e-6 * r.c);
            } else {
                assert_true(fabs(r.a - 0.01 * sqrt(c2) / c1) <= 1e-6 * r.a);
                assert_true(r.c == 1.0f);
            }
        }
        fct_optim_clock late = fct_optim_clock_at(&o, 30000);
        assert_true(late.c1 == 1.0f && late.c2 == 1.0f);
    }
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_SGD);
    fct_optim_clock c = fct_optim_clock_at(&o, 3);
    assert_true(c.c1 == 1.0f && c.c2 == 1.0f);
    fct_optim_rate r = fct_optim_rate_of(&o, c, 0.2f, 0.1f);
    assert_true(r.lr == 0.2f && r.wd == 0.1f);
}

/* FTRL-Proximal, alpha 0.1, beta 1, from x = X0 and z = n = 0:
 * sigma = |g| / alpha = {5, 10, 20}; z = g - sigma x = {-4.5, 21, -12};
 * n = g^2; x = -(z - sgn(z) l1) / ((beta + |g|) / alpha + l2), 0 when |z| <= l1. */
static void test_ftrl(void **state)
{
    (void)state;
    const float l1[3] = {0.0f, 0.0f, 5.0f}, l2[3] = {0.0f, 1.0f, 0.0f};
    const double want[3][3] = {
        {4.5 / 15.0, -21.0 / 20.0, 12.0 / 30.0}, /* plain: -z / ((1 + |g|) / 0.1) */
        {4.5 / 16.0, -21.0 / 21.0, 12.0 / 31.0}, /* lambda_2 = 1 adds 1 to the denominator */
        {0.0, -16.0 / 20.0, 7.0 / 30.0},         /* lambda_1 = 5: |z| = 4.5 <= 5 gives 0 */
    };
    for (int c = 0; c < 3; c++) {
        fct_optim o;
        fct_optim_init(&o, FCT_OPTIM_FTRL);
        o.ftrl_l1 = l1[c];
        fct_optim_param p;
        float x[3];
        setup(&p, &o, x);
        fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 0.1f, l2[c]);
        step(&o, &r, &p);
        expect(x, want[c][0], want[c][1], want[c][2]);
        expect(p.s1, -4.5, 21.0, -12.0);
        expect(p.s2, 0.25, 1.0, 4.0);
        /* a zero learning rate leaves everything as it is */
        fct_optim_rate r0 = fct_optim_rate_of(&o, o.clock, 0.0f, l2[c]);
        float x1[3];
        memcpy(x1, x, sizeof x1);
        step(&o, &r0, &p);
        assert_memory_equal(x, x1, sizeof x1);
        fct_optim_param_free(&p);
    }
}

/* rescale 0.5 then clip 0.3: {0.25, 0.5, -1} -> {0.25, 0.3, -0.3}; SGD lr 1. */
static void test_preprocessing(void **state)
{
    (void)state;
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_SGD);
    o.rescale = 0.5f;
    o.clip = 0.3f;
    fct_optim_param p;
    float x[3];
    setup(&p, &o, x);
    fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 1.0f, 0.0f);
    float g[3];
    memcpy(g, G, sizeof g);
    fct_optim_step(&o, &r, &p, 0, g);
    expect(x, 0.75, -2.3, 0.8);
    expect(g, 0.25, 0.3, -0.3); /* the caller's buffer holds the preprocessed gradient */
    fct_optim_step1(&o, &r, &p, 2, -2.0f);
    assert_true(fabs(x[2] - 1.1) <= TOL);
    fct_optim_param_free(&p);
}

/* A step on row 2 of a [4, 3] parameter changes row 2 and its state only,
 * for every kind; rows 0, 1, 3 and their state keep their bits. */
static void test_lazy_rows(void **state)
{
    (void)state;
    for (int kind = FCT_OPTIM_SGD; kind <= FCT_OPTIM_FTRL; kind++) {
        fct_optim o;
        fct_optim_init(&o, (fct_optim_kind)kind);
        o.momentum = 0.5f;
        float x[12], x0[12];
        for (int i = 0; i < 12; i++)
            x[i] = 0.1f * (float)(i + 1);
        fct_optim_param p;
        assert_int_equal(fct_optim_param_init(&p, &o, x, 4, 3), 0);
        /* untouched rows get recognisable state */
        for (int i = 0; i < 12; i++) {
            if (p.s1)
                p.s1[i] = 0.5f + (float)i;
            if (p.s2)
                p.s2[i] = 1.5f + (float)i;
        }
        float s1[12], s2[12];
        memcpy(x0, x, sizeof x);
        if (p.s1)
            memcpy(s1, p.s1, sizeof s1);
        if (p.s2)
            memcpy(s2, p.s2, sizeof s2);
        fct_optim_tick(&o);
        fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 0.1f, 0.01f);
        float g[3] = {0.3f, -0.7f, 1.1f};
        fct_optim_step(&o, &r, &p, 2, g);
        fct_optim_step1(&o, &r, &p, 7, 0.4f); /* row 2, column 1 again */
        for (int row = 0; row < 4; row++) {
            const size_t at = (size_t)row * 3, n = 3 * sizeof(float);
            if (row == 2) {
                for (int c = 0; c < 3; c++)
                    assert_true(x[at + c] != x0[at + c]);
                continue;
            }
            assert_memory_equal(x + at, x0 + at, n);
            if (p.s1)
                assert_memory_equal(p.s1 + at, s1 + at, n);
            if (p.s2)
                assert_memory_equal(p.s2 + at, s2 + at, n);
        }
        fct_optim_param_free(&p);
    }
}

/* The pair step: row 1 of P and row 2 of Q, gradients d q and d p from
 * the old values. Momentum by hand (p = {1, 2}, q = {3, -1}, d = 0.5,
 * lr 0.1): g_p = {1.5, -0.5}, g_q = {0.5, 1}, so p = {0.85, 2.05},
 * q = {2.95, -1.1}; other rows untouched. */
static void test_pair_by_hand(void **state)
{
    (void)state;
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_MOMENTUM);
    o.momentum = 0.9f;
    float P[6] = {7, 7, 1, 2, 7, 7}, Q[6] = {8, 8, 8, 8, 3, -1};
    fct_optim_param pp, pq;
    assert_int_equal(fct_optim_param_init(&pp, &o, P, 3, 2), 0);
    assert_int_equal(fct_optim_param_init(&pq, &o, Q, 3, 2), 0);
    fct_optim_rate r = fct_optim_rate_of(&o, o.clock, 0.1f, 0.0f);
    fct_optim_step_pair(&o, &r, &pp, 1, &pq, 2, 0.5f);
    assert_true(fabs(P[2] - 0.85) <= TOL && fabs(P[3] - 2.05) <= TOL);
    assert_true(fabs(Q[4] - 2.95) <= TOL && fabs(Q[5] + 1.1) <= TOL);
    assert_true(P[0] == 7 && P[1] == 7 && P[4] == 7 && P[5] == 7);
    assert_true(Q[0] == 8 && Q[1] == 8 && Q[2] == 8 && Q[3] == 8);
    assert_true(pp.s1[0] == 0.0f && pq.s1[0] == 0.0f);
    fct_optim_param_free(&pp);
    fct_optim_param_free(&pq);
}

/* For SGD and Adam the pair goes to the fused kernels; the generic path
 * (two row steps) gives the same result to rounding, over three steps,
 * with odd k so the kernels' tails run. */
static void test_pair_fused_matches_rows(void **state)
{
    (void)state;
    enum { K = 19 };
    const fct_optim_kind kinds[2] = {FCT_OPTIM_SGD, FCT_OPTIM_ADAM};
    for (int c = 0; c < 2; c++) {
        fct_optim o;
        fct_optim_init(&o, kinds[c]);
        float P1[2 * K], Q1[2 * K], P2[2 * K], Q2[2 * K];
        for (int f = 0; f < 2 * K; f++) {
            P1[f] = P2[f] = 0.05f * (float)(f % 7) - 0.1f;
            Q1[f] = Q2[f] = 0.03f * (float)(f % 5) - 0.05f;
        }
        fct_optim_param a1, b1, a2, b2;
        assert_int_equal(fct_optim_param_init(&a1, &o, P1, 2, K), 0);
        assert_int_equal(fct_optim_param_init(&b1, &o, Q1, 2, K), 0);
        assert_int_equal(fct_optim_param_init(&a2, &o, P2, 2, K), 0);
        assert_int_equal(fct_optim_param_init(&b2, &o, Q2, 2, K), 0);
        for (int64_t t = 1; t <= 3; t++) {
            fct_optim_rate r = fct_optim_rate_of(&o, fct_optim_clock_at(&o, t), 0.05f, 0.02f);
            const float d = 0.8f - 0.5f * (float)t;
            fct_optim_step_pair(&o, &r, &a1, 1, &b1, 0, d);
            fct_optim_step_pair_rows(&o, &r, &a2, 1, &b2, 0, d);
        }
        for (int f = 0; f < 2 * K; f++) {
            assert_true(fabs(P1[f] - P2[f]) <= 1e-6 && fabs(Q1[f] - Q2[f]) <= 1e-6);
            if (f < K) /* row 0 of P, row 1 of Q: untouched */
                assert_true(P1[f] == P2[f] && P1[f] == 0.05f * (float)(f % 7) - 0.1f);
        }
        fct_optim_param_free(&a1);
        fct_optim_param_free(&b1);
        fct_optim_param_free(&a2);
        fct_optim_param_free(&b2);
    }
}

static void test_state_counts(void **state)
{
    (void)state;
    assert_int_equal(fct_optim_n_state(FCT_OPTIM_SGD), 0);
    assert_int_equal(fct_optim_n_state(FCT_OPTIM_MOMENTUM), 1);
    assert_int_equal(fct_optim_n_state(FCT_OPTIM_ADAGRAD), 1);
    assert_int_equal(fct_optim_n_state(FCT_OPTIM_ADAM), 2);
    assert_int_equal(fct_optim_n_state(FCT_OPTIM_FTRL), 2);
    /* state starts at zero; an empty array still gets one row */
    fct_optim o;
    fct_optim_init(&o, FCT_OPTIM_ADAM);
    fct_optim_param p;
    float x[1] = {0};
    assert_int_equal(fct_optim_param_init(&p, &o, x, 0, 1), 0);
    assert_true(p.s1[0] == 0.0f && p.s2[0] == 0.0f);
    fct_optim_param_free(&p);
    assert_null(p.s1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd),           cmocka_unit_test(test_momentum),
        cmocka_unit_test(test_adagrad),       cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_clocks),   cmocka_unit_test(test_ftrl),
        cmocka_unit_test(test_preprocessing), cmocka_unit_test(test_lazy_rows),
        cmocka_unit_test(test_pair_by_hand),  cmocka_unit_test(test_pair_fused_matches_rows),
        cmocka_unit_test(test_state_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
