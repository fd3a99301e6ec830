/*
 * test_shared_model.c — the serving contract: one model, loaded once and
 * held const, is scored from several threads at once, each thread with its
 * own facto_ctx, and every answer equals the one a single thread gets.
 * For each kind (mf; fm from ratings, MCMC; fm on feature rows, MCMC
 * regressor and SGD classifier; the ranking kinds ease, ials and itemknn),
 * trained on small generated data, saved and loaded, the main thread first
 * computes the answers of a fixed workload (facto_model_predict over every
 * (user, item) pair plus unknown ids, facto_model_recommend for every user,
 * facto_model_recommend_batch, facto_model_similar for every item,
 * facto_model_evaluate with its scores, facto_model_recommend_history for
 * the kinds that fold a user in, facto_model_predict_rows and
 * facto_model_evaluate_rows for feature rows); then 4 pthreads run the same
 * workload 3 times each, all at once, and compare: bit for bit with 1
 * library thread per context, and again with 2 (OpenMP inside each call;
 * ranking metrics, summed per OpenMP thread, then within 1e-12).
 * `make tsan-test` runs this file under ThreadSanitizer (Makefile;
 * FACTO_TEST_MAX_THREADS=1 there leaves out the 2-thread pass when OpenMP
 * cannot be checked). Under a second in Release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "unit/testutil.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

enum { N_USERS = 60, N_ITEMS = 40, K = 10, K_SIM = 5, N_THREADS = 4, ROUNDS = 3 };

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_shared_model");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

/* ---- data ------------------------------------------------------------------------------- */

/* Ratings (implicit = 0: 1..5 from a rank-2 pattern) or interactions
 * (implicit = 1: weight 1, users in 3 taste groups) of N_USERS x N_ITEMS,
 * about 45% observed, written as "u<n> i<n> r"; 80% to train, 20% to test. */
static void write_data(int implicit, const char *train, const char *test)
{
    FILE *a = fopen(train, "w"), *b = fopen(test, "w");
    assert_non_null(a);
    assert_non_null(b);
    fct_test_rng = implicit ? 11 : 7;
    for (int u = 0; u < N_USERS; u++)
        for (int i = 0; i < N_ITEMS; i++) {
            double r;
            if (implicit) {
                if (fct_test_rnd() % 100 >= (i % 3 == u % 3 ? 60u : 8u))
                    continue;
                r = 1;
            } else {
                if (fct_test_rnd() % 100 >= 45)
                    continue;
                r = 3.0 + 1.2 * sin(u * 0.7) * cos(i * 0.4) + 0.8 * cos(u * 0.3) * sin(i * 1.1) + (u % 3) * 0.3;
                r = r < 1 ? 1 : r > 5 ? 5 : floor(r + 0.5);
            }
            fprintf(fct_test_rnd() % 5 ? a : b, "u%d\ti%d\t%.0f\n", u, i, r);
        }
    fclose(a);
    fclose(b);
}

static facto_dataset *read_data(facto_ctx *ctx, const char *path, int implicit)
{
    facto_read_options o = facto_read_options_default();
    o.implicit = implicit;
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, &o, &ds, NULL) != FACTO_OK)
        fail_msg("read %s: %s", path, facto_errmsg(ctx));
    return ds;
}

/* One-hot rows (user key, then item key, over the training maps) of ds, labelled with
 * the rating (or rating >= 4 when binary). */
