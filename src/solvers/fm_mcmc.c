/*
 * fm_mcmc.c — Gibbs sampling (MCMC) for factorization machines and the
 * sweep engine it shares with ALS (Rendle, "Factorization Machines with
 * libFM", ACM TIST 2012, sec. 4.3-4.4 and Algorithm 2). Each parameter theta
 * enters y^ linearly, y^ = g + theta h; with the error e = y^ - y cached per
 * row, its conditional posterior is Gaussian with precision
 * alpha sum h^2 + lambda and mean (alpha (theta sum h^2 - sum h e) + mu lambda)
 * / precision; the hyperparameters (alpha ~ Gamma, per-group mu ~ Normal,
 * lambda ~ Gamma) are drawn in between (eq. 24-27). Parameters are swept per
 * feature over the transposed data (CSC), one factor f at a time with the
 * cache q_f(n) = sum_i v_if x_i, so an update costs O(m(x_i)). Blocks (VLDB
 * 2013) keep per-block-row sums of e, e q, q, q^2 so a block feature costs
 * O(its block rows). Per iteration: O(k (nnz(direct) + sum_B (nnz(B) + n))).
 * Regression uses a Gaussian likelihood; binary classification the probit
 * augmentation (z ~ truncated N(y^, 1), then regression on z). Predictions
 * average the samples after burn-in; the model keeps mcmc_samples thinned
 * samples, so a saved model predicts new rows with the same kind of average;
 * on ratings data (user block + item block per row) it keeps per-user /
 * per-item sums and a rank-r summary of their posterior Gram matrix instead
 * (fct_fm_pairs below; facto_fm_fit_ratings in src/train/fit_fm_ratings.c
 * is the public entry point).
 */
#include "fm_mcmc.h"
#include "fm_solvers.h"

#include "kernels/gram.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Hyperprior constants of libFM's TIST 2012 paper (sec. 4.3): alpha_0 =
 * beta_0 = alpha_lambda = beta_lambda = gamma_0 = 1, mu_0 = 0. */
#define FACTO_FM_HYPER_A0 1.0
#define FACTO_FM_HYPER_B0 1.0
#define FACTO_FM_HYPER_G0 1.0
/* Probit link written as a logistic one so stored samples score through the
 * model's sigmoid: Phi(t) ~ 1 / (1 + exp(-1.702 t)), max error 0.0095. */
#define FACTO_FM_PROBIT_SCALE 1.702

typedef struct fct_fm_eq {
    double e; /* y^ - target (target = label, or z for probit) */
    double q; /* q_f(n) of the factor being swept */
} fct_fm_eq;

typedef struct fct_fm_agg {
    double s1, s2; /* sum over joined rows of q_rest, q_rest^2 */
    double e, eq;  /* sum over joined rows of e, e * q_rest */
} fct_fm_agg;

/* Rows of one block (shared by train and test when the pointer is the same),
 * with per-row values of the current factor. */
typedef struct fct_fm_brows {
    const facto_rows *rows;
    const uint32_t *slots; /* [nnz] */
    double *lin;           /* [n_rows] sum_i w_i x_i */
    double *qf;            /* [n_rows] sum_i v_if x_i */
    double *sf;            /* [n_rows] sum_i (v_if x_i)^2 */
} fct_fm_brows;

/* One training source: direct rows (ref == NULL) or a block. */
typedef struct fct_fm_src {
    int64_t n_rows; /* data rows (direct) or block rows */
    const int64_t *row_ptr;
    const uint32_t *slot;
    const float *val;
    const int32_t *ref; /* [n] block row of each data row; NULL for direct */
    int brows;          /* index into the engine's brows, -1 for direct */
    /* CSC: columns = distinct slots of this source, ascending */
    int64_t n_cols;
    uint32_t *col_slot;
    int64_t *col_ptr;
    uint32_t *col_row;
    float *col_val;
    /* block work arrays [n_rows] */
    double *cnt;
    fct_fm_agg *agg;
    double *dq, *dy;
} fct_fm_src;

typedef struct fct_fm_engine {
    facto_ctx *ctx;
    fct_fm_model *m;
    fct_fm_cd_mode mode;
    int classify;
    int32_t k;
    int64_t n_slots;
    int64_t n;
    const float *labels;
    float *z;        /* probit latent targets [n] */
    fct_fm_eq *eq; /* [n] */
    double w0;
    double *w; /* [n_slots] */
    double *V; /* [k, n_slots] factor-major: V[f * n_slots + s] */
    int32_t *group;
    int32_t n_groups;
    int64_t *group_size;
    uint32_t *unseen;
    int64_t n_unseen;
    double alpha, lambda0;
    double *mu_w, *lambda_w; /* [G] */
    double *mu_v, *lambda_v; /* [G, k] */
    int n_src;
    fct_fm_src src[1 + FACTO_FM_MAX_BLOCKS];
    int n_brows;
    fct_fm_brows brows[2 * FACTO_FM_MAX_BLOCKS];
    /* Last block's change of the previous factor, applied in the next
     * factor's first pass (saves one pass over the rows per factor):
     * e += q_prev * pend_a[j] + pend_b[j]. pending = 0 when none. */
    int pending;
    double *pend_a, *pend_b; /* [rows of the last block] */
    /* Pair form (no direct features, two blocks: every ratings data set):
     * fct_fm_sweep_v_pair, whose deferred change is e += pend_q1[j1]
     * pend_a[j2] + pend_b[j2] (pending = 2), with pend_q1 the first block's
     * final q of the previous factor; q of the rows is not kept. */
    double *pend_q1; /* [rows of block 1] */
    /* Flat rows (no blocks): q of the next factor, summed by each factor's
     * update pass; qn_ok once it holds the next factor's q. */
    double *qn; /* [n] */
    int qn_ok;
    fct_rng rng;
} fct_fm_engine;

static double fct_fm_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double fct_fm_now(void)
{
    return fct_fm_clock(CLOCK_MONOTONIC);
}

/* Index in eng->brows of `rows` (added when new), -1 when out of memory. */
static int fct_fm_brows_get(fct_fm_engine *eng, const facto_rows *rows, const uint32_t *slots)
{
    for (int i = 0; i < eng->n_brows; i++)
        if (eng->brows[i].rows == rows)
            return i;
    fct_fm_brows *b = &eng->brows[eng->n_brows];
    size_t nr = rows->n_rows ? (size_t)rows->n_rows : 1;
    b->rows = rows;
    b->slots = slots;
    b->lin = fct_calloc_array(nr, sizeof(double));
    b->qf = fct_calloc_array(nr, sizeof(double));
    b->sf = fct_calloc_array(nr, sizeof(double));
    if (!b->lin || !b->qf || !b->sf)
        return -1;
    return eng->n_brows++;
}

/* Build the CSC of a source and mark its slots seen. */
static facto_status fct_fm_src_build(fct_fm_engine *eng, fct_fm_src *s, uint8_t *seen, int64_t *count)
{
    int64_t nnz = s->row_ptr[s->n_rows];
    memset(count, 0, (size_t)eng->n_slots * sizeof *count);
    for (int64_t e = 0; e < nnz; e++)
        if (s->slot[e] != FACTO_FM_NO_SLOT)
            count[s->slot[e]]++;
    s->n_cols = 0;
    for (int64_t i = 0; i < eng->n_slots; i++)
        if (count[i])
            s->n_cols++;
    s->col_slot = fct_malloc_array((size_t)s->n_cols + 1, sizeof *s->col_slot);
    s->col_ptr = fct_malloc_array((size_t)s->n_cols + 1, sizeof *s->col_ptr);
    s->col_row = fct_malloc_array(nnz ? (size_t)nnz : 1, sizeof *s->col_row);
    s->col_val = fct_malloc_array(nnz ? (size_t)nnz : 1, sizeof *s->col_val);
    if (!s->col_slot || !s->col_ptr || !s->col_row || !s->col_val)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory transposing %lld entries", (long long)nnz);
    /* count[slot] becomes the write position of the slot's column. */
    int64_t c = 0, pos = 0;
    for (int64_t i = 0; i < eng->n_slots; i++) {
        if (!count[i])
            continue;
        if (seen[i])
            return fct_fail(eng->ctx, FACTO_ERR_INVALID,
                              "feature slot %lld appears in two sources (direct rows or blocks); each feature must "
                              "belong to one",
                              (long long)i);
        seen[i] = 1;
        s->col_slot[c] = (uint32_t)i;
        s->col_ptr[c] = pos;
        int64_t len = count[i];
        count[i] = pos;
        pos += len;
        c++;
    }
    s->col_ptr[c] = pos;
    for (int64_t r = 0; r < s->n_rows; r++) {
        for (int64_t e = s->row_ptr[r]; e < s->row_ptr[r + 1]; e++) {
            uint32_t sl = s->slot[e];
            if (sl == FACTO_FM_NO_SLOT)
                continue;
            int64_t p = count[sl]++;
            s->col_row[p] = (uint32_t)r;
            s->col_val[p] = s->val[e];
        }
    }
    if (s->ref) {
        size_t nr = s->n_rows ? (size_t)s->n_rows : 1;
        s->cnt = fct_calloc_array(nr, sizeof *s->cnt);
        s->agg = fct_calloc_array(nr, sizeof *s->agg);
        s->dq = fct_calloc_array(nr, sizeof *s->dq);
        s->dy = fct_calloc_array(nr, sizeof *s->dy);
        if (!s->cnt || !s->agg || !s->dq || !s->dy)
            return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for block sums");
        for (int64_t n = 0; n < eng->n; n++)
            s->cnt[s->ref[n]] += 1.0;
    }
    return FACTO_OK;
}

static void fct_fm_engine_free(fct_fm_engine *eng)
{
    for (int i = 0; i < eng->n_src; i++) {
        fct_fm_src *s = &eng->src[i];
        free(s->col_slot);
        free(s->col_ptr);
        free(s->col_row);
        free(s->col_val);
        free(s->cnt);
        free(s->agg);
        free(s->dq);
        free(s->dy);
    }
    for (int i = 0; i < eng->n_brows; i++) {
        free(eng->brows[i].lin);
        free(eng->brows[i].qf);
        free(eng->brows[i].sf);
    }
    free(eng->pend_a);
    free(eng->pend_b);
    free(eng->pend_q1);
    free(eng->qn);
    free(eng->z);
    free(eng->eq);
    free(eng->w);
    free(eng->V);
    free(eng->group);
    free(eng->group_size);
    free(eng->unseen);
    free(eng->mu_w);
    free(eng->lambda_w);
    free(eng->mu_v);
    free(eng->lambda_v);
}

/* Draw (MCMC) or take the mode (ALS) of N(mean, 1/prec). A parameter the
 * data do not determine (prec 0: no prior precision and h = 0 in every
 * row, e.g. v of a row's only feature under ALS without L2) is set to 0,
 * as libFM does. */
static double fct_fm_draw(fct_fm_engine *eng, double mean, double prec)
{
    if (!(prec > 0.0) || !isfinite(mean))
        return 0.0;
    if (eng->mode == FACTO_FM_CD_ALS)
        return mean;
    return mean + fct_rng_normal(&eng->rng) / sqrt(prec);
}

/* Sample z ~ N(mean, 1) truncated to z > 0 (positive) or z < 0. Rejection
 * from the normal when the bound is near the mean, else Robert's (1995)
 * exponential proposal. */
static double fct_fm_trunc_normal(fct_rng *rng, double mean, int positive)
{
    double a = positive ? -mean : mean; /* t = +-(z - mean) must exceed a */
    double t;
    if (a < 0.5) {
        do {
            t = fct_rng_normal(rng);
        } while (t <= a);
    } else {
        double lam = 0.5 * (a + sqrt(a * a + 4.0));
        for (;;) {
            double u;
            do {
                u = fct_rng_uniform(rng);
            } while (u <= 0.0);
            t = a - log(u) / lam;
            double r = exp(-0.5 * (t - lam) * (t - lam));
            if (fct_rng_uniform(rng) <= r)
                break;
        }
    }
    return positive ? mean + t : mean - t;
}

/* ---- hyperparameters --------------------------------------------------- */

static void fct_fm_draw_alpha(fct_fm_engine *eng)
{
    if (eng->mode == FACTO_FM_CD_ALS || eng->classify) {
        eng->alpha = 1.0;
        return;
    }
    double sse = 0.0;
    for (int64_t n = 0; n < eng->n; n++)
        sse += eng->eq[n].e * eng->eq[n].e;
    double shape = 0.5 * (FACTO_FM_HYPER_A0 + (double)eng->n);
    double rate = 0.5 * (FACTO_FM_HYPER_B0 + sse);
    eng->alpha = fct_rng_gamma(&eng->rng, shape) / rate;
}

/* lambda then mu of each group for the parameters theta[s * stride] (libFM's
 * order), over the slots seen in training. */
