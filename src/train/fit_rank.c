/*
 * fit_rank.c — what the training drivers of the ranking kinds trained by a
 * first-order solver share (fit_bpr.c, fit_warp.c, fit_softmax.c): the
 * checks of the training data and the model's creation and
 * initialisation, the choice of optimizer, the end of an epoch (a
 * divergence check and the epoch report), and the epoch loop of the
 * pairwise kinds (src/solvers/pairwise.c). Training data weights are not
 * read: every (user, item) pair of the training set is a positive.
 */
#include "train.h"

#include "data/dataset.h"
#include "metrics/metrics.h"
#include "models/rank_common.h"

#include <math.h>
#include <string.h>

fct_optim_kind fct_rank_optimizer(int choice)
{
    switch (choice) {
    case FCT_RANK_OPT_ADAGRAD:
        return FCT_OPTIM_ADAGRAD;
    case FCT_RANK_OPT_ADAM:
        return FCT_OPTIM_ADAM;
    default:
        return FCT_OPTIM_SGD;
    }
}

facto_status fct_rank_begin(facto_ctx *ctx, const fct_model_ops *ops, const void *params, const facto_fit_data *data,
                            int32_t k, int item_bias, float init_std, uint64_t seed,
                            const fct_factors_foldin *foldin, fct_factors_model **out)
{
    *out = NULL;
    const facto_dataset *train = data->train;
    if (!train || data->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%s trains on interactions (facto_fit_data.train), not feature rows",
                        ops->name);
    facto_status st = fct_params_check(ctx, ops->params, params);
    if (st != FACTO_OK)
        return st;
    if (train->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "the training data set holds no interactions");
    fct_factors_model *m = NULL;
    st = fct_factors_create(ctx, ops, params, train, k, item_bias, foldin, &m);
    if (st != FACTO_OK)
        return st;
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    fct_factors_init_normal(m, &rng, (double)init_std / sqrt((double)k));
    const char *bad = fct_factors_unusable(m);
    if (bad) {
        fct_factors_destroy(m);
        return fct_fail(ctx, FACTO_ERR_DIVERGED, "%s: the initial factors, drawn with standard deviation init_std / "
                        "sqrt(num_factors), are unusable (%s): lower --init_std (now %g)",
                        ops->name, bad, (double)init_std);
    }
    *out = m;
    return FACTO_OK;
}

facto_status fct_rank_epoch_end(facto_ctx *ctx, fct_factors_model *m, const facto_fit_callbacks *callbacks,
                                int epoch, int epochs, double seconds, int64_t n, double loss, float lr, float reg,
                                int *stop)
{
    *stop = 0;
    const char *name = m->base.ops->name;
    const char *bad = isfinite(loss) ? fct_factors_unusable(m) : "the training loss is not finite";
    if (bad)
        return fct_fail(ctx, FACTO_ERR_DIVERGED,
                        "%s diverged in epoch %d (%s): lower the learning rate (--lr, now %g); the weight decay "
                        "(--reg, now %g) must keep lr * reg well below 1",
                        name, epoch, bad, (double)lr, (double)reg);
    const double per = n > 0 ? loss / (double)n : NAN;
    fct_log(ctx, FACTO_LOG_DEBUG, "%s epoch %d: %.3f s, loss per positive %.6f", name, epoch, seconds, per);
    if (!callbacks || !callbacks->on_epoch)
        return FACTO_OK;
    facto_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = epoch;
    rep.epochs = epochs;
    fct_metrics_empty(&rep.train, FACTO_TASK_RANKING);
    fct_metrics_empty(&rep.test, FACTO_TASK_RANKING);
    rep.test_rmse_average = NAN;
    rep.seconds = seconds;
    rep.samples_per_second = seconds > 0.0 ? (double)n / seconds : 0.0;
    rep.train_loss = per;
    *stop = callbacks->on_epoch(&rep, callbacks->user_data) != 0;
    return FACTO_OK;
}

facto_status fct_rank_fit_pairwise(facto_ctx *ctx, const fct_pair_cfg *cfg, fct_factors_model *m,
                                   const facto_dataset *train, int epochs, const facto_fit_callbacks *callbacks,
                                   facto_model **out)
{
    *out = NULL;
    fct_pair_solver *s = NULL;
    facto_status st = fct_pair_solver_new(ctx, cfg, m, train, &s);
    for (int e = 1; st == FACTO_OK && e <= epochs; e++) {
        const double t0 = fct_now();
        fct_pair_stats ps;
        fct_pair_epoch(s, e, &ps);
        int stop = 0;
        st = fct_rank_epoch_end(ctx, m, callbacks, e, epochs, fct_now() - t0, ps.n, ps.loss, cfg->lr, cfg->reg,
                                &stop);
        if (stop)
            break;
    }
    fct_pair_solver_free(s);
    if (st == FACTO_OK)
        st = fct_factors_ready(ctx, m);
    if (st != FACTO_OK) {
        fct_factors_destroy(m);
        return st;
    }
    *out = &m->base;
    return fct_ok(ctx);
}
