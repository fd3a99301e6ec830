/*
 * dataset.c — rating data sets: the COO builder, CSR-by-user construction
 * (counting sort by user, then per-user sort by item and file position so the
 * last duplicate wins), and the public accessors. O(n log d) to build.
 */
#include "dataset.h"

#include <math.h>
#include <string.h>

void facto_coo_init(facto_coo *coo) { memset(coo, 0, sizeof *coo); }

void facto_coo_free(facto_coo *coo)
{
    free(coo->users);
    free(coo->items);
    free(coo->ratings);
    free(coo->timestamps);
    memset(coo, 0, sizeof *coo);
}

facto_status facto_coo_push(facto_ctx *ctx, facto_coo *coo, int32_t user, int32_t item, float rating,
                            int has_time, int64_t timestamp)
{
    if (coo->n == coo->cap) {
        int64_t cap = coo->cap ? coo->cap * 2 : 4096;
        int32_t *u = facto_realloc_array(coo->users, (size_t)cap, sizeof *u);
        if (!u)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
        coo->users = u;
        int32_t *it = facto_realloc_array(coo->items, (size_t)cap, sizeof *it);
        if (!it)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
        coo->items = it;
        float *r = facto_realloc_array(coo->ratings, (size_t)cap, sizeof *r);
        if (!r)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
        coo->ratings = r;
        if (coo->timestamps || has_time) {
            int64_t *t = facto_realloc_array(coo->timestamps, (size_t)cap, sizeof *t);
            if (!t)
                return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
            if (!coo->timestamps)
                memset(t, 0, (size_t)coo->n * sizeof *t);
            coo->timestamps = t;
        }
        coo->cap = cap;
    }
    if (has_time && !coo->timestamps) {
        coo->timestamps = facto_calloc_array((size_t)coo->cap, sizeof(int64_t));
        if (!coo->timestamps)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading ratings");
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

typedef struct {
    int32_t item;
    int64_t pos;
} item_pos;

static int cmp_item_pos(const void *a, const void *b)
{
    const item_pos *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

facto_status facto_dataset_from_coo(facto_ctx *ctx, const facto_coo *coo, facto_idmap *users, facto_idmap *items,
                                    facto_dataset **out, int64_t *n_duplicates)
{
    *out = NULL;
    facto_dataset *ds = calloc(1, sizeof *ds);
    int64_t *order = NULL;
    item_pos *buf = NULL;
    if (!ds)
        goto nomem;
    ds->user_map = users;
    ds->item_map = items;
    users = items = NULL;
    ds->n_users = ds->user_map->n;
    ds->n_items = ds->item_map->n;
    int64_t n = coo->n;

    int64_t *count = facto_calloc_array((size_t)ds->n_users + 1, sizeof *count);
    order = facto_malloc_array((size_t)n, sizeof *order);
    if (!count || !order) {
        free(count);
        goto nomem;
    }
    for (int64_t k = 0; k < n; k++)
        count[coo->users[k] + 1]++;
    for (int32_t u = 0; u < ds->n_users; u++)
        count[u + 1] += count[u];
    /* count[u] is now the start of user u; stable placement keeps file order. */
    int64_t *next = facto_malloc_array((size_t)ds->n_users + 1, sizeof *next);
    if (!next) {
        free(count);
        goto nomem;
    }
    memcpy(next, count, ((size_t)ds->n_users + 1) * sizeof *next);
    for (int64_t k = 0; k < n; k++)
        order[next[coo->users[k]]++] = k;
    free(next);

    int64_t maxdeg = 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        if (count[u + 1] - count[u] > maxdeg)
            maxdeg = count[u + 1] - count[u];
    buf = facto_malloc_array((size_t)maxdeg + 1, sizeof *buf);
    ds->row_ptr = facto_malloc_array((size_t)ds->n_users + 1, sizeof *ds->row_ptr);
    ds->items = facto_malloc_array((size_t)n, sizeof *ds->items);
    ds->ratings = facto_malloc_array((size_t)n, sizeof *ds->ratings);
    if (coo->has_time)
        ds->timestamps = facto_malloc_array((size_t)n, sizeof *ds->timestamps);
    if (!buf || !ds->row_ptr || !ds->items || !ds->ratings || (coo->has_time && !ds->timestamps)) {
        free(count);
        goto nomem;
    }
    int64_t w = 0, dups = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (int32_t u = 0; u < ds->n_users; u++) {
        ds->row_ptr[u] = w;
        int64_t d = 0;
        for (int64_t p = count[u]; p < count[u + 1]; p++) {
            buf[d].item = coo->items[order[p]];
            buf[d].pos = order[p];
            d++;
        }
        qsort(buf, (size_t)d, sizeof *buf, cmp_item_pos);
        for (int64_t j = 0; j < d; j++) {
            if (j + 1 < d && buf[j + 1].item == buf[j].item) {
                dups++;
                continue; /* a later line has the same pair: it wins */
            }
            int64_t k = buf[j].pos;
            ds->items[w] = buf[j].item;
            ds->ratings[w] = coo->ratings[k];
            if (ds->timestamps)
                ds->timestamps[w] = coo->timestamps[k];
            if (coo->ratings[k] < lo)
                lo = coo->ratings[k];
            if (coo->ratings[k] > hi)
                hi = coo->ratings[k];
            w++;
        }
    }
    ds->row_ptr[ds->n_users] = w;
    ds->n_ratings = w;
    ds->min_rating = w ? lo : 0.0f;
    ds->max_rating = w ? hi : 0.0f;
    free(count);
    free(order);
    free(buf);
    if (n_duplicates)
        *n_duplicates = dups;
    *out = ds;
    return facto_ok(ctx);

nomem:
    free(order);
    free(buf);
    facto_idmap_free(users);
    facto_idmap_free(items);
    facto_dataset_free(ds);
    return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory building the rating matrix");
}

void facto_dataset_free(facto_dataset *ds)
{
    if (!ds)
        return;
    free(ds->row_ptr);
    free(ds->items);
    free(ds->ratings);
    free(ds->timestamps);
    facto_idmap_free(ds->user_map);
    facto_idmap_free(ds->item_map);
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
