/*
 * optim.h — the one optimizer module of the first-order solvers (MF:
 * sgd_mf.c; FM: fm_sgd.c): SGD, heavy-ball momentum, AdaGrad, Adam and
 * FTRL-Proximal on parameter arrays with per-parameter state.
 *
 * Updates are lazy (sparse): a step touches only the parameters (rows) the
 * caller passes a gradient for, and only their state; every other parameter
 * and its state stay as they are (sparse Adam: the moments of an untouched
 * row do not decay; its bias correction uses the global step count).
 *
 * Design. An fct_optim holds the kind and its constants plus MXNet's
 * gradient preprocessing (g <- clip(rescale * g)); an fct_optim_param is one
 * parameter array [rows, dim] (borrowed) with the state arrays the kind
 * needs (owned); an fct_optim_rate is what a step of one array needs: the
 * learning rate, the weight decay (L2: wd x is added to the gradient; FTRL:
 * lambda_2) and Adam's bias-correction factors of the step, from an
 * fct_optim_clock. Clocks come from the step number (fct_optim_clock_at:
 * any order, so Hogwild threads need no shared counter; MF) or from running
 * products advanced once per step (fct_optim_tick; FM's mini-batches).
 * Gradients passed in are those of the loss alone (loss.h's d loss / d
 * score times d score / d parameter).
 * The formula of one parameter's step is written once, in
 * kernels/update.h; rows of Adam and AdaGrad go to the kernel table
 * (kernels.h), as do the fused steps: MF's (p_u, q_i) pair (SGD, Adam;
 * fct_optim_step_pair) and FM's per-row SGD (fct_optim_fm_sgd_row). Only
 * this module calls those kernels.
 *
 * Two forms of Adam's bias correction (Kingma & Ba, ICLR 2015) are kept,
 * each the one its model has always used, so results stay bit for bit:
 * FCT_ADAM_MOMENTS, Algorithm 1 as printed (mhat = m / (1 - b1^t), vhat =
 * v / (1 - b2^t), x -= lr mhat / (sqrt(vhat) + eps); MF), and FCT_ADAM_RATE,
 * the paper's reordering in section 2 (lr_t = lr sqrt(1 - b2^t) / (1 - b1^t),
 * x -= lr_t m / (sqrt(v) + eps); MXNet's, FM).
 *
 * Cost: O(dim) per row step; state per parameter 0 (sgd), 1 (momentum:
 * velocity; adagrad: sum of g^2) or 2 floats (adam: m, v; ftrl: z, n).
 */
#ifndef FACTO_SOLVERS_OPTIM_H
#define FACTO_SOLVERS_OPTIM_H

#include "kernels/kernels.h"
#include "kernels/update.h"

#include <stddef.h>
#include <stdint.h>

typedef enum fct_optim_kind {
    FCT_OPTIM_SGD = 0,      /* x -= lr (g + wd x) */
    FCT_OPTIM_MOMENTUM = 1, /* Polyak 1964: u = beta u - lr (g + wd x); x += u */
    FCT_OPTIM_ADAGRAD = 2,  /* Duchi, Hazan & Singer, JMLR 2011 */
    FCT_OPTIM_ADAM = 3,     /* Kingma & Ba, ICLR 2015, Algorithm 1 */
    FCT_OPTIM_FTRL = 4      /* FTRL-Proximal, McMahan et al., KDD 2013, Algorithm 1 */
} fct_optim_kind;

typedef enum fct_adam_form {
    FCT_ADAM_MOMENTS = 0, /* correct the moments (Algorithm 1 as printed) */
    FCT_ADAM_RATE = 1     /* correct the learning rate (section 2's reordering; MXNet) */
} fct_adam_form;

/* Adam's defaults (Algorithm 1). */
#define FCT_ADAM_BETA1 0.9f
#define FCT_ADAM_BETA2 0.999f
#define FCT_ADAM_EPS 1e-8f

