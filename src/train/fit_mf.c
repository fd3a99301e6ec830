/*
 * fit_mf.c — the training driver of biased matrix factorization: validates
 * the parameters, builds the model (fct_mf_init, src/models/mf.c), then runs
 * the epochs. Plain SGD runs blocked (src/solvers/fpsg_mf.c: a g x g grid
 * of user x item ranges, strata of disjoint blocks over the context's
 * threads, the same model for any thread count), a progress callback after
 * each stratum (1/g of an epoch) and an epoch report whose train figures are
 * the errors seen during the epoch (a full pass with train_pass); adagrad
 * runs the same blocks with a per-row adaptive rate (Chin, Zhuang, Juan &
 * Lin, PAKDD 2015: each row of P and Q, bias included, steps at
 * lr / sqrt(G_row), G_row the running sum of its mean squared gradient,
 * starting at 1; momentum is ignored, lr_decay still applies). Momentum
 * and Adam take a fresh Fisher-Yates order of the ratings each epoch
 * (sgd_mf.c) on one thread, a progress callback about every 1% of an epoch
 * and train figures from a pass over the training set. Cost O(nnz k) per
 * epoch plus one scoring pass over test (and train) when an epoch callback
 * is set.
 */
#include "solvers/mf_solvers.h"
#include "train.h"

#include "data/dataset.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static facto_status fct_mf_diverged(facto_ctx *ctx, const facto_mf_params *p, int epoch, double max_abs_rating,
                                    const char *why, int weighted)
{
    /* Name every setting that can blow the loss up, the learning rate first. */
    char more[256] = "";
    size_t used = 0;
    double reg = p->reg_factors > p->reg_bias ? (double)p->reg_factors : (double)p->reg_bias;
    if (p->optimizer == FACTO_OPT_SGD && p->momentum > 0.0f)
        used += (size_t)snprintf(more + used, sizeof more - used, " or the momentum (--momentum, now %g)",
                                 (double)p->momentum);
    if (p->optimizer == FACTO_OPT_SGD && (double)p->learning_rate * reg >= 1.0 && used < sizeof more)
        used += (size_t)snprintf(more + used, sizeof more - used,
                                 " or the regularisation (--reg %g, --reg-bias %g: lr * reg must stay below 1)",
                                 (double)p->reg_factors, (double)p->reg_bias);
    if (p->init_std > 1.0f && used < sizeof more)
        used += (size_t)snprintf(more + used, sizeof more - used, " or the initial factor spread (--init-std, now %g)",
                                 (double)p->init_std);
    /* Squared errors are summed in float: ratings near 1e19 overflow whatever the settings. */
    if (max_abs_rating > 1e6 && used < sizeof more)
        snprintf(more + used, sizeof more - used, "; or rescale the ratings (they reach %g)", max_abs_rating);
    return fct_fail(ctx, FACTO_ERR_DIVERGED,
                      "training diverged in epoch %d (%s): lower the learning rate "
                      "(--lr, now %g)%s%s",
                      epoch, why, (double)p->learning_rate, more,
                      weighted ? "; or clip the inverse-propensity weights (--max-ips-weight)" : "");
}

/* A train RMSE over ten times the ratings' range: no model predicts that
 * badly unless its steps ran away (a huge IPS weight, a learning rate just
 * short of overflow); stopping here keeps such a model from being saved.
 * The range counts the starting factors' spread too, sqrt(k) init_std^2
 * (the sd of p_u . q_i at the start): ratings far below it (1e-30) are
 * fitted from that noise, which is no runaway. */
static int fct_mf_runaway(const facto_dataset *train, const facto_mf_params *p, double sse, int64_t n, char *why,
                          size_t cap)
{
    double range = (double)train->max_rating - (double)train->min_rating;
    if (!(range > 0.0))
        range = fmax(fabs((double)train->max_rating), 1.0);
    const double start = sqrt((double)p->num_factors) * (double)p->init_std * (double)p->init_std;
    double rmse = n > 0 ? sqrt(sse / (double)n) : 0.0;
    if (!(rmse > 10.0 * (range + start)))
        return 0;
    snprintf(why, cap, "the train RMSE %g is over 10 times the ratings' range %g", rmse, range);
    return 1;
}

