/*
 * similar.c — the items most similar to one item, for any model with ids:
 * the model's own item-item weights when it has them (item_similarity op:
 * item-kNN, EASE), else the cosine of the item factors of its dot form
 * (MF, FM from ratings, factor models). The item itself is left out; ties
 * rank the lower index first. Cost O(n_items num_factors) a call.
 */
#include "eval.h"

#include "topn.h"

#include <math.h>

/* cos(V_i, V_j) for every j into out [n_items]; a zero vector has 0. */
static void fct_similar_cosine(const fct_dot_form *d, int32_t item, float *out)
{
    const float *vi = d->V + (int64_t)item * d->ldv;
    double ni = 0.0;
    for (int32_t f = 0; f < d->k; f++)
        ni += (double)vi[f] * vi[f];
    for (int32_t j = 0; j < d->n_items; j++) {
        const float *vj = d->V + (int64_t)j * d->ldv;
        double dot = 0.0, nj = 0.0;
        for (int32_t f = 0; f < d->k; f++) {
            dot += (double)vi[f] * vj[f];
            nj += (double)vj[f] * vj[f];
        }
        out[j] = ni > 0.0 && nj > 0.0 ? (float)(dot / sqrt(ni * nj)) : 0.0f;
    }
}

facto_status facto_model_similar(facto_ctx *ctx, const facto_model *model, const char *item, int k,
                                 facto_recommendation *out, int *n_out)
{
    if (!model || !item || !n_out || k < 0 || (k > 0 && !out))
        return fct_fail(ctx, FACTO_ERR_INVALID, "similar: a model, an item, out and n_out must be given (k = %d)", k);
    *n_out = 0;
    const facto_idmap *items = facto_model_items(model);
    if (!items)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained on feature rows: it has no items to compare", model->ops->name);
    int32_t i = facto_idmap_find(items, item);
    if (i < 0)
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "item '%s' was not in the training data", item);
    fct_dot_form d;
    int has_dot = model->ops->dot_form && model->ops->dot_form(model, &d);
    if (!model->ops->item_similarity && !has_dot)
        return fct_fail(ctx, FACTO_ERR_INVALID, "this %s model has neither item factors nor item-item weights",
                        model->ops->name);
    int32_t n_items = facto_idmap_size(items);
    float *sim = fct_malloc_array((size_t)n_items, sizeof *sim);
    if (!sim)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "similar: out of memory for %d items", n_items);
    facto_status st = FACTO_OK;
    if (model->ops->item_similarity)
        st = model->ops->item_similarity(ctx, model, i, sim);
    else
        fct_similar_cosine(&d, i, sim);
    if (st == FACTO_OK) {
        fct_topk top;
        fct_topk_init(&top, out, k);
        for (int32_t j = 0; j < n_items; j++)
            if (j != i)
                fct_topk_offer(&top, j, sim[j]);
        *n_out = fct_topk_finish(&top);
    }
    free(sim);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
