/*
 * dataset.c — rating data sets: the COO builder, CSR-by-user construction
 * (two stable counting sorts, by item then by user, so each user's ratings
 * come out by item and then file position, and the last duplicate wins or,
 * for implicit data, duplicates add up and a threshold may drop pairs), and
 * the public accessors. O(n + n_users + n_items) time, 2n int64 of scratch.
 */
#include "dataset.h"
#include "fds.h"

#include <float.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
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

/*
 * After a threshold dropped pairs: remove the users and items left with none
 * from the maps and renumber the rest in their order (items stay ascending
 * within each user, since the renumbering keeps order). FACTO_ERR_NOMEM.
 */
static facto_status fct_dataset_compact(facto_ctx *ctx, facto_dataset *ds, fct_merge_counts *c)
{
    int32_t *item_new = fct_malloc_array((size_t)ds->n_items + 1, sizeof *item_new);
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    if (!item_new || !users || !items)
        goto nomem;
    for (int32_t i = 0; i < ds->n_items; i++)
        item_new[i] = -1;
    for (int64_t k = 0; k < ds->n_ratings; k++)
        item_new[ds->items[k]] = 0;
    for (int32_t i = 0; i < ds->n_items; i++)
        if (item_new[i] == 0) {
            const char *name = facto_idmap_name(ds->item_map, i);
            if ((item_new[i] = fct_idmap_intern(items, name, strlen(name))) < 0)
                goto nomem;
        }
    for (int64_t k = 0; k < ds->n_ratings; k++)
        ds->items[k] = item_new[ds->items[k]];
    int64_t start = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        int64_t end = ds->row_ptr[u + 1];
        if (end > start) {
            const char *name = facto_idmap_name(ds->user_map, u);
            int32_t j = fct_idmap_intern(users, name, strlen(name));
            if (j < 0)
                goto nomem;
            ds->row_ptr[j + 1] = end; /* j <= u: row u + 1 was read already */
        }
        start = end;
    }
    c->n_users_dropped = ds->n_users - users->n;
    c->n_items_dropped = ds->n_items - items->n;
    fct_idmap_free(ds->user_map);
    fct_idmap_free(ds->item_map);
    ds->user_map = users;
    ds->item_map = items;
    ds->n_users = users->n;
    ds->n_items = items->n;
    free(item_new);
    return FACTO_OK;
nomem:
    free(item_new);
    fct_idmap_free(users);
    fct_idmap_free(items);
    return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory building the rating matrix");
}

facto_status fct_dataset_from_coo(facto_ctx *ctx, const fct_coo *coo, facto_idmap *users, facto_idmap *items,
                                    facto_dataset **out, int64_t *n_duplicates)
{
    fct_merge_counts c;
    facto_status st = fct_dataset_build(ctx, coo, users, items, NULL, out, &c);
    if (st == FACTO_OK && n_duplicates)
        *n_duplicates = c.n_duplicates;
    return st;
}

facto_status fct_dataset_build(facto_ctx *ctx, const fct_coo *coo, facto_idmap *users, facto_idmap *items,
                               const fct_merge *merge, facto_dataset **out, fct_merge_counts *counts)
{
    *out = NULL;
    fct_merge_counts cnt = {0, 0, 0, 0};
    int sum = merge && merge->sum;
    double threshold = sum ? merge->threshold : 0.0;
    facto_status fst = FACTO_OK;
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
    double acc = 0.0;         /* sum: the pair's weights so far */
    int64_t latest = INT64_MIN; /* sum: the pair's latest timestamp so far */
    for (int64_t p = 0; p < n; p++) {
        int64_t k = order[p];
        while (u < coo->users[k])
            ds->row_ptr[++u] = w;
        if (sum) {
            acc += coo->ratings[k];
            if (coo->timestamps && coo->timestamps[k] > latest)
                latest = coo->timestamps[k];
        }
        if (p + 1 < n && coo->users[order[p + 1]] == coo->users[k] && coo->items[order[p + 1]] == coo->items[k]) {
            dups++;
            continue; /* a later line has the same pair: it wins, or adds up */
        }
        float r = coo->ratings[k];
        int64_t t = ds->timestamps ? coo->timestamps[k] : 0;
        if (sum) {
            double total = acc;
            acc = 0.0;
            t = latest;
            latest = INT64_MIN;
            if (total > FLT_MAX) {
                fst = fct_fail(ctx, FACTO_ERR_PARSE, "the weights of user '%s' and item '%s' add up to %g, more than a float holds",
                         facto_idmap_name(ds->user_map, coo->users[k]), facto_idmap_name(ds->item_map, coo->items[k]), total);
                goto fail;
            }
            if (threshold > 0.0) {
                if (!(total >= threshold)) {
                    cnt.n_below++;
                    continue;
                }
                r = 1.0f;
            } else {
                r = (float)total;
            }
        }
        ds->items[w] = coo->items[k];
        ds->ratings[w] = r;
        if (ds->timestamps)
            ds->timestamps[w] = t;
        if (r < lo)
            lo = r;
        if (r > hi)
            hi = r;
        w++;
    }
    while (u < ds->n_users)
        ds->row_ptr[++u] = w;
    ds->n_ratings = w;
    ds->min_rating = w ? lo : 0.0f;
    ds->max_rating = w ? hi : 0.0f;
    free(count);
    free(order);
    count = order = NULL;
    cnt.n_duplicates = dups;
    if (n > 0 && w == 0) {
        fst = fct_fail(ctx, FACTO_ERR_EMPTY, "no pair reaches the implicit threshold %g (%lld pairs below it)", threshold,
                 (long long)cnt.n_below);
        goto fail;
    }
    if (cnt.n_below > 0 && (fst = fct_dataset_compact(ctx, ds, &cnt)) != FACTO_OK)
        goto fail;
    if (counts)
        *counts = cnt;
    *out = ds;
    return fct_ok(ctx);

fail:
    free(count);
    free(order);
    facto_dataset_free(ds);
    return fst;

nomem:
    free(count);
    free(by_item);
    free(order);
    fct_idmap_free(users);
    fct_idmap_free(items);
    facto_dataset_free(ds);
    return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory building the rating matrix");
}

