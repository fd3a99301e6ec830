/*
 * test_rng.c — the random number generator (src/core/rng.c): the parallel
 * normal fill fct_rng_normal_rows against a plain loop of fct_rng_normal
 * (the same floats bit for bit, every padding element 0, the same stream
 * state and spare afterwards) for odd and even k, odd row counts, one and
 * several pieces, a spare pending at entry, a rejected u1 = 0, and 1 and
 * 3 threads. Well under a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* The plain loop fct_rng_normal_rows stands for. */
static void plain_rows(fct_rng *rng, float *a, size_t rows, size_t k, size_t ld, double scale)
{
    for (size_t r = 0; r < rows; r++) {
        for (size_t f = 0; f < k; f++)
            a[r * ld + f] = (float)(scale * fct_rng_normal(rng));
        for (size_t f = k; f < ld; f++)
            a[r * ld + f] = 0.0f;
    }
}

static void assert_same_rng(const fct_rng *a, const fct_rng *b)
{
    for (int i = 0; i < 4; i++)
        assert_true(a->s[i] == b->s[i]);
    assert_int_equal(a->has_spare, b->has_spare);
    if (a->has_spare)
        assert_memory_equal(&a->spare, &b->spare, sizeof a->spare);
}

/* Fill rows x k (stride ld) twice from the same state, the plain loop and
 * fct_rng_normal_rows on n_threads, twice in a row (P then Q: the spare
 * carried from one call to the next), and compare every bit. */
static void check_case(const fct_rng *start, size_t rows, size_t k, size_t ld, int n_threads)
{
    const size_t n = rows * ld;
    float *want = malloc(2 * n * sizeof *want), *got = malloc(2 * n * sizeof *got);
    assert_non_null(want);
    assert_non_null(got);
    /* got starts as NaN bits: an element left unwritten shows */
    memset(got, 0xff, 2 * n * sizeof *got);
    fct_rng a = *start, b = *start;
    plain_rows(&a, want, rows, k, ld, 0.1);
    plain_rows(&a, want + n, rows, k, ld, 0.1);
    fct_rng_normal_rows(&b, got, rows, k, ld, 0.1, n_threads);
    fct_rng_normal_rows(&b, got + n, rows, k, ld, 0.1, n_threads);
    assert_memory_equal(want, got, 2 * n * sizeof *want);
    assert_same_rng(&a, &b);
    /* and the stream goes on the same */
    double x = fct_rng_normal(&a), y = fct_rng_normal(&b);
    assert_memory_equal(&x, &y, sizeof x);
    /* the values are N(0, 0.1^2): a check that the reference is not trivial */
    double s2 = 0.0;
    size_t cnt = 0;
    for (size_t r = 0; r < 2 * rows; r++)
        for (size_t f = 0; f < k; f++, cnt++)
            s2 += (double)want[r * ld + f] * want[r * ld + f];
    if (cnt >= 1000)
        assert_true(fabs(sqrt(s2 / (double)cnt) - 0.1) < 0.01);
    free(want);
    free(got);
}

static void test_normal_rows_same_as_plain_loop(void **state)
{
    (void)state;
    /* (rows, k, ld): odd k with padding, an odd row count over several
     * pieces of 8192 values, a piece that is one row (k > 8192), k even,
     * a single row, no rows */
    static const size_t cases[][3] = {{2501, 7, 8},  {301, 65, 72}, {3, 8193, 8195}, {1001, 64, 80},
                                      {1, 3, 3},     {5, 1, 1},     {4097, 2, 2},    {0, 5, 5}};
    static const int threads[] = {1, 3};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int t = 0; t < 2; t++) {
            for (int spare = 0; spare < 2; spare++) {
                fct_rng rng;
                fct_rng_seed(&rng, 1000 + c);
                if (spare) {
                    (void)fct_rng_normal(&rng); /* leaves a spare pending */
                    assert_int_equal(rng.has_spare, 1);
                }
                check_case(&rng, cases[c][0], cases[c][1], cases[c][2], threads[t]);
            }
        }
    }
}

/* One step of xoshiro256** backwards (its state update is invertible:
 * fct_rng_u64 undone). */
static void step_back(fct_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t s3a = (s[3] >> 45) | (s[3] << 19); /* s3 ^ s1, before the rotation */
    const uint64_t s0 = s[0] ^ s3a;
    const uint64_t y = s[1] ^ s[2]; /* s1 ^ (s1 << 17) */
    const uint64_t s1 = y ^ (y << 17) ^ (y << 34) ^ (y << 51);
    const uint64_t s2 = s[1] ^ s1 ^ s0;
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3a ^ s1;
}

/* xoshiro256** returns 0 when s[1] is 0: a state built to draw 0 at a
 * chosen place makes Box-Muller's u1 = 0 there, which must be drawn again
 * as fct_rng_normal does (at the start of the first piece, inside it, at
 * the start of the second: 8190 values a piece for k = 7), and a u2 = 0
 * (the last draw of the first piece) kept. */
static void test_normal_rows_rejects_zero(void **state)
{
    (void)state;
    fct_rng probe;
    fct_rng_seed(&probe, 5);
    fct_rng back = probe;
    (void)fct_rng_u64(&back);
    step_back(&back);
    assert_memory_equal(back.s, probe.s, sizeof probe.s);
    static const int at[] = {0, 202, 8190, 8189};
    for (size_t c = 0; c < sizeof at / sizeof at[0]; c++) {
        fct_rng rng = {{0x9e3779b97f4a7c15ULL, 0, 0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL}, 0, 0.0};
        for (int x = 0; x < at[c]; x++)
            step_back(&rng);
        probe = rng;
        for (int x = 0; x < at[c]; x++)
            (void)fct_rng_u64(&probe);
        assert_true(fct_rng_u64(&probe) == 0);
        if (at[c] == 0) { /* fct_rng_normal itself: u1 from the second draw */
            fct_rng r2 = rng;
            (void)fct_rng_u64(&r2);
            double u1 = (double)(fct_rng_u64(&r2) >> 11) * 0x1.0p-53, u2 = (double)(fct_rng_u64(&r2) >> 11) * 0x1.0p-53;
            fct_rng r3 = rng;
            assert_true(fct_rng_normal(&r3) == sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
        }
        for (int t = 1; t <= 3; t += 2)
            check_case(&rng, 2501, 7, 8, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_rows_same_as_plain_loop),
        cmocka_unit_test(test_normal_rows_rejects_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
