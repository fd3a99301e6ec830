/*
 * test_ials.c — iALS (src/models/ials.c, src/solvers/ials_cg.c,
 * src/train/fit_ials.c) and the shared implicit factor model
 * (src/models/factors.c). Independent checks: alternating exact solves
 * against this file's own dense solve of the same objective (every
 * (user, item) pair weighted in a dense matrix, Gaussian elimination in
 * double) on a tiny matrix, after each iteration, and the reported loss
 * against the dense objective; CG with k steps reaching the same values,
 * CG with 3 steps never raising the objective; fold-in of a training
 * user's own history (the same vector after an exact solve, nearly the
 * same list after CG); batch top-N = one-user top-N and no seen item
 * recommended; same bits for 1 and 2 threads; save -> load -> the same
 * scores and bytes; corrupt files refused naming the path; the kernels
 * against their scalar twins; and, with ml-100k in FACTO_DATA_HOME, NDCG@10
 * at the defaults on the protocol. About 3 s.
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

#include "facto.h"
#include "data/dataset.h"
#include "kernels/chol.h"
#include "kernels/kernels.h"
#include "models/ials.h"
#include "unit/testutil.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

/* A data set of (u<n>, i<n>, weight) triplets. */
static facto_dataset *make_ds(const int *users, const int *items, const float *w, int n)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *um = fct_idmap_new(), *im = fct_idmap_new();
    for (int x = 0; x < n; x++) {
        char ub[32], ib[32];
        snprintf(ub, sizeof ub, "u%d", users[x]);
        snprintf(ib, sizeof ib, "i%d", items[x]);
        int32_t u = fct_idmap_intern(um, ub, strlen(ub)), i = fct_idmap_intern(im, ib, strlen(ib));
        assert_true(u >= 0 && i >= 0);
        assert_int_equal(fct_coo_push(ctx, &coo, u, i, w ? w[x] : 1.0f, 0, 0), FACTO_OK);
    }
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, um, im, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return ds;
}

/* Clustered implicit data: users in `groups` groups, each group's users
 * interact with a random 60% of their group's block of items and 3% of the
 * rest; weights 1..3. */
static facto_dataset *make_clustered(int n_users, int n_items, int groups, uint64_t seed)
{
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    int cap = n_users * n_items, n = 0;
    int *us = malloc(sizeof(int) * (size_t)cap), *is = malloc(sizeof(int) * (size_t)cap);
    float *ws = malloc(sizeof(float) * (size_t)cap);
    for (int u = 0; u < n_users; u++) {
        int g = u % groups, have = 0;
        for (int i = 0; i < n_items; i++) {
            double p = i % groups == g ? 0.6 : 0.03;
            if (fct_rng_uniform(&rng) < p || (i == n_items - 1 && !have)) {
                us[n] = u;
                is[n] = i;
                ws[n] = (float)(1 + fct_rng_below(&rng, 3));
                n++;
                have = 1;
            }
        }
    }
    facto_dataset *ds = make_ds(us, is, ws, n);
    free(us);
    free(is);
    free(ws);
    return ds;
}

static facto_params *ials_params(facto_ctx *ctx, const char *const *kv)
{
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, "ials", &p), FACTO_OK);
    for (int x = 0; kv && kv[x]; x += 2)
        if (facto_params_set(ctx, p, kv[x], kv[x + 1]) != FACTO_OK)
            fail_msg("%s=%s: %s", kv[x], kv[x + 1], facto_errmsg(ctx));
    return p;
}

typedef struct loss_log {
    double loss[256];
    int n;
} loss_log;

static int log_loss(const facto_epoch_report *r, void *ud)
{
    loss_log *l = ud;
    assert_true(r->epoch == l->n + 1);
    assert_true(r->seconds >= 0.0 && isfinite(r->train_loss));
    assert_int_equal(r->train.task, FACTO_TASK_RANKING);
    l->loss[l->n++] = r->train_loss;
    return 0;
}

static fct_factors_model *fit_model(facto_ctx *ctx, const facto_dataset *train, const char *const *kv,
                                    loss_log *log)
{
    facto_params *p = ials_params(ctx, kv);
    facto_fit_data fd = {train, NULL, NULL, NULL, NULL, NULL};
    facto_fit_callbacks cb = {log_loss, NULL, log};
    facto_model *m = NULL;
    if (facto_model_fit(ctx, p, &fd, log ? &cb : NULL, &m) != FACTO_OK)
        fail_msg("fit: %s", facto_errmsg(ctx));
    facto_params_free(p);
    assert_int_equal(facto_model_get_kind(m), FACTO_MODEL_IALS);
    assert_int_equal(facto_model_task(m), FACTO_TASK_RANKING);
    return (fct_factors_model *)m;
}

/* ---- the dense reference ------------------------------------------------------ */

/* Solve A x = b (A [n, n], row-major, destroyed) by Gaussian elimination
 * with partial pivoting, in double. */
static void gauss_solve(double *A, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[piv * n + c]))
                piv = r;
        for (int j = 0; j < n; j++) {
            double t = A[c * n + j];
            A[c * n + j] = A[piv * n + j];
            A[piv * n + j] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (int r = c + 1; r < n; r++) {
            double f = A[r * n + c] / A[c * n + c];
            for (int j = c; j < n; j++)
                A[r * n + j] -= f * A[c * n + j];
            b[r] -= f * b[c];
        }
    }
    for (int r = n - 1; r >= 0; r--) {
        double s = b[r];
        for (int j = r + 1; j < n; j++)
            s -= A[r * n + j] * b[j];
        b[r] = s / A[r * n + r];
    }
}

/* The objective over a dense weight matrix W [nu, ni] and 0/1 targets P:
 * sum W (P - <U_u, V_i>)^2 + sum_u lu |U_u|^2 + sum_i li |V_i|^2. */