static facto_rows *one_hot(facto_ctx *ctx, const facto_dataset *ds, const facto_dataset *train, int binary)
{
    const int32_t nu = facto_dataset_n_users(train);
    facto_rows *rows = facto_rows_new((uint64_t)nu + (uint64_t)facto_dataset_n_items(train), 1);
    const int64_t *rp;
    const int32_t *items;
    const float *r;
    facto_dataset_csr(ds, &rp, &items, &r, NULL);
    for (int32_t u = 0; u < facto_dataset_n_users(ds); u++) {
        int32_t tu = facto_idmap_find(facto_dataset_users(train), facto_idmap_name(facto_dataset_users(ds), u));
        for (int64_t j = rp[u]; j < rp[u + 1]; j++) {
            int32_t ti =
                facto_idmap_find(facto_dataset_items(train), facto_idmap_name(facto_dataset_items(ds), items[j]));
            if (tu >= 0)
                assert_int_equal(facto_rows_push(ctx, rows, (uint32_t)tu, 1.0f), FACTO_OK);
            if (ti >= 0)
                assert_int_equal(facto_rows_push(ctx, rows, (uint32_t)(nu + ti), 1.0f), FACTO_OK);
            assert_int_equal(facto_rows_finish_row(ctx, rows, binary ? (r[j] >= 4.0f ? 1.0f : 0.0f) : r[j]),
                             FACTO_OK);
        }
    }
    return rows;
}

/* Train `kind` with the name/value pairs nv on data, save it and load it back. */
static facto_model *trained_and_loaded(facto_ctx *ctx, const char *kind, const char *const *nv,
                                       const facto_fit_data *data)
{
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, kind, &p), FACTO_OK);
    for (int i = 0; nv && nv[i]; i += 2)
        if (facto_params_set(ctx, p, nv[i], nv[i + 1]) != FACTO_OK)
            fail_msg("%s=%s: %s", nv[i], nv[i + 1], facto_errmsg(ctx));
    facto_model *m = NULL, *l = NULL;
    if (facto_model_fit(ctx, p, data, NULL, &m) != FACTO_OK)
        fail_msg("fit %s: %s", kind, facto_errmsg(ctx));
    const char *path = fct_test_path("shared.facto");
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    if (facto_model_load(ctx, path, &l) != FACTO_OK)
        fail_msg("load %s: %s", kind, facto_errmsg(ctx));
    facto_model_free(m);
    facto_params_free(p);
    return l;
}

/* ---- the workload and its answers --------------------------------------------------------- */

/* What every thread is asked; all borrowed, read only. */
typedef struct workload {
    const facto_model *m;
    const facto_dataset *test;     /* evaluate (models with ids) */
    const facto_rows *rows;        /* predict_rows, evaluate_rows (models of feature rows) */
    const char *users[N_USERS + 1]; /* the model's users, then one it never saw */
    const char *items[N_ITEMS + 1];
    int n_users, n_items;          /* counts of the model's own, without the unknown one */
    int history;                   /* the kind folds a user in: recommend_history */
    int threads;                   /* facto_ctx_set_threads of every context */
} workload;

/* Everything one pass of the workload returns. */
typedef struct answers {
    facto_status st_predict, st_batch, st_eval, st_hist, st_rows, st_eval_rows;
    float pred[(N_USERS + 1) * (N_ITEMS + 1)];
    int pred_flags[(N_USERS + 1) * (N_ITEMS + 1)];
    facto_status st_rec[N_USERS + 1];
    int rec_n[N_USERS + 1];
    facto_recommendation rec[N_USERS + 1][K];
    int batch_n[N_USERS + 1];
    facto_recommendation batch[N_USERS + 1][K];
    facto_status st_sim[N_ITEMS + 1];
    int sim_n[N_ITEMS + 1];
    facto_recommendation sim[N_ITEMS + 1][K_SIM];
    facto_metrics met, met_rows;
    float *eval_scores; /* [test ratings] */
    int hist_n;
    int32_t hist_unknown;
    facto_recommendation hist[K];
    float *row_scores, *row_labels; /* [rows] */
} answers;

static answers *answers_new(const workload *w)
{
    answers *a = calloc(1, sizeof *a);
    assert_non_null(a);
    int64_t nt = w->test ? facto_dataset_n_ratings(w->test) : 1;
    int64_t nr = w->rows ? facto_rows_count(w->rows) : 1;
    a->eval_scores = calloc((size_t)nt, sizeof(float));
    a->row_scores = calloc((size_t)nr, sizeof(float));
    a->row_labels = calloc((size_t)nr, sizeof(float));
    assert_true(a->eval_scores && a->row_scores && a->row_labels);
    return a;
}

