/*
 * test_split.c — train/test splits: parsing "random:F", "kfold:K:FOLD",
 * "time:F", "per-user:F", "leave-last-out" and "users:F"; and, on a
 * synthetic data set built here and on ml-100k's u.data when
 * FACTO_DATA_HOME is set, the properties a split must have: every rating
 * lands in exactly one side with its value and timestamp, no (user, item) in
 * both, compact id maps, the same seed gives the same split (another seed
 * another), the k folds of one seed partition the data, the time split and
 * leave-last-out hold out each user's latest ratings, per-user keeps at least
 * one rating of every user in training, users:F partitions the users and
 * cuts each held-out user's ratings into fold-in history and target (80/20).
 * Runs in about a second.
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
#include "testutil.h"

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
        if (strcmp(facto_idmap_name(a->user_map, u), facto_idmap_name(b->user_map, u)) != 0 || a->row_ptr[u + 1] != b->row_ptr[u + 1])
            return 0;
    for (int32_t i = 0; i < a->n_items; i++)
        if (strcmp(facto_idmap_name(a->item_map, i), facto_idmap_name(b->item_map, i)) != 0)
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
    assert_int_equal(facto_split_parse(ctx, "per-user:0.2", &s), FACTO_OK);
    assert_int_equal(s.kind, FACTO_SPLIT_PER_USER);
    assert_true(s.fraction == 0.2);
    assert_int_equal(s.k, 0);
    assert_int_equal(s.fold, 0);
    assert_true(s.seed == 1234);
    assert_int_equal(facto_split_parse(ctx, "leave-last-out", &s), FACTO_OK);
    assert_int_equal(s.kind, FACTO_SPLIT_LEAVE_LAST_OUT);
    assert_true(s.fraction == 0.0);
    assert_true(s.seed == 1234);
    assert_int_equal(facto_split_parse(ctx, "users:0.25", &s), FACTO_OK);
    assert_int_equal(s.kind, FACTO_SPLIT_USERS);
    assert_true(s.fraction == 0.25);
    assert_true(s.seed == 1234);

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
        {"per-user:0", "e.g. per-user:0.2"},       {"per-user:1", "strictly between"},
        {"per-user:", "between"},                  {"per-user", "leave-last-out or users:FRACTION"},
        {"leave-last-out:1", "expected random"},   {"leave-last", "expected random"},
        {"users:0", "share of users held out"},    {"users:1.5", "users:0.2"},
        {"users:", "between"},                     {"users:0.2:0.8", "strictly between 0 and 1"},
        {"users", "expected random"},              {"peruser:0.2", "per-user:FRACTION"},
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


/* ---- splits for ranking ------------------------------------------------------------ */

/* Number of ratings of user `user` (by name) in ds; 0 when absent. */
static int64_t degree_of(const facto_dataset *ds, const char *user)
{
    int32_t u = facto_idmap_find(facto_dataset_users(ds), user);
    return u < 0 ? 0 : ds->row_ptr[u + 1] - ds->row_ptr[u];
}

static int64_t round_half_up(double x) { return (int64_t)floor(x + 0.5); }

/* Users "u0".. with deg[u] ratings each, of items "i0".., timestamps 10 * j. */
static facto_dataset *tiny(int n_users, const int *deg)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    char name[32];
    for (int u = 0; u < n_users; u++) {
        snprintf(name, sizeof name, "u%d", u);
        int32_t ui = fct_idmap_intern(users, name, strlen(name));
        for (int j = 0; j < deg[u]; j++) {
            snprintf(name, sizeof name, "i%d", j);
            int32_t ii = fct_idmap_intern(items, name, strlen(name));
            assert_int_equal(fct_coo_push(ctx, &coo, ui, ii, 1.0f, 1, 10 * j), FACTO_OK);
        }
    }
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, users, items, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return ds;
}

/* per-user:F: each user's test count is round(F * d) capped at d - 1, so
 * every user keeps at least one training rating. */
static void check_per_user(const facto_dataset *all, const facto_dataset *tr, const facto_dataset *te, double f)
{
    for (int32_t u = 0; u < all->n_users; u++) {
        const char *un = facto_idmap_name(all->user_map, u);
        int64_t d = all->row_ptr[u + 1] - all->row_ptr[u];
        int64_t want = round_half_up(f * (double)d);
        if (want > d - 1)
            want = d - 1;
        assert_int_equal(degree_of(te, un), want);
        assert_int_equal(degree_of(tr, un), d - want);
        assert_true(degree_of(tr, un) >= 1);
    }
}

