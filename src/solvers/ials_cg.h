/*
 * ials_cg.h — one half-iteration of implicit alternating least squares:
 * every row x_r of one side (all users, or all items) re-solved against the
 * other side's fixed factors Y, in parallel over rows. Row r minimises
 *     sum_{j in S_r} c_rj (1 - <x_r, y_j>)^2
 *         + alpha_0 sum_{j not in S_r} <x_r, y_j>^2 + lambda_r |x_r|^2,
 *     c_rj = 1 + alpha w_rj,  lambda_r = lambda (|S_r| + alpha_0 n_other)^nu,
 * whose normal equations are
 *     (alpha_0 G + sum_{j in S_r} (c_rj - alpha_0) y_j y_j^T + lambda_r I) x_r
 *         = sum_{j in S_r} c_rj y_j,   G = Y^T Y.
 * cg_steps > 0: that many conjugate gradient steps from the current x_r
 * (Takacs, Pilaszy & Tikk 2011), in float with the kernels rows_apply and
 * symv; cg_steps 0: the exact solve of fct_factors_solve_row (Cholesky, in
 * double). G is computed once per call through OpenBLAS with one thread,
 * outside the parallel region. Each row depends only on Y, G and its own
 * data, and the optional loss is summed over rows in order, so the result
 * has the same bits for any thread count.
 * Cost per call: O(n_other k^2) for G plus, per row, (cg_steps + 1) passes
 * of O(|S_r| k + k^2) (exact: O(|S_r| k^2 + k^3)).
 */
#ifndef FACTO_SOLVERS_IALS_CG_H
#define FACTO_SOLVERS_IALS_CG_H

#include "models/factors.h"

typedef struct fct_ials_cfg {
    int32_t k;
    float alpha;        /* confidence 1 + alpha w */
    float unobserved;   /* alpha_0 */
    float reg;          /* lambda */
    float reg_exponent; /* nu */
    int32_t cg_steps;   /* 0 = exact */
    int threads;
} fct_ials_cfg;

/* The side being solved and the fixed side. Row r's observations are
 * idx[ptr[r] .. ptr[r + 1]) (rows of Y) with weights val[...]. */
typedef struct fct_ials_side {
    float *X;             /* [n_rows, k], updated in place */
    int32_t n_rows;
    const int64_t *ptr;   /* [n_rows + 1] */
    const int32_t *idx;   /* [ptr[n_rows]] */
    const float *val;     /* [ptr[n_rows]] weights w (>= 0) */
    const float *Y;       /* [n_other, k] fixed */
    int32_t n_other;
} fct_ials_side;

/*
 * Re-solve every row of side->X. When loss is not NULL, *loss receives
 *     sum_r [ sum_{j in S_r} (c_rj (1 - s_rj)^2 - alpha_0 s_rj^2)
 *             + alpha_0 x_r^T G x_r + lambda_r |x_r|^2 ],  s_rj = <x_r, y_j>,
 * with the new x_r: the whole objective except the other side's L2 (add
 * fct_ials_reg_term of the other side), computed in double.
 * Errors: FACTO_ERR_NOMEM.
 */
facto_status fct_ials_solve_side(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side, double *loss);

/* The same sum for the rows as they are, without solving. */
facto_status fct_ials_objective(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side, double *loss);

/*
 * The same two with the Gram matrix G = Y^T Y [k, k] (full, row-major)
 * given instead of computed from side->Y: distributed iALS (src/dist/)
 * sums each rank's share of G over the ranks. side->X, ptr, idx and val
 * may then be one rank's rows only (idx indexing the whole Y, n_other the
 * whole count); with G from fct_gram_tn of all of Y the result is the
 * same bits as fct_ials_solve_side.
 */
facto_status fct_ials_solve_side_gram(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side,
                                      const float *gram, double *loss);
facto_status fct_ials_objective_gram(facto_ctx *ctx, const fct_ials_cfg *cfg, const fct_ials_side *side,
                                     const float *gram, double *loss);

/* FACTO_ERR_DIVERGED with the message naming iteration `it`, what went
 * non-finite (`what`) and the settings to change (alpha, unobserved weight,
 * reg), shared by the single-process and the distributed driver. */
facto_status fct_ials_diverged(facto_ctx *ctx, const fct_ials_cfg *cfg, int it, const char *what);

/* sum_r lambda_r |x_r|^2 over rows X [n_rows, k] with ptr's counts. */
double fct_ials_reg_term(const fct_ials_cfg *cfg, const float *X, int32_t n_rows, const int64_t *ptr,
                         int32_t n_other);

#endif /* FACTO_SOLVERS_IALS_CG_H */
