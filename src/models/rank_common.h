/*
 * rank_common.h — the named choices the ranking kinds trained by a
 * first-order solver share (bpr.c, warp.c, softmax.c): how negatives are
 * drawn and which optimizer steps the factors. The values are the kinds'
 * own (stored in model files by name); the fit drivers map them onto the
 * solvers' (src/solvers/sampling.h, optim.h).
 */
#ifndef FACTO_MODELS_RANK_COMMON_H
#define FACTO_MODELS_RANK_COMMON_H

#include "core/params.h"

/* negative_sampling */
enum {
    FCT_RANK_NEG_UNIFORM = 0,   /* uniform over the catalogue */
    FCT_RANK_NEG_POPULARITY = 1 /* proportional to training interactions (alias table) */
};

/* optimizer */
enum {
    FCT_RANK_OPT_SGD = 0,
    FCT_RANK_OPT_ADAGRAD = 1,
    FCT_RANK_OPT_ADAM = 2
};

static const fct_penum fct_rank_neg_choices[] = {
    {"uniform", FCT_RANK_NEG_UNIFORM}, {"popularity", FCT_RANK_NEG_POPULARITY}, {NULL, 0}};
static const fct_penum fct_rank_opt_choices[] = {
    {"sgd", FCT_RANK_OPT_SGD}, {"adagrad", FCT_RANK_OPT_ADAGRAD}, {"adam", FCT_RANK_OPT_ADAM}, {NULL, 0}};

#endif /* FACTO_MODELS_RANK_COMMON_H */
