/*
 * softmax.c — the `softmax` kind: multi-label cross-entropy over items
 * (every training item of a user is a label of one softmax over the
 * catalogue), full for catalogues up to full_softmax_max items, sampled
 * with the logQ correction above (Bengio & Senecal, IEEE TNN 2008; Yi et
 * al., RecSys 2019), mini-batches of users, Adam; on the shared implicit
 * factor model (factors.h). This file holds the hyperparameter table and
 * the ops. Training: src/train/fit_softmax.c (objective),
 * src/solvers/softmax.c (solver).
 */
#include "softmax.h"

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
static void fct_softmax_defaults(void *params)
{
    fct_softmax_params *p = params;
    memset(p, 0, sizeof *p);
    p->num_factors = 64;
    p->epochs = 80;
    p->learning_rate = 0.005f;
    p->reg = 0.02f;
    p->item_bias = 1;
    p->batch_size = 128;
    p->full_softmax_max = 20000;
    p->num_sampled = 1024;
    p->optimizer = FCT_RANK_OPT_ADAM;
    p->init_std = 0.1f;
    p->foldin_reg = 10.0f;
    p->foldin_unobserved = 0.01f;
    p->seed = 42;
}

#define F(field) offsetof(fct_softmax_params, field)
static const fct_pdesc fct_softmax_pdesc[] = {
    {"num_factors", "factors", FCT_PT_INT, F(num_factors), NULL, 1, 65536, 0, NULL,
     "number of latent factors k (default chosen: validation NDCG@10 best at 64 of 32..256)", "facto", NULL},
    {"epochs", "iterations", FCT_PT_INT, F(epochs), NULL, 1, 100000, 0, "is not an integer in [1, 100000]",
     "passes over the training users (default chosen: validation NDCG@10 of 60, 80, 100 with the learning rate; "
     "it falls past its best as the user vectors overfit)",
     "facto", NULL},
    {"learning_rate", "lr", FCT_PT_FLOAT, F(learning_rate), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "step size of the optimizer (default chosen: validation NDCG@10 over 0.003..0.008 with adam, best on "
     "three carve-outs)",
     "facto", NULL},
    {"reg", "lambda,factors_wd", FCT_PT_FLOAT, F(reg), NULL, 0, FLT_MAX, 0, NULL,
     "L2 weight (weight decay) of the user and item factor rows a batch updates (default chosen: validation "
     "NDCG@10 over 0.01..0.03 with the learning rate and epochs; 0 and 0.1 lower)",
     "facto", NULL},
    {"item_bias", NULL, FCT_PT_INT, F(item_bias), NULL, 0, 1, 0, "is not 0 or 1",
     "1: score b_i + <U_u, V_i> with a learned item bias; 0: <U_u, V_i> (default chosen: level with 0 on "
     "validation NDCG@10, within 0.004)",
     "facto", NULL},
    {"batch_size", "mini_batch_size", FCT_PT_INT, F(batch_size), NULL, 1, 1048576, 0,
     "is not an integer in [1, 1048576]",
     "users per mini-batch (default chosen: validation NDCG@10 of 32..256 at the chosen epochs; smaller batches "
     "take more steps and overfit sooner)",
     "facto", NULL},
    {"full_softmax_max", NULL, FCT_PT_INT, F(full_softmax_max), NULL, 0, 2147483647.0, 0,
     "is not an integer in [0, 2147483647]",
     "catalogues of at most this many items train the full softmax (every item in the normaliser, through "
     "BLAS); larger ones the sampled softmax with the logQ correction (default: issue 9's 20,000; a batch of the "
     "full softmax holds batch_size x items floats)",
     "facto", NULL},
    {"num_sampled", NULL, FCT_PT_INT, F(num_sampled), NULL, 1, 1048576, 0, "is not an integer in [1, 1048576]",
     "sampled softmax: negatives drawn per mini-batch from the training popularity Q, each logit corrected by "
     "-log(num_sampled Q(j)) (default chosen: validation NDCG@10 with the sampled softmax forced on ml-100k: "
     "1024 within 0.004 of the full softmax, 256 0.012 and 64 0.030 below)",
     "facto", NULL},
    {"optimizer", NULL, FCT_PT_ENUM, F(optimizer), fct_rank_opt_choices, 0, 0, 0, NULL,
     "sgd, adagrad or adam (lazy: only the rows a batch touches), through the optimizer module (default chosen: "
     "adagrad 0.03 and sgd 0.09 lower on validation NDCG@10)",
     "facto", NULL},
    {"init_std", NULL, FCT_PT_FLOAT, F(init_std), NULL, 0, FLT_MAX, 0, NULL,
     "factors start as N(0, init_std^2 / num_factors) (default chosen: 0.03..0.3 within 0.004 on validation, 1 "
     "lower)",
     "facto", NULL},
    {"foldin_reg", NULL, FCT_PT_FLOAT, F(foldin_reg), NULL, 0, FLT_MAX, FCT_PF_MIN_OPEN, NULL,
     "fold-in (a user given by a history of items): L2 lambda of the user's least-squares solve against the "
     "trained item factors, sum_h (1 - <p, V_h>)^2 + foldin_unobserved sum_{other i} <p, V_i>^2 + lambda |p|^2 "
     "(default chosen: validation NDCG@10 of 20% of the users held out of training, each folded in from its "
     "training items: 0.172 at 10 with foldin_unobserved 0.01, best of 0.3..30 x 0.003..0.3; 1 and 0.1 give 0.153; "
     "ials's own fold-in 0.177, popular 0.114)",
     "facto", NULL},
    {"foldin_unobserved", NULL, FCT_PT_FLOAT, F(foldin_unobserved), NULL, 0, FLT_MAX, 0, NULL,
     "fold-in: weight of every item not in the history in the least-squares solve (default chosen: with "
     "foldin_reg)",
     "facto", NULL},
    {"seed", NULL, FCT_PT_U64, F(seed), NULL, 0, 18446744073709551615.0, 0, NULL,
     "seed of the initialisation, the order of the users and the samples (one thread: the same seed gives the "
     "same model)",
     "facto", NULL},
};
#undef F

const fct_ptable fct_softmax_ptable = {"softmax", fct_softmax_pdesc,
                                       (int)(sizeof fct_softmax_pdesc / sizeof fct_softmax_pdesc[0]),
                                       sizeof(fct_softmax_params), fct_softmax_defaults, NULL};

static facto_status fct_softmax_load(facto_ctx *ctx, const fct_mfile_reader *r, facto_model **out)
{
    return fct_factors_load(ctx, r, &fct_softmax_ops, out);
}

const fct_model_ops fct_softmax_ops = {
    .kind = FACTO_MODEL_SOFTMAX,
    .name = "softmax",
    .summary = "multi-label softmax cross-entropy, full or sampled with logQ correction, Adam (Yi et al. 2019)",
    .train_inputs = FACTO_INPUT_RATINGS,
    .params = &fct_softmax_ptable,
    .thread_invariant = 0, /* OpenBLAS rounds its products by thread count */
    .load = fct_softmax_load,
    FCT_FACTORS_SHARED_OPS,
};
