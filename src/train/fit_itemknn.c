/*
 * fit_itemknn.c — the training driver of item-kNN (models/itemknn.c):
 * validates the parameters, keeps the training users' items and weights,
 * weighs the users x items matrix (BM25 when similarity=bm25, else as it
 * is) and builds each item's top-K cosine neighbours with
 * fct_knn_build (src/solvers/itemsim.c) on facto_ctx_set_threads()
 * threads; the result does not depend on the thread count. Cost O(sum over
 * users of |items|^2 + n_items t log K) for t candidates a row; memory
 * O(nnz + threads n_items + n_items K).
 */
#include "train.h"

#include "data/dataset.h"
#include "models/itemmodels.h"
#include "solvers/itemsim.h"

#include <string.h>

facto_status fct_fit_itemknn(facto_ctx *ctx, const facto_params *params, const facto_fit_data *data,
                             const facto_fit_callbacks *callbacks, facto_model **out)
{
    if (!data->train || data->train_rows)
        return fct_fail(ctx, FACTO_ERR_INVALID, "itemknn trains on interactions (facto_fit_data.train), not feature rows");
    const fct_itemknn_params *p = fct_params_struct(params);
    facto_status st = fct_params_check(ctx, &fct_itemknn_ptable, p);
    if (st != FACTO_OK)
        return st;
    double t0 = fct_now();
    fct_itemknn_model *m = calloc(1, sizeof *m);
    if (!m)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "itemknn: out of memory");
    m->base.ops = &fct_itemknn_ops;
    m->params = *p;
    st = fct_item_base_init(ctx, &m->b, data->train, "itemknn");
    const float *w = m->b.seen_w;
    float *weighted = NULL;
    if (st == FACTO_OK && p->similarity == FCT_KNN_BM25) {
        weighted = fct_malloc_array((size_t)m->b.n_seen, sizeof *weighted);
        if (!weighted)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "itemknn: out of memory for BM25 weights");
        else
            fct_bm25_weigh(m->b.n_users, m->b.seen_ptr, m->b.seen_w, p->bm25_k1, p->bm25_b, weighted);
        w = weighted;
    }
    if (st == FACTO_OK)
        st = fct_knn_build(ctx, m->b.n_users, m->b.n_items, m->b.seen_ptr, m->b.seen_items, w, p->neighbors,
                           fct_threads(ctx), &m->nbr_ptr, &m->nbr_items, &m->nbr_sim, &m->n_nbr);
    free(weighted);
    if (st != FACTO_OK) {
        fct_itemknn_destroy(m);
        return st;
    }
    fct_log(ctx, FACTO_LOG_INFO, "itemknn: %d items, %lld neighbour pairs kept (K %d), %.2f s", m->b.n_items,
            (long long)m->n_nbr, p->neighbors, fct_now() - t0);
    fct_fit_report_once(&m->base, data->train, callbacks, fct_now() - t0);
    *out = &m->base;
    return fct_ok(ctx);
}
