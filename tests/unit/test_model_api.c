/*
 * test_model_api.c — the interface every model kind shares, through the
 * public API only: hyperparameters by name (values, aliases, rules, the
 * table's description), facto_model_fit against the typed fits (same model
 * bytes), what a model says it can do (task, inputs), predict / evaluate /
 * top-N written once over the interface: the batch top-N equals the
 * one-user call item for item and bit for bit, seen items never come back,
 * and an FM trained from ratings recommends as MF does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "solvers/mf_solvers.h"
#include "unit/testutil.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_model_api");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

/* A rank-2 ratings file: 40 users x 30 items, about half observed, ratings
 * 1..5 from u . i plus a user offset; ids are strings "u<n>" / "i<n>". */
static facto_dataset *ratings(facto_ctx *ctx)
{
    const char *path = fct_test_path("ratings.tsv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fct_test_rng = 7;
    for (int u = 0; u < 40; u++)
        for (int i = 0; i < 30; i++) {
            if (fct_test_rnd() % 2)
                continue;
            double r = 3.0 + 1.2 * sin(u * 0.7) * cos(i * 0.4) + 0.8 * cos(u * 0.3) * sin(i * 1.1) + (u % 3) * 0.3;
            r = r < 1 ? 1 : r > 5 ? 5 : r;
            fprintf(f, "u%d\ti%d\t%.0f\n", u, i, r);
        }
    fclose(f);
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, NULL, &ds, NULL) != FACTO_OK)
        fail_msg("read: %s", facto_errmsg(ctx));
    return ds;
}

static facto_params *params_of(facto_ctx *ctx, const char *kind, const char *const *nv)
{
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, kind, &p), FACTO_OK);
    for (int i = 0; nv && nv[i]; i += 2)
        if (facto_params_set(ctx, p, nv[i], nv[i + 1]) != FACTO_OK)
            fail_msg("%s=%s: %s", nv[i], nv[i + 1], facto_errmsg(ctx));
    return p;
}

