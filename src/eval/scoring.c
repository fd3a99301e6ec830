/*
 * scoring.c — raw scores of blocks of users against every item, for top-N
 * and ranking metrics. A model with a dot form (score = c + b_u + b_i +
 * <U_u, V_i>) is scored with one cblas_sgemm a block; each row then gets
 * c + b_u + b_i added, in the order the models' own scoring adds them
 * ((c + b_u) + b_i + dot), by whichever thread consumes it; any other
 * model with one score() call per user. Memory: the block's
 * [block, n_items] floats, at most 64 MiB.
 */
#include "eval.h"

#include "kernels/blas.h"

#include <string.h>

facto_status fct_scorer_init(facto_ctx *ctx, fct_scorer *sc, const facto_model *model)
{
    memset(sc, 0, sizeof *sc);
    sc->model = model;
    sc->n_items = facto_idmap_size(facto_model_items(model));
    sc->has_dot = model->ops->dot_form && model->ops->dot_form(model, &sc->dot);
    size_t row_bytes = (size_t)(sc->n_items > 0 ? sc->n_items : 1) * sizeof(float);
    int block = (int)(FCT_SCORE_BLOCK_BYTES / row_bytes);
    block = block < 1 ? 1 : block > FCT_SCORE_BLOCK ? FCT_SCORE_BLOCK : block;
    sc->block = sc->has_dot ? block : 1;
    sc->S = fct_malloc_array((size_t)sc->block, row_bytes);
    if (sc->has_dot)
        sc->Ub = fct_malloc_array((size_t)sc->block * (size_t)(sc->dot.k > 0 ? sc->dot.k : 1), sizeof(float));
    sc->users = fct_malloc_array((size_t)sc->block, sizeof *sc->users);
    if (!sc->S || !sc->users || (sc->has_dot && !sc->Ub)) {
        fct_scorer_free(sc);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for a block of %d users x %d items", block,
                        sc->n_items);
    }
    return FACTO_OK;
}

void fct_scorer_free(fct_scorer *sc)
{
    free(sc->S);
    free(sc->Ub);
    free(sc->users);
    sc->S = sc->Ub = NULL;
    sc->users = NULL;
}

facto_status fct_scorer_run(facto_ctx *ctx, fct_scorer *sc, const int32_t *users, int nb)
{
    memcpy(sc->users, users, (size_t)nb * sizeof *users);
    if (!sc->has_dot) {
        fct_query q = fct_query_user(users[0]);
        return sc->model->ops->score(ctx, sc->model, &q, NULL, sc->n_items, FCT_SCORE_RAW, sc->S);
    }
    const fct_dot_form *d = &sc->dot;
    const int64_t ni = d->n_items, k = d->k;
    for (int b = 0; b < nb; b++)
        memcpy(sc->Ub + (int64_t)b * k, d->U + (int64_t)users[b] * d->ldu, (size_t)k * sizeof(float));
    fct_sgemm_nt(nb, ni, k, sc->Ub, k, d->V, d->ldv, sc->S, ni);
    return FACTO_OK;
}

float *fct_scorer_row(fct_scorer *sc, int b)
{
    float *row = sc->S + (int64_t)b * sc->n_items;
    if (!sc->has_dot)
        return row;
    const fct_dot_form *d = &sc->dot;
    const float cu = d->c + (d->user_bias ? d->user_bias[sc->users[b]] : 0.0f);
    if (d->item_bias)
        for (int32_t i = 0; i < sc->n_items; i++)
            row[i] = cu + d->item_bias[i] + row[i];
    else
        for (int32_t i = 0; i < sc->n_items; i++)
            row[i] = cu + row[i];
    return row;
}

int64_t fct_seen_items(const facto_model *model, int32_t u, fct_seen_list *items, int *kept)
{
    items->i32 = NULL;
    items->i16 = NULL;
    int64_t n = model->ops->seen && u >= 0 ? model->ops->seen(model, u, items) : -1;
    if (kept)
        *kept = n >= 0;
    if (n <= 0) {
        items->i32 = NULL;
        items->i16 = NULL;
        n = 0;
    }
    return n;
}

const int32_t *fct_seen_wide(const fct_seen_list *l, int64_t n, int32_t **buf, int64_t *cap)
{
    if (!l->i16)
        return l->i32;
    if (n > *cap) {
        int32_t *b = fct_realloc_array(*buf, (size_t)n, sizeof *b);
        if (!b)
            return NULL;
        *buf = b;
        *cap = n;
    }
    for (int64_t x = 0; x < n; x++)
        (*buf)[x] = l->i16[x];
    return *buf;
}
