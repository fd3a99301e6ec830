/*
 * test_loss.c — the loss interface (src/solvers/loss.h): values at points
 * worked out by hand, the derivative against central finite differences
 * on a grid of scores for both labels, overflow-safe logistic values far
 * out, label conventions (0/1 and -1/+1), and the descriptors (by kind, by
 * name; pointwise ones have no pair function). Runs in microseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "solvers/loss.h"

static void test_values(void **state)
{
    (void)state;
    /* squared: 1/2 (3 - 1)^2 = 2, d = 2 */
    fct_loss_value v = fct_loss_squared(3.0, 1.0);
    assert_true(v.loss == 2.0 && v.dscore == 2.0 && v.pred == 3.0);
    v = fct_loss_point(FCT_LOSS_SQUARED, -0.5, 1.5);
    assert_true(v.loss == 2.0 && v.dscore == -2.0);
    /* logistic at 0: log 2 either way, d = 1/2 - t */
    v = fct_loss_logistic(0.0, 1.0);
    assert_true(fabs(v.loss - log(2.0)) < 1e-15 && v.dscore == -0.5 && v.pred == 0.5);
    v = fct_loss_logistic(0.0, 0.0);
    assert_true(fabs(v.loss - log(2.0)) < 1e-15 && v.dscore == 0.5);
    /* logistic at y = log 3: sigmoid = 3/4; t = 1: log(4/3), d = -1/4; t = 0: log 4, d = 3/4 */
    v = fct_loss_point(FCT_LOSS_LOGISTIC, log(3.0), 1.0);
    assert_true(fabs(v.loss - log(4.0 / 3.0)) < 1e-15 && fabs(v.dscore + 0.25) < 1e-15);
    assert_true(fabs(v.pred - 0.75) < 1e-15);
    v = fct_loss_point(FCT_LOSS_LOGISTIC, log(3.0), 0.0);
    assert_true(fabs(v.loss - log(4.0)) < 1e-15 && fabs(v.dscore - 0.75) < 1e-15);
    /* labels: > 0 is positive, so -1 is the negative class */
    fct_loss_value a = fct_loss_logistic(0.7, -1.0), b = fct_loss_logistic(0.7, 0.0);
    assert_true(a.loss == b.loss && a.dscore == b.dscore);
}

/* Far from 0 the logistic loss stays finite and exact: log(1 + e^{|y|})
 * ~ |y| for a wrong sign, e^{-|y|} for a right one. */
static void test_logistic_far_out(void **state)
{
    (void)state;
    fct_loss_value v = fct_loss_logistic(800.0, 0.0);
    assert_true(isfinite(v.loss) && fabs(v.loss - 800.0) < 1e-12 && v.dscore == 1.0);
    v = fct_loss_logistic(-800.0, 1.0);
    assert_true(isfinite(v.loss) && fabs(v.loss - 800.0) < 1e-12 && v.dscore == -1.0);
    v = fct_loss_logistic(40.0, 1.0);
    assert_true(v.loss > 0.0 && fabs(v.loss - exp(-40.0)) < 1e-30);
    v = fct_loss_logistic(-40.0, 0.0);
    assert_true(fabs(v.loss - exp(-40.0)) < 1e-30);
}

/* d loss / d score against (l(y + h) - l(y - h)) / 2h. */
static void test_finite_differences(void **state)
{
    (void)state;
    const double h = 1e-5, labels[4] = {0.0, 1.0, -1.0, 3.5};
    for (int kind = FCT_LOSS_SQUARED; kind <= FCT_LOSS_LOGISTIC; kind++)
        for (int li = 0; li < 4; li++)
            for (double y = -6.0; y <= 6.0; y += 0.37) {
                const double t = labels[li];
                const double fd = (fct_loss_point((fct_loss_kind)kind, y + h, t).loss -
                                   fct_loss_point((fct_loss_kind)kind, y - h, t).loss) /
                                  (2.0 * h);
                const double d = fct_loss_point((fct_loss_kind)kind, y, t).dscore;
                assert_true(fabs(fd - d) <= 1e-7 * (1.0 + fabs(d)));
            }
}

/* BPR at hand-worked points: x = 0 gives log 2 and -1/2; x = log 3 gives
 * log(4/3), -1/4, pred 3/4; it depends on s_pos - s_neg only; far out it
 * stays finite. */
