/*
 * rankeval.h — the ranking protocol of issue 9 for tests and bench
 * programs: read a ratings file as implicit data (pairs whose rating is >=
 * a threshold, each a positive of weight 1), hold out a fraction of each
 * user's interactions at random (the library's per-user split, a fixed
 * seed), and NDCG@k over full ranking with the training items left out
 * (binary relevance, ideal DCG over min(|test items|, k), users without
 * test items skipped), written out here as a check on the library's own
 * ranking metrics. Header-only, public API plus the data set's layout
 * (data/dataset.h); no cmocka.
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

/* Interactions read from `path` as issue 9's protocol reads them: the
 * rating column a weight, the pairs whose weight is >= threshold kept as
 * positives of weight 1 (facto_read_options.implicit_threshold). NULL on
 * error (ctx says). */
static inline facto_dataset *rank_read(facto_ctx *ctx, const char *path, double threshold)
{
    facto_read_options o = facto_read_options_default();
    o.implicit = 1;
    o.implicit_threshold = threshold;
    facto_dataset *ds = NULL;
    return facto_dataset_read(ctx, path, &o, &ds, NULL) == FACTO_OK ? ds : NULL;
}

/* The library's per-user split (FACTO_SPLIT_PER_USER): round(frac * d) of
 * each user's d interactions, at most d - 1, to *test. 0 on success. */
static inline int rank_split(facto_ctx *ctx, const facto_dataset *all, double frac, uint64_t seed,
                             facto_dataset **train, facto_dataset **test)
{
    facto_split sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = FACTO_SPLIT_PER_USER;
    sp.fraction = frac;
    sp.seed = seed;
    return facto_dataset_split(ctx, all, &sp, train, test) == FACTO_OK ? 0 : -1;
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
        ids[u] = facto_idmap_name(test->user_map, u);
    if (facto_model_recommend_batch(ctx, model, ids, nu, k, 0, recs, n_out) != FACTO_OK)
        goto done;
    sum = 0.0;
    for (int32_t u = 0; u < nu; u++) {
        int64_t a = test->row_ptr[u], d = test->row_ptr[u + 1] - a;
        if (d == 0 || facto_idmap_find(facto_model_users(model), ids[u]) < 0)
            continue;
        for (int64_t x = 0; x < d; x++)
            rel[x] = facto_idmap_find(mi, facto_idmap_name(test->item_map, test->items[a + x]));
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
