/*
 * softmax.h — the hyperparameters of the multi-label softmax kind
 * (softmax.c), shared with its training driver (src/train/fit_softmax.c).
 * The model is the shared implicit factor model (factors.h); the objective
 * is written out in fit_softmax.c.
 */
#ifndef FACTO_MODELS_SOFTMAX_H
#define FACTO_MODELS_SOFTMAX_H

#include "factors.h"
#include "rank_common.h"

typedef struct fct_softmax_params {
    int32_t num_factors;      /* k */
    int32_t epochs;           /* passes over the training users */
    float learning_rate;
    float reg;                /* L2 weight of the user and item factors (and the bias) */
    int32_t item_bias;        /* 1: s(u, i) = b_i + <U_u, V_i>; 0: no bias */
    int32_t batch_size;       /* users per mini-batch */
    int32_t full_softmax_max; /* catalogues of at most this many items: full softmax; larger: sampled */
    int32_t num_sampled;      /* sampled softmax: negatives drawn per mini-batch */
    int optimizer;            /* FCT_RANK_OPT_* */
    float init_std;           /* factors start as N(0, init_std^2 / k) */
    float foldin_reg;         /* fold-in: L2 lambda of the least-squares solve */
    float foldin_unobserved;  /* fold-in: weight alpha_0 of every item not in the history */
    uint64_t seed;
} fct_softmax_params;

extern const fct_ptable fct_softmax_ptable;

#endif /* FACTO_MODELS_SOFTMAX_H */
