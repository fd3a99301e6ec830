/*
 * dataset.c — rating data sets: the COO builder, CSR-by-user construction
 * (two stable counting sorts, by item then by user, so each user's ratings
 * come out by item and then file position and the last duplicate wins), and
 * the public accessors. O(n + n_users + n_items) time, 2n int64 of scratch.
 */
#include "dataset.h"

#include <math.h>
#include <string.h>

void fct_coo_init(fct_coo *coo) { memset(coo, 0, sizeof *coo); }

void fct_coo_free(fct_coo *coo)
{
    free(coo->users);
    free(coo->items);
    free(coo->ratings);
    free(coo->timestamps);
    memset(coo, 0, sizeof *coo);
}

facto_status fct_coo_push(facto_ctx *ctx, fct_coo *coo, int32_t user, int32_t item, float rating,
                            int has_time, int64_t timestamp)
{
    if (coo->n == coo->cap) {
        int64_t cap = coo->cap ? coo->cap * 2 : 4096;
        int32_t *u = fct_realloc_array(coo->users, (size_t)cap, sizeof *u);
        if (!u)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
        coo->users = u;
        int32_t *it = fct_realloc_array(coo->items, (size_t)cap, sizeof *it);
        if (!it)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
        coo->items = it;
        float *r = fct_realloc_array(coo->ratings, (size_t)cap, sizeof *r);
        if (!r)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
        coo->ratings = r;
        if (coo->timestamps || has_time) {
            int64_t *t = fct_realloc_array(coo->timestamps, (size_t)cap, sizeof *t);
            if (!t)
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
            if (!coo->timestamps)
                memset(t, 0, (size_t)coo->n * sizeof *t);
            coo->timestamps = t;
        }
        coo->cap = cap;
    }
    if (has_time && !coo->timestamps) {
        coo->timestamps = fct_calloc_array((size_t)coo->cap, sizeof(int64_t));
        if (!coo->timestamps)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
    }
    coo->users[coo->n] = user;
    coo->items[coo->n] = item;
    coo->ratings[coo->n] = rating;
    if (coo->timestamps)
        coo->timestamps[coo->n] = has_time ? timestamp : 0;
    if (has_time)
        coo->has_time = 1;
    coo->n++;
    return FACTO_OK;
}

/*
 * Stable counting sort: out[] receives the values of in[0..n) (or 0..n-1 when
 * in is NULL) ordered by key[value]; equal keys keep their input order.
 * count is [n_keys + 1] scratch. O(n + n_keys).
 */
static void fct_counting_sort(const int32_t *key, int32_t n_keys, const int64_t *in, int64_t n, int64_t *count,
                                int64_t *out)
{
    memset(count, 0, ((size_t)n_keys + 1) * sizeof *count);
    for (int64_t k = 0; k < n; k++)
        count[key[in ? in[k] : k] + 1]++;
    for (int32_t c = 0; c < n_keys; c++)
        count[c + 1] += count[c];
    for (int64_t k = 0; k < n; k++) {
        int64_t v = in ? in[k] : k;
        out[count[key[v]]++] = v;
    }
}