/* What both training loops share. */
typedef struct fct_mf_run {
    facto_ctx *ctx;
    const facto_dataset *train, *test;
    const facto_mf_params *params;
    const facto_fit_callbacks *callbacks;
    fct_mf_model *m;
    fct_rng *rng;
    const int32_t *tumap, *timap; /* test ids in the model's indices */
    const float *weights;         /* [nnz] IPS weights scaled to mean 1, or NULL (all 1) */
} fct_mf_run;

/* The epoch report: train figures from the errors seen during the epoch
 * (seen non-NULL and no train_pass) or from a pass over the training set,
 * test figures from a pass over the test set. 1 when the callback asks to
 * stop. */
static facto_status fct_mf_report(const fct_mf_run *R, int epoch, double secs, const fct_err_acc *seen, int *stop)
{
    const facto_fit_callbacks *cb = R->callbacks;
    if (!cb || !cb->on_epoch)
        return FACTO_OK;
    facto_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = epoch;
    rep.epochs = R->params->epochs;
    rep.test_rmse_average = NAN;
    rep.train_loss = NAN;
    facto_status st = FACTO_OK;
    if (seen && !R->params->train_pass) {
        fct_metrics_empty(&rep.train, FACTO_TASK_REGRESSION);
        fct_metrics_set_errors(&rep.train, seen);
    } else {
        st = fct_fit_report_ratings(R->ctx, &R->m->base, R->train, NULL, NULL, &rep.train);
    }
    if (st == FACTO_OK)
        st = fct_fit_report_ratings(R->ctx, &R->m->base, R->test, R->tumap, R->timap, &rep.test);
    if (st != FACTO_OK)
        return st;
    rep.seconds = secs;
    rep.samples_per_second = secs > 0.0 ? (double)R->train->n_ratings / secs : 0.0;
    if (cb->on_epoch(&rep, cb->user_data))
        *stop = 1;
    return FACTO_OK;
}

/* The per-row accumulators' start (adagrad): the first step is lr / sqrt(1) = lr. */
#define FCT_MF_ADAGRAD_G0 1.0f

/* on_progress after each stratum of an epoch (fct_mf_blocked_epoch's
 * progress): done counted as whole strata, 1/g of the ratings each. */
typedef struct fct_mf_progress {
    const facto_fit_callbacks *callbacks;
    int epoch;
    int64_t n;
    int g, stop;
} fct_mf_progress;

static int fct_mf_on_strata(int strata_done, void *user)
{
    fct_mf_progress *p = user;
    const int64_t done = strata_done == p->g ? p->n : p->n * strata_done / p->g;
    if (p->callbacks->on_progress(p->epoch, done, p->n, p->callbacks->user_data))
        p->stop = 1;
    return p->stop;
}

