/*
 * step_kernels.c — the optimizer steps that run on vectors (kernels.h):
 * MF's fused SGD and Adam steps on a (p_u, q_i) pair and Adam's and
 * AdaGrad's steps on one row of FM parameters, scalar and AVX2. Only the
 * optimizer module (src/solvers/optim.c) calls them.
 * The scalar versions (and every AVX2 tail) apply update.h's formulas; the
 * AVX2 Adam and AdaGrad row steps repeat them with intrinsics in the same
 * order (same bits under gcc). The pair steps predate that: the SGD pair
 * is the (1 - lr reg) p - (lr d) q form with an FMA on AVX2, and the AVX2
 * Adam pair forms (1 - b2) (g g), so both agree with their scalar twins to
 * rounding only (kept: they give MF's results). Built with
 * __attribute__((target)), so the library runs on CPUs without AVX2.
 * O(n) per call, no memory.
 */
#include "kernels.h"
#include "update.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACTO_STEP_X86 1
#else
#define FACTO_STEP_X86 0
#endif

/* ---- scalar ------------------------------------------------------------ */

void fct_sgd_pair_scalar(float *p, float *q, int n, float d, float lr, float reg)
{
    const float shrink = 1.0f - lr * reg, step = -(lr * d);
    for (int f = 0; f < n; f++) {
        float pf = p[f], qf = q[f];
        p[f] = shrink * pf + step * qf;
        q[f] = shrink * qf + step * pf;
    }
}

void fct_adam_pair_scalar(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float d,
                          float reg, float a, float c, float b1, float b2, float eps)
{
    for (int f = 0; f < n; f++) {
        const float pf = p[f], qf = q[f];
        fct_adam_elem(&p[f], &mp[f], &vp[f], d * qf, reg, b1, b2, a, c, eps);
        fct_adam_elem(&q[f], &mq[f], &vq[f], d * pf, reg, b1, b2, a, c, eps);
    }
}

void fct_adam_scalar(float *x, float *m, float *v, const float *g, int32_t n, float wd, float b1, float b2,
                     float a, float c, float eps)
{
    for (int32_t i = 0; i < n; i++)
        fct_adam_elem(&x[i], &m[i], &v[i], g[i], wd, b1, b2, a, c, eps);
}

void fct_adagrad_scalar(float *x, float *h, const float *g, int32_t n, float wd, float lr, float eps)
{
    for (int32_t i = 0; i < n; i++)
        fct_adagrad_elem(&x[i], &h[i], g[i], lr, wd, eps);
}

/* ---- AVX2 -------------------------------------------------------------- */

#if FACTO_STEP_X86
__attribute__((target("avx2,fma"))) void fct_sgd_pair_avx2(float *p, float *q, int n, float d, float lr,
                                                           float reg)
{
    const float shrink = 1.0f - lr * reg, step = -(lr * d);
    const __m256 vs = _mm256_set1_ps(shrink), ve = _mm256_set1_ps(step);
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
                                                            float *vq, int n, float d, float reg, float a,
                                                            float c, float b1, float b2, float eps)
{
    const __m256 vd = _mm256_set1_ps(d), vr = _mm256_set1_ps(reg), vb1 = _mm256_set1_ps(b1),
                 vb1c = _mm256_set1_ps(1.0f - b1), vb2 = _mm256_set1_ps(b2), vb2c = _mm256_set1_ps(1.0f - b2),
                 va = _mm256_set1_ps(a), vc = _mm256_set1_ps(c), veps = _mm256_set1_ps(eps);
    int f = 0;
    for (; f + 8 <= n; f += 8) {
        __m256 pf = _mm256_loadu_ps(p + f), qf = _mm256_loadu_ps(q + f);
        __m256 gp = _mm256_add_ps(_mm256_mul_ps(vd, qf), _mm256_mul_ps(vr, pf));
        __m256 gq = _mm256_add_ps(_mm256_mul_ps(vd, pf), _mm256_mul_ps(vr, qf));
        __m256 m1 = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(mp + f)), _mm256_mul_ps(vb1c, gp));
        __m256 m2 = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(mq + f)), _mm256_mul_ps(vb1c, gq));
        __m256 v1 = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(vp + f)),
                                  _mm256_mul_ps(vb2c, _mm256_mul_ps(gp, gp)));
        __m256 v2 = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(vq + f)),
                                  _mm256_mul_ps(vb2c, _mm256_mul_ps(gq, gq)));
        _mm256_storeu_ps(mp + f, m1);
        _mm256_storeu_ps(mq + f, m2);
        _mm256_storeu_ps(vp + f, v1);
        _mm256_storeu_ps(vq + f, v2);
        __m256 d1 = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(v1, vc)), veps);
        __m256 d2 = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(v2, vc)), veps);
        _mm256_storeu_ps(p + f, _mm256_sub_ps(pf, _mm256_div_ps(_mm256_mul_ps(va, m1), d1)));
        _mm256_storeu_ps(q + f, _mm256_sub_ps(qf, _mm256_div_ps(_mm256_mul_ps(va, m2), d2)));
    }
    if (f < n)
        fct_adam_pair_scalar(p + f, q + f, mp + f, mq + f, vp + f, vq + f, n - f, d, reg, a, c, b1, b2, eps);
}

