/*
 * test_kernels.c — the vector kernels (src/kernels) and the small eval
 * helpers (RMSE/MAE, top-k heap). Each kernel is checked against a double
 * precision reference on lengths 0..67 (all tail cases of the 8- and 16-wide
 * loops) and unaligned pointers; the AVX2 path (when the CPU has it) must
 * agree with the scalar one to float rounding, and the kernel table must
 * hold the path fct_kernel_path_set asks for. Top-k is checked against a
 * full sort on random scores with ties. Runs in milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "facto.h"
#include "core/internal.h"
#include "metrics/metrics.h"
#include "eval/topn.h"
#include "kernels/kernels.h"

#define MAXN 67

static void fill(fct_rng *rng, float *a, int n)
{
    for (int f = 0; f < n; f++)
        a[f] = (float)(2.0 * fct_rng_uniform(rng) - 1.0);
}

static double ref_dot(const float *a, const float *b, int n)
{
    double s = 0;
    for (int f = 0; f < n; f++)
        s += (double)a[f] * b[f];
    return s;
}

/* Tolerance for a float sum of n products of values in [-1, 1]. */
static double tol(int n) { return 1e-6 * (n + 1); }

static void check_dot(float (*dot)(const float *, const float *, int))
{
    fct_rng rng;
    fct_rng_seed(&rng, 7);
    float buf_a[MAXN + 1], buf_b[MAXN + 1];
    for (int n = 0; n <= MAXN; n++) {
        float *a = buf_a + 1, *b = buf_b + 1; /* deliberately unaligned */
        fill(&rng, a, n);
        fill(&rng, b, n);
        assert_true(fabs((double)dot(a, b, n) - ref_dot(a, b, n)) <= tol(n));
    }
}

static void check_axpy(void (*axpy)(float, const float *, float *, int))
{
    fct_rng rng;
    fct_rng_seed(&rng, 8);
    float x[MAXN + 1], y[MAXN + 1], y0[MAXN + 1];
    for (int n = 0; n <= MAXN; n++) {
        fill(&rng, x, n + 1);
        fill(&rng, y, n + 1);
        memcpy(y0, y, sizeof y);
        axpy(-0.75f, x + 1, y + 1, n);
        assert_true(y[0] == y0[0]); /* nothing before the range */
        for (int f = 1; f <= n; f++)
            assert_true(fabs((double)y[f] - ((double)y0[f] - 0.75 * x[f])) <= 1e-6);
    }
}

/* p' = p - lr (d q + reg p), q' = q - lr (d p + reg q) from the old values. */
static void check_sgd_pair(void (*step)(float *, float *, int, float, float, float))
{
    fct_rng rng;
    fct_rng_seed(&rng, 9);
    float p[MAXN], q[MAXN], p0[MAXN], q0[MAXN];
    const float e = 0.8f, lr = 0.05f, reg = 0.1f; /* d = -e */
    for (int n = 0; n <= MAXN; n++) {
        fill(&rng, p, n);
        fill(&rng, q, n);
        memcpy(p0, p, sizeof p);
        memcpy(q0, q, sizeof q);
        step(p, q, n, -e, lr, reg);
        for (int f = 0; f < n; f++) {
            double ep = p0[f] + (double)lr * ((double)e * q0[f] - (double)reg * p0[f]);
            double eq = q0[f] + (double)lr * ((double)e * p0[f] - (double)reg * q0[f]);
            assert_true(fabs(p[f] - ep) <= 1e-6);
            assert_true(fabs(q[f] - eq) <= 1e-6);
        }
    }
}

/* Adam on a pair against a double-precision transcription of Algorithm 1,
 * over three steps so the moments carry over. */
static void check_adam_pair(void (*step)(float *, float *, float *, float *, float *, float *, int, float, float,
                                         float, float, float, float, float))
{
    fct_rng rng;
    fct_rng_seed(&rng, 12);
    const float reg = 0.05f, lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    for (int n = 0; n <= MAXN; n++) {
        float p[MAXN], q[MAXN], mp[MAXN] = {0}, mq[MAXN] = {0}, vp[MAXN] = {0}, vq[MAXN] = {0};
        double P[MAXN], Q[MAXN], MP[MAXN] = {0}, MQ[MAXN] = {0}, VP[MAXN] = {0}, VQ[MAXN] = {0};
        fill(&rng, p, n);
        fill(&rng, q, n);
        for (int f = 0; f < n; f++)
            P[f] = p[f], Q[f] = q[f];
        for (int t = 1; t <= 3; t++) {
            float err = 0.7f - 0.4f * (float)t;
            double c1 = 1.0 - pow(b1, t), c2 = 1.0 - pow(b2, t);
            step(p, q, mp, mq, vp, vq, n, -err, reg, (float)(lr / c1), (float)(1.0 / c2), b1, b2, eps);
            for (int f = 0; f < n; f++) {
                double gp = reg * P[f] - err * Q[f], gq = reg * Q[f] - err * P[f];
                MP[f] = b1 * MP[f] + (1 - b1) * gp;
                MQ[f] = b1 * MQ[f] + (1 - b1) * gq;
                VP[f] = b2 * VP[f] + (1 - b2) * gp * gp;
                VQ[f] = b2 * VQ[f] + (1 - b2) * gq * gq;
                P[f] -= lr * (MP[f] / c1) / (sqrt(VP[f] / c2) + eps);
                Q[f] -= lr * (MQ[f] / c1) / (sqrt(VQ[f] / c2) + eps);
            }
            for (int f = 0; f < n; f++) {
                assert_true(fabs(p[f] - P[f]) <= 1e-5);
                assert_true(fabs(q[f] - Q[f]) <= 1e-5);
                assert_true(fabs(mp[f] - MP[f]) <= 1e-6 && fabs(vq[f] - VQ[f]) <= 1e-6);
            }
        }
    }
}

