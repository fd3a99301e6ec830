/*
 * topn_kernels.c — the threshold scan of batch top-N (kernels.h), scalar,
 * AVX2 and AVX-512: the first entry of a row of products whose finished
 * score (c + bias[i]) + row[i] beats a threshold strictly. Top-N keeps the
 * k-th best score so far as the threshold; past the first few hundred
 * items almost no score beats it, so the scan touches each score once,
 * 8 or 16 at a time, and hands back only the rare candidates. Every path
 * adds in the same order with no fused operation, so all give the same
 * bits; NaN never beats a threshold (ordered compare), nor does -inf.
 * O(n), no memory.
 */
#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_TOPN_X86 1
#else
#define FACTO_TOPN_X86 0
#endif

int32_t fct_scan_above_scalar(const float *row, const float *bias, float c, int32_t n, float t, float *val)
{
    if (bias) {
        for (int32_t i = 0; i < n; i++) {
            float s = c + bias[i] + row[i];
            if (s > t) {
                *val = s;
                return i;
            }
        }
    } else {
        for (int32_t i = 0; i < n; i++) {
            float s = c + row[i];
            if (s > t) {
                *val = s;
                return i;
            }
        }
    }
    return n;
}

#if FACTO_TOPN_X86

__attribute__((target("avx2"))) int32_t fct_scan_above_avx2(const float *row, const float *bias, float c, int32_t n,
                                                            float t, float *val)
{
    const __m256 cv = _mm256_set1_ps(c), tv = _mm256_set1_ps(t);
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 c0 = bias ? _mm256_add_ps(cv, _mm256_loadu_ps(bias + i)) : cv;
        __m256 c1 = bias ? _mm256_add_ps(cv, _mm256_loadu_ps(bias + i + 8)) : cv;
        __m256 s0 = _mm256_add_ps(c0, _mm256_loadu_ps(row + i));
        __m256 s1 = _mm256_add_ps(c1, _mm256_loadu_ps(row + i + 8));
        int m0 = _mm256_movemask_ps(_mm256_cmp_ps(s0, tv, _CMP_GT_OQ));
        int m1 = _mm256_movemask_ps(_mm256_cmp_ps(s1, tv, _CMP_GT_OQ));
        if (m0 | m1) {
            float s[16];
            _mm256_storeu_ps(s, s0);
            _mm256_storeu_ps(s + 8, s1);
            int x = __builtin_ctz((unsigned)(m0 | (m1 << 8)));
            *val = s[x];
            return i + x;
        }
    }
    int32_t r = fct_scan_above_scalar(row + i, bias ? bias + i : NULL, c, n - i, t, val);
    return i + r;
}

__attribute__((target("avx512f"))) int32_t fct_scan_above_avx512(const float *row, const float *bias, float c,
                                                                 int32_t n, float t, float *val)
{
    const __m512 cv = _mm512_set1_ps(c), tv = _mm512_set1_ps(t);
    int32_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 c0 = bias ? _mm512_add_ps(cv, _mm512_loadu_ps(bias + i)) : cv;
        __m512 c1 = bias ? _mm512_add_ps(cv, _mm512_loadu_ps(bias + i + 16)) : cv;
        __m512 s0 = _mm512_add_ps(c0, _mm512_loadu_ps(row + i));
        __m512 s1 = _mm512_add_ps(c1, _mm512_loadu_ps(row + i + 16));
        __mmask16 m0 = _mm512_cmp_ps_mask(s0, tv, _CMP_GT_OQ);
        __mmask16 m1 = _mm512_cmp_ps_mask(s1, tv, _CMP_GT_OQ);
        if (m0 | m1) {
            float s[32];
            _mm512_storeu_ps(s, s0);
            _mm512_storeu_ps(s + 16, s1);
            int x = __builtin_ctz((unsigned)m0 | ((unsigned)m1 << 16));
            *val = s[x];
            return i + x;
        }
    }
    int32_t r = fct_scan_above_scalar(row + i, bias ? bias + i : NULL, c, n - i, t, val);
    return i + r;
}

#else

int32_t fct_scan_above_avx2(const float *row, const float *bias, float c, int32_t n, float t, float *val)
{
    return fct_scan_above_scalar(row, bias, c, n, t, val);
}

int32_t fct_scan_above_avx512(const float *row, const float *bias, float c, int32_t n, float t, float *val)
{
    return fct_scan_above_scalar(row, bias, c, n, t, val);
}

#endif
