/*
 * ials_cg.c — one half-iteration of iALS (ials_cg.h): the Gram matrix of
 * the fixed side through OpenBLAS, then every row of the other side solved
 * in an OpenMP loop (dynamic schedule: row lengths are long-tailed), by a
 * few warm-started conjugate gradient steps (Takacs, Pilaszy & Tikk 2011)
 * or exactly (fct_factors_solve_row). A CG step on row r costs one pass
 * over its |S_r| rows of Y (kernel rows_apply: y += sum_j (a_j + s w_j
 * <y_j, d>) y_j) plus one k x k product (symv); the residual b - A x at the
 * start costs one more. Per-thread scratch is allocated once per call.
 */
#include "ials_cg.h"

#include "kernels/blas.h"
#include "kernels/kernels.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* Scratch of one thread. */
typedef struct fct_ials_scratch {
    float *r, *d, *Ad; /* [k] each */
    float *c, *w;      /* [longest row] confidences and c - alpha_0 */
    double *work;      /* exact solve: k (k + 1) */
} fct_ials_scratch;

/* Confidences of row r's observations into c, and c - alpha_0 into w. */
static void fct_ials_weights(const fct_ials_cfg *cfg, const float *val, int64_t n, float *c, float *w)
{
    for (int64_t j = 0; j < n; j++) {
        c[j] = 1.0f + cfg->alpha * val[j];
        w[j] = c[j] - cfg->unobserved;
    }
}

/* cg_steps conjugate gradient steps on row x's normal equations, from x. */
static void fct_ials_cg_row(const fct_ials_cfg *cfg, const float *G, const float *Y, const int32_t *idx,
                            int64_t n, float lam, float *x, fct_ials_scratch *s)
{
    const int k = cfg->k;
    float *r = s->r, *d = s->d, *Ad = s->Ad;
    /* r = b - A x = sum_j (c_j - w_j <y_j, x>) y_j - alpha_0 G x - lam x */
    fct_kern.symv(G, k, -cfg->unobserved, -lam, x, r);
    fct_kern.rows_apply(Y, k, idx, n, s->c, s->w, -1.0f, x, k, r);
    memcpy(d, r, (size_t)k * sizeof *d);
    float rr = fct_dot(r, r, k);
    for (int step = 0; step < cfg->cg_steps; step++) {
        if (!(rr > 1e-30f))
            break;
        /* Ad = alpha_0 G d + lam d + sum_j w_j <y_j, d> y_j */
        fct_kern.symv(G, k, cfg->unobserved, lam, d, Ad);
        fct_kern.rows_apply(Y, k, idx, n, NULL, s->w, 1.0f, d, k, Ad);
        const float dAd = fct_dot(d, Ad, k);
        if (!(dAd > 0.0f))
            break;
        const float a = rr / dAd;
        fct_axpy(a, d, x, k);
        fct_axpy(-a, Ad, r, k);
        const float rr_new = fct_dot(r, r, k);
        const float beta = rr_new / rr;
        for (int f = 0; f < k; f++)
            d[f] = r[f] + beta * d[f];
        rr = rr_new;
    }
}

/* Row r's share of the objective with its new x (see ials_cg.h): scores in
 * float (the kernel table's dot), sums in double. */
static double fct_ials_row_loss(const fct_ials_cfg *cfg, const float *G, const float *Y, const int32_t *idx,
                                int64_t n, const float *c, double lam, const float *x, float *tmp)
{
    const int k = cfg->k;
    const double a0 = cfg->unobserved;
    double data = 0.0;
    for (int64_t j = 0; j < n; j++) {
        const double sj = fct_dot(x, Y + (size_t)idx[j] * (size_t)k, k);
        data += (double)c[j] * (1.0 - sj) * (1.0 - sj) - a0 * sj * sj;
    }
    fct_kern.symv(G, k, 1.0f, 0.0f, x, tmp);
    double xgx = 0.0, xx = 0.0;
    for (int f = 0; f < k; f++) {
        xgx += (double)x[f] * tmp[f];
        xx += (double)x[f] * x[f];
    }
    return data + a0 * xgx + lam * xx;
}

double fct_ials_reg_term(const fct_ials_cfg *cfg, const float *X, int32_t n_rows, const int64_t *ptr,
                         int32_t n_other)
{
    double sum = 0.0;
    for (int32_t r = 0; r < n_rows; r++) {
        const float *x = X + (size_t)r * (size_t)cfg->k;
        double xx = 0.0;
        for (int f = 0; f < cfg->k; f++)
            xx += (double)x[f] * x[f];
        sum += fct_factors_row_reg(cfg->reg, cfg->unobserved, cfg->reg_exponent, ptr[r + 1] - ptr[r], n_other) * xx;
    }
    return sum;
}