/* Adam and AdaGrad on a row: three steps against update.h's formulas in
 * double, with weight decay and Adam's bias-correction factors a and c. */
typedef void (*adam_fn)(float *, float *, float *, const float *, int32_t, float, float, float, float, float, float);
typedef void (*adagrad_fn)(float *, float *, const float *, int32_t, float, float, float);

static void check_adam_row(adam_fn step)
{
    fct_rng rng;
    fct_rng_seed(&rng, 13);
    const float wd = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, lr = 0.01f;
    for (int n = 0; n <= MAXN; n++) {
        float x[MAXN + 1], m[MAXN + 1] = {0}, v[MAXN + 1] = {0}, g[MAXN + 1];
        double X[MAXN + 1], M[MAXN + 1] = {0}, W[MAXN + 1] = {0};
        fill(&rng, x, n + 1);
        for (int i = 0; i <= n; i++)
            X[i] = x[i];
        for (int t = 1; t <= 3; t++) {
            fill(&rng, g, n + 1);
            const double c1 = 1.0 - pow(b1, t), c2 = 1.0 - pow(b2, t);
            step(x + 1, m + 1, v + 1, g + 1, n, wd, b1, b2, (float)(lr / c1), (float)(1.0 / c2), eps);
            for (int i = 1; i <= n; i++) {
                double gi = g[i] + (double)wd * X[i];
                M[i] = b1 * M[i] + (1 - b1) * gi;
                W[i] = b2 * W[i] + (1 - b2) * gi * gi;
                X[i] -= lr * (M[i] / c1) / (sqrt(W[i] / c2) + eps);
            }
            assert_true(x[0] == (float)X[0] && m[0] == 0.0f); /* nothing before the range */
            for (int i = 1; i <= n; i++)
                assert_true(fabs(x[i] - X[i]) <= 1e-5 && fabs(m[i] - M[i]) <= 1e-6 && fabs(v[i] - W[i]) <= 1e-6);
        }
    }
}

static void check_adagrad_row(adagrad_fn step)
{
    fct_rng rng;
    fct_rng_seed(&rng, 14);
    const float wd = 0.02f, lr = 0.05f, eps = 1e-8f;
    for (int n = 0; n <= MAXN; n++) {
        float x[MAXN], h[MAXN] = {0}, g[MAXN];
        double X[MAXN], H[MAXN] = {0};
        fill(&rng, x, n);
        for (int i = 0; i < n; i++)
            X[i] = x[i];
        for (int t = 1; t <= 3; t++) {
            fill(&rng, g, n);
            step(x, h, g, n, wd, lr, eps);
            for (int i = 0; i < n; i++) {
                double gi = g[i] + (double)wd * X[i];
                H[i] += gi * gi;
                X[i] -= lr * gi / (sqrt(H[i]) + eps);
                assert_true(fabs(x[i] - X[i]) <= 1e-5 && fabs(h[i] - H[i]) <= 1e-5);
            }
        }
    }
}

/* A small FM: w [NS], V [NS, k] and one row of distinct slots. */
enum { FM_NS = 40 };

static void fm_setup(fct_rng *rng, int32_t k, int64_t n, float *w, float *V, uint32_t *sl, float *xs)
{
    fill(rng, w, FM_NS);
    for (int s = 0; s < FM_NS; s++)
        fill(rng, V + (size_t)s * (size_t)k, k);
    for (int64_t j = 0; j < n; j++) {
        sl[j] = (uint32_t)(3 * j + 1) % FM_NS; /* distinct for n <= FM_NS / 3 */
        xs[j] = (float)(0.5 + fct_rng_uniform(rng));
    }
}

/* fm_score against eq. 5 in double; fm_sgd / fm_sgd_clip against eq. 7's
 * gradients and the SGD step in double. */
