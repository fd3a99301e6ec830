/*
 * fm_solvers.h — the three solvers of factorization machines on feature
 * rows, called by the training driver (src/train/fit_fm.c). Each trains
 * `model` in place (created and initialised by fct_fm_model_new with the
 * same params), reading train rows + their slots and, when test != NULL,
 * reporting test metrics after every epoch/iteration through callbacks (may
 * be NULL). Labels were checked by the driver (finite; classifier labels are
 * 0/1 or -1/+1, read them through fct_fm_label). Each must return
 * FACTO_ERR_DIVERGED when the loss becomes non-finite, naming the setting to
 * lower. sgd: fm_sgd.c (mini-batch first-order updates); als / mcmc:
 * fm_als.c / fm_mcmc.c (libFM's coordinate descent and Gibbs sampler, which
 * read params.num_iter, params.init_stdev, params.mcmc_samples (MCMC) and
 * bias_wd / linear_wd / factors_wd (ALS: L2)).
 */
#ifndef FACTO_FM_SOLVERS_H
#define FACTO_FM_SOLVERS_H

#include "models/fm.h"

facto_status fct_fm_fit_sgd(facto_ctx *ctx, fct_fm_model *model, const facto_rows *train, const uint32_t *train_slots,
                            const facto_rows *test, const uint32_t *test_slots, const fct_fm_callbacks *callbacks);
facto_status fct_fm_fit_als(facto_ctx *ctx, fct_fm_model *model, const facto_rows *train, const uint32_t *train_slots,
                            const facto_rows *test, const uint32_t *test_slots, const fct_fm_callbacks *callbacks);
facto_status fct_fm_fit_mcmc(facto_ctx *ctx, fct_fm_model *model, const facto_rows *train,
                             const uint32_t *train_slots, const facto_rows *test, const uint32_t *test_slots,
                             const fct_fm_callbacks *callbacks);

/* sgd: least multiply-adds per mini-batch (mini_batch_size x mean nnz per
 * row x num_factors, default 4M) for its rows and slots to go on
 * facto_ctx_set_threads() threads (fm_sgd.c: fct_fm_batch_par, the same
 * model for any thread count); tests lower it to reach that code. */
extern double fct_fm_sgd_par_work;

#endif /* FACTO_FM_SOLVERS_H */