static void test_per_user(void **state)
{
    (void)state;
    facto_dataset *all = synthetic(600, 400, 1);
    facto_dataset *tr, *te, *tr2, *te2, *tr3, *te3;
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.2, 0, 0, 1), &tr, &te);
    check_partition(all, tr, te);
    check_per_user(all, tr, te, 0.2);
    /* User u0 has one rating: it stays in training. */
    assert_true(find(tr, "u0", "i0") >= 0);
    assert_int_equal(degree_of(te, "u0"), 0);
    /* Same seed, same split; another seed draws other ratings, the same counts. */
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.2, 0, 0, 1), &tr2, &te2);
    assert_true(same_dataset(tr, tr2));
    assert_true(same_dataset(te, te2));
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.2, 0, 0, 2), &tr3, &te3);
    check_partition(all, tr3, te3);
    check_per_user(all, tr3, te3, 0.2);
    assert_false(same_dataset(te, te3));
    assert_int_equal(facto_dataset_n_ratings(te3), facto_dataset_n_ratings(te));
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    facto_dataset_free(tr3);
    facto_dataset_free(te3);
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.5, 0, 0, 7), &tr, &te);
    check_partition(all, tr, te);
    check_per_user(all, tr, te, 0.5); /* half rounds up: d = 3 holds out 2 */
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
    /* No timestamps needed. */
    all = synthetic(50, 100, 0);
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.3, 0, 0, 7), &tr, &te);
    check_partition(all, tr, te);
    check_per_user(all, tr, te, 0.3);
    assert_null(te->timestamps);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
}

/* The draw is uniform over a user's ratings, whatever their CSR position:
 * one user of 10 ratings, per-user:0.2 holds out 2; over 1000 seeds each
 * rating is held out 200 times give or take 5 standard deviations (12.6). */
static void test_per_user_uniform(void **state)
{
    (void)state;
    const int deg[1] = {10};
    facto_dataset *all = tiny(1, deg);
    int hits[10] = {0};
    for (uint64_t seed = 0; seed < 1000; seed++) {
        facto_dataset *tr, *te;
        split_ok(all, make(FACTO_SPLIT_PER_USER, 0.2, 0, 0, seed), &tr, &te);
        assert_int_equal(facto_dataset_n_ratings(te), 2);
        for (int64_t k = 0; k < te->n_ratings; k++)
            hits[atoi(facto_idmap_name(te->item_map, te->items[k]) + 1)]++;
        facto_dataset_free(tr);
        facto_dataset_free(te);
    }
    for (int j = 0; j < 10; j++)
        if (abs(hits[j] - 200) > 64)
            fail_msg("rating %d held out %d times in 1000 draws of 2 out of 10", j, hits[j]);
    facto_dataset_free(all);
}

/* leave-last-out: each user with two ratings or more has exactly one test
 * rating, the latest by (timestamp, item index). */
static void check_leave_last_out(const facto_dataset *all, const facto_dataset *tr, const facto_dataset *te)
{
    for (int32_t u = 0; u < all->n_users; u++) {
        const char *un = facto_idmap_name(all->user_map, u);
        int64_t lo = all->row_ptr[u], hi = all->row_ptr[u + 1], d = hi - lo;
        assert_int_equal(degree_of(te, un), d >= 2 ? 1 : 0);
        assert_int_equal(degree_of(tr, un), d >= 2 ? d - 1 : d);
        if (d < 2)
            continue;
        int64_t best = lo;
        for (int64_t k = lo + 1; k < hi; k++)
            if (all->timestamps[k] > all->timestamps[best] ||
                (all->timestamps[k] == all->timestamps[best] && all->items[k] > all->items[best]))
                best = k;
        assert_true(find(te, un, facto_idmap_name(all->item_map, all->items[best])) >= 0);
        /* No training rating of the user is newer. */
        int32_t ur = facto_idmap_find(tr->user_map, un);
        for (int64_t k = tr->row_ptr[ur]; k < tr->row_ptr[ur + 1]; k++)
            assert_true(tr->timestamps[k] <= all->timestamps[best]);
    }
}

