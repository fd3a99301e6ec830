/*
 * train.h — what the training drivers of src/train/ share: the report of a
 * model on a rating data set (scored through the model interface, so every
 * kind's epoch report is computed the same way), a monotonic clock, and the
 * drivers' entry points that facto_model_fit (fit.c) dispatches to by kind.
 */
#ifndef FACTO_TRAIN_H
#define FACTO_TRAIN_H

#include "models/fm.h"
#include "models/model.h"

/*
 * Regression metrics of `model` on `data` (NULL: *out is empty, n 0 and NAN
 * figures), its ids mapped through umap / imap (NULL: the model's own
 * indices): n, RMSE, MAE of the predictions and the unknown-id counts.
 * Errors: those of fct_model_score_dataset.
 */
facto_status fct_fit_report_ratings(facto_ctx *ctx, const facto_model *model, const facto_dataset *data,
                                    const int32_t *umap, const int32_t *imap, facto_metrics *out);

/* Seconds on a monotonic clock. */
double fct_now(void);

/* Fit drivers by kind (fit_mf.c, fit_fm.c, fit_fm_ratings.c, fit_ials.c). */
facto_status fct_fit_mf(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                        const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                        const facto_fit_callbacks *callbacks, facto_model **out);
facto_status fct_fit_ials(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                          const facto_fit_callbacks *callbacks, facto_model **out);

/* The FM solvers' callbacks turned into the caller's facto_fit_callbacks
 * (fit_fm.c): `ad` must live as long as the returned callbacks. */
typedef struct fct_fm_adapter {
    const facto_fit_callbacks *user;
    facto_task task;
    int mcmc;
} fct_fm_adapter;
fct_fm_callbacks fct_fm_adapt(fct_fm_adapter *ad, const facto_fit_callbacks *user, const facto_fm_params *p);

#endif /* FACTO_TRAIN_H */