static void get(facto_ctx *ctx, const facto_params *p, const char *name, const char *want)
{
    char buf[64];
    assert_int_equal(facto_params_get(ctx, p, name, buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, want);
}

static void test_params_by_name(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_params *p = params_of(ctx, "mf", NULL);
    assert_string_equal(facto_params_kind(p), "mf");
    get(ctx, p, "num_factors", "512");
    get(ctx, p, "optimizer", "sgd");
    /* aliases and '-' for '_' reach the same field */
    assert_int_equal(facto_params_set(ctx, p, "factors", "64"), FACTO_OK);
    get(ctx, p, "num_factors", "64");
    assert_int_equal(facto_params_set(ctx, p, "lr", " 0.01 "), FACTO_OK);
    get(ctx, p, "learning_rate", "0.00999999978"); /* 0.01f to 9 digits */
    assert_int_equal(facto_params_set(ctx, p, "lr-decay", "0.5"), FACTO_OK);
    get(ctx, p, "lr_decay", "0.5");
    /* each rule, named; a refused value leaves the old one */
    assert_int_equal(facto_params_set(ctx, p, "num_factors", "0"), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "num_factors"));
    get(ctx, p, "num_factors", "64");
    assert_int_equal(facto_params_set(ctx, p, "momentum", "1"), FACTO_ERR_INVALID);
    assert_int_equal(facto_params_set(ctx, p, "optimizer", "ftrl"), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "sgd, adam or adagrad"));
    get(ctx, p, "optimizer", "sgd");
    assert_int_equal(facto_params_set(ctx, p, "optimizer", "adagrad"), FACTO_OK);
    get(ctx, p, "optimizer", "adagrad");
    assert_int_equal(facto_params_set(ctx, p, "optimizer", "sgd"), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, p, "bogus", "1"), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "bogus"));
    char buf[64];
    assert_int_equal(facto_params_get(ctx, p, "bogus", buf, sizeof buf), FACTO_ERR_NOT_FOUND);
    /* the dump reads back to the same values */
    char text[1024];
    size_t n = facto_params_format(p, text, sizeof text);
    assert_true(n > 0 && n < sizeof text);
    assert_non_null(strstr(text, "num_factors=64\n"));
    facto_params *q = params_of(ctx, "mf", NULL);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n'), *eq = strchr(line, '=');
        *nl = '\0';
        *eq = '\0';
        assert_int_equal(facto_params_set(ctx, q, line, eq + 1), FACTO_OK);
        line = nl + 1;
    }
    char again[1024];
    facto_params_format(p, text, sizeof text);
    facto_params_format(q, again, sizeof again);
    assert_string_equal(text, again);
    /* the table describes itself */
    assert_int_equal(facto_params_count(p), 11);
    facto_param_info info;
    assert_int_equal(facto_params_info(ctx, p, 0, &info), FACTO_OK);
    assert_string_equal(info.name, "num_factors");
    assert_string_equal(info.aliases, "factors");
    assert_string_equal(info.type, "int");
    assert_int_equal(facto_params_info(ctx, p, 2, &info), FACTO_OK);
    assert_string_equal(info.type, "choice");
    assert_string_equal(info.choices, "sgd|adam|adagrad");
    assert_int_equal(facto_params_info(ctx, p, 11, &info), FACTO_ERR_NOT_FOUND);
    assert_int_equal(facto_params_inputs(p), FACTO_INPUT_RATINGS);
    /* fm: required ones, and what a configuration trains on */
    facto_params *f = params_of(ctx, "fm", NULL);
    assert_int_equal(facto_params_validate(ctx, f), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "feature_dim"));
    assert_int_equal(facto_params_inputs(f), FACTO_INPUT_ROWS);
    assert_int_equal(facto_params_set(ctx, f, "solver", "mcmc"), FACTO_OK);
    assert_int_equal(facto_params_inputs(f), FACTO_INPUT_ROWS | FACTO_INPUT_RATINGS);
    facto_params *bad = NULL;
    assert_int_equal(facto_params_new(ctx, "nope", &bad), FACTO_ERR_NOT_FOUND);
    assert_non_null(strstr(facto_errmsg(ctx), "mf, fm"));
    assert_null(bad);
    /* the kinds this build knows */
    assert_int_equal(facto_model_kind_count(), 9);
    facto_kind_info k;
    assert_int_equal(facto_model_kind_info(ctx, 4, &k), FACTO_OK);
    assert_string_equal(k.name, "ease");
    assert_int_equal(k.kind, FACTO_MODEL_EASE);
    assert_int_equal(facto_model_kind_find(ctx, "fm", &k), FACTO_OK);
    assert_int_equal(k.kind, FACTO_MODEL_FM);
    assert_int_equal(k.train_inputs, FACTO_INPUT_ROWS | FACTO_INPUT_RATINGS);
    assert_int_equal(facto_model_kind_find(ctx, "ials", &k), FACTO_OK);
    assert_int_equal(k.kind, FACTO_MODEL_IALS);
    assert_int_equal(k.train_inputs, FACTO_INPUT_RATINGS);
    const char *rank_kinds[3] = {"bpr", "warp", "softmax"};
    const facto_model_kind rank_ids[3] = {FACTO_MODEL_BPR, FACTO_MODEL_WARP, FACTO_MODEL_SOFTMAX};
    for (int x = 0; x < 3; x++) {
        assert_int_equal(facto_model_kind_find(ctx, rank_kinds[x], &k), FACTO_OK);
        assert_int_equal(k.kind, rank_ids[x]);
        assert_int_equal(k.train_inputs, FACTO_INPUT_RATINGS);
        assert_string_equal(facto_model_kind_name(rank_ids[x]), rank_kinds[x]);
        assert_int_equal(k.thread_invariant, 0); /* Hogwild, or OpenBLAS's threaded products */
        facto_params *rp = NULL;
        assert_int_equal(facto_params_new(ctx, rank_kinds[x], &rp), FACTO_OK);
        assert_int_equal(facto_params_task(rp), FACTO_TASK_RANKING);
        facto_params_free(rp);
    }
    facto_params_free(p);
    facto_params_free(q);
    facto_params_free(f);
    facto_ctx_free(ctx);
}

static unsigned char *model_bytes(facto_ctx *ctx, const facto_model *m, const char *name, size_t *n)
{
    const char *path = fct_test_path(name);
    if (facto_model_save(ctx, m, path) != FACTO_OK)
        fail_msg("save: %s", facto_errmsg(ctx));
    return fct_test_slurp(path, n);
}