static void fct_fm_draw_hyper(fct_fm_engine *eng, const double *theta, double *mu, double *lambda,
                                int64_t gstride)
{
    const int32_t G = eng->n_groups;
    double sum[256], sq[256];
    for (int32_t g = 0; g < G; g++)
        sum[g] = sq[g] = 0.0;
    for (int i = 0; i < eng->n_src; i++) {
        const fct_fm_src *s = &eng->src[i];
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            int32_t g = eng->group[sl];
            double d = theta[sl] - mu[g * gstride];
            sq[g] += d * d;
        }
    }
    for (int32_t g = 0; g < G; g++) {
        if (!eng->group_size[g])
            continue; /* no feature uses it: no draw (so the stream does not depend on empty groups) */
        double p = (double)eng->group_size[g];
        double m = mu[g * gstride];
        double shape = 0.5 * (FACTO_FM_HYPER_A0 + p + 1.0);
        double rate = 0.5 * (FACTO_FM_HYPER_B0 + FACTO_FM_HYPER_G0 * m * m + sq[g]);
        lambda[g * gstride] = fct_rng_gamma(&eng->rng, shape) / rate;
    }
    for (int i = 0; i < eng->n_src; i++) {
        const fct_fm_src *s = &eng->src[i];
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            sum[eng->group[sl]] += theta[sl];
        }
    }
    for (int32_t g = 0; g < G; g++) {
        if (!eng->group_size[g])
            continue;
        double p = (double)eng->group_size[g];
        double prec = (p + FACTO_FM_HYPER_G0) * lambda[g * gstride];
        double mean = sum[g] / (p + FACTO_FM_HYPER_G0);
        mu[g * gstride] = mean + fct_rng_normal(&eng->rng) / sqrt(prec);
    }
}

/* ---- the sweeps ------------------------------------------------------- */

static void fct_fm_sweep_w0(fct_fm_engine *eng)
{
    double se = 0.0;
    for (int64_t n = 0; n < eng->n; n++)
        se += eng->eq[n].e;
    double sh2 = (double)eng->n;
    double prec = eng->alpha * sh2 + eng->lambda0;
    double mean = eng->alpha * (eng->w0 * sh2 - se) / prec;
    double nw = fct_fm_draw(eng, mean, prec);
    double d = nw - eng->w0;
    eng->w0 = nw;
    for (int64_t n = 0; n < eng->n; n++)
        eng->eq[n].e += d;
}

static void fct_fm_sweep_w(fct_fm_engine *eng)
{
    double *w = eng->w;
    for (int i = 0; i < eng->n_src; i++) {
        fct_fm_src *s = &eng->src[i];
        if (!s->ref) {
            for (int64_t c = 0; c < s->n_cols; c++) {
                uint32_t sl = s->col_slot[c];
                int32_t g = eng->group[sl];
                double sh2 = 0.0, she = 0.0;
                for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                    double x = s->col_val[p];
                    sh2 += x * x;
                    she += x * eng->eq[s->col_row[p]].e;
                }
                double prec = eng->alpha * sh2 + eng->lambda_w[g];
                double mean = (eng->alpha * (w[sl] * sh2 - she) + eng->mu_w[g] * eng->lambda_w[g]) / prec;
                double nw = fct_fm_draw(eng, mean, prec);
                double d = nw - w[sl];
                w[sl] = nw;
                for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++)
                    eng->eq[s->col_row[p]].e += d * s->col_val[p];
            }
            continue;
        }
        /* Block: per block row j, E_j = sum of e over the joined rows; the
         * change of y^ in every joined row is dL_j, applied afterwards. */
        for (int64_t j = 0; j < s->n_rows; j++) {
            s->agg[j].e = 0.0;
            s->dy[j] = 0.0;
        }
        for (int64_t n = 0; n < eng->n; n++)
            s->agg[s->ref[n]].e += eng->eq[n].e;
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            int32_t g = eng->group[sl];
            double sh2 = 0.0, she = 0.0;
            for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                uint32_t j = s->col_row[p];
                double x = s->col_val[p];
                sh2 += x * x * s->cnt[j];
                she += x * s->agg[j].e;
            }
            double prec = eng->alpha * sh2 + eng->lambda_w[g];
            double mean = (eng->alpha * (w[sl] * sh2 - she) + eng->mu_w[g] * eng->lambda_w[g]) / prec;
            double nw = fct_fm_draw(eng, mean, prec);
            double d = nw - w[sl];
            w[sl] = nw;
            for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                uint32_t j = s->col_row[p];
                double dx = d * s->col_val[p];
                s->agg[j].e += dx * s->cnt[j];
                s->dy[j] += dx;
            }
        }
        for (int64_t n = 0; n < eng->n; n++)
            eng->eq[n].e += s->dy[s->ref[n]];
    }
    for (int64_t u = 0; u < eng->n_unseen; u++)
        w[eng->unseen[u]] = eng->mode == FACTO_FM_CD_ALS ? 0.0 : eng->mu_w[eng->group[eng->unseen[u]]];
}

/* q_f of every row of block rows b, and sum_i (v_if x_i)^2 when with_sq. */
static void fct_fm_brows_factor(fct_fm_engine *eng, fct_fm_brows *b, const double *vf, int with_sq)
{
    (void)eng;
    const facto_rows *r = b->rows;
    const uint32_t *sl = b->slots;
    const float *x = r->values;
    for (int64_t j = 0; j < r->n_rows; j++) {
        double q = 0.0, s2 = 0.0;
        for (int64_t e = r->row_ptr[j]; e < r->row_ptr[j + 1]; e++) {
            if (sl[e] == FACTO_FM_NO_SLOT)
                continue;
            double t = vf[sl[e]] * x[e];
            q += t;
            s2 += t * t;
        }
        b->qf[j] = q;
        if (with_sq)
            b->sf[j] = s2;
    }
}

/* Aggregate rows for block s: qr = q - q^B_j summed per block row j. Train
 * rows often arrive grouped by j (sorted by user), so sums run in registers
 * while j repeats and are flushed when it changes. */
static inline void fct_fm_agg_flush(fct_fm_agg *a, double s1, double s2, double e, double eq)
{
    a->s1 += s1;
    a->s2 += s2;
    a->e += e;
    a->eq += eq;
}

/* Sweep v_if of block source s for factor f (aggregates already built). */
static void fct_fm_block_sweep_v(fct_fm_engine *eng, fct_fm_src *s, int32_t f, double *vf)
{
    const int32_t k = eng->k;
    const double *mu = eng->mu_v, *lam = eng->lambda_v;
    double *qb = eng->brows[s->brows].qf;
    for (int64_t c = 0; c < s->n_cols; c++) {
        uint32_t sl = s->col_slot[c];
        int32_t g = eng->group[sl];
        double v = vf[sl], sh2 = 0.0, she = 0.0, sh2b = 0.0, sheb = 0.0;
        int64_t p = s->col_ptr[c];
        const int64_t p1 = s->col_ptr[c + 1];
        /* two sets of sums (even and odd entries) so the additions overlap:
         * an implicit-feedback column holds one entry per rater */
        for (; p + 2 <= p1; p += 2) {
            uint32_t j = s->col_row[p], j2 = s->col_row[p + 1];
            const fct_fm_agg *a = &s->agg[j], *a2 = &s->agg[j2];
            double x = s->col_val[p], x2 = s->col_val[p + 1];
            double aj = qb[j] - x * v, aj2 = qb[j2] - x2 * v;
            sh2 += x * x * (a->s2 + 2.0 * aj * a->s1 + s->cnt[j] * aj * aj);
            she += x * (a->eq + aj * a->e);
            sh2b += x2 * x2 * (a2->s2 + 2.0 * aj2 * a2->s1 + s->cnt[j2] * aj2 * aj2);
            sheb += x2 * (a2->eq + aj2 * a2->e);
        }
        if (p < p1) {
            uint32_t j = s->col_row[p];
            const fct_fm_agg *a = &s->agg[j];
            double x = s->col_val[p];
            double aj = qb[j] - x * v;
            sh2 += x * x * (a->s2 + 2.0 * aj * a->s1 + s->cnt[j] * aj * aj);
            she += x * (a->eq + aj * a->e);
        }
        sh2 += sh2b;
        she += sheb;
        double l = lam[g * k + f];
        double prec = eng->alpha * sh2 + l;
        double mean = (eng->alpha * (v * sh2 - she) + mu[g * k + f] * l) / prec;
        double nv = fct_fm_draw(eng, mean, prec);
        double d = nv - v;
        vf[sl] = nv;
        for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
            uint32_t j = s->col_row[p];
            fct_fm_agg *a = &s->agg[j];
            double x = s->col_val[p];
            double aj = qb[j] - x * v;
            double dx = d * x;
            a->e += dx * (a->s1 + s->cnt[j] * aj);
            a->eq += dx * (a->s2 + aj * a->s1);
            qb[j] += dx;
            s->dq[j] += dx;
            s->dy[j] += dx * aj;
        }
    }
}

/* sum h^2 and sum h e over the rows p0..p1 of a direct column with
 * h = x (q - x v): four independent sums, so the additions do not wait on
 * each other (a column of a one-hot id holds tens of rows). */
static inline void fct_fm_direct_sums(const fct_fm_eq *restrict eq, const uint32_t *restrict row,
                                        const float *restrict val, int64_t p0, int64_t p1, double v, double *sh2,
                                        double *she)
{
    double a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
    int64_t p = p0;
    for (; p + 4 <= p1; p += 4) {
        for (int u = 0; u < 4; u++) {
            const fct_fm_eq *t = &eq[row[p + u]];
            double x = val[p + u];
            double h = x * (t->q - x * v);
            a[u] += h * h;
            b[u] += h * t->e;
        }
    }
    for (; p < p1; p++) {
        const fct_fm_eq *t = &eq[row[p]];
        double x = val[p];
        double h = x * (t->q - x * v);
        a[0] += h * h;
        b[0] += h * t->e;
    }
    *sh2 = (a[0] + a[1]) + (a[2] + a[3]);
    *she = (b[0] + b[1]) + (b[2] + b[3]);
}

/*
 * One factor f on pair-form data (no direct features, blocks 1 = users and
 * 2 = items, e.g. every ratings data set): q(n) = q1_u + q2_i comes from the
 * block rows, so only e is kept per row. Pass 1 applies the previous
 * factor's deferred item change and sums per user (q_rest = q2_i), the user
 * sweep follows, pass 2 applies it and sums per item (q_rest = q1_u), then
 * the item sweep, whose change is deferred. Two passes over the rows.
 */
static void fct_fm_sweep_v_pair(fct_fm_engine *eng, int32_t f)
{
    const int64_t N = eng->n;
    fct_fm_eq *restrict eq = eng->eq;
    double *vf = eng->V + (int64_t)f * eng->n_slots;
    fct_fm_src *s1 = &eng->src[1], *s2 = &eng->src[2];
    const int32_t *restrict r1 = s1->ref, *restrict r2 = s2->ref;
    double *q1 = eng->brows[s1->brows].qf, *q2 = eng->brows[s2->brows].qf;
    for (int b = 1; b <= 2; b++) {
        fct_fm_src *s = &eng->src[b];
        fct_fm_brows_factor(eng, &eng->brows[s->brows], vf, 0);
        memset(s->agg, 0, (size_t)s->n_rows * sizeof *s->agg);
        memset(s->dq, 0, (size_t)s->n_rows * sizeof *s->dq);
        memset(s->dy, 0, (size_t)s->n_rows * sizeof *s->dy);
    }
    {
        const double *restrict pa = eng->pend_a, *restrict pb = eng->pend_b, *restrict pq = eng->pend_q1;
        fct_fm_agg *restrict ag = s1->agg;
        const int pend = eng->pending == 2;
        /* per run of rows of one user (rows usually come sorted by user):
         * two sets of sums, even and odd rows, so additions overlap */
        for (int64_t n = 0; n < N;) {
            const int32_t u = r1[n];
            double a1 = 0, a2 = 0, ae = 0, aeq = 0, b1 = 0, b2 = 0, be = 0, beq = 0;
            int64_t m = n;
            for (; m + 1 < N && r1[m] == u && r1[m + 1] == u; m += 2) {
                int32_t i = r2[m], i2 = r2[m + 1];
                double e = eq[m].e, e2 = eq[m + 1].e;
                if (pend) {
                    e += pq[u] * pa[i] + pb[i];
                    e2 += pq[u] * pa[i2] + pb[i2];
                    eq[m].e = e;
                    eq[m + 1].e = e2;
                }
                double qr = q2[i], qr2 = q2[i2];
                a1 += qr;
                a2 += qr * qr;
                ae += e;
                aeq += e * qr;
                b1 += qr2;
                b2 += qr2 * qr2;
                be += e2;
                beq += e2 * qr2;
            }
            if (m < N && r1[m] == u) {
                int32_t i = r2[m];
                double e = eq[m].e;
                if (pend) {
                    e += pq[u] * pa[i] + pb[i];
                    eq[m].e = e;
                }
                double qr = q2[i];
                a1 += qr;
                a2 += qr * qr;
                ae += e;
                aeq += e * qr;
                m++;
            }
            fct_fm_agg_flush(&ag[u], a1 + b1, a2 + b2, ae + be, aeq + beq);
            n = m;
        }
        eng->pending = 0;
    }
    fct_fm_block_sweep_v(eng, s1, f, vf);
    {
        const double *restrict dq = s1->dq, *restrict dy = s1->dy;
        fct_fm_agg *restrict ag = s2->agg;
        int32_t cj = -1;
        double a1 = 0, a2 = 0, ae = 0, aeq = 0;
        for (int64_t n = 0; n < N; n++) {
            int32_t u = r1[n], i = r2[n];
            double e = eq[n].e + q2[i] * dq[u] + dy[u];
            eq[n].e = e;
            if (i != cj) {
                if (cj >= 0)
                    fct_fm_agg_flush(&ag[cj], a1, a2, ae, aeq);
                cj = i;
                a1 = a2 = ae = aeq = 0.0;
            }
            double qr = q1[u];
            a1 += qr;
            a2 += qr * qr;
            ae += e;
            aeq += e * qr;
        }
        if (cj >= 0)
            fct_fm_agg_flush(&ag[cj], a1, a2, ae, aeq);
    }
    fct_fm_block_sweep_v(eng, s2, f, vf);
    memcpy(eng->pend_a, s2->dq, (size_t)s2->n_rows * sizeof *eng->pend_a);
    memcpy(eng->pend_b, s2->dy, (size_t)s2->n_rows * sizeof *eng->pend_b);
    memcpy(eng->pend_q1, q1, (size_t)s1->n_rows * sizeof *eng->pend_q1);
    eng->pending = 2;
    for (int64_t u = 0; u < eng->n_unseen; u++) {
        uint32_t sl = eng->unseen[u];
        vf[sl] = eng->mode == FACTO_FM_CD_ALS ? 0.0 : eng->mu_v[eng->group[sl] * eng->k + f];
    }
}