static void check_fm_kernels(double (*score)(float, const float *, const float *, int32_t, const uint32_t *,
                                             const float *, int64_t, float *, float *),
                             void (*sgd)(float *, float *, int32_t, const uint32_t *, const float *, int64_t,
                                         const float *, float, float, float, float, float, float),
                             int clipped)
{
    fct_rng rng;
    fct_rng_seed(&rng, 15);
    static float w[FM_NS], V[FM_NS * MAXN], w1[FM_NS], V1[FM_NS * MAXN];
    float sum[MAXN + 16], sq[MAXN + 16], xs[13];
    uint32_t sl[13];
    const float g = 0.3f, lrw = 0.05f, wdw = 0.01f, lrv = 0.02f, wdv = 0.03f, clip = clipped ? 0.1f : 0.0f;
    for (int32_t k = 1; k <= MAXN; k += 3) {
        for (int64_t n = 0; n <= 13; n += 1) {
            fm_setup(&rng, k, n, w, V, sl, xs);
            double lin = 0.25, inter = 0.0;
            for (int32_t f = 0; f < k; f++) {
                double s1 = 0.0, s2 = 0.0;
                for (int64_t j = 0; j < n; j++) {
                    double t = (double)V[sl[j] * k + f] * xs[j];
                    s1 += t, s2 += t * t;
                }
                inter += s1 * s1 - s2;
            }
            for (int64_t j = 0; j < n; j++)
                lin += (double)w[sl[j]] * xs[j];
            double y = score(0.25f, w, V, k, sl, xs, n, sum, sq);
            assert_true(fabs(y - (lin + 0.5 * inter)) <= 1e-4 * (1.0 + fabs(y)));
            memcpy(w1, w, sizeof w);
            memcpy(V1, V, sizeof V);
            sgd(w1, V1, k, sl, xs, n, sum, g, lrw, wdw, lrv, wdv, clip);
            for (int64_t j = 0; j < n; j++) {
                const uint32_t s = sl[j];
                double gl = (double)g * xs[j];
                if (clipped)
                    gl = fmax(-clip, fmin(clip, gl));
                assert_true(fabs(w1[s] - (w[s] - lrw * (gl + wdw * w[s]))) <= 1e-6);
                for (int32_t f = 0; f < k; f++) {
                    double v = V[s * k + f], gv = (double)g * xs[j] * (sum[f] - v * xs[j]);
                    if (clipped)
                        gv = fmax(-clip, fmin(clip, gv));
                    assert_true(fabs(V1[s * k + f] - (v - lrv * (gv + wdv * v))) <= 1e-6);
                }
            }
            for (int s = 0; s < FM_NS; s++) /* slots outside the row: untouched */
                if (s % 3 != 1 || (s - 1) / 3 >= n)
                    assert_true(w1[s] == w[s] && memcmp(V1 + s * k, V + s * k, (size_t)k * sizeof *V) == 0);
        }
    }
}

static void test_scalar_kernels(void **state)
{
    (void)state;
    check_dot(fct_dot_scalar);
    check_axpy(fct_axpy_scalar);
    check_sgd_pair(fct_sgd_pair_scalar);
    check_adam_pair(fct_adam_pair_scalar);
    check_adam_row(fct_adam_scalar);
    check_adagrad_row(fct_adagrad_scalar);
    check_fm_kernels(fct_fm_score_scalar, fct_fm_sgd_scalar, 0);
    check_fm_kernels(fct_fm_score_scalar, fct_fm_sgd_clip_scalar, 1);
}

static void test_avx2_kernels(void **state)
{
    (void)state;
    if (fct_kernel_path_detect() != FACTO_KERNEL_AVX2)
        skip();
    check_dot(fct_dot_avx2);
    check_axpy(fct_axpy_avx2);
    check_sgd_pair(fct_sgd_pair_avx2);
    check_adam_pair(fct_adam_pair_avx2);
    check_adam_row(fct_adam_avx2);
    check_adagrad_row(fct_adagrad_avx2);
    check_fm_kernels(fct_fm_score_avx2, fct_fm_sgd_avx2, 0);
    check_fm_kernels(fct_fm_score_avx2, fct_fm_sgd_clip_avx2, 1);
}

/* The table holds the path asked for, entry by entry; asking for AVX2
 * where the CPU lacks it keeps scalar. */
static void check_table(fct_kernel_path want)
{
    const int v = want == FACTO_KERNEL_AVX2;
    assert_int_equal(fct_kernel_path_get(), want);
    assert_int_equal(fct_kern.path, want);
    assert_true(fct_kern.dot == (v ? fct_dot_avx2 : fct_dot_scalar));
    assert_true(fct_kern.axpy == (v ? fct_axpy_avx2 : fct_axpy_scalar));
    assert_true(fct_kern.sgd_pair == (v ? fct_sgd_pair_avx2 : fct_sgd_pair_scalar));
    assert_true(fct_kern.adam_pair == (v ? fct_adam_pair_avx2 : fct_adam_pair_scalar));
    assert_true(fct_kern.adam == (v ? fct_adam_avx2 : fct_adam_scalar));
    assert_true(fct_kern.adagrad == (v ? fct_adagrad_avx2 : fct_adagrad_scalar));
    assert_true(fct_kern.fm_score == (v ? fct_fm_score_avx2 : fct_fm_score_scalar));
    assert_true(fct_kern.fm_sgd == (v ? fct_fm_sgd_avx2 : fct_fm_sgd_scalar));
    assert_true(fct_kern.fm_sgd_clip == (v ? fct_fm_sgd_clip_avx2 : fct_fm_sgd_clip_scalar));
}