typedef struct dense_problem {
    int nu, ni, k;
    double *W, *P;    /* [nu * ni] */
    double *lu, *li;  /* L2 weight per user / item */
    double *U, *V;    /* [nu * k], [ni * k] */
} dense_problem;

static void dense_set_up(dense_problem *d, const facto_dataset *ds, int k, double alpha, double a0, double reg,
                         double nu)
{
    d->nu = ds->n_users;
    d->ni = ds->n_items;
    d->k = k;
    d->W = calloc((size_t)d->nu * d->ni, sizeof(double));
    d->P = calloc((size_t)d->nu * d->ni, sizeof(double));
    d->lu = calloc((size_t)d->nu, sizeof(double));
    d->li = calloc((size_t)d->ni, sizeof(double));
    d->U = calloc((size_t)d->nu * k, sizeof(double));
    d->V = calloc((size_t)d->ni * k, sizeof(double));
    int *cu = calloc((size_t)d->nu, sizeof(int)), *ci = calloc((size_t)d->ni, sizeof(int));
    for (int x = 0; x < d->nu * d->ni; x++)
        d->W[x] = a0;
    for (int u = 0; u < d->nu; u++)
        for (int64_t x = ds->row_ptr[u]; x < ds->row_ptr[u + 1]; x++) {
            int i = ds->items[x];
            d->W[u * d->ni + i] = 1.0 + alpha * ds->ratings[x];
            d->P[u * d->ni + i] = 1.0;
            cu[u]++;
            ci[i]++;
        }
    for (int u = 0; u < d->nu; u++)
        d->lu[u] = reg * pow(cu[u] + a0 * d->ni, nu);
    for (int i = 0; i < d->ni; i++)
        d->li[i] = reg * pow(ci[i] + a0 * d->nu, nu);
    free(cu);
    free(ci);
}

static void dense_free(dense_problem *d)
{
    free(d->W);
    free(d->P);
    free(d->lu);
    free(d->li);
    free(d->U);
    free(d->V);
}

/* Re-solve every row of X (rows of `rows`) against the fixed Y. by_user: X = U. */
static void dense_half(dense_problem *d, int by_user)
{
    const int k = d->k, nr = by_user ? d->nu : d->ni, no = by_user ? d->ni : d->nu;
    double *X = by_user ? d->U : d->V, *Y = by_user ? d->V : d->U, *lam = by_user ? d->lu : d->li;
    double *A = malloc(sizeof(double) * k * k), *b = malloc(sizeof(double) * k);
    for (int r = 0; r < nr; r++) {
        memset(A, 0, sizeof(double) * k * k);
        memset(b, 0, sizeof(double) * k);
        for (int o = 0; o < no; o++) {
            int at = by_user ? r * d->ni + o : o * d->ni + r;
            const double *y = Y + o * k;
            for (int f = 0; f < k; f++) {
                for (int g = 0; g < k; g++)
                    A[f * k + g] += d->W[at] * y[f] * y[g];
                b[f] += d->W[at] * d->P[at] * y[f];
            }
        }
        for (int f = 0; f < k; f++)
            A[f * k + f] += lam[r];
        gauss_solve(A, b, k);
        memcpy(X + r * k, b, sizeof(double) * k);
    }
    free(A);
    free(b);
}

static double dense_objective(const dense_problem *d)
{
    double J = 0.0;
    const int k = d->k;
    for (int u = 0; u < d->nu; u++)
        for (int i = 0; i < d->ni; i++) {
            double s = 0.0;
            for (int f = 0; f < k; f++)
                s += d->U[u * k + f] * d->V[i * k + f];
            J += d->W[u * d->ni + i] * (d->P[u * d->ni + i] - s) * (d->P[u * d->ni + i] - s);
        }
    for (int u = 0; u < d->nu; u++)
        for (int f = 0; f < k; f++)
            J += d->lu[u] * d->U[u * k + f] * d->U[u * k + f];
    for (int i = 0; i < d->ni; i++)
        for (int f = 0; f < k; f++)
            J += d->li[i] * d->V[i * k + f] * d->V[i * k + f];
    return J;
}

/* The model's initial factors: U then V from N(0, (init_std / sqrt k)^2). */
static void dense_init(dense_problem *d, uint64_t seed, double init_std)
{
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    const double sd = init_std / sqrt((double)d->k);
    for (int x = 0; x < d->nu * d->k; x++)
        d->U[x] = (float)(sd * fct_rng_normal(&rng));
    for (int x = 0; x < d->ni * d->k; x++)
        d->V[x] = (float)(sd * fct_rng_normal(&rng));
}

static double max_rel_diff(const float *a, const double *b, int n)
{
    double scale = 0.0, diff = 0.0;
    for (int x = 0; x < n; x++) {
        scale = fmax(scale, fabs(b[x]));
        diff = fmax(diff, fabs((double)a[x] - b[x]));
    }
    return diff / (scale > 0.0 ? scale : 1.0);
}

/* The tiny problem: 7 users, 6 items, 19 pairs with weights 1..3. */
static facto_dataset *tiny(void)
{
    static const int us[] = {0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 6};
    static const int is[] = {0, 1, 4, 1, 2, 0, 3, 5, 2, 4, 0, 1, 2, 5, 3, 4, 1, 3, 5};
    static const float ws[] = {1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 3};
    return make_ds(us, is, ws, 19);
}

/* ---- tests ---------------------------------------------------------------- */

/* Exact alternating solves = the dense reference, iteration by iteration
 * (items first, then users), and the reported loss = the dense objective. */