/* Bias-correction factors of one step t (Adam; unused by other kinds). */
typedef struct fct_optim_clock {
    float c1; /* MOMENTS: 1 - b1^t; RATE: sqrt(1 - b2^t) / (1 - b1^t) */
    float c2; /* MOMENTS: 1 - b2^t; RATE: 1 */
} fct_optim_clock;

typedef struct fct_optim {
    fct_optim_kind kind;
    float momentum;           /* MOMENTUM: beta, in [0, 1) */
    float beta1, beta2, eps;  /* ADAM (eps also ADAGRAD) */
    fct_adam_form adam_form;  /* ADAM */
    float ftrl_beta, ftrl_l1; /* FTRL: beta [1] and lambda_1 [0] */
    float rescale;            /* gradients are first multiplied by this [1] */
    float clip;               /* then clipped to [-clip, clip]; <= 0: not clipped [0] */
    /* fct_optim_tick's count and clock */
    int64_t t;
    double b1t, b2t; /* b1^t, b2^t as running products */
    fct_optim_clock clock;
} fct_optim;

/* What one step of one parameter array needs. */
typedef struct fct_optim_rate {
    float lr, wd;
    float a, c; /* ADAM: x -= a m / (sqrt(v c) + eps) (update.h) */
} fct_optim_rate;

/* One parameter array [rows, dim] and its state, same shape. */
typedef struct fct_optim_param {
    float *x;       /* borrowed */
    float *s1, *s2; /* owned, zero at start; NULL when the kind keeps less */
    int64_t rows;
    int32_t dim;
} fct_optim_param;

/* Defaults for `kind` (the bracketed values above), t = 0. */
void fct_optim_init(fct_optim *o, fct_optim_kind kind);
/* State arrays `kind` keeps per parameter array: 0, 1 or 2. */
int fct_optim_n_state(fct_optim_kind kind);
/* Set p up for x [rows, dim], allocating o's state (zeroed, 64-byte
 * aligned; at least one row). 0, or -1 when out of memory (p then holds
 * no state). */
int fct_optim_param_init(fct_optim_param *p, const fct_optim *o, float *x, int64_t rows, int32_t dim);
void fct_optim_param_free(fct_optim_param *p);

/* The clock of step t >= 1 from powers (pow); thread-safe. From t = 30000
 * both corrections are 1 in float (0.999^30000 < 1e-13), so they are not
 * computed. */
fct_optim_clock fct_optim_clock_at(const fct_optim *o, int64_t t);
/* Advance o->t by one and o->clock to the new step, from running products
 * of the betas (one multiply per step, sequential use). */
void fct_optim_tick(fct_optim *o);

/* The rate of a step at learning rate lr with weight decay wd under clk. */
static inline fct_optim_rate fct_optim_rate_of(const fct_optim *o, fct_optim_clock clk, float lr, float wd)
{
    fct_optim_rate r = {lr, wd, lr, 1.0f};
    if (o->kind == FCT_OPTIM_ADAM) {
        if (o->adam_form == FCT_ADAM_MOMENTS) {
            r.a = lr / clk.c1;
            r.c = 1.0f / clk.c2;
        } else {
            r.a = lr * clk.c1;
        }
    }
    return r;
}

/* The gradient preprocessing: clip(rescale g). */
static inline float fct_optim_prep(const fct_optim *o, float g)
{
    g *= o->rescale;
    return o->clip > 0.0f ? fct_clipf(g, o->clip) : g;
}

