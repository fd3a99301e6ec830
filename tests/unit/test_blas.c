/*
 * test_blas.c — OpenBLAS is linked with libfacto (for dense layers and
 * batched scoring to come): cblas_sgemm and cblas_dgemm on 2x2 row-major
 * cases with small integers, whose products are exact in float and double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cblas.h>

/* C = alpha A B + beta C, A = [1 2; 3 4], B = [5 6; 7 8], C = [1 1; 1 1]. */
static void test_sgemm(void **state)
{
    (void)state;
    const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    float c[4] = {1, 1, 1, 1};
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 2.0f, a, 2, b, 2, 3.0f, c, 2);
    /* A B = [19 22; 43 50] */
    const float want[4] = {41, 47, 89, 103};
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == want[i]);
}

/* Transposed B, as a batch scorer uses it: C = A B^T. */
static void test_dgemm_trans(void **state)
{
    (void)state;
    const double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    double c[4] = {-1, -1, -1, -1};
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2);
    /* rows of A against rows of B: [1*5+2*6 1*7+2*8; 3*5+4*6 3*7+4*8] */
    const double want[4] = {17, 23, 39, 53};
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == want[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm),
        cmocka_unit_test(test_dgemm_trans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
