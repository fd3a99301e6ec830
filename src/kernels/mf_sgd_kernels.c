/*
 * mf_sgd_kernels.c — the fused SGD step of biased MF on padded rows
 * (kernels.h mf_sgd_row), one body per instruction set: scalar (always
 * built, tested on every build), AVX2+FMA and AVX-512F, the latter two
 * compiled with __attribute__((target)) so the library runs on any x86-64;
 * the table takes the widest the CPU has, once, at start-up (kernels.c).
 *
 * A row is [x_0 .. x_{k-1} | b] (factors, then the bias) in one stride of
 * floats, so one update reads and writes one contiguous run of cache lines
 * per side. The step (Funk 2006; Koren, Bell & Volinsky 2009, "Learning
 * algorithms"), gradients from the old values:
 *   d   = (mu + b_u + b_i + <p, q>) - r         (returned)
 *   g   = w d                                   (per-rating weight w, 1 = none)
 *   b  <- b - lr (g + reg_b b)                  (update.h fct_sgd_elem)
 *   p  <- (1 - lr reg_f) p - (lr g) q,  q <- (1 - lr reg_f) q - (lr g) p
 * The scalar and vector bodies agree to rounding (another summation order
 * of the dot product, FMA). O(k) per call, no memory. The adaptive-rate
 * variant (mf_adagrad_row) is at the end of the file.
 */
#include "kernels.h"
#include "update.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_MFK_X86 1
#else
#define FACTO_MFK_X86 0
#endif

/* The part of the step every body shares once the dot product is known:
 * the error d (returned), g = w d into *g, and the two biases' steps. */
static inline float mfk_sgd_bias(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_b,
                                 float dot, float *g)
{
    const float d = (mu + p[k] + q[k] + dot) - r;
    *g = w * d;
    p[k] = fct_sgd_elem(p[k], *g, lr, reg_b);
    q[k] = fct_sgd_elem(q[k], *g, lr, reg_b);
    return d;
}

/* The adaptive body's shared part: d (returned), g, each row's rate from G
 * before this update (*ep, *eq), the biases' gradients squared (*sp, *sq)
 * and their steps. */
static inline float mfk_adagrad_bias(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_b,
                                     float dot, float *g, float *ep, float *eq, float *sp, float *sq)
{
    const float d = (mu + p[k] + q[k] + dot) - r;
    *g = w * d;
    *ep = lr / sqrtf(p[k + 1]);
    *eq = lr / sqrtf(q[k + 1]);
    const float gbp = *g + reg_b * p[k], gbq = *g + reg_b * q[k];
    *sp = gbp * gbp;
    *sq = gbq * gbq;
    p[k] -= *ep * gbp;
    q[k] -= *eq * gbq;
    return d;
}

float fct_mf_sgd_row_scalar(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                            float reg_b)
{
    float dot = 0.0f;
    for (int f = 0; f < k; f++)
        dot += p[f] * q[f];
    float g;
    const float d = mfk_sgd_bias(p, q, k, mu, r, w, lr, reg_b, dot, &g);
    const float shrink = 1.0f - lr * reg_f, step = -(lr * g);
    for (int f = 0; f < k; f++) {
        const float pf = p[f], qf = q[f];
        p[f] = shrink * pf + step * qf;
        q[f] = shrink * qf + step * pf;
    }
    return d;
}

#if FACTO_MFK_X86
__attribute__((target("avx2,fma"))) float fct_mf_sgd_row_avx2(float *p, float *q, int k, float mu, float r,
                                                              float w, float lr, float reg_f, float reg_b)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int f = 0;
    for (; f + 16 <= k; f += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p + f), _mm256_loadu_ps(q + f), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p + f + 8), _mm256_loadu_ps(q + f + 8), a1);
    }
    for (; f + 8 <= k; f += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p + f), _mm256_loadu_ps(q + f), a0);
    a0 = _mm256_add_ps(a0, a1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float dot = _mm_cvtss_f32(s);
    for (int t = f; t < k; t++)
        dot += p[t] * q[t];
    float g;
    const float d = mfk_sgd_bias(p, q, k, mu, r, w, lr, reg_b, dot, &g);
    const float shrink = 1.0f - lr * reg_f, step = -(lr * g);
    const __m256 vs = _mm256_set1_ps(shrink), ve = _mm256_set1_ps(step);
    f = 0;
    for (; f + 8 <= k; f += 8) {
        const __m256 vp = _mm256_loadu_ps(p + f), vq = _mm256_loadu_ps(q + f);
        _mm256_storeu_ps(p + f, _mm256_fmadd_ps(ve, vq, _mm256_mul_ps(vs, vp)));
        _mm256_storeu_ps(q + f, _mm256_fmadd_ps(ve, vp, _mm256_mul_ps(vs, vq)));
    }
    for (; f < k; f++) {
        const float pf = p[f], qf = q[f];
        p[f] = shrink * pf + step * qf;
        q[f] = shrink * qf + step * pf;
    }
    return d;
}