/* facto_model_fit is the typed fit: same bytes for MF; an FM from ratings
 * keeps its ids and its hyperparameters come back from the model. */
static void test_fit_generic(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    const char *mf_nv[] = {"num_factors", "6", "epochs", "4", "lr", "0.02", NULL};
    facto_params *p = params_of(ctx, "mf", mf_nv);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *a = NULL, *b = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &data, NULL, &a), FACTO_OK);
    facto_mf_params mp = facto_mf_params_default();
    mp.num_factors = 6;
    mp.epochs = 4;
    mp.learning_rate = 0.02f;
    assert_int_equal(facto_mf_fit(ctx, ds, NULL, &mp, NULL, &b), FACTO_OK);
    size_t na, nb;
    unsigned char *ba = model_bytes(ctx, a, "a.facto", &na), *bb = model_bytes(ctx, b, "b.facto", &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
    /* the model's own hyperparameters, by name */
    facto_params *back = NULL;
    assert_int_equal(facto_model_params(ctx, a, &back), FACTO_OK);
    char t1[1024], t2[1024];
    facto_params_format(back, t2, sizeof t2);
    /* reg_factors, unset in p, comes back as the value the data gave
     * (test_mf checks the rule); with it set, p reads the same */
    const char *reg = strstr(t2, "reg_factors=");
    assert_non_null(reg);
    char value[64];
    snprintf(value, sizeof value, "%.*s", (int)strcspn(reg + 12, "\n"), reg + 12);
    assert_true(strtod(value, NULL) > 0.0);
    assert_int_equal(facto_params_set(ctx, p, "reg_factors", value), FACTO_OK);
    facto_params_format(p, t1, sizeof t1);
    assert_string_equal(t1, t2);
    assert_int_equal(facto_model_task(a), FACTO_TASK_REGRESSION);
    assert_int_equal(facto_model_inputs(a), FACTO_INPUT_RATINGS);
    /* the wrong form of data is refused with what to give */
    facto_fit_data rows_only = {NULL, NULL, NULL, NULL, NULL, NULL};
    facto_model *c = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &rows_only, NULL, &c), FACTO_ERR_INVALID);
    assert_null(c);
    facto_params_free(back);
    facto_params_free(p);
    facto_model_free(a);
    facto_model_free(b);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Batch top-N equals the one-user call exactly; seen items are left out. */
static void check_topn(facto_ctx *ctx, const facto_model *m, const facto_dataset *train)
{
    const facto_idmap *users = facto_model_users(m);
    int32_t nu = facto_idmap_size(users);
    const char **ids = malloc(((size_t)nu + 1) * sizeof *ids);
    for (int32_t u = 0; u < nu; u++)
        ids[u] = facto_idmap_name(users, u);
    ids[nu] = "nobody";
    enum { K = 6 };
    facto_recommendation *batch = calloc(((size_t)nu + 1) * K, sizeof *batch);
    int *n_out = calloc((size_t)nu + 1, sizeof *n_out);
    for (int seen = 0; seen < 2; seen++) {
        facto_ctx_set_threads(ctx, seen ? 2 : 1);
        assert_int_equal(facto_model_recommend_batch(ctx, m, ids, nu + 1, K, seen, batch, n_out), FACTO_OK);
        assert_int_equal(n_out[nu], 0);
        const int64_t *row_ptr;
        const int32_t *items;
        facto_dataset_csr(train, &row_ptr, &items, NULL, NULL);
        for (int32_t u = 0; u < nu; u++) {
            facto_recommendation one[K];
            int n1 = -1;
            assert_int_equal(facto_model_recommend(ctx, m, ids[u], K, seen, one, &n1), FACTO_OK);
            assert_int_equal(n1, n_out[u]);
            assert_memory_equal(one, batch + (size_t)u * K, (size_t)n1 * sizeof *one);
            for (int x = 1; x < n1; x++)
                assert_true(one[x - 1].score >= one[x].score);
            if (seen)
                continue;
            /* the data set's own index of this user; items by id */
            int32_t tu = facto_idmap_find(facto_dataset_users(train), ids[u]);
            for (int x = 0; x < n1; x++) {
                const char *iid = facto_idmap_name(facto_model_items(m), one[x].item);
                int32_t ti = facto_idmap_find(facto_dataset_items(train), iid);
                for (int64_t e = row_ptr[tu]; e < row_ptr[tu + 1]; e++)
                    assert_int_not_equal(items[e], ti);
            }
        }
    }
    facto_recommendation one[K];
    int n1;
    assert_int_equal(facto_model_recommend(ctx, m, "nobody", K, 0, one, &n1), FACTO_ERR_NOT_FOUND);
    free(ids);
    free(batch);
    free(n_out);
}

