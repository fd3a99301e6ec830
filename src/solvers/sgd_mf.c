/*
 * sgd_mf.c — per-rating first-order training of biased MF (Funk 2006;
 * Koren, Bell & Volinsky 2009, section "Learning algorithms"): for each
 * rating in the given (shuffled) order, r^ = mu + b_u + b_i + <p_u, q_i>,
 * the squared loss 1/2 (r^ - r)^2 and its derivative d = r^ - r (loss.h),
 * then one lazy step of the optimizer (optim.h) on the four things the
 * rating touches: b_u and b_i (gradient d, weight decay reg_bias) and the
 * pair p_u, q_i (gradients d q_i and d p_u from the old values, weight
 * decay reg_factors; fused kernels for SGD and Adam). Optimizers: SGD,
 * heavy-ball momentum (Polyak 1964), Adam (Kingma & Ba 2015, Algorithm 1,
 * bias correction from the global update count: step_base + position in
 * the epoch's order, so parallel callers need no shared counter).
 * O(k) per rating; optimizer state O(params) (momentum 1x, Adam 2x).
 */
#include "mf_solvers.h"

#include "loss.h"

#include <string.h>

fct_mf_solver *fct_mf_solver_new(const fct_mf_model *m, const facto_mf_params *hp)
{
    fct_mf_solver *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    fct_optim_kind kind = FCT_OPTIM_SGD;
    if (hp->optimizer == FACTO_OPT_ADAM)
        kind = FCT_OPTIM_ADAM;
    else if (hp->momentum > 0.0f)
        kind = FCT_OPTIM_MOMENTUM;
    fct_optim_init(&s->opt, kind);
    s->opt.momentum = hp->momentum;
    s->opt.adam_form = FCT_ADAM_MOMENTS;
    s->reg_factors = hp->reg_factors;
    s->reg_bias = hp->reg_bias;
    if (fct_optim_param_init(&s->bu, &s->opt, m->bu, m->n_users, 1) != 0 ||
        fct_optim_param_init(&s->bi, &s->opt, m->bi, m->n_items, 1) != 0 ||
        fct_optim_param_init(&s->P, &s->opt, m->P, m->n_users, m->k) != 0 ||
        fct_optim_param_init(&s->Q, &s->opt, m->Q, m->n_items, m->k) != 0) {
        fct_mf_solver_free(s);
        return NULL;
    }
    return s;
}

void fct_mf_solver_free(fct_mf_solver *s)
{
    if (!s)
        return;
    fct_optim_param_free(&s->bu);
    fct_optim_param_free(&s->bi);
    fct_optim_param_free(&s->P);
    fct_optim_param_free(&s->Q);
    free(s);
}

/* The rates of the factors (rf) and biases (rb) at learning rate lr for
 * update number `step` (1-based). */
static inline void fct_mf_rates(const fct_mf_solver *s, float lr, int64_t step, fct_optim_rate *rf,
                                fct_optim_rate *rb)
{
    *rf = fct_optim_rate_of(&s->opt, fct_optim_clock_at(&s->opt, step), lr, s->reg_factors);
    *rb = *rf;
    rb->wd = s->reg_bias;
}

/* One rating. Returns its squared error (before the update). */
static inline double fct_mf_step(const fct_mf_solver *s, fct_mf_model *m, float mu, int32_t u, int32_t i, float r,
                                 float w, const fct_optim_rate *rf, const fct_optim_rate *rb)
{
    const int k = m->k;
    const float *p = m->P + (size_t)u * (size_t)k, *q = m->Q + (size_t)i * (size_t)k;
    const fct_loss_value l = fct_loss_point(FCT_LOSS_SQUARED, (double)(mu + m->bu[u] + m->bi[i] + fct_dot(p, q, k)),
                                            (double)r);
    /* d = r^ - r rounded to float: exactly -(r - r^) computed in float.
     * IPS weight (Schnabel et al. 2016, eq. 11): the rating's loss is
     * w (r - r^)^2, so its gradient is w d; w = 1 (no weights) is exact. */
    const float d = (float)l.dscore * w;
    fct_optim_step1(&s->opt, rb, &s->bu, u, d);
    fct_optim_step1(&s->opt, rb, &s->bi, i, d);
    fct_optim_step_pair(&s->opt, rf, &s->P, u, &s->Q, i, d);
    return 2.0 * l.loss;
}

double fct_mf_solver_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                         int64_t begin, int64_t end, float lr, int n_threads)
{
    const float mu = (float)m->mu;
    const int32_t *us = t->users, *is = t->items;
    const float *rs = t->ratings;
    const float *ws = t->weights; /* IPS weights or NULL */
    const int64_t step0 = s->step_base;
    /* Adam's rates change with every update; the others' only per call. */
    const int per_step = s->opt.kind == FCT_OPTIM_ADAM;
    fct_optim_rate rf0, rb0;
    fct_mf_rates(s, lr, 1, &rf0, &rb0);
    double sse = 0.0;
    if (n_threads <= 1) {
        for (int64_t x = begin; x < end; x++) {
            const int64_t j = order[x];
            fct_optim_rate rf = rf0, rb = rb0;
            if (per_step)
                fct_mf_rates(s, lr, step0 + x + 1, &rf, &rb);
            sse += fct_mf_step(s, m, mu, us[j], is[j], rs[j], ws ? ws[j] : 1.0f, &rf, &rb);
        }
        return sse;
    }
    /* Hogwild: threads update shared rows without locks; races only lose
     * an occasional update on sparse data. */
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(+ : sse)
    for (int64_t x = begin; x < end; x++) {
        const int64_t j = order[x];
        fct_optim_rate rf = rf0, rb = rb0;
        if (per_step)
            fct_mf_rates(s, lr, step0 + x + 1, &rf, &rb);
        sse += fct_mf_step(s, m, mu, us[j], is[j], rs[j], ws ? ws[j] : 1.0f, &rf, &rb);
    }
    return sse;
}