static void test_leave_last_out(void **state)
{
    (void)state;
    facto_dataset *all = synthetic(200, 300, 1); /* timestamps with ties */
    facto_dataset *tr, *te, *tr2, *te2;
    split_ok(all, make(FACTO_SPLIT_LEAVE_LAST_OUT, 0, 0, 0, 1), &tr, &te);
    check_partition(all, tr, te);
    check_leave_last_out(all, tr, te);
    assert_true(find(tr, "u0", "i0") >= 0); /* one rating: kept in training */
    /* No randomness: any seed gives the same split. */
    split_ok(all, make(FACTO_SPLIT_LEAVE_LAST_OUT, 0, 0, 0, 98765), &tr2, &te2);
    assert_true(same_dataset(tr, tr2));
    assert_true(same_dataset(te, te2));
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    facto_dataset_free(all);
    /* Without timestamps: FACTO_ERR_INVALID. */
    facto_ctx *ctx = facto_ctx_new();
    all = synthetic(40, 100, 0);
    facto_split s = make(FACTO_SPLIT_LEAVE_LAST_OUT, 0, 0, 0, 0);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "split leave-last-out needs timestamps"));
    assert_null(tr);
    assert_null(te);
    facto_dataset_free(all);
    /* Every user with one rating: the test set would be empty. */
    const int ones[3] = {1, 1, 1};
    all = tiny(3, ones);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &te), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "leave-last-out leaves the test set empty"));
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

/* By hand: user x rates a..e at 5 3 9 1 9; c and e tie on the latest time,
 * and e, the later item of the data set, is held out. User y's only rating
 * stays in training. */
static void test_leave_last_out_by_hand(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    static const char *const names[5] = {"a", "b", "c", "d", "e"};
    static const int64_t ts[5] = {5, 3, 9, 1, 9};
    assert_int_equal(fct_idmap_intern(users, "x", 1), 0);
    assert_int_equal(fct_idmap_intern(users, "y", 1), 1);
    for (int j = 0; j < 5; j++) {
        int32_t i = fct_idmap_intern(items, names[j], 1);
        assert_int_equal(fct_coo_push(ctx, &coo, 0, i, (float)(j + 1), 1, ts[j]), FACTO_OK);
    }
    assert_int_equal(fct_coo_push(ctx, &coo, 1, 0, 2.0f, 1, 100), FACTO_OK);
    facto_dataset *all, *tr, *te;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, users, items, &all, NULL), FACTO_OK);
    fct_coo_free(&coo);
    split_ok(all, make(FACTO_SPLIT_LEAVE_LAST_OUT, 0, 0, 0, 0), &tr, &te);
    assert_int_equal(facto_dataset_n_ratings(te), 1);
    assert_true(find(te, "x", "e") >= 0);
    assert_true(te->ratings[0] == 5.0f && te->timestamps[0] == 9);
    assert_int_equal(facto_dataset_n_ratings(tr), 5);
    assert_true(find(tr, "x", "c") >= 0);
    assert_true(find(tr, "y", "a") >= 0);
    assert_int_equal(facto_idmap_find(te->user_map, "y"), -1);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

/* users:F: every user is wholly on one side; round(F * n_users) are held out. */
static void check_users(const facto_dataset *all, const facto_dataset *tr, const facto_dataset *te, double f)
{
    int64_t held = 0;
    for (int32_t u = 0; u < all->n_users; u++) {
        const char *un = facto_idmap_name(all->user_map, u);
        int64_t d = all->row_ptr[u + 1] - all->row_ptr[u];
        int in_tr = facto_idmap_find(tr->user_map, un) >= 0, in_te = facto_idmap_find(te->user_map, un) >= 0;
        assert_true(in_tr != in_te);
        assert_int_equal(degree_of(in_te ? te : tr, un), d);
        held += in_te;
    }
    assert_int_equal(held, round_half_up(f * (double)all->n_users));
}

static void split_users_ok(const facto_dataset *all, double f, uint64_t seed, double hf, facto_dataset **tr,
                           facto_dataset **hist, facto_dataset **target)
{
    facto_ctx *ctx = facto_ctx_new();
    if (facto_dataset_split_users(ctx, all, f, seed, hf, tr, hist, target) != FACTO_OK)
        fail_msg("split users failed: %s", facto_errmsg(ctx));
    facto_ctx_free(ctx);
}

/* The three-way split refines the two-way one: the same train, and the
 * test cut per user into round(hf * d) (in 1..d) history and the rest. */
