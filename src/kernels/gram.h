/*
 * gram.h — the dense kernel of the MCMC posterior summary (fm_mcmc.c):
 * Y += V V^T Omega for a factor-major V [k, n] and Omega, Y [n, r], in
 * doubles. A scalar and an AVX2+FMA version (picked at run time through
 * fct_kernel_path_get, like kernels.h); they sum in a different order, so
 * they agree to rounding only. O(n k r) time, t [k, r] caller scratch.
 */
#ifndef FACTO_KERNELS_GRAM_H
#define FACTO_KERNELS_GRAM_H

#include <stdint.h>

/* Y [n, r] += V V^T Omega; V[f * n + i], Omega[i * r + c], t [k * r] scratch. */
void fct_gram_update(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                       double *y);

/* The two implementations, for tests; the AVX2 one only when
 * fct_kernel_path_detect() == FACTO_KERNEL_AVX2. */
void fct_gram_update_scalar(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                              double *y);
void fct_gram_update_avx2(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                            double *y);

#endif /* FACTO_KERNELS_GRAM_H */
