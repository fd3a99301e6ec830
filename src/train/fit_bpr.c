/*
 * fit_bpr.c — the training driver of `bpr`. Objective (Rendle et al., UAI
 * 2009, "BPR-Opt"), over triples of a user u, one of its training items i
 * and an item j it does not have:
 *
 *   sum_{(u,i,j)} -log sigmoid(s_ui - s_uj) + L2,   s_ui = b_i + <U_u, V_i>,
 *
 * optimised by stochastic steps: every epoch visits each training pair
 * (u, i) once in a fresh random order with one negative j drawn uniformly
 * or by popularity (negative_sampling), and steps U_u, V_i, V_j (and b_i,
 * b_j when item_bias) with the optimizer (sgd, adagrad, adam), the L2 as
 * weight decay reg (reg_bias) on each row a step touches
 * (src/solvers/pairwise.c). Hogwild threads (fct_threads(ctx)); one thread
 * is bit-reproducible, several are not. Fold-in (a user given by items):
 * the factor model's least-squares solve (factors.h) with alpha 0,
 * unobserved weight foldin_unobserved, L2 foldin_reg, exponent 0.
 * Cost O(epochs nnz k).
 */
#include "train.h"

#include "models/bpr.h"

facto_status fct_fit_bpr(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                         const facto_fit_callbacks *callbacks, facto_model **out)
{
    *out = NULL;
    const fct_bpr_params *p = fct_params_struct(params);
    const fct_factors_foldin foldin = {0.0f, p->foldin_unobserved, p->foldin_reg, 0.0f};
    fct_factors_model *m = NULL;
    facto_status st = fct_rank_begin(ctx, &fct_bpr_ops, p, data, p->num_factors, p->item_bias, p->init_std, p->seed,
                                     &foldin, &m);
    if (st != FACTO_OK)
        return st;
    const fct_pair_cfg cfg = {FCT_LOSS_BPR,
                              fct_rank_optimizer(p->optimizer),
                              p->learning_rate,
                              p->reg,
                              p->reg_bias,
                              1,
                              p->negative_sampling == FCT_RANK_NEG_POPULARITY ? FCT_NEG_POPULARITY : FCT_NEG_UNIFORM,
                              fct_threads(ctx),
                              p->seed};
    return fct_rank_fit_pairwise(ctx, &cfg, m, data->train, p->epochs, callbacks, out);
}
