/*
 * fit_popular.c — the training driver of the most-popular baseline
 * (models/popular.c): validates the parameters, keeps the training users'
 * items (for top-N and fold-in) and counts each item's interactions: pairs,
 * or the sum of weights with count=weights. One pass, O(nnz + n_users +
 * n_items); the epoch report (one "epoch") carries the seconds.
 */
#include "train.h"

#include "data/dataset.h"
#include "models/itemmodels.h"

#include <string.h>

facto_status fct_fit_popular(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (!data->train || data->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "popular trains on interactions (facto_fit_data.train), not feature rows");
    const fct_popular_params *p = fct_params_struct(params);
    facto_status st = fct_params_check(ctx, &fct_popular_ptable, p);
    if (st != FACTO_OK)
        return st;
    double t0 = fct_now();
    fct_popular_model *m = calloc(1, sizeof *m);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "popular: out of memory");
    m->base.ops = &fct_popular_ops;
    m->params = *p;
    st = fct_item_base_init(ctx, &m->b, data->train, "popular");
    if (st != FACTO_OK) {
        fct_popular_destroy(m);
        return st;
    }
    if (p->count == FCT_POPULAR_WEIGHTS) {
        memset(m->b.pop, 0, (size_t)m->b.n_items * sizeof *m->b.pop);
        for (int64_t x = 0; x < m->b.n_seen; x++)
            m->b.pop[m->b.seen_items[x]] += m->b.seen_w[x];
    }
    fct_fit_report_once(&m->base, data->train, callbacks, fct_now() - t0);
    *out = &m->base;
    return fct_ok(ctx);
}
