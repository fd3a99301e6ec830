/*
 * fit_fm_ratings.c — the training drivers of factorization machines on block
 * data (libFM's block structure, Rendle, VLDB 2013): fct_fm_fit_blocks
 * gathers every source's keys so the model sees them, creates the model,
 * maps each source (direct rows, blocks) to slots and runs the ALS or MCMC
 * engine (src/solvers/fm_mcmc.h); facto_fm_fit_ratings builds that data
 * from a ratings data set (user and item blocks with optional side features
 * and implicit feedback, src/data/fm_blocks.c) and keeps the id maps in the
 * model so it predicts by ids. Cost: the solver's, plus O(nnz of every
 * source) for the key rows and slot maps.
 */
#include "fit_fm_ratings.h"

#include "data/features.h"
#include "train.h"

#include <math.h>
#include <string.h>

/* All keys of every source as rows, so fct_fm_model_new sees them. */
static facto_status fct_fm_key_rows(facto_ctx *ctx, const fct_fm_data *d, uint64_t dim, facto_rows **out)
{
    facto_rows *r = facto_rows_new(dim, 1);
    if (!r)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    facto_status st = FACTO_OK;
    for (int s = 0; s <= d->n_blocks && st == FACTO_OK; s++) {
        const facto_rows *src = s == 0 ? d->direct : d->block[s - 1].rows;
        for (int64_t j = 0; src && j < src->n_rows && st == FACTO_OK; j++) {
            for (int64_t e = src->row_ptr[j]; e < src->row_ptr[j + 1] && st == FACTO_OK; e++)
                st = facto_rows_push(ctx, r, src->keys[e], src->values[e]);
            if (st == FACTO_OK)
                st = facto_rows_finish_row(ctx, r, s == 0 && d->direct->labels ? d->direct->labels[j] : 0.0f);
        }
    }
    if (st != FACTO_OK) {
        facto_rows_free(r);
        return st;
    }
    *out = r;
    return FACTO_OK;
}

facto_status fct_fm_fit_blocks(facto_ctx *ctx, const fct_fm_data *train, const fct_fm_data *test,
                                 const facto_fm_params *params, const fct_fm_callbacks *callbacks,
                                 int burnin, int summary_rank, facto_model **out, fct_fm_cd_result *result)
{
    if (params->solver != FACTO_FM_SOLVER_ALS && params->solver != FACTO_FM_SOLVER_MCMC)
        return fct_fail(ctx, FACTO_ERR_INVALID, "solver: block data need the als or mcmc solver");
    facto_fm_params p = *params;
    if (p.feature_dim < train->feature_dim)
        return fct_fail(ctx, FACTO_ERR_INVALID, "feature_dim %llu: the data use %llu features",
                          (unsigned long long)p.feature_dim, (unsigned long long)train->feature_dim);
    facto_rows *keys = NULL;
    fct_fm_model *m = NULL;
    uint32_t *trs[1 + FACTO_FM_MAX_BLOCKS] = {0}, *tes[1 + FACTO_FM_MAX_BLOCKS] = {0};
    facto_status st = fct_fm_key_rows(ctx, train, p.feature_dim, &keys);
    if (st == FACTO_OK)
        st = fct_fm_model_new(ctx, &p, keys, &m);
    facto_rows_free(keys);
    for (int s = 0; st == FACTO_OK && s <= train->n_blocks; s++)
        st = fct_fm_map_rows(ctx, m, s == 0 ? train->direct : train->block[s - 1].rows,
                             s == 0 ? "training" : "feature block", &trs[s]);
    for (int s = 0; st == FACTO_OK && test && s <= test->n_blocks; s++)
        st = fct_fm_map_rows(ctx, m, s == 0 ? test->direct : test->block[s - 1].rows,
                             s == 0 ? "test" : "feature block", &tes[s]);
    if (st == FACTO_OK)
        st = fct_fm_cd_run(ctx, m, p.solver == FACTO_FM_SOLVER_ALS ? FACTO_FM_CD_ALS : FACTO_FM_CD_MCMC, train,
                             (const uint32_t *const *)trs, test, (const uint32_t *const *)tes, callbacks, burnin,
                             summary_rank, result);
    for (int s = 0; s <= FACTO_FM_MAX_BLOCKS; s++) {
        free(trs[s]);
        free(tes[s]);
    }
    if (st != FACTO_OK) {
        if (m)
            facto_model_free(&m->base);
        return st;
    }
    *out = &m->base;
    return FACTO_OK;
}

