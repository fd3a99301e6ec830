/*
 * recommend.c — top-N for any model with ids, one user or a batch, through
 * the model interface. A dot-form model: tiles of users x items scored with
 * a single-threaded sgemm per thread and scanned at once with a SIMD
 * threshold kernel (fct_kern.scan_above); any other model: score() per
 * user (scoring.c). Each user's candidates go through a bounded heap
 * (topn.c), the user's training items left out unless asked; ties rank the
 * lower item index first. The one-user call is the batch path with one
 * user, and the scores a list reports are computed in one fixed order
 * whatever the tile (fct_rec_finish), so both give the same lists, bit for
 * bit.
 * Memory O(threads x tile) besides the output; time O(n_users n_items
 * num_factors) for the products plus O(n_items + log(n_items) k log k) a
 * user for the selection.
 */
#include "eval.h"
#include "kernels/blas.h"
#include "kernels/kernels.h"
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

static void fct_rec_bound_init(const fct_dot_form *d, fct_rec_bound *b)
{
    b->max_norm_v = b->max_bias = 0.0f;
    for (int32_t i = 0; i < d->n_items; i++) {
        const float *v = d->V + (int64_t)i * d->ldv;
        /* eight float partial sums, so the compiler vectorizes the pass
         * (once a model: fct_rec_bound_cached); their rounding (< k 2^-24 relative) is
         * covered by raising the norm by 0.1% plus k 2^-23 */
        float p[8] = {0};
        int32_t f = 0;
        for (; f + 8 <= d->k; f += 8)
            for (int j = 0; j < 8; j++)
                p[j] += v[f + j] * v[f + j];
        double n2 = ((double)(p[0] + p[1]) + (double)(p[2] + p[3])) + ((double)(p[4] + p[5]) + (double)(p[6] + p[7]));
        for (; f < d->k; f++)
            n2 += (double)v[f] * v[f];
        n2 *= 1.002 + 2.4e-7 * d->k; /* sqrt: +0.1% and the rounding */
        b->max_norm_v = (float)sqrt(n2) > b->max_norm_v ? (float)sqrt(n2) : b->max_norm_v;
        if (d->item_bias && fabsf(d->item_bias[i]) > b->max_bias)
            b->max_bias = fabsf(d->item_bias[i]);
    }
}

/* The bound of a model, computed once and kept in the model (the pass
 * over every item's factors costs as much as scoring one user). Threads
 * that race on the first call compute the same values. */
