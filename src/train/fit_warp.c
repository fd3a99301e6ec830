/*
 * fit_warp.c — the training driver of `warp`. Objective (Weston, Bengio &
 * Usunier, IJCAI 2011; Usunier, Buffoni & Gallinari, ICML 2009), over each
 * user u and training item i:
 *
 *   sum_{(u,i)} L(rank_u(i)) + L2,   L(k) = sum_{r=1..k} 1/r ~ log k,
 *   rank_u(i) = #{j not of u : s_uj > s_ui - 1},   s_ui = b_i + <U_u, V_i>,
 *
 * optimised by stochastic steps in LightFM's form: every epoch visits each
 * training pair (u, i) once in a fresh random order and draws negatives
 * (uniformly or by popularity) until one violates the margin, s_uj > s_ui -
 * 1, or max_sampled trials are spent; a violation at trial t estimates the
 * rank as floor((n_items - 1) / t), and U_u, V_i, V_j (b_i, b_j) step on
 * log(max(1, that rank)) (LightFM's stand-in for L) times the hinge
 * 1 - s_ui + s_uj, with the L2 as weight decay
 * reg (reg_bias) on each row a step touches (src/solvers/pairwise.c).
 * Hogwild threads (fct_threads(ctx)); one thread is bit-reproducible,
 * several are not. Fold-in: the factor model's least-squares solve
 * (factors.h) with alpha 0, unobserved weight foldin_unobserved, L2
 * foldin_reg, exponent 0. Cost O(epochs nnz k max_sampled) at most.
 */
#include "train.h"

#include "models/warp.h"

facto_status fct_fit_warp(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out)
{
    *out = NULL;
    const fct_warp_params *p = fct_params_struct(params);
    const fct_factors_foldin foldin = {0.0f, p->foldin_unobserved, p->foldin_reg, 0.0f};
    fct_factors_model *m = NULL;
    facto_status st = fct_rank_begin(ctx, &fct_warp_ops, p, data, p->num_factors, p->item_bias, p->init_std,
                                     p->seed, &foldin, &m);
    if (st != FACTO_OK)
        return st;
    const fct_pair_cfg cfg = {FCT_LOSS_WARP,
                              fct_rank_optimizer(p->optimizer),
                              p->learning_rate,
                              p->reg,
                              p->reg_bias,
                              p->max_sampled,
                              p->negative_sampling == FCT_RANK_NEG_POPULARITY ? FCT_NEG_POPULARITY : FCT_NEG_UNIFORM,
                              fct_threads(ctx),
                              p->seed};
    return fct_rank_fit_pairwise(ctx, &cfg, m, data->train, p->epochs, callbacks, out);
}
