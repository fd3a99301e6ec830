/*
 * test_split.c — train/test splits: parsing "random:F", "kfold:K:FOLD" and
 * "time:F"; and, on a synthetic data set built here and on ml-100k's u.data
 * when FACTO_DATA_HOME is set, the properties a split must have: every rating
 * lands in exactly one side with its value and timestamp, no (user, item) in
 * both, compact id maps, the same seed gives the same split, the k folds of
 * one seed partition the data, and the time split holds out each user's
 * latest ratings. Runs in well under a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "facto.h"

/* ---- helpers ----------------------------------------------------------------- */

/*
 * A synthetic data set: n_users users "u0".., user u rates (u % 7) + 1 + u/3
 * items "i<(u*13 + j*5) % n_items>" (distinct for j < n_items/5), with
 * ratings 1..5 and timestamps that repeat (ties) within a user. User 0 has
 * one rating. Built straight through the COO builder.
 */
static facto_dataset *synthetic(int n_users, int n_items, int with_time)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    char name[32];
    for (int u = 0; u < n_users; u++) {
        int d = u == 0 ? 1 : (u % 7) + 1 + u / 3;
        if (d > n_items / 5)
            d = n_items / 5;
        snprintf(name, sizeof name, "u%d", u);
        int32_t ui = fct_idmap_intern(users, name, strlen(name));
        assert_true(ui >= 0);
        for (int j = 0; j < d; j++) {
            snprintf(name, sizeof name, "i%d", (u * 13 + j * 5) % n_items);
            int32_t ii = fct_idmap_intern(items, name, strlen(name));
            assert_true(ii >= 0);
            float r = (float)(1 + (u * 3 + j * 7) % 5);
            int64_t t = 1000 + (int64_t)((j * 37 + u) % 11); /* ties on purpose */
            assert_int_equal(fct_coo_push(ctx, &coo, ui, ii, r, with_time, t), FACTO_OK);
        }
    }
    facto_dataset *ds = NULL;
    int64_t dups = -1;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, users, items, &ds, &dups), FACTO_OK);
    assert_int_equal(dups, 0);
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return ds;
}

/* Index k of (user, item) names in ds, or -1. */
static int64_t find(const facto_dataset *ds, const char *user, const char *item)
{
    int32_t u = facto_idmap_find(facto_dataset_users(ds), user);
    int32_t i = facto_idmap_find(facto_dataset_items(ds), item);
    if (u < 0 || i < 0)
        return -1;
    for (int64_t k = ds->row_ptr[u]; k < ds->row_ptr[u + 1]; k++)
        if (ds->items[k] == i)
            return k;
    return -1;
}

/* Every id in a map is used by at least one rating. */
static void check_compact(const facto_dataset *ds)
{
    int32_t nu = facto_dataset_n_users(ds), ni = facto_dataset_n_items(ds);
    assert_int_equal(facto_idmap_size(facto_dataset_users(ds)), nu);
    assert_int_equal(facto_idmap_size(facto_dataset_items(ds)), ni);
    for (int32_t u = 0; u < nu; u++)
        assert_true(ds->row_ptr[u + 1] > ds->row_ptr[u]);
    char *seen = calloc((size_t)ni + 1, 1);
    assert_non_null(seen);
    for (int64_t k = 0; k < ds->n_ratings; k++) {
        assert_true(ds->items[k] >= 0 && ds->items[k] < ni);
        seen[ds->items[k]] = 1;
    }
    for (int32_t i = 0; i < ni; i++)
        assert_true(seen[i]);
    free(seen);
}

/* train and test partition all: sizes add up, each rating of all is in
 * exactly one side with the same value and timestamp. */
static void check_partition(const facto_dataset *all, const facto_dataset *train, const facto_dataset *test)
{
    assert_int_equal(facto_dataset_n_ratings(train) + facto_dataset_n_ratings(test), facto_dataset_n_ratings(all));
    check_compact(train);
    check_compact(test);
    assert_true((train->timestamps != NULL) == (all->timestamps != NULL));
    assert_true((test->timestamps != NULL) == (all->timestamps != NULL));
    for (int32_t u = 0; u < all->n_users; u++) {
        const char *un = facto_idmap_name(all->user_map, u);
        for (int64_t k = all->row_ptr[u]; k < all->row_ptr[u + 1]; k++) {
            const char *in = facto_idmap_name(all->item_map, all->items[k]);
            int64_t a = find(train, un, in), b = find(test, un, in);
            assert_true((a >= 0) != (b >= 0)); /* exactly one side: no leak */
            const facto_dataset *side = a >= 0 ? train : test;
            int64_t j = a >= 0 ? a : b;
            assert_true(side->ratings[j] == all->ratings[k]);
            if (all->timestamps)
                assert_true(side->timestamps[j] == all->timestamps[k]);
        }
    }
}

