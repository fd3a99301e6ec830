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

#include <math.h>

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

void fct_qbounds_scalar(const fct_qbounds *q, int32_t n, float *lo, float *hi)
{
    for (int32_t i = 0; i < n; i++) {
        const float a = (q->ts * q->scale[i]) * (float)(q->dots[i] - 128 * q->sumq[i]);
        const float base = (q->cu + q->bias[i]) + a;
        const float e = q->unf * q->A[i] + q->runf * q->B[i] + q->cuef + q->C[i];
        const float E = e * 1.001f + 0x1p-19f * (q->acu + fabsf(q->bias[i]) + fabsf(a)) + 1e-30f;
        lo[i] = base - E;
        hi[i] = base + E;
    }
}

void fct_quant_user_scalar(const float *u, int32_t k, int32_t kp, float t, uint8_t *w8, double *ru2, double *u2)
{
    double r2 = 0.0, v2 = 0.0;
    for (int32_t f = 0; f < kp; f++) {
        long w = 0;
        if (f < k) {
            w = t > 0.0f ? lrintf(u[f] / t) : 0;
            w = w > 127 ? 127 : w < -127 ? -127 : w;
            const double r = (double)u[f] - (double)t * (double)w;
            r2 += r * r;
            v2 += (double)u[f] * u[f];
        }
        w8[f] = (uint8_t)(w + 128);
    }
    *ru2 = r2;
    *u2 = v2;
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

__attribute__((target("avx512f"))) void fct_qbounds_avx512(const fct_qbounds *q, int32_t n, float *lo, float *hi)
{
    const __m512 ts = _mm512_set1_ps(q->ts), cu = _mm512_set1_ps(q->cu), unf = _mm512_set1_ps(q->unf),
                 runf = _mm512_set1_ps(q->runf), cuef = _mm512_set1_ps(q->cuef), acu = _mm512_set1_ps(q->acu),
                 k1001 = _mm512_set1_ps(1.001f), k19 = _mm512_set1_ps(0x1p-19f), tiny = _mm512_set1_ps(1e-30f);
    const __m512i c128 = _mm512_set1_epi32(128);
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i d = _mm512_sub_epi32(_mm512_loadu_si512((const void *)(q->dots + i)),
                                           _mm512_mullo_epi32(c128, _mm512_loadu_si512((const void *)(q->sumq + i))));
        const __m512 b = _mm512_loadu_ps(q->bias + i);
        const __m512 a = _mm512_mul_ps(_mm512_mul_ps(ts, _mm512_loadu_ps(q->scale + i)), _mm512_cvtepi32_ps(d));
        const __m512 base = _mm512_add_ps(_mm512_add_ps(cu, b), a);
        const __m512 e = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(unf, _mm512_loadu_ps(q->A + i)),
                                                                   _mm512_mul_ps(runf, _mm512_loadu_ps(q->B + i))),
                                                     cuef),
                                       _mm512_loadu_ps(q->C + i));
        const __m512 s = _mm512_add_ps(_mm512_add_ps(acu, _mm512_abs_ps(b)), _mm512_abs_ps(a));
        const __m512 E = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(e, k1001), _mm512_mul_ps(k19, s)), tiny);
        _mm512_storeu_ps(lo + i, _mm512_sub_ps(base, E));
        _mm512_storeu_ps(hi + i, _mm512_add_ps(base, E));
    }
    if (i < n) { /* the last few, by the same formula */
        fct_qbounds t = *q;
        t.dots += i;
        t.sumq += i;
        t.scale += i;
        t.bias += i;
        t.A += i;
        t.B += i;
        t.C += i;
        fct_qbounds_scalar(&t, n - i, lo + i, hi + i);
    }
}

__attribute__((target("avx512f"))) void fct_quant_user_avx512(const float *u, int32_t k, int32_t kp, float t,
                                                              uint8_t *w8, double *ru2, double *u2)
{
    const __m512 tv = _mm512_set1_ps(t);
    const __m512d td = _mm512_set1_pd((double)t);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), off = _mm512_set1_epi32(128);
    __m512d r2a = _mm512_setzero_pd(), r2b = r2a, v2a = r2a, v2b = r2a;
    int32_t f = 0;
    for (; f + 16 <= k; f += 16) {
        const __m512 x = _mm512_loadu_ps(u + f);
        /* round to nearest even, as lrintf in the default rounding mode */
        __m512i w = _mm512_cvt_roundps_epi32(_mm512_div_ps(x, tv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        w = _mm512_min_epi32(_mm512_max_epi32(w, lo), hi);
        _mm_storeu_si128((__m128i *)(w8 + f), _mm512_cvtepi32_epi8(_mm512_add_epi32(w, off)));
        const __m512d x0 = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
        const __m512d x1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
        const __m512d w0 = _mm512_cvtepi32_pd(_mm512_castsi512_si256(w));
        const __m512d w1 = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(w, 1));
        const __m512d r0 = _mm512_sub_pd(x0, _mm512_mul_pd(td, w0)), r1 = _mm512_sub_pd(x1, _mm512_mul_pd(td, w1));
        r2a = _mm512_add_pd(r2a, _mm512_mul_pd(r0, r0));
        r2b = _mm512_add_pd(r2b, _mm512_mul_pd(r1, r1));
        v2a = _mm512_add_pd(v2a, _mm512_mul_pd(x0, x0));
        v2b = _mm512_add_pd(v2b, _mm512_mul_pd(x1, x1));
    }
    double r2, v2;
    fct_quant_user_scalar(u + f, k - f, kp - f, t, w8 + f, &r2, &v2);
    *ru2 = _mm512_reduce_add_pd(_mm512_add_pd(r2a, r2b)) + r2;
    *u2 = _mm512_reduce_add_pd(_mm512_add_pd(v2a, v2b)) + v2;
}

#else

int fct_kernel_has_vnni512(void) { return 0; }

void fct_dots_u8s8_vnni(const uint8_t *u, const int8_t *Q, int32_t kp, int32_t n, int32_t *out)
{
    fct_dots_u8s8_scalar(u, Q, kp, n, out);
}

void fct_qbounds_avx512(const fct_qbounds *q, int32_t n, float *lo, float *hi) { fct_qbounds_scalar(q, n, lo, hi); }

void fct_quant_user_avx512(const float *u, int32_t k, int32_t kp, float t, uint8_t *w8, double *ru2, double *u2)
{
    fct_quant_user_scalar(u, k, kp, t, w8, ru2, u2);
}

#endif