static void test_exact_matches_dense(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_ctx_set_threads(ctx, 1);
    facto_dataset *ds = tiny();
    dense_problem d;
    dense_set_up(&d, ds, 3, 0.7, 0.3, 0.05, 0.5);
    dense_init(&d, 7, 0.5);
    for (int it = 1; it <= 4; it++) {
        char ep[8];
        snprintf(ep, sizeof ep, "%d", it);
        const char *kv[] = {"num_factors", "3", "alpha", "0.7", "unobserved_weight", "0.3", "reg", "0.05",
                            "reg_exponent", "0.5", "cg_steps", "0", "init_std", "0.5", "seed", "7", "epochs", ep,
                            NULL};
        loss_log log = {{0}, 0};
        fct_factors_model *m = fit_model(ctx, ds, kv, &log);
        dense_half(&d, 0);
        dense_half(&d, 1);
        assert_true(max_rel_diff(m->V, d.V, d.ni * 3) < 2e-5);
        assert_true(max_rel_diff(m->U, d.U, d.nu * 3) < 2e-5);
        double J = dense_objective(&d);
        assert_int_equal(log.n, it);
        assert_true(fabs(log.loss[it - 1] * (double)ds->n_ratings - J) < 1e-5 * J);
        facto_model_free(&m->base);
    }
    /* The objective only goes down. */
    const char *kv[] = {"num_factors", "3", "alpha", "0.7", "unobserved_weight", "0.3", "reg", "0.05",
                        "reg_exponent", "0.5", "cg_steps", "0", "init_std", "0.5", "seed", "7", "epochs", "20", NULL};
    loss_log log = {{0}, 0};
    fct_factors_model *m = fit_model(ctx, ds, kv, &log);
    for (int x = 1; x < log.n; x++)
        assert_true(log.loss[x] <= log.loss[x - 1] * (1.0 + 1e-6));
    facto_model_free(&m->base);
    dense_free(&d);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* CG converges to the exact row solve: with 2k steps a row (k would do in
 * exact arithmetic; in float, k = 6 steps leave 5e-3 of |U|, 12 leave 6e-7)
 * it follows the exact solves iteration by iteration; 3 steps,
 * warm-started, never raise the objective and approach the exact run's. */
static void test_cg_converges(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_clustered(40, 30, 4, 11);
    const char *exact[] = {"num_factors", "6", "alpha", "1", "unobserved_weight", "0.2", "reg", "0.02",
                           "cg_steps", "0", "epochs", "5", "init_std", "1", NULL};
    const char *cgk[] = {"num_factors", "6", "alpha", "1", "unobserved_weight", "0.2", "reg", "0.02",
                         "cg_steps", "12", "epochs", "5", "init_std", "1", NULL};
    loss_log le = {{0}, 0}, lk = {{0}, 0};
    fct_factors_model *me = fit_model(ctx, ds, exact, &le), *mk = fit_model(ctx, ds, cgk, &lk);
    double du = 0.0, su = 0.0;
    for (int x = 0; x < me->n_users * 6; x++) {
        du = fmax(du, fabs(me->U[x] - mk->U[x]));
        su = fmax(su, fabs(me->U[x]));
    }
    assert_true(du < 1e-4 * su);
    for (int x = 0; x < 5; x++)
        assert_true(fabs(le.loss[x] - lk.loss[x]) < 1e-6 * le.loss[x]);
    facto_model_free(&mk->base);
    /* 3 steps a row: monotone, and at the exact run's objective after 150 iterations. */
    const char *cg3[] = {"num_factors", "6", "alpha", "1", "unobserved_weight", "0.2", "reg", "0.02",
                         "cg_steps", "3", "epochs", "150", "init_std", "1", NULL};
    const char *ex150[] = {"num_factors", "6", "alpha", "1", "unobserved_weight", "0.2", "reg", "0.02",
                          "cg_steps", "0", "epochs", "150", "init_std", "1", NULL};
    loss_log l3 = {{0}, 0}, l150 = {{0}, 0};
    fct_factors_model *m3 = fit_model(ctx, ds, cg3, &l3), *m150 = fit_model(ctx, ds, ex150, &l150);
    for (int x = 1; x < l3.n; x++)
        assert_true(l3.loss[x] <= l3.loss[x - 1] * (1.0 + 1e-6));
    /* measured: 0.206636404 and 0.206636412 (after 40 iterations 1e-3 apart) */
    assert_true(fabs(l3.loss[149] - l150.loss[149]) < 1e-6 * l150.loss[149]);
    facto_model_free(&m3->base);
    facto_model_free(&m150->base);
    facto_model_free(&me->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* The exact solve of one row (fct_factors_solve_row) against Gaussian
 * elimination of the same normal equations, and the kernels against their
 * scalar twins. */
static void test_row_solve_and_kernels(void **state)
{
    (void)state;
    const int k = 5, n_rows = 9;
    float Y[45], G[25];
    fct_test_rng = 99;
    for (int x = 0; x < 45; x++)
        Y[x] = (float)((int)(fct_test_rnd() % 2001) - 1000) / 1000.0f;
    for (int f = 0; f < k; f++)
        for (int g = 0; g < k; g++) {
            double s = 0.0;
            for (int r = 0; r < n_rows; r++)
                s += (double)Y[r * k + f] * Y[r * k + g];
            G[f * k + g] = (float)s;
        }
    const int32_t idx[4] = {1, 4, 6, 8};
    const float val[4] = {1.0f, 2.5f, 0.0f, 4.0f};
    double work[30], A[25], b[5];
    float x[5];
    const float a0 = 0.4f, lam = 0.3f, alpha = 0.8f;
    assert_int_equal(fct_factors_solve_row(Y, n_rows, k, G, a0, lam, alpha, idx, val, 4, work, x), 0);
    /* reference: sum over every row with its weight, dense */
    memset(A, 0, sizeof A);
    memset(b, 0, sizeof b);
    for (int r = 0; r < n_rows; r++) {
        double w = a0, t = 0.0;
        for (int j = 0; j < 4; j++)
            if (idx[j] == r) {
                w = 1.0 + alpha * val[j];
                t = 1.0;
            }
        for (int f = 0; f < k; f++) {
            for (int g = 0; g < k; g++)
                A[f * k + g] += w * Y[r * k + f] * Y[r * k + g];
            b[f] += w * t * Y[r * k + f];
        }
    }
    for (int f = 0; f < k; f++)
        A[f * k + f] += lam;
    gauss_solve(A, b, k);
    for (int f = 0; f < k; f++)
        assert_true(fabs(x[f] - b[f]) < 1e-5 * (1.0 + fabs(b[f])));
    /* Not positive definite: refused, x = 0. */
    float Z[25] = {0};
    assert_int_equal(fct_factors_solve_row(Z, 5, k, Z, 0.0f, 0.0f, 0.0f, idx, NULL, 0, work, x), -1);
    for (int f = 0; f < k; f++)
        assert_true(x[f] == 0.0f);
    /* rows_apply and symv: AVX2 = scalar to rounding, for k with and without a tail. */
    for (int kk = 1; kk <= 70; kk += 3) {
        float X[20 * 70], d[70], y1[70], y2[70], a[20], w[20], Gk[70 * 70];
        int32_t ix[20];
        for (int r = 0; r < 20 * kk; r++)
            X[r] = (float)((int)(fct_test_rnd() % 2001) - 1000) / 1000.0f;
        for (int f = 0; f < kk; f++)
            d[f] = (float)((int)(fct_test_rnd() % 2001) - 1000) / 1000.0f;
        for (int f = 0; f < kk; f++)
            for (int g = 0; g <= f; g++)
                Gk[f * kk + g] = Gk[g * kk + f] = (float)((int)(fct_test_rnd() % 2001) - 1000) / 1000.0f;
        for (int r = 0; r < 20; r++) {
            a[r] = (float)r / 7.0f;
            w[r] = 1.0f - (float)r / 9.0f;
            ix[r] = (int32_t)((r * 7) % 20);
        }
        for (int n = 0; n <= 11; n += 11 - n > 4 ? 5 : 1) {
            for (int use_idx = 0; use_idx < 2; use_idx++) {
                for (int f = 0; f < kk; f++)
                    y1[f] = y2[f] = (float)f;
                fct_rows_apply_scalar(X, kk, use_idx ? ix : NULL, n, use_idx ? a : NULL, w, -1.5f, d, kk, y1);
                if (fct_kernel_path_detect() == FACTO_KERNEL_AVX2)
                    fct_rows_apply_avx2(X, kk, use_idx ? ix : NULL, n, use_idx ? a : NULL, w, -1.5f, d, kk, y2);
                else
                    fct_rows_apply_scalar(X, kk, use_idx ? ix : NULL, n, use_idx ? a : NULL, w, -1.5f, d, kk, y2);
                /* by hand */
                double ref[70];
                for (int f = 0; f < kk; f++)
                    ref[f] = f;
                for (int j = 0; j < n; j++) {
                    const float *row = X + (use_idx ? ix[j] : j) * kk;
                    double t = 0.0;
                    for (int f = 0; f < kk; f++)
                        t += (double)row[f] * d[f];
                    double c = (use_idx ? a[j] : 0.0) - 1.5 * w[j] * t;
                    for (int f = 0; f < kk; f++)
                        ref[f] += c * row[f];
                }
                for (int f = 0; f < kk; f++) {
                    assert_true(fabs(y1[f] - ref[f]) < 1e-4 * (1.0 + fabs(ref[f])));
                    assert_true(fabs(y2[f] - ref[f]) < 1e-4 * (1.0 + fabs(ref[f])));
                }
            }
        }
        fct_symv_scalar(Gk, kk, 0.5f, -2.0f, d, y1);
        if (fct_kernel_path_detect() == FACTO_KERNEL_AVX2)
            fct_symv_avx2(Gk, kk, 0.5f, -2.0f, d, y2);
        else
            fct_symv_scalar(Gk, kk, 0.5f, -2.0f, d, y2);
        for (int f = 0; f < kk; f++) {
            double t = 0.0;
            for (int g = 0; g < kk; g++)
                t += (double)Gk[f * kk + g] * d[g];
            double ref = 0.5 * t - 2.0 * d[f];
            assert_true(fabs(y1[f] - ref) < 1e-4 * (1.0 + fabs(ref)));
            assert_true(fabs(y2[f] - ref) < 1e-4 * (1.0 + fabs(ref)));
        }
    }
}

/* The history of training user u (model item ids and weights) as a query. */
static fct_query history_of(const fct_factors_model *m, const facto_dataset *ds, int32_t u)
{
    fct_query q = {-1, (int32_t)(ds->row_ptr[u + 1] - ds->row_ptr[u]), ds->items + ds->row_ptr[u],
                   ds->ratings + ds->row_ptr[u], 0, NULL, NULL};
    (void)m;
    return q;
}

/* Fold-in of a training user's own history: the trained vector after exact
 * solves (items first, then users: the last user solve is against the
 * final V); nearly the same top-10 after CG. */
static void test_fold_in(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_clustered(60, 50, 5, 3);
    const char *exact[] = {"num_factors", "8", "alpha", "0.5", "cg_steps", "0", "epochs", "6", NULL};
    fct_factors_model *m = fit_model(ctx, ds, exact, NULL);
    const int32_t ni = m->n_items;
    float *s_user = malloc(sizeof(float) * (size_t)ni), *s_hist = malloc(sizeof(float) * (size_t)ni);
    for (int32_t u = 0; u < ds->n_users; u++) {
        fct_query qu = fct_query_user(u), qh = history_of(m, ds, u);
        assert_int_equal(m->base.ops->score(ctx, &m->base, &qu, NULL, 0, FCT_SCORE_RAW, s_user), FACTO_OK);
        assert_int_equal(m->base.ops->score(ctx, &m->base, &qh, NULL, 0, FCT_SCORE_RAW, s_hist), FACTO_OK);
        for (int32_t i = 0; i < ni; i++)
            assert_true(fabs(s_user[i] - s_hist[i]) < 1e-5 * (1.0 + fabs(s_user[i])));
    }
    facto_model_free(&m->base);
    /* CG (the defaults but k 8): through the public calls, top-10 overlap. */
    const char *cg[] = {"num_factors", "8", "alpha", "0.5", NULL};
    m = fit_model(ctx, ds, cg, NULL);
    int overlap = 0, total = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        facto_recommendation a[10], b[10];
        int na = 0, nb = 0;
        const int64_t n = ds->row_ptr[u + 1] - ds->row_ptr[u];
        const char **names = malloc(sizeof(char *) * (size_t)n);
        for (int64_t x = 0; x < n; x++)
            names[x] = facto_idmap_name(ds->item_map, ds->items[ds->row_ptr[u] + x]);
        assert_int_equal(facto_model_recommend(ctx, &m->base, facto_idmap_name(ds->user_map, u), 10, 0, a, &na),
                         FACTO_OK);
        int32_t unknown = -1;
        assert_int_equal(facto_model_recommend_history(ctx, &m->base, names, ds->ratings + ds->row_ptr[u],
                                                       (int32_t)n, 10, b, &nb, &unknown),
                         FACTO_OK);
        assert_int_equal(unknown, 0);
        assert_int_equal(na, nb);
        for (int x = 0; x < na; x++)
            for (int y = 0; y < nb; y++)
                overlap += a[x].item == b[y].item;
        total += na;
        free(names);
    }
    assert_true(overlap >= 0.9 * total);
    /* A bad history value is refused; unknown items are ignored. */
    int32_t items[2] = {0, ni + 5};
    float bad[2] = {-1.0f, 1.0f}, good[2] = {1.0f, 1.0f};
    fct_query q = {-1, 2, items, bad, 0, NULL, NULL};
    assert_int_equal(m->base.ops->score(ctx, &m->base, &q, NULL, 0, FCT_SCORE_RAW, s_hist), FACTO_ERR_INVALID);
    q.history_values = good;
    assert_int_equal(m->base.ops->score(ctx, &m->base, &q, NULL, 0, FCT_SCORE_RAW, s_hist), FACTO_OK);
    fct_query q1 = {-1, 1, items, good, 0, NULL, NULL};
    assert_int_equal(m->base.ops->score(ctx, &m->base, &q1, NULL, 0, FCT_SCORE_RAW, s_user), FACTO_OK);
    for (int32_t i = 0; i < ni; i++)
        assert_true(s_user[i] == s_hist[i]);
    /* Nothing: the mean user. */
    fct_query none = {-1, 0, NULL, NULL, 0, NULL, NULL};
    assert_int_equal(m->base.ops->score(ctx, &m->base, &none, NULL, 0, FCT_SCORE_RAW, s_user), FACTO_OK);
    for (int32_t i = 0; i < ni; i++) {
        double ref = 0.0;
        for (int f = 0; f < 8; f++) {
            double mean = 0.0;
            for (int32_t u = 0; u < m->n_users; u++)
                mean += m->U[u * 8 + f];
            ref += mean / m->n_users * m->V[i * 8 + f];
        }
        assert_true(fabs(s_user[i] - ref) < 1e-5);
    }
    /* A feature row is not a query this kind takes. */
    uint32_t key = 1;
    float one = 1.0f;
    fct_query row = {-1, 0, NULL, NULL, 1, &key, &one};
    assert_int_equal(m->base.ops->score(ctx, &m->base, &row, NULL, 0, FCT_SCORE_RAW, s_user), FACTO_ERR_INVALID);
    free(s_user);
    free(s_hist);
    facto_model_free(&m->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Batch top-N = one-user top-N bit for bit; seen items never recommended,
 * even with k = every item; similar items by the cosine of V. */
static void test_topn(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_clustered(50, 40, 4, 5);
    const char *kv[] = {"num_factors", "6", NULL};
    fct_factors_model *m = fit_model(ctx, ds, kv, NULL);
    const int k = m->n_items, nu = ds->n_users;
    const char **names = malloc(sizeof(char *) * (size_t)nu);
    for (int u = 0; u < nu; u++)
        names[u] = facto_idmap_name(ds->user_map, u);
    facto_recommendation *all = malloc(sizeof *all * (size_t)nu * (size_t)k), *one = malloc(sizeof *one * (size_t)k);
    int *n_all = malloc(sizeof(int) * (size_t)nu), n_one = 0;
    assert_int_equal(facto_model_recommend_batch(ctx, &m->base, names, nu, k, 0, all, n_all), FACTO_OK);
    for (int u = 0; u < nu; u++) {
        assert_int_equal(facto_model_recommend(ctx, &m->base, names[u], k, 0, one, &n_one), FACTO_OK);
        assert_int_equal(n_one, n_all[u]);
        const int64_t n_seen = ds->row_ptr[u + 1] - ds->row_ptr[u];
        assert_int_equal(n_one, k - n_seen);
        for (int r = 0; r < n_one; r++) {
            assert_int_equal(one[r].item, all[(size_t)u * k + r].item);
            assert_memory_equal(&one[r].score, &all[(size_t)u * k + r].score, sizeof(float));
            for (int64_t x = ds->row_ptr[u]; x < ds->row_ptr[u + 1]; x++)
                assert_int_not_equal(one[r].item, ds->items[x]);
            if (r > 0)
                assert_true(one[r - 1].score >= one[r].score);
        }
    }
    /* similar: the item-similarity op is the cosine of V rows */
    float *sim = malloc(sizeof(float) * (size_t)k);
    assert_int_equal(m->base.ops->item_similarity(ctx, &m->base, 3, sim), FACTO_OK);
    for (int j = 0; j < k; j++) {
        double d = 0, a = 0, b = 0;
        for (int f = 0; f < 6; f++) {
            d += (double)m->V[3 * 6 + f] * m->V[j * 6 + f];
            a += (double)m->V[3 * 6 + f] * m->V[3 * 6 + f];
            b += (double)m->V[j * 6 + f] * m->V[j * 6 + f];
        }
        assert_true(fabs(sim[j] - d / sqrt(a * b)) < 1e-5);
    }
    facto_recommendation near[5];
    int n_near = 0;
    assert_int_equal(facto_model_similar(ctx, &m->base, facto_idmap_name(ds->item_map, 3), 5, near, &n_near),
                     FACTO_OK);
    assert_int_equal(n_near, 5);
    for (int r = 0; r < 5; r++) {
        assert_int_not_equal(near[r].item, 3);
        assert_true(fabs(near[r].score - sim[near[r].item]) < 1e-6);
    }
    free(sim);
    free(names);
    free(all);
    free(one);
    free(n_all);
    facto_model_free(&m->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = fct_test_slurp(a, &na), *y = fct_test_slurp(b, &nb);
    int same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* Same bits for 1 and 2 threads; save -> load -> same scores, same bytes. */
static void test_threads_and_save_load(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_clustered(80, 60, 4, 9);
    const char *kv[] = {"num_factors", "16", "epochs", "4", NULL};
    facto_ctx_set_threads(ctx, 1);
    fct_factors_model *m1 = fit_model(ctx, ds, kv, NULL);
    facto_ctx_set_threads(ctx, 2);
    fct_factors_model *m2 = fit_model(ctx, ds, kv, NULL);
    const char *p1 = fct_test_path("t1.facto"), *p2 = fct_test_path("t2.facto"), *p3 = fct_test_path("t3.facto");
    assert_int_equal(facto_model_save(ctx, &m1->base, p1), FACTO_OK);
    assert_int_equal(facto_model_save(ctx, &m2->base, p2), FACTO_OK);
    assert_true(same_file(p1, p2));
    facto_model *l = NULL;
    assert_int_equal(facto_model_load(ctx, p1, &l), FACTO_OK);
    assert_int_equal(facto_model_get_kind(l), FACTO_MODEL_IALS);
    assert_int_equal(facto_model_task(l), FACTO_TASK_RANKING);
    assert_int_equal(facto_model_save(ctx, l, p3), FACTO_OK);
    assert_true(same_file(p1, p3));
    const int32_t ni = m1->n_items;
    float *a = malloc(sizeof(float) * (size_t)ni), *b = malloc(sizeof(float) * (size_t)ni);
    for (int32_t u = -1; u < m1->n_users; u++) {
        fct_query q = u >= 0 ? fct_query_user(u) : history_of(m1, ds, 0);
        assert_int_equal(m1->base.ops->score(ctx, &m1->base, &q, NULL, 0, FCT_SCORE_PREDICT, a), FACTO_OK);
        assert_int_equal(l->ops->score(ctx, l, &q, NULL, 0, FCT_SCORE_PREDICT, b), FACTO_OK);
        assert_memory_equal(a, b, sizeof(float) * (size_t)ni);
    }
    facto_params *pp = NULL;
    char buf[64];
    assert_int_equal(facto_model_params(ctx, l, &pp), FACTO_OK);
    assert_int_equal(facto_params_get(ctx, pp, "num_factors", buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, "16");
    facto_params_free(pp);
    free(a);
    free(b);
    facto_model_free(l);
    facto_model_free(&m1->base);
    facto_model_free(&m2->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Copy the model file at src to dst with section `tag` replaced by bytes
 * [n] (NULL with n 0: dropped; a tag src lacks: added). */
static void rewrite_section(const char *src, const char *dst, uint32_t tag, const void *bytes, size_t n, int drop)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_mfile_reader *r = NULL;
    fct_mfile_writer *w = NULL;
    assert_int_equal(fct_mfile_open(ctx, src, &r), FACTO_OK);
    assert_int_equal(fct_mfile_create(ctx, dst, fct_mfile_kind(r), &w), FACTO_OK);
    int done = 0;
    for (int32_t s = 0; s < fct_mfile_n_sections(r); s++) {
        uint32_t t;
        uint64_t nb;
        const void *data;
        assert_int_equal(fct_mfile_section(r, s, &t, &nb), FACTO_OK);
        assert_int_equal(fct_mfile_get(ctx, r, t, -1, &data, &nb), FACTO_OK);
        if (t == tag) {
            done = 1;
            if (!drop)
                assert_int_equal(fct_mfile_put(ctx, w, t, bytes, n), FACTO_OK);
        } else {
            assert_int_equal(fct_mfile_put(ctx, w, t, data, nb), FACTO_OK);
        }
    }
    if (!done && !drop)
        assert_int_equal(fct_mfile_put(ctx, w, tag, bytes, n), FACTO_OK);
    assert_int_equal(fct_mfile_commit(ctx, w), FACTO_OK);
    fct_mfile_close(r);
    facto_ctx_free(ctx);
}

static void section_copy(const char *path, uint32_t tag, unsigned char **out, size_t *n)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_mfile_reader *r = NULL;
    const void *data;
    uint64_t nb;
    assert_int_equal(fct_mfile_open(ctx, path, &r), FACTO_OK);
    assert_int_equal(fct_mfile_get(ctx, r, tag, -1, &data, &nb), FACTO_OK);
    *out = malloc((size_t)nb + 1);
    memcpy(*out, data, (size_t)nb);
    *n = (size_t)nb;
    fct_mfile_close(r);
    facto_ctx_free(ctx);
}

static void expect_corrupt(facto_ctx *ctx, const char *path)
{
    facto_model *l = (facto_model *)0x1;
    assert_int_equal(facto_model_load(ctx, path, &l), FACTO_ERR_CORRUPT);
    assert_null(l);
    assert_non_null(strstr(facto_errmsg(ctx), path));
}

#define TAG(a, b, c, d) FACTO_TAG(a, b, c, d)

/* Every check of the loader: a checksummed file whose sections disagree
 * is refused as corrupt, naming the path. */
static void test_corrupt_refused(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_clustered(20, 15, 3, 4);
    const char *kv[] = {"num_factors", "4", "epochs", "2", NULL};
    fct_factors_model *m = fit_model(ctx, ds, kv, NULL);
    const char *good = fct_test_path("good.facto"), *bad = fct_test_path("bad.facto");
    assert_int_equal(facto_model_save(ctx, &m->base, good), FACTO_OK);
    unsigned char *head, *sp, *si, *pr;
    size_t nh, nsp, nsi, npr;
    section_copy(good, TAG('F', 'C', 'H', 'D'), &head, &nh);
    section_copy(good, TAG('F', 'C', 'S', 'P'), &sp, &nsp);
    section_copy(good, TAG('F', 'C', 'S', 'I'), &si, &nsi);
    section_copy(good, TAG('F', 'C', 'P', 'R'), &pr, &npr);
    assert_int_equal(nh, 48);
    unsigned char h[48];
    /* header fields: layout, users, items, k, bias flag, fold-in settings, reserved, seen count */
    const struct {
        int off;
        uint32_t v;
    } edits[] = {{0, 2}, {4, 21}, {4, 0x80000000u}, {8, 14}, {12, 5}, {12, 0}, {16, 1}, {16, 7}, {20, 0xbf800000u},
                 {24, 0x7fc00000u}, {28, 0x7f800000u}, {36, 1}, {40, 3}};
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        memcpy(h, head, 48);
        fct_le_store_u32(h + edits[e].off, edits[e].v);
        rewrite_section(good, bad, TAG('F', 'C', 'H', 'D'), h, 48, 0);
        expect_corrupt(ctx, bad);
    }
    /* a header of the wrong size, a missing factor section, a bias section without the flag */
    rewrite_section(good, bad, TAG('F', 'C', 'H', 'D'), head, 44, 0);
    expect_corrupt(ctx, bad);
    rewrite_section(good, bad, TAG('F', 'C', 'V', 'F'), NULL, 0, 1);
    expect_corrupt(ctx, bad);
    float bias[15] = {0};
    rewrite_section(good, bad, TAG('F', 'C', 'I', 'B'), bias, sizeof(float) * (size_t)m->n_items, 0);
    expect_corrupt(ctx, bad);
    /* factors that are not finite */
    float *V = malloc(sizeof(float) * (size_t)m->n_items * 4);
    memcpy(V, m->V, sizeof(float) * (size_t)m->n_items * 4);
    V[5] = NAN;
    rewrite_section(good, bad, TAG('F', 'C', 'V', 'F'), V, sizeof(float) * (size_t)m->n_items * 4, 0);
    expect_corrupt(ctx, bad);
    V[5] = INFINITY;
    rewrite_section(good, bad, TAG('F', 'C', 'V', 'F'), V, sizeof(float) * (size_t)m->n_items * 4, 0);
    expect_corrupt(ctx, bad);
    assert_non_null(strstr(facto_errmsg(ctx), "item factors hold a value that is not finite"));
    /* finite factors whose scores overflow float (a model trained with
     * init_std 1e30 before the divergence check) */
    V[5] = 1e30f;
    rewrite_section(good, bad, TAG('F', 'C', 'V', 'F'), V, sizeof(float) * (size_t)m->n_items * 4, 0);
    expect_corrupt(ctx, bad);
    assert_non_null(strstr(facto_errmsg(ctx), "scores overflow float"));
    free(V);
    /* seen lists: an item out of range, out of order, offsets that do not add up */
    int32_t *items = malloc(nsi);
    memcpy(items, si, nsi);
    items[0] = m->n_items;
    rewrite_section(good, bad, TAG('F', 'C', 'S', 'I'), items, nsi, 0);
    expect_corrupt(ctx, bad);
    memcpy(items, si, nsi);
    items[1] = items[0];
    rewrite_section(good, bad, TAG('F', 'C', 'S', 'I'), items, nsi, 0);
    expect_corrupt(ctx, bad);
    free(items);
    int64_t *ptr = malloc(nsp);
    memcpy(ptr, sp, nsp);
    ptr[1] = ptr[2] + 1;
    rewrite_section(good, bad, TAG('F', 'C', 'S', 'P'), ptr, nsp, 0);
    expect_corrupt(ctx, bad);
    free(ptr);
    /* hyperparameters: a bad value, an unknown name, a k that disagrees */
    const char *texts[] = {"num_factors=4\nreg=-1\n", "num_factors=4\nnope=3\n", "num_factors=8\n", "garbage"};
    for (int t = 0; t < 4; t++) {
        rewrite_section(good, bad, TAG('F', 'C', 'P', 'R'), texts[t], strlen(texts[t]), 0);
        expect_corrupt(ctx, bad);
    }
    /* id maps that do not match the header */
    facto_idmap *small = fct_idmap_new();
    fct_idmap_intern(small, "x", 1);
    {
        facto_ctx *c2 = facto_ctx_new();
        fct_mfile_reader *r = NULL;
        fct_mfile_writer *w = NULL;
        assert_int_equal(fct_mfile_open(c2, good, &r), FACTO_OK);
        assert_int_equal(fct_mfile_create(c2, bad, fct_mfile_kind(r), &w), FACTO_OK);
        for (int32_t s = 0; s < fct_mfile_n_sections(r); s++) {
            uint32_t t;
            uint64_t nb;
            const void *data;
            assert_int_equal(fct_mfile_section(r, s, &t, &nb), FACTO_OK);
            assert_int_equal(fct_mfile_get(c2, r, t, -1, &data, &nb), FACTO_OK);
            if (t == TAG('F', 'C', 'I', 'T'))
                assert_int_equal(fct_model_put_idmap(c2, w, t, small), FACTO_OK);
            else
                assert_int_equal(fct_mfile_put(c2, w, t, data, nb), FACTO_OK);
        }
        assert_int_equal(fct_mfile_commit(c2, w), FACTO_OK);
        fct_mfile_close(r);
        facto_ctx_free(c2);
    }
    expect_corrupt(ctx, bad);
    fct_idmap_free(small);
    /* and the good file still loads */
    facto_model *l = NULL;
    assert_int_equal(facto_model_load(ctx, good, &l), FACTO_OK);
    facto_model_free(l);
    free(head);
    free(sp);
    free(si);
    free(pr);
    facto_model_free(&m->base);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Bad input: negative or non-finite weights, feature rows, no data, bad params. */
static void test_errors(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const int us[] = {0, 0, 1}, is[] = {0, 1, 1};
    const float neg[] = {1, -2, 1}, nan_w[] = {1, NAN, 1};
    facto_params *p = ials_params(ctx, NULL);
    facto_model *m = (facto_model *)0x1;
    for (int c = 0; c < 2; c++) {
        facto_dataset *ds = make_ds(us, is, c ? nan_w : neg, 3);
        facto_fit_data fd = {ds, NULL, NULL, NULL, NULL, NULL};
        assert_int_equal(facto_model_fit(ctx, p, &fd, NULL, &m), FACTO_ERR_INVALID);
        assert_null(m);
        assert_non_null(strstr(facto_errmsg(ctx), "u0"));
        facto_dataset_free(ds);
    }
    facto_fit_data none = {NULL, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(facto_model_fit(ctx, p, &none, NULL, &m), FACTO_ERR_INVALID);
    assert_int_equal(facto_params_set(ctx, p, "reg", "0"), FACTO_ERR_INVALID);
    assert_int_equal(facto_params_set(ctx, p, "cg_steps", "-1"), FACTO_ERR_INVALID);
    assert_int_equal(facto_params_set(ctx, p, "alpha0", "0.5"), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, p, "nu", "0.5"), FACTO_OK);
    assert_int_equal(facto_params_set(ctx, p, "iterations", "3"), FACTO_OK);
    char buf[64];
    assert_int_equal(facto_params_get(ctx, p, "unobserved_weight", buf, sizeof buf), FACTO_OK);
    assert_string_equal(buf, "0.5");
    facto_params_free(p);
    facto_ctx_free(ctx);
}

/* ml-100k read as implicit data with threshold 4, per-user:0.2 seed 1 (the
 * issue's protocol): NDCG@10 at the defaults. Measured over model seeds
 * 1..10: 0.3254..0.3272 (mean 0.3266, sd 0.0005); EASE (lambda 200) on the
 * same split 0.3247, the library's ease at its defaults 0.3215. The bound, 0.318, is the lowest seed less 15 s.d.,
 * above 0.95 x EASE (0.308). */
static void test_ml100k(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u.data");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *all = NULL, *train = NULL, *test = NULL;
    facto_read_options ro = facto_read_options_default();
    ro.implicit = 1;
    ro.implicit_threshold = 4.0;
    assert_int_equal(facto_dataset_read(ctx, path, &ro, &all, NULL), FACTO_OK);
    facto_split sp = {FACTO_SPLIT_PER_USER, 0.2, 0, 0, 1};
    assert_int_equal(facto_dataset_split(ctx, all, &sp, &train, &test), FACTO_OK);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)fct_test_seed(0));
    const char *kv[] = {"seed", seed, NULL};
    fct_factors_model *m = fit_model(ctx, train, getenv("FACTO_TEST_SEED") ? kv : NULL, NULL);
    facto_eval_options eo = facto_eval_options_default();
    eo.metrics = "ndcg@10,recall@20";
    facto_metrics fm;
    assert_int_equal(facto_model_evaluate(ctx, &m->base, test, &eo, &fm, NULL), FACTO_OK);
    double ndcg = facto_metrics_get(&fm, "ndcg@10");
    print_message("ml-100k ials defaults: ndcg@10 %.5f recall@20 %.5f (%lld users)\n", ndcg,
                  facto_metrics_get(&fm, "recall@20"), (long long)fm.n_users);
    /* seeds 1-10 (tests/measure-bounds): 0.32539-0.32721, mean 0.32655, sd
     * 0.00052; bound mean - 4 sd rounded down (docs/testing.md) */
    assert_true(ndcg >= 0.324);
    facto_model_free(&m->base);
    facto_dataset_free(all);
    facto_dataset_free(train);
    facto_dataset_free(test);
    facto_ctx_free(ctx);
}

static int group_setup(void **state)
{
    (void)state;
    return fct_test_dir_make("fct_ials");
}

static int group_teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_matches_dense),
        cmocka_unit_test(test_cg_converges),
        cmocka_unit_test(test_row_solve_and_kernels),
        cmocka_unit_test(test_fold_in),
        cmocka_unit_test(test_topn),
        cmocka_unit_test(test_threads_and_save_load),
        cmocka_unit_test(test_corrupt_refused),
        cmocka_unit_test(test_errors),
        fct_data_test(test_ml100k),
    };
    return fct_run_tests(tests, group_setup, group_teardown);
}