facto_status fct_dataset_from_coo(facto_ctx *ctx, const fct_coo *coo, facto_idmap *users, facto_idmap *items,
                                    facto_dataset **out, int64_t *n_duplicates)
{
    *out = NULL;
    facto_dataset *ds = calloc(1, sizeof *ds);
    int64_t *by_item = NULL, *order = NULL, *count = NULL;
    if (!ds)
        goto nomem;
    ds->user_map = users;
    ds->item_map = items;
    users = items = NULL;
    ds->n_users = ds->user_map->n;
    ds->n_items = ds->item_map->n;
    int64_t n = coo->n;
    for (int64_t k = 0; k < n; k++)
        if (coo->users[k] < 0 || coo->users[k] >= ds->n_users || coo->items[k] < 0 || coo->items[k] >= ds->n_items) {
            fct_fail(ctx, FACTO_ERR_INTERNAL, "rating %lld: index (%d, %d) outside the id maps (%d, %d)",
                       (long long)k, (int)coo->users[k], (int)coo->items[k], (int)ds->n_users, (int)ds->n_items);
            facto_dataset_free(ds);
            return FACTO_ERR_INTERNAL;
        }

    /* Two stable counting sorts (by item, then by user) order the triplets by
     * (user, item, file position) in O(n + n_users + n_items). */
    int32_t n_keys = ds->n_users > ds->n_items ? ds->n_users : ds->n_items;
    count = fct_malloc_array((size_t)n_keys + 1, sizeof *count);
    by_item = fct_malloc_array((size_t)n + 1, sizeof *by_item);
    order = fct_malloc_array((size_t)n + 1, sizeof *order);
    ds->row_ptr = fct_malloc_array((size_t)ds->n_users + 1, sizeof *ds->row_ptr);
    ds->items = fct_malloc_array((size_t)n + 1, sizeof *ds->items);
    ds->ratings = fct_malloc_array((size_t)n + 1, sizeof *ds->ratings);
    if (coo->has_time)
        ds->timestamps = fct_malloc_array((size_t)n + 1, sizeof *ds->timestamps);
    if (!count || !by_item || !order || !ds->row_ptr || !ds->items || !ds->ratings ||
        (coo->has_time && !ds->timestamps))
        goto nomem;
    fct_counting_sort(coo->items, ds->n_items, NULL, n, count, by_item);
    fct_counting_sort(coo->users, ds->n_users, by_item, n, count, order);
    free(by_item);
    by_item = NULL;

    int64_t w = 0, dups = 0;
    float lo = INFINITY, hi = -INFINITY;
    int32_t u = -1;
    for (int64_t p = 0; p < n; p++) {
        int64_t k = order[p];
        while (u < coo->users[k])
            ds->row_ptr[++u] = w;
        if (p + 1 < n && coo->users[order[p + 1]] == coo->users[k] && coo->items[order[p + 1]] == coo->items[k]) {
            dups++;
            continue; /* a later line has the same pair: it wins */
        }
        ds->items[w] = coo->items[k];
        ds->ratings[w] = coo->ratings[k];
        if (ds->timestamps)
            ds->timestamps[w] = coo->timestamps[k];
        if (coo->ratings[k] < lo)
            lo = coo->ratings[k];
        if (coo->ratings[k] > hi)
            hi = coo->ratings[k];
        w++;
    }
    while (u < ds->n_users)
        ds->row_ptr[++u] = w;
    ds->n_ratings = w;
    ds->min_rating = w ? lo : 0.0f;
    ds->max_rating = w ? hi : 0.0f;
    free(count);
    free(order);
    if (n_duplicates)
        *n_duplicates = dups;
    *out = ds;
    return fct_ok(ctx);

nomem:
    free(count);
    free(by_item);
    free(order);
    fct_idmap_free(users);
    fct_idmap_free(items);
    facto_dataset_free(ds);
    return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory building the rating matrix");
}

void facto_dataset_free(facto_dataset *ds)
{
    if (!ds)
        return;
    free(ds->row_ptr);
    free(ds->items);
    free(ds->ratings);
    free(ds->timestamps);
    fct_idmap_free(ds->user_map);
    fct_idmap_free(ds->item_map);
    free(ds);
}

int32_t facto_dataset_n_users(const facto_dataset *ds) { return ds->n_users; }
int32_t facto_dataset_n_items(const facto_dataset *ds) { return ds->n_items; }
int64_t facto_dataset_n_ratings(const facto_dataset *ds) { return ds->n_ratings; }
const facto_idmap *facto_dataset_users(const facto_dataset *ds) { return ds->user_map; }
const facto_idmap *facto_dataset_items(const facto_dataset *ds) { return ds->item_map; }

void facto_dataset_csr(const facto_dataset *ds, const int64_t **row_ptr, const int32_t **items,
                       const float **ratings, const int64_t **timestamps)
{
    if (row_ptr)
        *row_ptr = ds->row_ptr;
    if (items)
        *items = ds->items;
    if (ratings)
        *ratings = ds->ratings;
    if (timestamps)
        *timestamps = ds->timestamps;
}

void facto_dataset_rating_range(const facto_dataset *ds, float *min_rating, float *max_rating)
{
    if (min_rating)
        *min_rating = ds->min_rating;
    if (max_rating)
        *max_rating = ds->max_rating;
}
