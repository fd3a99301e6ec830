/*
 * bpr.c — the `bpr` kind: Bayesian Personalized Ranking (Rendle,
 * Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized
 * Ranking from Implicit Feedback", UAI 2009) on the shared implicit factor
 * model (factors.h): -log sigmoid(s_ui - s_uj) over sampled triples
 * (user, positive, negative), SGD / AdaGrad / Adam, Hogwild threads. This
 * file holds the hyperparameter table and the ops. Training:
 * src/train/fit_bpr.c (objective), src/solvers/pairwise.c (solver).
 */
#include "bpr.h"

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
static void fct_bpr_defaults(void *params)
{
    fct_bpr_params *p = params;
    memset(p, 0, sizeof *p);
    p->num_factors = 64;
    p->epochs = 200;
    p->learning_rate = 0.1f;
    p->reg = 0.03f;
    p->reg_bias = 0.03f;
    p->item_bias = 1;
    p->negative_sampling = FCT_RANK_NEG_UNIFORM;
    p->optimizer = FCT_RANK_OPT_ADAGRAD;
    p->init_std = 0.1f;
    p->foldin_reg = 3.0f;
    p->foldin_unobserved = 0.003f;
    p->seed = 42;
}

#define F(field) offsetof(fct_bpr_params, field)
static const fct_pdesc fct_bpr_pdesc[] = {
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, 65536, 0, NULL,
     "number of latent factors k (default chosen: validation NDCG@10 best at 64 of 32..256)", "facto", NULL},
    {"epochs", "iterations", FCT_PT_INT, F(epochs), NULL, 1, 100000, 0, "is not an integer in [1, 100000]",
     "passes over the training pairs, each pair once a pass with one sampled negative (default chosen: "
     "validation NDCG@10 of 100, 200, 300; 300 0.002 higher on average over three carve-outs, at 1.5x the time)",
     "facto", NULL},
    {"learning_rate", "lr", FCT_PT_FLOAT, F(learning_rate), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "step size of the optimizer (default chosen: validation NDCG@10 over 0.05..0.2 with adagrad, 0.01..0.05 "
     "with sgd, 0.001..0.003 with adam)",
     "facto", NULL},
    {"reg", "lambda,factors_wd", FCT_PT_FLOAT, F(reg), NULL, 0, FLT_MAX, 0, NULL,
     "L2 weight of the user and item factors, applied at every update of a row (default chosen: validation "
     "NDCG@10 over 0.01..0.05 with the learning rate)",
     "facto", NULL},
    {"reg_bias", "linear_wd", FCT_PT_FLOAT, F(reg_bias), NULL, 0, FLT_MAX, 0, NULL,
     "L2 weight of the item bias (default chosen: reg's value; 0 loses 0.018 validation NDCG@10, 0.1 0.002)",
     "facto", NULL},
    {"item_bias", NULL, FCT_PT_INT, F(item_bias), NULL, 0, 1, 0, "is not 0 or 1",
     "1: score b_i + <U_u, V_i> with a learned item bias; 0: <U_u, V_i> (default chosen: 0.003 above 0 on "
     "validation NDCG@10)",
     "facto", NULL},
    {"negative_sampling", "negatives", FCT_PT_ENUM, F(negative_sampling), fct_rank_neg_choices, 0, 0, 0, NULL,
     "how a negative is drawn: uniform over the items, or popularity (in proportion to its training "
     "interactions; alias table, O(1) a draw); a positive of the user is drawn again (default chosen: "
     "popularity loses 0.12 validation NDCG@10: it pushes popular items down, and they are what users pick)",
     "facto", NULL},
    {"optimizer", NULL, FCT_PT_ENUM, F(optimizer), fct_rank_opt_choices, 0, 0, 0, NULL,
     "sgd, adagrad or adam (lazy: only the rows a triple touches), through the optimizer module (default chosen: "
     "best validation NDCG@10 on three carve-outs, sgd 0.003-0.006 and adam 0.009 lower, each tuned)",
     "facto", NULL},
    {"init_std", NULL, FCT_PT_FLOAT, F(init_std), NULL, 0, FLT_MAX, 0, NULL,
     "factors start as N(0, init_std^2 / num_factors) (default chosen: 0.01..1 all within 0.002 on validation)",
     "facto", NULL},
    {"foldin_reg", NULL, FCT_PT_FLOAT, F(foldin_reg), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "fold-in (a user given by a history of items): L2 lambda of the user's least-squares solve against the "
     "trained item factors, sum_h (1 - <p, V_h>)^2 + foldin_unobserved sum_{other i} <p, V_i>^2 + lambda |p|^2 "
     "(default chosen: validation NDCG@10 of 20% of the users held out of training, each folded in from its "
     "training items: 0.164 at 3 with foldin_unobserved 0.003, best of 0.3..30 x 0.003..0.3; 1 and 0.1 give 0.143; "
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

const fct_ptable fct_bpr_ptable = {"bpr", fct_bpr_pdesc, (int)(sizeof fct_bpr_pdesc / sizeof fct_bpr_pdesc[0]),
                                   sizeof(fct_bpr_params), fct_bpr_defaults, NULL};

static facto_status fct_bpr_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    return fct_factors_load(ctx, r, &fct_bpr_ops, out);
}

const fct_model_ops fct_bpr_ops = {
    .kind = FACTO_MODEL_BPR,
    .name = "bpr",
    .summary = "Bayesian personalized ranking, sampled negatives, Hogwild AdaGrad/SGD/Adam (Rendle et al. 2009)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_bpr_ptable,
    .thread_invariant = 0, /* Hogwild: more threads, another model */
    .load = fct_bpr_load,
    FCT_FACTORS_SHARED_OPS,
};