/* Same ids, same CSR arrays. */
static int same_dataset(const facto_dataset *a, const facto_dataset *b)
{
    if (a->n_users != b->n_users || a->n_items != b->n_items || a->n_ratings != b->n_ratings)
        return 0;
    for (int32_t u = 0; u < a->n_users; u++)
        if (strcmp(a->user_map->names[u], b->user_map->names[u]) != 0 || a->row_ptr[u + 1] != b->row_ptr[u + 1])
            return 0;
    for (int32_t i = 0; i < a->n_items; i++)
        if (strcmp(a->item_map->names[i], b->item_map->names[i]) != 0)
            return 0;
    for (int64_t k = 0; k < a->n_ratings; k++)
        if (a->items[k] != b->items[k] || a->ratings[k] != b->ratings[k])
            return 0;
    return 1;
}

static void split_ok(const facto_dataset *all, facto_split s, facto_dataset **train, facto_dataset **test)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_status st = facto_dataset_split(ctx, all, &s, train, test);
    if (st != FACTO_OK)
        fail_msg("split failed: %s", facto_errmsg(ctx));
    facto_ctx_free(ctx);
}

static facto_split make(facto_split_kind kind, double fraction, int k, int fold, uint64_t seed)
{
    facto_split s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.fraction = fraction;
    s.k = k;
    s.fold = fold;
    s.seed = seed;
    return s;
}

/* ---- parsing ------------------------------------------------------------------ */

static void test_parse(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_split s = make(FACTO_SPLIT_RANDOM, 0.5, 0, 0, 1234);
    assert_int_equal(facto_split_parse(ctx, "random:0.2", &s), FACTO_OK);
    assert_int_equal(s.kind, FACTO_SPLIT_RANDOM);
    assert_true(s.fraction == 0.2);
    assert_true(s.seed == 1234); /* left as given */
    assert_int_equal(facto_split_parse(ctx, "kfold:5:3", &s), FACTO_OK);
    assert_int_equal(s.kind, FACTO_SPLIT_KFOLD);
    assert_int_equal(s.k, 5);
    assert_int_equal(s.fold, 3);
    assert_true(s.seed == 1234);
    assert_int_equal(facto_split_parse(ctx, "time:0.25", &s), FACTO_OK);
    assert_int_equal(s.kind, FACTO_SPLIT_TIME);
    assert_true(s.fraction == 0.25);
    assert_int_equal(facto_split_parse(ctx, "kfold:10:10", &s), FACTO_OK);
    assert_int_equal(s.k, 10);
    assert_int_equal(s.fold, 10);
    assert_int_equal(facto_split_parse(ctx, "random:1e-1", &s), FACTO_OK);
    assert_true(s.fraction == 0.1);

    static const struct {
        const char *text, *part;
    } bad[] = {
        {"random:0", "strictly between 0 and 1"}, {"random:1", "strictly between"}, {"random:-0.2", "between"},
        {"random:", "between"},                    {"random:0.2x", "between"},      {"random:nan", "between"},
        {"time:1.5", "between"},                   {"time:abc", "between"},         {"kfold:5", "kfold:K:FOLD"},
        {"kfold:5:0", "fold 0 is not in 1..5"},    {"kfold:5:6", "fold 6 is not in 1..5"},
        {"kfold:1:1", "at least 2"},               {"kfold:a:1", "kfold:K:FOLD"},   {"kfold:5:2:1", "kfold:K:FOLD"},
        {"kfold:-5:1", "kfold:K:FOLD"},            {"shuffle:0.2", "expected random"},
        {"", "expected random"},                   {"RANDOM:0.2", "expected random"},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        facto_split before = make(FACTO_SPLIT_TIME, 0.3, 0, 0, 99), t = before;
        if (facto_split_parse(ctx, bad[c].text, &t) != FACTO_ERR_INVALID)
            fail_msg("'%s' was accepted", bad[c].text);
        assert_int_equal(facto_errcode(ctx), FACTO_ERR_INVALID);
        if (!strstr(facto_errmsg(ctx), bad[c].part))
            fail_msg("'%s': message '%s' lacks '%s'", bad[c].text, facto_errmsg(ctx), bad[c].part);
        assert_memory_equal(&t, &before, sizeof t); /* untouched on error */
    }
    assert_int_equal(facto_split_parse(ctx, NULL, &s), FACTO_ERR_INVALID);
    facto_ctx_free(ctx);
}