/*
 * One factor f. Passes over the n training rows: (1) q_f(n) from the direct
 * rows and the blocks' q^B_f, fused with the sums of the first block;
 * then the direct features' CSC sweep; then per block b: its sweep over
 * block rows, and one pass that applies its changes to e and q (every
 * joined row gets e += q_rest dq_j + dy_j, q += dq_j) fused with the sums
 * of block b + 1; the last block's change is deferred into the next factor's
 * first pass. Passes over the rows per factor: n_blocks (direct sweep aside).
 */
static void fct_fm_sweep_v(fct_fm_engine *eng, int32_t f)
{
    const int64_t N = eng->n;
    fct_fm_eq *eq = eng->eq;
    double *vf = eng->V + (int64_t)f * eng->n_slots;
    const double *mu = eng->mu_v, *lam = eng->lambda_v;
    const int32_t k = eng->k;
    const int nb = eng->n_src - 1;
    fct_fm_src *d0 = &eng->src[0];
    const int has_direct = d0->n_cols > 0;

    if (!has_direct && nb == 2) {
        fct_fm_sweep_v_pair(eng, f);
        return;
    }
    for (int b = 1; b <= nb; b++) {
        fct_fm_src *s = &eng->src[b];
        fct_fm_brows_factor(eng, &eng->brows[s->brows], vf, 0);
        memset(s->agg, 0, (size_t)s->n_rows * sizeof *s->agg);
        memset(s->dq, 0, (size_t)s->n_rows * sizeof *s->dq);
        memset(s->dy, 0, (size_t)s->n_rows * sizeof *s->dy);
    }

    /* Pass 1: q of every row (+ sums of the first block when there is no
     * direct sweep in between). */
    if (nb == 0 && eng->qn_ok) {
        /* flat rows: q was summed by the previous factor's sweep */
        const double *restrict qn = eng->qn;
        for (int64_t n = 0; n < N; n++)
            eq[n].q = qn[n];
    } else if (nb == 0) {
        /* flat rows: pointers in registers, nothing but the direct entries */
        const int64_t *restrict rp = d0->row_ptr;
        const uint32_t *restrict sl = d0->slot;
        const float *restrict xv = d0->val;
        const double *restrict v = vf;
        for (int64_t n = 0; n < N; n++) {
            double q = 0.0;
            for (int64_t e = rp[n]; e < rp[n + 1]; e++)
                if (sl[e] != FACTO_FM_NO_SLOT)
                    q += v[sl[e]] * xv[e];
            eq[n].q = q;
        }
    } else {
        fct_fm_src *s1 = nb > 0 && !has_direct ? &eng->src[1] : NULL;
        int32_t cj = -1;
        double a1 = 0, a2 = 0, ae = 0, aeq = 0;
        const int32_t *pref = eng->pending ? eng->src[nb].ref : NULL;
        for (int64_t n = 0; n < N; n++) {
            double q = 0.0;
            if (pref) {
                int32_t j = pref[n];
                eq[n].e += eq[n].q * eng->pend_a[j] + eng->pend_b[j];
            }
            if (has_direct) {
                for (int64_t e = d0->row_ptr[n]; e < d0->row_ptr[n + 1]; e++)
                    if (d0->slot[e] != FACTO_FM_NO_SLOT)
                        q += vf[d0->slot[e]] * d0->val[e];
            }
            for (int b = 1; b <= nb; b++)
                q += eng->brows[eng->src[b].brows].qf[eng->src[b].ref[n]];
            eq[n].q = q;
            if (s1) {
                int32_t j = s1->ref[n];
                if (j != cj) {
                    if (cj >= 0)
                        fct_fm_agg_flush(&s1->agg[cj], a1, a2, ae, aeq);
                    cj = j;
                    a1 = a2 = ae = aeq = 0.0;
                }
                double qr = q - eng->brows[s1->brows].qf[j], e = eq[n].e;
                a1 += qr;
                a2 += qr * qr;
                ae += e;
                aeq += e * qr;
            }
        }
        if (s1 && cj >= 0)
            fct_fm_agg_flush(&s1->agg[cj], a1, a2, ae, aeq);
        eng->pending = 0;
    }

    if (has_direct) {
        fct_fm_src *s = d0;
        /* Flat rows: the update pass also sums q of the next factor (its
         * v are final: the next factor's, or factor 0's for the next
         * iteration), which saves the next factor's pass over the rows. */
        double *restrict qn = nb == 0 ? eng->qn : NULL;
        const double *vnext = eng->V + (int64_t)((f + 1) % k) * eng->n_slots;
        if (qn)
            memset(qn, 0, (size_t)N * sizeof *qn);
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            int32_t g = eng->group[sl];
            double v = vf[sl], sh2, she;
            fct_fm_direct_sums(eq, s->col_row, s->col_val, s->col_ptr[c], s->col_ptr[c + 1], v, &sh2, &she);
            double l = lam[g * k + f];
            double prec = eng->alpha * sh2 + l;
            double mean = (eng->alpha * (v * sh2 - she) + mu[g * k + f] * l) / prec;
            double nv = fct_fm_draw(eng, mean, prec);
            double d = nv - v;
            vf[sl] = nv;
            if (qn) {
                const double vn = vnext[sl];
                for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                    uint32_t r = s->col_row[p];
                    fct_fm_eq *t = &eq[r];
                    double x = s->col_val[p];
                    double h = x * (t->q - x * v);
                    t->q += d * x;
                    t->e += d * h;
                    qn[r] += vn * x;
                }
                continue;
            }
            for (int64_t p = s->col_ptr[c]; p < s->col_ptr[c + 1]; p++) {
                fct_fm_eq *t = &eq[s->col_row[p]];
                double x = s->col_val[p];
                double h = x * (t->q - x * v);
                t->q += d * x;
                t->e += d * h;
            }
        }
        if (qn)
            eng->qn_ok = 1;
        if (nb > 0) {
            /* Sums of the first block after the direct sweep. */
            fct_fm_src *s1 = &eng->src[1];
            const double *qb = eng->brows[s1->brows].qf;
            for (int64_t n = 0; n < N; n++) {
                int32_t j = s1->ref[n];
                double qr = eq[n].q - qb[j], e = eq[n].e;
                fct_fm_agg_flush(&s1->agg[j], qr, qr * qr, e, e * qr);
            }
        }
    }

    for (int b = 1; b <= nb; b++) {
        fct_fm_src *s = &eng->src[b];
        fct_fm_block_sweep_v(eng, s, f, vf);
        /* Apply block b to every row; gather the sums of block b + 1. */
        const double *qb = eng->brows[s->brows].qf, *dq = s->dq, *dy = s->dy;
        const int32_t *ref = s->ref;
        fct_fm_src *sn = b < nb ? &eng->src[b + 1] : NULL;
        if (!sn) {
            /* Deferred: with q_prev = q before this block's change,
             * e += (q_prev - q^B_old_j) dq_j + dy_j. q itself is rebuilt by
             * the next factor's first pass; fct_fm_flush_pending applies
             * e at the end of the iteration. */
            for (int64_t j = 0; j < s->n_rows; j++) {
                eng->pend_a[j] = dq[j];
                eng->pend_b[j] = dy[j] - (qb[j] - dq[j]) * dq[j];
            }
            eng->pending = 1;
            continue;
        }
        const double *qbn = eng->brows[sn->brows].qf;
        int32_t cj = -1;
        double a1 = 0, a2 = 0, ae = 0, aeq = 0;
        for (int64_t n = 0; n < N; n++) {
            int32_t j = ref[n];
            double q = eq[n].q;
            double qr = q - (qb[j] - dq[j]);
            double e = eq[n].e + qr * dq[j] + dy[j];
            q += dq[j];
            eq[n].e = e;
            eq[n].q = q;
            int32_t jn = sn->ref[n];
            if (jn != cj) {
                if (cj >= 0)
                    fct_fm_agg_flush(&sn->agg[cj], a1, a2, ae, aeq);
                cj = jn;
                a1 = a2 = ae = aeq = 0.0;
            }
            double qrn = q - qbn[jn];
            a1 += qrn;
            a2 += qrn * qrn;
            ae += e;
            aeq += e * qrn;
        }
        if (cj >= 0)
            fct_fm_agg_flush(&sn->agg[cj], a1, a2, ae, aeq);
    }
    for (int64_t u = 0; u < eng->n_unseen; u++) {
        uint32_t sl = eng->unseen[u];
        vf[sl] = eng->mode == FACTO_FM_CD_ALS ? 0.0 : mu[eng->group[sl] * k + f];
    }
}

/* Apply the last block's deferred change to e (and q). */
static void fct_fm_flush_pending(fct_fm_engine *eng)
{
    if (!eng->pending)
        return;
    if (eng->pending == 2) {
        const int32_t *r1 = eng->src[1].ref, *r2 = eng->src[2].ref;
        for (int64_t n = 0; n < eng->n; n++)
            eng->eq[n].e += eng->pend_q1[r1[n]] * eng->pend_a[r2[n]] + eng->pend_b[r2[n]];
        eng->pending = 0;
        return;
    }
    const int32_t *ref = eng->src[eng->n_src - 1].ref;
    for (int64_t n = 0; n < eng->n; n++) {
        int32_t j = ref[n];
        eng->eq[n].e += eng->eq[n].q * eng->pend_a[j] + eng->pend_b[j];
        eng->eq[n].q += eng->pend_a[j];
    }
    eng->pending = 0;
}

/* ---- prediction with the engine's parameters, factor by factor --------- */

/* Add the factor-f pairwise part of y^ of data d into out[n] (after
 * fct_fm_brows_factor ran for d's blocks with the final v_f). */
static void fct_fm_add_factor(fct_fm_engine *eng, const fct_fm_data *d, const uint32_t *const *slots,
                                const int *bidx, const double *vf, double *out)
{
    const facto_rows *r = d->direct;
    for (int64_t n = 0; n < d->n_rows; n++) {
        double q = 0.0, s2 = 0.0;
        if (r) {
            for (int64_t e = r->row_ptr[n]; e < r->row_ptr[n + 1]; e++) {
                uint32_t sl = slots[0][e];
                if (sl == FACTO_FM_NO_SLOT)
                    continue;
                double t = vf[sl] * r->values[e];
                q += t;
                s2 += t * t;
            }
        }
        for (int b = 0; b < d->n_blocks; b++) {
            const fct_fm_brows *br = &eng->brows[bidx[b]];
            int32_t j = d->block[b].ref[n];
            q += br->qf[j];
            s2 += br->sf[j];
        }
        out[n] += 0.5 * (q * q - s2);
    }
}

/* w0 + linear part of y^ of data d into out[n] (after the brows' lin). */
static void fct_fm_set_linear(fct_fm_engine *eng, const fct_fm_data *d, const uint32_t *const *slots,
                                const int *bidx, double *out)
{
    const facto_rows *r = d->direct;
    for (int64_t n = 0; n < d->n_rows; n++) {
        double y = eng->w0;
        if (r) {
            for (int64_t e = r->row_ptr[n]; e < r->row_ptr[n + 1]; e++) {
                uint32_t sl = slots[0][e];
                if (sl != FACTO_FM_NO_SLOT)
                    y += eng->w[sl] * r->values[e];
            }
        }
        for (int b = 0; b < d->n_blocks; b++)
            y += eng->brows[bidx[b]].lin[d->block[b].ref[n]];
        out[n] = y;
    }
}

/* Full y^ of up to two data sets (train resync, test) with the current
 * parameters: O(k (nnz(direct) + sum_B nnz(B) + n n_blocks)). */
static void fct_fm_predict_sets(fct_fm_engine *eng, int nd, const fct_fm_data *const *d,
                                  const uint32_t *const *const *slots, const int *const *bidx, double *const *out)
{
    /* linear parts */
    for (int i = 0; i < eng->n_brows; i++) {
        fct_fm_brows *b = &eng->brows[i];
        const facto_rows *r = b->rows;
        for (int64_t j = 0; j < r->n_rows; j++) {
            double lin = 0.0;
            for (int64_t e = r->row_ptr[j]; e < r->row_ptr[j + 1]; e++)
                if (b->slots[e] != FACTO_FM_NO_SLOT)
                    lin += eng->w[b->slots[e]] * r->values[e];
            b->lin[j] = lin;
        }
    }
    for (int i = 0; i < nd; i++)
        fct_fm_set_linear(eng, d[i], slots[i], bidx[i], out[i]);
    for (int32_t f = 0; f < eng->k; f++) {
        const double *vf = eng->V + (int64_t)f * eng->n_slots;
        for (int i = 0; i < eng->n_brows; i++)
            fct_fm_brows_factor(eng, &eng->brows[i], vf, 1);
        for (int i = 0; i < nd; i++)
            fct_fm_add_factor(eng, d[i], slots[i], bidx[i], vf, out[i]);
    }
}

