/*
 * dot.c — dot, axpy and the fused MF SGD and Adam steps, scalar and
 * AVX2+FMA. The AVX2 versions work on 8 floats a step (two accumulators for
 * dot) and finish the tail in scalar code; they are compiled with __attribute__((target)) so the
 * library still runs on CPUs without AVX2. The path is detected once and kept
 * in an atomic int; each call costs one relaxed load plus O(n) arithmetic.
 */
#include "kernels.h"

#include <math.h>
#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_HAVE_X86 1
#else
#define FACTO_HAVE_X86 0
#endif

/* -1 = not yet detected, else a fct_kernel_path. */
static atomic_int fct_kernel_current = -1;

fct_kernel_path fct_kernel_path_detect(void)
{
#if FACTO_HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return FACTO_KERNEL_AVX2;
#endif
    return FACTO_KERNEL_SCALAR;
}

fct_kernel_path fct_kernel_path_get(void)
{
    int p = atomic_load_explicit(&fct_kernel_current, memory_order_relaxed);
    if (p < 0) {
        p = (int)fct_kernel_path_detect();
        atomic_store_explicit(&fct_kernel_current, p, memory_order_relaxed);
    }
    return (fct_kernel_path)p;
}

void fct_kernel_path_set(fct_kernel_path path)
{
    if (path == FACTO_KERNEL_AVX2 && fct_kernel_path_detect() != FACTO_KERNEL_AVX2)
        path = FACTO_KERNEL_SCALAR;
    atomic_store_explicit(&fct_kernel_current, (int)path, memory_order_relaxed);
}

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

void fct_sgd_pair_scalar(float *p, float *q, int n, float err, float lr, float reg)
{
    const float shrink = 1.0f - lr * reg, step = lr * err;
    for (int f = 0; f < n; f++) {
        float pf = p[f], qf = q[f];
        p[f] = shrink * pf + step * qf;
        q[f] = shrink * qf + step * pf;
    }
}