static void answers_free(answers *a)
{
    if (!a)
        return;
    free(a->eval_scores);
    free(a->row_scores);
    free(a->row_labels);
    free(a);
}

/* One pass of the workload on ctx; no cmocka assertion (threads call it). */
static void run(const workload *w, facto_ctx *ctx, answers *a)
{
    const facto_model *m = w->m;
    if (facto_model_users(m)) {
        a->st_predict = FACTO_OK;
        for (int u = 0; u <= w->n_users; u++)
            for (int i = 0; i <= w->n_items; i++) {
                size_t x = (size_t)u * (N_ITEMS + 1) + (size_t)i;
                facto_status st = facto_model_predict(ctx, m, w->users[u], w->items[i], &a->pred[x], &a->pred_flags[x]);
                if (st != FACTO_OK)
                    a->st_predict = st;
            }
        for (int u = 0; u <= w->n_users; u++)
            a->st_rec[u] = facto_model_recommend(ctx, m, w->users[u], K, u % 2, a->rec[u], &a->rec_n[u]);
        a->st_batch = facto_model_recommend_batch(ctx, m, w->users, w->n_users + 1, K, 0, &a->batch[0][0],
                                                  a->batch_n);
        for (int i = 0; i <= w->n_items; i++)
            a->st_sim[i] = facto_model_similar(ctx, m, w->items[i], K_SIM, a->sim[i], &a->sim_n[i]);
        int ranking = facto_model_task(m) == FACTO_TASK_RANKING;
        a->st_eval = facto_model_evaluate(ctx, m, w->test, NULL, &a->met, ranking ? NULL : a->eval_scores);
        if (w->history) {
            /* a user given by four of the items, and an item the model never saw */
            const char *h[] = {w->items[1], w->items[4], w->items[7], w->items[N_ITEMS / 2], w->items[w->n_items]};
            const float v[] = {1, 2, 1, 0.5f, 1};
            a->st_hist = facto_model_recommend_history(ctx, m, h, v, 5, K, a->hist, &a->hist_n, &a->hist_unknown);
        }
    }
    if (w->rows) {
        a->st_rows = facto_model_predict_rows(ctx, m, w->rows, a->row_scores, a->row_labels);
        a->st_eval_rows = facto_model_evaluate_rows(ctx, m, w->rows, &a->met_rows);
    }
}

/* Bitwise equality of doubles (NAN equals NAN), or within tol relative. */
static int same_double(double x, double y, double tol)
{
    if (memcmp(&x, &y, sizeof x) == 0)
        return 1;
    return tol > 0 && fabs(x - y) <= tol * (fabs(x) + fabs(y));
}

static int same_metrics(const facto_metrics *x, const facto_metrics *y, double tol)
{
    if (x->task != y->task || x->n != y->n || x->n_unknown_users != y->n_unknown_users ||
        x->n_unknown_items != y->n_unknown_items || x->n_users != y->n_users ||
        x->n_users_skipped != y->n_users_skipped || x->n_ranking != y->n_ranking)
        return 0;
    const double a[] = {x->rmse, x->mae, x->binary.accuracy, x->binary.cross_entropy, x->binary.f_beta,
                        x->binary.precision, x->binary.recall, x->binary.auc};
    const double b[] = {y->rmse, y->mae, y->binary.accuracy, y->binary.cross_entropy, y->binary.f_beta,
                        y->binary.precision, y->binary.recall, y->binary.auc};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (!same_double(a[i], b[i], 0))
            return 0;
    if (x->binary.n != y->binary.n || x->binary.n_positive != y->binary.n_positive)
        return 0;
    for (int r = 0; r < x->n_ranking; r++)
        if (strcmp(x->ranking[r].name, y->ranking[r].name) != 0 ||
            !same_double(x->ranking[r].value, y->ranking[r].value, tol))
            return 0;
    return 1;
}

/* NULL when a equals the reference ref, else what differs. `tol` applies
 * to ranking metrics only. */