/* ---- samples kept in the model ---------------------------------------- */

static void fct_fm_store_params(fct_fm_engine *eng, float *w0, float *w, float *V)
{
    const int64_t S = eng->n_slots;
    const int32_t k = eng->k;
    double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    double vscale = sqrt(scale);
    *w0 = (float)(scale * eng->w0);
    for (int64_t s = 0; s < S; s++)
        w[s] = (float)(scale * eng->w[s]);
    for (int32_t f = 0; f < k; f++) {
        const double *vf = eng->V + (int64_t)f * S;
        for (int64_t s = 0; s < S; s++)
            V[s * k + f] = (float)(vscale * vf[s]);
    }
}

static double fct_fm_probit(double t)
{
    return 1.0 / (1.0 + exp(-FACTO_FM_PROBIT_SCALE * t));
}

/* ---- low-rank summary of the posterior --------------------------------- */

/*
 * The average prediction over samples s has the pairwise part
 * sum_{i<j} x_i x_j A_ij with A = mean_s V_s V_s^T [n_slots, n_slots], a PSD
 * matrix no single V reproduces (the posterior mean of V is not it: the
 * factors of different samples are not aligned). A randomized Nystrom
 * approximation (Tropp, Yurtsever, Udell & Cevher, "Fixed-rank approximation
 * of a positive-semidefinite matrix from streaming data", NIPS 2017, sec. 3)
 * keeps only Y = A Omega for a Gaussian Omega [n_slots, r], accumulated
 * sample by sample in O(n_slots k r), and ends with A ~ F F^T where
 * F = Y_nu L^-T, L L^T = Omega^T Y_nu, Y_nu = Y + nu Omega (a tiny shift
 * for stability). F becomes the model's V with r factors, and w0, w their
 * posterior means, so a plain FM of r factors predicts the posterior
 * average (up to the rank-r error) at the size of r / k samples.
 * Measured on ML-100K u1 (500 iterations): one-hot user + item rows, rank
 * 128 gives the full average's test RMSE (0.9047) at 1.3 MiB, where 16
 * thinned samples give 0.9145 at 5.5 MiB. With side or implicit features a
 * row holds many features and the rank-r error of each of its pairs adds
 * up (rank 256: 0.947 instead of 0.897 with side features), so thinned
 * samples stay the default and the summary is opt-in.
 */
typedef struct fct_fm_summary {
    int32_t r;
    int64_t n;   /* samples accumulated */
    double *omega; /* [n_slots, r] */
    double *y;     /* [n_slots, r] */
    double *t;     /* [k, r] scratch */
} fct_fm_summary;

static void fct_fm_summary_free(fct_fm_summary *s)
{
    free(s->omega);
    free(s->y);
    free(s->t);
    memset(s, 0, sizeof *s);
}

static facto_status fct_fm_summary_init(fct_fm_engine *eng, fct_fm_summary *s, int64_t n, int32_t r,
                                          uint64_t seed)
{
    size_t NS = n ? (size_t)n : 1;
    if ((size_t)r > NS) /* rank n_slots is already exact */
        r = (int32_t)NS;
    s->r = r;
    s->omega = fct_malloc_array(NS * (size_t)r, sizeof *s->omega);
    s->y = fct_calloc_array(NS * (size_t)r, sizeof *s->y);
    s->t = fct_malloc_array((size_t)eng->k * (size_t)r, sizeof *s->t);
    if (!s->omega || !s->y || !s->t)
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for a rank-%ld posterior summary", (long)r);
    fct_rng rng; /* its own stream: the chain does not depend on r */
    fct_rng_seed(&rng, seed ^ 0x6a09e667f3bcc909ull);
    for (size_t i = 0; i < NS * (size_t)r; i++)
        s->omega[i] = fct_rng_normal(&rng);
    return FACTO_OK;
}

/* Y += V V^T Omega for V [k, NS] factor-major (the engine's V, or the
 * per-user / per-item sums of a ratings model). O(NS k r). */
static void fct_fm_summary_add(fct_fm_engine *eng, fct_fm_summary *s, const double *V, int64_t NS)
{
    fct_gram_update(V, NS, eng->k, s->omega, s->r, s->t, s->y);
    s->n++;
}

/* F [NS, r] (64-byte aligned, owned by the caller) with F F^T ~ the mean
 * of V V^T over the samples added. */
static facto_status fct_fm_summary_factor(fct_fm_engine *eng, fct_fm_summary *s, int64_t NS, float **out)
{
    const int32_t r = s->r;
    *out = NULL;
    facto_status st = FACTO_OK;
    double *c = fct_malloc_array((size_t)r * (size_t)r, sizeof *c);
    float *F = fct_aligned_alloc((size_t)(NS ? NS : 1) * (size_t)r * sizeof(float));
    if (!c || !F) {
        free(c);
        fct_aligned_free(F);
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory finishing the posterior summary");
    }
    double fro = 0.0;
    for (int64_t i = 0; i < NS * r; i++) {
        s->y[i] /= (double)s->n;
        fro += s->y[i] * s->y[i];
    }
    double nu = 1e-9 * sqrt(fro) + 1e-300;
    for (int attempt = 0; attempt < 8; attempt++, nu *= 100.0) {
        /* C = Omega^T (Y + nu Omega), symmetrised; Cholesky in place. */
        for (int32_t a = 0; a < r; a++)
            for (int32_t b = 0; b < r; b++)
                c[a * r + b] = 0.0;
        for (int64_t i = 0; i < NS; i++) {
            const double *om = s->omega + i * r, *yi = s->y + i * r;
            for (int32_t a = 0; a < r; a++) {
                double oa = om[a];
                double *ca = c + (int64_t)a * r;
                for (int32_t b = 0; b <= a; b++)
                    ca[b] += oa * (yi[b] + nu * om[b]) + om[b] * (yi[a] + nu * oa);
            }
        }
        int ok = 1;
        for (int32_t a = 0; a < r && ok; a++) {
            for (int32_t b = 0; b <= a; b++) {
                double v = 0.5 * c[a * r + b];
                if (b == a)
                    v = c[a * r + a] * 0.5;
                for (int32_t q = 0; q < b; q++)
                    v -= c[a * r + q] * c[b * r + q];
                if (b == a) {
                    if (!(v > 0.0)) {
                        ok = 0;
                        break;
                    }
                    c[a * r + a] = sqrt(v);
                } else {
                    c[a * r + b] = v / c[b * r + b];
                }
            }
        }
        if (!ok)
            continue;
        /* Row i of F solves L f = y_i + nu omega_i. */
        for (int64_t i = 0; i < NS; i++) {
            const double *om = s->omega + i * r, *yi = s->y + i * r;
            double *f = s->t; /* reuse scratch: k >= 1 rows of r, need r */
            for (int32_t a = 0; a < r; a++) {
                double v = yi[a] + nu * om[a];
                for (int32_t q = 0; q < a; q++)
                    v -= c[a * r + q] * f[q];
                f[a] = v / c[a * r + a];
            }
            for (int32_t a = 0; a < r; a++)
                F[i * r + a] = (float)f[a];
        }
        free(c);
        *out = F;
        return FACTO_OK;
    }
    st = fct_fail(eng->ctx, FACTO_ERR_INTERNAL, "posterior summary: Omega^T A Omega is not positive definite");
    free(c);
    fct_aligned_free(F);
    return st;
}

/* Turn the summary into the model's parameters: V := F [n_slots, r],
 * w0 / w := posterior means, no stored samples; the classifier's scaled as
 * fct_fm_store_params scales a sample (probit to logistic: w0, w times
 * the scale, V times its root, so F F^T times the scale). */
static facto_status fct_fm_summary_finish(fct_fm_engine *eng, fct_fm_summary *s, fct_fm_model *m,
                                            double w0_mean, const double *w_sum, int n_lin)
{
    float *F = NULL;
    facto_status st = fct_fm_summary_factor(eng, s, eng->n_slots, &F);
    if (st != FACTO_OK)
        return st;
    double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    if (eng->classify) {
        float vs = (float)sqrt(scale);
        for (int64_t i = 0; i < eng->n_slots * (int64_t)s->r; i++)
            F[i] *= vs;
    }
    fct_aligned_free(m->V);
    m->V = F;
    m->k = s->r;
    m->params.num_factors = s->r;
    m->w0 = (float)(scale * w0_mean);
    for (int64_t i = 0; i < eng->n_slots; i++)
        m->w[i] = (float)(scale * w_sum[i] / n_lin);
    return FACTO_OK;
}

/* ---- per-user / per-item sums of a ratings model ----------------------- */

/*
 * A ratings model scores (u, i) as w0 + b_u + b_i + <q_u, q_i> (fm.h). Its
 * b is linear in the prediction, so the posterior mean over every
 * post-burn-in sample is exact. The pairwise part's mean is
 * mean_s <q_u^s, q_i^s> = G_ui with G = mean_s Q_s Q_s^T [nb, nb], the Gram
 * matrix of the stacked sums Q_s [nb, k]: kept either as S thinned samples
 * concatenated ([q^1 .. q^S] / sqrt(S), exact for those S, S k floats a
 * row) or as the rank-r Nystrom factor F of G (F F^T ~ G, r floats a row).
 * Every row of these data is one user and one item, so the one-hot case of
 * the feature-level summary applies whatever the blocks hold.
 */
typedef struct fct_fm_pairs {
    int64_t nb, off1;      /* block rows: users [0, off1), items [off1, nb) */
    int bidx[2];           /* engine brows of the user and item blocks */
    double *q;             /* [k, nb] sums of the current parameters */
    double *b;             /* [nb] */
    double *sum_b;         /* [nb] over post-burn-in samples */
    double sum_w0;
    int64_t n;             /* samples in sum_b */
    int keep, n_kept;      /* thinned samples of q (no summary) */
    float *kept;           /* [keep, nb, k] */
    fct_fm_summary sum;  /* r > 0: Nystrom summary of G */
} fct_fm_pairs;

static void fct_fm_pairs_free(fct_fm_pairs *p)
{
    free(p->q);
    free(p->b);
    free(p->sum_b);
    free(p->kept);
    fct_fm_summary_free(&p->sum);
    memset(p, 0, sizeof *p);
}

/* b and q of every block row for the engine's current parameters.
 * O(k (nnz(user block) + nnz(item block))). */
static void fct_fm_pairs_compute(fct_fm_engine *eng, fct_fm_pairs *p)
{
    for (int bi = 0; bi < 2; bi++) {
        fct_fm_brows *br = &eng->brows[p->bidx[bi]];
        const facto_rows *r = br->rows;
        int64_t off = bi ? p->off1 : 0;
        for (int64_t j = 0; j < r->n_rows; j++) {
            double lin = 0.0;
            for (int64_t e = r->row_ptr[j]; e < r->row_ptr[j + 1]; e++)
                if (br->slots[e] != FACTO_FM_NO_SLOT)
                    lin += eng->w[br->slots[e]] * r->values[e];
            p->b[off + j] = lin;
        }
    }
    for (int32_t f = 0; f < eng->k; f++) {
        const double *vf = eng->V + (int64_t)f * eng->n_slots;
        for (int bi = 0; bi < 2; bi++) {
            fct_fm_brows *br = &eng->brows[p->bidx[bi]];
            int64_t off = bi ? p->off1 : 0;
            fct_fm_brows_factor(eng, br, vf, 1);
            for (int64_t j = 0; j < br->rows->n_rows; j++) {
                p->q[(int64_t)f * p->nb + off + j] = br->qf[j];
                p->b[off + j] += 0.5 * (br->qf[j] * br->qf[j] - br->sf[j]);
            }
        }
    }
}

/* Write the model's pair part: users = block rows [0, U), items = block
 * rows [off1, off1 + I); the empty rows for unknown ids are left out. */
static facto_status fct_fm_pairs_finish(fct_fm_engine *eng, fct_fm_pairs *p, fct_fm_model *m)
{
    const int64_t U = p->off1 - 1, I = p->nb - p->off1 - 1;
    const int32_t k = eng->k;
    double scale = eng->classify ? FACTO_FM_PROBIT_SCALE : 1.0;
    int32_t pk;
    float *F = NULL;
    if (p->n == 0) { /* ALS, or no sample after burn-in: the last parameters */
        fct_fm_pairs_compute(eng, p);
        for (int64_t j = 0; j < p->nb; j++)
            p->sum_b[j] = p->b[j];
        p->sum_w0 = eng->w0;
        p->n = 1;
        pk = k;
    } else if (p->sum.r > 0 && p->sum.n > 0) {
        facto_status st = fct_fm_summary_factor(eng, &p->sum, p->nb, &F);
        if (st != FACTO_OK)
            return st;
        pk = p->sum.r;
    } else {
        pk = p->n_kept > 0 ? p->n_kept * k : k;
    }
    if (pk < 1)
        pk = 1;
    m->n_users = (int32_t)U;
    m->n_items = (int32_t)I;
    m->pair_k = pk;
    size_t rows = (size_t)(U + I) ? (size_t)(U + I) : 1;
    m->pair_b = fct_malloc_array(rows, sizeof *m->pair_b);
    m->pair_q = fct_aligned_alloc(rows * (size_t)pk * sizeof(float));
    if (!m->pair_b || !m->pair_q) {
        fct_aligned_free(F);
        return fct_fail(eng->ctx, FACTO_ERR_NOMEM, "out of memory for %lld per-user and per-item sums",
                          (long long)(U + I));
    }
    m->pair_w0 = (float)(scale * p->sum_w0 / (double)p->n);
    double vs = sqrt(scale), cs = p->n_kept > 0 ? vs / sqrt((double)p->n_kept) : vs;
    for (int64_t r = 0; r < U + I; r++) {
        int64_t j = r < U ? r : p->off1 + (r - U);
        m->pair_b[r] = (float)(scale * p->sum_b[j] / (double)p->n);
        float *out = m->pair_q + r * pk;
        if (F) {
            for (int32_t c = 0; c < pk; c++)
                out[c] = (float)(vs * F[j * pk + c]);
        } else if (p->n_kept > 0) {
            for (int t = 0; t < p->n_kept; t++)
                for (int32_t f = 0; f < k; f++)
                    out[t * k + f] = (float)(cs * p->kept[((size_t)t * (size_t)p->nb + (size_t)j) * (size_t)k + f]);
        } else {
            for (int32_t f = 0; f < k; f++)
                out[f] = (float)(vs * p->q[(int64_t)f * p->nb + j]);
        }
    }
    fct_aligned_free(F);
    return FACTO_OK;
}

