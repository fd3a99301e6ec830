/*
 * train.h — what the training drivers of src/train/ share: the report of a
 * model on a rating data set (scored through the model interface, so every
 * kind's epoch report is computed the same way), a monotonic clock, and the
 * drivers' entry points that facto_model_fit (fit.c) dispatches to by kind.
 */
#ifndef FACTO_TRAIN_H
#define FACTO_TRAIN_H

#include "models/factors.h"
#include "models/fm.h"
#include "models/model.h"
#include "solvers/pairwise.h"

/*
 * Regression metrics of `model` on `data` (NULL: *out is empty, n 0 and NAN
 * figures), its ids mapped through umap / imap (NULL: the model's own
 * indices): n, RMSE, MAE of the predictions and the unknown-id counts.
 * Errors: those of fct_model_score_dataset.
 */
facto_status fct_fit_report_ratings(facto_ctx *ctx, const facto_model *model, const facto_dataset *data,
                                    const int32_t *umap, const int32_t *imap, facto_metrics *out);

/* The one report of a kind trained in a single pass (popular, itemknn,
 * ease): epoch 1 of 1, train and test metrics empty (their ranking figures
 * are not computed here), the seconds and interactions per second.
 * Nothing without an on_epoch callback; its return value is ignored (there
 * is nothing left to stop). */
void fct_fit_report_once(const facto_model *model, const facto_dataset *train, const facto_fit_callbacks *callbacks,
                         double seconds);

/* Seconds on a monotonic clock. */
double fct_now(void);

/* Fit drivers by kind (fit_mf.c, fit_fm.c, fit_fm_ratings.c, ...). */
facto_status fct_fit_mf(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                        const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                        const facto_fit_callbacks *callbacks, facto_model **out);
/* The item-based ranking kinds (fit_popular.c, fit_itemknn.c, fit_ease.c). */
facto_status fct_fit_popular(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_itemknn(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_ease(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out);
/* The implicit factor kinds (fit_ials.c, fit_bpr.c, fit_warp.c, fit_softmax.c). */
facto_status fct_fit_ials(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_bpr(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                         const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_warp(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_softmax(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out);

/* ---- the ranking kinds trained by a first-order solver (fit_rank.c) ---- */

/* The optimizer of a kind's `optimizer` choice (FCT_RANK_OPT_*). */
fct_optim_kind fct_rank_optimizer(int choice);

/*
 * Check the data (interactions, not rows; not empty) and params against
 * ops' table, then create a factor model of k factors for data->train
 * (an item bias when item_bias) with the given fold-in settings, U then V
 * from N(0, init_std^2 / k) drawn from seed. Errors: FACTO_ERR_INVALID,
 * FACTO_ERR_EMPTY, FACTO_ERR_NOMEM, FACTO_ERR_DIVERGED (the initial factors
 * are unusable, fct_factors_unusable: the message names --init_std). *out: fct_factors_destroy on failure.
 */
facto_status fct_rank_begin(facto_ctx *ctx, const fct_model_ops *ops, const void *params, const facto_fit_data *data,
                            int32_t k, int item_bias, float init_std, uint64_t seed,
                            const fct_factors_foldin *foldin, fct_factors_model **out);

/*
 * The end of an epoch: FACTO_ERR_DIVERGED (naming the learning rate lr and
 * the weight decay reg) when the loss is not finite or the factors are
 * unusable (fct_factors_unusable); else the epoch report (train_loss = loss /
 * n, n positives in `seconds`) to callbacks, *stop set when it asks to stop.
 */
facto_status fct_rank_epoch_end(facto_ctx *ctx, fct_factors_model *m, const facto_fit_callbacks *callbacks,
                                int epoch, int epochs, double seconds, int64_t n, double loss, float lr, float reg,
                                int *stop);

/*
 * The epochs of a pairwise kind (BPR, WARP) on m with solver settings cfg,
 * then fct_factors_ready; *out = m on success, m destroyed on failure.
 */
facto_status fct_rank_fit_pairwise(facto_ctx *ctx, const fct_pair_cfg *cfg, fct_factors_model *m,
                                   const facto_dataset *train, int epochs, const facto_fit_callbacks *callbacks,
                                   facto_model **out);

/* The FM solvers' callbacks turned into the caller's facto_fit_callbacks
 * (fit_fm.c): `ad` must live as long as the returned callbacks. */
typedef struct fct_fm_adapter {
    const facto_fit_callbacks *user;
    facto_task task;
    int mcmc;
} fct_fm_adapter;
fct_fm_callbacks fct_fm_adapt(fct_fm_adapter *ad, const facto_fit_callbacks *user, const facto_fm_params *p);

#endif /* FACTO_TRAIN_H */