static void fct_rec_bound_cached(const facto_model *model, const fct_dot_form *d, fct_rec_bound *b)
{
    facto_model *m = (facto_model *)model; /* the cache only: models are heap objects */
    if (atomic_load_explicit(&m->topn_bound_ready, memory_order_acquire)) {
        uint32_t nv = atomic_load_explicit(&m->topn_bound[0], memory_order_relaxed),
                 nb = atomic_load_explicit(&m->topn_bound[1], memory_order_relaxed);
        memcpy(&b->max_norm_v, &nv, sizeof nv);
        memcpy(&b->max_bias, &nb, sizeof nb);
        return;
    }
    fct_rec_bound_init(d, b);
    uint32_t nv, nb;
    memcpy(&nv, &b->max_norm_v, sizeof nv);
    memcpy(&nb, &b->max_bias, sizeof nb);
    atomic_store_explicit(&m->topn_bound[0], nv, memory_order_relaxed);
    atomic_store_explicit(&m->topn_bound[1], nb, memory_order_relaxed);
    atomic_store_explicit(&m->topn_bound_ready, 1, memory_order_release);
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
/* A dot-form tile: users a thread takes at once x items an sgemm call
 * makes, 256 x 512 floats = 512 KiB, so the products are read back from L2
 * (measured on bench/topn.sh: docs/design.md, Kernels). */
#define FCT_REC_TILE_USERS 256
#define FCT_REC_TILE_ITEMS 512

/* The top k of raw scores [n_items] into out, seen items skipped (ascending
 * lists of both, walked together), best first; returns how many. */
static int fct_rec_pass(const float *scores, int32_t n_items, const int32_t *seen, int64_t n_seen, int k,
                        facto_recommendation *out)
{
    const int32_t *s = seen, *s_end = seen ? seen + n_seen : NULL;
    fct_topk top;
    fct_topk_init(&top, out, k);
    for (int32_t i = 0; i < n_items; i++) {
        while (s && s < s_end && *s < i)
            s++;
        if (s && s < s_end && *s == i)
            continue;
        fct_topk_offer(&top, i, scores[i]);
    }
    return fct_topk_finish(&top);
}

/* One user's running selection over a dot-form model's tiles. */
typedef struct fct_rec_user {
    fct_topk top;               /* k + FCT_REC_MARGIN best block scores so far */
    const int32_t *seen, *end;  /* training items not yet passed */
    float cu;                   /* c + b_u */
} fct_rec_user;

/* Offer items i0 .. i0 + n - 1 with products row [n]: item-ordered, so the
 * heap's worst is a strict threshold once it is full; the kernel skips
 * every score not above it. Finished scores are (c + b_u) + b_i + dot, as
 * fct_scorer_row adds them. */
static void fct_rec_scan(fct_rec_user *ru, const fct_dot_form *d, const float *row, int32_t i0, int32_t n)
{
    fct_topk *t = &ru->top;
    const float *bias = d->item_bias ? d->item_bias + i0 : NULL;
    int32_t x = 0;
    while (x < n) {
        float v;
        if (t->n < t->k) {
            v = bias ? ru->cu + bias[x] + row[x] : ru->cu + row[x];
        } else {
            x += fct_kern.scan_above(row + x, bias ? bias + x : NULL, ru->cu, n - x, t->heap[0].score, &v);
            if (x >= n)
                break;
        }
        const int32_t i = i0 + x++;
        while (ru->seen < ru->end && *ru->seen < i)
            ru->seen++;
        if (ru->seen < ru->end && *ru->seen == i)
            continue;
        fct_topk_offer(t, i, v);
    }
}

/* User u's top k into out [k] from its block selection `kept` [n] (best
 * first, cap = k + FCT_REC_MARGIN entries at most): those within the slack
 * of the k-th block score are scored again in one fixed order and the k
 * best kept. When more than were kept lie within the slack, every item is
 * scored in that order. Either way the list is the top k of the fixed-order
 * scores, whatever block or tile the user was in. */
static int fct_rec_finish(const fct_dot_form *d, const fct_rec_bound *bound, int32_t u, const int32_t *seen,
                          int64_t n_seen, const facto_recommendation *kept, int n, int k, facto_recommendation *out)
{
    const int cap = k + FCT_REC_MARGIN;
    /* every candidate when fewer than k, else those within the slack of the k-th */
    float floor = n >= k ? kept[k - 1].score - fct_rec_slack(d, bound, u, kept[k - 1].score) : -INFINITY;
    fct_topk top;
    fct_topk_init(&top, out, k);
    if (n == cap && !(kept[cap - 1].score < floor)) { /* more near the k-th than kept: all of them */
        const int32_t *s = seen, *s_end = seen ? seen + n_seen : NULL;
        for (int32_t i = 0; i < d->n_items; i++) {
            while (s && s < s_end && *s < i)
                s++;
            if (s && s < s_end && *s == i)
                continue;
            fct_topk_offer(&top, i, fct_rec_exact(d, u, i));
        }
        return fct_topk_finish(&top);
    }
    for (int x = 0; x < n; x++)
        if (kept[x].score >= floor)
            fct_topk_push(&top, kept[x].item, fct_rec_exact(d, u, kept[x].item));
    return fct_topk_finish(&top);
}

/* A thread's buffers for dot-form tiles. */
typedef struct fct_rec_tile {
    float *Ub;                  /* [FCT_REC_TILE_USERS, k] */
    float *S;                   /* [FCT_REC_TILE_USERS, FCT_REC_TILE_ITEMS] products */
    fct_rec_user *ru;           /* [FCT_REC_TILE_USERS] */
    facto_recommendation *heap; /* [FCT_REC_TILE_USERS, k + FCT_REC_MARGIN] */
} fct_rec_tile;

/* Users bu[nb] (model indices) of a dot-form model into out + pos[b] k,
 * n_out[pos[b]]: one sgemm per item tile, each user's scores of the tile
 * scanned while they are in L2. */
static void fct_rec_tile_run(const facto_model *model, const fct_dot_form *d, const fct_rec_bound *bound,
                             fct_rec_tile *tl, const int32_t *bu, const int64_t *pos, int nb, int k,
                             int include_seen, facto_recommendation *out, int *n_out)
{
    const int cap = k + FCT_REC_MARGIN;
    for (int b = 0; b < nb; b++) {
        fct_rec_user *ru = &tl->ru[b];
        memcpy(tl->Ub + (int64_t)b * d->k, d->U + (int64_t)bu[b] * d->ldu, (size_t)d->k * sizeof(float));
        fct_topk_init(&ru->top, tl->heap + (int64_t)b * cap, cap);
        int64_t n_seen = include_seen ? 0 : fct_seen_items(model, bu[b], &ru->seen, NULL);
        ru->end = ru->seen ? ru->seen + n_seen : NULL;
        ru->cu = d->c + (d->user_bias ? d->user_bias[bu[b]] : 0.0f);
    }
    for (int32_t i0 = 0; i0 < d->n_items; i0 += FCT_REC_TILE_ITEMS) {
        const int32_t ni = d->n_items - i0 < FCT_REC_TILE_ITEMS ? d->n_items - i0 : FCT_REC_TILE_ITEMS;
        if (nb == 1) /* one user (the server's call): no packing of V; the kept lists are rescored */
            fct_sgemv_n(ni, d->k, tl->Ub, d->V + (int64_t)i0 * d->ldv, d->ldv, tl->S);
        else
            fct_sgemm_nt(nb, ni, d->k, tl->Ub, d->k, d->V + (int64_t)i0 * d->ldv, d->ldv, tl->S, ni);
        for (int b = 0; b < nb; b++)
            fct_rec_scan(&tl->ru[b], d, tl->S + (int64_t)b * ni, i0, ni);
    }
    for (int b = 0; b < nb; b++) {
        const int32_t *seen = NULL;
        int64_t n_seen = include_seen ? 0 : fct_seen_items(model, bu[b], &seen, NULL);
        int n = fct_topk_finish(&tl->ru[b].top);
        n_out[pos[b]] = fct_rec_finish(d, bound, bu[b], seen, n_seen, tl->ru[b].top.heap, n, k,
                                       out + pos[b] * (int64_t)k);
    }
}

/* Batch top-N of a dot-form model: tiles of users spread over the threads
 * (dynamic), each thread running its own single-threaded sgemm per item
 * tile, so no thread waits for another until the end. Memory per thread
 * O(tile users x (tile items + k + num_factors)). */
static facto_status fct_rec_batch_dot(facto_ctx *ctx, const facto_model *model, const fct_dot_form *d,
                                      const int32_t *idx, int32_t n, int k, int include_seen,
                                      facto_recommendation *out, int *n_out)
{
    int n_threads = fct_threads(ctx);
    int32_t n_valid = 0;
    for (int32_t j = 0; j < n; j++) {
        n_out[j] = 0;
        n_valid += idx[j] >= 0;
    }
    /* tiles small enough that every thread gets some */
    int tu = (int)((n_valid + n_threads - 1) / n_threads);
    tu = tu < 1 ? 1 : tu > FCT_REC_TILE_USERS ? FCT_REC_TILE_USERS : tu;
    const int64_t n_tiles = (n_valid + tu - 1) / tu;
    if (n_tiles < n_threads)
        n_threads = (int)(n_tiles > 0 ? n_tiles : 1);
    const int cap = k + FCT_REC_MARGIN;
    int32_t *bu = fct_malloc_array((size_t)(n_valid > 0 ? n_valid : 1), sizeof *bu);
    int64_t *pos = fct_malloc_array((size_t)(n_valid > 0 ? n_valid : 1), sizeof *pos);
    fct_rec_tile *tiles = calloc((size_t)n_threads, sizeof *tiles);
    int ok = bu && pos && tiles;
    for (int t = 0; ok && t < n_threads; t++) {
        tiles[t].Ub = fct_malloc_array((size_t)tu * (size_t)(d->k > 0 ? d->k : 1), sizeof(float));
        tiles[t].S = fct_malloc_array((size_t)tu * FCT_REC_TILE_ITEMS, sizeof(float));
        tiles[t].ru = fct_malloc_array((size_t)tu, sizeof(fct_rec_user));
        tiles[t].heap = fct_malloc_array((size_t)tu * (size_t)cap, sizeof(facto_recommendation));
        ok = tiles[t].Ub && tiles[t].S && tiles[t].ru && tiles[t].heap;
    }
    facto_status st = FACTO_OK;
    if (!ok) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "top-N: out of memory for %d threads' tiles of %d users", n_threads,
                      tu);
    } else {
        n_valid = 0;
        for (int32_t j = 0; j < n; j++)
            if (idx[j] >= 0) {
                bu[n_valid] = idx[j];
                pos[n_valid++] = j;
            }
        fct_rec_bound bound;
        fct_rec_bound_cached(model, d, &bound);
        fct_blas_set_threads(1); /* the threads split the users; each sgemm runs alone */
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (n_threads > 1)
        for (int64_t t = 0; t < n_tiles; t++) {
            const int64_t j0 = t * tu;
            const int nb = (int)(n_valid - j0 < tu ? n_valid - j0 : tu);
            fct_rec_tile_run(model, d, &bound, &tiles[omp_get_thread_num()], bu + j0, pos + j0, nb, k,
                             include_seen, out, n_out);
        }
        fct_blas_set_threads(fct_threads(ctx));
    }
    for (int t = 0; tiles && t < n_threads; t++) {
        free(tiles[t].Ub);
        free(tiles[t].S);
        free(tiles[t].ru);
        free(tiles[t].heap);
    }
    free(tiles);
    free(bu);
    free(pos);
    return st;
}