static const char *differs(const workload *w, const answers *ref, const answers *a, double tol)
{
    if (a->st_predict != ref->st_predict || memcmp(a->pred, ref->pred, sizeof a->pred) != 0 ||
        memcmp(a->pred_flags, ref->pred_flags, sizeof a->pred_flags) != 0)
        return "facto_model_predict";
    for (int u = 0; u <= w->n_users; u++)
        if (a->st_rec[u] != ref->st_rec[u] || a->rec_n[u] != ref->rec_n[u] ||
            memcmp(a->rec[u], ref->rec[u], (size_t)a->rec_n[u] * sizeof a->rec[u][0]) != 0)
            return "facto_model_recommend";
    if (a->st_batch != ref->st_batch || memcmp(a->batch_n, ref->batch_n, sizeof a->batch_n) != 0)
        return "facto_model_recommend_batch";
    for (int u = 0; u <= w->n_users; u++)
        if (memcmp(a->batch[u], ref->batch[u], (size_t)a->batch_n[u] * sizeof a->batch[u][0]) != 0)
            return "facto_model_recommend_batch";
    for (int i = 0; i <= w->n_items; i++)
        if (a->st_sim[i] != ref->st_sim[i] || a->sim_n[i] != ref->sim_n[i] ||
            memcmp(a->sim[i], ref->sim[i], (size_t)a->sim_n[i] * sizeof a->sim[i][0]) != 0)
            return "facto_model_similar";
    if (a->st_eval != ref->st_eval || !same_metrics(&a->met, &ref->met, tol) ||
        (w->test && memcmp(a->eval_scores, ref->eval_scores,
                           (size_t)facto_dataset_n_ratings(w->test) * sizeof(float)) != 0))
        return "facto_model_evaluate";
    if (a->st_hist != ref->st_hist || a->hist_n != ref->hist_n || a->hist_unknown != ref->hist_unknown ||
        memcmp(a->hist, ref->hist, (size_t)a->hist_n * sizeof a->hist[0]) != 0)
        return "facto_model_recommend_history";
    if (w->rows) {
        size_t nr = (size_t)facto_rows_count(w->rows);
        if (a->st_rows != ref->st_rows || memcmp(a->row_scores, ref->row_scores, nr * sizeof(float)) != 0 ||
            memcmp(a->row_labels, ref->row_labels, nr * sizeof(float)) != 0)
            return "facto_model_predict_rows";
        if (a->st_eval_rows != ref->st_eval_rows || !same_metrics(&a->met_rows, &ref->met_rows, 0))
            return "facto_model_evaluate_rows";
    }
    return NULL;
}

typedef struct worker {
    pthread_t tid;
    const workload *w;
    const answers *ref;
    double tol;
    int rounds_done;
    const char *mismatch; /* first difference found, or NULL */
    int failed;           /* could not even start (no memory) */
} worker;

static void *worker_main(void *arg)
{
    worker *t = arg;
    facto_ctx *ctx = facto_ctx_new();
    answers *a = calloc(1, sizeof *a);
    int64_t nt = t->w->test ? facto_dataset_n_ratings(t->w->test) : 1;
    int64_t nr = t->w->rows ? facto_rows_count(t->w->rows) : 1;
    float *es = calloc((size_t)nt, sizeof(float)), *rs = calloc((size_t)nr, sizeof(float)),
          *rl = calloc((size_t)nr, sizeof(float));
    if (!ctx || !a || !es || !rs || !rl) {
        t->failed = 1;
    } else {
        facto_ctx_set_threads(ctx, t->w->threads);
        a->eval_scores = es;
        a->row_scores = rs;
        a->row_labels = rl;
        for (int r = 0; r < ROUNDS && !t->mismatch; r++) {
            run(t->w, ctx, a);
            t->mismatch = differs(t->w, t->ref, a, t->tol);
            t->rounds_done++;
        }
    }
    free(es);
    free(rs);
    free(rl);
    free(a);
    facto_ctx_free(ctx);
    return NULL;
}

