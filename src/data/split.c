/*
 * split.c — train/test splits of a rating data set: random (each rating to
 * test with probability p), k-fold (a seeded permutation dealt round-robin
 * into k folds, so the k folds of one seed partition the data) and time (each
 * user's latest ratings by timestamp). Every rating is marked train or test
 * exactly once, then each side is rebuilt through the COO builder with its
 * own compact id maps (ids first seen in CSR order). O(n) time and memory for
 * n ratings, plus O(d log d) per user of degree d for the time split.
 */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FACTO_MAX_FOLDS 1000000

/* Fraction in (0, 1): the whole text must be a number. */
static int fct_split_fraction(const char *s, double *v)
{
    char *end = NULL;
    if (!*s || *s == ' ')
        return 0;
    double x = strtod(s, &end);
    if (*end != '\0' || !(x > 0.0 && x < 1.0))
        return 0;
    *v = x;
    return 1;
}

/* Decimal integer in 0..FACTO_MAX_FOLDS up to `stop` (or the end). */
static int fct_split_int(const char *s, char stop, int *v)
{
    long x = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        x = x * 10 + (*p - '0');
        if (x > FACTO_MAX_FOLDS)
            return 0;
        p++;
    }
    if (p == s || *p != stop)
        return 0;
    *v = (int)x;
    return 1;
}

facto_status facto_split_parse(facto_ctx *ctx, const char *text, facto_split *out)
{
    if (!text || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "split: text and out must not be NULL");
    facto_split s = *out; /* keeps the caller's seed */
    if (strncmp(text, "random:", 7) == 0 || strncmp(text, "time:", 5) == 0) {
        int is_time = text[0] == 't';
        const char *num = text + (is_time ? 5 : 7);
        if (!fct_split_fraction(num, &s.fraction))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "split '%s': the fraction must be a number strictly between 0 and 1, e.g. %s:0.2",
                              text, is_time ? "time" : "random");
        s.kind = is_time ? FACTO_SPLIT_TIME : FACTO_SPLIT_RANDOM;
        s.k = 0;
        s.fold = 0;
    } else if (strncmp(text, "kfold:", 6) == 0) {
        const char *p = text + 6;
        const char *colon = strchr(p, ':');
        if (!colon || !fct_split_int(p, ':', &s.k) || !fct_split_int(colon + 1, '\0', &s.fold))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "split '%s': expected kfold:K:FOLD with whole numbers, e.g. kfold:5:1", text);
        if (s.k < 2)
            return fct_fail(ctx, FACTO_ERR_INVALID, "split '%s': the number of folds must be at least 2", text);
        if (s.fold < 1 || s.fold > s.k)
            return fct_fail(ctx, FACTO_ERR_INVALID, "split '%s': fold %d is not in 1..%d", text, s.fold, s.k);
        s.kind = FACTO_SPLIT_KFOLD;
        s.fraction = 1.0 / s.k;
    } else {
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "split '%s': expected random:FRACTION, kfold:K:FOLD or time:FRACTION", text);
    }
    *out = s;
    return fct_ok(ctx);
}

/* The split as text, for messages. */
static void fct_split_text(const facto_split *s, char *buf, size_t size)
{
    if (s->kind == FACTO_SPLIT_KFOLD)
        snprintf(buf, size, "kfold:%d:%d", s->k, s->fold);
    else {
        /* The shortest form that reads back as the same fraction: %g alone
         * turns random:0.9999999 into "random:1", which is not what was asked. */
        int prec = 6;
        char num[40];
        for (;;) {
            snprintf(num, sizeof num, "%.*g", prec, s->fraction);
            if (prec >= 17 || strtod(num, NULL) == s->fraction)
                break;
            prec++;
        }
        snprintf(buf, size, "%s:%s", s->kind == FACTO_SPLIT_TIME ? "time" : "random", num);
    }
}

typedef struct {
    int64_t t;
    int32_t item;
    int64_t k;
} fct_time_key;

