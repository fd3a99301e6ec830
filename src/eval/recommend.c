/*
 * recommend.c — top-N for any model with ids, one user or a batch, through
 * the model interface: blocks of users scored against every item
 * (scoring.c: one cblas_sgemm a block through a dot form, else score() per
 * user). Each user's candidates go through a bounded heap (topn.c), the
 * user's training items left out unless asked; ties rank the lower item
 * index first. The one-user call is the batch path with one user, and the
 * scores a list reports are computed in one fixed order whatever the block
 * (fct_rec_select), so both give the same lists, bit for bit.
 * Memory O(block x n_items + k) besides the output; time O(n_users n_items
 * num_factors) for the products plus O(n_items log k) a user.
 */
#include "eval.h"
#include "kernels/blas.h"
#include "topn.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/*
 * Scores of a dot-form model are products from sgemm, whose last bits
 * depend on where a user sits in its block (BLAS kernels sum each panel's
 * rows in their own order). So that a user gets the same list and scores in
 * any block, and alone, the items whose block score comes within the
 * rounding bound of the k-th are scored again with one fixed-order dot
 * product, (c + b_u) + b_i + <U_u, V_i>, and the top k taken by those.
 * Both sums of K products err by at most ~K eps sum |u_f v_f| <= K eps
 * |U_u| max |V_i| (any order), so every item of the exact top k is among
 * those rescored; the bound is taken 4x, plus the biases' roundings.
 */
typedef struct fct_rec_bound {
    float max_norm_v; /* max over items of |V_i| */
    float max_bias;   /* max over items of |b_i| */
} fct_rec_bound;

static void fct_rec_bound_init(const fct_scorer *sc, fct_rec_bound *b)
{
    b->max_norm_v = b->max_bias = 0.0f;
    if (!sc->has_dot)
        return;
    const fct_dot_form *d = &sc->dot;
    for (int32_t i = 0; i < d->n_items; i++) {
        const float *v = d->V + (int64_t)i * d->ldv;
        double n2 = 0.0;
        for (int32_t f = 0; f < d->k; f++)
            n2 += (double)v[f] * v[f];
        b->max_norm_v = (float)sqrt(n2) > b->max_norm_v ? (float)sqrt(n2) : b->max_norm_v;
        if (d->item_bias && fabsf(d->item_bias[i]) > b->max_bias)
            b->max_bias = fabsf(d->item_bias[i]);
    }
}

/* User u's score of item i in one fixed order (what the lists report). */
static float fct_rec_exact(const fct_dot_form *d, int32_t u, int32_t i)
{
    const float *pu = d->U + (int64_t)u * d->ldu, *qi = d->V + (int64_t)i * d->ldv;
    float dot = 0.0f;
    for (int32_t f = 0; f < d->k; f++)
        dot += pu[f] * qi[f];
    const float cu = d->c + (d->user_bias ? d->user_bias[u] : 0.0f);
    return cu + (d->item_bias ? d->item_bias[i] : 0.0f) + dot;
}

/* How far a block score may be from fct_rec_exact's, times 2 (both err). */
static float fct_rec_slack(const fct_dot_form *d, const fct_rec_bound *b, int32_t u, float kth)
{
    const float *pu = d->U + (int64_t)u * d->ldu;
    double n2 = 0.0;
    for (int32_t f = 0; f < d->k; f++)
        n2 += (double)pu[f] * pu[f];
    const double cu = fabs((double)d->c + (d->user_bias ? d->user_bias[u] : 0.0f));
    const double eps = 1.0 / 8388608.0; /* 2^-23 */
    double e = (double)(d->k + 2) * eps * sqrt(n2) * b->max_norm_v + 4.0 * eps * (cu + b->max_bias + fabs(kth));
    return (float)(4.0 * e);
}

/* Extra entries a dot-form selection keeps beyond k, to find the items
 * near the k-th without a second pass over every item. */
