/*
 * blas.h — the BLAS products facto uses, through OpenBLAS's cblas interface
 * (Debian's libopenblas). Kept in one place so the rest of the tree never
 * includes cblas.h and the library's own threading is set once. Cost: that
 * of the product, O(m n k).
 */
#ifndef FACTO_KERNELS_BLAS_H
#define FACTO_KERNELS_BLAS_H

#include <stdint.h>

/*
 * C [m, n] = A [m, k] * B [n, k]^T, float, row-major with leading
 * dimensions lda, ldb, ldc (elements). Used to score a block of users'
 * factors against every item's (cblas_sgemm, NoTrans x Trans).
 */
void fct_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B, int64_t ldb,
                  float *C, int64_t ldc);

/* Threads OpenBLAS may use inside one call (facto calls it from one thread
 * at a time and sizes this from the context). */
void fct_blas_set_threads(int n);

#endif /* FACTO_KERNELS_BLAS_H */
