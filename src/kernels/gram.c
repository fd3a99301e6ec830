/*
 * gram.c — Y += V V^T Omega (gram.h), the cost of every sample added to
 * the MCMC posterior summary. Two steps: t = V Omega [k, r], then
 * Y += V^T t. The AVX2+FMA version blocks rows of Omega so a block stays in
 * cache while every factor pair reads it, and keeps 8 vectors of 4 doubles
 * in registers (two factors or two rows times 16 columns) per inner step.
 */
#include "gram.h"

#include "kernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_GRAM_X86 1
#else
#define FACTO_GRAM_X86 0
#endif

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

#if FACTO_GRAM_X86
/* Rows of Omega per block of step 1: 64 rows of r = 256 doubles are 128 KiB. */
#define FACTO_GRAM_IB 64

__attribute__((target("avx2,fma"))) void fct_gram_update_avx2(const double *V, int64_t n, int32_t k,
                                                                const double *omega, int32_t r, double *t,
                                                                double *y)
{
    const int32_t r16 = r & ~15, r4 = r & ~3;
    memset(t, 0, (size_t)k * (size_t)r * sizeof *t);
    /* step 1: t[f] += sum_i V[f][i] Omega[i] */
    for (int64_t i0 = 0; i0 < n; i0 += FACTO_GRAM_IB) {
        const int64_t i1 = i0 + FACTO_GRAM_IB < n ? i0 + FACTO_GRAM_IB : n;
        int32_t f = 0;
        for (; f + 2 <= k; f += 2) {
            const double *va = V + (int64_t)f * n, *vb = va + n;
            double *ta = t + (int64_t)f * r, *tb = ta + r;
            for (int32_t c = 0; c < r16; c += 16) {
                __m256d a0 = _mm256_loadu_pd(ta + c), a1 = _mm256_loadu_pd(ta + c + 4);
                __m256d a2 = _mm256_loadu_pd(ta + c + 8), a3 = _mm256_loadu_pd(ta + c + 12);
                __m256d b0 = _mm256_loadu_pd(tb + c), b1 = _mm256_loadu_pd(tb + c + 4);
                __m256d b2 = _mm256_loadu_pd(tb + c + 8), b3 = _mm256_loadu_pd(tb + c + 12);
                for (int64_t i = i0; i < i1; i++) {
                    const double *om = omega + i * r + c;
                    __m256d o0 = _mm256_loadu_pd(om), o1 = _mm256_loadu_pd(om + 4);
                    __m256d o2 = _mm256_loadu_pd(om + 8), o3 = _mm256_loadu_pd(om + 12);
                    __m256d x = _mm256_broadcast_sd(va + i), z = _mm256_broadcast_sd(vb + i);
                    a0 = _mm256_fmadd_pd(x, o0, a0);
                    a1 = _mm256_fmadd_pd(x, o1, a1);
                    a2 = _mm256_fmadd_pd(x, o2, a2);
                    a3 = _mm256_fmadd_pd(x, o3, a3);
                    b0 = _mm256_fmadd_pd(z, o0, b0);
                    b1 = _mm256_fmadd_pd(z, o1, b1);
                    b2 = _mm256_fmadd_pd(z, o2, b2);
                    b3 = _mm256_fmadd_pd(z, o3, b3);
                }
                _mm256_storeu_pd(ta + c, a0);
                _mm256_storeu_pd(ta + c + 4, a1);
                _mm256_storeu_pd(ta + c + 8, a2);
                _mm256_storeu_pd(ta + c + 12, a3);
                _mm256_storeu_pd(tb + c, b0);
                _mm256_storeu_pd(tb + c + 4, b1);
                _mm256_storeu_pd(tb + c + 8, b2);
                _mm256_storeu_pd(tb + c + 12, b3);
            }
            for (int64_t i = i0; i < i1; i++) {
                const double *om = omega + i * r;
                for (int32_t c = r16; c < r; c++) {
                    ta[c] += va[i] * om[c];
                    tb[c] += vb[i] * om[c];
                }
            }
        }
        for (; f < k; f++) {
            const double *va = V + (int64_t)f * n;
            double *ta = t + (int64_t)f * r;
            for (int64_t i = i0; i < i1; i++) {
                const double *om = omega + i * r;
                __m256d x = _mm256_broadcast_sd(va + i);
                int32_t c = 0;
                for (; c < r4; c += 4)
                    _mm256_storeu_pd(ta + c, _mm256_fmadd_pd(x, _mm256_loadu_pd(om + c), _mm256_loadu_pd(ta + c)));
                for (; c < r; c++)
                    ta[c] += va[i] * om[c];
            }
        }
    }
    /* step 2: Y[i] += sum_f V[f][i] t[f], two rows of Y at a time */
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        double *ya = y + i * r, *yb = ya + r;
        for (int32_t c = 0; c < r16; c += 16) {
            __m256d a0 = _mm256_loadu_pd(ya + c), a1 = _mm256_loadu_pd(ya + c + 4);
            __m256d a2 = _mm256_loadu_pd(ya + c + 8), a3 = _mm256_loadu_pd(ya + c + 12);
            __m256d b0 = _mm256_loadu_pd(yb + c), b1 = _mm256_loadu_pd(yb + c + 4);
            __m256d b2 = _mm256_loadu_pd(yb + c + 8), b3 = _mm256_loadu_pd(yb + c + 12);
            for (int32_t f = 0; f < k; f++) {
                const double *tf = t + (int64_t)f * r + c;
                __m256d t0 = _mm256_loadu_pd(tf), t1 = _mm256_loadu_pd(tf + 4);
                __m256d t2 = _mm256_loadu_pd(tf + 8), t3 = _mm256_loadu_pd(tf + 12);
                __m256d x = _mm256_broadcast_sd(V + (int64_t)f * n + i);
                __m256d z = _mm256_broadcast_sd(V + (int64_t)f * n + i + 1);
                a0 = _mm256_fmadd_pd(x, t0, a0);
                a1 = _mm256_fmadd_pd(x, t1, a1);
                a2 = _mm256_fmadd_pd(x, t2, a2);
                a3 = _mm256_fmadd_pd(x, t3, a3);
                b0 = _mm256_fmadd_pd(z, t0, b0);
                b1 = _mm256_fmadd_pd(z, t1, b1);
                b2 = _mm256_fmadd_pd(z, t2, b2);
                b3 = _mm256_fmadd_pd(z, t3, b3);
            }
            _mm256_storeu_pd(ya + c, a0);
            _mm256_storeu_pd(ya + c + 4, a1);
            _mm256_storeu_pd(ya + c + 8, a2);
            _mm256_storeu_pd(ya + c + 12, a3);
            _mm256_storeu_pd(yb + c, b0);
            _mm256_storeu_pd(yb + c + 4, b1);
            _mm256_storeu_pd(yb + c + 8, b2);
            _mm256_storeu_pd(yb + c + 12, b3);
        }
        for (int32_t f = 0; f < k; f++) {
            const double x = V[(int64_t)f * n + i], z = V[(int64_t)f * n + i + 1], *tf = t + (int64_t)f * r;
            for (int32_t c = r16; c < r; c++) {
                ya[c] += x * tf[c];
                yb[c] += z * tf[c];
            }
        }
    }
    for (; i < n; i++) {
        double *ya = y + i * r;
        for (int32_t f = 0; f < k; f++) {
            const double *tf = t + (int64_t)f * r;
            __m256d x = _mm256_broadcast_sd(V + (int64_t)f * n + i);
            int32_t c = 0;
            for (; c < r4; c += 4)
                _mm256_storeu_pd(ya + c, _mm256_fmadd_pd(x, _mm256_loadu_pd(tf + c), _mm256_loadu_pd(ya + c)));
            for (; c < r; c++)
                ya[c] += V[(int64_t)f * n + i] * tf[c];
        }
    }
}
#else
void fct_gram_update_avx2(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                            double *y)
{
    fct_gram_update_scalar(V, n, k, omega, r, t, y);
}
#endif

void fct_gram_update(const double *V, int64_t n, int32_t k, const double *omega, int32_t r, double *t,
                       double *y)
{
    if (fct_kernel_path_get() == FACTO_KERNEL_AVX2)
        fct_gram_update_avx2(V, n, k, omega, r, t, y);
    else
        fct_gram_update_scalar(V, n, k, omega, r, t, y);
}
