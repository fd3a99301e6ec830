/*
 * optim.c — the optimizer module (optim.h): defaults, state allocation,
 * Adam's clocks, and the row and pair steps that are not inline. A row
 * step preprocesses the gradient (rescale, clip), then applies the kind's
 * formula (kernels/update.h) to each parameter, or hands the row to the
 * kernel table (Adam, AdaGrad: AVX2 when the CPU has it, same bits as the
 * scalar formula). O(dim) per row, no memory beyond the state arrays.
 */
#include "optim.h"

#include "core/internal.h"

#include <math.h>
#include <string.h>

void fct_optim_init(fct_optim *o, fct_optim_kind kind)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->beta1 = FCT_ADAM_BETA1;
    o->beta2 = FCT_ADAM_BETA2;
    o->eps = FCT_ADAM_EPS;
    o->adam_form = FCT_ADAM_MOMENTS;
    o->ftrl_beta = 1.0f;
    o->rescale = 1.0f;
    o->b1t = o->b2t = 1.0;
    o->clock.c1 = o->clock.c2 = 1.0f;
}

int fct_optim_n_state(fct_optim_kind kind)
{
    switch (kind) {
    case FCT_OPTIM_MOMENTUM:
    case FCT_OPTIM_ADAGRAD:
        return 1;
    case FCT_OPTIM_ADAM:
    case FCT_OPTIM_FTRL:
        return 2;
    case FCT_OPTIM_SGD:
        break;
    }
    return 0;
}

static float *fct_optim_zeros(size_t n)
{
    if (n > SIZE_MAX / sizeof(float))
        return NULL;
    float *a = fct_aligned_alloc(n * sizeof(float));
    if (a)
        memset(a, 0, n * sizeof(float));
    return a;
}

int fct_optim_param_init(fct_optim_param *p, const fct_optim *o, float *x, int64_t rows, int32_t dim)
{
    memset(p, 0, sizeof *p);
    p->x = x;
    p->rows = rows;
    p->dim = dim;
    const size_t r = rows > 0 ? (size_t)rows : 1, d = dim > 0 ? (size_t)dim : 1;
    if (r > SIZE_MAX / d)
        return -1;
    const int ns = fct_optim_n_state(o->kind);
    if (ns >= 1 && !(p->s1 = fct_optim_zeros(r * d)))
        return -1;
    if (ns >= 2 && !(p->s2 = fct_optim_zeros(r * d))) {
        fct_optim_param_free(p);
        return -1;
    }
    return 0;
}

void fct_optim_param_free(fct_optim_param *p)
{
    fct_aligned_free(p->s1);
    fct_aligned_free(p->s2);
    p->s1 = p->s2 = NULL;
}

/* The clock from b1^t and b2^t (either form). */
static fct_optim_clock fct_optim_clock_from(const fct_optim *o, double b1t, double b2t)
{
    fct_optim_clock c = {1.0f, 1.0f};
    if (o->adam_form == FCT_ADAM_MOMENTS) {
        c.c1 = (float)(1.0 - b1t);
        c.c2 = (float)(1.0 - b2t);
    } else {
        c.c1 = (float)(sqrt(1.0 - b2t) / (1.0 - b1t));
    }
    return c;
}

fct_optim_clock fct_optim_clock_at(const fct_optim *o, int64_t t)
{
    fct_optim_clock c = {1.0f, 1.0f};
    if (o->kind != FCT_OPTIM_ADAM || t >= 30000)
        return c;
    return fct_optim_clock_from(o, pow(o->beta1, (double)t), pow(o->beta2, (double)t));
}

void fct_optim_tick(fct_optim *o)
{
    o->t++;
    if (o->kind != FCT_OPTIM_ADAM)
        return;
    o->b1t *= o->beta1;
    o->b2t *= o->beta2;
    o->clock = fct_optim_clock_from(o, o->b1t, o->b2t);
}

/* x, s1, s2 [n] at the same offset; g [n] preprocessed in place. */
static void fct_optim_step_vec(const fct_optim *o, const fct_optim_rate *r, float *restrict x, float *restrict s1,
                               float *restrict s2, float *restrict g, int32_t n)
{
    const float rs = o->rescale, clip = o->clip, lr = r->lr, wd = r->wd;
    if (clip > 0.0f)
        for (int32_t i = 0; i < n; i++)
            g[i] = fct_clipf(g[i] * rs, clip);
    else
        for (int32_t i = 0; i < n; i++)
            g[i] *= rs;
    switch (o->kind) {
    case FCT_OPTIM_SGD:
        for (int32_t i = 0; i < n; i++)
            x[i] = fct_sgd_elem(x[i], g[i], lr, wd);
        break;
    case FCT_OPTIM_MOMENTUM:
        for (int32_t i = 0; i < n; i++)
            fct_momentum_elem(&x[i], &s1[i], g[i], lr, wd, o->momentum);
        break;
    case FCT_OPTIM_ADAGRAD:
        fct_kern.adagrad(x, s1, g, n, wd, lr, o->eps);
        break;
    case FCT_OPTIM_ADAM:
        fct_kern.adam(x, s1, s2, g, n, wd, o->beta1, o->beta2, r->a, r->c, o->eps);
        break;
    case FCT_OPTIM_FTRL:
        if (lr > 0.0f)
            for (int32_t i = 0; i < n; i++)
                fct_ftrl_elem(&x[i], &s1[i], &s2[i], g[i], lr, wd, o->ftrl_beta, o->ftrl_l1);
        break;
    }
}

#define FCT_OPTIM_AT(a, off) ((a) ? (a) + (off) : NULL)

void fct_optim_step(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *p, int64_t row, float *g)
{
    const size_t at = (size_t)row * (size_t)p->dim;
    fct_optim_step_vec(o, r, p->x + at, FCT_OPTIM_AT(p->s1, at), FCT_OPTIM_AT(p->s2, at), g, p->dim);
}

void fct_optim_step_pair_rows(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *P, int64_t u,
                              const fct_optim_param *Q, int64_t i, float d)
{
    enum { CHUNK = 64 };
    float gp[CHUNK], gq[CHUNK];
    const int32_t k = P->dim;
    const size_t ou = (size_t)u * (size_t)k, oi = (size_t)i * (size_t)k;
    for (int32_t f0 = 0; f0 < k; f0 += CHUNK) {
        const int32_t n = k - f0 < CHUNK ? k - f0 : CHUNK;
        float *p = P->x + ou + f0, *q = Q->x + oi + f0;
        for (int32_t f = 0; f < n; f++) {
            gp[f] = d * q[f];
            gq[f] = d * p[f];
        }
        fct_optim_step_vec(o, r, p, FCT_OPTIM_AT(P->s1, ou + f0), FCT_OPTIM_AT(P->s2, ou + f0), gp, n);
        fct_optim_step_vec(o, r, q, FCT_OPTIM_AT(Q->s1, oi + f0), FCT_OPTIM_AT(Q->s2, oi + f0), gq, n);
    }
}