/* ---- properties on synthetic data ------------------------------------------------ */

static void test_random(void **state)
{
    (void)state;
    facto_dataset *all = synthetic(600, 400, 1);
    int64_t n = facto_dataset_n_ratings(all);
    assert_true(n > 20000);
    facto_dataset *tr, *te, *tr2, *te2, *tr3, *te3;
    split_ok(all, make(FACTO_SPLIT_RANDOM, 0.2, 0, 0, 42), &tr, &te);
    check_partition(all, tr, te);
    /* Binomial(n, 0.2): the test share is within 5 standard deviations. */
    double share = (double)facto_dataset_n_ratings(te) / (double)n;
    assert_true(fabs(share - 0.2) < 5.0 * sqrt(0.2 * 0.8 / (double)n));
    /* Same seed, same split; another seed, another split. */
    split_ok(all, make(FACTO_SPLIT_RANDOM, 0.2, 0, 0, 42), &tr2, &te2);
    assert_true(same_dataset(tr, tr2));
    assert_true(same_dataset(te, te2));
    split_ok(all, make(FACTO_SPLIT_RANDOM, 0.2, 0, 0, 43), &tr3, &te3);
    check_partition(all, tr3, te3);
    assert_false(same_dataset(te, te3));
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    facto_dataset_free(tr3);
    facto_dataset_free(te3);
    /* No timestamps: the outputs have none either. */
    facto_dataset *nt = synthetic(50, 100, 0);
    split_ok(nt, make(FACTO_SPLIT_RANDOM, 0.3, 0, 0, 7), &tr, &te);
    check_partition(nt, tr, te);
    assert_null(tr->timestamps);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(nt);
    facto_dataset_free(all);
}

/* The k test folds of one seed are disjoint and cover every rating once. */
static void check_kfold(const facto_dataset *all, int k, uint64_t seed)
{
    int64_t n = facto_dataset_n_ratings(all);
    int *hits = calloc((size_t)n, sizeof *hits);
    assert_non_null(hits);
    for (int fold = 1; fold <= k; fold++) {
        facto_dataset *tr, *te;
        split_ok(all, make(FACTO_SPLIT_KFOLD, 0, k, fold, seed), &tr, &te);
        check_partition(all, tr, te);
        int64_t nt = facto_dataset_n_ratings(te);
        assert_true(nt == n / k || nt == n / k + 1); /* sizes differ by at most one */
        for (int32_t u = 0; u < te->n_users; u++) {
            const char *un = facto_idmap_name(te->user_map, u);
            for (int64_t j = te->row_ptr[u]; j < te->row_ptr[u + 1]; j++) {
                int64_t a = find(all, un, facto_idmap_name(te->item_map, te->items[j]));
                assert_true(a >= 0);
                hits[a]++;
            }
        }
        facto_dataset_free(tr);
        facto_dataset_free(te);
    }
    for (int64_t a = 0; a < n; a++)
        assert_int_equal(hits[a], 1);
    free(hits);
}

static void test_kfold(void **state)
{
    (void)state;
    facto_dataset *all = synthetic(300, 200, 1);
    check_kfold(all, 5, 1);
    check_kfold(all, 3, 2);
    /* Determinism, and a different seed deals differently. */
    facto_dataset *a, *b, *c, *d, *e, *f;
    split_ok(all, make(FACTO_SPLIT_KFOLD, 0, 5, 2, 9), &a, &b);
    split_ok(all, make(FACTO_SPLIT_KFOLD, 0, 5, 2, 9), &c, &d);
    split_ok(all, make(FACTO_SPLIT_KFOLD, 0, 5, 2, 10), &e, &f);
    assert_true(same_dataset(b, d));
    assert_true(same_dataset(a, c));
    assert_false(same_dataset(b, f));
    facto_dataset_free(a);
    facto_dataset_free(b);
    facto_dataset_free(c);
    facto_dataset_free(d);
    facto_dataset_free(e);
    facto_dataset_free(f);
    facto_dataset_free(all);
}