/* The row steps use AVX2 without FMA: the same multiplications, additions,
 * divisions and square roots as the scalar formulas, rounded the same way
 * (what a compiler's own vectorisation of the scalar loops would also give). */
__attribute__((target("avx2"))) void fct_adam_avx2(float *x, float *m, float *v, const float *g, int32_t n, float wd,
                                                   float b1, float b2, float a, float c, float eps)
{
    const __m256 vwd = _mm256_set1_ps(wd), vb1 = _mm256_set1_ps(b1), vc1 = _mm256_set1_ps(1.0f - b1);
    const __m256 vb2 = _mm256_set1_ps(b2), vc2 = _mm256_set1_ps(1.0f - b2), va = _mm256_set1_ps(a);
    const __m256 vc = _mm256_set1_ps(c), veps = _mm256_set1_ps(eps);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 th = _mm256_loadu_ps(x + i);
        __m256 gi = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(vwd, th));
        __m256 m1 = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(vc1, gi));
        __m256 m2 = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(vc2, gi), gi));
        _mm256_storeu_ps(m + i, m1);
        _mm256_storeu_ps(v + i, m2);
        __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(m2, vc)), veps);
        _mm256_storeu_ps(x + i, _mm256_sub_ps(th, _mm256_div_ps(_mm256_mul_ps(va, m1), den)));
    }
    for (; i < n; i++)
        fct_adam_elem(&x[i], &m[i], &v[i], g[i], wd, b1, b2, a, c, eps);
}

__attribute__((target("avx2"))) void fct_adagrad_avx2(float *x, float *h, const float *g, int32_t n, float wd,
                                                      float lr, float eps)
{
    const __m256 vwd = _mm256_set1_ps(wd), vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 th = _mm256_loadu_ps(x + i);
        __m256 gi = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(vwd, th));
        __m256 hh = _mm256_add_ps(_mm256_loadu_ps(h + i), _mm256_mul_ps(gi, gi));
        _mm256_storeu_ps(h + i, hh);
        th = _mm256_sub_ps(th, _mm256_div_ps(_mm256_mul_ps(vlr, gi), _mm256_add_ps(_mm256_sqrt_ps(hh), veps)));
        _mm256_storeu_ps(x + i, th);
    }
    for (; i < n; i++)
        fct_adagrad_elem(&x[i], &h[i], g[i], lr, wd, eps);
}
#else
void fct_sgd_pair_avx2(float *p, float *q, int n, float d, float lr, float reg)
{
    fct_sgd_pair_scalar(p, q, n, d, lr, reg);
}
void fct_adam_pair_avx2(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float d, float reg,
                        float a, float c, float b1, float b2, float eps)
{
    fct_adam_pair_scalar(p, q, mp, mq, vp, vq, n, d, reg, a, c, b1, b2, eps);
}
void fct_adam_avx2(float *x, float *m, float *v, const float *g, int32_t n, float wd, float b1, float b2, float a,
                   float c, float eps)
{
    fct_adam_scalar(x, m, v, g, n, wd, b1, b2, a, c, eps);
}
void fct_adagrad_avx2(float *x, float *h, const float *g, int32_t n, float wd, float lr, float eps)
{
    fct_adagrad_scalar(x, h, g, n, wd, lr, eps);
}
#endif