/* ---- the driver ----------------------------------------------------------- */

/*
 * How the chains of one run keep in step (NULL for a lone chain). Only
 * chain 0 has the callbacks, so only it can be asked to stop early; every
 * other chain then ends after the same iterations, whatever the thread
 * count. Chain 0 publishes each iteration before it runs it (`started`) and
 * sets `done` when it leaves its loop; a chain c > 0 runs iteration `it`
 * only once chain 0 has started it (waiting when `lockstep`, that is when
 * there is a callback that could stop chain 0), and ends when chain 0 ended
 * before `it`. `failed`: a chain's error, which ends every chain.
 */
typedef struct fct_fm_chain_sync {
    atomic_int started, done, failed;
    int lockstep;
} fct_fm_chain_sync;

/* Chain `chain` may run iteration `it` (see fct_fm_chain_sync). */
static int fct_fm_chain_may_run(fct_fm_chain_sync *sync, int chain, int it)
{
    if (!sync)
        return 1;
    if (atomic_load(&sync->failed))
        return 0;
    if (chain == 0) {
        atomic_store(&sync->started, it);
        return 1;
    }
    if (!sync->lockstep)
        return 1;
    long wait_ns = 20000;
    for (;;) {
        if (atomic_load(&sync->failed))
            return 0;
        if (atomic_load(&sync->started) >= it)
            return 1;
        if (atomic_load(&sync->done))
            return atomic_load(&sync->started) >= it;
        struct timespec ts = {0, wait_ns};
        nanosleep(&ts, NULL);
        if (wait_ns < 1000000)
            wait_ns *= 2;
    }
}

/*
 * One chain (MCMC) or the ALS run. test_avg (may be NULL): [test rows] the
 * chain's running average of the test predictions (probabilities for the
 * classifier; not clipped). sync, chain: see fct_fm_chain_sync.
 */