/* Plain SGD and adagrad: blocked, the same model for any thread count (fpsg_mf.c). */
static facto_status fct_mf_train_blocked(const fct_mf_run *R)
{
    const facto_mf_params *params = R->params;
    const facto_dataset *train = R->train;
    const facto_fit_callbacks *callbacks = R->callbacks;
    fct_mf_model *m = R->m;
    const int64_t n = train->n_ratings;
    const int n_threads = fct_threads(R->ctx);
    const int g = fct_mf_blocked_grid_size(m->n_users, m->n_items, n_threads);
    /* The ratings as stored: a .fds data set's narrow arrays, else the wide ones. */
    const fct_narrow *nw = &train->narrow;
    fct_mf_csr d = {train->row_ptr, train->items, 4, NULL, NULL, train->ratings, R->weights};
    if (nw->item_w) {
        d.items = nw->items;
        d.item_w = nw->item_w;
        d.codes = nw->codes;
        d.table = nw->table;
        d.ratings = nw->rates;
    }
    fct_mf_blocked b;
    if (fct_mf_blocked_init(&b, m, &d, g, fct_rng_u64(R->rng), n_threads) != 0)
        return fct_fail(R->ctx, FACTO_ERR_NOMEM, "out of memory for training state");
    if (params->optimizer == FACTO_OPT_ADAGRAD)
        fct_mf_blocked_adaptive(&b, FCT_MF_ADAGRAD_G0);
    fct_log(R->ctx, FACTO_LOG_DEBUG, "mf sgd: %d x %d blocks, %d threads, rows of %d floats", g, g, n_threads,
            b.stride);
    const float mu = (float)m->mu;
    float lr = params->learning_rate;
    int stop = 0;
    facto_status st = FACTO_OK;
    for (int epoch = 1; epoch <= params->epochs && !stop; epoch++) {
        fct_mf_blocked_schedule(&b, epoch);
        double t0 = fct_now();
        fct_err_acc seen = {0.0, 0.0, 0};
        fct_mf_progress pr = {callbacks, epoch, n, g, 0};
        const int strata = fct_mf_blocked_epoch(&b, epoch, mu, lr, params->reg_factors, params->reg_bias, n_threads,
                                                callbacks && callbacks->on_progress ? fct_mf_on_strata : NULL, &pr,
                                                &seen.sse, &seen.sae);
        stop = pr.stop;
        const int64_t done = strata == g ? n : n * strata / g;
        seen.n = done;
        double secs = fct_now() - t0;
        if (!isfinite(seen.sse) || !isfinite(seen.sae)) {
            st = fct_mf_diverged(R->ctx, params, epoch,
                                 fmax(fabs((double)train->min_rating), fabs((double)train->max_rating)), "the loss is not finite", R->weights != NULL);
            break;
        }
        char why[160];
        if (done == n && fct_mf_runaway(train, params, seen.sse, done, why, sizeof why)) {
            st = fct_mf_diverged(R->ctx, params, epoch,
                                 fmax(fabs((double)train->min_rating), fabs((double)train->max_rating)), why, R->weights != NULL);
            break;
        }
        /* the biases (the factors are trained in place), and whether all are finite */
        if (!fct_mf_blocked_store(&b, m, n_threads)) {
            st = fct_mf_diverged(R->ctx, params, epoch,
                                 fmax(fabs((double)train->min_rating), fabs((double)train->max_rating)), "the loss is not finite", R->weights != NULL);
            break;
        }
        fct_log(R->ctx, FACTO_LOG_DEBUG, "mf epoch %d: running train rmse %.4f, lr %g", epoch,
                sqrt(seen.sse / (double)(done > 0 ? done : 1)), (double)lr);
        st = fct_mf_report(R, epoch, secs, done == n ? &seen : NULL, &stop);
        if (st != FACTO_OK)
            break;
        lr *= params->lr_decay;
    }
    fct_mf_blocked_free(&b);
    if (st != FACTO_OK)
        return st;
    fct_mf_compact(m);
    return fct_mf_set_seen(R->ctx, m, train);
}

/* Momentum and Adam: per-rating steps over a fresh shuffled order each
 * epoch (sgd_mf.c), on one thread whatever the context's count, so the
 * model is the same for any count (Hogwild made it depend on the count and
 * on timing; the blocked schedule serves plain SGD only). */
static facto_status fct_mf_train_hogwild(const fct_mf_run *R)
{
    facto_ctx *ctx = R->ctx;
    const facto_mf_params *params = R->params;
    const facto_dataset *train = R->train;
    const facto_fit_callbacks *callbacks = R->callbacks;
    fct_mf_model *m = R->m;
    facto_status st = FACTO_OK;
    const int64_t n = train->n_ratings;
    int32_t *users = fct_malloc_array((size_t)n, sizeof *users);
    int64_t *order = fct_malloc_array((size_t)n, sizeof *order);
    fct_mf_solver *solver = fct_mf_solver_new(m, params);
    if (!users || !order || !solver) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for training state");
        goto done;
    }
    for (int32_t u = 0; u < train->n_users; u++)
        for (int64_t x = train->row_ptr[u]; x < train->row_ptr[u + 1]; x++)
            users[x] = u;
    for (int64_t x = 0; x < n; x++)
        order[x] = x;
    fct_mf_triplets trip = {users, train->items, train->ratings, n, R->weights}; /* weights: NULL = 1 */
    const int64_t chunk = (n + 99) / 100; /* progress about every 1% */
    float lr = params->learning_rate;
    int stop = 0;
    for (int epoch = 1; epoch <= params->epochs && !stop; epoch++) {
        fct_rng_shuffle_i64(R->rng, order, n);
        solver->step_base = (int64_t)(epoch - 1) * n;
        double t0 = fct_now(), sse = 0.0;
        for (int64_t b = 0; b < n && !stop; b += chunk) {
            int64_t e = b + chunk < n ? b + chunk : n;
            sse += fct_mf_solver_run(solver, m, &trip, order, b, e, lr, 1);
            if (!isfinite(sse))
                break;
            if (callbacks && callbacks->on_progress && callbacks->on_progress(epoch, e, n, callbacks->user_data))
                stop = 1;
        }
        double secs = fct_now() - t0;
        if (!isfinite(sse) || !fct_mf_params_finite(m)) {
            st = fct_mf_diverged(ctx, params, epoch,
                                   fmax(fabs((double)train->min_rating), fabs((double)train->max_rating)), "the loss is not finite", R->weights != NULL);
            goto done;
        }
        char why[160];
        if (!stop && fct_mf_runaway(train, params, sse, n, why, sizeof why)) {
            st = fct_mf_diverged(ctx, params, epoch,
                                 fmax(fabs((double)train->min_rating), fabs((double)train->max_rating)), why, R->weights != NULL);
            goto done;
        }
        fct_log(ctx, FACTO_LOG_DEBUG, "mf epoch %d: running train rmse %.4f, lr %g", epoch, sqrt(sse / (double)n),
                  (double)lr);
        st = fct_mf_report(R, epoch, secs, NULL, &stop);
        if (st != FACTO_OK)
            goto done;
        lr *= params->lr_decay;
    }
    st = FACTO_OK;
