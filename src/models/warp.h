/*
 * warp.h — the hyperparameters of WARP (warp.c), shared with its training
 * driver (src/train/fit_warp.c). The model is the shared implicit factor
 * model (factors.h); the objective is written out in fit_warp.c.
 */
#ifndef FACTO_MODELS_WARP_H
#define FACTO_MODELS_WARP_H

#include "factors.h"
#include "rank_common.h"

typedef struct fct_warp_params {
    int32_t num_factors;     /* k */
    int32_t epochs;          /* passes over the training pairs */
    float learning_rate;
    float reg;               /* L2 weight of the user and item factors */
    float reg_bias;          /* L2 weight of the item bias */
    int32_t item_bias;       /* 1: s(u, i) = b_i + <U_u, V_i>; 0: no bias */
    int32_t max_sampled;     /* negatives drawn per positive at most, looking for a violation */
    int negative_sampling;   /* FCT_RANK_NEG_* */
    int optimizer;           /* FCT_RANK_OPT_* */
    float init_std;          /* factors start as N(0, init_std^2 / k) */
    float foldin_reg;        /* fold-in: L2 lambda of the least-squares solve */
    float foldin_unobserved; /* fold-in: weight alpha_0 of every item not in the history */
    uint64_t seed;
} fct_warp_params;

extern const fct_ptable fct_warp_ptable;

#endif /* FACTO_MODELS_WARP_H */