static facto_status fct_fm_cd_chain(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                                      const fct_fm_data *train, const uint32_t *const *train_slots,
                                      const fct_fm_data *test, const uint32_t *const *test_slots,
                                      const facto_fm_callbacks *callbacks, int burnin_req, int summary_rank,
                                      fct_fm_cd_result *result, double *test_avg, fct_fm_chain_sync *sync,
                                      int chain)
{
    fct_fm_engine eng;
    memset(&eng, 0, sizeof eng);
    fct_fm_summary sum; /* before any goto done */
    memset(&sum, 0, sizeof sum);
    fct_fm_pairs pr;
    memset(&pr, 0, sizeof pr);
    eng.ctx = ctx;
    eng.m = m;
    eng.mode = mode;
    eng.classify = m->params.predictor_type == FACTO_FM_BINARY_CLASSIFIER;
    eng.k = m->k;
    eng.n_slots = m->n_slots;
    eng.n = train->n_rows;
    const facto_fm_params *P = &m->params;
    const int T = P->num_iter > 0 ? P->num_iter : 1;
    facto_status st = FACTO_OK;
    uint8_t *seen = NULL;
    int64_t *count = NULL;
    double *pred_tr = NULL, *pred_te = NULL, *sum_te = NULL, *sum_w = NULL;
    float *scores_tr = NULL, *scores_te = NULL;
    int train_bidx[FACTO_FM_MAX_BLOCKS], test_bidx[FACTO_FM_MAX_BLOCKS];

    if (!train->direct || !train->direct->labels)
        return fct_fail(ctx, FACTO_ERR_INVALID, "training rows have no labels");
    if (eng.n < 1)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "no training rows");
    if (eng.n >= (int64_t)UINT32_MAX)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%lld training rows: the %s solver takes at most 2^32-2",
                          (long long)eng.n, mode == FACTO_FM_CD_ALS ? "als" : "mcmc");
    if (eng.n_slots >= (int64_t)UINT32_MAX)
        return fct_fail(ctx, FACTO_ERR_INVALID, "too many parameter slots");
    if (test && (!test->direct || !test->direct->labels))
        test = NULL;
    eng.labels = train->direct->labels;
    fct_rng_seed(&eng.rng, P->seed);

    const size_t NS = eng.n_slots ? (size_t)eng.n_slots : 1;
    eng.eq = fct_calloc_array((size_t)eng.n, sizeof *eng.eq);
    eng.w = fct_calloc_array(NS, sizeof *eng.w);
    eng.V = fct_malloc_array(NS * (size_t)eng.k, sizeof *eng.V);
    eng.group = fct_calloc_array(NS, sizeof *eng.group);
    seen = fct_calloc_array(NS, 1);
    count = fct_malloc_array(NS, sizeof *count);
    pred_tr = fct_malloc_array((size_t)eng.n, sizeof *pred_tr);
    scores_tr = fct_malloc_array((size_t)eng.n, sizeof *scores_tr);
    if (eng.classify)
        eng.z = fct_calloc_array((size_t)eng.n, sizeof *eng.z);
    if (!eng.eq || !eng.w || !eng.V || !eng.group || !seen || !count || !pred_tr || !scores_tr ||
        (eng.classify && !eng.z)) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the %s solver state",
                        mode == FACTO_FM_CD_ALS ? "als" : "mcmc");
        goto done;
    }
    if (test) {
        size_t nt = test->n_rows ? (size_t)test->n_rows : 1;
        pred_te = fct_malloc_array(nt, sizeof *pred_te);
        sum_te = fct_calloc_array(nt, sizeof *sum_te);
        scores_te = fct_malloc_array(nt, sizeof *scores_te);
        if (!pred_te || !sum_te || !scores_te) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for test predictions");
            goto done;
        }
    }

    /* Prior groups per slot. */
    eng.n_groups = train->feature_group && train->n_groups > 0 ? train->n_groups : 1;
    if (eng.n_groups > 256) {
        st = fct_fail(ctx, FACTO_ERR_INVALID, "%ld prior groups: at most 256", (long)eng.n_groups);
        goto done;
    }
    if (train->feature_group) {
        for (int64_t s = 0; s < eng.n_slots; s++) {
            uint64_t key = m->hashed ? m->slot_keys[s] : (uint64_t)s;
            int32_t g = key < train->feature_dim ? train->feature_group[key] : 0;
            if (g < 0 || g >= eng.n_groups) {
                st = fct_fail(ctx, FACTO_ERR_INVALID, "feature %llu: prior group %ld is not in [0, %ld)",
                                (unsigned long long)key, (long)g, (long)eng.n_groups);
                goto done;
            }
            eng.group[s] = g;
        }
    }

    /* Sources and their transposes. */
    eng.n_src = 1 + train->n_blocks;
    for (int i = 0; i < eng.n_src; i++) {
        fct_fm_src *s = &eng.src[i];
        if (i == 0) {
            s->n_rows = eng.n;
            s->row_ptr = train->direct->row_ptr;
            s->val = train->direct->values;
            s->brows = -1;
        } else {
            const fct_fm_block *b = &train->block[i - 1];
            s->n_rows = b->rows->n_rows;
            s->row_ptr = b->rows->row_ptr;
            s->val = b->rows->values;
            s->ref = b->ref;
            s->brows = fct_fm_brows_get(&eng, b->rows, train_slots[i]);
            train_bidx[i - 1] = s->brows;
            if (s->brows < 0) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for block caches");
                goto done;
            }
        }
        s->slot = train_slots[i];
        if ((st = fct_fm_src_build(&eng, s, seen, count)) != FACTO_OK)
            goto done;
    }
    for (int b = 0; test && b < test->n_blocks; b++) {
        test_bidx[b] = fct_fm_brows_get(&eng, test->block[b].rows, test_slots[1 + b]);
        if (test_bidx[b] < 0) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for block caches");
            goto done;
        }
    }
    if (eng.n_src > 1) {
        size_t nr = eng.src[eng.n_src - 1].n_rows ? (size_t)eng.src[eng.n_src - 1].n_rows : 1;
        eng.pend_a = fct_calloc_array(nr, sizeof *eng.pend_a);
        eng.pend_b = fct_calloc_array(nr, sizeof *eng.pend_b);
        eng.pend_q1 = fct_calloc_array(eng.src[1].n_rows ? (size_t)eng.src[1].n_rows : 1, sizeof *eng.pend_q1);
        if (!eng.pend_a || !eng.pend_b || !eng.pend_q1) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for block sums");
            goto done;
        }
    }
    if (eng.n_src == 1 && !(eng.qn = fct_calloc_array((size_t)eng.n, sizeof *eng.qn))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the rows' q");
        goto done;
    }
    eng.group_size = fct_calloc_array((size_t)eng.n_groups, sizeof *eng.group_size);
    int64_t n_unseen = 0;
    for (int64_t s = 0; s < eng.n_slots; s++)
        n_unseen += !seen[s];
    eng.unseen = fct_malloc_array(n_unseen ? (size_t)n_unseen : 1, sizeof *eng.unseen);
    eng.mu_w = fct_calloc_array((size_t)eng.n_groups, sizeof *eng.mu_w);
    eng.lambda_w = fct_calloc_array((size_t)eng.n_groups, sizeof *eng.lambda_w);
    eng.mu_v = fct_calloc_array((size_t)eng.n_groups * (size_t)eng.k, sizeof *eng.mu_v);
    eng.lambda_v = fct_calloc_array((size_t)eng.n_groups * (size_t)eng.k, sizeof *eng.lambda_v);
    if (!eng.group_size || !eng.unseen || !eng.mu_w || !eng.lambda_w || !eng.mu_v || !eng.lambda_v) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for hyperparameters");
        goto done;
    }
    for (int64_t s = 0; s < eng.n_slots; s++) {
        if (seen[s])
            eng.group_size[eng.group[s]]++;
        else
            eng.unseen[eng.n_unseen++] = (uint32_t)s;
    }

    /* Start as libFM does: w0 = w = 0, V ~ N(0, init_stdev^2); fixed
     * precisions from the *_wd settings for ALS. */
    eng.alpha = 1.0;
    if (mode == FACTO_FM_CD_ALS) {
        eng.lambda0 = P->bias_wd;
        for (int32_t g = 0; g < eng.n_groups; g++) {
            eng.lambda_w[g] = P->linear_wd;
            for (int32_t f = 0; f < eng.k; f++)
                eng.lambda_v[g * eng.k + f] = P->factors_wd;
        }
    } else {
        eng.lambda0 = 0.0;
        for (int32_t g = 0; g < eng.n_groups; g++) {
            eng.lambda_w[g] = 1.0;
            for (int32_t f = 0; f < eng.k; f++)
                eng.lambda_v[g * eng.k + f] = 1.0;
        }
    }
    for (int32_t f = 0; f < eng.k; f++)
        for (int64_t s = 0; s < eng.n_slots; s++)
            eng.V[(int64_t)f * eng.n_slots + s] = seen[s] ? P->init_stdev * fct_rng_normal(&eng.rng) : 0.0;

    /* Training targets and the running prediction range. */
    float tmin = INFINITY, tmax = -INFINITY;
    for (int64_t n = 0; n < eng.n; n++) {
        float y = fct_fm_label(m, eng.labels[n]);
        if (!isfinite(y)) {
            st = fct_fail(ctx, FACTO_ERR_INVALID, "training row %lld: label is not finite", (long long)n + 1);
            goto done;
        }
        if (y < tmin)
            tmin = y;
        if (y > tmax)
            tmax = y;
    }
    if (!eng.classify) {
        m->target_min = tmin;
        m->target_max = tmax;
    }

    /* Samples to keep: the last S post-burn-in iterations spaced `thin`. */
    int burnin = mode != FACTO_FM_CD_MCMC ? T - 1 : burnin_req >= 0 ? burnin_req : P->burn_in;
    if (burnin > T - 1)
        burnin = T - 1;
    int keep = mode == FACTO_FM_CD_MCMC ? P->mcmc_samples : 0;
    if (keep > T - burnin)
        keep = T - burnin;
    int thin = keep > 0 ? (T - burnin) / keep : 1;
    /* Low-rank summary (see fct_fm_summary_*): about 100 samples go into
     * Y = mean_s V_s V_s^T Omega. */
    int sum_every = (T - burnin) / 100 > 1 ? (T - burnin) / 100 : 1;
    if (mode == FACTO_FM_CD_MCMC && summary_rank > 0) {
        keep = 0;
        if ((st = fct_fm_summary_init(&eng, &sum, eng.n_slots, summary_rank, P->seed)) != FACTO_OK)
            goto done;
    }
    /* Ratings data: the model keeps per-user / per-item sums (see
     * fct_fm_pairs) instead of feature-level samples. */
    const int pairs = train->pairs && train->n_blocks == 2;
    if (pairs) {
        keep = 0;
        pr.off1 = train->block[0].rows->n_rows;
        pr.nb = pr.off1 + train->block[1].rows->n_rows;
        pr.bidx[0] = train_bidx[0];
        pr.bidx[1] = train_bidx[1];
        pr.q = fct_malloc_array((size_t)pr.nb * (size_t)eng.k, sizeof *pr.q);
        pr.b = fct_malloc_array((size_t)pr.nb, sizeof *pr.b);
        pr.sum_b = fct_calloc_array((size_t)pr.nb, sizeof *pr.sum_b);
        if (!pr.q || !pr.b || !pr.sum_b) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for per-user and per-item sums");
            goto done;
        }
        int rank = P->summary_rank < 0 ? 256 : P->summary_rank;
        if (mode == FACTO_FM_CD_MCMC && rank > 0) {
            if (rank > pr.nb)
                rank = (int)pr.nb;
            if ((st = fct_fm_summary_init(&eng, &pr.sum, pr.nb, rank, P->seed)) != FACTO_OK)
                goto done;
        } else if (mode == FACTO_FM_CD_MCMC) {
            pr.keep = P->mcmc_samples > 0 ? P->mcmc_samples : 1;
            if (pr.keep > T - burnin)
                pr.keep = T - burnin;
            pr.kept = fct_malloc_array((size_t)pr.keep * (size_t)pr.nb * (size_t)eng.k, sizeof *pr.kept);
            if (!pr.kept) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d posterior samples", pr.keep);
                goto done;
            }
        }
    }
    const int track_means = keep > 0 || sum.r > 0 || pairs;
    if (thin < 1)
        thin = 1;
    if (keep > 0) {
        size_t ns = (size_t)keep;
        float *sw0 = fct_calloc_array(ns, sizeof *sw0);
        float *sw = fct_aligned_alloc(ns * NS * sizeof(float));
        float *sv = fct_aligned_alloc(ns * NS * (size_t)eng.k * sizeof(float));
        if (!sw0 || !sw || !sv) {
            free(sw0);
            fct_aligned_free(sw);
            fct_aligned_free(sv);
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d posterior samples", keep);
            goto done;
        }
        free(m->sample_w0);
        fct_aligned_free(m->sample_w);
        fct_aligned_free(m->sample_V);
        m->sample_w0 = sw0;
        m->sample_w = sw;
        m->sample_V = sv;
    }
    m->n_samples = 0;

    /* Exact errors of the starting point. */
    {
        const fct_fm_data *dd[1] = {train};
        const uint32_t *const *ss[1] = {train_slots};
        const int *bb[1] = {train_bidx};
        double *oo[1] = {pred_tr};
        fct_fm_predict_sets(&eng, 1, dd, ss, bb, oo);
        for (int64_t n = 0; n < eng.n; n++)
            eng.eq[n].e = pred_tr[n] - (eng.classify ? 0.0 : eng.labels[n]); /* probit: z starts at 0 */
    }

    double seconds = 0.0, cpu_seconds = 0.0, sum_w0 = 0.0;
    int n_avg = 0, n_lin = 0, it;
    sum_w = fct_calloc_array(NS, sizeof *sum_w);
    if (!sum_w) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for posterior means");
        goto done;
    }
    double test_rmse_avg = NAN;
    for (it = 1; it <= T; it++) {
        if (!fct_fm_chain_may_run(sync, chain, it)) {
            it--; /* chain 0 stopped before it, or a chain failed: iteration `it` does not run */
            break;
        }
        double t0 = fct_fm_now(), c0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
        if (eng.classify && mode == FACTO_FM_CD_MCMC) {
            for (int64_t n = 0; n < eng.n; n++) {
                double yhat = eng.eq[n].e + eng.z[n];
                eng.z[n] = (float)fct_fm_trunc_normal(&eng.rng, yhat, eng.labels[n] > 0.0f);
                eng.eq[n].e = yhat - eng.z[n];
            }
        } else if (eng.classify) {
            /* ALS classifier: least squares on +-1 targets. */
            for (int64_t n = 0; n < eng.n; n++) {
                double yhat = eng.eq[n].e + eng.z[n];
                eng.z[n] = eng.labels[n] > 0.0f ? 1.0f : -1.0f;
                eng.eq[n].e = yhat - eng.z[n];
            }
        }
        fct_fm_draw_alpha(&eng);
        fct_fm_sweep_w0(&eng);
        if (mode == FACTO_FM_CD_MCMC)
            fct_fm_draw_hyper(&eng, eng.w, eng.mu_w, eng.lambda_w, 1);
        fct_fm_sweep_w(&eng);
        if (mode == FACTO_FM_CD_MCMC) {
            for (int32_t f = 0; f < eng.k; f++)
                fct_fm_draw_hyper(&eng, eng.V + (int64_t)f * eng.n_slots, eng.mu_v + f, eng.lambda_v + f,
                                    eng.k);
        }
        for (int32_t f = 0; f < eng.k; f++)
            fct_fm_sweep_v(&eng, f);
        fct_fm_flush_pending(&eng);
        seconds += fct_fm_now() - t0;
        cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - c0;

        /* Train errors: resynchronised exactly every 8 iterations (bounds
         * rounding drift of the incremental updates). Test: every iteration. */
        {
            const fct_fm_data *dd[2] = {test, train};
            const uint32_t *const *ss[2] = {test_slots, train_slots};
            const int *bb[2] = {test_bidx, train_bidx};
            double *oo[2] = {pred_te, pred_tr};
            int resync = it % 8 == 0 || it == T;
            if (test)
                fct_fm_predict_sets(&eng, 1 + resync, dd, ss, bb, oo);
            else if (resync)
                fct_fm_predict_sets(&eng, 1, dd + 1, ss + 1, bb + 1, oo + 1);
            if (resync) {
                for (int64_t n = 0; n < eng.n; n++) {
                    double target = eng.classify ? eng.z[n] : eng.labels[n];
                    eng.eq[n].e = pred_tr[n] - target;
                }
            }
        }
        double sse = 0.0;
        for (int64_t n = 0; n < eng.n; n++)
            sse += eng.eq[n].e * eng.eq[n].e;
        if (!isfinite(sse)) {
            st = fct_fail(ctx, FACTO_ERR_DIVERGED,
                            "%s iteration %d: the training error became non-finite; lower init_stdev%s", 
                            mode == FACTO_FM_CD_ALS ? "als" : "mcmc", it,
                            mode == FACTO_FM_CD_ALS ? " or raise linear_wd / factors_wd" : "");
            goto done;
        }
        if (test && it > burnin) {
            /* Each sample's prediction clipped to the training range before
             * averaging, as libFM does (a saved model of thinned samples
             * scores the same way). ML-100K u1, side features, one chain of
             * 500, seeds 1-4: chain RMSE 0.8953-0.8963 (bench/fm_seeds.sh),
             * where libFM gives 0.8947-0.8965. */
            const double lo = m->target_min, hi = m->target_max;
            n_avg++;
            for (int64_t n = 0; n < test->n_rows; n++) {
                double p = pred_te[n];
                sum_te[n] += eng.classify ? fct_fm_probit(p) : p < lo ? lo : p > hi ? hi : p;
            }
        }
        if (track_means && it > burnin) {
            n_lin++;
            sum_w0 += eng.w0;
            for (int64_t s = 0; s < eng.n_slots; s++)
                sum_w[s] += eng.w[s];
        }
        if (pairs && mode == FACTO_FM_CD_MCMC && it > burnin) {
            double s0 = fct_fm_now(), sc0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
            fct_fm_pairs_compute(&eng, &pr);
            for (int64_t j = 0; j < pr.nb; j++)
                pr.sum_b[j] += pr.b[j];
            pr.sum_w0 += eng.w0;
            pr.n++;
            /* about 100 samples spread over the chain: each add costs
             * O(nb k r) (~4 ms on ML-100K at r 256, k 32, AVX2); fewer samples
             * lose accuracy on short chains (100 iterations, every 5th:
             * saved 0.9116 against the chain's 0.9093; every one: 0.9098) */
            if (pr.sum.r > 0 && (T - it) % sum_every == 0)
                fct_fm_summary_add(&eng, &pr.sum, pr.q, pr.nb);
            int pthin = pr.keep > 0 ? (T - burnin) / pr.keep : 1;
            if (pthin < 1)
                pthin = 1;
            if (pr.keep > 0 && (T - it) % pthin == 0 && (T - it) / pthin < pr.keep && pr.n_kept < pr.keep) {
                float *dst = pr.kept + (size_t)pr.n_kept++ * (size_t)pr.nb * (size_t)eng.k;
                for (int64_t j = 0; j < pr.nb; j++)
                    for (int32_t f = 0; f < eng.k; f++)
                        dst[j * eng.k + f] = (float)pr.q[(int64_t)f * pr.nb + j];
            }
            seconds += fct_fm_now() - s0;
            cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - sc0;
        }
        if (sum.r > 0 && it > burnin && (T - it) % sum_every == 0) {
            double s0 = fct_fm_now(), sc0 = fct_fm_clock(CLOCK_THREAD_CPUTIME_ID);
            fct_fm_summary_add(&eng, &sum, eng.V, eng.n_slots);
            seconds += fct_fm_now() - s0; /* part of training: counted */
            cpu_seconds += fct_fm_clock(CLOCK_THREAD_CPUTIME_ID) - sc0;
        }
        if (keep > 0 && it > burnin && (T - it) % thin == 0 && (T - it) / thin < keep) {
            int32_t si = m->n_samples++;
            fct_fm_store_params(&eng, &m->sample_w0[si], m->sample_w + (size_t)si * NS,
                                  m->sample_V + (size_t)si * NS * (size_t)eng.k);
        }

        facto_fm_epoch_report rep;
        memset(&rep, 0, sizeof rep);
        rep.epoch = it;
        rep.epochs = T;
        rep.seconds = fct_fm_now() - t0;
        rep.samples_per_second = rep.seconds > 0 ? (double)eng.n / rep.seconds : 0.0;
        int want_report = callbacks && callbacks->on_epoch;
        if (test) {
            for (int64_t n = 0; n < test->n_rows; n++) {
                double p = n_avg > 0 ? sum_te[n] / n_avg
                                     : (eng.classify ? fct_fm_probit(pred_te[n]) : pred_te[n]);
                if (!eng.classify)
                    p = p < m->target_min ? m->target_min : p > m->target_max ? m->target_max : p;
                scores_te[n] = (float)p;
            }
            if (!eng.classify) {
                double s2 = 0.0;
                for (int64_t n = 0; n < test->n_rows; n++) {
                    double d = scores_te[n] - test->direct->labels[n];
                    s2 += d * d;
                }
                test_rmse_avg = test->n_rows ? sqrt(s2 / (double)test->n_rows) : NAN;
            }
            if (want_report &&
                (st = fct_fm_metrics_from_scores(ctx, m, test->direct, scores_te, &rep.test)) != FACTO_OK)
                goto done;
        }
        if (want_report) {
            for (int64_t n = 0; n < eng.n; n++) {
                double target = eng.classify ? eng.z[n] : eng.labels[n];
                double p = eng.eq[n].e + target;
                if (eng.classify)
                    p = fct_fm_probit(p);
                else
                    p = p < m->target_min ? m->target_min : p > m->target_max ? m->target_max : p;
                scores_tr[n] = (float)p;
            }
            if ((st = fct_fm_metrics_from_scores(ctx, m, train->direct, scores_tr, &rep.train)) != FACTO_OK)
                goto done;
            if (callbacks->on_epoch(&rep, callbacks->user_data))
                break;
        }
    }
    if (it > T)
        it = T;
    if (sync && chain == 0)
        atomic_store(&sync->done, 1); /* the other chains run no iteration past `it` */
    if (test_avg && test) {
        for (int64_t n = 0; n < test->n_rows; n++)
            test_avg[n] = n_avg > 0 ? sum_te[n] / n_avg
                                    : (eng.classify ? fct_fm_probit(pred_te[n]) : pred_te[n]);
    }
    if (pairs && (st = fct_fm_pairs_finish(&eng, &pr, m)) != FACTO_OK)
        goto done;
    /* The last sample is the model's point estimate (and the ALS solution). */
    {
        float *w = m->w, *V = m->V;
        fct_fm_store_params(&eng, &m->w0, w, V);
    }
    if (pairs && mode == FACTO_FM_CD_MCMC && n_lin > 0) {
        /* ratings model: w0 and w as posterior means (V stays the last sample) */
        double scale = eng.classify ? FACTO_FM_PROBIT_SCALE : 1.0;
        m->w0 = (float)(scale * sum_w0 / n_lin);
        for (int64_t s = 0; s < eng.n_slots; s++)
            m->w[s] = (float)(scale * sum_w[s] / n_lin);
    }
    if (keep > 0 && m->n_samples == 0) {
        fct_fm_store_params(&eng, &m->sample_w0[0], m->sample_w, m->sample_V);
        m->n_samples = 1;
    }
    if (sum.r > 0 && sum.n > 0) {
        if ((st = fct_fm_summary_finish(&eng, &sum, m, sum_w0 / n_lin, sum_w, n_lin)) != FACTO_OK)
            goto done;
    }
    /* w0 and w enter y^ linearly, so the mean over all post-burn-in samples
     * of their contribution is exact with their posterior means: every
     * stored sample carries those means and keeps its own V. */
    if (keep > 0 && n_lin > 0) {
        double scale = eng.classify ? FACTO_FM_PROBIT_SCALE : 1.0;
        for (int32_t t = 0; t < m->n_samples; t++) {
            m->sample_w0[t] = (float)(scale * sum_w0 / n_lin);
            float *w = m->sample_w + (size_t)t * NS;
            for (int64_t s = 0; s < eng.n_slots; s++)
                w[s] = (float)(scale * sum_w[s] / n_lin);
        }
    }
    if (result) {
        result->iterations = it;
        result->burnin = burnin;
        result->alpha = eng.alpha;
        result->test_rmse_avg = test_rmse_avg;
        result->seconds = seconds;
        result->cpu_seconds = cpu_seconds;
        result->chains = 1;
    }
    facto_log(ctx, FACTO_LOG_INFO, "%s: %d iterations, %.3f s, %d samples kept", mode == FACTO_FM_CD_ALS ? "als" : "mcmc",
              it, seconds, (int)m->n_samples);
    st = fct_ok(ctx);