/* Each user's test ratings are their latest: no train rating is newer, and
 * the count is round(fraction * d) capped at d - 1. */
static void check_time(const facto_dataset *all, const facto_dataset *tr, const facto_dataset *te, double fraction)
{
    for (int32_t u = 0; u < all->n_users; u++) {
        const char *un = facto_idmap_name(all->user_map, u);
        int64_t d = all->row_ptr[u + 1] - all->row_ptr[u];
        int32_t ut = facto_idmap_find(te->user_map, un), ur = facto_idmap_find(tr->user_map, un);
        int64_t nt = ut < 0 ? 0 : te->row_ptr[ut + 1] - te->row_ptr[ut];
        int64_t want = (int64_t)floor(fraction * (double)d + 0.5);
        if (want > d - 1)
            want = d - 1;
        assert_int_equal(nt, want);
        assert_true(ur >= 0); /* every user keeps at least one training rating */
        int64_t newest_train = INT64_MIN, oldest_test = INT64_MAX;
        for (int64_t k = tr->row_ptr[ur]; k < tr->row_ptr[ur + 1]; k++)
            if (tr->timestamps[k] > newest_train)
                newest_train = tr->timestamps[k];
        for (int64_t k = ut < 0 ? 0 : te->row_ptr[ut]; ut >= 0 && k < te->row_ptr[ut + 1]; k++)
            if (te->timestamps[k] < oldest_test)
                oldest_test = te->timestamps[k];
        assert_true(newest_train <= oldest_test);
    }
}

static void test_time(void **state)
{
    (void)state;
    facto_dataset *all = synthetic(200, 300, 1);
    facto_dataset *tr, *te, *tr2, *te2;
    split_ok(all, make(FACTO_SPLIT_TIME, 0.2, 0, 0, 0), &tr, &te);
    check_partition(all, tr, te);
    check_time(all, tr, te, 0.2);
    /* User u0 has one rating: it stays in training. */
    assert_true(find(tr, "u0", "i0") >= 0);
    assert_int_equal(facto_idmap_find(te->user_map, "u0"), -1);
    /* No randomness: any seed gives the same split. */
    split_ok(all, make(FACTO_SPLIT_TIME, 0.2, 0, 0, 12345), &tr2, &te2);
    assert_true(same_dataset(te, te2));
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    split_ok(all, make(FACTO_SPLIT_TIME, 0.5, 0, 0, 0), &tr, &te);
    check_partition(all, tr, te);
    check_time(all, tr, te, 0.5);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
}

/* Worked by hand: one user, timestamps 5 3 9 1 7 on items a..e; time:0.4
 * holds out round(2.0) = 2 ratings, the latest two: c (9) and e (7). */
static void test_time_by_hand(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    static const char *const names[5] = {"a", "b", "c", "d", "e"};
    static const int64_t ts[5] = {5, 3, 9, 1, 7};
    assert_int_equal(fct_idmap_intern(users, "x", 1), 0);
    for (int j = 0; j < 5; j++) {
        int32_t i = fct_idmap_intern(items, names[j], 1);
        assert_int_equal(fct_coo_push(ctx, &coo, 0, i, (float)(j + 1), 1, ts[j]), FACTO_OK);
    }
    facto_dataset *all, *tr, *te;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, users, items, &all, NULL), FACTO_OK);
    fct_coo_free(&coo);
    split_ok(all, make(FACTO_SPLIT_TIME, 0.4, 0, 0, 0), &tr, &te);
    assert_int_equal(facto_dataset_n_ratings(te), 2);
    assert_true(find(te, "x", "c") >= 0);
    assert_true(find(te, "x", "e") >= 0);
    assert_int_equal(facto_dataset_n_ratings(tr), 3);
    assert_int_equal(facto_dataset_n_items(tr), 3); /* compact: a, b, d only */
    assert_int_equal(facto_idmap_find(tr->item_map, "c"), -1);
    assert_true(te->ratings[find(te, "x", "c")] == 3.0f);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *all = synthetic(40, 100, 0), *tr = (facto_dataset *)1, *te = (facto_dataset *)1;
    facto_split s = make(FACTO_SPLIT_TIME, 0.2, 0, 0, 0);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "timestamps"));
    assert_null(tr);
    assert_null(te);
    static const facto_split bad[] = {
        {FACTO_SPLIT_RANDOM, 0.0, 0, 0, 0}, {FACTO_SPLIT_RANDOM, 1.0, 0, 0, 0}, {FACTO_SPLIT_RANDOM, NAN, 0, 0, 0},
        {FACTO_SPLIT_KFOLD, 0, 1, 1, 0},    {FACTO_SPLIT_KFOLD, 0, 5, 0, 0},    {FACTO_SPLIT_KFOLD, 0, 5, 6, 0},
        {(facto_split_kind)0, 0.2, 0, 0, 0},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++)
        assert_int_equal(facto_dataset_split(ctx, all, &bad[c], &tr, &te), FACTO_ERR_INVALID);
    assert_int_equal(facto_dataset_split(ctx, NULL, &s, &tr, &te), FACTO_ERR_INVALID);
    facto_dataset_free(all);
    /* Messages show the fraction that was asked for, not %g's rounding of it
     * ("random:0.9999999", never "random:1"). */
    all = synthetic(1, 100, 1);
    s = make(FACTO_SPLIT_RANDOM, 0.9999999, 0, 0, 0);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "split random:0.9999999 leaves"));
    facto_dataset_free(all);
    /* A split that leaves one side empty. */
    all = synthetic(1, 100, 1); /* one user, one rating */
    s = make(FACTO_SPLIT_TIME, 0.5, 0, 0, 0);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "test set empty"));
    /* 1 rating, 2 folds: the fold holding it has an empty training set, the other an empty test set. */
    s = make(FACTO_SPLIT_KFOLD, 0, 2, 1, 0);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "training set empty"));
    s.fold = 2;
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "test set empty"));
    assert_null(tr);
    assert_null(te);
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

