/*
 * ials_bench.c — iALS training speed on synthetic data the size of
 * MovieLens-20M's ratings >= 4 (138,493 users x 26,744 items x 10,000,000
 * interactions), generated in memory with a fixed seed:
 *   - item popularity Zipf-like: item i (0-based) drawn with probability
 *     proportional to (i + 50)^-1.05 (a user takes an item once): with the
 *     default sizes the most popular item has 27,402 interactions and every
 *     item at least one;
 *   - user activity long-tailed: Pareto with shape 1.5 and minimum 10,
 *     capped at 5,000, then scaled so the counts add up to exactly the
 *     interaction total;
 *   - each user's items drawn without repetition from the popularity law.
 * Then `ials` with num_factors k (default 64), cg_steps 3, on T threads
 * (default 2), for N iterations: per-iteration seconds (the two
 * half-iterations, the report's `seconds`), their median, and the
 * effective GFLOP/s from the flop count of the solver
 *   per half: n_other k (k + 1)                         (Gram, ssyrk)
 *           + (cg_steps + 1) (4 nnz k + 2 n_rows k^2)   (rows_apply, symv)
 * beside OpenBLAS sgemm's measured GFLOP/s on the same threads (square
 * 2048 products, best of 3), and the load average after the run.
 * Usage: ials_bench [--users N] [--items N] [--nnz N] [--k K] [--iters N]
 *                   [--threads T] [--cg-steps S] [--seed S] [--no-sgemm]
 * Prints "iteration I: S s" lines and a summary line.
 */
#include "facto.h"
#include "data/dataset.h"
#include "kernels/blas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, facto_ctx *ctx)
{
    fprintf(stderr, "ials_bench: %s%s%s\n", what, ctx ? ": " : "", ctx ? facto_errmsg(ctx) : "");
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The synthetic data set, built through the COO builder (ids "u<n>", "i<n>"). */
static facto_dataset *make_data(int32_t n_users, int32_t n_items, int64_t nnz, uint64_t seed)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    /* Item law: CDF of (i + 50)^-1.05. */
    double *cdf = malloc((size_t)n_items * sizeof *cdf);
    double acc = 0.0;
    for (int32_t i = 0; i < n_items; i++) {
        acc += pow((double)i + 50.0, -1.05);
        cdf[i] = acc;
    }
    for (int32_t i = 0; i < n_items; i++)
        cdf[i] /= acc;
    /* User activity: Pareto(1.5, 10) capped at 5000, scaled to nnz. */
    int64_t *cnt = malloc((size_t)n_users * sizeof *cnt);
    double total = 0.0;
    double *raw = malloc((size_t)n_users * sizeof *raw);
    const double cap = n_items / 2 < 5000 ? n_items / 2 : 5000;
    for (int32_t u = 0; u < n_users; u++) {
        double x = 10.0 / pow(1.0 - fct_rng_uniform(&rng), 1.0 / 1.5);
        raw[u] = x < cap ? x : cap;
        total += raw[u];
    }
    int64_t sum = 0;
    for (int32_t u = 0; u < n_users; u++) {
        double c = raw[u] * (double)nnz / total;
        cnt[u] = c < 1.0 ? 1 : c > cap ? (int64_t)cap : (int64_t)c;
        sum += cnt[u];
    }
    for (int32_t u = 0; sum != nnz; u = (u + 1) % n_users) { /* exact total */
        if (sum < nnz && cnt[u] < cap) {
            cnt[u]++;
            sum++;
        } else if (sum > nnz && cnt[u] > 1) {
            cnt[u]--;
            sum--;
        }
    }
    free(raw);
    facto_idmap *us = fct_idmap_new(), *is = fct_idmap_new();
    char name[32];
    for (int32_t u = 0; u < n_users; u++) {
        int len = snprintf(name, sizeof name, "u%d", (int)u);
        fct_idmap_intern(us, name, (size_t)len);
    }
    for (int32_t i = 0; i < n_items; i++) {
        int len = snprintf(name, sizeof name, "i%d", (int)i);
        fct_idmap_intern(is, name, (size_t)len);
    }
    fct_coo coo;
    fct_coo_init(&coo);
    int32_t *stamp = calloc((size_t)n_items, sizeof *stamp);
    for (int32_t u = 0; u < n_users; u++) {
        for (int64_t got = 0; got < cnt[u];) {
            double r = fct_rng_uniform(&rng);
            int32_t lo = 0, hi = n_items - 1;
            while (lo < hi) {
                int32_t mid = lo + (hi - lo) / 2;
                if (cdf[mid] > r)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            if (stamp[lo] == u + 1)
                continue;
            stamp[lo] = u + 1;
            if (fct_coo_push(ctx, &coo, u, lo, 1.0f, 0, 0) != FACTO_OK)
                die("coo", ctx);
            got++;
        }
    }
    free(stamp);
    free(cnt);
    free(cdf);
    facto_dataset *ds = NULL;
    if (fct_dataset_from_coo(ctx, &coo, us, is, &ds, NULL) != FACTO_OK)
        die("dataset", ctx);
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return ds;
}

typedef struct bench_state {
    double secs[1024];
    int n;
} bench_state;

static int on_epoch(const facto_epoch_report *r, void *user)
{
    bench_state *b = user;
    if (b->n < 1024)
        b->secs[b->n++] = r->seconds;
    printf("iteration %d: %.3f s  (loss per pair %.5f)\n", r->epoch, r->seconds, r->train_loss);
    fflush(stdout);
    return 0;
}

/* sgemm GFLOP/s on `threads` threads: C = A B^T, square n, best of 3. */
static double sgemm_gflops(int threads, int n)
{
    float *A = malloc((size_t)n * n * sizeof *A), *B = malloc((size_t)n * n * sizeof *B),
          *C = malloc((size_t)n * n * sizeof *C);
    for (size_t x = 0; x < (size_t)n * n; x++) {
        A[x] = (float)((x * 2654435761u) % 1000) / 1000.0f;
        B[x] = (float)((x * 40503u) % 1000) / 1000.0f;
    }
    fct_blas_set_threads(threads);
    fct_sgemm_nt(n, n, n, A, n, B, n, C, n); /* warm-up */
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        fct_sgemm_nt(n, n, n, A, n, B, n, C, n);
        double t = now() - t0;
        best = t < best ? t : best;
    }
    free(A);
    free(B);
    free(C);
    return 2.0 * n * (double)n * n / best * 1e-9;
}