done:
    fct_fm_summary_free(&sum);
    fct_fm_pairs_free(&pr);
    fct_fm_engine_free(&eng);
    free(seen);
    free(count);
    free(pred_tr);
    free(pred_te);
    free(sum_te);
    free(sum_w);
    free(scores_tr);
    free(scores_te);
    return st;
}

/* ---- several chains ------------------------------------------------------ */

/*
 * MCMC runs params.mcmc_chains independent chains (own seeds, own starting
 * points) on up to fct_threads(ctx) threads and pools their samples: the
 * prediction is the mean over every chain's post-burn-in samples. A Gibbs
 * chain on an FM moves slowly between the posterior's modes (the factors'
 * rotations, and V's scale against lambda), and one chain's training error
 * keeps falling long after its test error has flattened, so several short
 * chains average more of the posterior than one long one. Measured on
 * ML-100K u1, side + user-implicit features, k 32, saved models over seeds
 * 1-4 (bench/fm_seeds.sh): 1 chain x 500 0.8939-0.8946, 4 chains x 250
 * (twice the CPU) 0.8915-0.8919. Chain c > 0 is seeded
 * from (seed, c); chain 0 uses the seed itself, so mcmc_chains 1 is the
 * single-chain run, byte for byte. The result does not depend on the
 * number of threads.
 */

static uint64_t fct_fm_chain_seed(uint64_t seed, int c)
{
    if (c == 0)
        return seed;
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)c; /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A model for chain c > 0: shares m's read-only slot map, owns w, V and
 * what the run allocates. Free with fct_fm_chain_model_free. */
static facto_status fct_fm_chain_model(facto_ctx *ctx, const fct_fm_model *m, fct_fm_model *c)
{
    *c = *m;
    size_t NS = m->n_slots ? (size_t)m->n_slots : 1;
    c->w = fct_aligned_alloc(NS * sizeof(float));
    c->V = fct_aligned_alloc(NS * (size_t)m->k * sizeof(float));
    c->n_samples = 0;
    c->sample_w0 = NULL;
    c->sample_w = c->sample_V = NULL;
    c->users = c->items = NULL;
    c->pair_b = c->pair_q = NULL;
    c->pair_k = 0;
    if (!c->w || !c->V)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for another MCMC chain's parameters");
    return FACTO_OK;
}

static void fct_fm_chain_model_free(fct_fm_model *c)
{
    fct_aligned_free(c->w);
    fct_aligned_free(c->V);
    free(c->sample_w0);
    fct_aligned_free(c->sample_w);
    fct_aligned_free(c->sample_V);
    free(c->pair_b);
    fct_aligned_free(c->pair_q);
    memset(c, 0, sizeof *c);
}

/*
 * F [NS, rout] with F F^T ~ (1/C) sum_c F_c F_c^T, for F_c [NS, rin]
 * row-major (each chain's summary): the Nystrom summary above applied to
 * the chains' own summaries. *out 64-byte aligned, owned by the caller.
 */
static facto_status fct_fm_lowrank_merge(facto_ctx *ctx, float *const *F, int C, int64_t NS, int32_t rin,
                                           int32_t rout, uint64_t seed, float **out, int32_t *rank)
{
    fct_fm_engine tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.ctx = ctx;
    tmp.k = rin;
    fct_fm_summary sm;
    memset(&sm, 0, sizeof sm);
    size_t ns = NS ? (size_t)NS : 1;
    double *V = fct_malloc_array(ns * (size_t)rin, sizeof *V);
    facto_status st = V ? fct_fm_summary_init(&tmp, &sm, NS, rout, seed)
                        : fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory merging MCMC chains");
    for (int c = 0; c < C && st == FACTO_OK; c++) {
        for (int64_t i = 0; i < NS; i++)
            for (int32_t a = 0; a < rin; a++)
                V[(int64_t)a * NS + i] = F[c][i * rin + a];
        fct_fm_summary_add(&tmp, &sm, V, NS);
    }
    if (st == FACTO_OK)
        st = fct_fm_summary_factor(&tmp, &sm, NS, out);
    *rank = sm.r; /* rout, or NS when smaller */
    fct_fm_summary_free(&sm);
    free(V);
    return st;
}

/* Pool chains 1..C-1 (cm[1..C-1]) into chain 0's model m (see above);
 * feature_summary: the run kept a feature-level summary (summary_rank > 0). */
static facto_status fct_fm_chains_merge(facto_ctx *ctx, fct_fm_model *m, fct_fm_model *const *cm, int C,
                                          int feature_summary)
{
    const int64_t NS = m->n_slots;
    const size_t ns = NS ? (size_t)NS : 1;
    facto_status st = FACTO_OK;
    /* The chains ran the same iterations (fct_fm_chain_sync), so their
     * outputs have one shape; the merges below rely on it. */
    for (int c = 1; c < C; c++)
        if (cm[c]->k != m->k || !cm[c]->pair_q != !m->pair_q || (m->pair_q && m->params.summary_rank != 0 &&
                                                                   cm[c]->pair_k != m->pair_k) ||
            (m->n_samples > 0) != (cm[c]->n_samples > 0))
            return fct_fail(ctx, FACTO_ERR_INTERNAL, "MCMC chain %d ended with another shape than chain 0", c);
    if (m->pair_q) { /* ratings model: w0 / w / b are posterior means; q pooled */
        const int64_t rows = (int64_t)m->n_users + m->n_items;
        double w0 = m->w0, pw0 = m->pair_w0;
        for (int c = 1; c < C; c++) {
            w0 += cm[c]->w0;
            pw0 += cm[c]->pair_w0;
            for (int64_t s = 0; s < NS; s++)
                m->w[s] += cm[c]->w[s];
            for (int64_t r = 0; r < rows; r++)
                m->pair_b[r] += cm[c]->pair_b[r];
        }
        m->w0 = (float)(w0 / C);
        m->pair_w0 = (float)(pw0 / C);
        for (int64_t s = 0; s < NS; s++)
            m->w[s] /= (float)C;
        for (int64_t r = 0; r < rows; r++)
            m->pair_b[r] /= (float)C;
        float *F = NULL, *Fs[256];
        int32_t pk = m->pair_k;
        for (int c = 0; c < C; c++)
            Fs[c] = cm[c]->pair_q;
        if (m->params.summary_rank != 0) {
            if ((st = fct_fm_lowrank_merge(ctx, Fs, C, rows, pk, pk, m->params.seed ^ 0x3c6ef372fe94f82bull, &F,
                                             &pk)) != FACTO_OK)
                return st;
        } else { /* thinned samples: concatenate, each chain's mean weighted 1/C */
            int64_t tk = 0;
            for (int c = 0; c < C; c++)
                tk += cm[c]->pair_k;
            if (tk > INT32_MAX / 2 || !(F = fct_aligned_alloc((size_t)(rows ? rows : 1) * (size_t)tk * sizeof(float))))
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory merging MCMC chains");
            double sc = 1.0 / sqrt((double)C);
            for (int64_t r = 0; r < rows; r++) {
                float *o = F + r * tk;
                for (int c = 0; c < C; c++) {
                    const float *q = cm[c]->pair_q + r * cm[c]->pair_k;
                    for (int32_t a = 0; a < cm[c]->pair_k; a++)
                        *o++ = (float)(sc * q[a]);
                }
            }
            pk = (int32_t)tk;
        }
        fct_aligned_free(m->pair_q);
        m->pair_q = F;
        m->pair_k = pk;
        return FACTO_OK;
    }
    if (m->n_samples > 0) { /* thinned samples: concatenate; w0 / w = pooled posterior means */
        int64_t S = 0;
        for (int c = 0; c < C; c++)
            S += cm[c]->n_samples;
        float *sw0 = fct_calloc_array((size_t)S, sizeof *sw0);
        float *sw = fct_aligned_alloc((size_t)S * ns * sizeof(float));
        float *sv = fct_aligned_alloc((size_t)S * ns * (size_t)m->k * sizeof(float));
        double *mw = fct_calloc_array(ns, sizeof *mw);
        if (!sw0 || !sw || !sv || !mw) {
            free(sw0);
            fct_aligned_free(sw);
            fct_aligned_free(sv);
            free(mw);
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld pooled posterior samples", (long long)S);
        }
        double mw0 = 0.0;
        int64_t t = 0;
        for (int c = 0; c < C; c++) { /* every sample of a chain carries that chain's means */
            const fct_fm_model *x = cm[c];
            mw0 += x->sample_w0[0];
            for (int64_t s = 0; s < NS; s++)
                mw[s] += x->sample_w[s];
            memcpy(sv + (size_t)t * ns * (size_t)m->k, x->sample_V,
                   (size_t)x->n_samples * ns * (size_t)m->k * sizeof(float));
            t += x->n_samples;
        }
        for (int64_t j = 0; j < S; j++) {
            sw0[j] = (float)(mw0 / C);
            for (int64_t s = 0; s < NS; s++)
                sw[(size_t)j * ns + (size_t)s] = (float)(mw[s] / C);
        }
        free(mw);
        free(m->sample_w0);
        fct_aligned_free(m->sample_w);
        fct_aligned_free(m->sample_V);
        m->sample_w0 = sw0;
        m->sample_w = sw;
        m->sample_V = sv;
        m->n_samples = (int32_t)S;
        return FACTO_OK;
    }
    if (feature_summary) { /* feature-level summary: V = F, w0 / w means */
        double w0 = 0.0;
        float *Fs[256], *F = NULL;
        for (int c = 0; c < C; c++) {
            w0 += cm[c]->w0;
            Fs[c] = cm[c]->V;
            for (int64_t s = 0; c > 0 && s < NS; s++)
                m->w[s] += cm[c]->w[s];
        }
        int32_t r = m->k;
        if ((st = fct_fm_lowrank_merge(ctx, Fs, C, NS, m->k, m->k, m->params.seed ^ 0x3c6ef372fe94f82bull, &F,
                                         &r)) != FACTO_OK)
            return st;
        m->k = r;
        m->params.num_factors = r;
        m->w0 = (float)(w0 / C);
        for (int64_t s = 0; s < NS; s++)
            m->w[s] /= (float)C;
        fct_aligned_free(m->V);
        m->V = F;
    }
    return FACTO_OK; /* mcmc_samples 0: the last sample of chain 0 */
}

/*
 * The sweeps run in double; the model keeps floats. Feature values near
 * FLT_MAX (libsvm allows up to 3.4e38) let a parameter pass FLT_MAX on the
 * way, and a model holding inf or NaN is one no load accepts (fm.c): refuse
 * it here, naming the first such parameter.
 */
static facto_status fct_fm_check_finite(facto_ctx *ctx, const fct_fm_model *m, fct_fm_cd_mode mode)
{
    const uint64_t NS = (uint64_t)m->n_slots, k = (uint64_t)m->k, S = (uint64_t)m->n_samples;
    const uint64_t pr = (uint64_t)m->n_users + (uint64_t)m->n_items;
    const struct {
        const char *name;
        const float *a;
        uint64_t n;
    } arrays[] = {
        {"w0", &m->w0, 1},
        {"w", m->w, NS},
        {"V", m->V, NS * k},
        {"a sample's w0", m->sample_w0, m->sample_w0 ? S : 0},
        {"a sample's w", m->sample_w, m->sample_w ? S * NS : 0},
        {"a sample's V", m->sample_V, m->sample_V ? S * NS * k : 0},
        {"the per-user / per-item w0", &m->pair_w0, m->pair_b ? 1 : 0},
        {"a per-user / per-item bias", m->pair_b, m->pair_b ? pr : 0},
        {"a per-user / per-item factor", m->pair_q, m->pair_q ? pr * (uint64_t)m->pair_k : 0},
    };
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++)
        for (uint64_t i = 0; i < arrays[a].n; i++)
            if (!isfinite(arrays[a].a[i]))
                return fct_fail(ctx, FACTO_ERR_DIVERGED,
                                  "%s: %s (element %llu) does not fit a float (%g): scale the feature values or "
                                  "labels down, or lower init_stdev (now %g)%s",
                                  mode == FACTO_FM_CD_ALS ? "als" : "mcmc", arrays[a].name, (unsigned long long)i,
                                  (double)arrays[a].a[i], (double)m->params.init_stdev,
                                  mode == FACTO_FM_CD_ALS ? " or raise linear_wd / factors_wd" : "");
    return FACTO_OK;
}

