/*
 * fm_kernels.c — the two kernels of FM's fused SGD path (mini_batch_size 1,
 * optimizer sgd; kernels.h): the forward pass of one row and the SGD step
 * on its parameters (with and without clip_gradient). Each body is written
 * once, as an always-inline function over restrict pointers with float
 * sums per factor, so compilers vectorise every loop; it is compiled twice,
 * for the baseline ISA and for AVX2+FMA (target attribute), and the table
 * picks one. The sums run in the same order in both, so under gcc (no FP
 * contraction in ISO C) the two give the same bits; clang contracts
 * a * b + c inside one expression on the FMA build only (the gradient
 * element is a statement of its own, so clipping does not change which).
 * Cost O(k * n) per row, no memory beyond the caller's sum/sq [k].
 * Model: Rendle, "Factorization Machines", ICDM 2010, eqs. 5 and 7.
 */
#include "kernels.h"
#include "update.h"

#define FCT_INLINE static inline __attribute__((always_inline))

FCT_INLINE double fct_fm_score_body(float w0, const float *restrict w, const float *restrict V, int32_t k,
                                    const uint32_t *restrict slots, const float *restrict xs, int64_t n,
                                    float *restrict sum, float *restrict sq)
{
    for (int32_t f = 0; f < k; f++)
        sum[f] = sq[f] = 0.0f;
    float lin = w0;
    for (int64_t j = 0; j < n; j++) {
        const float x = xs[j];
        const float *restrict v = V + (int64_t)slots[j] * k;
        lin += w[slots[j]] * x;
        for (int32_t f = 0; f < k; f++) {
            const float t = v[f] * x;
            sum[f] += t;
            sq[f] += t * t;
        }
    }
    /* sum_f (sum_f^2 - sq_f) in 8 lanes, folded pairwise */
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t f = 0;
    for (; f + 8 <= k; f += 8)
        for (int l = 0; l < 8; l++)
            lanes[l] += sum[f + l] * sum[f + l] - sq[f + l];
    for (; f < k; f++)
        lanes[0] += sum[f] * sum[f] - sq[f];
    const float inter = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    return (double)lin + 0.5 * (double)inter;
}

FCT_INLINE void fct_fm_sgd_body(float *restrict w, float *restrict V, int32_t k, const uint32_t *restrict slots,
                                const float *restrict xs, int64_t n, const float *restrict sum, float g, float lr_w,
                                float wd_w, float lr_v, float wd_v, float clip, const int do_clip)
{
    for (int64_t j = 0; j < n; j++) {
        const uint32_t s = slots[j];
        const float x = xs[j], gx = g * x;
        w[s] = fct_sgd_elem(w[s], do_clip ? fct_clipf(gx, clip) : gx, lr_w, wd_w);
        float *restrict v = V + (int64_t)s * k;
        for (int32_t f = 0; f < k; f++) {
            float gf = gx * (sum[f] - v[f] * x);
            if (do_clip)
                gf = fct_clipf(gf, clip);
            v[f] = fct_sgd_elem(v[f], gf, lr_v, wd_v);
        }
    }
}

#define FCT_FM_SCORE_PARAMS                                                                                        \
    float w0, const float *w, const float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,         \
        float *sum, float *sq
#define FCT_FM_SGD_PARAMS                                                                                          \
    float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n, const float *sum, float g,   \
        float lr_w, float wd_w, float lr_v, float wd_v, float clip

double fct_fm_score_scalar(FCT_FM_SCORE_PARAMS) { return fct_fm_score_body(w0, w, V, k, slots, x, n, sum, sq); }

void fct_fm_sgd_scalar(FCT_FM_SGD_PARAMS)
{
    fct_fm_sgd_body(w, V, k, slots, x, n, sum, g, lr_w, wd_w, lr_v, wd_v, clip, 0);
}

void fct_fm_sgd_clip_scalar(FCT_FM_SGD_PARAMS)
{
    fct_fm_sgd_body(w, V, k, slots, x, n, sum, g, lr_w, wd_w, lr_v, wd_v, clip, 1);
}

#if defined(__x86_64__) || defined(__i386__)
#define FCT_AVX2 __attribute__((target("avx2,fma")))
#else
#define FCT_AVX2
#endif

FCT_AVX2 double fct_fm_score_avx2(FCT_FM_SCORE_PARAMS)
{
    return fct_fm_score_body(w0, w, V, k, slots, x, n, sum, sq);
}

FCT_AVX2 void fct_fm_sgd_avx2(FCT_FM_SGD_PARAMS)
{
    fct_fm_sgd_body(w, V, k, slots, x, n, sum, g, lr_w, wd_w, lr_v, wd_v, clip, 0);
}

FCT_AVX2 void fct_fm_sgd_clip_avx2(FCT_FM_SGD_PARAMS)
{
    fct_fm_sgd_body(w, V, k, slots, x, n, sum, g, lr_w, wd_w, lr_v, wd_v, clip, 1);
}