/* Give back the whole pages inside [p, p + n) of a mapping (clean file
 * pages: they are read again if touched). */
void fct_release_mapped(const void *p, uint64_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0 || !p)
        return;
    uintptr_t a = (uintptr_t)p, e = a + (uintptr_t)n;
    a = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
    e &= ~((uintptr_t)pg - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

void fct_dataset_release(const facto_dataset *ds, int64_t x0, int64_t x1)
{
    const fct_narrow *nw = &ds->narrow;
    if (!nw->item_w || x1 <= x0)
        return;
    fct_release_mapped((const char *)nw->items + x0 * nw->item_w, (uint64_t)(x1 - x0) * (uint64_t)nw->item_w);
    if (nw->codes)
        fct_release_mapped(nw->codes + x0, (uint64_t)(x1 - x0));
    else
        fct_release_mapped(nw->rates + x0, (uint64_t)(x1 - x0) * sizeof(float));
}

static pthread_mutex_t fct_wide_lock = PTHREAD_MUTEX_INITIALIZER;

facto_status fct_dataset_wide(facto_ctx *ctx, const facto_dataset *cds)
{
    if (!cds || (cds->items && cds->ratings))
        return FACTO_OK;
    /* The data set was allocated writable; widening fills a cache the const
     * callers may see, under one lock. */
    facto_dataset *ds = (facto_dataset *)(uintptr_t)cds;
    const fct_narrow *nw = &ds->narrow;
    const int64_t n = ds->n_ratings;
    facto_status st = FACTO_OK;
    pthread_mutex_lock(&fct_wide_lock);
    if (!ds->items) {
        int32_t *it = fct_malloc_array((size_t)n + 1, sizeof *it);
        if (!it) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory widening %lld item indices", (long long)n);
            goto done;
        }
        if (nw->item_w == 2) {
            const uint16_t *s = nw->items;
            for (int64_t k = 0; k < n; k++)
                it[k] = s[k];
        } else {
            memcpy(it, nw->items, (size_t)n * sizeof *it);
        }
        fct_release_mapped(nw->items, nw->items_bytes);
        ds->items = it;
    }
    if (!ds->ratings) {
        float *r = fct_malloc_array((size_t)n + 1, sizeof *r);
        if (!r) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory widening %lld ratings", (long long)n);
            goto done;
        }
        if (nw->codes) {
            for (int64_t k = 0; k < n; k++)
                r[k] = nw->table[nw->codes[k]];
        } else {
            memcpy(r, nw->rates, (size_t)n * sizeof *r);
        }
        fct_release_mapped(nw->codes ? (const void *)nw->codes : (const void *)nw->rates, nw->rates_bytes);
        ds->ratings = r;
    }
done:
    pthread_mutex_unlock(&fct_wide_lock);
    return st;
}

void facto_dataset_free(facto_dataset *ds)
{
    if (!ds)
        return;
    if (!(ds->borrowed & FCT_DS_BORROW_ROWS))
        free(ds->row_ptr);
    if (!(ds->borrowed & FCT_DS_BORROW_ITEMS))
        free(ds->items);
    if (!(ds->borrowed & FCT_DS_BORROW_RATINGS))
        free(ds->ratings);
    if (!(ds->borrowed & FCT_DS_BORROW_TIMES))
        free(ds->timestamps);
    free(ds->weights);
    fct_idmap_free(ds->user_map);
    fct_idmap_free(ds->item_map);
    fct_fds_close(ds->fds); /* after the maps, whose ids may point into it */
    free(ds);
}