static facto_status fct_fm_cd_chains(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                                       const fct_fm_data *train, const uint32_t *const *train_slots,
                                       const fct_fm_data *test, const uint32_t *const *test_slots,
                                       const facto_fm_callbacks *callbacks, int burnin, int summary_rank,
                                       fct_fm_cd_result *result);

facto_status fct_fm_cd_run(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                             const fct_fm_data *train, const uint32_t *const *train_slots,
                             const fct_fm_data *test, const uint32_t *const *test_slots,
                             const facto_fm_callbacks *callbacks, int burnin, int summary_rank,
                             fct_fm_cd_result *result)
{
    const int C = mode == FACTO_FM_CD_MCMC && m->params.mcmc_chains > 1 ? m->params.mcmc_chains : 1;
    /* Ratings data with thinned samples (summary_rank 0): the model keeps
     * every chain's samples of q side by side, k columns each, and a model
     * file holds at most 2^20 per user / item (fm.c); refuse a run that
     * would end past it rather than save a model no load accepts. The
     * samples per chain as fct_fm_cd_chain keeps them. */
    if (mode == FACTO_FM_CD_MCMC && train->pairs && train->n_blocks == 2 && m->params.summary_rank == 0) {
        const int T = m->params.num_iter > 0 ? m->params.num_iter : 1, S = m->params.mcmc_samples;
        int b = burnin >= 0 ? burnin : m->params.burn_in;
        if (b > T - 1)
            b = T - 1;
        int64_t cols = 0;
        for (int c = 0; c < C; c++) {
            int keep = C == 1 ? S : S / C + (c < S % C);
            keep = keep > 0 ? keep : 1;
            cols += (int64_t)(keep < T - b ? keep : T - b) * m->k;
        }
        if (cols > ((int64_t)1 << 20))
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "mcmc_samples %d with summary_rank 0: %lld samples of num_factors %d would keep %lld "
                              "columns per user and item, more than 2^20 (1048576) a model holds; keep fewer "
                              "samples, or a summary (summary_rank > 0)",
                              S, (long long)(cols / m->k), (int)m->k, (long long)cols);
    }
    facto_status st = C == 1 ? fct_fm_cd_chain(ctx, m, mode, train, train_slots, test, test_slots, callbacks,
                                                 burnin, summary_rank, result, NULL, NULL, 0)
                             : fct_fm_cd_chains(ctx, m, mode, train, train_slots, test, test_slots, callbacks,
                                                  burnin, summary_rank, result);
    if (st == FACTO_OK)
        st = fct_fm_check_finite(ctx, m, mode);
    return st;
}

/* fct_fm_cd_run with params.mcmc_chains > 1 (MCMC). */
static facto_status fct_fm_cd_chains(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                                       const fct_fm_data *train, const uint32_t *const *train_slots,
                                       const fct_fm_data *test, const uint32_t *const *test_slots,
                                       const facto_fm_callbacks *callbacks, int burnin, int summary_rank,
                                       fct_fm_cd_result *result)
{
    const int C = m->params.mcmc_chains;
    if (C > 256)
        return fct_fail(ctx, FACTO_ERR_INVALID, "mcmc_chains %d: at most 256", C);
    if (test && (!test->direct || !test->direct->labels))
        test = NULL;
    const facto_fm_params P = m->params;
    const int S = P.mcmc_samples;
    fct_fm_model *cm[256] = {0};
    fct_fm_model *copies = fct_calloc_array((size_t)C, sizeof *copies);
    facto_ctx *cctx[256] = {0};
    fct_fm_cd_result cres[256];
    facto_status cst[256];
    double *tavg = NULL;
    size_t nt = test && test->n_rows ? (size_t)test->n_rows : 1;
    facto_status st = FACTO_OK;
    fct_fm_chain_sync sync;
    atomic_init(&sync.started, 0);
    atomic_init(&sync.done, 0);
    atomic_init(&sync.failed, 0);
    sync.lockstep = callbacks && callbacks->on_epoch;
    atomic_int next;
    atomic_init(&next, 1);
    if (!copies || (test && !(tavg = fct_calloc_array((size_t)C * nt, sizeof *tavg)))) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d MCMC chains", C);
        goto done;
    }
    for (int c = 0; c < C && st == FACTO_OK; c++) {
        cm[c] = c == 0 ? m : &copies[c];
        if (c > 0)
            st = fct_fm_chain_model(ctx, m, cm[c]);
        if (st == FACTO_OK && !(cctx[c] = facto_ctx_new()))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %d MCMC chains", C);
        if (st == FACTO_OK) {
            cm[c]->params.seed = fct_fm_chain_seed(P.seed, c);
            /* mcmc_samples split over the chains, at least one each */
            int share = S / C + (c < S % C);
            cm[c]->params.mcmc_samples = S > 0 && share < 1 ? 1 : share;
        }
    }
    if (st != FACTO_OK)
        goto done;
    int nthreads = fct_threads(ctx);
    if (nthreads > C)
        nthreads = C;
    double t0 = fct_fm_now();
    /* The first thread runs chain 0 from the start (chains c > 0 may wait
     * for it, see fct_fm_chain_sync), then every thread takes the next
     * chain not yet taken. */
#pragma omp parallel num_threads(nthreads)
    {
        int c = omp_get_thread_num() == 0 ? 0 : atomic_fetch_add(&next, 1);
        while (c < C) {
            memset(&cres[c], 0, sizeof cres[c]);
            cst[c] = fct_fm_cd_chain(cctx[c], cm[c], mode, train, train_slots, test, test_slots,
                                       c == 0 ? callbacks : NULL, burnin, summary_rank, &cres[c],
                                       tavg ? tavg + (size_t)c * nt : NULL, &sync, c);
            if (cst[c] != FACTO_OK)
                atomic_store(&sync.failed, 1);
            if (c == 0)
                atomic_store(&sync.done, 1);
            c = atomic_fetch_add(&next, 1);
        }
    }
    double wall = fct_fm_now() - t0;
    for (int c = 0; c < C; c++) {
        if (cst[c] != FACTO_OK) {
            st = fct_fail(ctx, cst[c], "%s", facto_errmsg(cctx[c]));
            goto done;
        }
    }
    m->params.seed = P.seed;
    m->params.mcmc_samples = S;
    if ((st = fct_fm_chains_merge(ctx, m, cm, C, summary_rank > 0)) != FACTO_OK)
        goto done;
    if (result) {
        *result = cres[0];
        result->seconds = wall;
        result->cpu_seconds = 0.0;
        for (int c = 0; c < C; c++) {
            result->cpu_seconds += cres[c].cpu_seconds;
            if (cres[c].iterations < result->iterations)
                result->iterations = cres[c].iterations;
        }
        result->chains = C;
        result->test_rmse_avg = NAN;
        if (test && m->params.predictor_type != FACTO_FM_BINARY_CLASSIFIER && test->n_rows > 0) {
            double s2 = 0.0;
            for (int64_t n = 0; n < test->n_rows; n++) {
                double p = 0.0;
                for (int c = 0; c < C; c++)
                    p += tavg[(size_t)c * nt + (size_t)n];
                p /= C;
                p = p < m->target_min ? m->target_min : p > m->target_max ? m->target_max : p;
                double d = p - test->direct->labels[n];
                s2 += d * d;
            }
            result->test_rmse_avg = sqrt(s2 / (double)test->n_rows);
        }
    }
    facto_log(ctx, FACTO_LOG_INFO, "mcmc: %d chains of %d iterations pooled, %.3f s", C, cres[0].iterations, wall);
    st = fct_ok(ctx);
done:
    for (int c = 0; c < C; c++) {
        if (c > 0 && copies)
            fct_fm_chain_model_free(&copies[c]);
        facto_ctx_free(cctx[c]);
    }
    if (st != FACTO_OK) {
        m->params.seed = P.seed;
        m->params.mcmc_samples = S;
    }
    free(copies);
    free(tavg);
    return st;
}

/* ---- entry points ------------------------------------------------------- */

facto_status fct_fm_cd_run_rows(facto_ctx *ctx, fct_fm_model *model, fct_fm_cd_mode mode,
                                  const facto_rows *train, const uint32_t *train_slots, const facto_rows *test,
                                  const uint32_t *test_slots, const facto_fm_callbacks *callbacks,
                                  fct_fm_cd_result *result)
{
    fct_fm_data tr, te, pair;
    fct_fm_data_init(&tr, train, 0);
    memset(&pair, 0, sizeof pair);
    const uint32_t *trs[1] = {train_slots}, *tes[1] = {test_slots};
    if (test)
        fct_fm_data_init(&te, test, 0);
    /* Feature rows: summary_rank r > 0 asks for the rank-r summary of the
     * features' factors; -1 (automatic) and 0 keep thinned samples. */
    int rank = mode == FACTO_FM_CD_MCMC && model->params.summary_rank > 0 ? model->params.summary_rank : 0;
    /* One hyperprior group per one-hot field when the rows are laid out so
     * (prior_groups 1): ML-100K u1 as libsvm rows, one chain of 100
     * iterations, seeds 1-4, chain test RMSE 0.9107-0.9130 with a group each
     * for users and items, 0.9165-0.9201 with one group for all
     * (bench/fm_seeds.sh). Dense models only: a group per
     * key of a 2^32-key space would not fit. */
    int32_t *groups = NULL, ng = 1;
    facto_status st = FACTO_OK;
    if (!model->hashed) {
        uint64_t dim = tr.feature_dim > (uint64_t)model->n_slots ? tr.feature_dim : (uint64_t)model->n_slots;
        if ((st = fct_fm_infer_fields(ctx, train, dim, &groups, &ng)) != FACTO_OK)
            return st;
        int ok = 0;
        /* Two one-hot fields (user + item rows, SageMaker's layout): sweep
         * them as pair-form blocks, as ratings are (the same chain up to
         * rounding, about 25% less time an iteration). */
        if (groups && ng == 2 && (st = fct_fm_data_two_fields(ctx, train, groups, dim, &pair, &ok)) != FACTO_OK) {
            free(groups);
            return st;
        }
        if (groups && mode == FACTO_FM_CD_MCMC && model->params.prior_groups) {
            tr.feature_group = groups;
            tr.n_groups = ng;
            facto_log(ctx, FACTO_LOG_INFO, "mcmc: %d one-hot fields in the training rows, a prior group each", (int)ng);
        }
        if (ok && !(mode == FACTO_FM_CD_MCMC && model->params.prior_groups)) {
            pair.feature_group = NULL; /* ALS, or MCMC with one group: no groups */
            pair.n_groups = 0;
        }
        if (ok) {
            uint32_t *ps[3] = {NULL, NULL, NULL};
            for (int b = 0; b < 2 && st == FACTO_OK; b++)
                st = fct_fm_map_rows(ctx, model, pair.block[b].rows, &ps[1 + b]);
            if (st == FACTO_OK)
                st = fct_fm_cd_run(ctx, model, mode, &pair, (const uint32_t *const *)ps, test ? &te : NULL, tes,
                                     callbacks, -1, rank, result);
            free(ps[1]);
            free(ps[2]);
            fct_fm_data_release(&pair);
            free(groups);
            return st;
        }
    }
    st = fct_fm_cd_run(ctx, model, mode, &tr, trs, test ? &te : NULL, tes, callbacks, -1, rank, result);
    free(groups);
    return st;
}

facto_status fct_fm_fit_mcmc(facto_ctx *ctx, fct_fm_model *model, const facto_rows *train,
                               const uint32_t *train_slots, const facto_rows *test, const uint32_t *test_slots,
                               const facto_fm_callbacks *callbacks)
{
    return fct_fm_cd_run_rows(ctx, model, FACTO_FM_CD_MCMC, train, train_slots, test, test_slots, callbacks, NULL);
}

facto_status fct_fm_blocks_predict_raw(facto_ctx *ctx, const fct_fm_model *m, const fct_fm_data *d,
                                         const uint32_t *const *slots, double *out)
{
    fct_fm_engine eng;
    memset(&eng, 0, sizeof eng);
    eng.ctx = ctx;
    eng.k = m->k;
    eng.n_slots = m->n_slots;
    const size_t NS = eng.n_slots ? (size_t)eng.n_slots : 1;
    facto_status st = FACTO_OK;
    int bidx[FACTO_FM_MAX_BLOCKS];
    eng.w = fct_malloc_array(NS, sizeof *eng.w);
    eng.V = fct_malloc_array(NS * (size_t)eng.k, sizeof *eng.V);
    if (!eng.w || !eng.V) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        goto done;
    }
    eng.w0 = m->w0;
    for (int64_t s = 0; s < eng.n_slots; s++) {
        eng.w[s] = m->w[s];
        for (int32_t f = 0; f < eng.k; f++)
            eng.V[(int64_t)f * eng.n_slots + s] = m->V[s * eng.k + f];
    }
    for (int b = 0; b < d->n_blocks; b++) {
        bidx[b] = fct_fm_brows_get(&eng, d->block[b].rows, slots[1 + b]);
        if (bidx[b] < 0) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    {
        const fct_fm_data *dd[1] = {d};
        const uint32_t *const *ss[1] = {slots};
        const int *bb[1] = {bidx};
        double *oo[1] = {out};
        fct_fm_predict_sets(&eng, 1, dd, ss, bb, oo);
    }
done:
    fct_fm_engine_free(&eng);
    return st;
}