/* Warn once a call when the model keeps no training items to leave out. */
static void fct_rec_warn_seen(facto_ctx *ctx, const facto_model *model, int include_seen)
{
    int kept = 1;
    const int32_t *probe;
    if (!include_seen)
        fct_seen_items(model, 0, &probe, &kept);
    if (!kept)
        fct_log(ctx, FACTO_LOG_WARN,
                "this %s model keeps no training items (a file written before facto 0.2): items users had in "
                "training are not left out",
                model->ops->name);
}

/* The batch driver over model indices: idx [n] (-1 = unknown user: n_out 0). */
static facto_status fct_rec_batch(facto_ctx *ctx, const facto_model *model, const int32_t *idx, int32_t n, int k,
                                  int include_seen, facto_recommendation *out, int *n_out)
{
    fct_rec_warn_seen(ctx, model, include_seen);
    fct_dot_form dot;
    if (model->ops->dot_form && model->ops->dot_form(model, &dot))
        return fct_rec_batch_dot(ctx, model, &dot, idx, n, k, include_seen, out, n_out);
    fct_scorer sc;
    facto_status st = fct_scorer_init(ctx, &sc, model);
    if (st != FACTO_OK)
        return st;
    for (int32_t j = 0; j < n && st == FACTO_OK; j++) {
        n_out[j] = 0;
        if (idx[j] < 0)
            continue;
        if ((st = fct_scorer_run(ctx, &sc, &idx[j], 1)) != FACTO_OK)
            break;
        const int32_t *seen = NULL;
        int64_t n_seen = include_seen ? 0 : fct_seen_items(model, idx[j], &seen, NULL);
        n_out[j] = fct_rec_pass(fct_scorer_row(&sc, 0), sc.n_items, seen, n_seen, k, out + j * (int64_t)k);
    }
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
