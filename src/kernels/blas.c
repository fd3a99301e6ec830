/*
 * blas.c — thin wrappers over OpenBLAS's cblas (blas.h). Products larger
 * than int32 in any dimension are refused by the callers' blocking (blocks
 * of users are small); the wrappers only convert the index types.
 */
#include "blas.h"

#include <cblas.h>

/* OpenBLAS's own thread control (declared in its cblas.h as well on
 * Debian; repeated here so the intent is visible). */
void openblas_set_num_threads(int num_threads);

void fct_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B, int64_t ldb,
                  float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, A, (int)lda, B, (int)ldb,
                0.0f, C, (int)ldc);
}

void fct_sgemv_n(int64_t n, int64_t k, const float *a, const float *B, int64_t ldb, float *C)
{
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0f, B, (int)ldb, a, 1, 0.0f, C, 1);
}

void fct_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *A, int64_t lda,
               const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void fct_dgemm(int trans_a, int64_t m, int64_t n, int64_t k, double alpha, const double *A, int64_t lda,
               const double *B, int64_t ldb, double beta, double *C, int64_t ldc)
{
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, alpha, A,
                (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void fct_gram_tn(int64_t n, int64_t k, const float *A, int64_t lda, float *C)
{
    if (n == 0) {
        for (int64_t x = 0; x < k * k; x++)
            C[x] = 0.0f;
        return;
    }
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)k, (int)n, 1.0f, A, (int)lda, 0.0f, C, (int)k);
    for (int64_t i = 1; i < k; i++)
        for (int64_t j = 0; j < i; j++)
            C[i * k + j] = C[j * k + i];
}

void fct_blas_set_threads(int n) { openblas_set_num_threads(n > 0 ? n : 1); }
