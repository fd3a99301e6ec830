/*
 * fit_fm_ratings.h — training factorization machines on data in libFM's
 * block form (fit_fm_ratings.c): fct_fm_fit_blocks binds a new model, the
 * ALS or MCMC solver (src/solvers/fm_mcmc.h) and block data; the public
 * facto_fm_fit_ratings (facto.h) builds such data from ratings first.
 * Cost: the solver's, plus O(nnz) to map every source's keys to slots.
 */
#ifndef FACTO_FIT_FM_RATINGS_H
#define FACTO_FIT_FM_RATINGS_H

#include "solvers/fm_mcmc.h"

/*
 * Fit an FM with the ALS or MCMC solver (params->solver) on block data:
 * creates the model, maps every source to slots and runs the engine
 * (fct_fm_cd_run, whose burnin and summary_rank these are).
 * test may be NULL. *out owned by the caller (facto_model_free).
 * Errors: those of fct_fm_model_new and fct_fm_cd_run;
 * FACTO_ERR_INVALID when params->solver is sgd.
 */
facto_status fct_fm_fit_blocks(facto_ctx *ctx, const fct_fm_data *train, const fct_fm_data *test,
                                 const facto_fm_params *params, const fct_fm_callbacks *callbacks,
                                 int burnin, int summary_rank, facto_model **out, fct_fm_cd_result *result);

/*
 * facto_fm_fit_ratings with side features already read (either may be
 * NULL); opts->user_file / item_file only name them in messages.
 * facto_model_fit's ratings path for fm (fit_fm.c). Same errors.
 */
facto_status fct_fm_fit_ratings_with(facto_ctx *ctx, const facto_dataset *train, const facto_dataset *test,
                                     const facto_features *user_features, const facto_features *item_features,
                                     const facto_fm_ratings_options *opts, const facto_fm_params *params,
                                     const facto_fit_callbacks *callbacks, facto_model **out,
                                     double *test_rmse_chain);

#endif /* FACTO_FIT_FM_RATINGS_H */
