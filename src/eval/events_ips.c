/*
 * events_ips.c — facto_events_ips: a model's offline click-through rate on an
 * event log by inverse propensity scoring (the estimator is
 * fct_events_ips in src/data/events.c; here the model scores each slate
 * through facto_model_predict, so any kind with ids works). Cost: one
 * prediction a shown item.
 */
#include "data/events.h"

typedef struct fct_ips_model {
    facto_ctx *ctx;
    const facto_model *model;
} fct_ips_model;

static int fct_ips_score(void *user_data, const facto_events *ev, int64_t slate, const int32_t *items, int32_t n,
                         float *out)
{
    fct_ips_model *m = user_data;
    int32_t u = ev->imp_user[slate];
    if (u < 0)
        return 1;
    const char *user = facto_idmap_name(ev->users, u);
    for (int32_t x = 0; x < n; x++) {
        int flags = 0;
        if (facto_model_predict(m->ctx, m->model, user, facto_idmap_name(ev->items, items[x]), &out[x], &flags) !=
            FACTO_OK)
            return -1;
        if (flags & FACTO_PRED_UNKNOWN_USER)
            return 1;
        if (flags & FACTO_PRED_UNKNOWN_ITEM)
            return 2;
    }
    return 0;
}

facto_status facto_events_ips(facto_ctx *ctx, const facto_model *model, const facto_events *ev, const double *prop,
                              int n_propensities, const facto_ips_options *opts, facto_ips_result *res)
{
    if (!model || !ev || !prop || !res)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_events_ips: a NULL argument");
    if (!facto_model_users(model) || !facto_model_items(model))
        return fct_fail(ctx, FACTO_ERR_INVALID, "IPS needs a model with user and item ids (this one scores feature rows)");
    fct_ips_model m = {ctx, model};
    return fct_events_ips(ctx, ev, fct_ips_score, &m, prop, n_propensities, opts, res);
}
