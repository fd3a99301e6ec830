/*
 * fit_fm.c — the training driver of factorization machines on feature rows
 * (facto_fm_fit): validates the hyperparameters and labels, creates the
 * model (dense or hashed slots, SageMaker's init methods: src/models/fm.c),
 * maps every row's keys to slots once, hands the model to the solver
 * params->solver names (src/solvers: fm_sgd.c, fm_als.c, fm_mcmc.c) and
 * finally zeroes the parameters of features no training row uses.
 * Cost: the solver's, plus O(nnz) for the slot maps.
 */
#include "solvers/fm_solvers.h"
#include "train.h"
#include "fit_fm_ratings.h"

#include <math.h>
#include <string.h>

/* The solvers report FM's own figures (fct_fm_epoch_report); the caller
 * gets the one report type of every kind. */
static void fct_fm_metrics_to(const fct_fm_metrics *in, facto_task task, facto_metrics *out)
{
    fct_metrics_empty(out, task);
    out->n = in->n_rows;
    if (in->n_rows == 0)
        return;
    out->rmse = in->rmse;
    out->mae = in->mae;
    out->binary = in->binary;
}

static int fct_fm_on_epoch(const fct_fm_epoch_report *r, void *user_data)
{
    const fct_fm_adapter *ad = user_data;
    facto_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = r->epoch;
    rep.epochs = r->epochs;
    fct_fm_metrics_to(&r->train, ad->task, &rep.train);
    fct_fm_metrics_to(&r->test, ad->task, &rep.test);
    /* MCMC reports libFM's running average of every sample's prediction. */
    rep.test_rmse_average = ad->mcmc && ad->task == FACTO_TASK_REGRESSION && r->test.n_rows > 0 ? r->test.rmse : NAN;
    rep.seconds = r->seconds;
    rep.samples_per_second = r->samples_per_second;
    rep.train_loss = NAN;
    return ad->user->on_epoch ? ad->user->on_epoch(&rep, ad->user->user_data) : 0;
}

fct_fm_callbacks fct_fm_adapt(fct_fm_adapter *ad, const facto_fit_callbacks *user, const facto_fm_params *p)
{
    ad->user = user;
    ad->task = p->predictor_type == FACTO_FM_BINARY_CLASSIFIER ? FACTO_TASK_BINARY : FACTO_TASK_REGRESSION;
    ad->mcmc = p->solver == FACTO_FM_SOLVER_MCMC;
    fct_fm_callbacks cb = {fct_fm_on_epoch, ad};
    return cb;
}

facto_status facto_fm_fit(facto_ctx *ctx, const facto_rows *train, const facto_rows *test,
                          const facto_fm_params *params, const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (!out || !train || !params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_fit: train, params and out must be given");
    *out = NULL;
    facto_status st = facto_fm_params_validate(ctx, params);
    if (st != FACTO_OK)
        return st;
    if (train->n_rows <= 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "factorization machine: the training rows are empty");
    st = fct_fm_check_labels(ctx, params, train, "training");
    if (st == FACTO_OK && test)
        st = fct_fm_check_labels(ctx, params, test, "test");
    if (st != FACTO_OK)
        return st;
    facto_status (*solve)(facto_ctx *, fct_fm_model *, const facto_rows *, const uint32_t *, const facto_rows *,
                          const uint32_t *, const fct_fm_callbacks *) = NULL;
    switch (params->solver) {
    case FACTO_FM_SOLVER_SGD: solve = fct_fm_fit_sgd; break;
    case FACTO_FM_SOLVER_ALS: solve = fct_fm_fit_als; break;
    case FACTO_FM_SOLVER_MCMC: solve = fct_fm_fit_mcmc; break;
    }
    if (!solve)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter solver: %d is not one of sgd, als, mcmc",
                          (int)params->solver);
    fct_fm_model *m = NULL;
    st = fct_fm_model_new(ctx, params, train, &m);
    if (st != FACTO_OK)
        return st;
    if (params->predictor_type == FACTO_FM_REGRESSOR) {
        float lo = train->labels[0], hi = train->labels[0];
        for (int64_t r = 1; r < train->n_rows; r++) {
            lo = train->labels[r] < lo ? train->labels[r] : lo;
            hi = train->labels[r] > hi ? train->labels[r] : hi;
        }
        m->target_min = lo;
        m->target_max = hi;
    }
    uint32_t *train_slots = NULL, *test_slots = NULL;
    st = fct_fm_map_rows(ctx, m, train, &train_slots);
    if (st == FACTO_OK && test)
        st = fct_fm_map_rows(ctx, m, test, &test_slots);
    fct_fm_adapter ad;
    fct_fm_callbacks fcb = fct_fm_adapt(&ad, callbacks, params);
    if (st == FACTO_OK)
        st = solve(ctx, m, train, train_slots, test, test_slots, callbacks ? &fcb : NULL);
    if (st == FACTO_OK)
        st = fct_fm_zero_unseen(ctx, m, train, train_slots);
    free(train_slots);
    free(test_slots);
    if (st != FACTO_OK) {
        facto_model_free(&m->base);
        return st;
    }
    *out = &m->base;
    return fct_ok(ctx);
}


