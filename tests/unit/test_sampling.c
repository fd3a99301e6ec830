/*
 * test_sampling.c — negative sampling for the ranking solvers
 * (src/solvers/sampling.h): Walker's alias table draws in proportion to its
 * weights (counts within 5 standard deviations on 400,000 draws), never
 * an item of weight 0, and gives log Q; weights that are not a
 * distribution are refused; the popularity sampler of a CSR counts each
 * pair once; the uniform sampler's log Q; the sorted-list lookup the
 * solvers use to reject positives. Runs in milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "solvers/sampling.h"

/* The alias table draws in proportion to its weights (chi-square-sized
 * tolerance on 400,000 draws), never an item of weight 0, and gives log Q. */
static void test_alias_sampler(void **state)
{
    (void)state;
    const double w[6] = {1.0, 0.0, 5.0, 2.0, 0.5, 11.5};
    fct_alias a;
    assert_int_equal(fct_alias_build(&a, w, 6), 0);
    fct_rng rng;
    fct_rng_seed(&rng, 1);
    long counts[6] = {0};
    enum { N = 400000 };
    for (int x = 0; x < N; x++)
        counts[fct_alias_draw(&a, &rng)]++;
    assert_int_equal(counts[1], 0);
    for (int j = 0; j < 6; j++) {
        const double q = w[j] / 20.0, sd = sqrt(N * q * (1.0 - q));
        assert_true(fabs((double)counts[j] - N * q) <= 5.0 * sd + 1.0);
        if (w[j] > 0.0)
            assert_true(fabs(a.log_q[j] - log(q)) < 1e-12);
    }
    fct_alias_free(&a);
    const double bad[2] = {0.0, 0.0};
    assert_int_equal(fct_alias_build(&a, bad, 2), -1);
    /* the popularity sampler of a CSR: counts of each item */
    const int32_t items[5] = {2, 0, 2, 2, 1};
    fct_negsampler ns;
    assert_int_equal(fct_negsampler_init(&ns, FCT_NEG_POPULARITY, 4, items, 5), 0);
    assert_true(fabs(fct_negsampler_log_q(&ns, 2) - log(0.6)) < 1e-12);
    for (int x = 0; x < 1000; x++)
        assert_int_not_equal(fct_negsampler_draw(&ns, &rng), 3);
    fct_negsampler_free(&ns);
    assert_int_equal(fct_negsampler_init(&ns, FCT_NEG_UNIFORM, 4, items, 5), 0);
    assert_true(fabs(fct_negsampler_log_q(&ns, 3) - log(0.25)) < 1e-12);
    fct_negsampler_free(&ns);
}

static void test_sorted_find(void **state)
{
    (void)state;
    const int32_t a[6] = {1, 4, 5, 9, 12, 40};
    for (int32_t x = 0; x < 45; x++) {
        int64_t want = -1;
        for (int64_t i = 0; i < 6; i++)
            if (a[i] == x)
                want = i;
        assert_int_equal(fct_sorted_find(a, 6, x), want);
    }
    assert_int_equal(fct_sorted_find(a, 0, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alias_sampler),
        cmocka_unit_test(test_sorted_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