/* The reference on this thread (1 library thread), then N_THREADS workers at
 * once, with 1 and with 2 library threads each. */
static void check_shared(const char *what, const facto_model *m, const facto_dataset *test, const facto_rows *rows)
{
    workload w;
    memset(&w, 0, sizeof w);
    w.m = m;
    w.test = test;
    w.rows = rows;
    const facto_idmap *users = facto_model_users(m), *items = facto_model_items(m);
    if (users) {
        w.n_users = facto_idmap_size(users) < N_USERS ? facto_idmap_size(users) : N_USERS;
        w.n_items = facto_idmap_size(items) < N_ITEMS ? facto_idmap_size(items) : N_ITEMS;
        for (int u = 0; u < w.n_users; u++)
            w.users[u] = facto_idmap_name(users, u);
        for (int i = 0; i < w.n_items; i++)
            w.items[i] = facto_idmap_name(items, i);
        w.users[w.n_users] = "nobody";
        w.items[w.n_items] = "nothing";
        w.history = facto_model_get_kind(m) != FACTO_MODEL_MF && facto_model_get_kind(m) != FACTO_MODEL_FM;
    }
    facto_ctx *ctx = facto_ctx_new();
    facto_ctx_set_threads(ctx, 1);
    answers *ref = answers_new(&w);
    w.threads = 1;
    run(&w, ctx, ref);
    /* the workload really ran: the calls that must succeed did */
    if (users) {
        assert_int_equal(ref->st_predict, FACTO_OK);
        assert_int_equal(ref->st_batch, FACTO_OK);
        assert_int_equal(ref->st_eval, FACTO_OK);
        assert_int_equal(ref->st_rec[0], FACTO_OK);
        assert_int_equal(ref->rec_n[0], K);
        assert_int_equal(ref->st_rec[w.n_users], FACTO_ERR_NOT_FOUND);
        assert_int_equal(ref->batch_n[w.n_users], 0);
        assert_int_equal(ref->st_sim[0], FACTO_OK);
        assert_int_equal(ref->sim_n[0], K_SIM);
        assert_true(ref->met.n > 0);
        if (w.history) {
            assert_int_equal(ref->st_hist, FACTO_OK);
            assert_int_equal(ref->hist_n, K);
            assert_int_equal(ref->hist_unknown, 1);
        }
    }
    if (rows) {
        assert_int_equal(ref->st_rows, FACTO_OK);
        assert_int_equal(ref->st_eval_rows, FACTO_OK);
    }
    /* the same answers again on this thread: the workload is deterministic */
    answers *again = answers_new(&w);
    run(&w, ctx, again);
    const char *d = differs(&w, ref, again, 0);
    if (d)
        fail_msg("%s: %s gives another answer on a second single-threaded pass", what, d);
    answers_free(again);
    /* FACTO_TEST_MAX_THREADS=1 (make tsan-test without Archer): 1 library thread only */
    const char *mt = getenv("FACTO_TEST_MAX_THREADS");
    const int max_threads = mt && *mt ? atoi(mt) : 2;
    for (int threads = 1; threads <= max_threads; threads++) {
        w.threads = threads;
        worker t[N_THREADS];
        memset(t, 0, sizeof t);
        for (int j = 0; j < N_THREADS; j++) {
            t[j].w = &w;
            t[j].ref = ref;
            t[j].tol = threads > 1 ? 1e-12 : 0;
            assert_int_equal(pthread_create(&t[j].tid, NULL, worker_main, &t[j]), 0);
        }
        for (int j = 0; j < N_THREADS; j++)
            assert_int_equal(pthread_join(t[j].tid, NULL), 0);
        for (int j = 0; j < N_THREADS; j++) {
            assert_int_equal(t[j].failed, 0);
            if (t[j].mismatch)
                fail_msg("%s, %d threads x %d library threads: thread %d, round %d: %s differs from the "
                         "single-threaded answer",
                         what, N_THREADS, threads, j, t[j].rounds_done, t[j].mismatch);
            assert_int_equal(t[j].rounds_done, ROUNDS);
        }
    }
    answers_free(ref);
    facto_ctx_free(ctx);
}

