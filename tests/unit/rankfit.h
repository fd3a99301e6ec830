/*
 * rankfit.h — what the tests of the ranking kinds on the shared factor
 * model (test_bpr.c, test_warp.c, test_softmax.c) share, through the
 * public API: a small implicit data set with structure, a fit by kind and
 * settings, the model's bytes, and the checks every such kind must pass:
 * one-thread determinism (same seed, same model bytes), top-N that never
 * returns a training item and whose batch equals the one-user call (to
 * rounding: see rf_check_topn),
 * save / load giving the same bytes and lists, fold-in of a training
 * user's own history ranking close to the trained user, and the ml-100k
 * accuracy run of issue 9's protocol (skipped without the data).
 * Header-only; include after <cmocka.h> and unit/testutil.h.
 */
#ifndef FACTO_TESTS_RANKFIT_H
#define FACTO_TESTS_RANKFIT_H

#include "facto.h"
#include "unit/rankeval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 48 users x 36 items: user u likes the items of its group (i % 4 == u % 4)
 * with probability 0.6 and any other with probability 0.05, so the best
 * ranking is known; every user keeps at least one item. Weight 1 each. */
static inline facto_dataset *rf_data(facto_ctx *ctx)
{
    const char *path = fct_test_path("implicit.tsv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fct_test_rng = 11;
    for (int u = 0; u < 48; u++) {
        int any = 0;
        for (int i = 0; i < 36; i++) {
            const uint32_t p = (i % 4 == u % 4) ? 60 : 5;
            if (fct_test_rnd() % 100 < p || (!any && i == 35)) {
                fprintf(f, "u%d\ti%d\t1\n", u, i);
                any = 1;
            }
        }
    }
    fclose(f);
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, NULL, &ds, NULL) != FACTO_OK)
        fail_msg("read: %s", facto_errmsg(ctx));
    return ds;
}

/* A model of `kind` fit on ds with settings nv (name, value, ..., NULL) on
 * `threads` threads. */
static inline facto_model *rf_fit(facto_ctx *ctx, const char *kind, const facto_dataset *ds, const char *const *nv,
                                  int threads)
{
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, kind, &p), FACTO_OK);
    for (int i = 0; nv && nv[i]; i += 2)
        if (facto_params_set(ctx, p, nv[i], nv[i + 1]) != FACTO_OK)
            fail_msg("%s=%s: %s", nv[i], nv[i + 1], facto_errmsg(ctx));
    facto_ctx_set_threads(ctx, threads);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    if (facto_model_fit(ctx, p, &data, NULL, &m) != FACTO_OK)
        fail_msg("fit %s: %s", kind, facto_errmsg(ctx));
    facto_params_free(p);
    return m;
}

static inline unsigned char *rf_bytes(facto_ctx *ctx, const facto_model *m, const char *name, size_t *n)
{
    const char *path = fct_test_path(name);
    if (facto_model_save(ctx, m, path) != FACTO_OK)
        fail_msg("save: %s", facto_errmsg(ctx));
    return fct_test_slurp(path, n);
}

/* One thread, same seed: the same bytes; another seed: other bytes; two
 * threads (Hogwild) still train a model of the kind. */
static inline void rf_check_determinism(const char *kind, const char *const *nv)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = rf_data(ctx);
    facto_model *a = rf_fit(ctx, kind, ds, nv, 1), *b = rf_fit(ctx, kind, ds, nv, 1);
    size_t na, nb;
    unsigned char *ba = rf_bytes(ctx, a, "a.facto", &na), *bb = rf_bytes(ctx, b, "b.facto", &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    facto_params *p = NULL;
    assert_int_equal(facto_model_params(ctx, a, &p), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, p, "seed", "777"), FACTO_OK);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *c = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &data, NULL, &c), FACTO_OK);
    size_t nc;
    unsigned char *bc = rf_bytes(ctx, c, "c.facto", &nc);
    assert_true(nc != na || memcmp(ba, bc, na) != 0);
    facto_model *d = rf_fit(ctx, kind, ds, nv, 2);
    assert_int_equal(facto_model_get_kind(d), facto_model_get_kind(a));
    assert_int_equal(facto_model_task(d), FACTO_TASK_RANKING);
    free(ba);
    free(bb);
    free(bc);
    facto_params_free(p);
    facto_model_free(a);
    facto_model_free(b);
    facto_model_free(c);
    facto_model_free(d);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Batch top-N equals the one-user call (1 and 2 threads) to rounding; no
 * training item of a user ever comes back unless include_seen. */