static void test_table(void **state)
{
    (void)state;
    const fct_kernel_path det = fct_kernel_path_detect();
    check_table(det); /* filled at start-up */
    fct_kernel_path_set(FACTO_KERNEL_SCALAR);
    check_table(FACTO_KERNEL_SCALAR);
    fct_kernel_path_set(FACTO_KERNEL_AVX2);
    check_table(det);
    fct_kernel_path_set(det);
}

/* Both paths agree with each other on the same inputs, and the dispatcher
 * really switches between them; the row steps without FMA (Adam, AdaGrad)
 * give the same bits on both. */
static void test_paths_agree(void **state)
{
    (void)state;
    if (fct_kernel_path_detect() != FACTO_KERNEL_AVX2)
        skip();
    fct_rng rng;
    fct_rng_seed(&rng, 10);
    float a[MAXN], b[MAXN];
    for (int n = 1; n <= MAXN; n++) {
        fill(&rng, a, n);
        fill(&rng, b, n);
        fct_kernel_path_set(FACTO_KERNEL_SCALAR);
        assert_int_equal(fct_kernel_path_get(), FACTO_KERNEL_SCALAR);
        float s = fct_dot(a, b, n);
        assert_true(s == fct_dot_scalar(a, b, n));
        fct_kernel_path_set(FACTO_KERNEL_AVX2);
        assert_int_equal(fct_kernel_path_get(), FACTO_KERNEL_AVX2);
        float v = fct_dot(a, b, n);
        assert_true(v == fct_dot_avx2(a, b, n));
        assert_true(fabs((double)s - v) <= tol(n));
    }
    fct_kernel_path_set(fct_kernel_path_detect());
    for (int n = 0; n <= MAXN; n++) {
        float x0[MAXN], x1[MAXN], m0[MAXN] = {0}, m1[MAXN] = {0}, v0[MAXN] = {0}, v1[MAXN] = {0}, g[MAXN];
        fill(&rng, x0, n);
        memcpy(x1, x0, sizeof x0);
        for (int t = 0; t < 3; t++) {
            fill(&rng, g, n);
            fct_adam_scalar(x0, m0, v0, g, n, 0.01f, 0.9f, 0.999f, 0.03f, 1.5f, 1e-8f);
            fct_adam_avx2(x1, m1, v1, g, n, 0.01f, 0.9f, 0.999f, 0.03f, 1.5f, 1e-8f);
            assert_memory_equal(x0, x1, (size_t)n * sizeof *x0);
            assert_memory_equal(v0, v1, (size_t)n * sizeof *v0);
            fct_adagrad_scalar(x0, m0, g, n, 0.01f, 0.1f, 1e-8f);
            fct_adagrad_avx2(x1, m1, g, n, 0.01f, 0.1f, 1e-8f);
            assert_memory_equal(x0, x1, (size_t)n * sizeof *x0);
        }
    }
}

static void test_metrics(void **state)
{
    (void)state;
    const float pred[4] = {1, 2, 3, 4}, truth[4] = {2, 2, 1, 4};
    /* errors -1, 0, 2, 0: squared 1+0+4+0 = 5, absolute 3 */
    assert_true(fabs(fct_rmse(pred, truth, 4) - sqrt(5.0 / 4.0)) < 1e-12);
    assert_true(fabs(fct_mae(pred, truth, 4) - 0.75) < 1e-12);
    assert_true(isnan(fct_rmse(pred, truth, 0)));
    fct_err_acc a = {0, 0, 0}, b = {0, 0, 0};
    fct_err_acc_add(&a, 1, 2);
    fct_err_acc_add(&b, 3, 1);
    fct_err_acc_merge(&a, &b);
    assert_int_equal(a.n, 2);
    assert_true(fabs(fct_err_acc_rmse(&a) - sqrt(2.5)) < 1e-12);
    assert_true(fabs(fct_err_acc_mae(&a) - 1.5) < 1e-12);
}

static int cmp_rec(const void *x, const void *y)
{
    const facto_recommendation *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

static void test_topk_matches_sort(void **state)
{
    (void)state;
    fct_rng rng;
    fct_rng_seed(&rng, 11);
    enum { N = 500 };
    facto_recommendation all[N], buf[N];
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < N; i++) {
            all[i].item = i;
            /* few distinct values: many ties */
            all[i].score = (float)fct_rng_below(&rng, 40) / 8.0f;
        }
        int k = trial == 0 ? 0 : (trial == 1 ? N : 1 + (int)fct_rng_below(&rng, 60));
        fct_topk t;
        fct_topk_init(&t, buf, k);
        for (int i = 0; i < N; i++)
            fct_topk_push(&t, all[i].item, all[i].score);
        fct_topk_push(&t, N, NAN); /* never selected */
        int got = fct_topk_finish(&t);
        assert_int_equal(got, k);
        qsort(all, N, sizeof *all, cmp_rec);
        for (int x = 0; x < k; x++) {
            assert_int_equal(buf[x].item, all[x].item);
            assert_true(buf[x].score == all[x].score);
        }
        /* restore item order for the next trial */
        for (int i = 0; i < N; i++)
            all[i].item = i;
    }
}

