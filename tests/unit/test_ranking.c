/*
 * test_ranking.c — the full-ranking metrics against values worked out by
 * hand on a six-item case (a tie, an excluded training item, a user with
 * fewer test items than k, a test item the model cannot rank), the metric
 * list parser, and facto_model_evaluate's ranking metrics against the same
 * figures computed from facto_model_recommend's lists, with a test user the
 * model never saw (skipped and counted) and a test item it never saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "metrics/ranking.h"
#include "unit/testutil.h"

#include <math.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_ranking");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static double get(const facto_metrics *m, const char *name)
{
    double v = facto_metrics_get(m, name);
    if (isnan(v))
        fail_msg("metric %s missing", name);
    return v;
}

/*
 * Six items with scores 0.9 0.1 0.8 0.3 0.8 0.5.
 * User A: item 0 excluded (training); relevant {1, 4}. Its ranking: 2, 4
 *   (0.8: the tie goes to the lower index), 5, 3, 1. Top 3 = 2 4 5: one hit
 *   at rank 2. precision@3 1/3, recall@3 1/2, NDCG@3 (1/log2 3) / (1 +
 *   1/log2 3), MAP@3 (1/2 * 1/2), HR@3 1, MRR 1/2, AUC: 4 is above 5 and 3
 *   but below 2, 1 above none: 2 of 2 x 3 pairs.
 * User B: nothing excluded; relevant {0}, and one test item the model
 *   cannot rank (|test| = 2). Top 3 = 0 2 4: a hit at rank 1. precision 1/3,
 *   recall 1/2, NDCG 1 / (1 + 1/log2 3), MAP 1/2, HR 1, MRR 1, AUC 1.
 * Coverage@3: items {2, 4, 5, 0} of 6.
 */
static void test_hand_computed(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    fct_rank_metric m[FCT_RANK_MAX_METRICS];
    int n = 0;
    assert_int_equal(fct_rank_parse(ctx, "precision@3,recall@3,ndcg@3,map@3,hr@3,mrr,auc,coverage@3", m, &n),
                     FACTO_OK);
    assert_int_equal(n, 8);
    assert_int_equal(fct_rank_max_k(m, n), 3);
    fct_rank_acc acc;
    assert_int_equal(fct_rank_acc_init(ctx, &acc, m, n, 6), FACTO_OK);
    const float scores[6] = {0.9f, 0.1f, 0.8f, 0.3f, 0.8f, 0.5f};
    const int32_t top_a[3] = {2, 4, 5}, excl_a[1] = {0}, rel_a[2] = {1, 4};
    fct_rank_acc_user(&acc, top_a, 3, scores, excl_a, 1, rel_a, 2, 0);
    const int32_t top_b[3] = {0, 2, 4}, rel_b[1] = {0};
    fct_rank_acc_user(&acc, top_b, 3, scores, NULL, 0, rel_b, 1, 1);
    facto_metrics out;
    memset(&out, 0, sizeof out);
    fct_rank_acc_finish(&acc, &out);
    assert_int_equal(out.n_users, 2);
    assert_int_equal(out.n_ranking, 8);
    double l3 = 1.0 / log2(3.0);
    NEAR(get(&out, "precision@3"), 1.0 / 3.0);
    NEAR(get(&out, "recall@3"), 0.5);
    NEAR(get(&out, "ndcg@3"), 0.5 * (l3 / (1.0 + l3) + 1.0 / (1.0 + l3)));
    NEAR(get(&out, "ndcg@3"), 0.5); /* the two users' figures add up to 1 */
    NEAR(get(&out, "map@3"), 0.5 * (0.25 + 0.5));
    NEAR(get(&out, "hr@3"), 1.0);
    NEAR(get(&out, "mrr"), 0.5 * (0.5 + 1.0));
    NEAR(get(&out, "auc"), 0.5 * (2.0 / 6.0 + 1.0));
    NEAR(get(&out, "coverage@3"), 4.0 / 6.0);
    assert_true(isnan(facto_metrics_get(&out, "ndcg@5")));
    fct_rank_acc_free(&acc);
    /* the parser says what is wrong */
    assert_int_equal(fct_rank_parse(ctx, "ndcg", m, &n), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "cut-off"));
    assert_int_equal(fct_rank_parse(ctx, "mrr@5", m, &n), FACTO_ERR_INVALID);
    assert_int_equal(fct_rank_parse(ctx, "ndcg@0", m, &n), FACTO_ERR_INVALID);
    assert_int_equal(fct_rank_parse(ctx, "ndcg@10,ndcg@10", m, &n), FACTO_ERR_INVALID);
    assert_int_equal(fct_rank_parse(ctx, "bleu@10", m, &n), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "bleu"));
    /* the public check says the same, and accepts what evaluate accepts */
    assert_int_equal(facto_ranking_metrics_check(ctx, "ndcg@10,recall@20,mrr"), FACTO_OK);
    assert_int_equal(facto_ranking_metrics_check(ctx, "ndcg@10,ndcg@x"), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "ndcg@x"));
    assert_int_equal(facto_ranking_metrics_check(ctx, ""), FACTO_ERR_INVALID);
    assert_int_equal(facto_ranking_metrics_check(ctx, NULL), FACTO_ERR_INVALID);
    facto_ctx_free(ctx);
}