static inline void rf_check_topn(facto_ctx *ctx, const facto_model *m, const facto_dataset *train)
{
    const facto_idmap *users = facto_model_users(m);
    const int32_t nu = facto_idmap_size(users);
    const char **ids = malloc((size_t)nu * sizeof *ids);
    for (int32_t u = 0; u < nu; u++)
        ids[u] = facto_idmap_name(users, u);
    enum { K = 12 };
    facto_recommendation *batch = calloc((size_t)nu * K, sizeof *batch);
    int *n_out = calloc((size_t)nu, sizeof *n_out);
    const int64_t *row_ptr;
    const int32_t *items;
    facto_dataset_csr(train, &row_ptr, &items, NULL, NULL);
    int64_t seen_returned = 0;
    for (int seen = 0; seen < 2; seen++) {
        facto_ctx_set_threads(ctx, seen ? 2 : 1);
        assert_int_equal(facto_model_recommend_batch(ctx, m, ids, nu, K, seen, batch, n_out), FACTO_OK);
        for (int32_t u = 0; u < nu; u++) {
            facto_recommendation one[K];
            int n1 = -1;
            assert_int_equal(facto_model_recommend(ctx, m, ids[u], K, seen, one, &n1), FACTO_OK);
            assert_int_equal(n1, n_out[u]);
            /* OpenBLAS's sgemm rounds a row of a 1-user block and of a larger one differently
             * (tail kernels), so the two paths agree to rounding: same scores within 1e-5,
             * the same items but where two scores tie to that precision. */
            for (int x = 0; x < n1; x++) {
                const facto_recommendation *b1 = batch + (size_t)u * K + x;
                assert_true(fabsf(one[x].score - b1->score) <= 1e-5f * (1.0f + fabsf(b1->score)));
                if (one[x].item != b1->item) {
                    int tie = 0;
                    for (int y = 0; y < n1; y++)
                        tie |= one[y].item == b1->item && fabsf(one[y].score - b1->score) <= 1e-5f;
                    assert_true(tie);
                }
            }
            const int32_t tu = facto_idmap_find(facto_dataset_users(train), ids[u]);
            for (int x = 0; x < n1; x++) {
                const int32_t ti = facto_idmap_find(facto_dataset_items(train),
                                                    facto_idmap_name(facto_model_items(m), one[x].item));
                int is_seen = 0;
                for (int64_t e = row_ptr[tu]; e < row_ptr[tu + 1]; e++)
                    is_seen |= items[e] == ti;
                if (!seen)
                    assert_false(is_seen);
                seen_returned += is_seen;
                if (x > 0)
                    assert_true(one[x - 1].score >= one[x].score);
            }
        }
    }
    /* with include_seen the model ranks training items high: it learned them */
    assert_true(seen_returned > nu);
    free(ids);
    free(batch);
    free(n_out);
}

/* Save, load, save: the same bytes, the same kind and parameters, the same
 * lists for every user. */