int main(int argc, char **argv)
{
    int32_t n_users = 138493, n_items = 26744, k = 64, iters = 5, threads = 2, cg = 3;
    int64_t nnz = 10000000;
    uint64_t seed = 1;
    int do_sgemm = 1;
    for (int a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(argv[a], "--users") && v)
            n_users = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--items") && v)
            n_items = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--nnz") && v)
            nnz = atoll(argv[++a]);
        else if (!strcmp(argv[a], "--k") && v)
            k = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--iters") && v)
            iters = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--threads") && v)
            threads = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--cg-steps") && v)
            cg = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--seed") && v)
            seed = strtoull(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--no-sgemm"))
            do_sgemm = 0;
        else {
            fprintf(stderr, "usage: ials_bench [--users N] [--items N] [--nnz N] [--k K] [--iters N] [--threads T] "
                            "[--cg-steps S] [--seed S] [--no-sgemm]\n");
            return 2;
        }
    }
    if ((int64_t)n_users * (n_items / 2 < 5000 ? n_items / 2 : 5000) < nnz || n_users < 1 || n_items < 2) {
        fprintf(stderr, "ials_bench: %lld interactions do not fit %d users x %d items\n", (long long)nnz,
                (int)n_users, (int)n_items);
        return 2;
    }
    double t0 = now();
    facto_dataset *ds = make_data(n_users, n_items, nnz, seed);
    const int64_t *rp;
    const int32_t *it;
    const float *rt;
    facto_dataset_csr(ds, &rp, &it, &rt, NULL);
    int64_t max_u = 0, *icnt = calloc((size_t)n_items, sizeof *icnt);
    for (int32_t u = 0; u < n_users; u++)
        max_u = rp[u + 1] - rp[u] > max_u ? rp[u + 1] - rp[u] : max_u;
    for (int64_t x = 0; x < nnz; x++)
        icnt[it[x]]++;
    int64_t max_i = 0, zero_i = 0;
    for (int32_t i = 0; i < n_items; i++) {
        max_i = icnt[i] > max_i ? icnt[i] : max_i;
        zero_i += icnt[i] == 0;
    }
    free(icnt);
    printf("data: %d users x %d items x %lld interactions (seed %llu, %.1f s to generate); busiest user %lld, "
           "most popular item %lld, items without any %lld\n",
           facto_dataset_n_users(ds), facto_dataset_n_items(ds), (long long)facto_dataset_n_ratings(ds),
           (unsigned long long)seed, now() - t0, (long long)max_u, (long long)max_i, (long long)zero_i);

    facto_ctx *ctx = facto_ctx_new();
    facto_ctx_set_threads(ctx, threads);
    facto_params *p = NULL;
    char buf[32];
    if (facto_params_new(ctx, "ials", &p) != FACTO_OK)
        die("params", ctx);
    snprintf(buf, sizeof buf, "%d", k);
    facto_params_set(ctx, p, "num_factors", buf);
    snprintf(buf, sizeof buf, "%d", iters);
    facto_params_set(ctx, p, "epochs", buf);
    snprintf(buf, sizeof buf, "%d", cg);
    facto_params_set(ctx, p, "cg_steps", buf);
    bench_state st = {{0}, 0};
    facto_fit_callbacks cb = {on_epoch, NULL, &st};
    facto_fit_data fd = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    double tf = now();
    if (facto_model_fit(ctx, p, &fd, &cb, &m) != FACTO_OK)
        die("fit", ctx);
    double fit_secs = now() - tf;
    const double nu = facto_dataset_n_users(ds), ni = facto_dataset_n_items(ds), kk = k, nz = (double)nnz;
    const double flops =
        (nu + ni) * kk * (kk + 1) + (cg + 1) * (8.0 * nz * kk + 2.0 * (nu + ni) * kk * kk);
    double med = median(st.secs, st.n);
    double gemm = do_sgemm ? sgemm_gflops(threads, 2048) : NAN;
    double load[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = NAN;
        fclose(f);
    }
    printf("ials k %d, cg_steps %d, %d threads: median %.3f s per iteration over %d (fit %.1f s with the loss "
           "reports), %.2f GFLOP/s effective (%.1f GFLOP an iteration); OpenBLAS sgemm 2048^3 on %d threads %.1f "
           "GFLOP/s; load average %.2f %.2f %.2f\n",
           k, cg, threads, med, st.n, fit_secs, flops / med * 1e-9, flops * 1e-9, threads, gemm, load[0], load[1],
           load[2]);
    facto_model_free(m);
    facto_params_free(p);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
    return 0;
}