void fct_adam_pair_scalar(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float err,
                            float reg, float lr_c1, float inv_c2, float b1, float b2, float eps)
{
    for (int f = 0; f < n; f++) {
        float pf = p[f], qf = q[f];
        float gp = reg * pf - err * qf, gq = reg * qf - err * pf;
        mp[f] = b1 * mp[f] + (1.0f - b1) * gp;
        mq[f] = b1 * mq[f] + (1.0f - b1) * gq;
        vp[f] = b2 * vp[f] + (1.0f - b2) * gp * gp;
        vq[f] = b2 * vq[f] + (1.0f - b2) * gq * gq;
        p[f] = pf - lr_c1 * mp[f] / (sqrtf(vp[f] * inv_c2) + eps);
        q[f] = qf - lr_c1 * mq[f] / (sqrtf(vq[f] * inv_c2) + eps);
    }
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

__attribute__((target("avx2,fma"))) void fct_sgd_pair_avx2(float *p, float *q, int n, float err, float lr,
                                                               float reg)
{
    /* p' = p * (1 - lr reg) + (lr err) q, and the same for q. */
    const float shrink = 1.0f - lr * reg, step = lr * err;
    __m256 vs = _mm256_set1_ps(shrink), ve = _mm256_set1_ps(step);
    int f = 0;
    for (; f + 8 <= n; f += 8) {
        __m256 vp = _mm256_loadu_ps(p + f), vq = _mm256_loadu_ps(q + f);
        _mm256_storeu_ps(p + f, _mm256_fmadd_ps(ve, vq, _mm256_mul_ps(vs, vp)));
        _mm256_storeu_ps(q + f, _mm256_fmadd_ps(ve, vp, _mm256_mul_ps(vs, vq)));
    }
    for (; f < n; f++) {
        float pf = p[f], qf = q[f];
        p[f] = shrink * pf + step * qf;
        q[f] = shrink * qf + step * pf;
    }
}
__attribute__((target("avx2,fma"))) void fct_adam_pair_avx2(float *p, float *q, float *mp, float *mq, float *vp,
                                                                float *vq, int n, float err, float reg, float lr_c1,
                                                                float inv_c2, float b1, float b2, float eps)
{
    const __m256 ve = _mm256_set1_ps(err), vr = _mm256_set1_ps(reg), vb1 = _mm256_set1_ps(b1),
                 vb1c = _mm256_set1_ps(1.0f - b1), vb2 = _mm256_set1_ps(b2), vb2c = _mm256_set1_ps(1.0f - b2),
                 vlr = _mm256_set1_ps(lr_c1), vc2 = _mm256_set1_ps(inv_c2), veps = _mm256_set1_ps(eps);
    int f = 0;
    for (; f + 8 <= n; f += 8) {
        __m256 pf = _mm256_loadu_ps(p + f), qf = _mm256_loadu_ps(q + f);
        __m256 gp = _mm256_sub_ps(_mm256_mul_ps(vr, pf), _mm256_mul_ps(ve, qf));
        __m256 gq = _mm256_sub_ps(_mm256_mul_ps(vr, qf), _mm256_mul_ps(ve, pf));
        __m256 m1 = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(mp + f)), _mm256_mul_ps(vb1c, gp));
        __m256 m2 = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(mq + f)), _mm256_mul_ps(vb1c, gq));
        __m256 v1 = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(vp + f)), _mm256_mul_ps(vb2c, _mm256_mul_ps(gp, gp)));
        __m256 v2 = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(vq + f)), _mm256_mul_ps(vb2c, _mm256_mul_ps(gq, gq)));
        _mm256_storeu_ps(mp + f, m1);
        _mm256_storeu_ps(mq + f, m2);
        _mm256_storeu_ps(vp + f, v1);
        _mm256_storeu_ps(vq + f, v2);
        __m256 d1 = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(v1, vc2)), veps);
        __m256 d2 = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(v2, vc2)), veps);
        _mm256_storeu_ps(p + f, _mm256_sub_ps(pf, _mm256_div_ps(_mm256_mul_ps(vlr, m1), d1)));
        _mm256_storeu_ps(q + f, _mm256_sub_ps(qf, _mm256_div_ps(_mm256_mul_ps(vlr, m2), d2)));
    }
    if (f < n)
        fct_adam_pair_scalar(p + f, q + f, mp + f, mq + f, vp + f, vq + f, n - f, err, reg, lr_c1, inv_c2, b1, b2,
                               eps);
}
#else
float fct_dot_avx2(const float *a, const float *b, int n) { return fct_dot_scalar(a, b, n); }
void fct_axpy_avx2(float alpha, const float *x, float *y, int n) { fct_axpy_scalar(alpha, x, y, n); }
void fct_sgd_pair_avx2(float *p, float *q, int n, float err, float lr, float reg)
{
    fct_sgd_pair_scalar(p, q, n, err, lr, reg);
}
void fct_adam_pair_avx2(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float err,
                          float reg, float lr_c1, float inv_c2, float b1, float b2, float eps)
{
    fct_adam_pair_scalar(p, q, mp, mq, vp, vq, n, err, reg, lr_c1, inv_c2, b1, b2, eps);
}
#endif

/* ---- dispatch ------------------------------------------------------------ */

float fct_dot(const float *a, const float *b, int n)
{
    return fct_kernel_path_get() == FACTO_KERNEL_AVX2 ? fct_dot_avx2(a, b, n) : fct_dot_scalar(a, b, n);
}

void fct_axpy(float alpha, const float *x, float *y, int n)
{
    if (fct_kernel_path_get() == FACTO_KERNEL_AVX2)
        fct_axpy_avx2(alpha, x, y, n);
    else
        fct_axpy_scalar(alpha, x, y, n);
}

void fct_sgd_pair(float *p, float *q, int n, float err, float lr, float reg)
{
    if (fct_kernel_path_get() == FACTO_KERNEL_AVX2)
        fct_sgd_pair_avx2(p, q, n, err, lr, reg);
    else
        fct_sgd_pair_scalar(p, q, n, err, lr, reg);
}

void fct_adam_pair(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float err, float reg,
                     float lr_c1, float inv_c2, float b1, float b2, float eps)
{
    if (fct_kernel_path_get() == FACTO_KERNEL_AVX2)
        fct_adam_pair_avx2(p, q, mp, mq, vp, vq, n, err, reg, lr_c1, inv_c2, b1, b2, eps);
    else
        fct_adam_pair_scalar(p, q, mp, mq, vp, vq, n, err, reg, lr_c1, inv_c2, b1, b2, eps);
}