#define FCT_REC_MARGIN 16

/* The top `cap` of raw scores [n_items] into buf, seen items skipped
 * (ascending lists of both, walked together), best first; returns how many.
 * With `exact`, only items scoring >= floor are offered, each by its
 * fixed-order score (a dot-form model's second pass). */
static int fct_rec_pass(const fct_scorer *sc, int32_t u, const float *scores, int32_t n_items, const int32_t *seen,
                        int64_t n_seen, int cap, int exact, float floor, facto_recommendation *buf)
{
    const int32_t *s = seen, *s_end = seen ? seen + n_seen : NULL;
    fct_topk top;
    fct_topk_init(&top, buf, cap);
    for (int32_t i = 0; i < n_items; i++) {
        while (s && s < s_end && *s < i)
            s++;
        if ((s && s < s_end && *s == i) || !(scores[i] >= floor || !exact))
            continue;
        fct_topk_offer(&top, i, exact ? fct_rec_exact(&sc->dot, u, i) : scores[i]);
    }
    return fct_topk_finish(&top);
}

/* User u's top k into out [k] from raw scores [n_items]. A dot-form model's
 * candidates near the k-th block score (k + FCT_REC_MARGIN kept in
 * `scratch`; every item when more lie within the slack) are scored again
 * in one fixed order and the k best of those kept. */
static int fct_rec_select(const facto_model *model, const fct_scorer *sc, const fct_rec_bound *bound, int32_t u,
                          const float *scores, int32_t n_items, int k, int include_seen, facto_recommendation *out,
                          facto_recommendation *scratch)
{
    const int32_t *seen = NULL;
    int64_t n_seen = include_seen ? 0 : fct_seen_items(model, u, &seen, NULL);
    if (!sc->has_dot || k == 0)
        return fct_rec_pass(sc, u, scores, n_items, seen, n_seen, k, 0, 0.0f, out);
    const int cap = k + FCT_REC_MARGIN;
    int n = fct_rec_pass(sc, u, scores, n_items, seen, n_seen, cap, 0, 0.0f, scratch);
    /* every candidate when fewer than k, else those within the slack of the k-th */
    float floor = n >= k ? scratch[k - 1].score - fct_rec_slack(&sc->dot, bound, u, scratch[k - 1].score) : -INFINITY;
    if (n == cap && !(scratch[cap - 1].score < floor)) /* more near the k-th than kept: all of them, again */
        return fct_rec_pass(sc, u, scores, n_items, seen, n_seen, k, 1, floor, out);
    fct_topk top;
    fct_topk_init(&top, out, k);
    for (int x = 0; x < n; x++)
        if (scratch[x].score >= floor)
            fct_topk_push(&top, scratch[x].item, fct_rec_exact(&sc->dot, u, scratch[x].item));
    return fct_topk_finish(&top);
}