static int fct_cmp_time_key(const void *a, const void *b)
{
    const fct_time_key *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* Mark test ratings: in_test[k] = 1 for rating k in CSR order. */
static facto_status fct_split_mark(facto_ctx *ctx, const facto_dataset *all, const facto_split *s,
                                     unsigned char *in_test)
{
    int64_t n = all->n_ratings;
    fct_rng rng;
    fct_rng_seed(&rng, s->seed);
    if (s->kind == FACTO_SPLIT_RANDOM) {
        for (int64_t k = 0; k < n; k++)
            in_test[k] = fct_rng_uniform(&rng) < s->fraction;
        return FACTO_OK;
    }
    if (s->kind == FACTO_SPLIT_KFOLD) {
        int64_t *perm = fct_malloc_array((size_t)n, sizeof *perm);
        if (!perm)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory splitting %lld ratings", (long long)n);
        for (int64_t k = 0; k < n; k++)
            perm[k] = k;
        fct_rng_shuffle_i64(&rng, perm, n);
        /* Position p of the permutation goes to fold p mod k: fold sizes differ by at most one. */
        for (int64_t p = 0; p < n; p++)
            in_test[perm[p]] = p % s->k == s->fold - 1;
        free(perm);
        return FACTO_OK;
    }
    /* TIME: each user's latest round(fraction * d) ratings, at most d - 1. */
    int64_t maxdeg = 0;
    for (int32_t u = 0; u < all->n_users; u++)
        if (all->row_ptr[u + 1] - all->row_ptr[u] > maxdeg)
            maxdeg = all->row_ptr[u + 1] - all->row_ptr[u];
    fct_time_key *keys = fct_malloc_array((size_t)maxdeg + 1, sizeof *keys);
    if (!keys)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory splitting %lld ratings", (long long)n);
    for (int32_t u = 0; u < all->n_users; u++) {
        int64_t lo = all->row_ptr[u], d = all->row_ptr[u + 1] - lo;
        for (int64_t j = 0; j < d; j++) {
            keys[j].t = all->timestamps[lo + j];
            keys[j].item = all->items[lo + j];
            keys[j].k = lo + j;
            in_test[lo + j] = 0;
        }
        qsort(keys, (size_t)d, sizeof *keys, fct_cmp_time_key);
        int64_t n_test = (int64_t)floor(s->fraction * (double)d + 0.5);
        if (n_test > d - 1)
            n_test = d - 1;
        for (int64_t j = d - n_test; j < d; j++)
            in_test[keys[j].k] = 1;
    }
    free(keys);
    return FACTO_OK;
}

/* Build the side `want` (0 train, 1 test) with compact id maps. */
static facto_status fct_split_build(facto_ctx *ctx, const facto_dataset *all, const unsigned char *in_test,
                                      int want, int32_t *user_new, int32_t *item_new, facto_dataset **out)
{
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    facto_status st = FACTO_OK;
    if (!users || !items)
        goto nomem;
    for (int32_t u = 0; u < all->n_users; u++)
        user_new[u] = -1;
    for (int32_t i = 0; i < all->n_items; i++)
        item_new[i] = -1;
    int has_time = all->timestamps != NULL;
    for (int32_t u = 0; u < all->n_users; u++) {
        for (int64_t k = all->row_ptr[u]; k < all->row_ptr[u + 1]; k++) {
            if (in_test[k] != want)
                continue;
            int32_t i = all->items[k];
            if (user_new[u] < 0) {
                const char *name = all->user_map->names[u];
                user_new[u] = fct_idmap_intern(users, name, strlen(name));
                if (user_new[u] < 0)
                    goto nomem;
            }
            if (item_new[i] < 0) {
                const char *name = all->item_map->names[i];
                item_new[i] = fct_idmap_intern(items, name, strlen(name));
                if (item_new[i] < 0)
                    goto nomem;
            }
            st = fct_coo_push(ctx, &coo, user_new[u], item_new[i], all->ratings[k], has_time,
                                has_time ? all->timestamps[k] : 0);
            if (st)
                goto fail;
        }
    }
    st = fct_dataset_from_coo(ctx, &coo, users, items, out, NULL);
    fct_coo_free(&coo);
    return st;
nomem:
    st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory splitting ratings");
fail:
    fct_idmap_free(users);
    fct_idmap_free(items);
    fct_coo_free(&coo);
    return st;
}

facto_status facto_dataset_split(facto_ctx *ctx, const facto_dataset *all, const facto_split *split,
                                 facto_dataset **train, facto_dataset **test)
{
    if (train)
        *train = NULL;
    if (test)
        *test = NULL;
    if (!all || !split || !train || !test)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_split: all, split, train and test must not be NULL");
    switch (split->kind) {
    case FACTO_SPLIT_RANDOM:
    case FACTO_SPLIT_TIME:
        if (!(split->fraction > 0.0 && split->fraction < 1.0))
            return fct_fail(ctx, FACTO_ERR_INVALID, "split: fraction %g is not strictly between 0 and 1",
                              split->fraction);
        if (split->kind == FACTO_SPLIT_TIME && !all->timestamps) {
            char tname[64];
            fct_split_text(split, tname, sizeof tname);
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "split %s needs timestamps, and the data set has none (no timestamp column)", tname);
        }
        break;
    case FACTO_SPLIT_KFOLD:
        if (split->k < 2)
            return fct_fail(ctx, FACTO_ERR_INVALID, "split: k = %d folds; at least 2 are needed", split->k);
        if (split->fold < 1 || split->fold > split->k)
            return fct_fail(ctx, FACTO_ERR_INVALID, "split: fold %d is not in 1..%d", split->fold, split->k);
        break;
    default:
        return fct_fail(ctx, FACTO_ERR_INVALID, "split: unknown kind %d", (int)split->kind);
    }
    char name[64];
    fct_split_text(split, name, sizeof name);
    int64_t n = all->n_ratings;
    if (n == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "split %s: the data set holds no ratings", name);
    unsigned char *in_test = malloc((size_t)n);
    int32_t *user_new = fct_malloc_array((size_t)all->n_users + 1, sizeof *user_new);
    int32_t *item_new = fct_malloc_array((size_t)all->n_items + 1, sizeof *item_new);
    facto_status st;
    if (!in_test || !user_new || !item_new) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "split %s: out of memory", name);
        goto done;
    }
    st = fct_split_mark(ctx, all, split, in_test);
    if (st)
        goto done;
    int64_t n_test = 0;
    for (int64_t k = 0; k < n; k++)
        n_test += in_test[k];
    if (n_test == 0 || n_test == n) {
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "split %s leaves the %s set empty (%lld ratings in all)", name,
                        n_test == 0 ? "test" : "training", (long long)n);
        goto done;
    }
    st = fct_split_build(ctx, all, in_test, 0, user_new, item_new, train);
    if (st)
        goto done;
    st = fct_split_build(ctx, all, in_test, 1, user_new, item_new, test);
    if (st) {
        facto_dataset_free(*train);
        *train = NULL;
        goto done;
    }
    fct_log(ctx, FACTO_LOG_DEBUG, "split %s: %lld train, %lld test ratings", name, (long long)(n - n_test),
              (long long)n_test);
    st = fct_ok(ctx);
done:
    free(in_test);
    free(user_new);
    free(item_new);
    return st;
}
