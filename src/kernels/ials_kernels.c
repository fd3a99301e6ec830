/*
 * ials_kernels.c — the two dense kernels of the implicit least-squares
 * solvers (kernels.h), scalar and AVX2+FMA:
 *   rows_apply  y += sum_j (a_j + s w_j <x_j, d>) x_j over n rows x_j taken
 *               from a factor matrix by index (the sparse part of A d and of
 *               the residual b - A x of one user's or item's normal
 *               equations: one pass over its rows, each row read once);
 *   symv        y = alpha G d + beta d for a symmetric G [k, k] (the Gram
 *               part), as k axpys of G's rows so no horizontal sums are
 *               needed.
 * The AVX2 rows_apply takes four rows at a time (four dot products reduced
 * together, then one read-modify-write of y for the four) and prefetches
 * the rows eight ahead. The AVX2 versions sum in another order than the
 * scalar ones and agree to rounding only. O(n k) and O(k^2), no memory.
 */
#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_IALS_X86 1
#else
#define FACTO_IALS_X86 0
#endif

/* ---- scalar ------------------------------------------------------------ */

void fct_rows_apply_scalar(const float *X, int64_t ldx, const int32_t *idx, int64_t n, const float *a,
                           const float *w, float s, const float *d, int k, float *y)
{
    for (int64_t j = 0; j < n; j++) {
        const float *x = X + (idx ? (int64_t)idx[j] : j) * ldx;
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
        int f = 0;
        for (; f + 4 <= k; f += 4) {
            t0 += x[f] * d[f];
            t1 += x[f + 1] * d[f + 1];
            t2 += x[f + 2] * d[f + 2];
            t3 += x[f + 3] * d[f + 3];
        }
        for (; f < k; f++)
            t0 += x[f] * d[f];
        const float coef = (a ? a[j] : 0.0f) + s * w[j] * ((t0 + t1) + (t2 + t3));
        for (f = 0; f < k; f++)
            y[f] += coef * x[f];
    }
}

void fct_symv_scalar(const float *G, int k, float alpha, float beta, const float *d, float *y)
{
    for (int f = 0; f < k; f++)
        y[f] = 0.0f;
    for (int g = 0; g < k; g++) {
        const float *row = G + (int64_t)g * k;
        const float dg = d[g];
        for (int f = 0; f < k; f++)
            y[f] += dg * row[f];
    }
    for (int f = 0; f < k; f++)
        y[f] = alpha * y[f] + beta * d[f];
}

/* ---- AVX2 + FMA -------------------------------------------------------- */

#if FACTO_IALS_X86
#define FCT_AVX2 __attribute__((target("avx2,fma")))

/* The four sums of a0..a3's lanes, in lanes 0..3. */
FCT_AVX2 static inline __m128 fct_hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

FCT_AVX2 static inline void fct_prefetch_row(const float *x, int k)
{
    for (int f = 0; f < k; f += 16)
        _mm_prefetch((const char *)(x + f), _MM_HINT_T0);
}

