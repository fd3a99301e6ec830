/*
 * recommend.c — top-N for any model with ids, one user or a batch, through
 * the model interface. A model with a dot form (score = c + b_u + b_i +
 * <U_u, V_i>) is scored a block of users at a time with one cblas_sgemm
 * against every item; any other model through score() per user. Each
 * user's candidates go through a bounded heap (topn.c), the user's training
 * items left out unless asked; ties rank the lower item index first. The one
 * -user call is the batch path with one user, so both give the same lists.
 * Memory O(block x n_items + k) besides the output; time O(n_users n_items
 * num_factors) for the products plus O(n_items log k) a user.
 */
#include "models/model.h"

#include "kernels/blas.h"
#include "topn.h"

#include <omp.h>
#include <string.h>

/* Scores of a block of at most this many users at once: [block, n_items]
 * floats, capped at 64 MiB. */
#define FCT_REC_BLOCK 256
#define FCT_REC_BLOCK_BYTES ((size_t)64 << 20)

/* Select user u's top k from raw scores [n_items] (seen items skipped). */
static int fct_rec_select(const facto_model *model, int32_t u, const float *scores, int32_t n_items, int k,
                          int include_seen, facto_recommendation *out)
{
    const int32_t *seen = NULL;
    int64_t n_seen = 0;
    if (!include_seen && model->ops->seen && u >= 0)
        n_seen = model->ops->seen(model, u, &seen);
    if (n_seen < 0) { /* the model keeps no training items */
        n_seen = 0;
        seen = NULL;
    }
    const int32_t *s = seen, *s_end = seen ? seen + n_seen : NULL;
    fct_topk top;
    fct_topk_init(&top, out, k);
    for (int32_t i = 0; i < n_items; i++) {
        while (s && s < s_end && *s < i)
            s++;
        if (s && s < s_end && *s == i)
            continue;
        fct_topk_push(&top, i, scores[i]);
    }
    return fct_topk_finish(&top);
}

/* Raw scores of users[nb] (model indices, >= 0) into S [nb, n_items] through
 * the dot form: one sgemm, then c + b_u + b_i added in the order the models'
 * own scoring adds them ((c + b_u) + b_i + dot). */
static void fct_rec_dot_block(const fct_dot_form *d, const int32_t *users, int nb, float *Ub, float *S)
{
    const int64_t ni = d->n_items, k = d->k;
    for (int b = 0; b < nb; b++)
        memcpy(Ub + (int64_t)b * k, d->U + (int64_t)users[b] * d->ldu, (size_t)k * sizeof(float));
    fct_sgemm_nt(nb, ni, k, Ub, k, d->V, d->ldv, S, ni);
    for (int b = 0; b < nb; b++) {
        float cu = d->c + (d->user_bias ? d->user_bias[users[b]] : 0.0f);
        float *row = S + (int64_t)b * ni;
        for (int64_t i = 0; i < ni; i++)
            row[i] = cu + (d->item_bias ? d->item_bias[i] : 0.0f) + row[i];
    }
}

