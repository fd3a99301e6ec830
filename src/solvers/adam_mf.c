/*
 * adam_mf.c — Adam (Kingma & Ba, ICLR 2015, Algorithm 1) for biased MF, one
 * rating at a time and lazily: a rating updates only the moments of the rows
 * it touches (b_u, b_i, p_u, q_i), as sparse Adam variants do; the bias
 * correction uses the global update count (step_base + position in the
 * epoch's order, so parallel callers need no shared counter). beta1 0.9,
 * beta2 0.999, eps 1e-8.
 * O(k) per rating plus two sqrt per parameter; moments O(params) memory.
 */
#include "mf_solvers.h"

#include "../kernels/kernels.h"

#include <math.h>

/* x -= lr * mhat / (sqrt(vhat) + eps) for one parameter with gradient g. */
static inline void fct_adam_param(float *x, float *mo, float *ve, float g, float lr_c1, float inv_c2)
{
    *mo = FACTO_ADAM_BETA1 * *mo + (1.0f - FACTO_ADAM_BETA1) * g;
    *ve = FACTO_ADAM_BETA2 * *ve + (1.0f - FACTO_ADAM_BETA2) * g * g;
    *x -= lr_c1 * *mo / (sqrtf(*ve * inv_c2) + FACTO_ADAM_EPS);
}

static inline double fct_adam_one(fct_mf_solver *s, fct_mf_model *m, float mu, int32_t u, int32_t i, float r,
                                    float lr, int64_t step)
{
    const int k = m->k;
    const float rf = s->reg_factors, rb = s->reg_bias;
    /* Bias corrections 1 - beta^t; beyond t = 30000 both are 1 in float. */
    float c1 = 1.0f, c2 = 1.0f;
    if (step < 30000) {
        c1 = (float)(1.0 - pow(FACTO_ADAM_BETA1, (double)step));
        c2 = (float)(1.0 - pow(FACTO_ADAM_BETA2, (double)step));
    }
    const float lr_c1 = lr / c1, inv_c2 = 1.0f / c2;
    size_t ou = (size_t)u * (size_t)k, oi = (size_t)i * (size_t)k;
    float *p = m->P + ou, *q = m->Q + oi;
    float *mp = s->m_P + ou, *mq = s->m_Q + oi, *vp = s->v_P + ou, *vq = s->v_Q + oi;
    float e = r - (mu + m->bu[u] + m->bi[i] + fct_dot(p, q, k));
    fct_adam_param(&m->bu[u], &s->m_bu[u], &s->v_bu[u], -e + rb * m->bu[u], lr_c1, inv_c2);
    fct_adam_param(&m->bi[i], &s->m_bi[i], &s->v_bi[i], -e + rb * m->bi[i], lr_c1, inv_c2);
    fct_kern.adam_pair(p, q, mp, mq, vp, vq, k, -e, rf, lr_c1, inv_c2, FACTO_ADAM_BETA1, FACTO_ADAM_BETA2,
                       FACTO_ADAM_EPS);
    return (double)e * (double)e;
}

double fct_mf_adam_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                         int64_t begin, int64_t end, float lr, int n_threads)
{
    const float mu = (float)m->mu;
    const int32_t *us = t->users, *is = t->items;
    const float *rs = t->ratings;
    const int64_t step0 = s->step_base;
    double sse = 0.0;
    if (n_threads <= 1) {
        for (int64_t x = begin; x < end; x++) {
            int64_t j = order[x];
            sse += fct_adam_one(s, m, mu, us[j], is[j], rs[j], lr, step0 + x + 1);
        }
    } else {
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : sse)
        for (int64_t x = begin; x < end; x++) {
            int64_t j = order[x];
            sse += fct_adam_one(s, m, mu, us[j], is[j], rs[j], lr, step0 + x + 1);
        }
    }
    return sse;
}