typedef int32_t (*scan_fn)(const float *, const float *, float, int32_t, float, float *);

/* Top k of (c + bias[i]) + row[i] through a scan kernel, as batch top-N
 * runs it: offer every score until the heap is full, then only those the
 * kernel finds above the worst kept. */
static int select_with(scan_fn scan, const float *row, const float *bias, float c, int32_t n, int k,
                       facto_recommendation *buf)
{
    fct_topk t;
    fct_topk_init(&t, buf, k);
    int32_t x = 0;
    while (x < n) {
        float v;
        if (t.n < t.k) {
            v = bias ? c + bias[x] + row[x] : c + row[x];
        } else {
            x += scan(row + x, bias ? bias + x : NULL, c, n - x, t.heap[0].score, &v);
            if (x >= n)
                break;
        }
        fct_topk_offer(&t, x, v);
        x++;
    }
    return fct_topk_finish(&t);
}

/* The threshold scan of batch top-N: every path returns the same index and
 * the same bits as the scalar one (ties, -inf, +inf, NaN scores, lengths
 * around the vector widths), and a selection through it equals a sort:
 * ties to the lower item, -inf last, NaN never. */
static void test_scan_above(void **state)
{
    (void)state;
    scan_fn fns[3] = {fct_scan_above_scalar, NULL, NULL};
    if (fct_kernel_path_detect() == FACTO_KERNEL_AVX2)
        fns[1] = fct_scan_above_avx2;
    if (fct_kernel_has_avx512())
        fns[2] = fct_scan_above_avx512;
    fct_rng rng;
    fct_rng_seed(&rng, 5);
    enum { N = 300 };
    float row[N], bias[N];
    facto_recommendation ref[N], buf[N];
    for (int trial = 0; trial < 400; trial++) {
        const int32_t n = trial < 40 ? trial : (int32_t)fct_rng_below(&rng, N + 1);
        for (int32_t i = 0; i < n; i++) {
            row[i] = (float)fct_rng_below(&rng, 16) / 4.0f - 2.0f; /* few values: ties */
            bias[i] = (float)fct_rng_below(&rng, 4) / 8.0f;
            uint32_t r = (uint32_t)fct_rng_below(&rng, 40);
            if (r == 0)
                row[i] = -INFINITY;
            else if (r == 1)
                row[i] = NAN;
            else if (r == 2)
                row[i] = INFINITY;
        }
        const float *b = trial % 3 == 0 ? NULL : bias;
        const float c = trial % 5 == 0 ? 0.0f : 0.25f * (float)(trial % 7) - 0.5f;
        const float ts[5] = {-INFINITY, -1.0f, 1.5f, INFINITY, NAN};
        for (int x = 0; x < 5; x++) {
            float v0 = 0.0f;
            int32_t i0 = fns[0](row, b, c, n, ts[x], &v0);
            assert_true(i0 >= 0 && i0 <= n);
            if (i0 < n) {
                assert_true(v0 > ts[x]);
                assert_true(i0 == 0 || !((b ? c + b[i0 - 1] + row[i0 - 1] : c + row[i0 - 1]) > ts[x]));
            }
            for (int p = 1; p < 3; p++) {
                if (!fns[p])
                    continue;
                float v = 0.0f;
                int32_t i = fns[p](row, b, c, n, ts[x], &v);
                assert_int_equal(i, i0);
                if (i < n)
                    assert_memory_equal(&v, &v0, sizeof v);
            }
        }
        /* the reference: every non-NaN score sorted, ties to the lower item */
        int m = 0;
        for (int32_t i = 0; i < n; i++) {
            float v = b ? c + b[i] + row[i] : c + row[i];
            if (v == v)
                ref[m++] = (facto_recommendation){i, v};
        }
        qsort(ref, (size_t)m, sizeof *ref, cmp_rec);
        const int k = trial % 4 == 0 ? N : 1 + (int)fct_rng_below(&rng, 30);
        for (int p = 0; p < 3; p++) {
            if (!fns[p])
                continue;
            int got = select_with(fns[p], row, b, c, n, k, buf);
            assert_int_equal(got, m < k ? m : k);
            for (int x = 0; x < got; x++) {
                assert_int_equal(buf[x].item, ref[x].item);
                assert_memory_equal(&buf[x].score, &ref[x].score, sizeof(float));
            }
            if (k >= m && m > 0 && ref[m - 1].score == -INFINITY)
                assert_true(buf[got - 1].score == -INFINITY); /* -inf ranks last, kept when room */
        }
    }
    /* by hand: NaN never, -inf after every finite score, ties by item */
    const float hr[5] = {1.0f, NAN, -INFINITY, 1.0f, 2.0f};
    for (int p = 0; p < 3; p++) {
        if (!fns[p])
            continue;
        int got = select_with(fns[p], hr, NULL, 0.0f, 5, 5, buf);
        assert_int_equal(got, 4);
        assert_int_equal(buf[0].item, 4);
        assert_int_equal(buf[1].item, 0);
        assert_int_equal(buf[2].item, 3);
        assert_int_equal(buf[3].item, 2);
    }
}

