/*
 * fit_mf.c — the training driver of biased matrix factorization: validates
 * the parameters, builds the model (fct_mf_init, src/models/mf.c), then runs
 * the epochs: a fresh Fisher-Yates order of the ratings each epoch, updates
 * through the MF solver (src/solvers: SGD with momentum, Adam), Hogwild over
 * contiguous parts of the order with several threads, a progress callback
 * about every 1% of an epoch and an epoch report with train and test RMSE /
 * MAE. Cost O(nnz k) per epoch plus one scoring pass over train and test
 * when an epoch callback is set.
 */
#include "solvers/mf_solvers.h"
#include "train.h"

#include "data/dataset.h"
#include "metrics/metrics.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static facto_status fct_mf_diverged(facto_ctx *ctx, const facto_mf_params *p, int epoch, double max_abs_rating)
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
                      "training diverged in epoch %d (the loss is not finite): lower the learning rate "
                      "(--lr, now %g)%s",
                      epoch, (double)p->learning_rate, more);
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

    fct_rng rng;
    fct_rng_seed(&rng, params->seed);
    fct_mf_model *m = NULL;
    st = fct_mf_init(ctx, train, params, &rng, &m);
    if (st != FACTO_OK)
        return st;

    const int64_t n = train->n_ratings;
    int32_t *users = fct_malloc_array((size_t)n, sizeof *users);
    int64_t *order = fct_malloc_array((size_t)n, sizeof *order);
    int32_t *tumap = NULL, *timap = NULL;
    float *wn = NULL; /* the IPS weights scaled to mean 1, or NULL */
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
    fct_mf_triplets trip = {users, train->items, train->ratings, n, wn}; /* weights: NULL = 1 */
    const int n_threads = fct_threads(ctx);
    const int64_t chunk = (n + 99) / 100; /* progress about every 1% */
    float lr = params->learning_rate;
    int stop = 0;
    for (int epoch = 1; epoch <= params->epochs && !stop; epoch++) {
        fct_rng_shuffle_i64(&rng, order, n);
        solver->step_base = (int64_t)(epoch - 1) * n;
        double t0 = fct_now(), sse = 0.0;
        if (n_threads <= 1) {
            for (int64_t b = 0; b < n && !stop; b += chunk) {
                int64_t e = b + chunk < n ? b + chunk : n;
                sse += fct_mf_solver_run(solver, m, &trip, order, b, e, lr, 1);
                if (!isfinite(sse))
                    break;
                if (callbacks && callbacks->on_progress &&
                    callbacks->on_progress(epoch, e, n, callbacks->user_data))
                    stop = 1;
            }
        } else {
            /* Hogwild: each thread takes a contiguous part of the shuffled
             * order, one parallel region per epoch; the calling thread (0)
             * reports progress, extrapolated from its own part. */
            int halt = 0;
#pragma omp parallel num_threads(n_threads) reduction(+ : sse)
            {
                int t = omp_get_thread_num(), nt = omp_get_num_threads();
                int64_t b0 = n * t / nt, e0 = n * (t + 1) / nt, step = (chunk + nt - 1) / nt;
                for (int64_t b = b0; b < e0; b += step) {
                    int h;
#pragma omp atomic read
                    h = halt;
                    if (h)
                        break;
                    int64_t e = b + step < e0 ? b + step : e0;
                    sse += fct_mf_solver_run(solver, m, &trip, order, b, e, lr, 1);
                    int bad = !isfinite(sse), want_stop = 0;
                    if (t == 0 && !bad && callbacks && callbacks->on_progress) {
                        int64_t done = e == e0 ? n : (e - b0) * nt;
                        want_stop = callbacks->on_progress(epoch, done < n ? done : n, n, callbacks->user_data);
                    }
                    if (bad || want_stop) {
#pragma omp atomic write
                        halt = 1;
                        if (want_stop)
                            stop = 1;
                    }
                }
            }
        }
        double secs = fct_now() - t0;
        if (!isfinite(sse) || !fct_mf_params_finite(m)) {
            st = fct_mf_diverged(ctx, params, epoch,
                                   fmax(fabs((double)train->min_rating), fabs((double)train->max_rating)));
            goto done;
        }
        fct_log(ctx, FACTO_LOG_DEBUG, "mf epoch %d: running train rmse %.4f, lr %g", epoch, sqrt(sse / (double)n),
                  (double)lr);
        if (callbacks && callbacks->on_epoch) {
            facto_epoch_report rep;
            memset(&rep, 0, sizeof rep);
            rep.epoch = epoch;
            rep.epochs = params->epochs;
            rep.test_rmse_average = NAN;
            rep.train_loss = NAN;
            st = fct_fit_report_ratings(ctx, &m->base, train, NULL, NULL, &rep.train);
            if (st == FACTO_OK)
                st = fct_fit_report_ratings(ctx, &m->base, test, tumap, timap, &rep.test);
            if (st != FACTO_OK)
                goto done;
            rep.seconds = secs;
            rep.samples_per_second = secs > 0.0 ? (double)n / secs : 0.0;
            if (callbacks->on_epoch(&rep, callbacks->user_data))
                stop = 1;
        }
        lr *= params->lr_decay;
    }
    st = FACTO_OK;
done:
    free(wn);
    fct_mf_solver_free(solver);
    free(users);
    free(order);
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