/* A ratings file of `n` lines into the scratch folder. */
static facto_dataset *read_lines(facto_ctx *ctx, const char *name, const char *text)
{
    const char *path = fct_test_path(name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, NULL, &ds, NULL) != FACTO_OK)
        fail_msg("%s", facto_errmsg(ctx));
    return ds;
}

/* facto_model_evaluate's ranking metrics = the same metrics computed here
 * from facto_model_recommend's lists; skipped users counted. */
static void test_driver(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char train_text[8192] = "", test_text[2048] = "";
    size_t tl = 0, sl = 0;
    fct_test_rng = 11;
    for (int u = 0; u < 25; u++)
        for (int i = 0; i < 30; i++) {
            uint32_t r = fct_test_rnd() % 10;
            if (r < 4)
                tl += (size_t)snprintf(train_text + tl, sizeof train_text - tl, "u%d\ti%d\t%d\n", u, i, 1 + (u + i) % 5);
            else if (r == 4 && u < 20)
                sl += (size_t)snprintf(test_text + sl, sizeof test_text - sl, "u%d\ti%d\t%d\n", u, i, 1 + (u * i) % 5);
        }
    /* a test user the model never saw (skipped and counted), and one whose
     * only test item the model never saw (scored: a miss) */
    sl += (size_t)snprintf(test_text + sl, sizeof test_text - sl, "nobody\ti3\t4\nu21\tnew_item\t5\n");
    facto_dataset *train = read_lines(ctx, "train.tsv", train_text);
    facto_dataset *test = read_lines(ctx, "test.tsv", test_text);
    facto_mf_params p = facto_mf_params_default();
    p.num_factors = 4;
    p.epochs = 8;
    facto_model *m = NULL;
    assert_int_equal(facto_mf_fit(ctx, train, NULL, &p, NULL, &m), FACTO_OK);
    facto_eval_options eo = facto_eval_options_default();
    eo.metrics = "precision@5,recall@5,hr@5,coverage@5";
    facto_metrics met;
    assert_int_equal(facto_model_evaluate(ctx, m, test, &eo, &met, NULL), FACTO_OK);
    assert_true(isfinite(met.rmse)); /* a rating model keeps its RMSE too */
    /* by hand, from top-5 lists */
    const int64_t *tp;
    const int32_t *ti;
    facto_dataset_csr(test, &tp, &ti, NULL, NULL);
    double prec = 0, rec = 0, hr = 0;
    int64_t users = 0, skipped = 0;
    unsigned char covered[64] = {0};
    for (int32_t tu = 0; tu < facto_dataset_n_users(test); tu++) {
        const char *uid = facto_idmap_name(facto_dataset_users(test), tu);
        facto_recommendation top[5];
        int n = 0;
        if (facto_model_recommend(ctx, m, uid, 5, 0, top, &n) != FACTO_OK) {
            skipped++; /* unknown to the model, no history */
            continue;
        }
        int32_t u = facto_idmap_find(facto_model_users(m), uid);
        int64_t t = 0, hits = 0;
        for (int64_t e = tp[tu]; e < tp[tu + 1]; e++) {
            const char *iid = facto_idmap_name(facto_dataset_items(test), ti[e]);
            int32_t i = facto_idmap_find(facto_model_items(m), iid);
            /* a training pair of the user is not ranked: not a test item */
            int32_t tr_u = facto_idmap_find(facto_dataset_users(train), uid);
            int32_t tr_i = facto_idmap_find(facto_dataset_items(train), iid);
            const int64_t *rp;
            const int32_t *rit;
            facto_dataset_csr(train, &rp, &rit, NULL, NULL);
            int in_train = 0;
            for (int64_t x = tr_u >= 0 ? rp[tr_u] : 0; tr_u >= 0 && x < rp[tr_u + 1]; x++)
                in_train |= rit[x] == tr_i && tr_i >= 0;
            if (in_train)
                continue;
            t++;
            for (int r = 0; r < n && i >= 0; r++)
                hits += top[r].item == i;
        }
        (void)u;
        if (t == 0) {
            skipped++;
            continue;
        }
        users++;
        prec += (double)hits / 5.0;
        rec += (double)hits / (double)(t < 5 ? t : 5);
        hr += hits > 0;
        for (int r = 0; r < n; r++)
            covered[top[r].item] = 1;
    }
    int cov = 0;
    for (int i = 0; i < 64; i++)
        cov += covered[i];
    assert_int_equal(met.n_users, users);
    assert_int_equal(met.n_users_skipped, skipped);
    assert_true(skipped >= 1);
    NEAR(get(&met, "precision@5"), prec / (double)users);
    NEAR(get(&met, "recall@5"), rec / (double)users);
    NEAR(get(&met, "hr@5"), hr / (double)users);
    NEAR(get(&met, "coverage@5"), (double)cov / (double)facto_idmap_size(facto_model_items(m)));
    /* same figures on two threads */
    facto_metrics met2;
    facto_ctx_set_threads(ctx, 2);
    assert_int_equal(facto_model_evaluate(ctx, m, test, &eo, &met2, NULL), FACTO_OK);
    for (int i = 0; i < met.n_ranking; i++)
        assert_true(met.ranking[i].value == met2.ranking[i].value);
    /* a bad list is refused before any work */
    eo.metrics = "ndcg";
    assert_int_equal(facto_model_evaluate(ctx, m, test, &eo, &met, NULL), FACTO_ERR_INVALID);
    facto_model_free(m);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_driver),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