/* MF's blocked SGD step on padded rows [x | b] (k factors, bias at k, one
 * guard float after): against a double reference of the formulas in
 * kernels.h, for k = 1..67 (every tail of the 8-, 16- and 32-wide loops),
 * with a weight; the guard after the bias and the rows' other floats stay. */
static void check_mf_sgd_row(float (*step)(float *, float *, int, float, float, float, float, float, float))
{
    fct_rng rng;
    fct_rng_seed(&rng, 12);
    float p[MAXN + 2], q[MAXN + 2], p0[MAXN + 2], q0[MAXN + 2];
    const float mu = 3.5f, r = 4.0f, w = 0.7f, lr = 0.05f, rf = 0.08f, rb = 0.02f;
    for (int k = 1; k <= MAXN; k++) {
        fill(&rng, p, k + 2);
        fill(&rng, q, k + 2);
        memcpy(p0, p, sizeof p);
        memcpy(q0, q, sizeof q);
        const double d = (double)mu + p0[k] + q0[k] + ref_dot(p0, q0, k) - r;
        const float got = step(p, q, k, mu, r, w, lr, rf, rb);
        assert_true(fabs((double)got - d) <= tol(k));
        const double g = w * d;
        assert_true(fabs((double)p[k] - (p0[k] - lr * (g + rb * p0[k]))) <= 1e-5 * (k + 1));
        assert_true(fabs((double)q[k] - (q0[k] - lr * (g + rb * q0[k]))) <= 1e-5 * (k + 1));
        for (int f = 0; f < k; f++) {
            assert_true(fabs((double)p[f] - (p0[f] - lr * (g * q0[f] + rf * p0[f]))) <= 1e-5 * (k + 1));
            assert_true(fabs((double)q[f] - (q0[f] - lr * (g * p0[f] + rf * q0[f]))) <= 1e-5 * (k + 1));
        }
        assert_true(p[k + 1] == p0[k + 1] && q[k + 1] == q0[k + 1]); /* guard untouched */
    }
}

static void test_mf_sgd_row(void **state)
{
    (void)state;
    check_mf_sgd_row(fct_mf_sgd_row_scalar);
    if (fct_kernel_path_detect() == FACTO_KERNEL_AVX2)
        check_mf_sgd_row(fct_mf_sgd_row_avx2);
    if (fct_kernel_path_detect() == FACTO_KERNEL_AVX2 && fct_kernel_has_avx512())
        check_mf_sgd_row(fct_mf_sgd_row_avx512);
    /* the table: scalar when asked, else the widest the CPU has */
    fct_kernel_path_set(FACTO_KERNEL_SCALAR);
    assert_true(fct_kern.mf_sgd_row == fct_mf_sgd_row_scalar);
    fct_kernel_path_set(fct_kernel_path_detect());
    if (fct_kernel_path_detect() == FACTO_KERNEL_AVX2)
        assert_true(fct_kern.mf_sgd_row == (fct_kernel_has_avx512() ? fct_mf_sgd_row_avx512 : fct_mf_sgd_row_avx2));
}

/* The adaptive-rate step (kernels.h mf_adagrad_row) on rows [x | b | G]
 * (one guard float after G): against a double reference for k = 1..67,
 * rows of random values and accumulators G in [0.5, 3.5]. */