static void test_topn_mf(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    const char *nv[] = {"num_factors", "8", "epochs", "10", NULL};
    facto_params *p = params_of(ctx, "mf", nv);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &data, NULL, &m), FACTO_OK);
    check_topn(ctx, m, ds);
    facto_params_free(p);
    facto_model_free(m);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Users in blocks of up to 256 rows of sgemm: whatever its place in a block
 * (BLAS sums edge and full row panels in other orders), each user's list
 * and scores equal its one-user call's, bit for bit. ials has no biases to
 * round the products' last bits away, as mf's mean and biases often do. */
static void test_topn_blocks(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("blocks.tsv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fct_test_rng = 11;
    for (int u = 0; u < 300; u++)
        for (int i = 0; i < 200; i++)
            if (fct_test_rnd() % 4 == 0)
                fprintf(f, "u%d\ti%d\t%d\n", u, i, 1 + (int)((u * 7 + i * 3) % 5));
    fclose(f);
    facto_dataset *ds = NULL;
    assert_int_equal(facto_dataset_read(ctx, path, NULL, &ds, NULL), FACTO_OK);
    const char *nv[] = {"num_factors", "8", "epochs", "3", NULL};
    facto_params *p = params_of(ctx, "ials", nv);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &data, NULL, &m), FACTO_OK);
    check_topn(ctx, m, ds);
    facto_params_free(p);
    facto_model_free(m);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* An FM trained from ratings (ALS, block form) predicts by id, recommends,
 * and refuses feature rows; its predictions equal evaluate's scores. */