facto_status facto_dataset_set_weights(facto_ctx *ctx, facto_dataset *ds, const float *weights)
{
    if (!ds)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_set_weights: ds must be given");
    if (!weights) {
        free(ds->weights);
        ds->weights = NULL;
        return fct_ok(ctx);
    }
    int any = 0;
    for (int64_t j = 0; j < ds->n_ratings; j++) {
        if (!(weights[j] >= 0.0f && isfinite(weights[j])))
            return fct_fail(ctx, FACTO_ERR_INVALID, "rating weight %lld is %g: weights must be finite and >= 0",
                            (long long)j, (double)weights[j]);
        any |= weights[j] > 0.0f;
    }
    if (!any)
        return fct_fail(ctx, FACTO_ERR_INVALID, "every rating weight is 0");
    float *w = fct_malloc_array(ds->n_ratings > 0 ? (size_t)ds->n_ratings : 1, sizeof *w);
    if (!w)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld rating weights", (long long)ds->n_ratings);
    memcpy(w, weights, (size_t)ds->n_ratings * sizeof *w);
    free(ds->weights);
    ds->weights = w;
    return fct_ok(ctx);
}

const float *facto_dataset_weights(const facto_dataset *ds) { return ds ? ds->weights : NULL; }

int32_t facto_dataset_n_users(const facto_dataset *ds) { return ds->n_users; }
int32_t facto_dataset_n_items(const facto_dataset *ds) { return ds->n_items; }
int64_t facto_dataset_n_ratings(const facto_dataset *ds) { return ds->n_ratings; }
const facto_idmap *facto_dataset_users(const facto_dataset *ds) { return ds->user_map; }
const facto_idmap *facto_dataset_items(const facto_dataset *ds) { return ds->item_map; }

/* Exponent of the lowest set bit of a finite nonzero float: |v| = j 2^e, j odd. */
static int fct_low_exp(uint32_t bits)
{
    uint32_t e = (bits >> 23) & 0xffu, m = bits & 0x7fffffu;
    if (e)
        m |= 0x800000u;
    else
        e = 1;
    return (int)e - 150 + __builtin_ctz(m);
}

/* Whether n values, multiples of 2^low of magnitude at most max_bits (as
 * float bits), have only exact partial sums in double: n * max < 2^(52 + low). */
static int fct_sum_exact(int64_t n, uint32_t max_bits, int low)
{
    float mx;
    memcpy(&mx, &max_bits, sizeof mx);
    return max_bits == 0 || (max_bits < 0x7f800000u && (double)n * (double)mx < ldexp(1.0, 52 + low));
}

/* Ratings per piece of fct_dataset_rating_sum's parallel pass. */
#define FCT_SUM_PIECE ((int64_t)1 << 18)

double fct_dataset_rating_sum(const facto_dataset *ds, int n_threads)
{
    const int64_t n = ds->n_ratings, np = (n + FCT_SUM_PIECE - 1) / FCT_SUM_PIECE;
    const fct_narrow *nw = &ds->narrow;
    const uint8_t *codes = ds->ratings ? NULL : nw->codes;
    const float *r = ds->ratings ? ds->ratings : nw->rates;
    int exact = np > 1;
    double *psum = exact ? fct_calloc_array((size_t)np, sizeof *psum) : NULL;
    uint32_t *pmax = exact && !codes ? fct_calloc_array((size_t)np, sizeof *pmax) : NULL;
    int *plow = exact && !codes ? fct_malloc_array((size_t)np, sizeof *plow) : NULL;
    if (!psum || (!codes && (!pmax || !plow)))
        exact = 0;
    if (exact && codes) { /* decided by the code table alone (a superset of the values used) */
        uint32_t mx = 0;
        int low = INT32_MAX;
        for (int c = 0; c < 256; c++) {
            uint32_t b;
            memcpy(&b, &nw->table[c], sizeof b);
            b &= 0x7fffffffu;
            mx = b > mx ? b : mx;
            if (b != 0)
                low = fct_low_exp(b) < low ? fct_low_exp(b) : low;
        }
        exact = fct_sum_exact(n, mx, low);
    }
    if (exact) {
        const int nt = n_threads > 1 ? n_threads : 1;
        /* four sums a piece (exact: any order gives the same), and for
         * floats the largest magnitude and lowest bit seen */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
        for (int64_t p = 0; p < np; p++) {
            const int64_t x0 = p * FCT_SUM_PIECE, x1 = x0 + FCT_SUM_PIECE < n ? x0 + FCT_SUM_PIECE : n;
            double s[4] = {0.0, 0.0, 0.0, 0.0};
            int64_t x = x0;
            if (codes) {
                for (; x + 4 <= x1; x += 4)
                    for (int j = 0; j < 4; j++)
                        s[j] += nw->table[codes[x + j]];
                for (; x < x1; x++)
                    s[0] += nw->table[codes[x]];
            } else {
                uint32_t mx = 0;
                int low = INT32_MAX;
                for (; x < x1; x++) {
                    uint32_t b;
                    memcpy(&b, &r[x], sizeof b);
                    b &= 0x7fffffffu;
                    mx = b > mx ? b : mx;
                    if (b != 0 && b < 0x7f800000u) {
                        int e = fct_low_exp(b);
                        low = e < low ? e : low;
                    }
                    s[x & 3] += r[x];
                }
                pmax[p] = mx;
                plow[p] = low;
            }
            psum[p] = (s[0] + s[1]) + (s[2] + s[3]);
        }
        if (!codes) {
            uint32_t mx = 0;
            int low = INT32_MAX;
            for (int64_t p = 0; p < np; p++) {
                mx = pmax[p] > mx ? pmax[p] : mx;
                low = plow[p] < low ? plow[p] : low;
            }
            exact = fct_sum_exact(n, mx, low);
        }
    }
    double sum = 0.0;
    if (exact) {
        for (int64_t p = 0; p < np; p++)
            sum += psum[p];
    } else {
        for (int64_t x = 0; x < n; x++)
            sum += fct_ds_rating(ds, x);
    }
    free(psum);
    free(pmax);
    free(plow);
    return sum;
}

