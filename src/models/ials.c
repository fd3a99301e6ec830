/*
 * ials.c — the `ials` kind: implicit alternating least squares (Hu, Koren &
 * Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM
 * 2008) with the unobserved weight and frequency-scaled L2 of Rendle,
 * Krichene, Zhang & Koren, "Revisiting the performance of iALS on item
 * recommendation benchmarks" (RecSys 2022), solved row by row with a few
 * conjugate gradient steps (Takacs, Pilaszy & Tikk, RecSys 2011). The model
 * is the shared implicit factor model (factors.h); this file holds the
 * hyperparameter table and the ops. Training: src/train/fit_ials.c.
 */
#include "ials.h"

#include <float.h>
#include <stddef.h>
#include <string.h>

/* Defaults: chosen with bench/ials_tune.c on validation carve-outs of
 * training data only (ml-100k ratings >= 4: each user's 20% held out as
 * test, never looked at while tuning; a further 20% of the rest held out as
 * validation; NDCG@10, full ranking, training items excluded). The
 * procedure and figures are in that program's header comment. */
static void fct_ials_defaults(void *params)
{
    fct_ials_params *p = params;
    memset(p, 0, sizeof *p);
    p->num_factors = 64;
    p->epochs = 16;
    p->reg = 0.01f;
    p->reg_exponent = 1.0f;
    p->alpha = 0.0f;
    p->unobserved_weight = 0.1f;
    p->cg_steps = 3;
    p->init_std = 0.1f;
    p->seed = 42;
}

#define F(field) offsetof(fct_ials_params, field)
static const fct_pdesc fct_ials_pdesc[] = {
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, 65536, 0, NULL,
     "number of latent factors k", "facto", NULL},
    {"epochs", "iterations", FCT_PT_INT, F(epochs), NULL, 1, 100000, 0, "is not an integer in [1, 100000]",
     "alternating iterations (item vectors, then user vectors)", "facto", NULL},
    {"reg", "lambda", FCT_PT_FLOAT, F(reg), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "L2 weight lambda, scaled per row by (observations + unobserved_weight * other side)^reg_exponent",
     "facto", NULL},
    {"reg_exponent", "nu", FCT_PT_FLOAT, F(reg_exponent), NULL, 0, 4, 0, NULL,
     "exponent nu of the frequency-scaled L2 (0: plain lambda; 1: Rendle et al. 2022)", "facto", NULL},
    {"alpha", NULL, FCT_PT_FLOAT, F(alpha), NULL, 0, FLT_MAX, 0, NULL,
     "confidence of an observed pair is 1 + alpha * its weight (Hu et al. 2008)", "facto", NULL},
    {"unobserved_weight", "alpha0", FCT_PT_FLOAT, F(unobserved_weight), NULL, 0, FLT_MAX, 0, NULL,
     "weight alpha_0 of the squared score of every unobserved pair", "facto", NULL},
    {"cg_steps", NULL, FCT_PT_INT, F(cg_steps), NULL, 0, 1024, 0, "is not an integer in [0, 1024]",
     "conjugate gradient steps per row and iteration, warm-started (0: exact k x k Cholesky solve)", "facto",
     NULL},
    {"init_std", NULL, FCT_PT_FLOAT, F(init_std), NULL, 0, FLT_MAX, 0, NULL,
     "factors start as N(0, init_std^2 / num_factors)", "facto", NULL},
    {"seed", NULL, FCT_PT_U64, F(seed), NULL, 0, 18446744073709551615.0, 0, NULL, "seed of the initialisation",
     "facto", NULL},
};
#undef F

const fct_ptable fct_ials_ptable = {"ials", fct_ials_pdesc, (int)(sizeof fct_ials_pdesc / sizeof fct_ials_pdesc[0]),
                                    sizeof(fct_ials_params), fct_ials_defaults, NULL};

static facto_status fct_ials_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    return fct_factors_load(ctx, r, &fct_ials_ops, out);
}

const fct_model_ops fct_ials_ops = {
    .kind = FACTO_MODEL_IALS,
    .name = "ials",
    .summary = "implicit ALS, conjugate gradient (Hu, Koren & Volinsky 2008; Takacs et al. 2011; Rendle et al. 2022)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_ials_ptable,
    .load = fct_ials_load,
    FCT_FACTORS_SHARED_OPS,
};