static void check_users3(const facto_dataset *tr2, const facto_dataset *te2, const facto_dataset *tr,
                         const facto_dataset *hist, const facto_dataset *target, double hf)
{
    assert_true(same_dataset(tr, tr2));
    check_partition(te2, hist, target); /* every test rating in exactly one of them */
    int64_t n_target_users = 0;
    for (int32_t u = 0; u < te2->n_users; u++) {
        const char *un = facto_idmap_name(te2->user_map, u);
        int64_t d = te2->row_ptr[u + 1] - te2->row_ptr[u];
        int64_t h = round_half_up(hf * (double)d);
        h = h < 1 ? 1 : h > d ? d : h;
        assert_int_equal(degree_of(hist, un), h);
        assert_int_equal(degree_of(target, un), d - h);
        n_target_users += d - h > 0;
    }
    assert_int_equal(facto_dataset_n_users(hist), facto_dataset_n_users(te2));
    assert_int_equal(facto_dataset_n_users(target), n_target_users);
}

static void test_users(void **state)
{
    (void)state;
    facto_dataset *all = synthetic(300, 400, 1);
    facto_dataset *tr, *te, *tr2, *te2, *tr3, *te3;
    split_ok(all, make(FACTO_SPLIT_USERS, 0.2, 0, 0, 1), &tr, &te);
    check_partition(all, tr, te);
    check_users(all, tr, te, 0.2);
    assert_int_equal(facto_dataset_n_users(te), 60);
    assert_int_equal(facto_dataset_n_users(tr), 240);
    split_ok(all, make(FACTO_SPLIT_USERS, 0.2, 0, 0, 1), &tr2, &te2);
    assert_true(same_dataset(tr, tr2));
    assert_true(same_dataset(te, te2));
    split_ok(all, make(FACTO_SPLIT_USERS, 0.2, 0, 0, 2), &tr3, &te3);
    check_partition(all, tr3, te3);
    check_users(all, tr3, te3, 0.2);
    assert_false(same_dataset(te, te3));
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    facto_dataset_free(tr3);
    facto_dataset_free(te3);

    /* Fold-in history and target, 80/20 per held-out user. */
    facto_dataset *t3, *hist, *target, *t3b, *histb, *targetb;
    split_users_ok(all, 0.2, 1, FACTO_SPLIT_HISTORY_FRACTION, &t3, &hist, &target);
    check_users3(tr, te, t3, hist, target, 0.8);
    /* Same seed: the same three sets. */
    split_users_ok(all, 0.2, 1, 0.8, &t3b, &histb, &targetb);
    assert_true(same_dataset(t3, t3b));
    assert_true(same_dataset(hist, histb));
    assert_true(same_dataset(target, targetb));
    facto_dataset_free(t3b);
    facto_dataset_free(histb);
    facto_dataset_free(targetb);
    /* Another seed: other users. */
    split_users_ok(all, 0.2, 2, 0.8, &t3b, &histb, &targetb);
    assert_false(same_dataset(t3, t3b));
    assert_false(same_dataset(target, targetb));
    facto_dataset_free(t3b);
    facto_dataset_free(histb);
    facto_dataset_free(targetb);
    facto_dataset_free(t3);
    facto_dataset_free(hist);
    facto_dataset_free(target);
    /* Half and half. */
    split_users_ok(all, 0.2, 1, 0.5, &t3, &hist, &target);
    check_users3(tr, te, t3, hist, target, 0.5);
    facto_dataset_free(t3);
    facto_dataset_free(hist);
    facto_dataset_free(target);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
}

/* By hand: users u0..u4 of 1, 2, 5, 10 and 3 ratings; users:0.6 holds out
 * 3 of them; at 0.8 their history holds 1, 2 (1.6 rounds up: no target),
 * 4, 8 and 2 (2.4) ratings. */
static void test_users_by_hand(void **state)
{
    (void)state;
    const int deg[5] = {1, 2, 5, 10, 3};
    static const int64_t want_hist[5] = {1, 2, 4, 8, 2};
    facto_dataset *all = tiny(5, deg), *tr, *te, *t3, *hist, *target;
    split_ok(all, make(FACTO_SPLIT_USERS, 0.6, 0, 0, 3), &tr, &te);
    check_users(all, tr, te, 0.6);
    assert_int_equal(facto_dataset_n_users(te), 3);
    split_users_ok(all, 0.6, 3, 0.8, &t3, &hist, &target);
    check_users3(tr, te, t3, hist, target, 0.8);
    for (int u = 0; u < 5; u++) {
        char name[8];
        snprintf(name, sizeof name, "u%d", u);
        if (degree_of(te, name) == 0)
            continue;
        assert_int_equal(degree_of(hist, name), want_hist[u]);
        assert_int_equal(degree_of(target, name), deg[u] - want_hist[u]);
    }
    facto_dataset_free(t3);
    facto_dataset_free(hist);
    facto_dataset_free(target);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
}