/* Solve every row (when solve) and sum the rows' objective (when loss). */
static facto_status fct_ials_pass(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side,
                                  const float *gram, int solve, double *loss)
{
    /* no more threads than chunks of 16 rows (the schedule below): a thread
     * with nothing to do only costs its scratch and a wake-up, which on a
     * busy machine is a wait for a time slice (4 ratings took seconds with
     * 2 threads under load 20; --threads 4096 allocated 4096 scratches).
     * Every row is solved alike whichever thread takes it. */
    const int64_t chunks = ((int64_t)side->n_rows + 15) / 16;
    const int k = cfg->k;
    const int nt = cfg->threads <= 1 || chunks <= 1 ? 1 : cfg->threads < chunks ? cfg->threads : (int)chunks;
    int64_t longest = 1;
    for (int32_t r = 0; r < side->n_rows; r++) {
        int64_t len = side->ptr[r + 1] - side->ptr[r];
        longest = len > longest ? len : longest;
    }
    float *G = fct_aligned_alloc((size_t)k * (size_t)k * sizeof(float));
    fct_ials_scratch *sc = calloc((size_t)nt, sizeof *sc);
    double *row_loss = loss ? fct_malloc_array((size_t)(side->n_rows > 0 ? side->n_rows : 1), sizeof *row_loss) : NULL;
    int ok = G && sc && (!loss || row_loss);
    for (int t = 0; ok && t < nt; t++) {
        sc[t].r = fct_aligned_alloc((size_t)k * 3 * sizeof(float));
        sc[t].c = fct_malloc_array((size_t)longest * 2, sizeof(float));
        sc[t].work = cfg->cg_steps == 0 && solve ? fct_malloc_array((size_t)k * ((size_t)k + 1), sizeof(double)) : NULL;
        ok = sc[t].r && sc[t].c && (cfg->cg_steps != 0 || !solve || sc[t].work);
        if (ok) {
            sc[t].d = sc[t].r + k;
            sc[t].Ad = sc[t].r + 2 * k;
            sc[t].w = sc[t].c + longest;
        }
    }
    facto_status st = FACTO_OK;
    if (!ok) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "ials: out of memory for the solver's scratch (%d threads, k %d)", nt, k);
        goto done;
    }
    /* The Gram matrix of the fixed side, once, outside the parallel region
     * (or the caller's, summed over the ranks that hold Y's rows). */
    if (gram) {
        memcpy(G, gram, (size_t)k * (size_t)k * sizeof *G);
    } else {
        fct_blas_set_threads(1);
        fct_gram_tn(side->n_other, k, side->Y, k, G);
    }

#pragma omp parallel for num_threads(nt) schedule(dynamic, 16)
    for (int32_t r = 0; r < side->n_rows; r++) {
        fct_ials_scratch *s = &sc[omp_get_thread_num()];
        const int64_t b = side->ptr[r], n = side->ptr[r + 1] - b;
        const int32_t *idx = side->idx + b;
        float *x = side->X + (size_t)r * (size_t)k;
        const double lam = fct_factors_row_reg(cfg->reg, cfg->unobserved, cfg->reg_exponent, n, side->n_other);
        fct_ials_weights(cfg, side->val + b, n, s->c, s->w);
        if (solve && cfg->cg_steps == 0)
            fct_factors_solve_row(side->Y, side->n_other, k, G, cfg->unobserved, (float)lam, cfg->alpha, idx,
                                  side->val + b, n, s->work, x);
        else if (solve)
            fct_ials_cg_row(cfg, G, side->Y, idx, n, (float)lam, x, s);
        if (row_loss)
            row_loss[r] = fct_ials_row_loss(cfg, G, side->Y, idx, n, s->c, lam, x, s->Ad);
    }
    if (loss) {
        double sum = 0.0;
        for (int32_t r = 0; r < side->n_rows; r++)
            sum += row_loss[r];
        *loss = sum;
    }
done:
    for (int t = 0; sc && t < nt; t++) {
        fct_aligned_free(sc[t].r);
        free(sc[t].c);
        free(sc[t].work);
    }
    free(sc);
    free(row_loss);
    fct_aligned_free(G);
    return st;
}

facto_status fct_ials_solve_side(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side, double *loss)
{
    return fct_ials_pass(ctx, cfg, side, NULL, 1, loss);
}

facto_status fct_ials_solve_side_gram(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side,
                                      const float *gram, double *loss)
{
    return fct_ials_pass(ctx, cfg, side, gram, 1, loss);
}

facto_status fct_ials_objective_gram(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side,
                                     const float *gram, double *loss)
{
    return fct_ials_pass(ctx, cfg, side, gram, 0, loss);
}

facto_status fct_ials_objective(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side, double *loss)
{
    return fct_ials_pass(ctx, cfg, side, NULL, 0, loss);
}

facto_status fct_ials_diverged(facto_ctx *ctx, const fct_ials_cfg *cfg, int it, const char *what)
{
    return fct_fail(ctx, FACTO_ERR_DIVERGED,
                    "ials diverged in iteration %d (%s): lower the confidence (--alpha, now %g) or the unobserved "
                    "weight (--unobserved_weight, now %g), and keep the regularisation (--reg, now %g, times each "
                    "count to the power --reg_exponent) in a range such as 1e-4..1e3",
                    it, what, (double)cfg->alpha, (double)cfg->unobserved, (double)cfg->reg);
}