FCT_AVX2 void fct_rows_apply_avx2(const float *X, int64_t ldx, const int32_t *idx, int64_t n, const float *a,
                                  const float *w, float s, const float *d, int k, float *y)
{
    const int k8 = k & ~7;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *x0, *x1, *x2, *x3;
        if (idx) {
            x0 = X + (int64_t)idx[j] * ldx;
            x1 = X + (int64_t)idx[j + 1] * ldx;
            x2 = X + (int64_t)idx[j + 2] * ldx;
            x3 = X + (int64_t)idx[j + 3] * ldx;
            for (int64_t p = j + 8; p < j + 12 && p < n; p++)
                fct_prefetch_row(X + (int64_t)idx[p] * ldx, k);
        } else {
            x0 = X + j * ldx;
            x1 = x0 + ldx;
            x2 = x1 + ldx;
            x3 = x2 + ldx;
        }
        __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps(),
               c3 = _mm256_setzero_ps();
        int f = 0;
        for (; f < k8; f += 8) {
            __m256 dv = _mm256_loadu_ps(d + f);
            c0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + f), dv, c0);
            c1 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + f), dv, c1);
            c2 = _mm256_fmadd_ps(_mm256_loadu_ps(x2 + f), dv, c2);
            c3 = _mm256_fmadd_ps(_mm256_loadu_ps(x3 + f), dv, c3);
        }
        float t[4];
        _mm_storeu_ps(t, fct_hsum4(c0, c1, c2, c3));
        for (; f < k; f++) {
            t[0] += x0[f] * d[f];
            t[1] += x1[f] * d[f];
            t[2] += x2[f] * d[f];
            t[3] += x3[f] * d[f];
        }
        float e[4];
        for (int r = 0; r < 4; r++)
            e[r] = (a ? a[j + r] : 0.0f) + s * w[j + r] * t[r];
        const __m256 e0 = _mm256_set1_ps(e[0]), e1 = _mm256_set1_ps(e[1]), e2 = _mm256_set1_ps(e[2]),
                     e3 = _mm256_set1_ps(e[3]);
        for (f = 0; f < k8; f += 8) {
            __m256 yv = _mm256_loadu_ps(y + f);
            yv = _mm256_fmadd_ps(e0, _mm256_loadu_ps(x0 + f), yv);
            yv = _mm256_fmadd_ps(e1, _mm256_loadu_ps(x1 + f), yv);
            yv = _mm256_fmadd_ps(e2, _mm256_loadu_ps(x2 + f), yv);
            yv = _mm256_fmadd_ps(e3, _mm256_loadu_ps(x3 + f), yv);
            _mm256_storeu_ps(y + f, yv);
        }
        for (; f < k; f++)
            y[f] += e[0] * x0[f] + e[1] * x1[f] + e[2] * x2[f] + e[3] * x3[f];
    }
    if (j < n)
        fct_rows_apply_scalar(idx ? X : X + j * ldx, ldx, idx ? idx + j : NULL, n - j, a ? a + j : NULL, w + j, s,
                              d, k, y);
}

FCT_AVX2 void fct_symv_avx2(const float *G, int k, float alpha, float beta, const float *d, float *y)
{
    const int k8 = k & ~7;
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    int f0 = 0;
    for (; f0 + 32 <= k8; f0 += 32) {
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
               s3 = _mm256_setzero_ps();
        for (int g = 0; g < k; g++) {
            const float *row = G + (int64_t)g * k + f0;
            const __m256 dg = _mm256_set1_ps(d[g]);
            s0 = _mm256_fmadd_ps(dg, _mm256_loadu_ps(row), s0);
            s1 = _mm256_fmadd_ps(dg, _mm256_loadu_ps(row + 8), s1);
            s2 = _mm256_fmadd_ps(dg, _mm256_loadu_ps(row + 16), s2);
            s3 = _mm256_fmadd_ps(dg, _mm256_loadu_ps(row + 24), s3);
        }
        _mm256_storeu_ps(y + f0, _mm256_fmadd_ps(va, s0, _mm256_mul_ps(vb, _mm256_loadu_ps(d + f0))));
        _mm256_storeu_ps(y + f0 + 8, _mm256_fmadd_ps(va, s1, _mm256_mul_ps(vb, _mm256_loadu_ps(d + f0 + 8))));
        _mm256_storeu_ps(y + f0 + 16, _mm256_fmadd_ps(va, s2, _mm256_mul_ps(vb, _mm256_loadu_ps(d + f0 + 16))));
        _mm256_storeu_ps(y + f0 + 24, _mm256_fmadd_ps(va, s3, _mm256_mul_ps(vb, _mm256_loadu_ps(d + f0 + 24))));
    }
    for (; f0 < k8; f0 += 8) {
        __m256 s0 = _mm256_setzero_ps();
        for (int g = 0; g < k; g++)
            s0 = _mm256_fmadd_ps(_mm256_set1_ps(d[g]), _mm256_loadu_ps(G + (int64_t)g * k + f0), s0);
        _mm256_storeu_ps(y + f0, _mm256_fmadd_ps(va, s0, _mm256_mul_ps(vb, _mm256_loadu_ps(d + f0))));
    }
    for (int f = k8; f < k; f++) {
        float t = 0.0f;
        for (int g = 0; g < k; g++)
            t += d[g] * G[(int64_t)g * k + f];
        y[f] = alpha * t + beta * d[f];
    }
}
#else
void fct_rows_apply_avx2(const float *X, int64_t ldx, const int32_t *idx, int64_t n, const float *a,
                         const float *w, float s, const float *d, int k, float *y)
{
    fct_rows_apply_scalar(X, ldx, idx, n, a, w, s, d, k, y);
}
void fct_symv_avx2(const float *G, int k, float alpha, float beta, const float *d, float *y)
{
    fct_symv_scalar(G, k, alpha, beta, d, y);
}
#endif