/* ---- public: training from ratings in block form ------------------------ */

facto_fm_ratings_options facto_fm_ratings_options_default(void)
{
    facto_fm_ratings_options o;
    memset(&o, 0, sizeof o);
    o.prior_groups = 1;
    return o;
}

facto_status fct_fm_fit_ratings_with(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                     const facto_features *user_features, const facto_features *item_features,
                                     const facto_fm_ratings_options *opts, const facto_fm_params *params,
                                     const facto_fit_callbacks *callbacks, facto_model **out,
                                     double *test_rmse_chain)
{
    if (!train || !params || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_fit_ratings: train, params and out must be given");
    *out = NULL;
    if (test_rmse_chain)
        *test_rmse_chain = NAN;
    facto_fm_ratings_options def = facto_fm_ratings_options_default();
    if (!opts)
        opts = &def;
    if (opts->implicit & ~(FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM))
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_ratings_options.implicit: %d is not a set of "
                                                  "FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM",
                          opts->implicit);
    if (opts->prior_groups < 0 || opts->prior_groups > 2)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_ratings_options.prior_groups: %d is not 0, 1 or 2",
                          opts->prior_groups);
    if (!(opts->binarize >= 0.0f))
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_fm_ratings_options.binarize must be >= 0");
    if (params->solver == FACTO_FM_SOLVER_SGD)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "hyperparameter solver: training from ratings in block form needs als or mcmc, not sgd "
                          "(sgd trains on feature rows: facto_fm_encode then facto_fm_fit)");
    if (params->predictor_type == FACTO_FM_BINARY_CLASSIFIER && !(opts->binarize > 0.0f))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "binary_classifier on ratings needs facto_fm_ratings_options.binarize > 0");
    if (train->n_ratings == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "factorization machine: the training ratings are empty");
    facto_rows *us = NULL, *is = NULL;
    int32_t *ug = NULL, *ig = NULL, nu = 0, ni = 0;
    fct_fm_data tr, te;
    memset(&tr, 0, sizeof tr);
    memset(&te, 0, sizeof te);
    facto_model *model = NULL;
    facto_status st = FACTO_OK;
    if (user_features)
        st = fct_fm_side_rows(ctx, user_features, opts->user_file ? opts->user_file : "the user features", 1,
                              train->user_map, &us, &ug, &nu);
    if (st == FACTO_OK && item_features)
        st = fct_fm_side_rows(ctx, item_features, opts->item_file ? opts->item_file : "the item features", 0,
                              train->item_map, &is, &ig, &ni);
    if (st != FACTO_OK)
        goto done;
    /* prior_groups 1: one group per side file; 2: one per kind of side feature */
    fct_fm_ratings_spec spec = {(opts->implicit & FACTO_FM_IMPLICIT_USER) != 0,
                                  (opts->implicit & FACTO_FM_IMPLICIT_ITEM) != 0, us, is,
                                  opts->prior_groups == 2 ? ug : NULL, opts->prior_groups == 2 ? ig : NULL};
    if ((st = fct_fm_data_from_ratings(ctx, train, test, &spec, &tr, test ? &te : NULL)) != FACTO_OK)
        goto done;
    if (!opts->prior_groups && tr.groups_owned) {
        free((int32_t *)tr.feature_group);
        tr.feature_group = NULL;
        tr.n_groups = 0;
        tr.groups_owned = 0;
    }
    if (opts->binarize > 0.0f) {
        facto_rows *lt[2] = {(facto_rows *)tr.direct, test ? (facto_rows *)te.direct : NULL};
        for (int d = 0; d < 2; d++)
            for (int64_t n = 0; lt[d] && n < lt[d]->n_rows; n++)
                lt[d]->labels[n] = lt[d]->labels[n] >= opts->binarize ? 1.0f : 0.0f;
    }
    facto_fm_params p = *params;
    if (p.feature_dim == 0)
        p.feature_dim = tr.feature_dim;
    else if (p.feature_dim != tr.feature_dim) {
        st = fct_fail(ctx, FACTO_ERR_INVALID,
                        "hyperparameter feature_dim: %llu, but the ratings' layout has %llu features (leave it 0)",
                        (unsigned long long)p.feature_dim, (unsigned long long)tr.feature_dim);
        goto done;
    }
    if ((st = facto_fm_params_validate(ctx, &p)) != FACTO_OK)
        goto done;
    fct_fm_cd_result res;
    fct_fm_adapter ad;
    fct_fm_callbacks fcb = fct_fm_adapt(&ad, callbacks, &p);
    st = fct_fm_fit_blocks(ctx, &tr, test ? &te : NULL, &p, callbacks ? &fcb : NULL, -1, 0, &model, &res);
    if (st != FACTO_OK)
        goto done;
    fct_fm_model *m = (fct_fm_model *)model;
    m->users = fct_idmap_clone(train->user_map);
    m->items = fct_idmap_clone(train->item_map);
    if (!m->users || !m->items) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory copying the id maps");
        goto done;
    }
    if ((st = fct_fm_set_seen(ctx, m, train)) != FACTO_OK)
        goto done;
    m->pair_features = (us ? FACTO_FM_FEATURES_USER_SIDE : 0) | (is ? FACTO_FM_FEATURES_ITEM_SIDE : 0) |
                       ((uint32_t)opts->implicit & (FACTO_FM_IMPLICIT_USER | FACTO_FM_IMPLICIT_ITEM)) << 2;
    if (test_rmse_chain)
        *test_rmse_chain = res.test_rmse_avg;
    *out = model;
    model = NULL;
    st = fct_ok(ctx);
