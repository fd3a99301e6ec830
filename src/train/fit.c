/*
 * fit.c — facto_model_fit: the one training entry point of every kind. It
 * hands the hyperparameters and the data to the kind's driver
 * (fit_<kind>.c), which validates them through the kind's table once it has
 * filled what comes from the data. Also the pieces the drivers share:
 * the epoch report on a rating data set (scored through the model
 * interface, so it is computed the same way for every kind) and the clock.
 */
#include "train.h"

#include "data/dataset.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* The driver of each kind, by name. A new kind adds a line. */
static const struct {
    const char *kind;
    facto_status (*fit)(facto_ctx *, const facto_params *, const facto_fit_data *, const facto_fit_callbacks *,
                        facto_model **);
} fct_fit_drivers[] = {
    {"mf", fct_fit_mf},
    {"fm", fct_fit_fm},
    {"popular", fct_fit_popular},
    {"itemknn", fct_fit_itemknn},
    {"ease", fct_fit_ease},
    {"ials", fct_fit_ials},
    {"bpr", fct_fit_bpr},
    {"warp", fct_fit_warp},
    {"softmax", fct_fit_softmax},
};

facto_status facto_model_fit(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_fit: out must be given");
    *out = NULL;
    if (!params || !data)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_model_fit: params and data must be given");
    /* Each driver validates: some settings come from the data (fm's
     * feature_dim, when not given). */
    const char *kind = facto_params_kind(params);
    /* Data sets read from .fds files hold items and ratings narrow until
     * asked for; mf (blocked SGD) trains from the narrow arrays and widens
     * what else it needs itself. */
    if (strcmp(kind, "mf") != 0) {
        facto_status wst = fct_dataset_wide(ctx, data->train);
        if (wst == FACTO_OK)
            wst = fct_dataset_wide(ctx, data->test);
        if (wst != FACTO_OK)
            return wst;
    }
    if (data->train && data->train->weights && strcmp(kind, "mf") != 0)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "per-rating weights (facto_dataset_set_weights: inverse propensities) are taken by mf "
                        "only, not by %s",
                        kind);
    if ((data->user_features || data->item_features) && strcmp(kind, "fm") != 0)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "%s uses no side features (--user-features, --item-features; facto_fit_data's "
                        "user_features, item_features): only fm does",
                        kind);
    for (size_t i = 0; i < sizeof fct_fit_drivers / sizeof fct_fit_drivers[0]; i++)
        if (strcmp(fct_fit_drivers[i].kind, kind) == 0)
            return fct_fit_drivers[i].fit(ctx, params, data, callbacks, out);
    return fct_fail(ctx, FACTO_ERR_INTERNAL, "model kind '%s' has no training driver in this build", kind);
}

facto_status fct_fit_report_ratings(facto_ctx *ctx, const facto_model *model, const facto_dataset *data,
                                    const int32_t *umap, const int32_t *imap, facto_metrics *out)
{
    fct_metrics_empty(out, model->ops->task(model));
    if (!data)
        return FACTO_OK;
    fct_err_acc acc = {0, 0, 0};
    facto_status st = fct_model_score_dataset(ctx, model, data, umap, imap, NULL, &acc, &out->n_unknown_users,
                                              &out->n_unknown_items);
    if (st == FACTO_OK)
        fct_metrics_set_errors(out, &acc);
    return st;
}

void fct_fit_report_once(const facto_model *model, const facto_dataset *train, const facto_fit_callbacks *callbacks,
                         double seconds)
{
    if (!callbacks || !callbacks->on_epoch)
        return;
    facto_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = rep.epochs = 1;
    fct_metrics_empty(&rep.train, model->ops->task(model));
    fct_metrics_empty(&rep.test, model->ops->task(model));
    rep.test_rmse_average = NAN;
    rep.train_loss = NAN;
    rep.seconds = seconds;
    rep.samples_per_second = seconds > 0.0 ? (double)train->n_ratings / seconds : 0.0;
    callbacks->on_epoch(&rep, callbacks->user_data);
}

double fct_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