static void test_users_errors(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *all = synthetic(30, 100, 0);
    facto_dataset *tr = (facto_dataset *)1, *hist = (facto_dataset *)1, *target = (facto_dataset *)1;
    static const double bad_hf[] = {0.0, 1.0, -0.5, 1.5, NAN};
    for (size_t c = 0; c < sizeof bad_hf / sizeof bad_hf[0]; c++) {
        assert_int_equal(facto_dataset_split_users(ctx, all, 0.2, 1, bad_hf[c], &tr, &hist, &target),
                         FACTO_ERR_INVALID);
        assert_non_null(strstr(facto_errmsg(ctx), "history fraction"));
        assert_null(tr);
        assert_null(hist);
        assert_null(target);
    }
    static const double bad_f[] = {0.0, 1.0, NAN};
    for (size_t c = 0; c < sizeof bad_f / sizeof bad_f[0]; c++)
        assert_int_equal(facto_dataset_split_users(ctx, all, bad_f[c], 1, 0.8, &tr, &hist, &target),
                         FACTO_ERR_INVALID);
    assert_int_equal(facto_dataset_split_users(ctx, NULL, 0.2, 1, 0.8, &tr, &hist, &target), FACTO_ERR_INVALID);
    assert_int_equal(facto_dataset_split_users(ctx, all, 0.2, 1, 0.8, &tr, &hist, NULL), FACTO_ERR_INVALID);
    /* round(0.01 * 30) = 0 users: nothing held out. */
    assert_int_equal(facto_dataset_split_users(ctx, all, 0.01, 1, 0.8, &tr, &hist, &target), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "leaves the test history set empty"));
    facto_split s = make(FACTO_SPLIT_USERS, 0.01, 0, 0, 1);
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &target), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "split users:0.01 leaves the test set empty"));
    /* round(0.99 * 30) = 30 users: no training set. */
    s.fraction = 0.99;
    assert_int_equal(facto_dataset_split(ctx, all, &s, &tr, &target), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "training set empty"));
    facto_dataset_free(all);
    /* Held-out users of one rating each have no target. */
    const int ones[4] = {1, 1, 1, 1};
    all = tiny(4, ones);
    assert_int_equal(facto_dataset_split_users(ctx, all, 0.5, 1, 0.8, &tr, &hist, &target), FACTO_ERR_EMPTY);
    assert_non_null(strstr(facto_errmsg(ctx), "leaves the test target set empty"));
    assert_null(tr);
    assert_null(hist);
    assert_null(target);
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

/* ---- real data ------------------------------------------------------------------ */