/* ---- the kinds -------------------------------------------------------------------------- */

static void test_mf(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    write_data(0, fct_test_path("r.train"), fct_test_path("r.test"));
    facto_dataset *tr = read_data(ctx, fct_test_path("r.train"), 0), *te = read_data(ctx, fct_test_path("r.test"), 0);
    const char *nv[] = {"num_factors", "8", "epochs", "8", NULL};
    facto_fit_data d = {tr, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = trained_and_loaded(ctx, "mf", nv, &d);
    check_shared("mf", m, te, NULL);
    facto_model_free(m);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_ctx_free(ctx);
}

static void test_fm_ratings(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    write_data(0, fct_test_path("r.train"), fct_test_path("r.test"));
    facto_dataset *tr = read_data(ctx, fct_test_path("r.train"), 0), *te = read_data(ctx, fct_test_path("r.test"), 0);
    const char *nv[] = {"num_factors", "4", "predictor_type", "regressor", "solver", "mcmc", "num_iter", "12",
                        "mcmc_chains", "2", NULL};
    facto_fit_data d = {tr, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = trained_and_loaded(ctx, "fm", nv, &d);
    assert_int_equal(facto_model_inputs(m), FACTO_INPUT_RATINGS);
    check_shared("fm from ratings (mcmc)", m, te, NULL);
    facto_model_free(m);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_ctx_free(ctx);
}

static void test_fm_rows(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    write_data(0, fct_test_path("r.train"), fct_test_path("r.test"));
    facto_dataset *tr = read_data(ctx, fct_test_path("r.train"), 0), *te = read_data(ctx, fct_test_path("r.test"), 0);
    for (int binary = 0; binary <= 1; binary++) {
        facto_rows *rtr = one_hot(ctx, tr, tr, binary), *rte = one_hot(ctx, te, tr, binary);
        const char *mcmc[] = {"num_factors", "4", "predictor_type", "regressor", "solver", "mcmc", "num_iter", "12",
                              NULL};
        const char *sgd[] = {"num_factors", "4", "predictor_type", "binary_classifier", "epochs", "5", NULL};
        facto_fit_data d = {NULL, NULL, rtr, NULL, NULL, NULL};
        facto_model *m = trained_and_loaded(ctx, "fm", binary ? sgd : mcmc, &d);
        assert_int_equal(facto_model_inputs(m), FACTO_INPUT_ROWS);
        check_shared(binary ? "fm on rows (sgd classifier)" : "fm on rows (mcmc regressor)", m, NULL, rte);
        facto_model_free(m);
        facto_rows_free(rtr);
        facto_rows_free(rte);
    }
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_ctx_free(ctx);
}

static void test_ranking_kinds(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    write_data(1, fct_test_path("i.train"), fct_test_path("i.test"));
    facto_dataset *tr = read_data(ctx, fct_test_path("i.train"), 1), *te = read_data(ctx, fct_test_path("i.test"), 1);
    const char *ease[] = {"reg", "20", NULL};
    const char *ials[] = {"num_factors", "8", "epochs", "4", NULL};
    const char *itemknn[] = {"neighbors", "10", NULL};
    const char *kinds[] = {"ease", "ials", "itemknn"};
    const char *const *nv[] = {ease, ials, itemknn};
    for (int k = 0; k < 3; k++) {
        facto_fit_data d = {tr, NULL, NULL, NULL, NULL, NULL};
        facto_model *m = trained_and_loaded(ctx, kinds[k], nv[k], &d);
        assert_int_equal(facto_model_task(m), FACTO_TASK_RANKING);
        check_shared(kinds[k], m, te, NULL);
        facto_model_free(m);
    }
    facto_dataset_free(tr);
    facto_dataset_free(te);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mf),
        cmocka_unit_test(test_fm_ratings),
        cmocka_unit_test(test_fm_rows),
        cmocka_unit_test(test_ranking_kinds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
