/*
 * split.c — train/test splits of a rating data set: random (each rating to
 * test with probability p), k-fold (a seeded permutation dealt round-robin
 * into k folds, so the k folds of one seed partition the data), time (each
 * user's latest ratings by timestamp), and the splits of ranking: per-user
 * (a random share of each user's ratings), leave-last-out (each user's
 * latest) and users (strong generalisation: whole users held out, their
 * ratings cut into fold-in history and scored target). Every rating is
 * marked with its side exactly once, then each side is rebuilt through the
 * COO builder with its own compact id maps (ids first seen in CSR order).
 * O(n) time and memory for n ratings, plus O(d log d) per user of degree d
 * for the time split.
 */
#include "core/numtext.h"
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
    double x = fct_strtod(s, &end);
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
    facto_split s;
    memset(&s, 0, sizeof s);
    s.seed = out->seed; /* keeps the caller's seed */
    if (strncmp(text, "random:", 7) == 0 || strncmp(text, "time:", 5) == 0 || strncmp(text, "per-user:", 9) == 0) {
        const char *colon = strchr(text, ':');
        const char *num = colon + 1;
        if (!fct_split_fraction(num, &s.fraction))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "split '%s': the fraction must be a number strictly between 0 and 1, e.g. %.*s:0.2",
                              text, (int)(colon - text), text);
        s.kind = text[0] == 't' ? FACTO_SPLIT_TIME : text[0] == 'p' ? FACTO_SPLIT_PER_USER : FACTO_SPLIT_RANDOM;
    } else if (strcmp(text, "leave-last-out") == 0) {
        s.kind = FACTO_SPLIT_LEAVE_LAST_OUT;
    } else if (strncmp(text, "users:", 6) == 0) {
        if (!fct_split_fraction(text + 6, &s.fraction))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "split '%s': the share of users held out must be a number strictly between 0 and 1, "
                            "e.g. users:0.2",
                            text);
        s.kind = FACTO_SPLIT_USERS;
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
                        "split '%s': expected random:FRACTION, kfold:K:FOLD, time:FRACTION, per-user:FRACTION, "
                        "leave-last-out or users:FRACTION",
                        text);
    }
    *out = s;
    return fct_ok(ctx);
}

/* The shortest form of x that reads back as x: %g alone turns
 * random:0.9999999 into "random:1", which is not what was asked. */
static void fct_split_number(double x, char *num, size_t size)
{
    int prec = 6;
    for (;;) {
        fct_format_double(num, size, prec, x);
        if (prec >= 17 || fct_strtod(num, NULL) == x)
            break;
        prec++;
    }
}

/* The split as text, for messages; history_fraction > 0: users with the
 * fraction of fold-in history (facto_dataset_split_users). */
static void fct_split_text(const facto_split *s, double history_fraction, char *buf, size_t size)
{
    char num[40], hist[40];
    fct_split_number(s->fraction, num, sizeof num);
    switch (s->kind) {
    case FACTO_SPLIT_KFOLD:
        snprintf(buf, size, "kfold:%d:%d", s->k, s->fold);
        break;
    case FACTO_SPLIT_LEAVE_LAST_OUT:
        snprintf(buf, size, "leave-last-out");
        break;
    case FACTO_SPLIT_USERS:
        if (history_fraction > 0.0) {
            fct_split_number(history_fraction, hist, sizeof hist);
            snprintf(buf, size, "users:%s (history fraction %s)", num, hist);
        } else {
            snprintf(buf, size, "users:%s", num);
        }
        break;
    default:
        snprintf(buf, size, "%s:%s",
                 s->kind == FACTO_SPLIT_TIME       ? "time"
                 : s->kind == FACTO_SPLIT_PER_USER ? "per-user"
                                                   : "random",
                 num);
        break;
    }
}

/* round(x) with halves rounded up, as a count. */
static int64_t fct_round_count(double x) { return (int64_t)floor(x + 0.5); }

/* A partial Fisher-Yates: idx[0..n) = 0..n-1 permuted so that idx[0..m) is
 * a uniform draw of m of them without replacement, in draw order. */