done:
    fct_mf_solver_free(solver);
    free(users);
    free(order);
    return st;
}

facto_status facto_mf_fit(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                          const facto_mf_params *params, const facto_fit_callbacks *callbacks,
                          facto_model **out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_mf_fit: out must not be NULL");
    *out = NULL;
    if (!train || !params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_mf_fit: train and params must not be NULL");
    facto_status st = fct_mf_validate(ctx, params);
    if (st != FACTO_OK)
        return st;
    if (train->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "the training data set holds no ratings");
    if (test && test->n_ratings == 0)
        test = NULL;

    /* Plain SGD trains blocked from the data as stored (a .fds data set's
     * narrow arrays; the reports read them too); the other optimizers read
     * the wide arrays. */
    const int blocked =
        (params->optimizer == FACTO_OPT_SGD && params->momentum == 0.0f) || params->optimizer == FACTO_OPT_ADAGRAD;
    if (!blocked && (st = fct_dataset_wide(ctx, train)) != FACTO_OK)
        return st;
    fct_rng rng;
    fct_rng_seed(&rng, params->seed);
    fct_mf_model *m = NULL;
    st = fct_mf_init(ctx, train, params, &rng, blocked ? fct_mf_blocked_stride(params->num_factors) : params->num_factors,
                     !blocked, &m);
    if (st != FACTO_OK)
        return st;

    const int64_t n = train->n_ratings;
    int32_t *tumap = NULL, *timap = NULL;
    float *wn = NULL; /* the IPS weights scaled to mean 1, or NULL */
    if (test) {
        st = fct_model_map_ids(ctx, test->user_map, m->users, &tumap);
        if (st == FACTO_OK)
            st = fct_model_map_ids(ctx, test->item_map, m->items, &timap);
        if (st != FACTO_OK)
            goto done;
    }
    /* IPS weights scaled to mean 1: the loss is sum w e^2 / sum w (the
     * self-normalised form), so the learning rate and --reg keep their
     * meaning whatever the propensities' scale. */
    const float *weights = train->weights; /* checked by facto_dataset_set_weights */
    if (weights) {
        double sw = 0.0;
        for (int64_t x = 0; x < n; x++)
            sw += weights[x];
        if (!(wn = fct_malloc_array((size_t)n, sizeof *wn))) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for training state");
            goto done;
        }
        const double scale = (double)n / sw;
        for (int64_t x = 0; x < n; x++)
            wn[x] = (float)(weights[x] * scale);
    }
    /* m->params: the caller's with an unset reg_factors set from the data */
    fct_mf_run run = {ctx, train, test, &m->params, callbacks, m, &rng, tumap, timap, wn};
    if (blocked)
        st = fct_mf_train_blocked(&run);
    else
        st = fct_mf_train_hogwild(&run);
    if (st != FACTO_OK)
        goto done;
    st = FACTO_OK;
done:
    free(wn);
    free(tumap);
    free(timap);
    if (st != FACTO_OK) {
        fct_mf_model_destroy(m);
        return st;
    }
    *out = &m->base;
    return fct_ok(ctx);
}


facto_status fct_fit_mf(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                        const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (!data->train || data->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "mf trains on ratings (facto_fit_data.train), not feature rows");
    if (data->user_features || data->item_features)
        return fct_fail(ctx, FACTO_ERR_INVALID, "mf uses no side features (facto_fit_data.user_features, "
                                                "item_features): it learns from the ratings alone");
    return facto_mf_fit(ctx, data->train, data->test, fct_params_struct(params), callbacks, out);
}
