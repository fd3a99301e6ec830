/*
 * dot.c — dot product and axpy, scalar and AVX2+FMA (entries of the kernel
 * table, kernels.h). The AVX2 versions work on 8 floats a step (two
 * accumulators for dot) and finish the tail in scalar code; they are
 * compiled with __attribute__((target)) so the library still runs on CPUs
 * without AVX2. O(n) per call, no memory.
 */
#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_HAVE_X86 1
#else
#define FACTO_HAVE_X86 0
#endif

/* ---- scalar ------------------------------------------------------------ */

float fct_dot_scalar(const float *a, const float *b, int n)
{
    /* Four independent sums: the compiler keeps them in SSE lanes and the
     * additions no longer wait on each other. */
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    int f = 0;
    for (; f + 4 <= n; f += 4) {
        s0 += a[f] * b[f];
        s1 += a[f + 1] * b[f + 1];
        s2 += a[f + 2] * b[f + 2];
        s3 += a[f + 3] * b[f + 3];
    }
    for (; f < n; f++)
        s0 += a[f] * b[f];
    return (s0 + s1) + (s2 + s3);
}

void fct_axpy_scalar(float alpha, const float *x, float *y, int n)
{
    for (int f = 0; f < n; f++)
        y[f] += alpha * x[f];
}

/* ---- AVX2 + FMA -------------------------------------------------------- */

#if FACTO_HAVE_X86
__attribute__((target("avx2,fma"))) static float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehdup_ps(lo);
    __m128 s = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, s);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float fct_dot_avx2(const float *a, const float *b, int n)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int f = 0;
    for (; f + 16 <= n; f += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + f), _mm256_loadu_ps(b + f), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + f + 8), _mm256_loadu_ps(b + f + 8), acc1);
    }
    for (; f + 8 <= n; f += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + f), _mm256_loadu_ps(b + f), acc0);
    float s = hsum256(_mm256_add_ps(acc0, acc1));
    for (; f < n; f++)
        s += a[f] * b[f];
    return s;
}

__attribute__((target("avx2,fma"))) void fct_axpy_avx2(float alpha, const float *x, float *y, int n)
{
    __m256 va = _mm256_set1_ps(alpha);
    int f = 0;
    for (; f + 8 <= n; f += 8)
        _mm256_storeu_ps(y + f, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + f), _mm256_loadu_ps(y + f)));
    for (; f < n; f++)
        y[f] += alpha * x[f];
}
#else
float fct_dot_avx2(const float *a, const float *b, int n) { return fct_dot_scalar(a, b, n); }
void fct_axpy_avx2(float alpha, const float *x, float *y, int n) { fct_axpy_scalar(alpha, x, y, n); }
#endif