/* The batch driver over model indices: idx [n] (-1 = unknown user: n_out 0). */
static facto_status fct_rec_batch(facto_ctx *ctx, const facto_model *model, const int32_t *idx, int32_t n, int k,
                                  int include_seen, facto_recommendation *out, int *n_out)
{
    fct_scorer sc;
    facto_status st = fct_scorer_init(ctx, &sc, model);
    if (st != FACTO_OK)
        return st;
    const int n_threads = fct_threads(ctx);
    const size_t cap = sc.has_dot ? (size_t)k + FCT_REC_MARGIN : 1; /* a thread's scratch list */
    int32_t *bu = fct_malloc_array((size_t)sc.block, sizeof *bu);
    int64_t *pos = fct_malloc_array((size_t)sc.block, sizeof *pos);
    facto_recommendation *scratch = fct_malloc_array((size_t)n_threads * cap, sizeof *scratch);
    if (!bu || !pos || !scratch) {
        free(bu);
        free(pos);
        free(scratch);
        fct_scorer_free(&sc);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "top-N: out of memory for a block of %d users", sc.block);
    }
    fct_blas_set_threads(n_threads);
    fct_rec_bound bound;
    fct_rec_bound_init(&sc, &bound);
    int kept = 1;
    const int32_t *probe;
    if (!include_seen)
        fct_seen_items(model, 0, &probe, &kept);
    if (!kept)
        fct_log(ctx, FACTO_LOG_WARN,
                "this %s model keeps no training items (a file written before facto 0.2): items users had in "
                "training are not left out",
                model->ops->name);
    for (int32_t j = 0; j < n && st == FACTO_OK;) {
        int nb = 0;
        for (; j < n && nb < sc.block; j++) {
            n_out[j] = 0;
            if (idx[j] >= 0) {
                bu[nb] = idx[j];
                pos[nb++] = j;
            }
        }
        if (nb == 0)
            continue;
        if ((st = fct_scorer_run(ctx, &sc, bu, nb)) != FACTO_OK)
            break;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (nb > 1)
        for (int b = 0; b < nb; b++)
            n_out[pos[b]] = fct_rec_select(model, &sc, &bound, bu[b], fct_scorer_row(&sc, b), sc.n_items, k,
                                           include_seen, out + pos[b] * (int64_t)k,
                                           scratch + (size_t)omp_get_thread_num() * cap);
    }
    free(bu);
    free(pos);
    free(scratch);
    fct_scorer_free(&sc);
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

facto_status facto_model_recommend_history(facto_ctx *ctx, const facto_model *model, const char *const *items,
                                           const float *values, int32_t n, int k, facto_recommendation *out,
                                           int *n_out, int32_t *n_unknown)
{
    const facto_idmap *users = NULL;
    facto_status st = fct_rec_check(ctx, model, k, out, &users);
    if (st != FACTO_OK)
        return st;
    if (n < 0 || (n > 0 && !items) || !n_out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: items and n_out must be given for %d items", n);
    *n_out = 0;
    const facto_idmap *imap = facto_model_items(model);
    const int32_t n_items = facto_idmap_size(imap);
    int32_t *hist = fct_malloc_array((size_t)(n > 0 ? n : 1), sizeof *hist);
    float *vals = fct_malloc_array((size_t)(n > 0 ? n : 1), sizeof *vals);
    float *scores = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *scores);
    if (!hist || !vals || !scores) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "recommend: out of memory for a history of %d items", n);
        goto done;
    }
    /* known items, ascending, a repeated item's values added */
    int32_t m = 0, unknown = 0;
    for (int32_t x = 0; x < n; x++) {
        int32_t i = items[x] ? facto_idmap_find(imap, items[x]) : -1;
        float v = values ? values[x] : 1.0f;
        if (i < 0) {
            unknown++;
            continue;
        }
        int32_t at = m;
        while (at > 0 && hist[at - 1] > i)
            at--;
        if (at > 0 && hist[at - 1] == i) {
            vals[at - 1] += v;
            continue;
        }
        memmove(hist + at + 1, hist + at, (size_t)(m - at) * sizeof *hist);
        memmove(vals + at + 1, vals + at, (size_t)(m - at) * sizeof *vals);
        hist[at] = i;
        vals[at] = v;
        m++;
    }
    if (n_unknown)
        *n_unknown = unknown;
    fct_query q = {-1, m, hist, vals, 0, NULL, NULL};
    if (k == 0 || (st = model->ops->score(ctx, model, &q, NULL, n_items, FCT_SCORE_RAW, scores)) != FACTO_OK)
        goto done;
    fct_topk top;
    fct_topk_init(&top, out, k);
    for (int32_t i = 0, h = 0; i < n_items; i++) {
        while (h < m && hist[h] < i)
            h++;
        if (h < m && hist[h] == i)
            continue;
        fct_topk_offer(&top, i, scores[i]);
    }
    *n_out = fct_topk_finish(&top);
done:
    free(hist);
    free(vals);
    free(scores);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
