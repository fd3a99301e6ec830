/*
 * sgd_mf.c — per-rating stochastic gradient descent for biased MF (Funk 2006;
 * Koren, Bell & Volinsky 2009, section "Learning algorithms"): for each rating
 * in the given (shuffled) order, e = r - r^, then b_u, b_i, p_u, q_i each take
 * a step along the negative gradient of 0.5 e^2 + L2 terms. Optional heavy-ball
 * momentum (Polyak 1964) keeps a velocity per parameter. Also hosts the solver
 * state shared with Adam. O(k) per rating; momentum/Adam state O(params).
 */
#include "mf_solvers.h"

#include "../kernels/kernels.h"

#include <string.h>

static void fct_mf_solver_free_arrays(fct_mf_solver *s)
{
    fct_aligned_free(s->m_bu);
    fct_aligned_free(s->m_bi);
    fct_aligned_free(s->m_P);
    fct_aligned_free(s->m_Q);
    fct_aligned_free(s->v_bu);
    fct_aligned_free(s->v_bi);
    fct_aligned_free(s->v_P);
    fct_aligned_free(s->v_Q);
}

static float *fct_zeroed(size_t n)
{
    if (n > SIZE_MAX / sizeof(float))
        return NULL;
    float *a = fct_aligned_alloc(n * sizeof(float));
    if (a)
        memset(a, 0, n * sizeof(float));
    return a;
}

fct_mf_solver *fct_mf_solver_new(const fct_mf_model *m, const facto_mf_params *hp)
{
    fct_mf_solver *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->optimizer = hp->optimizer;
    s->momentum = hp->optimizer == FACTO_OPT_SGD ? hp->momentum : 0.0f;
    s->reg_factors = hp->reg_factors;
    s->reg_bias = hp->reg_bias;
    size_t nu = (size_t)m->n_users, ni = (size_t)m->n_items, k = (size_t)m->k;
    int first = s->optimizer == FACTO_OPT_ADAM || s->momentum > 0.0f;
    int second = s->optimizer == FACTO_OPT_ADAM;
    if (first) {
        s->m_bu = fct_zeroed(nu);
        s->m_bi = fct_zeroed(ni);
        s->m_P = fct_zeroed(nu * k);
        s->m_Q = fct_zeroed(ni * k);
        if (!s->m_bu || !s->m_bi || !s->m_P || !s->m_Q)
            goto fail;
    }
    if (second) {
        s->v_bu = fct_zeroed(nu);
        s->v_bi = fct_zeroed(ni);
        s->v_P = fct_zeroed(nu * k);
        s->v_Q = fct_zeroed(ni * k);
        if (!s->v_bu || !s->v_bi || !s->v_P || !s->v_Q)
            goto fail;
    }
    return s;
fail:
    fct_mf_solver_free_arrays(s);
    free(s);
    return NULL;
}

void fct_mf_solver_free(fct_mf_solver *s)
{
    if (!s)
        return;
    fct_mf_solver_free_arrays(s);
    free(s);
}

double fct_mf_solver_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                           int64_t begin, int64_t end, float lr, int n_threads)
{
    if (s->optimizer == FACTO_OPT_ADAM)
        return fct_mf_adam_run(s, m, t, order, begin, end, lr, n_threads);
    return fct_mf_sgd_run(s, m, t, order, begin, end, lr, n_threads);
}

/* One rating: plain SGD. Returns e^2 (before the update). */
static inline double fct_sgd_one(const fct_mf_solver *s, fct_mf_model *m, float mu, int32_t u, int32_t i,
                                   float r, float lr)
{
    const int k = m->k;
    float *p = m->P + (size_t)u * (size_t)k, *q = m->Q + (size_t)i * (size_t)k;
    float e = r - (mu + m->bu[u] + m->bi[i] + fct_dot(p, q, k));
    m->bu[u] += lr * (e - s->reg_bias * m->bu[u]);
    m->bi[i] += lr * (e - s->reg_bias * m->bi[i]);
    fct_kern.sgd_pair(p, q, k, -e, lr, s->reg_factors);
    return (double)e * (double)e;
}

/* One rating: heavy-ball momentum, v <- beta v - lr g, x <- x + v. */
static inline double fct_momentum_one(fct_mf_solver *s, fct_mf_model *m, float mu, int32_t u, int32_t i,
                                        float r, float lr)
{
    const int k = m->k;
    const float beta = s->momentum, rf = s->reg_factors, rb = s->reg_bias;
    size_t ou = (size_t)u * (size_t)k, oi = (size_t)i * (size_t)k;
    float *p = m->P + ou, *q = m->Q + oi, *vp = s->m_P + ou, *vq = s->m_Q + oi;
    float e = r - (mu + m->bu[u] + m->bi[i] + fct_dot(p, q, k));
    s->m_bu[u] = beta * s->m_bu[u] + lr * (e - rb * m->bu[u]);
    s->m_bi[i] = beta * s->m_bi[i] + lr * (e - rb * m->bi[i]);
    m->bu[u] += s->m_bu[u];
    m->bi[i] += s->m_bi[i];
    for (int f = 0; f < k; f++) {
        float pf = p[f], qf = q[f];
        vp[f] = beta * vp[f] + lr * (e * qf - rf * pf);
        vq[f] = beta * vq[f] + lr * (e * pf - rf * qf);
        p[f] = pf + vp[f];
        q[f] = qf + vq[f];
    }
    return (double)e * (double)e;
}

double fct_mf_sgd_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                        int64_t begin, int64_t end, float lr, int n_threads)
{
    const float mu = (float)m->mu;
    const int32_t *us = t->users, *is = t->items;
    const float *rs = t->ratings;
    double sse = 0.0;
    const int mom = s->momentum > 0.0f;
    if (n_threads <= 1) {
        for (int64_t x = begin; x < end; x++) {
            int64_t j = order[x];
            sse += mom ? fct_momentum_one(s, m, mu, us[j], is[j], rs[j], lr)
                       : fct_sgd_one(s, m, mu, us[j], is[j], rs[j], lr);
        }
        return sse;
    }
    /* Hogwild: threads update shared rows without locks; races only lose
     * an occasional update on sparse data. */
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : sse)
    for (int64_t x = begin; x < end; x++) {
        int64_t j = order[x];
        sse += mom ? fct_momentum_one(s, m, mu, us[j], is[j], rs[j], lr)
                   : fct_sgd_one(s, m, mu, us[j], is[j], rs[j], lr);
    }
    return sse;
}