static void test_ml100k(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u.data");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home);
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

/* FNV-1a of the (user, item) names of ds in CSR order: pins a split's content. */
static uint64_t pairs_hash(const facto_dataset *ds)
{
    uint64_t h = 1469598103934665603ull;
    for (int32_t u = 0; u < ds->n_users; u++)
        for (int64_t k = ds->row_ptr[u]; k < ds->row_ptr[u + 1]; k++) {
            const char *parts[2] = {facto_idmap_name(ds->user_map, u), facto_idmap_name(ds->item_map, ds->items[k])};
            for (int p = 0; p < 2; p++) {
                for (const char *c = parts[p]; *c; c++)
                    h = (h ^ (unsigned char)*c) * 1099511628211ull;
                h = (h ^ (unsigned char)(p ? '\n' : '\t')) * 1099511628211ull;
            }
        }
    return h;
}

/* u.data as implicit data with threshold 4: 55,375 positives of 942 users
 * (awk '$3 >= 4' u.data | wc -l; test_readers counts them apart from the
 * library). per-user:0.2 holds out sum over users of round(0.2 d), every
 * user having 3 positives or more: 11,079, whatever the seed; seed 1 picks
 * the ratings pinned by their hash. */
static void test_ml100k_implicit(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u.data");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home);
    facto_ctx *ctx = facto_ctx_new();
    facto_read_options o = facto_read_options_default();
    o.implicit = 1;
    o.implicit_threshold = 4;
    facto_dataset *all, *tr, *te, *tr2, *te2;
    assert_int_equal(facto_dataset_read(ctx, path, &o, &all, NULL), FACTO_OK);
    assert_int_equal(facto_dataset_n_ratings(all), 55375);
    assert_int_equal(facto_dataset_n_users(all), 942);

    /* per-user:0.2, seed 1. */
    int64_t want_test = 0;
    for (int32_t u = 0; u < all->n_users; u++) {
        int64_t d = all->row_ptr[u + 1] - all->row_ptr[u];
        assert_true(d >= 3);
        want_test += round_half_up(0.2 * (double)d);
    }
    assert_int_equal(want_test, 11079);
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.2, 0, 0, 1), &tr, &te);
    check_partition(all, tr, te);
    check_per_user(all, tr, te, 0.2);
    assert_int_equal(facto_dataset_n_ratings(tr), 44296);
    assert_int_equal(facto_dataset_n_ratings(te), 11079);
    assert_int_equal(facto_dataset_n_users(tr), 942);
    assert_int_equal(facto_dataset_n_users(te), 942);
    print_message("per-user:0.2 seed 1: train %lld ratings, %d items; test %lld ratings, %d items; hash %016llx\n",
                  (long long)facto_dataset_n_ratings(tr), (int)facto_dataset_n_items(tr),
                  (long long)facto_dataset_n_ratings(te), (int)facto_dataset_n_items(te),
                  (unsigned long long)pairs_hash(te));
    /* The same on every platform (xoshiro256** and Lemire's bounded draws). */
    assert_int_equal(facto_dataset_n_items(tr), 1408);
    assert_int_equal(facto_dataset_n_items(te), 1098);
    assert_true(pairs_hash(te) == 0xe2ff83012eb84b57ull);
    split_ok(all, make(FACTO_SPLIT_PER_USER, 0.2, 0, 0, 1), &tr2, &te2);
    assert_true(same_dataset(te, te2));
    facto_dataset_free(tr2);
    facto_dataset_free(te2);
    facto_dataset_free(tr);
    facto_dataset_free(te);

    /* leave-last-out: one test rating for each of the 942 users. */
    split_ok(all, make(FACTO_SPLIT_LEAVE_LAST_OUT, 0, 0, 0, 0), &tr, &te);
    check_partition(all, tr, te);
    check_leave_last_out(all, tr, te);
    assert_int_equal(facto_dataset_n_ratings(te), 942);
    assert_int_equal(facto_dataset_n_ratings(tr), 55375 - 942);
    facto_dataset_free(tr);
    facto_dataset_free(te);

    /* users:0.2, seed 1: round(0.2 * 942) = 188 users held out, 80/20. */
    facto_dataset *t3, *hist, *target;
    split_ok(all, make(FACTO_SPLIT_USERS, 0.2, 0, 0, 1), &tr, &te);
    check_partition(all, tr, te);
    check_users(all, tr, te, 0.2);
    assert_int_equal(facto_dataset_n_users(te), 188);
    assert_int_equal(facto_dataset_n_users(tr), 754);
    split_users_ok(all, 0.2, 1, 0.8, &t3, &hist, &target);
    check_users3(tr, te, t3, hist, target, 0.8);
    assert_int_equal(facto_dataset_n_users(target), 188); /* 3 positives or more: every one has a target */
    print_message("users:0.2 seed 1: train %lld ratings of %d users; test history %lld, target %lld ratings\n",
                  (long long)facto_dataset_n_ratings(t3), (int)facto_dataset_n_users(t3),
                  (long long)facto_dataset_n_ratings(hist), (long long)facto_dataset_n_ratings(target));
    assert_int_equal(facto_dataset_n_ratings(t3), 45124);
    assert_int_equal(facto_dataset_n_ratings(hist), 8205);
    assert_int_equal(facto_dataset_n_ratings(target), 2046);
    facto_dataset_free(t3);
    facto_dataset_free(hist);
    facto_dataset_free(target);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_dataset_free(all);
    facto_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),  cmocka_unit_test(test_random),       cmocka_unit_test(test_kfold),
        cmocka_unit_test(test_time),   cmocka_unit_test(test_time_by_hand), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_coo_bounds),     fct_data_test(test_ml100k),
        cmocka_unit_test(test_per_user),       cmocka_unit_test(test_per_user_uniform),
        cmocka_unit_test(test_leave_last_out), cmocka_unit_test(test_leave_last_out_by_hand),
        cmocka_unit_test(test_users),          cmocka_unit_test(test_users_by_hand),
        cmocka_unit_test(test_users_errors),   fct_data_test(test_ml100k_implicit),
    };
    return fct_run_tests(tests, NULL, NULL);
}