static void fct_draw(fct_rng *rng, int64_t *idx, int64_t n, int64_t m)
{
    for (int64_t j = 0; j < n; j++)
        idx[j] = j;
    for (int64_t j = 0; j < m; j++) {
        int64_t r = j + (int64_t)fct_rng_below(rng, (uint64_t)(n - j));
        int64_t t = idx[j];
        idx[j] = idx[r];
        idx[r] = t;
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

/* Largest number of ratings of one user. */
static int64_t fct_max_degree(const facto_dataset *all)
{
    int64_t maxdeg = 0;
    for (int32_t u = 0; u < all->n_users; u++)
        if (all->row_ptr[u + 1] - all->row_ptr[u] > maxdeg)
            maxdeg = all->row_ptr[u + 1] - all->row_ptr[u];
    return maxdeg;
}

/* USERS: held[u] = 1 for the round(fraction * n_users) users drawn. */
static facto_status fct_split_mark_users(facto_ctx *ctx, const facto_dataset *all, const facto_split *s,
                                         double history_fraction, fct_rng *rng, unsigned char *in_test)
{
    int64_t nu = all->n_users;
    int64_t m = fct_round_count(s->fraction * (double)nu);
    if (m > nu)
        m = nu;
    int64_t *idx = fct_malloc_array((size_t)(nu > fct_max_degree(all) ? nu : fct_max_degree(all)) + 1, sizeof *idx);
    unsigned char *held = calloc((size_t)nu + 1, 1);
    if (!idx || !held) {
        free(idx);
        free(held);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory splitting %lld users", (long long)nu);
    }
    fct_draw(rng, idx, nu, m);
    for (int64_t j = 0; j < m; j++)
        held[idx[j]] = 1;
    /* Ratings of held-out users are test (1); with a history fraction, a
     * random d - h of each one's d ratings are the target (2). */
    for (int32_t u = 0; u < all->n_users; u++) {
        int64_t lo = all->row_ptr[u], d = all->row_ptr[u + 1] - lo;
        memset(in_test + lo, held[u], (size_t)d);
        if (!held[u] || history_fraction <= 0.0)
            continue;
        int64_t h = fct_round_count(history_fraction * (double)d);
        if (h < 1)
            h = 1;
        if (h > d)
            h = d;
        fct_draw(rng, idx, d, d - h);
        for (int64_t j = 0; j < d - h; j++)
            in_test[lo + idx[j]] = 2;
    }
    free(idx);
    free(held);
    return FACTO_OK;
}

/* Mark each rating k (CSR order) with its side: in_test[k] = 0 train, 1 test
 * (USERS with a history fraction > 0: 1 test history, 2 test target). */
static facto_status fct_split_mark(facto_ctx *ctx, const facto_dataset *all, const facto_split *s,
                                     double history_fraction, unsigned char *in_test)
{
    int64_t n = all->n_ratings;
    fct_rng rng;
    fct_rng_seed(&rng, s->seed);
    if (s->kind == FACTO_SPLIT_USERS)
        return fct_split_mark_users(ctx, all, s, history_fraction, &rng, in_test);
    if (s->kind == FACTO_SPLIT_PER_USER) {
        /* Each user's round(fraction * d) ratings, at most d - 1, drawn from one stream in user order. */
        int64_t *idx = fct_malloc_array((size_t)fct_max_degree(all) + 1, sizeof *idx);
        if (!idx)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory splitting %lld ratings", (long long)n);
        memset(in_test, 0, (size_t)n);
        for (int32_t u = 0; u < all->n_users; u++) {
            int64_t lo = all->row_ptr[u], d = all->row_ptr[u + 1] - lo;
            int64_t m = fct_round_count(s->fraction * (double)d);
            if (m > d - 1)
                m = d > 0 ? d - 1 : 0;
            fct_draw(&rng, idx, d, m);
            for (int64_t j = 0; j < m; j++)
                in_test[lo + idx[j]] = 1;
        }
        free(idx);
        return FACTO_OK;
    }
    if (s->kind == FACTO_SPLIT_LEAVE_LAST_OUT) {
        /* The latest by (timestamp, item index), the order TIME sorts by. */
        memset(in_test, 0, (size_t)n);
        for (int32_t u = 0; u < all->n_users; u++) {
            int64_t lo = all->row_ptr[u], hi = all->row_ptr[u + 1];
            if (hi - lo < 2)
                continue;
            int64_t best = lo;
            for (int64_t k = lo + 1; k < hi; k++)
                if (all->timestamps[k] > all->timestamps[best] ||
                    (all->timestamps[k] == all->timestamps[best] && all->items[k] > all->items[best]))
                    best = k;
            in_test[best] = 1;
        }
        return FACTO_OK;
    }
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
    int64_t maxdeg = fct_max_degree(all);
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
                const char *name = facto_idmap_name(all->user_map, u);
                user_new[u] = fct_idmap_intern(users, name, strlen(name));
                if (user_new[u] < 0)
                    goto nomem;
            }
            if (item_new[i] < 0) {
                const char *name = facto_idmap_name(all->item_map, i);
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

/* Check a split's fields; FACTO_ERR_INVALID says what is wrong. */
static facto_status fct_split_check(facto_ctx *ctx, const facto_dataset *all, const facto_split *split)
{
    switch (split->kind) {
    case FACTO_SPLIT_RANDOM:
    case FACTO_SPLIT_TIME:
    case FACTO_SPLIT_PER_USER:
    case FACTO_SPLIT_USERS:
        if (!(split->fraction > 0.0 && split->fraction < 1.0))
            return fct_fail(ctx, FACTO_ERR_INVALID, "split: fraction %g is not strictly between 0 and 1",
                              split->fraction);
        break;
    case FACTO_SPLIT_LEAVE_LAST_OUT:
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
    if ((split->kind == FACTO_SPLIT_TIME || split->kind == FACTO_SPLIT_LEAVE_LAST_OUT) && !all->timestamps) {
        char tname[64];
        fct_split_text(split, 0.0, tname, sizeof tname);
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "split %s needs timestamps, and the data set has none (no timestamp column)", tname);
    }
    return FACTO_OK;
}

/*
 * Mark every rating with its side, then build the n_out sides (2: train and
 * test; 3: train, test history, test target, for USERS with a history
 * fraction). On error every output is NULL.
 */
static facto_status fct_split_run(facto_ctx *ctx, const facto_dataset *all, const facto_split *split,
                                  double history_fraction, int n_out, facto_dataset **out[3])
{
    static const char *const side_names[2][3] = {{"training", "test", ""},
                                                 {"training", "test history", "test target"}};
    const char *const *names = side_names[n_out == 3];
    char name[128];
    fct_split_text(split, history_fraction, name, sizeof name);
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
    st = fct_split_mark(ctx, all, split, history_fraction, in_test);
    if (st)
        goto done;
    int64_t count[3] = {0, 0, 0};
    for (int64_t k = 0; k < n; k++)
        count[in_test[k]]++;
    for (int side = 0; side < n_out; side++)
        if (count[side] == 0) {
            st = fct_fail(ctx, FACTO_ERR_EMPTY, "split %s leaves the %s set empty (%lld ratings in all)", name,
                            names[side], (long long)n);
            goto done;
        }
    for (int side = 0; side < n_out; side++) {
        st = fct_split_build(ctx, all, in_test, side, user_new, item_new, out[side]);
        if (st) {
            for (int j = 0; j < side; j++) {
                facto_dataset_free(*out[j]);
                *out[j] = NULL;
            }
            goto done;
        }
    }
    if (n_out == 3)
        fct_log(ctx, FACTO_LOG_DEBUG, "split %s: %lld train, %lld test history, %lld test target ratings", name,
                (long long)count[0], (long long)count[1], (long long)count[2]);
    else
        fct_log(ctx, FACTO_LOG_DEBUG, "split %s: %lld train, %lld test ratings", name, (long long)count[0],
                (long long)count[1]);
    st = fct_ok(ctx);
done:
    free(in_test);
    free(user_new);
    free(item_new);
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
    {
        facto_status wst = fct_dataset_wide(ctx, all);
        if (wst != FACTO_OK)
            return wst;
    }
    facto_status st = fct_split_check(ctx, all, split);
    if (st)
        return st;
    facto_dataset **out[3] = {train, test, NULL};
    return fct_split_run(ctx, all, split, 0.0, 2, out);
}

facto_status facto_dataset_split_users(facto_ctx *ctx, const facto_dataset *all, double fraction, uint64_t seed,
                                       double history_fraction, facto_dataset **train, facto_dataset **test_history,
                                       facto_dataset **test_target)
{
    if (train)
        *train = NULL;
    if (test_history)
        *test_history = NULL;
    if (test_target)
        *test_target = NULL;
    if (!all || !train || !test_history || !test_target)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "facto_dataset_split_users: all, train, test_history and test_target must not be NULL");
    {
        facto_status wst = fct_dataset_wide(ctx, all);
        if (wst != FACTO_OK)
            return wst;
    }
    if (!(history_fraction > 0.0 && history_fraction < 1.0))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "split users: the history fraction %g is not strictly between 0 and 1", history_fraction);
    facto_split split;
    memset(&split, 0, sizeof split);
    split.kind = FACTO_SPLIT_USERS;
    split.fraction = fraction;
    split.seed = seed;
    facto_status st = fct_split_check(ctx, all, &split);
    if (st)
        return st;
    facto_dataset **out[3] = {train, test_history, test_target};
    return fct_split_run(ctx, all, &split, history_fraction, 3, out);
}