static void test_fm_from_ratings(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    const char *nv[] = {"num_factors", "4", "predictor_type", "regressor", "solver", "als", "num_iter", "5",
                        "linear_wd", "1", "factors_wd", "1", NULL};
    facto_params *p = params_of(ctx, "fm", nv);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    if (facto_model_fit(ctx, p, &data, NULL, &m) != FACTO_OK)
        fail_msg("fit: %s", facto_errmsg(ctx));
    assert_int_equal(facto_model_inputs(m), FACTO_INPUT_RATINGS);
    check_topn(ctx, m, ds);
    /* saved and loaded, it recommends the same */
    const char *path = fct_test_path("fm.facto");
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    facto_model *l = NULL;
    assert_int_equal(facto_model_load(ctx, path, &l), FACTO_OK);
    facto_recommendation r1[5], r2[5];
    int n1, n2;
    assert_int_equal(facto_model_recommend(ctx, m, "u3", 5, 0, r1, &n1), FACTO_OK);
    assert_int_equal(facto_model_recommend(ctx, l, "u3", 5, 0, r2, &n2), FACTO_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(r1, r2, (size_t)n1 * sizeof *r1);
    /* predict by id = evaluate's score of the same pair */
    int64_t n = facto_dataset_n_ratings(ds);
    float *scores = malloc((size_t)n * sizeof *scores);
    facto_metrics met;
    assert_int_equal(facto_model_evaluate(ctx, l, ds, NULL, &met, scores), FACTO_OK);
    assert_int_equal(met.n, n);
    assert_true(met.rmse > 0 && met.rmse < 1.5);
    const int64_t *row_ptr;
    const int32_t *items;
    facto_dataset_csr(ds, &row_ptr, &items, NULL, NULL);
    float s;
    int flags = -1;
    assert_int_equal(facto_model_predict(ctx, l, facto_idmap_name(facto_dataset_users(ds), 0),
                                         facto_idmap_name(facto_dataset_items(ds), items[row_ptr[0]]), &s, &flags),
                     FACTO_OK);
    assert_true(s == scores[row_ptr[0]]);
    assert_int_equal(flags, 0);
    assert_int_equal(facto_model_predict(ctx, l, "nobody", "i1", &s, &flags), FACTO_OK);
    assert_int_equal(flags, FACTO_PRED_UNKNOWN_USER);
    /* not a rows model */
    facto_rows *rows = facto_rows_new(0, 1);
    assert_int_equal(facto_rows_push(ctx, rows, 0, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, rows, 3.0f), FACTO_OK);
    assert_int_equal(facto_model_predict_rows(ctx, l, rows, &s, NULL), FACTO_ERR_INVALID);
    assert_int_equal(facto_model_evaluate_rows(ctx, l, rows, &met), FACTO_ERR_INVALID);
    /* a regressor takes no threshold */
    facto_eval_options eo = facto_eval_options_default();
    eo.binarize = 4.0f;
    assert_int_equal(facto_model_evaluate(ctx, l, ds, &eo, &met, NULL), FACTO_ERR_INVALID);
    facto_rows_free(rows);
    free(scores);
    facto_params_free(p);
    facto_model_free(m);
    facto_model_free(l);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* What a program asks before training, so it never needs the kind: thread
 * invariance, the task and a description of a configuration; settings that
 * mean nothing for the data given are refused, and the generic fit from
 * ratings with implicit blocks gives the typed call's bytes. */
static void test_capabilities(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_kind_info mf, fm;
    assert_int_equal(facto_model_kind_find(ctx, "mf", &mf), FACTO_OK);
    assert_int_equal(facto_model_kind_find(ctx, "fm", &fm), FACTO_OK);
    assert_int_equal(mf.thread_invariant, FCT_MF_GRID); /* blocked SGD: g = 16 up to 16 threads */
    assert_int_equal(fm.thread_invariant, INT_MAX);
    const char *mf_nv[] = {"factors", "6", NULL};
    facto_params *pm = params_of(ctx, "mf", mf_nv);
    assert_int_equal(facto_params_task(pm), FACTO_TASK_REGRESSION);
    char text[512];
    size_t need = facto_params_describe(pm, text, sizeof text);
    assert_true(need > 0 && need < sizeof text);
    assert_non_null(strstr(text, "num_factors 6"));
    assert_int_equal(facto_params_describe(pm, NULL, 0), need);
    const char *fm_nv[] = {"num_factors", "4", "solver", "mcmc", "num_iter", "5", NULL};
    facto_params *pf = params_of(ctx, "fm", fm_nv);
    assert_int_equal(facto_params_task(pf), 0); /* predictor_type not set */
    assert_int_equal(facto_params_set(ctx, pf, "predictor_type", "binary_classifier"), FACTO_OK);
    assert_int_equal(facto_params_task(pf), FACTO_TASK_BINARY);
    facto_params_describe(pf, text, sizeof text);
    assert_non_null(strstr(text, "binary_classifier, solver mcmc, num_factors 4, 5 iterations\n"));
    assert_non_null(strstr(text, "mcmc: 4 chains of 5 iterations, pooled at the end"));
    assert_int_equal(facto_params_describe(NULL, text, sizeof text), 0);
    assert_string_equal(text, "");
    facto_dataset *ds = ratings(ctx);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    /* a classifier from ratings needs its threshold */
    assert_int_equal(facto_model_fit(ctx, pf, &data, NULL, &m), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "hyperparameter binarize"));
    /* implicit blocks need ratings in block form */
    assert_int_equal(facto_params_set(ctx, pf, "predictor_type", "regressor"), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, pf, "implicit", "user"), FACTO_OK);
    const char *sgd_nv[] = {"feature_dim", "9", "num_factors", "4", "predictor_type", "regressor", "implicit", "user",
                            NULL};
    facto_params *ps = params_of(ctx, "fm", sgd_nv);
    assert_int_equal(facto_params_validate(ctx, ps), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "hyperparameter implicit"));
    facto_params_free(ps);
    assert_int_equal(facto_params_set(ctx, pf, "mcmc_chains", "1"), FACTO_OK);
    /* ... and are refused on feature rows, as binarize is */
    facto_rows *rows = facto_rows_new(0, 1);
    assert_int_equal(facto_rows_push(ctx, rows, 0, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, rows, 3.0f), FACTO_OK);
    facto_fit_data rdata = {NULL, NULL, rows, NULL, NULL, NULL};
    assert_int_equal(facto_model_fit(ctx, pf, &rdata, NULL, &m), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "hyperparameter implicit"));
    /* the generic fit with implicit = the typed call with the option: same bytes */
    assert_int_equal(facto_model_fit(ctx, pf, &data, NULL, &m), FACTO_OK);
    facto_fm_params tp = facto_fm_params_default();
    tp.num_factors = 4;
    tp.predictor_type = FACTO_FM_REGRESSOR;
    tp.solver = FACTO_FM_SOLVER_MCMC;
    tp.num_iter = 5;
    tp.mcmc_chains = 1;
    facto_fm_ratings_options o = facto_fm_ratings_options_default();
    o.implicit = FACTO_FM_IMPLICIT_USER;
    facto_model *t = NULL;
    assert_int_equal(facto_fm_fit_ratings(ctx, ds, NULL, &o, &tp, NULL, &t, NULL), FACTO_OK);
    size_t na, nb;
    unsigned char *ba = model_bytes(ctx, m, "g.facto", &na), *bb = model_bytes(ctx, t, "t.facto", &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
    /* mf learns from ratings alone */
    facto_features *uf = NULL;
    const char *path = fct_test_path("users.attr");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "u1\tage:3\n");
    fclose(f);
    assert_int_equal(facto_features_read(ctx, path, &uf), FACTO_OK);
    facto_fit_data sdata = {ds, NULL, NULL, NULL, uf, NULL};
    facto_model *n = NULL;
    assert_int_equal(facto_model_fit(ctx, pm, &sdata, NULL, &n), FACTO_ERR_INVALID);
    assert_null(n);
    facto_features_free(uf);
    facto_rows_free(rows);
    facto_model_free(m);
    facto_model_free(t);
    facto_dataset_free(ds);
    facto_params_free(pm);
    facto_params_free(pf);
    facto_ctx_free(ctx);
}

