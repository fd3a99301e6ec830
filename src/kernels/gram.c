/*
 * gram.c — Y += V V^T Omega (gram.h), the cost of every sample added to
 * the MCMC posterior summary, in two steps: t = V Omega [k, r], then
 * Y += V^T t. Both are dense matrix products handed to BLAS (fct_dgemm,
 * blas.h: OpenBLAS, blocked and vectorised for the CPU it runs on), in
 * tiles small enough that OpenBLAS keeps them on the calling thread (see
 * below); the scalar reference does the same two steps with plain loops.
 * O(n k r) flops, no memory beyond the caller's t.
 */
#include "gram.h"

#include "blas.h"

#include <limits.h>
#include <string.h>

void fct_gram_update_scalar(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                            double *y)
{
    memset(t, 0, (size_t)k * (size_t)r * sizeof *t);
    for (int32_t f = 0; f < k; f++) {
        const double *vf = V + (int64_t)f * n;
        double *tf = t + (int64_t)f * r;
        for (int64_t i = 0; i < n; i++) {
            const double v = vf[i], *om = omega + i * r;
            for (int32_t c = 0; c < r; c++)
                tf[c] += v * om[c];
        }
    }
    for (int64_t i = 0; i < n; i++) {
        double *yi = y + i * r;
        for (int32_t f = 0; f < k; f++) {
            const double v = V[(int64_t)f * n + i], *tf = t + (int64_t)f * r;
            for (int32_t c = 0; c < r; c++)
                yi[c] += v * tf[c];
        }
    }
}

/* Tiles of at most FCT_BLAS_SERIAL_MNK multiply-adds (blas.h) keep every
 * call on the caller's thread: OpenBLAS's own thread pool, on a loaded
 * machine, competes with the solver's OpenMP threads (MCMC twice as slow on
 * two cores), and its threaded driver sums in another order, so the model
 * would depend on the thread count. */
#define FCT_GRAM_TILE FCT_BLAS_SERIAL_MNK

static int fct_gram_min(int64_t a, int64_t b) { return (int)(a < b ? a : b); }

void fct_gram_update(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                     double *y)
{
    if (n <= 0 || k <= 0 || r <= 0)
        return;
    if (n > INT_MAX) { /* BLAS dimensions and strides are int */
        fct_gram_update_scalar(V, n, k, omega, r, t, y);
        return;
    }
    const int N = (int)n;
    /* columns of t and Y per tile, then rows of Omega (step 1) or Y (step 2) */
    const int rc = fct_gram_min(r, FCT_GRAM_TILE / k > 1 ? FCT_GRAM_TILE / k : 1);
    const int ic = fct_gram_min(n, FCT_GRAM_TILE / ((int64_t)k * rc) > 1 ? FCT_GRAM_TILE / ((int64_t)k * rc) : 1);
    for (int c0 = 0; c0 < r; c0 += rc) {
        const int cn = fct_gram_min(rc, r - c0);
        /* t[:, c0..] [k, cn] = sum over row tiles of V[:, i0..] [k, in] Omega[i0.., c0..] [in, cn] */
        for (int i0 = 0; i0 < N; i0 += ic)
            fct_dgemm(0, k, cn, fct_gram_min(ic, N - i0), 1.0, V + i0, N, omega + (int64_t)i0 * r + c0, r,
                      i0 ? 1.0 : 0.0, t + c0, r);
        /* Y[i0.., c0..] [in, cn] += V[:, i0..]^T [in, k] t[:, c0..] [k, cn] */
        for (int i0 = 0; i0 < N; i0 += ic)
            fct_dgemm(1, fct_gram_min(ic, N - i0), cn, k, 1.0, V + i0, N, t + c0, r, 1.0, y + (int64_t)i0 * r + c0,
                      r);
    }
}