/* The COO builder refuses indices outside its maps instead of writing past them. */
static void test_coo_bounds(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    for (int bad = 0; bad < 2; bad++) {
        facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
        assert_int_equal(fct_idmap_intern(users, "a", 1), 0);
        assert_int_equal(fct_idmap_intern(items, "b", 1), 0);
        fct_coo coo;
        fct_coo_init(&coo);
        assert_int_equal(fct_coo_push(ctx, &coo, 0, 0, 1.0f, 0, 0), FACTO_OK);
        assert_int_equal(fct_coo_push(ctx, &coo, bad ? 0 : 1, bad ? 1 : 0, 2.0f, 0, 0), FACTO_OK);
        facto_dataset *ds = (facto_dataset *)1;
        assert_int_equal(fct_dataset_from_coo(ctx, &coo, users, items, &ds, NULL), FACTO_ERR_INTERNAL);
        assert_null(ds);
        fct_coo_free(&coo);
    }
    facto_ctx_free(ctx);
}

/* ---- real data ------------------------------------------------------------------ */

static void test_ml100k(void **state)
{
    (void)state;
    const char *home = getenv("FACTO_DATA_HOME");
    char path[1024];
    if (!home || !*home)
        skip();
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home);
    if (access(path, R_OK) != 0)
        skip();
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *all, *tr, *te;
    assert_int_equal(facto_dataset_read(ctx, path, NULL, &all, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_n_ratings(all), 100000);
    split_ok(all, make(FACTO_SPLIT_RANDOM, 0.2, 0, 0, 42), &tr, &te);
    check_partition(all, tr, te);
    int64_t nt = facto_dataset_n_ratings(te);
    assert_true(nt > 20000 - 5 * 127 && nt < 20000 + 5 * 127); /* sd = sqrt(1e5 * .2 * .8) ~ 126.5 */
    facto_dataset_free(tr);
    facto_dataset_free(te);
    split_ok(all, make(FACTO_SPLIT_TIME, 0.2, 0, 0, 0), &tr, &te);
    check_partition(all, tr, te);
    check_time(all, tr, te, 0.2);
    /* Every user of ml-100k has at least 20 ratings, so every user is in both sides. */
    assert_int_equal(facto_dataset_n_users(tr), 943);
    assert_int_equal(facto_dataset_n_users(te), 943);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    split_ok(all, make(FACTO_SPLIT_KFOLD, 0, 5, 3, 7), &tr, &te);
    check_partition(all, tr, te);
    assert_int_equal(facto_dataset_n_ratings(te), 20000);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),  cmocka_unit_test(test_random),       cmocka_unit_test(test_kfold),
        cmocka_unit_test(test_time),   cmocka_unit_test(test_time_by_hand), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_coo_bounds),     cmocka_unit_test(test_ml100k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