/* Step one parameter, p's element `at` (flat index), with loss gradient g. */
static inline void fct_optim_step1(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *p,
                                   int64_t at, float g)
{
    float *x = p->x + at;
    g = fct_optim_prep(o, g);
    switch (o->kind) {
    case FCT_OPTIM_SGD:
        *x = fct_sgd_elem(*x, g, r->lr, r->wd);
        break;
    case FCT_OPTIM_MOMENTUM:
        fct_momentum_elem(x, p->s1 + at, g, r->lr, r->wd, o->momentum);
        break;
    case FCT_OPTIM_ADAGRAD:
        fct_adagrad_elem(x, p->s1 + at, g, r->lr, r->wd, o->eps);
        break;
    case FCT_OPTIM_ADAM:
        fct_adam_elem(x, p->s1 + at, p->s2 + at, g, r->wd, o->beta1, o->beta2, r->a, r->c, o->eps);
        break;
    case FCT_OPTIM_FTRL:
        if (r->lr > 0.0f)
            fct_ftrl_elem(x, p->s1 + at, p->s2 + at, g, r->lr, r->wd, o->ftrl_beta, o->ftrl_l1);
        break;
    }
}

/* Step row `row` of p (dim parameters) with loss gradients g [dim], which
 * receive their preprocessed values. */
void fct_optim_step(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *p, int64_t row, float *g);

/* fct_optim_step_pair for kinds and settings without a fused kernel: both
 * rows' gradients from the old values, then fct_optim_step on each. */
void fct_optim_step_pair_rows(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *P, int64_t u,
                              const fct_optim_param *Q, int64_t i, float d);

/*
 * Step a factor pair: row u of P (p) and row i of Q (q), same dim, for a
 * score with term <p, q> whose loss has derivative d: gradients d q (for p)
 * and d p (for q), both from the old values. SGD and Adam without
 * preprocessing take the fused kernels (kernels.h sgd_pair, adam_pair).
 */
static inline void fct_optim_step_pair(const fct_optim *o, const fct_optim_rate *r, const fct_optim_param *P,
                                       int64_t u, const fct_optim_param *Q, int64_t i, float d)
{
    const int32_t k = P->dim;
    const size_t ou = (size_t)u * (size_t)k, oi = (size_t)i * (size_t)k;
    if (o->rescale == 1.0f && o->clip <= 0.0f) {
        if (o->kind == FCT_OPTIM_SGD) {
            fct_kern.sgd_pair(P->x + ou, Q->x + oi, k, d, r->lr, r->wd);
            return;
        }
        if (o->kind == FCT_OPTIM_ADAM) {
            fct_kern.adam_pair(P->x + ou, Q->x + oi, P->s1 + ou, Q->s1 + oi, P->s2 + ou, Q->s2 + oi, k, d, r->wd,
                               r->a, r->c, o->beta1, o->beta2, o->eps);
            return;
        }
    }
    fct_optim_step_pair_rows(o, r, P, u, Q, i, d);
}

/*
 * FM's fused SGD step on one row (o->kind must be SGD): w0, then w and V
 * through the fm_sgd kernels (kernels.h), for a row with slots[n] and
 * values x[n], loss derivative d and sum [k] from the fm_score kernel.
 * rates: [0] w0, [1] w, [2] V. Preprocessing: g = rescale d; each gradient
 * element (g, g x_j, g x_j (sum_f - v_jf x_j)) is clipped when clip > 0.
 */
static inline void fct_optim_fm_sgd_row(const fct_optim *o, const fct_optim_rate *rates, float *w0, float *w,
                                        float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                                        const float *sum, float d)
{
    const float g = d * o->rescale;
    if (o->clip > 0.0f) {
        *w0 = fct_sgd_elem(*w0, fct_clipf(g, o->clip), rates[0].lr, rates[0].wd);
        fct_kern.fm_sgd_clip(w, V, k, slots, x, n, sum, g, rates[1].lr, rates[1].wd, rates[2].lr, rates[2].wd,
                             o->clip);
    } else {
        *w0 = fct_sgd_elem(*w0, g, rates[0].lr, rates[0].wd);
        fct_kern.fm_sgd(w, V, k, slots, x, n, sum, g, rates[1].lr, rates[1].wd, rates[2].lr, rates[2].wd, 0.0f);
    }
}

#endif /* FACTO_SOLVERS_OPTIM_H */
