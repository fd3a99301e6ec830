/*
 * gram.h — the dense kernel of the MCMC posterior summary (fm_mcmc.c):
 * Y += V V^T Omega for a factor-major V [k, n] and Omega, Y [n, r], in
 * doubles, as two BLAS matrix products (cblas_dgemm, OpenBLAS). A plain
 * scalar loop is kept as the reference the tests compare against; the two
 * sum in a different order, so they agree to rounding only.
 * O(n k r) time, t [k, r] caller scratch.
 */
#ifndef FACTO_KERNELS_GRAM_H
#define FACTO_KERNELS_GRAM_H

#include <stdint.h>

/* Y [n, r] += V V^T Omega; V[f * n + i], Omega[i * r + c], t [k * r] scratch. */
void fct_gram_update(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                     double *y);

/* The same with three plain loops, for tests (and sizes BLAS's int cannot hold). */
void fct_gram_update_scalar(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                            double *y);

#endif /* FACTO_KERNELS_GRAM_H */