static void check_mf_adagrad_row(float (*step)(float *, float *, int, float, float, float, float, float, float))
{
    fct_rng rng;
    fct_rng_seed(&rng, 13);
    float p[MAXN + 3], q[MAXN + 3], p0[MAXN + 3], q0[MAXN + 3];
    const float mu = 3.5f, r = 4.0f, w = 0.7f, lr = 0.05f, rf = 0.08f, rb = 0.02f;
    for (int k = 1; k <= MAXN; k++) {
        fill(&rng, p, k + 3);
        fill(&rng, q, k + 3);
        p[k + 1] = 2.0f + 1.5f * p[k + 1];
        q[k + 1] = 2.0f + 1.5f * q[k + 1];
        memcpy(p0, p, sizeof p);
        memcpy(q0, q, sizeof q);
        const double d = (double)mu + p0[k] + q0[k] + ref_dot(p0, q0, k) - r;
        const float got = step(p, q, k, mu, r, w, lr, rf, rb);
        assert_true(fabs((double)got - d) <= tol(k));
        const double g = w * d, ep = lr / sqrt((double)p0[k + 1]), eq = lr / sqrt((double)q0[k + 1]);
        const double gbp = g + rb * p0[k], gbq = g + rb * q0[k];
        double sp = gbp * gbp, sq = gbq * gbq;
        assert_true(fabs((double)p[k] - (p0[k] - ep * gbp)) <= 1e-5 * (k + 1));
        assert_true(fabs((double)q[k] - (q0[k] - eq * gbq)) <= 1e-5 * (k + 1));
        for (int f = 0; f < k; f++) {
            const double gp = g * q0[f] + rf * p0[f], gq = g * p0[f] + rf * q0[f];
            sp += gp * gp;
            sq += gq * gq;
            assert_true(fabs((double)p[f] - (p0[f] - ep * gp)) <= 1e-5 * (k + 1));
            assert_true(fabs((double)q[f] - (q0[f] - eq * gq)) <= 1e-5 * (k + 1));
        }
        assert_true(fabs((double)p[k + 1] - (p0[k + 1] + sp / (k + 1))) <= 1e-5 * (k + 1));
        assert_true(fabs((double)q[k + 1] - (q0[k + 1] + sq / (k + 1))) <= 1e-5 * (k + 1));
        assert_true(p[k + 2] == p0[k + 2] && q[k + 2] == q0[k + 2]); /* guard untouched */
    }
}

static void test_mf_adagrad_row(void **state)
{
    (void)state;
    /* One step by hand, k = 2: dot = 0.5 * 0.2 - 0.25 * 0.4 = 0, d = 3 + 0.1 - 0.2 - 4 = -1.1 = g;
     * rates 0.1 / sqrt(1) = 0.1 (p), 0.1 / sqrt(4) = 0.05 (q);
     * p: gradients (g + 0.25 * 0.1, g * 0.2 + 0.5 * 0.5, g * 0.4 - 0.5 * 0.25) = (-1.075, 0.03, -0.565),
     * q: (g - 0.25 * 0.2, g * 0.5 + 0.5 * 0.2, -g * 0.25 + 0.5 * 0.4) = (-1.15, -0.45, 0.475);
     * G_p = 1 + (1.155625 + 0.0009 + 0.319225) / 3, G_q = 4 + (1.3225 + 0.2025 + 0.225625) / 3. */
    float (*const paths[3])(float *, float *, int, float, float, float, float, float, float) = {
        fct_mf_adagrad_row_scalar, fct_mf_adagrad_row_avx2, fct_mf_adagrad_row_avx512};
    const int n_paths = fct_kernel_path_detect() != FACTO_KERNEL_AVX2 ? 1 : fct_kernel_has_avx512() ? 3 : 2;
    for (int t = 0; t < n_paths; t++) {
        float p[4] = {0.5f, -0.25f, 0.1f, 1.0f}, q[4] = {0.2f, 0.4f, -0.2f, 4.0f};
        const float d = paths[t](p, q, 2, 3.0f, 4.0f, 1.0f, 0.1f, 0.5f, 0.25f);
        assert_true(fabs(d - -1.1) < 1e-6);
        const double want_p[4] = {0.497, -0.1935, 0.2075, 1.0 + 1.47575 / 3.0};
        const double want_q[4] = {0.2225, 0.37625, -0.1425, 4.0 + 1.750625 / 3.0};
        for (int f = 0; f < 4; f++) {
            assert_true(fabs(p[f] - want_p[f]) < 1e-6);
            assert_true(fabs(q[f] - want_q[f]) < 1e-6);
        }
    }
    check_mf_adagrad_row(fct_mf_adagrad_row_scalar);
    if (n_paths >= 2)
        check_mf_adagrad_row(fct_mf_adagrad_row_avx2);
    if (n_paths >= 3)
        check_mf_adagrad_row(fct_mf_adagrad_row_avx512);
    /* scalar vs vector on the same long row, several steps: within rounding */
    if (n_paths >= 2) {
        enum { K = 64 };
        float ps[K + 2], qs[K + 2], pv[K + 2], qv[K + 2];
        fct_rng rng;
        fct_rng_seed(&rng, 14);
        fill(&rng, ps, K + 1);
        fill(&rng, qs, K + 1);
        ps[K + 1] = qs[K + 1] = 1.0f;
        memcpy(pv, ps, sizeof ps);
        memcpy(qv, qs, sizeof qs);
        for (int it = 0; it < 20; it++) {
            const float rr = (float)(1 + it % 5);
            const float ds = fct_mf_adagrad_row_scalar(ps, qs, K, 3.0f, rr, 1.0f, 0.1f, 0.05f, 0.05f);
            const float dv = fct_kern.mf_adagrad_row(pv, qv, K, 3.0f, rr, 1.0f, 0.1f, 0.05f, 0.05f);
            assert_true(fabs(ds - dv) < 1e-4);
        }
        for (int f = 0; f < K + 2; f++)
            assert_true(fabs(ps[f] - pv[f]) < 1e-4 * fmax(1.0, fabs(ps[f])) && fabs(qs[f] - qv[f]) < 1e-4 * fmax(1.0, fabs(qs[f])));
    }
    /* the table follows the path like mf_sgd_row */
    fct_kernel_path_set(FACTO_KERNEL_SCALAR);
    assert_true(fct_kern.mf_adagrad_row == fct_mf_adagrad_row_scalar);
    fct_kernel_path_set(fct_kernel_path_detect());
    if (n_paths >= 2)
        assert_true(fct_kern.mf_adagrad_row == paths[n_paths - 1]);
}

