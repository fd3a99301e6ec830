/*
 * fit_softmax.c — the training driver of `softmax`. Objective, over each
 * training user u with items P_u:
 *
 *   sum_u -sum_{i in P_u} log softmax(s_u)_i + L2,   s_uj = b_j + <U_u, V_j>,
 *
 * the multi-label cross-entropy of every positive under one softmax over
 * the catalogue: the full softmax when the catalogue has at most
 * full_softmax_max items, else the sampled softmax with num_sampled
 * negatives a mini-batch drawn from the training popularity Q and each
 * logit corrected by -log(num_sampled Q(j)) (src/solvers/softmax.h has the
 * estimator and its gradient). Every epoch visits the users in a fresh
 * random order in mini-batches of batch_size; each batch's mean gradient
 * takes one step of the optimizer (adam by default) on the rows it
 * touches, with weight decay reg on the factors. Threads: OpenBLAS and
 * OpenMP loops over rows (fct_threads(ctx)); one thread is
 * bit-reproducible. Fold-in: the factor model's least-squares solve
 * (factors.h) with alpha 0, unobserved weight foldin_unobserved, L2
 * foldin_reg, exponent 0. Cost per epoch O(n_users n_items k) (full) or
 * O(n_users num_sampled k + nnz k) (sampled).
 */
#include "train.h"

#include "models/softmax.h"
#include "solvers/softmax.h"

facto_status fct_fit_softmax(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out)
{
    *out = NULL;
    const fct_softmax_params *p = fct_params_struct(params);
    const fct_factors_foldin foldin = {0.0f, p->foldin_unobserved, p->foldin_reg, 0.0f};
    fct_factors_model *m = NULL;
    facto_status st = fct_rank_begin(ctx, &fct_softmax_ops, p, data, p->num_factors, p->item_bias, p->init_std,
                                     p->seed, &foldin, &m);
    if (st != FACTO_OK)
        return st;
    const int sampled = m->n_items > p->full_softmax_max;
    const fct_softmax_cfg cfg = {fct_rank_optimizer(p->optimizer),
                                 p->learning_rate,
                                 p->reg,
                                 p->batch_size,
                                 sampled,
                                 p->num_sampled,
                                 fct_threads(ctx),
                                 p->seed};
    fct_log(ctx, FACTO_LOG_DEBUG, "softmax: %d items, %s", m->n_items,
            sampled ? "sampled softmax with the logQ correction" : "full softmax");
    fct_softmax_solver *s = NULL;
    st = fct_softmax_solver_new(ctx, &cfg, m, data->train, &s);
    for (int e = 1; st == FACTO_OK && e <= p->epochs; e++) {
        const double t0 = fct_now();
        double loss = 0.0;
        int64_t n = 0;
        st = fct_softmax_epoch(ctx, s, e, &loss, &n);
        int stop = 0;
        if (st == FACTO_OK)
            st = fct_rank_epoch_end(ctx, m, callbacks, e, p->epochs, fct_now() - t0, n, loss, p->learning_rate,
                                    p->reg, &stop);
        if (stop)
            break;
    }
    fct_softmax_solver_free(s);
    if (st == FACTO_OK)
        st = fct_factors_ready(ctx, m);
    if (st != FACTO_OK) {
        fct_factors_destroy(m);
        return st;
    }
    *out = &m->base;
    return fct_ok(ctx);
}