static inline void rf_check_save_load(facto_ctx *ctx, const facto_model *m)
{
    size_t n1, n2;
    unsigned char *b1 = rf_bytes(ctx, m, "s1.facto", &n1);
    facto_model *back = NULL;
    if (facto_model_load(ctx, fct_test_path("s1.facto"), &back) != FACTO_OK)
        fail_msg("load: %s", facto_errmsg(ctx));
    assert_int_equal(facto_model_get_kind(back), facto_model_get_kind(m));
    unsigned char *b2 = rf_bytes(ctx, back, "s2.facto", &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    facto_params *p1 = NULL, *p2 = NULL;
    assert_int_equal(facto_model_params(ctx, m, &p1), FACTO_OK);
    assert_int_equal(facto_model_params(ctx, back, &p2), FACTO_OK);
    char t1[2048], t2[2048];
    facto_params_format(p1, t1, sizeof t1);
    facto_params_format(p2, t2, sizeof t2);
    assert_string_equal(t1, t2);
    const facto_idmap *users = facto_model_users(m);
    for (int32_t u = 0; u < facto_idmap_size(users); u++) {
        facto_recommendation a[8], b[8];
        int na = 0, nb = 0;
        assert_int_equal(facto_model_recommend(ctx, m, facto_idmap_name(users, u), 8, 0, a, &na), FACTO_OK);
        assert_int_equal(facto_model_recommend(ctx, back, facto_idmap_name(users, u), 8, 0, b, &nb), FACTO_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, (size_t)na * sizeof *a);
    }
    free(b1);
    free(b2);
    facto_params_free(p1);
    facto_params_free(p2);
    facto_model_free(back);
}

/* Fold-in of each training user's own items (a history query, the model's
 * least-squares solve) against the trained user: the mean share of the
 * trained user's top 10 (seen items included) that the folded-in list
 * also has in its top 10. */
static inline double rf_foldin_overlap(facto_ctx *ctx, const facto_model *m, const facto_dataset *train)
{
    const int64_t *row_ptr;
    const int32_t *items;
    facto_dataset_csr(train, &row_ptr, &items, NULL, NULL);
    const facto_idmap *users = facto_model_users(m);
    double sum = 0.0;
    int32_t n = 0;
    for (int32_t u = 0; u < facto_idmap_size(users); u++) {
        const char *id = facto_idmap_name(users, u);
        const int32_t tu = facto_idmap_find(facto_dataset_users(train), id);
        const int64_t b = row_ptr[tu], len = row_ptr[tu + 1] - b;
        const char **hist = malloc((size_t)len * sizeof *hist);
        for (int64_t x = 0; x < len; x++)
            hist[x] = facto_idmap_name(facto_dataset_items(train), items[b + x]);
        facto_recommendation a[10], h[10];
        int na = 0, nh = 0;
        assert_int_equal(facto_model_recommend(ctx, m, id, 10, 0, a, &na), FACTO_OK);
        assert_int_equal(facto_model_recommend_history(ctx, m, hist, NULL, (int32_t)len, 10, h, &nh, NULL), FACTO_OK);
        assert_int_equal(na, nh);
        int common = 0;
        for (int x = 0; x < na; x++)
            for (int y = 0; y < nh; y++)
                common += a[x].item == h[y].item;
        sum += na > 0 ? (double)common / na : 1.0;
        n++;
        free(hist);
    }
    return sum / n;
}

/* Issue 9's protocol on ml-100k (ratings >= 4, each user's 20% held out,
 * seed 1): NDCG@10 and Recall@20 of `kind` at its defaults (plus nv) on
 * one thread. Returns 0 (and skips) when the data is not there. */
static inline int rf_ml100k(const char *kind, const char *const *nv, double *ndcg, double *recall)
{
    const char *home = getenv("FACTO_DATA_HOME");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home ? home : "data");
    FILE *probe = fopen(path, "r");
    if (!probe)
        return 0;
    fclose(probe);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *all = rank_read(ctx, path, 4.0), *train = NULL, *test = NULL;
    assert_non_null(all);
    assert_int_equal(rank_split(ctx, all, 0.2, 1, &train, &test), 0);
    facto_model *m = rf_fit(ctx, kind, train, nv, 1);
    facto_eval_options eo = facto_eval_options_default();
    eo.metrics = "ndcg@10,recall@20";
    facto_metrics fm;
    assert_int_equal(facto_model_evaluate(ctx, m, test, &eo, &fm, NULL), FACTO_OK);
    *ndcg = facto_metrics_get(&fm, "ndcg@10");
    *recall = facto_metrics_get(&fm, "recall@20");
    print_message("%s on ml-100k (ratings >= 4, per-user 0.2, seed 1): NDCG@10 %.4f, Recall@20 %.4f\n", kind,
                  *ndcg, *recall);
    facto_model_free(m);
    facto_dataset_free(all);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
    return 1;
}

#endif /* FACTO_TESTS_RANKFIT_H */
