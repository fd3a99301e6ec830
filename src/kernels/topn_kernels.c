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

/*
 * Dot products of one uint8 vector with n int8 rows (the quantized
 * prefilter of one-user top-N, eval/recommend.c): out[i] = sum_f u[f]
 * Q[i kp + f] for f < kp, kp a multiple of 64. Integer sums, so every path
 * gives the same values; no overflow while kp < 2^16 (255 x 128 x kp
 * < 2^31).
 */
void fct_dots_u8s8_scalar(const uint8_t *u, const int8_t *Q, int32_t kp, int32_t n, int32_t *out)
{
    for (int32_t i = 0; i < n; i++) {
        const int8_t *q = Q + (int64_t)i * kp;
        int32_t s = 0;
        for (int32_t f = 0; f < kp; f++)
            s += (int32_t)u[f] * q[f];
        out[i] = s;
    }
}

#if FACTO_TOPN_X86

int fct_kernel_has_vnni512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void fct_dots_u8s8_vnni(const uint8_t *u, const int8_t *Q,
                                                                                int32_t kp, int32_t n, int32_t *out)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int8_t *q = Q + (int64_t)i * kp;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (int32_t f = 0; f < kp; f += 64) {
            const __m512i uv = _mm512_loadu_si512((const void *)(u + f));
            a0 = _mm512_dpbusd_epi32(a0, uv, _mm512_loadu_si512((const void *)(q + f)));
            a1 = _mm512_dpbusd_epi32(a1, uv, _mm512_loadu_si512((const void *)(q + kp + f)));
            a2 = _mm512_dpbusd_epi32(a2, uv, _mm512_loadu_si512((const void *)(q + 2 * (int64_t)kp + f)));
            a3 = _mm512_dpbusd_epi32(a3, uv, _mm512_loadu_si512((const void *)(q + 3 * (int64_t)kp + f)));
        }
        out[i] = _mm512_reduce_add_epi32(a0);
        out[i + 1] = _mm512_reduce_add_epi32(a1);
        out[i + 2] = _mm512_reduce_add_epi32(a2);
        out[i + 3] = _mm512_reduce_add_epi32(a3);
    }
    for (; i < n; i++) {
        const int8_t *q = Q + (int64_t)i * kp;
        __m512i a0 = _mm512_setzero_si512();
        for (int32_t f = 0; f < kp; f += 64)
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512((const void *)(u + f)),
                                     _mm512_loadu_si512((const void *)(q + f)));
        out[i] = _mm512_reduce_add_epi32(a0);
    }
}

#else

int fct_kernel_has_vnni512(void) { return 0; }

void fct_dots_u8s8_vnni(const uint8_t *u, const int8_t *Q, int32_t kp, int32_t n, int32_t *out)
{
    fct_dots_u8s8_scalar(u, Q, kp, n, out);
}

#endif