/* The one-user prefilter's kernels (fct_quant_user_*, fct_qbounds_*):
 * the AVX-512 ones against the scalar ones and hand-computed values. The
 * quantized user must be the same bytes; its double sums may differ by a
 * few 2^-53 (another order); the bounds by a fused rounding at most. */
static void test_prefilter_kernels(void **state)
{
    (void)state;
    /* hand-computed: u = (1.27, -0.5, 0.0051, 2 x 0), t = 0.01 -> w = 127, -50, 1 (0.51 -> 1), 0 */
    const float u0[5] = {1.27f, -0.5f, 0.0051f, 0.0f, 0.0f};
    uint8_t w8[200];
    double r2, v2;
    fct_quant_user_scalar(u0, 5, 64, 0.01f, w8, &r2, &v2);
    assert_int_equal(w8[0], 255);
    assert_int_equal(w8[1], 78);
    assert_int_equal(w8[2], 129);
    assert_int_equal(w8[3], 128);
    assert_int_equal(w8[63], 128);
    assert_true(fabs(v2 - (1.27 * 1.27 + 0.25 + 0.0051 * 0.0051)) < 1e-6);
    assert_true(fabs(r2 - 0.0049 * 0.0049) < 1e-9); /* 0.0051 - 0.01 w: the rest round off to ~1e-9 */
    fct_rng rng;
    fct_rng_seed(&rng, 7);
    for (int rep = 0; rep < 50; rep++) {
        const int32_t k = 1 + (int32_t)(fct_rng_uniform(&rng) * 180), kp = (k + 63) / 64 * 64;
        float u[192];
        fill(&rng, u, k);
        float mx = 0.0f;
        for (int32_t f = 0; f < k; f++)
            mx = fabsf(u[f]) > mx ? fabsf(u[f]) : mx;
        const float t = mx / 127.0f;
        uint8_t a8[192], b8[192];
        double ra, va, rb, vb;
        fct_quant_user_scalar(u, k, kp, t, a8, &ra, &va);
        (fct_kernel_has_avx512() ? fct_quant_user_avx512 : fct_quant_user_scalar)(u, k, kp, t, b8, &rb, &vb);
        assert_memory_equal(a8, b8, (size_t)kp);
        assert_true(fabs(ra - rb) <= 1e-13 * ra + 1e-300);
        assert_true(fabs(va - vb) <= 1e-13 * va);
        /* bounds of 37 items from made-up prefilter arrays */
        int32_t dots[37], sumq[37];
        float sc[37], bias[37], A[37], B[37], C[37], lo1[37], hi1[37], lo2[37], hi2[37];
        for (int i = 0; i < 37; i++) {
            dots[i] = (int32_t)(fct_rng_uniform(&rng) * 2e6) - 1000000;
            sumq[i] = (int32_t)(fct_rng_uniform(&rng) * 2000) - 1000;
            sc[i] = (float)fct_rng_uniform(&rng) * 0.01f;
            bias[i] = (float)(2.0 * fct_rng_uniform(&rng) - 1.0);
            A[i] = (float)fct_rng_uniform(&rng) * 1e-3f;
            B[i] = (float)fct_rng_uniform(&rng) * 1e-3f;
            C[i] = (float)fct_rng_uniform(&rng) * 1e-7f;
        }
        const fct_qbounds q = {dots, sumq, sc, bias, A, B, C, t, 3.5f, 1.2f, 0.01f, 1e-6f, 3.5f};
        fct_qbounds_scalar(&q, 37, lo1, hi1);
        (fct_kernel_has_avx512() ? fct_qbounds_avx512 : fct_qbounds_scalar)(&q, 37, lo2, hi2);
        for (int i = 0; i < 37; i++) {
            const double a = (double)(t * sc[i]) * (double)(dots[i] - 128 * sumq[i]);
            const double base = 3.5 + bias[i] + a;
            assert_true(lo1[i] < base && base < hi1[i]);
            assert_true(fabsf(lo1[i] - lo2[i]) <= 1e-6f * (fabsf(lo1[i]) + 1.0f));
            assert_true(fabsf(hi1[i] - hi2[i]) <= 1e-6f * (fabsf(hi1[i]) + 1.0f));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_kernels),  cmocka_unit_test(test_avx2_kernels),
        cmocka_unit_test(test_table),           cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_topk_matches_sort),
        cmocka_unit_test(test_scan_above),
        cmocka_unit_test(test_mf_sgd_row),
        cmocka_unit_test(test_mf_adagrad_row),
        cmocka_unit_test(test_prefilter_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
