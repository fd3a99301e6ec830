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

/*
 * C [m, n] = alpha op(A) op(B) + beta C, float, row-major; op(A) is A
 * [m, k] (trans_a 0) or A^T for A stored [k, m] (trans_a 1); op(B) is B
 * [k, n] (trans_b 0) or B^T for B stored [n, k] (trans_b 1). Dimensions
 * and leading dimensions must fit in int (cblas_sgemm). The softmax
 * solver's forward and backward products (scores of a batch of users
 * against items, and the gradients of both factor matrices).
 */
void fct_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *A, int64_t lda,
               const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/*
 * C [m, n] = alpha op(A) op(B) + beta C, double, row-major; op(A) is A
 * [m, k] (trans_a 0) or A^T for A stored [k, m] (trans_a 1); B is [k, n].
 * Dimensions and leading dimensions must fit in int (cblas_dgemm).
 */
/* C [n] = B [n, k] (row stride ldb) x a [k]: one row of fct_sgemm_nt
 * without packing B (cblas_sgemv), for one user against every item. The
 * sums run in BLAS's own order, as sgemm's do. */
void fct_sgemv_n(int64_t n, int64_t k, const float *a, const float *B, int64_t ldb, float *C);

void fct_dgemm(int trans_a, int64_t m, int64_t n, int64_t k, double alpha, const double *A, int64_t lda,
               const double *B, int64_t ldb, double beta, double *C, int64_t ldc);

/*
 * C [k, k] = A^T A for A [n, k] row-major with leading dimension lda: the
 * Gram matrix of n factor rows (cblas_ssyrk, upper triangle, mirrored into
 * the lower one so C is the full symmetric matrix, row stride k). n and k
 * must fit in int. With one BLAS thread (fct_blas_set_threads(1)) the bits
 * depend on the sizes only. n 0 gives zeros.
 */
void fct_gram_tn(int64_t n, int64_t k, const float *A, int64_t lda, float *C);

/* OpenBLAS runs a gemm of m n k up to 65536 * GEMM_MULTITHREAD_THRESHOLD
 * (4 by default) multiply-adds on the calling thread, whatever
 * fct_blas_set_threads says; products of at most this many (half that, a
 * margin) therefore do, and their bits depend on the sizes only (its
 * threaded driver blocks the sums differently). */
#define FCT_BLAS_SERIAL_MNK ((int64_t)1 << 17)

/* Threads OpenBLAS may use inside one call (facto calls it from one thread
 * at a time and sizes this from the context). */
void fct_blas_set_threads(int n);

#endif /* FACTO_KERNELS_BLAS_H */
