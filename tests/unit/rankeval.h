/*
 * rankeval.h — the ranking protocol of issue 9, for tests and bench
 * programs until the library's own implicit reading, per-user splits and
 * ranking metrics land: keep the pairs whose rating is >= a threshold as
 * interactions of weight 1, hold out a fraction of each user's
 * interactions at random (a fixed seed), and NDCG@k over full ranking with
 * the training items left out (binary relevance, ideal DCG over
 * min(|test items|, k), users without test items skipped). Header-only,
 * over the library's internal data layer (data/dataset.h); no cmocka.
 * Cost: O(nnz) for the data steps; NDCG is one top-k per test user through
 * facto_model_recommend_batch.
 */
#ifndef FACTO_RANKEVAL_H
#define FACTO_RANKEVAL_H

#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Copy the (user, item) pairs x of `src` for which keep[x] is non-zero into
 * a data set of weight-1 interactions (weights from src when keep_weight)
 * with compact id maps in src's order. NULL on error (ctx says). */
static inline facto_dataset *rank_subset(facto_ctx *ctx, const facto_dataset *src, const unsigned char *keep,
                                         int keep_weight)
{
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *um = fct_idmap_new(), *im = fct_idmap_new();
    facto_dataset *out = NULL;
    if (!um || !im)
        goto fail;
    for (int32_t u = 0; u < src->n_users; u++)
        for (int64_t x = src->row_ptr[u]; x < src->row_ptr[u + 1]; x++) {
            if (!keep[x])
                continue;
            const char *un = src->user_map->names[u], *in = src->item_map->names[src->items[x]];
            int32_t a = fct_idmap_intern(um, un, strlen(un)), b = fct_idmap_intern(im, in, strlen(in));
            if (a < 0 || b < 0 ||
                fct_coo_push(ctx, &coo, a, b, keep_weight ? src->ratings[x] : 1.0f, 0, 0) != FACTO_OK)
                goto fail;
        }
    if (fct_dataset_from_coo(ctx, &coo, um, im, &out, NULL) != FACTO_OK)
        out = NULL;
    fct_coo_free(&coo);
    return out;
fail:
    fct_idmap_free(um);
    fct_idmap_free(im);
    fct_coo_free(&coo);
    return NULL;
}

/* The interactions of `all` whose rating is >= threshold, each of weight 1. */
static inline facto_dataset *rank_implicit(facto_ctx *ctx, const facto_dataset *all, float threshold)
{
    unsigned char *keep = calloc((size_t)all->n_ratings + 1, 1);
    if (!keep)
        return NULL;
    for (int64_t x = 0; x < all->n_ratings; x++)
        keep[x] = all->ratings[x] >= threshold;
    facto_dataset *out = rank_subset(ctx, all, keep, 0);
    free(keep);
    return out;
}

/* Each user's round(frac * d) of d interactions (at most d - 1) to *test,
 * the rest to *train, chosen by a Fisher-Yates shuffle of the user's list
 * with one stream seeded by `seed`, users in index order. 0 on success. */
static inline int rank_split(facto_ctx *ctx, const facto_dataset *all, double frac, uint64_t seed,
                             facto_dataset **train, facto_dataset **test)
{
    *train = *test = NULL;
    unsigned char *in_test = calloc((size_t)all->n_ratings + 1, 1), *in_train = NULL;
    int64_t *idx = malloc(((size_t)all->n_items + 1) * sizeof *idx);
    if (!in_test || !idx)
        goto done;
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    for (int32_t u = 0; u < all->n_users; u++) {
        int64_t a = all->row_ptr[u], d = all->row_ptr[u + 1] - a;
        int64_t nt = (int64_t)floor(frac * (double)d + 0.5);
        if (nt > d - 1)
            nt = d - 1;
        for (int64_t x = 0; x < d; x++)
            idx[x] = a + x;
        fct_rng_shuffle_i64(&rng, idx, d);
        for (int64_t x = 0; x < nt; x++)
            in_test[idx[x]] = 1;
    }
    in_train = malloc((size_t)all->n_ratings + 1);
    if (!in_train)
        goto done;
    for (int64_t x = 0; x < all->n_ratings; x++)
        in_train[x] = !in_test[x];
    *train = rank_subset(ctx, all, in_train, 1);
    *test = rank_subset(ctx, all, in_test, 1);
done:
    free(in_test);
    free(in_train);
    free(idx);
    if (!*train || !*test) {
        facto_dataset_free(*train);
        facto_dataset_free(*test);
        *train = *test = NULL;
        return -1;
    }
    return 0;
}

/* Mean NDCG@k of `model` over the users of `test` (ids matched by name),
 * full ranking with their training items left out; *n_users (may be NULL)
 * gets how many users were scored. NAN on error (ctx says). */
static inline double rank_ndcg(facto_ctx *ctx, const facto_model *model, const facto_dataset *test, int k,
                               int32_t *n_users)
{
    const facto_idmap *mi = facto_model_items(model);
    int32_t nu = test->n_users;
    const char **ids = malloc(((size_t)nu + 1) * sizeof *ids);
    facto_recommendation *recs = malloc(((size_t)nu * (size_t)k + 1) * sizeof *recs);
    int *n_out = malloc(((size_t)nu + 1) * sizeof *n_out);
    int32_t *rel = malloc(((size_t)test->n_items + 1) * sizeof *rel);
    double sum = NAN;
    int32_t scored = 0;
    if (!ids || !recs || !n_out || !rel)
        goto done;
    for (int32_t u = 0; u < nu; u++)
        ids[u] = test->user_map->names[u];
    if (facto_model_recommend_batch(ctx, model, ids, nu, k, 0, recs, n_out) != FACTO_OK)
        goto done;
    sum = 0.0;
    for (int32_t u = 0; u < nu; u++) {
        int64_t a = test->row_ptr[u], d = test->row_ptr[u + 1] - a;
        if (d == 0 || facto_idmap_find(facto_model_users(model), ids[u]) < 0)
            continue;
        for (int64_t x = 0; x < d; x++)
            rel[x] = facto_idmap_find(mi, test->item_map->names[test->items[a + x]]);
        double dcg = 0.0, idcg = 0.0;
        for (int r = 0; r < n_out[u]; r++)
            for (int64_t x = 0; x < d; x++)
                if (rel[x] >= 0 && rel[x] == recs[(size_t)u * (size_t)k + (size_t)r].item) {
                    dcg += 1.0 / log2((double)r + 2.0);
                    break;
                }
        for (int r = 0; r < k && r < d; r++)
            idcg += 1.0 / log2((double)r + 2.0);
        sum += dcg / idcg;
        scored++;
    }
    sum = scored > 0 ? sum / scored : NAN;
done:
    free(ids);
    free(recs);
    free(n_out);
    free(rel);
    if (n_users)
        *n_users = scored;
    return sum;
}

/* Seconds on a monotonic clock. */
static inline double rank_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif /* FACTO_RANKEVAL_H */