facto_status fct_dataset_spread(facto_ctx *ctx, const facto_dataset *ds, double mean, int n_threads, double *sd,
                                int32_t *users_rated, int32_t *items_rated)
{
    const int64_t n = ds->n_ratings, np = (n + FCT_SUM_PIECE - 1) / FCT_SUM_PIECE;
    const fct_narrow *nw = &ds->narrow;
    const uint8_t *codes = ds->ratings ? NULL : nw->codes;
    double *psum = fct_calloc_array(np > 0 ? (size_t)np : 1, sizeof *psum);
    uint8_t *mark = fct_calloc_array(ds->n_items > 0 ? (size_t)ds->n_items : 1, 1);
    if (!psum || !mark) {
        free(psum);
        free(mark);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the ratings' spread");
    }
    double dev2[256]; /* codes: (value - mean)^2 once a code */
    if (codes)
        for (int c = 0; c < 256; c++)
            dev2[c] = ((double)nw->table[c] - mean) * ((double)nw->table[c] - mean);
    const int nt = n_threads > 1 ? n_threads : 1;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1 && np > 1)
    for (int64_t p = 0; p < np; p++) {
        const int64_t x0 = p * FCT_SUM_PIECE, x1 = x0 + FCT_SUM_PIECE < n ? x0 + FCT_SUM_PIECE : n;
        double s = 0.0;
        for (int64_t x = x0; x < x1; x++) {
            if (codes) {
                s += dev2[codes[x]];
            } else {
                const double d = (double)fct_ds_rating(ds, x) - mean;
                s += d * d;
            }
            /* the same value from any thread: relaxed stores, no race */
            __atomic_store_n(&mark[fct_ds_item(ds, x)], (uint8_t)1, __ATOMIC_RELAXED);
        }
        psum[p] = s;
    }
    double sse = 0.0;
    for (int64_t p = 0; p < np; p++)
        sse += psum[p];
    int32_t nu = 0, ni = 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        nu += ds->row_ptr[u + 1] > ds->row_ptr[u];
    for (int32_t i = 0; i < ds->n_items; i++)
        ni += mark[i];
    free(psum);
    free(mark);
    *sd = n > 0 ? sqrt(sse / (double)n) : NAN;
    *users_rated = nu;
    *items_rated = ni;
    return FACTO_OK;
}

double facto_dataset_mean_rating(const facto_dataset *ds)
{
    if (!ds || ds->n_ratings == 0)
        return NAN;
    return fct_dataset_rating_sum(ds, 1) / (double)ds->n_ratings;
}

double facto_dataset_rmse_constant(const facto_dataset *ds, double value)
{
    if (!ds || ds->n_ratings == 0)
        return NAN;
    double sse = 0.0;
    for (int64_t x = 0; x < ds->n_ratings; x++) {
        double d = fct_ds_rating(ds, x) - value;
        sse += d * d;
    }
    return sqrt(sse / (double)ds->n_ratings);
}

void facto_dataset_csr(const facto_dataset *ds, const int64_t **row_ptr, const int32_t **items,
                       const float **ratings, const int64_t **timestamps)
{
    if ((items || ratings) && fct_dataset_wide(NULL, ds) != FACTO_OK) {
        if (items)
            *items = NULL;
        if (ratings)
            *ratings = NULL;
        items = NULL;
        ratings = NULL;
    }
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