__attribute__((target("avx512f"))) float fct_mf_sgd_row_avx512(float *p, float *q, int k, float mu, float r,
                                                               float w, float lr, float reg_f, float reg_b)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int f = 0;
    for (; f + 32 <= k; f += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p + f), _mm512_loadu_ps(q + f), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(p + f + 16), _mm512_loadu_ps(q + f + 16), a1);
    }
    for (; f + 16 <= k; f += 16)
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p + f), _mm512_loadu_ps(q + f), a0);
    const int tail = k - f; /* 0..15 factors; the bias at k stays out of the masks */
    const __mmask16 m = (__mmask16)((1u << tail) - 1u);
    if (tail)
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p + f), _mm512_maskz_loadu_ps(m, q + f), a1);
    const float dot = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    float g;
    const float d = mfk_sgd_bias(p, q, k, mu, r, w, lr, reg_b, dot, &g);
    const float shrink = 1.0f - lr * reg_f, step = -(lr * g);
    const __m512 vs = _mm512_set1_ps(shrink), ve = _mm512_set1_ps(step);
    f = 0;
    for (; f + 16 <= k; f += 16) {
        const __m512 vp = _mm512_loadu_ps(p + f), vq = _mm512_loadu_ps(q + f);
        _mm512_storeu_ps(p + f, _mm512_fmadd_ps(ve, vq, _mm512_mul_ps(vs, vp)));
        _mm512_storeu_ps(q + f, _mm512_fmadd_ps(ve, vp, _mm512_mul_ps(vs, vq)));
    }
    if (tail) {
        const __m512 vp = _mm512_maskz_loadu_ps(m, p + f), vq = _mm512_maskz_loadu_ps(m, q + f);
        _mm512_mask_storeu_ps(p + f, m, _mm512_fmadd_ps(ve, vq, _mm512_mul_ps(vs, vp)));
        _mm512_mask_storeu_ps(q + f, m, _mm512_fmadd_ps(ve, vp, _mm512_mul_ps(vs, vq)));
    }
    return d;
}
#else
float fct_mf_sgd_row_avx2(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f, float reg_b)
{
    return fct_mf_sgd_row_scalar(p, q, k, mu, r, w, lr, reg_f, reg_b);
}
float fct_mf_sgd_row_avx512(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                            float reg_b)
{
    return fct_mf_sgd_row_scalar(p, q, k, mu, r, w, lr, reg_f, reg_b);
}
#endif

/*
 * The same step with a per-row adaptive learning rate (Chin, Zhuang, Juan &
 * Lin, "A learning-rate schedule for stochastic gradient methods to matrix
 * factorization", PAKDD 2015: AdaGrad, Duchi, Hazan & Singer 2011, with one
 * accumulator per row instead of one per variable). Rows are [x | b | G]:
 * G (at k + 1) sums, over the row's updates so far, the mean over the k + 1
 * entries of the squared gradient. With the gradients of the old values
 *   gb = g + reg_b b,  gx_f = g y_f + reg_f x_f        (y the other row)
 * each row steps at its own rate, from G before this update, then adds:
 *   b <- b - (lr / sqrt(G)) gb,  x <- x - (lr / sqrt(G)) gx,
 *   G <- G + (gb^2 + sum_f gx_f^2) / (k + 1).
 * G must be positive (the solver starts it at 1). Returns d as above.
 */
float fct_mf_adagrad_row_scalar(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                                float reg_b)
{
    float dot = 0.0f;
    for (int f = 0; f < k; f++)
        dot += p[f] * q[f];
    float g, ep, eq, sp, sq;
    const float d = mfk_adagrad_bias(p, q, k, mu, r, w, lr, reg_b, dot, &g, &ep, &eq, &sp, &sq);
    for (int f = 0; f < k; f++) {
        const float pf = p[f], qf = q[f];
        const float gp = g * qf + reg_f * pf, gq = g * pf + reg_f * qf;
        sp += gp * gp;
        sq += gq * gq;
        p[f] = pf - ep * gp;
        q[f] = qf - eq * gq;
    }
    const float inv = 1.0f / (float)(k + 1);
    p[k + 1] += sp * inv;
    q[k + 1] += sq * inv;
    return d;
}

