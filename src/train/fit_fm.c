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

#include <string.h>

facto_status facto_fm_fit(facto_ctx *ctx, const facto_rows *train, const facto_rows *test,
                          const facto_fm_params *params, const facto_fm_callbacks *callbacks, facto_model **out)
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
                          const uint32_t *, const facto_fm_callbacks *) = NULL;
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
    if (st == FACTO_OK)
        st = solve(ctx, m, train, train_slots, test, test_slots, callbacks);
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