/* Side features through facto_fit_data are the side files of the typed
 * call: the same model bytes, and the features change the model. */
static void test_fm_side_features(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    const char *side = fct_test_path("users.attr");
    FILE *f = fopen(side, "w");
    assert_non_null(f);
    for (int u = 0; u < 40; u++)
        fprintf(f, "u%d\tage:%d group=g%d\n", u, 20 + u % 7, u % 3);
    fclose(f);
    const char *nv[] = {"num_factors", "3", "predictor_type", "regressor", "solver", "mcmc", "num_iter", "6",
                        "mcmc_chains", "1", NULL};
    facto_params *p = params_of(ctx, "fm", nv);
    facto_features *uf = NULL;
    assert_int_equal(facto_features_read(ctx, side, &uf), FACTO_OK);
    facto_fit_data data = {ds, NULL, NULL, NULL, uf, NULL}, plain = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *a = NULL, *b = NULL, *c = NULL;
    if (facto_model_fit(ctx, p, &data, NULL, &a) != FACTO_OK)
        fail_msg("fit: %s", facto_errmsg(ctx));
    facto_fm_params fp = facto_fm_params_default();
    fp.num_factors = 3;
    fp.predictor_type = FACTO_FM_REGRESSOR;
    fp.solver = FACTO_FM_SOLVER_MCMC;
    fp.num_iter = 6;
    fp.mcmc_chains = 1;
    facto_fm_ratings_options o = facto_fm_ratings_options_default();
    o.user_file = side;
    assert_int_equal(facto_fm_fit_ratings(ctx, ds, NULL, &o, &fp, NULL, &b, NULL), FACTO_OK);
    assert_int_equal(facto_model_fit(ctx, p, &plain, NULL, &c), FACTO_OK);
    size_t na, nb, nc;
    unsigned char *ba = model_bytes(ctx, a, "sa.facto", &na), *bb = model_bytes(ctx, b, "sb.facto", &nb),
                  *bc = model_bytes(ctx, c, "sc.facto", &nc);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    assert_true(na != nc || memcmp(ba, bc, na) != 0);
    free(ba);
    free(bb);
    free(bc);
    facto_features_free(uf);
    facto_params_free(p);
    facto_model_free(a);
    facto_model_free(b);
    facto_model_free(c);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Similar items of a factor model = the cosine of its item factors, worked
 * out here from the model's own predictions (q_i . q_j through MF's dot
 * form is not public, so compare with a brute force over facto_model_similar
 * of every pair: symmetric, itself left out, ordered). */
