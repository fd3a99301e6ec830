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

#include <limits.h>
#include <float.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Defaults: chosen with bench/ials_tune.sh (bench/ials_tune.c) on
 * validation carve-outs of training data only: ml-100k ratings >= 4
 * (implicit, threshold 4), per-user:0.2 seed 1 as test (never read while
 * tuning), per-user:0.2 of the rest as validation (seeds 2, 3, 4: three
 * carve-outs);
 * validation NDCG@10, full ranking, training items excluded. The grid and
 * its figures are in the script's header comment. Every help text below
 * says how its default was chosen (--help prints the value). */
static void fct_ials_defaults(void *params)
{
    fct_ials_params *p = params;
    memset(p, 0, sizeof *p);
    p->num_factors = 128;
    p->epochs = 16;
    p->reg = 0.028f;
    p->reg_exponent = 1.0f;
    p->alpha = 0.0f;
    p->unobserved_weight = 0.15f;
    p->cg_steps = 3;
    p->init_std = 0.1f;
    p->seed = 42;
}

#define F(field) offsetof(fct_ials_params, field)
static const fct_pdesc fct_ials_pdesc[] = {
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, 65536, 0, NULL,
     "number of latent factors k (default chosen: validation NDCG@10 level from 64 to 512, 32 lower)",
     "facto", NULL},
    {"epochs", "iterations", FCT_PT_INT, F(epochs), NULL, 1, 100000, 0, "is not an integer in [1, 100000]",
     "alternating iterations, item vectors then user vectors (default chosen: validation NDCG@10 within 0.001 "
     "from 4 to 64; Rendle et al.'s count)",
     "facto", NULL},
    {"reg", "lambda,factors_wd", FCT_PT_FLOAT, F(reg), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "L2 weight lambda, per row times (observations + unobserved_weight * other side)^reg_exponent (default "
     "chosen: best mean validation NDCG@10 over three carve-outs, from a 0.001..0.3 grid with unobserved_weight)",
     "facto", NULL},
    {"reg_exponent", "nu", FCT_PT_FLOAT, F(reg_exponent), NULL, 0, 4, 0, NULL,
     "exponent nu of the frequency-scaled L2 (Rendle et al. 2022's 1, chosen: above 0, 0.5 and 1.5 each at its "
     "best reg)",
     "facto", NULL},
    {"alpha", NULL, FCT_PT_FLOAT, F(alpha), NULL, 0, FLT_MAX, 0, NULL,
     "confidence of an observed pair is 1 + alpha * its weight (0 chosen: on 0/1 data alpha only rescales, and "
     "1 or 4 with re-tuned weights did no better; raise it for counts)",
     "facto", NULL},
    {"unobserved_weight", "alpha0", FCT_PT_FLOAT, F(unobserved_weight), NULL, 0, FLT_MAX, 0, NULL,
     "weight alpha_0 of the squared score of every unobserved pair (default chosen: best mean validation NDCG@10 "
     "over three carve-outs, from 0.01..1 with reg)",
     "facto", NULL},
    {"cg_steps", NULL, FCT_PT_INT, F(cg_steps), NULL, 0, 1024, 0, "is not an integer in [0, 1024]",
     "conjugate gradient steps per row and iteration, warm-started; 0 = exact k x k Cholesky solve (default chosen: "
     "level with 4, 8 and the exact solve on validation, 1 lower)",
     "facto", NULL},
    {"init_std", NULL, FCT_PT_FLOAT, F(init_std), NULL, 0, FLT_MAX, 0, NULL,
     "factors start as N(0, init_std^2 / num_factors) (default chosen: 0.01..1 all within one s.d. over seeds)",
     "facto", NULL},
    {"seed", NULL, FCT_PT_U64, F(seed), NULL, 0, 18446744073709551615.0, 0, NULL, "seed of the initialisation",
     "facto", NULL},
};
#undef F

const fct_ptable fct_ials_ptable = {"ials", fct_ials_pdesc, (int)(sizeof fct_ials_pdesc / sizeof fct_ials_pdesc[0]),
                                    sizeof(fct_ials_params), fct_ials_defaults, NULL};

/* "num_factors 128, 16 iterations of 3 CG steps a row, reg 0.028 (nu 1),
 * unobserved weight 0.15, alpha 0" (fct_model_ops.describe). */
static size_t fct_ials_describe(const void *params, char *buf, size_t size)
{
    const fct_ials_params *p = params;
    char reg[32], nu[32], a0[32], al[32], steps[48];
    fct_format_float_short(reg, sizeof reg, p->reg);
    fct_format_float_short(nu, sizeof nu, p->reg_exponent);
    fct_format_float_short(a0, sizeof a0, p->unobserved_weight);
    fct_format_float_short(al, sizeof al, p->alpha);
    if (p->cg_steps > 0)
        snprintf(steps, sizeof steps, "%d CG step%s a row", (int)p->cg_steps, p->cg_steps == 1 ? "" : "s");
    else
        snprintf(steps, sizeof steps, "exact row solves");
    int n = snprintf(buf, size, "num_factors %d, %d iteration%s of %s, reg %s (nu %s), unobserved weight %s, "
                     "alpha %s\n", (int)p->num_factors, (int)p->epochs, p->epochs == 1 ? "" : "s", steps, reg, nu, a0,
                     al);
    return n > 0 ? (size_t)n : 0;
}

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
    .thread_invariant = INT_MAX, /* rows solved independently, Gram on one BLAS thread, sums in row order */
    .describe = fct_ials_describe,
    FCT_FACTORS_SHARED_OPS,
};