done:
    facto_model_free(model);
    fct_fm_data_release(&te);
    fct_fm_data_release(&tr);
    facto_rows_free(us);
    facto_rows_free(is);
    free(ug);
    free(ig);
    return st;
}

facto_status facto_fm_fit_ratings(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                  const facto_fm_ratings_options *opts, const facto_fm_params *params,
                                  const facto_fit_callbacks *callbacks, facto_model **out, double *test_rmse_chain)
{
    if (out)
        *out = NULL;
    facto_fm_ratings_options def = facto_fm_ratings_options_default();
    {
        facto_status wst = fct_dataset_wide(ctx, train);
        if (wst == FACTO_OK)
            wst = fct_dataset_wide(ctx, test);
        if (wst != FACTO_OK)
            return wst;
    }
    if (!opts)
        opts = &def;
    facto_features *uf = NULL, *itf = NULL;
    facto_status st = FACTO_OK;
    if (opts->user_file)
        st = fct_features_read(ctx, opts->user_file, FCT_FEATURES_ATTRIBUTES | FCT_FEATURES_ML_USERS, &uf);
    if (st == FACTO_OK && opts->item_file)
        st = fct_features_read(ctx, opts->item_file, FCT_FEATURES_ATTRIBUTES | FCT_FEATURES_ML_ITEMS, &itf);
    if (st == FACTO_OK)
        st = fct_fm_fit_ratings_with(ctx, train, test, uf, itf, opts, params, callbacks, out, test_rmse_chain);
    facto_features_free(uf);
    facto_features_free(itf);
    return st;
}