/* The batch driver over model indices: idx [n] (-1 = unknown user: n_out 0). */
static facto_status fct_rec_batch(facto_ctx *ctx, const facto_model *model, const int32_t *idx, int32_t n, int k,
                                  int include_seen, facto_recommendation *out, int *n_out)
{
    const int32_t n_items = facto_idmap_size(facto_model_items(model));
    fct_dot_form dot;
    int has_dot = model->ops->dot_form && model->ops->dot_form(model, &dot);
    size_t row_bytes = (size_t)(n_items > 0 ? n_items : 1) * sizeof(float);
    int block = (int)(FCT_REC_BLOCK_BYTES / row_bytes);
    block = block < 1 ? 1 : block > FCT_REC_BLOCK ? FCT_REC_BLOCK : block;
    if (!has_dot)
        block = 1;
    float *S = fct_malloc_array((size_t)block, row_bytes);
    float *Ub = has_dot ? fct_malloc_array((size_t)block * (size_t)dot.k, sizeof(float)) : NULL;
    int32_t *bu = fct_malloc_array((size_t)block, sizeof *bu);
    int64_t *pos = fct_malloc_array((size_t)block, sizeof *pos);
    if (!S || !bu || !pos || (has_dot && !Ub)) {
        free(S);
        free(Ub);
        free(bu);
        free(pos);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "top-N: out of memory for a block of %d users x %d items", block,
                        n_items);
    }
    const int n_threads = fct_threads(ctx);
    fct_blas_set_threads(n_threads);
    const int32_t *probe;
    if (!include_seen && (!model->ops->seen || model->ops->seen(model, 0, &probe) < 0))
        fct_log(ctx, FACTO_LOG_WARN,
                "this %s model keeps no training items (a file written before facto 0.2): items users had in "
                "training are not left out",
                model->ops->name);
    facto_status st = FACTO_OK;
    for (int32_t j = 0; j < n && st == FACTO_OK;) {
        int nb = 0;
        for (; j < n && nb < block; j++) {
            n_out[j] = 0;
            if (idx[j] >= 0) {
                bu[nb] = idx[j];
                pos[nb++] = j;
            }
        }
        if (nb == 0)
            continue;
        if (has_dot) {
            fct_rec_dot_block(&dot, bu, nb, Ub, S);
        } else {
            fct_query q = fct_query_user(bu[0]);
            st = model->ops->score(ctx, model, &q, NULL, n_items, FCT_SCORE_RAW, S);
            if (st != FACTO_OK)
                break;
        }
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (nb > 1)
        for (int b = 0; b < nb; b++)
            n_out[pos[b]] = fct_rec_select(model, bu[b], S + (int64_t)b * n_items, n_items, k, include_seen,
                                           out + pos[b] * (int64_t)k);
    }
    free(S);
    free(Ub);
    free(bu);
    free(pos);
    return st;
}

/* Common argument checks; the model's maps into *users / *items. */
static facto_status fct_rec_check(facto_ctx *ctx, const facto_model *model, int k, const facto_recommendation *out,
                                  const facto_idmap **users)
{
    if (!model)
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: a model must be given");
    *users = facto_model_users(model);
    if (!*users || !facto_model_items(model))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained on feature rows: it has no users and items to recommend",
                        model->ops->name);
    if (k < 0 || (k > 0 && !out))
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: bad arguments (out, k = %d)", k);
    return FACTO_OK;
}

facto_status facto_model_recommend(facto_ctx *ctx, const facto_model *model, const char *user, int k,
                                   int include_seen, facto_recommendation *out, int *n_out)
{
    const facto_idmap *users = NULL;
    facto_status st = fct_rec_check(ctx, model, k, out, &users);
    if (st != FACTO_OK)
        return st;
    if (!user || !n_out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: user and n_out must be given");
    *n_out = 0;
    int32_t u = facto_idmap_find(users, user);
    if (u < 0)
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "user '%s' was not in the training data", user);
    if (k == 0)
        return fct_ok(ctx);
    st = fct_rec_batch(ctx, model, &u, 1, k, include_seen, out, n_out);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

facto_status facto_model_recommend_batch(facto_ctx *ctx, const facto_model *model, const char *const *users,
                                         int32_t n_users, int k, int include_seen, facto_recommendation *out,
                                         int *n_out)
{
    const facto_idmap *map = NULL;
    facto_status st = fct_rec_check(ctx, model, k, out, &map);
    if (st != FACTO_OK)
        return st;
    if (n_users < 0 || (n_users > 0 && (!users || !n_out)))
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: users and n_out must be given for %d users", n_users);
    if (n_users == 0)
        return fct_ok(ctx);
    int32_t *idx = fct_malloc_array((size_t)n_users, sizeof *idx);
    if (!idx)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "recommend: out of memory for %d users", n_users);
    for (int32_t j = 0; j < n_users; j++)
        idx[j] = users[j] ? facto_idmap_find(map, users[j]) : -1;
    if (k > 0)
        st = fct_rec_batch(ctx, model, idx, n_users, k, include_seen, out, n_out);
    else
        memset(n_out, 0, (size_t)n_users * sizeof *n_out);
    free(idx);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
