/*
 * synth.c — a synthetic rating data set with the shape of real ones, so
 * scale is tested without downloads. Items have Zipf popularity (weight
 * 1 / rank^s over a random order of the items, drawn in O(1) from a Walker
 * alias table); users have long-tailed activity (log-normal weights,
 * sigma 1.2, at least min(20, R / 4N) ratings each, at most the catalogue);
 * each user's items are distinct, drawn by popularity (rejection against a
 * per-item stamp, or for heavy users one weighted draw without replacement
 * over the whole catalogue: Efraimidis & Spirakis, IPL 2006, keys U^(1/w)).
 * A rating is mu + b_u + b_i + <p_u, q_i> + noise (rank-k factors, Gaussian
 * biases and noise) rounded to the half-star scale 0.5..5; with implicit
 * every pair has weight 1 and a user's items are also chosen by taste (a
 * popular draw is kept with probability sigmoid(3 <p_u, q_i> / sd)), so the
 * pairs themselves carry the low-rank structure. One RNG stream in a fixed
 * order: the same options give the same data set on any run.
 * Cost: O(R log(R / N)) time (the per-user sorts), memory the data set
 * (8 bytes a rating) plus (48 + 4k) bytes an item and (48 + 4k) a user;
 * sizes past 16 ratings an item (beyond 2^20 items) or the machine's
 * memory are refused before anything is allocated.
 */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

facto_synth_options facto_synth_options_default(void)
{
    facto_synth_options o;
    memset(&o, 0, sizeof o);
    o.n_users = 1000;
    o.n_items = 500;
    o.n_ratings = 50000;
    o.seed = 0;
    o.implicit = 0;
    o.rank = 8;
    o.zipf = 1.0;
    o.noise = 0.5;
    return o;
}