/* MCMC on ratings pools its chains at the end, while the epoch reports
 * follow chain 1: the last report is held back until the fit returns, so
 * its test_rmse_average can be the pooled chains' (libFM's figure over
 * every sample), as the typed call returns it. Each report reaches the
 * caller one iteration late; a stop request too. */
typedef struct fct_fm_held {
    const facto_fit_callbacks *user;
    facto_epoch_report report;
    int have;
} fct_fm_held;

static int fct_fm_hold_epoch(const facto_epoch_report *r, void *user_data)
{
    fct_fm_held *h = user_data;
    int stop = h->have ? h->user->on_epoch(&h->report, h->user->user_data) : 0;
    h->report = *r;
    h->have = 1;
    return stop;
}

/* ALS or MCMC on ratings in block form. */
static facto_status fct_fit_fm_ratings(facto_ctx *ctx, const facto_fm_params *p, const facto_fit_data *data,
                                       const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (p->solver == FACTO_FM_SOLVER_SGD)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter solver: sgd trains on feature rows; encode the ratings one-hot first "
                        "(facto_fm_encode), or train on ratings with solver als or mcmc");
    if (p->predictor_type == FACTO_FM_BINARY_CLASSIFIER && !(p->binarize > 0.0f))
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter binarize: a binary_classifier trained from ratings "
                                                "needs it (label 1 when the rating is >= binarize)");
    facto_fm_ratings_options o = facto_fm_ratings_options_default();
    o.implicit = p->implicit;
    o.prior_groups = p->prior_groups;
    o.binarize = p->binarize;
    /* implicit and binarize travel as options, as in the typed call; the
     * model keeps implicit in its feature flags. Its stored hyperparameters
     * are then those of facto_fm_fit_ratings with the same options, so both
     * calls give the same model bytes. */
    facto_fm_params q = *p;
    q.implicit = 0;
    q.binarize = 0.0f;
    fct_fm_held held = {callbacks, {0}, 0};
    facto_fit_callbacks hold = {fct_fm_hold_epoch, NULL, &held};
    int pooled = callbacks && callbacks->on_epoch && p->solver == FACTO_FM_SOLVER_MCMC && p->mcmc_chains > 1;
    double chain = NAN;
    facto_status st = fct_fm_fit_ratings_with(ctx, data->train, data->test, data->user_features,
                                              data->item_features, &o, &q, pooled ? &hold : callbacks, out, &chain);
    if (st == FACTO_OK && held.have) {
        if (isfinite(held.report.test_rmse_average) && isfinite(chain))
            held.report.test_rmse_average = chain;
        callbacks->on_epoch(&held.report, callbacks->user_data);
    }
    return st;
}

facto_status fct_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                        const facto_fit_callbacks *callbacks, facto_model **out)
{
    const facto_fm_params *p = fct_params_struct(params);
    if (data->train_rows) {
        if (data->train)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "fm trains on feature rows or on ratings, not both at once (facto_fit_data)");
        /* Settings of ratings have no meaning for rows: refuse rather than ignore them. */
        if (p->implicit)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter implicit: implicit-feedback blocks are built "
                                                    "from ratings (solver als or mcmc), not from feature rows");
        if (p->binarize > 0.0f)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter binarize: it turns ratings into labels; "
                                                    "feature rows carry their own labels");
        if (p->prior_groups == 2)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter prior_groups: 2 (a group per kind of side "
                                                    "feature) is for ratings; rows take 0 or 1");
        facto_fm_params q = *p;
        if (q.feature_dim == 0) {
            /* SageMaker requires feature_dim; facto takes it from the rows when it is not given */
            q.feature_dim = facto_rows_dim(data->train_rows);
            if (data->test_rows && facto_rows_dim(data->test_rows) > q.feature_dim)
                q.feature_dim = facto_rows_dim(data->test_rows);
            fct_log(ctx, FACTO_LOG_INFO, "feature_dim not given; %llu from the data",
                    (unsigned long long)q.feature_dim);
        }
        return facto_fm_fit(ctx, data->train_rows, data->test_rows, &q, callbacks, out);
    }
    if (!data->train)
        return fct_fail(ctx, FACTO_ERR_INVALID, "fm needs training rows or ratings (facto_fit_data)");
    return fct_fit_fm_ratings(ctx, p, data, callbacks, out);
}