static void test_bpr_values(void **state)
{
    (void)state;
    fct_loss_value v = fct_loss_bpr(0.3, 0.3);
    assert_true(fabs(v.loss - log(2.0)) < 1e-15 && v.dscore == -0.5 && v.pred == 0.5);
    v = fct_loss_pair(FCT_LOSS_BPR, 1.0 + log(3.0), 1.0);
    assert_true(fabs(v.loss - log(4.0 / 3.0)) < 1e-15 && fabs(v.dscore + 0.25) < 1e-15);
    assert_true(fabs(v.pred - 0.75) < 1e-15);
    v = fct_loss_bpr(-800.0, 0.0);
    assert_true(isfinite(v.loss) && fabs(v.loss - 800.0) < 1e-12 && v.dscore == -1.0);
    v = fct_loss_bpr(40.0, 0.0);
    assert_true(fabs(v.loss - exp(-40.0)) < 1e-30 && fabs(v.dscore + exp(-40.0)) < 1e-30);
    /* the logistic loss of x with label 1 */
    fct_loss_value a = fct_loss_bpr(2.5, 0.75), b = fct_loss_logistic(1.75, 1.0);
    assert_true(fabs(a.loss - b.loss) < 1e-15 && fabs(a.dscore - b.dscore) < 1e-15);
}

/* d l / d s_pos and d l / d s_neg (= -dscore) against central differences:
 * BPR everywhere, WARP away from its kink (1 - s_pos + s_neg = 0). */
static void test_pair_finite_differences(void **state)
{
    (void)state;
    const double h = 1e-5;
    int checked_violated = 0, checked_flat = 0;
    for (int kind = FCT_LOSS_BPR; kind <= FCT_LOSS_WARP; kind++)
        for (double sp = -3.0; sp <= 3.0; sp += 0.41)
            for (double sn = -3.0; sn <= 3.0; sn += 0.53) {
                const fct_loss_kind k = (fct_loss_kind)kind;
                if (k == FCT_LOSS_WARP && fabs(1.0 - sp + sn) < 10 * h)
                    continue;
                const double dp = (fct_loss_pair(k, sp + h, sn).loss - fct_loss_pair(k, sp - h, sn).loss) / (2 * h);
                const double dn = (fct_loss_pair(k, sp, sn + h).loss - fct_loss_pair(k, sp, sn - h).loss) / (2 * h);
                const double d = fct_loss_pair(k, sp, sn).dscore;
                assert_true(fabs(dp - d) <= 1e-7 * (1.0 + fabs(d)));
                assert_true(fabs(dn + d) <= 1e-7 * (1.0 + fabs(d)));
                if (k == FCT_LOSS_WARP) {
                    checked_violated += d != 0.0;
                    checked_flat += d == 0.0;
                }
            }
    assert_true(checked_violated > 20 && checked_flat > 20);
    /* WARP's hinge at hand-worked points */
    fct_loss_value v = fct_loss_warp(2.0, 0.5);
    assert_true(v.loss == 0.0 && v.dscore == 0.0 && v.pred == 0.0);
    v = fct_loss_warp(0.5, 0.25);
    assert_true(v.loss == 0.75 && v.dscore == -1.0 && v.pred == 1.0);
    v = fct_loss_warp(1.0, 0.0); /* on the kink: no gradient */
    assert_true(v.loss == 0.0 && v.dscore == 0.0);
}

static void test_descriptors(void **state)
{
    (void)state;
    const char *names[2] = {"squared", "logistic"};
    for (int kind = FCT_LOSS_SQUARED; kind <= FCT_LOSS_LOGISTIC; kind++) {
        const fct_loss *l = fct_loss_get((fct_loss_kind)kind);
        assert_non_null(l);
        assert_int_equal(l->kind, kind);
        assert_string_equal(l->name, names[kind]);
        assert_ptr_equal(fct_loss_by_name(names[kind]), l);
        assert_int_equal(l->pairwise, 0);
        assert_non_null(l->point);
        assert_null(l->pair);
        /* the descriptor's function is the inline formula */
        fct_loss_value a = l->point(1.25, 1.0), b = fct_loss_point((fct_loss_kind)kind, 1.25, 1.0);
        assert_true(a.loss == b.loss && a.dscore == b.dscore && a.pred == b.pred);
    }
    const char *pnames[2] = {"bpr", "warp"};
    for (int kind = FCT_LOSS_BPR; kind <= FCT_LOSS_WARP; kind++) {
        const fct_loss *l = fct_loss_get((fct_loss_kind)kind);
        assert_non_null(l);
        assert_int_equal(l->kind, kind);
        assert_string_equal(l->name, pnames[kind - FCT_LOSS_BPR]);
        assert_ptr_equal(fct_loss_by_name(pnames[kind - FCT_LOSS_BPR]), l);
        assert_int_equal(l->pairwise, 1);
        assert_null(l->point);
        assert_non_null(l->pair);
        fct_loss_value a = l->pair(0.25, 0.5), b = fct_loss_pair((fct_loss_kind)kind, 0.25, 0.5);
        assert_true(a.loss == b.loss && a.dscore == b.dscore && a.pred == b.pred);
    }
    assert_null(fct_loss_get((fct_loss_kind)99));
    assert_null(fct_loss_by_name("hinge"));
    assert_null(fct_loss_by_name(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_logistic_far_out),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_bpr_values),
        cmocka_unit_test(test_pair_finite_differences),
        cmocka_unit_test(test_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