#if FACTO_MFK_X86
__attribute__((target("avx2,fma"))) static inline float fct_mfk_hsum256(__m256 a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float fct_mf_adagrad_row_avx2(float *p, float *q, int k, float mu, float r,
                                                                  float w, float lr, float reg_f, float reg_b)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int f = 0;
    for (; f + 16 <= k; f += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p + f), _mm256_loadu_ps(q + f), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p + f + 8), _mm256_loadu_ps(q + f + 8), a1);
    }
    for (; f + 8 <= k; f += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p + f), _mm256_loadu_ps(q + f), a0);
    float dot = fct_mfk_hsum256(_mm256_add_ps(a0, a1));
    for (int t = f; t < k; t++)
        dot += p[t] * q[t];
    float g, ep, eq, sp, sq;
    const float d = mfk_adagrad_bias(p, q, k, mu, r, w, lr, reg_b, dot, &g, &ep, &eq, &sp, &sq);
    const __m256 vg = _mm256_set1_ps(g), vr = _mm256_set1_ps(reg_f);
    const __m256 vep = _mm256_set1_ps(-ep), veq = _mm256_set1_ps(-eq);
    __m256 ap = _mm256_setzero_ps(), aq = _mm256_setzero_ps();
    f = 0;
    for (; f + 8 <= k; f += 8) {
        const __m256 vp = _mm256_loadu_ps(p + f), vq = _mm256_loadu_ps(q + f);
        const __m256 gp = _mm256_fmadd_ps(vg, vq, _mm256_mul_ps(vr, vp));
        const __m256 gq = _mm256_fmadd_ps(vg, vp, _mm256_mul_ps(vr, vq));
        ap = _mm256_fmadd_ps(gp, gp, ap);
        aq = _mm256_fmadd_ps(gq, gq, aq);
        _mm256_storeu_ps(p + f, _mm256_fmadd_ps(vep, gp, vp));
        _mm256_storeu_ps(q + f, _mm256_fmadd_ps(veq, gq, vq));
    }
    for (; f < k; f++) {
        const float pf = p[f], qf = q[f];
        const float gp = g * qf + reg_f * pf, gq = g * pf + reg_f * qf;
        sp += gp * gp;
        sq += gq * gq;
        p[f] = pf - ep * gp;
        q[f] = qf - eq * gq;
    }
    sp += fct_mfk_hsum256(ap);
    sq += fct_mfk_hsum256(aq);
    const float inv = 1.0f / (float)(k + 1);
    p[k + 1] += sp * inv;
    q[k + 1] += sq * inv;
    return d;
}

__attribute__((target("avx512f"))) float fct_mf_adagrad_row_avx512(float *p, float *q, int k, float mu, float r,
                                                                   float w, float lr, float reg_f, float reg_b)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int f = 0;
    for (; f + 32 <= k; f += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p + f), _mm512_loadu_ps(q + f), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(p + f + 16), _mm512_loadu_ps(q + f + 16), a1);
    }
    for (; f + 16 <= k; f += 16)
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p + f), _mm512_loadu_ps(q + f), a0);
    const int tail = k - f; /* 0..15 factors; the bias and G after them stay out of the masks */
    const __mmask16 m = (__mmask16)((1u << tail) - 1u);
    if (tail)
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, p + f), _mm512_maskz_loadu_ps(m, q + f), a1);
    const float dot = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    float g, ep, eq, sbp, sbq;
    const float d = mfk_adagrad_bias(p, q, k, mu, r, w, lr, reg_b, dot, &g, &ep, &eq, &sbp, &sbq);
    const __m512 vg = _mm512_set1_ps(g), vr = _mm512_set1_ps(reg_f);
    const __m512 vep = _mm512_set1_ps(-ep), veq = _mm512_set1_ps(-eq);
    __m512 ap = _mm512_setzero_ps(), aq = _mm512_setzero_ps();
    f = 0;
    for (; f + 16 <= k; f += 16) {
        const __m512 vp = _mm512_loadu_ps(p + f), vq = _mm512_loadu_ps(q + f);
        const __m512 gp = _mm512_fmadd_ps(vg, vq, _mm512_mul_ps(vr, vp));
        const __m512 gq = _mm512_fmadd_ps(vg, vp, _mm512_mul_ps(vr, vq));
        ap = _mm512_fmadd_ps(gp, gp, ap);
        aq = _mm512_fmadd_ps(gq, gq, aq);
        _mm512_storeu_ps(p + f, _mm512_fmadd_ps(vep, gp, vp));
        _mm512_storeu_ps(q + f, _mm512_fmadd_ps(veq, gq, vq));
    }
    if (tail) { /* masked-off lanes load 0, so their gradients square to 0 */
        const __m512 vp = _mm512_maskz_loadu_ps(m, p + f), vq = _mm512_maskz_loadu_ps(m, q + f);
        const __m512 gp = _mm512_fmadd_ps(vg, vq, _mm512_mul_ps(vr, vp));
        const __m512 gq = _mm512_fmadd_ps(vg, vp, _mm512_mul_ps(vr, vq));
        ap = _mm512_fmadd_ps(gp, gp, ap);
        aq = _mm512_fmadd_ps(gq, gq, aq);
        _mm512_mask_storeu_ps(p + f, m, _mm512_fmadd_ps(vep, gp, vp));
        _mm512_mask_storeu_ps(q + f, m, _mm512_fmadd_ps(veq, gq, vq));
    }
    const float inv = 1.0f / (float)(k + 1);
    p[k + 1] += (sbp + _mm512_reduce_add_ps(ap)) * inv;
    q[k + 1] += (sbq + _mm512_reduce_add_ps(aq)) * inv;
    return d;
}
#else
float fct_mf_adagrad_row_avx2(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                              float reg_b)
{
    return fct_mf_adagrad_row_scalar(p, q, k, mu, r, w, lr, reg_f, reg_b);
}
float fct_mf_adagrad_row_avx512(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                                float reg_b)
{
    return fct_mf_adagrad_row_scalar(p, q, k, mu, r, w, lr, reg_f, reg_b);
}
#endif
