/*
 * warp.c — the `warp` kind: Weighted Approximate-Rank Pairwise loss
 * (Weston, Bengio & Usunier, "WSABIE: Scaling Up To Large Vocabulary Image
 * Annotation", IJCAI 2011), in LightFM's form (negatives drawn until one
 * violates the margin, up to max_sampled trials; the update weighted by
 * the rank the trials estimate), on the shared implicit factor model
 * (factors.h), Hogwild threads. This file holds the hyperparameter table
 * and the ops. Training: src/train/fit_warp.c (objective),
 * src/solvers/pairwise.c (solver).
 */
#include "warp.h"

#include <float.h>
#include <stddef.h>
#include <string.h>

/* Defaults: chosen with bench/loss_tune.sh (bench/loss_tune.c) on
 * validation carve-outs of training data only: ml-100k read as implicit
 * data (threshold 4), the library's per-user:0.2 split with seed 1 as test
 * (never read while tuning), per-user:0.2 of the rest as validation (seed
 * 2; seeds 3 and 4 to confirm); validation NDCG@10, full ranking, the mean
 * over model seeds (1-3, or 1-2). The grids and their figures are in the script's
 * header comment; each help text below says how its default was chosen. */
static void fct_warp_defaults(void *params)
{
    fct_warp_params *p = params;
    memset(p, 0, sizeof *p);
    p->num_factors = 64;
    p->epochs = 50;
    p->learning_rate = 0.05f;
    p->reg = 1.0f;
    p->reg_bias = 1.0f;
    p->item_bias = 1;
    p->max_sampled = 30;
    p->negative_sampling = FCT_RANK_NEG_UNIFORM;
    p->optimizer = FCT_RANK_OPT_ADAGRAD;
    p->init_std = 0.1f;
    p->foldin_reg = 3.0f;
    p->foldin_unobserved = 0.003f;
    p->seed = 42;
}

#define F(field) offsetof(fct_warp_params, field)
static const fct_pdesc fct_warp_pdesc[] = {
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, 65536, 0, NULL,
     "number of latent factors k (default chosen: validation NDCG@10 0.003 above 32, level with 128 at half its "
     "time)", "facto", NULL},
    {"epochs", "iterations", FCT_PT_INT, F(epochs), NULL, 1, 100000, 0, "is not an integer in [1, 100000]",
     "passes over the training pairs (default chosen: validation NDCG@10 of 30, 50, 100; 30 0.002 lower, 100 "
     "0.001-0.003 higher at twice the time on three carve-outs)", "facto",
     NULL},
    {"learning_rate", "lr", FCT_PT_FLOAT, F(learning_rate), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "step size of the optimizer (default chosen: validation NDCG@10 over 0.03..0.08 with reg 0.6..1.5, the best "
     "three within 0.002; 0.08 no better on a second carve-out)",
     "facto", NULL},
    {"reg", "lambda,factors_wd", FCT_PT_FLOAT, F(reg), NULL, 0, FLT_MAX, 0, NULL,
     "L2 weight of the user and item factors, applied at every update of a row (default chosen: validation "
     "NDCG@10 over 0.6..1.5 with the learning rate; adagrad scales the step, so this weight is large)",
     "facto", NULL},
    {"reg_bias", "linear_wd", FCT_PT_FLOAT, F(reg_bias), NULL, 0, FLT_MAX, 0, NULL,
     "L2 weight of the item bias (default chosen: reg's value, tuned with it)", "facto",
     NULL},
    {"item_bias", NULL, FCT_PT_INT, F(item_bias), NULL, 0, 1, 0, "is not 0 or 1",
     "1: score b_i + <U_u, V_i> with a learned item bias; 0: <U_u, V_i> (default chosen: level with 0 on "
     "validation NDCG@10 on two carve-outs, within 0.003; kept as LightFM does)",
     "facto", NULL},
    {"max_sampled", NULL, FCT_PT_INT, F(max_sampled), NULL, 1, 1000000, 0, "is not an integer in [1, 1000000]",
     "negatives drawn per positive at most, looking for one with s_uj > s_ui - 1; the update is weighted by "
     "log(max(1, floor((n_items - 1) / trials))), LightFM's form (default chosen: validation NDCG@10 of 10, 30, "
     "100 within 0.002 of each other)",
     "facto", NULL},
    {"negative_sampling", "negatives", FCT_PT_ENUM, F(negative_sampling), fct_rank_neg_choices, 0, 0, 0, NULL,
     "how a negative is drawn: uniform over the items, or popularity (in proportion to its training "
     "interactions; alias table, O(1) a draw); a drawn positive of the user is passed over (default chosen: "
     "popularity loses 0.14 validation NDCG@10)",
     "facto", NULL},
    {"optimizer", NULL, FCT_PT_ENUM, F(optimizer), fct_rank_opt_choices, 0, 0, 0, NULL,
     "sgd, adagrad or adam (lazy: only the rows a triple touches), through the optimizer module (default chosen: "
     "adagrad, as LightFM; sgd at learning rate 0.01 and reg 0.01 0.15 lower on validation NDCG@10)",
     "facto", NULL},
    {"init_std", NULL, FCT_PT_FLOAT, F(init_std), NULL, 0, FLT_MAX, 0, NULL,
     "factors start as N(0, init_std^2 / num_factors) (default: bpr's; not tuned for warp)",
     "facto", NULL},
    {"foldin_reg", NULL, FCT_PT_FLOAT, F(foldin_reg), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "fold-in (a user given by a history of items): L2 lambda of the user's least-squares solve against the "
     "trained item factors, sum_h (1 - <p, V_h>)^2 + foldin_unobserved sum_{other i} <p, V_i>^2 + lambda |p|^2 "
     "(default chosen: validation NDCG@10 of 20% of the users held out of training, each folded in from its "
     "training items: 0.147 at 3 with foldin_unobserved 0.003, best of 0.3..30 x 0.003..0.3; 1 and 0.1 give 0.140; "
     "ials's own fold-in 0.177, popular 0.114)",
     "facto", NULL},
    {"foldin_unobserved", NULL, FCT_PT_FLOAT, F(foldin_unobserved), NULL, 0, FLT_MAX, 0, NULL,
     "fold-in: weight of every item not in the history in the least-squares solve (default chosen: with "
     "foldin_reg)",
     "facto", NULL},
    {"seed", NULL, FCT_PT_U64, F(seed), NULL, 0, 18446744073709551615.0, 0, NULL,
     "seed of the initialisation, the order of the pairs and the negatives (one thread: the same seed gives the "
     "same model)",
     "facto", NULL},
};
#undef F

const fct_ptable fct_warp_ptable = {"warp", fct_warp_pdesc,
                                    (int)(sizeof fct_warp_pdesc / sizeof fct_warp_pdesc[0]),
                                    sizeof(fct_warp_params), fct_warp_defaults, NULL};

static facto_status fct_warp_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    return fct_factors_load(ctx, r, &fct_warp_ops, out);
}

const fct_model_ops fct_warp_ops = {
    .kind = FACTO_MODEL_WARP,
    .name = "warp",
    .summary = "WARP ranking loss, sampled until a violation, Hogwild (Weston et al. 2011; LightFM's form)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_warp_ptable,
    .thread_invariant = 0, /* Hogwild: more threads, another model */
    .load = fct_warp_load,
    FCT_FACTORS_SHARED_OPS,
};