/* Walker's alias table over weights w[n]: prob[] and alias[]. O(n). */
static int synth_alias(const double *w, int32_t n, float *prob, int32_t *alias)
{
    double total = 0.0;
    for (int32_t i = 0; i < n; i++)
        total += w[i];
    double *scaled = fct_malloc_array((size_t)n, sizeof *scaled);
    int32_t *small = fct_malloc_array((size_t)n, sizeof *small), *large = fct_malloc_array((size_t)n, sizeof *large);
    if (!scaled || !small || !large) {
        free(scaled);
        free(small);
        free(large);
        return -1;
    }
    int32_t ns = 0, nl = 0;
    for (int32_t i = 0; i < n; i++) {
        scaled[i] = w[i] * n / total;
        if (scaled[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        int32_t s = small[--ns], l = large[--nl];
        prob[s] = (float)scaled[s];
        alias[s] = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0)
            small[ns++] = l;
        else
            large[nl++] = l;
    }
    while (nl > 0) {
        int32_t l = large[--nl];
        prob[l] = 1.0f;
        alias[l] = l;
    }
    while (ns > 0) {
        int32_t s = small[--ns];
        prob[s] = 1.0f;
        alias[s] = s;
    }
    free(scaled);
    free(small);
    free(large);
    return 0;
}

static int synth_cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

typedef struct synth_key {
    double key;
    int32_t item;
} synth_key;

static int synth_cmp_key(const void *a, const void *b)
{
    const synth_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1; /* largest first */
    return (x->item > y->item) - (x->item < y->item);
}

typedef struct synth_state {
    const facto_synth_options *o;
    fct_rng rng;
    float *P, *Q, *bu, *bi; /* [N k], [M k], [N], [M] */
    double *pop;            /* [M] popularity weights */
    float *prob;            /* [M] alias */
    int32_t *alias;
    int32_t *stamp;         /* [M] last user (+1) that took the item */
    synth_key *keys;        /* [M] heavy users' draw */
    double dot_sd;
} synth_state;

static double synth_dot(const synth_state *s, int32_t u, int32_t i)
{
    int k = s->o->rank;
    const float *p = s->P + (size_t)u * (size_t)k, *q = s->Q + (size_t)i * (size_t)k;
    double d = 0.0;
    for (int f = 0; f < k; f++)
        d += (double)p[f] * q[f];
    return d;
}

/* Implicit: how likely user u keeps a popular draw of item i. */
static double synth_taste(const synth_state *s, int32_t u, int32_t i)
{
    double z = 3.0 * synth_dot(s, u, i) / s->dot_sd;
    return 1.0 / (1.0 + exp(-z));
}

/* d distinct items of user u into out[], ascending. */
static void synth_user_items(synth_state *s, int32_t u, int32_t d, int32_t *out)
{
    int32_t M = s->o->n_items;
    int implicit = s->o->implicit;
    int32_t got = 0;
    if ((int64_t)d * 8 <= M) {
        int64_t tries = 0, limit = 8 * (int64_t)d + 1000;
        while (got < d && tries < limit) {
            tries++;
            int32_t i = (int32_t)fct_rng_below(&s->rng, (uint64_t)M);
            if (fct_rng_uniform(&s->rng) >= s->prob[i])
                i = s->alias[i];
            if (s->stamp[i] == u + 1)
                continue;
            if (implicit && fct_rng_uniform(&s->rng) >= synth_taste(s, u, i))
                continue;
            s->stamp[i] = u + 1;
            out[got++] = i;
        }
    }
    if (got < d) {
        /* Weighted draw without replacement over the whole catalogue. */
        for (int32_t i = 0; i < M; i++) {
            double w = s->pop[i] * (implicit ? synth_taste(s, u, i) : 1.0);
            double r = fct_rng_uniform(&s->rng);
            s->keys[i].key = w > 0 ? log(r > 0 ? r : 1e-300) / w : -INFINITY;
            s->keys[i].item = i;
        }
        qsort(s->keys, (size_t)M, sizeof *s->keys, synth_cmp_key);
        for (int32_t j = 0; j < d; j++)
            s->stamp[s->keys[j].item] = -(u + 1);
        got = 0;
        for (int32_t i = 0; i < M; i++)
            if (s->stamp[i] == -(u + 1))
                out[got++] = i;
        return;
    }
    if ((int64_t)d * 32 > M) {
        got = 0; /* a scan of the stamps gives them in order */
        for (int32_t i = 0; i < M; i++)
            if (s->stamp[i] == u + 1)
                out[got++] = i;
    } else {
        qsort(out, (size_t)d, sizeof *out, synth_cmp_i32);
    }
}

/* Per-user counts summing to R, each in [1, M]. */
static void synth_counts(synth_state *s, int32_t *count, double *w)
{
    const facto_synth_options *o = s->o;
    int32_t N = o->n_users, M = o->n_items;
    int64_t R = o->n_ratings;
    int64_t floor_n = R / N / 4;
    int32_t m = (int32_t)(floor_n < 1 ? 1 : floor_n > 20 ? 20 : floor_n);
    if (m > M)
        m = M;
    double total = 0.0;
    for (int32_t u = 0; u < N; u++)
        total += (w[u] = exp(1.2 * fct_rng_normal(&s->rng)));
    int64_t rest = R - (int64_t)m * N, sum = 0;
    for (int32_t u = 0; u < N; u++) {
        double share = (double)rest * w[u] / total;
        int64_t c = m + (int64_t)share;
        count[u] = (int32_t)(c > M ? M : c);
        sum += count[u];
    }
    /* Hand out what rounding and the cap left, one a user in turn. */
    for (int32_t u = (int32_t)fct_rng_below(&s->rng, (uint64_t)N); sum < R; u = (u + 1) % N)
        if (count[u] < M) {
            count[u]++;
            sum++;
        }
}

facto_status facto_dataset_synth(facto_ctx *ctx, const facto_synth_options *o, facto_dataset **out)
{
    *out = NULL;
    if (!o || o->n_users < 1 || o->n_items < 1 || o->n_ratings < o->n_users ||
        o->n_ratings > (int64_t)o->n_users * o->n_items || o->rank < 1 || o->rank > 256 || !(o->zipf >= 0) ||
        !(o->zipf <= 10) || !(o->noise >= 0) || !(o->noise <= 10) || (o->implicit != 0 && o->implicit != 1))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "synthetic data set: need users >= 1, items >= 1, users <= ratings <= users x items "
                        "(%lld x %lld = %lld; asked %lld), rank 1..256, zipf 0..10, noise 0..10",
                        o ? (long long)o->n_users : 0LL, o ? (long long)o->n_items : 0LL,
                        o ? (long long)o->n_users * o->n_items : 0LL, o ? (long long)o->n_ratings : 0LL);
    int32_t N = o->n_users, M = o->n_items, k = o->rank;
    int64_t R = o->n_ratings;
    /* Refused before any allocation: a catalogue far past the ratings (its
     * per-item tables would dwarf the data set, and at most R items get a
     * rating), and a need past the machine's memory. */
    if ((int64_t)M > 16 * R && M > (1 << 20))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "synthetic data set: %lld items for %lld ratings: at most %lld items can get a rating, and "
                        "the item tables alone would take %.1f GB; use at most %lld items (16 x ratings, or 2^20) "
                        "or more ratings",
                        (long long)M, (long long)R, (long long)R, (double)M * (48.0 + 4.0 * k) / 1e9,
                        (long long)(16 * R > (1 << 20) ? 16 * R : (1 << 20)));
    const double need = (double)M * (48.0 + 4.0 * k) + (double)N * (48.0 + 4.0 * k) + (double)R * 8.0;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && need > (double)pages * (double)page)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "synthetic data set: %lld users, %lld items and %lld ratings need about %.1f GB of memory, "
                        "more than this machine's %.1f GB; ask for fewer",
                        (long long)N, (long long)M, (long long)R, need / 1e9, (double)pages * (double)page / 1e9);
    synth_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    fct_rng_seed(&s.rng, o->seed);
    facto_dataset *ds = calloc(1, sizeof *ds);
    int32_t *count = fct_malloc_array((size_t)N, sizeof *count);
    int32_t *item_new = fct_malloc_array((size_t)M, sizeof *item_new);
    int32_t *perm = fct_malloc_array((size_t)M, sizeof *perm);
    s.P = fct_malloc_array((size_t)N * (size_t)k, sizeof *s.P);
    s.Q = fct_malloc_array((size_t)M * (size_t)k, sizeof *s.Q);
    s.bu = fct_malloc_array((size_t)N, sizeof *s.bu);
    s.bi = fct_malloc_array((size_t)M, sizeof *s.bi);
    s.pop = fct_malloc_array((size_t)M, sizeof *s.pop);
    s.prob = fct_malloc_array((size_t)M, sizeof *s.prob);
    s.alias = fct_malloc_array((size_t)M, sizeof *s.alias);
    s.stamp = fct_calloc_array((size_t)M, sizeof *s.stamp);
    s.keys = fct_malloc_array((size_t)M, sizeof *s.keys);
    if (ds) {
        ds->row_ptr = fct_malloc_array((size_t)N + 1, sizeof *ds->row_ptr);
        ds->items = fct_malloc_array((size_t)R, sizeof *ds->items);
        ds->ratings = fct_malloc_array((size_t)R, sizeof *ds->ratings);
        ds->user_map = fct_idmap_new();
        ds->item_map = fct_idmap_new();
    }
    facto_status st = FACTO_OK;
    if (!ds || !count || !item_new || !perm || !s.P || !s.Q || !s.bu || !s.bi || !s.pop || !s.prob || !s.alias ||
        !s.stamp || !s.keys || !ds->row_ptr || !ds->items || !ds->ratings || !ds->user_map || !ds->item_map)
        goto nomem;

    /* Popularity: a random order of the items, weight 1 / rank^s. */
    for (int32_t i = 0; i < M; i++)
        perm[i] = i;
    for (int32_t i = M - 1; i > 0; i--) {
        int32_t j = (int32_t)fct_rng_below(&s.rng, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int32_t r = 0; r < M; r++)
        s.pop[perm[r]] = pow((double)r + 1.0, -o->zipf);
    if (synth_alias(s.pop, M, s.prob, s.alias) != 0)
        goto nomem;
    /* Factors with sd so that <p, q> has sd 0.35 (0.35^2 = k sd^4). */
    double sd = sqrt(0.35 / sqrt((double)k));
    s.dot_sd = 0.35;
    for (size_t j = 0; j < (size_t)N * (size_t)k; j++)
        s.P[j] = (float)(sd * fct_rng_normal(&s.rng));
    for (size_t j = 0; j < (size_t)M * (size_t)k; j++)
        s.Q[j] = (float)(sd * fct_rng_normal(&s.rng));
    for (int32_t u = 0; u < N; u++)
        s.bu[u] = (float)(0.4 * fct_rng_normal(&s.rng));
    for (int32_t i = 0; i < M; i++)
        s.bi[i] = (float)(0.5 * fct_rng_normal(&s.rng));
    double *uw = fct_malloc_array((size_t)N, sizeof *uw);
    if (!uw)
        goto nomem;
    synth_counts(&s, count, uw);
    free(uw);

    int64_t w = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (int32_t u = 0; u < N; u++) {
        ds->row_ptr[u] = w;
        synth_user_items(&s, u, count[u], ds->items + w);
        for (int32_t j = 0; j < count[u]; j++) {
            int32_t i = ds->items[w + j];
            float r = 1.0f;
            if (!o->implicit) {
                double x = 3.5 + s.bu[u] + s.bi[i] + synth_dot(&s, u, i) + o->noise * fct_rng_normal(&s.rng);
                x = floor(x * 2.0 + 0.5) / 2.0;
                r = (float)(x < 0.5 ? 0.5 : x > 5.0 ? 5.0 : x);
            }
            ds->ratings[w + j] = r;
            lo = r < lo ? r : lo;
            hi = r > hi ? r : hi;
        }
        w += count[u];
    }
    ds->row_ptr[N] = w;

    /* Ids: users 1..N; items by their number, those never drawn left out. */
    char id[32];
    for (int32_t u = 0; u < N; u++) {
        int n = snprintf(id, sizeof id, "%d", (int)u + 1);
        if (fct_idmap_intern(ds->user_map, id, (size_t)n) != u)
            goto nomem;
    }
    for (int32_t i = 0; i < M; i++)
        item_new[i] = -1;
    for (int64_t j = 0; j < R; j++)
        item_new[ds->items[j]] = 0;
    for (int32_t i = 0; i < M; i++)
        if (item_new[i] == 0) {
            int n = snprintf(id, sizeof id, "%d", (int)i + 1);
            if ((item_new[i] = fct_idmap_intern(ds->item_map, id, (size_t)n)) < 0)
                goto nomem;
        }
    for (int64_t j = 0; j < R; j++)
        ds->items[j] = item_new[ds->items[j]]; /* keeps the order: still ascending */
    ds->n_users = N;
    ds->n_items = ds->item_map->n;
    ds->n_ratings = R;
    ds->min_rating = lo;
    ds->max_rating = hi;
    *out = ds;
    ds = NULL;
    st = fct_ok(ctx);
    goto done;
nomem:
    st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory generating %lld synthetic ratings", (long long)R);
done:
    facto_dataset_free(ds);
    free(count);
    free(item_new);
    free(perm);
    free(s.P);
    free(s.Q);
    free(s.bu);
    free(s.bi);
    free(s.pop);
    free(s.prob);
    free(s.alias);
    free(s.stamp);
    free(s.keys);
    return st;
}