static void test_similar(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    const char *nv[] = {"num_factors", "5", "epochs", "6", NULL};
    facto_params *p = params_of(ctx, "mf", nv);
    facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &data, NULL, &m), FACTO_OK);
    const facto_idmap *items = facto_model_items(m);
    int32_t ni = facto_idmap_size(items);
    facto_recommendation *all = calloc((size_t)ni, sizeof *all), top[5];
    float *sim = calloc((size_t)ni * (size_t)ni, sizeof *sim);
    for (int32_t i = 0; i < ni; i++) {
        int n = 0;
        assert_int_equal(facto_model_similar(ctx, m, facto_idmap_name(items, i), ni, all, &n), FACTO_OK);
        assert_int_equal(n, ni - 1);
        for (int x = 0; x < n; x++) {
            assert_int_not_equal(all[x].item, i);
            assert_true(all[x].score <= 1.0001f && all[x].score >= -1.0001f);
            if (x > 0)
                assert_true(all[x - 1].score >= all[x].score);
            sim[(size_t)i * (size_t)ni + (size_t)all[x].item] = all[x].score;
        }
        int k5 = 0;
        assert_int_equal(facto_model_similar(ctx, m, facto_idmap_name(items, i), 5, top, &k5), FACTO_OK);
        assert_int_equal(k5, 5);
        assert_memory_equal(top, all, 5 * sizeof *top);
    }
    for (int32_t i = 0; i < ni; i++)
        for (int32_t j = 0; j < ni; j++)
            assert_true(fabsf(sim[(size_t)i * (size_t)ni + (size_t)j] - sim[(size_t)j * (size_t)ni + (size_t)i]) < 1e-6f);
    int n = 0;
    assert_int_equal(facto_model_similar(ctx, m, "no such item", 5, top, &n), FACTO_ERR_NOT_FOUND);
    /* mf cannot fold a user in from a history */
    const char *hist[2] = {"i1", "i2"};
    assert_int_equal(facto_model_recommend_history(ctx, m, hist, NULL, 2, 5, top, &n, NULL), FACTO_ERR_INVALID);
    free(all);
    free(sim);
    facto_params_free(p);
    facto_model_free(m);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static int last_report(const facto_epoch_report *r, void *user_data)
{
    *(facto_epoch_report *)user_data = *r;
    return 0;
}

/* MCMC from ratings with several chains: the last epoch report carries the
 * pooled chains' running test RMSE, the figure the typed call returns. */
static void test_fm_pooled_chain(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    const char *nv[] = {"num_factors", "3", "predictor_type", "regressor", "solver", "mcmc", "num_iter", "6",
                        "mcmc_chains", "3", NULL};
    facto_params *p = params_of(ctx, "fm", nv);
    facto_fit_data data = {ds, ds, NULL, NULL, NULL, NULL};
    facto_epoch_report last;
    memset(&last, 0, sizeof last);
    facto_fit_callbacks cb = {last_report, NULL, &last};
    facto_model *a = NULL, *b = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &data, &cb, &a), FACTO_OK);
    facto_fm_params fp = facto_fm_params_default();
    fp.num_factors = 3;
    fp.predictor_type = FACTO_FM_REGRESSOR;
    fp.solver = FACTO_FM_SOLVER_MCMC;
    fp.num_iter = 6;
    fp.mcmc_chains = 3;
    double chain = NAN;
    assert_int_equal(facto_fm_fit_ratings(ctx, ds, ds, NULL, &fp, NULL, &b, &chain), FACTO_OK);
    assert_int_equal(last.epoch, 6);
    assert_true(isfinite(chain));
    assert_true(last.test_rmse_average == chain);
    facto_params_free(p);
    facto_model_free(a);
    facto_model_free(b);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_by_name),
        cmocka_unit_test(test_fit_generic),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_topn_mf),
        cmocka_unit_test(test_topn_blocks),
        cmocka_unit_test(test_fm_from_ratings),
        cmocka_unit_test(test_fm_side_features),
        cmocka_unit_test(test_similar),
        cmocka_unit_test(test_fm_pooled_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
