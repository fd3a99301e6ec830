/*
 * factors.h — the implicit factor model that every ranking kind with a user
 * vector and an item vector shares (ials now; bpr, warp, softmax next).
 * One struct, one set of model-interface ops, one file layout; a kind adds
 * only its hyperparameters and its training.
 *
 * The model. Raw score of user u for item i:
 *     s(u, i) = b_i + <U_u, V_i>
 * with U [n_users, k], V [n_items, k] and an optional item bias b [n_items]
 * (absent: 0). Task FACTO_TASK_RANKING: scores rank items, they are not
 * ratings or probabilities (PREDICT = RAW, no finish). It keeps each
 * training user's items (the `seen` op, so top-N leaves them out), the id
 * maps, and the kind's hyperparameter struct as trained (opaque here: the
 * kind's table says how large it is and names its fields).
 *
 * Queries (fct_query, model.h):
 *   - a training user u: b_i + <U_u, V_i>;
 *   - a history (fold-in: a user not in training given by items h with
 *     optional values w_h, default 1): one least-squares solve against the
 *     fixed V gives the user a vector p, then b_i + <p, V_i>. p minimises
 *         sum_h c_h (1 - <p, V_h>)^2 + alpha_0 sum_{i not in h} <p, V_i>^2
 *             + lambda_h |p|^2,
 *         c_h = 1 + alpha w_h,
 *         lambda_h = lambda (n_h + alpha_0 n_items)^nu,
 *     i.e. iALS's objective for one user (Hu, Koren & Volinsky 2008 with
 *     the unobserved weight and frequency-scaled L2 of Rendle et al. 2022);
 *     its normal equations
 *         (alpha_0 V^T V + sum_h (c_h - alpha_0) V_h V_h^T + lambda_h I) p
 *             = sum_h c_h V_h
 *     are solved exactly (k x k Cholesky, in double). alpha, alpha_0,
 *     lambda and nu are the model's fold-in settings (fct_factors_foldin),
 *     which the kind sets when it trains: iALS its own hyperparameters, a
 *     kind trained on another loss the values it documents. Items of a
 *     history outside the model (index < 0 or >= n_items) are ignored; a
 *     repeated item counts each time; a value that is negative or not
 *     finite is FACTO_ERR_INVALID. The solve costs O(n_h k^2 + k^3) plus
 *     the scores' O(n_items k); V^T V is computed once when the model is
 *     built or loaded;
 *   - nothing (an unknown user): the score of the mean training user
 *     vector, b_i + <mean_u U_u, V_i> (a popularity-like order);
 *   - a feature row: FACTO_ERR_INVALID.
 * dot_form: c = 0, b_u = 0, b_i = the item bias or 0, so batch top-N is the
 * sgemm path of src/eval/recommend.c. item_similarity: the cosine of V
 * rows (0 against an item whose vector is zero).
 *
 * File sections (docs/format.md, "factor models"): FCPR the hyperparameters
 * as name=value lines (read back through the kind's table and checked);
 * FCHD a 48-byte header (sizes, fold-in settings); FCUF U; FCVF V; FCIB the
 * item bias (when there is one); FCUS, FCIT the id maps; FCSP, FCSI the
 * seen lists. Load checks every size against the header before allocating,
 * every range, the seen lists, and that every factor is finite: anything
 * else is FACTO_ERR_CORRUPT naming the path.
 *
 * Adding a kind on this model (bpr, say):
 *   1. facto.h: append FACTO_MODEL_BPR to facto_model_kind (never reuse a
 *      number).
 *   2. src/models/bpr.c (+ bpr.h when the fit driver needs the struct): the
 *      kind's hyperparameter struct and its fct_ptable. The table must have
 *      an int field named "num_factors" (load checks the stored k against
 *      it). Say in each help text how its default was chosen.
 *   3. In bpr.c, a load wrapper and the ops table:
 *          static facto_status fct_bpr_load(facto_ctx *ctx,
 *                  const fct_mfile_reader *r, facto_model **out)
 *          { return fct_factors_load(ctx, r, &fct_bpr_ops, out); }
 *          const fct_model_ops fct_bpr_ops = {
 *              .kind = FACTO_MODEL_BPR, .name = "bpr", .summary = "...",
 *              .train_inputs = FACTO_INPUT_RATINGS,
 *              .params = &fct_bpr_ptable, .load = fct_bpr_load,
 *              .thread_invariant = 0,    (Hogwild: threads change it)
 *              .describe = fct_bpr_describe,   (optional)
 *              FCT_FACTORS_SHARED_OPS};
 *      and `extern const fct_model_ops fct_bpr_ops;` in model.h, and
 *      &fct_bpr_ops in fct_model_kinds[] (model.c).
 *   4. src/train/fit_bpr.c, registered in fct_fit_drivers[] (fit.c):
 *      validate the params (fct_params_check), then
 *          fct_factors_create(ctx, &fct_bpr_ops, params, train, k,
 *                             with_item_bias, &foldin, &m);
 *          fct_factors_init_normal(m, &rng, init_std / sqrt(k));
 *          ... train m->U, m->V (and m->item_bias) with a solver from
 *              src/solvers/ ...
 *          fct_factors_ready(ctx, m);   (after the last update, always)
 *      and hand back &m->base (fct_factors_destroy(m) on failure).
 *      Choose foldin (alpha, unobserved weight, reg, nu) so that folding a
 *      training user's own history in ranks close to the trained user;
 *      test it.
 *   5. Tests: a kind's tests/unit/test_<kind>.c (gradient check of its
 *      loss, save / load, the generic top-N tests of test_model_api.c).
 *
 * Memory O((n_users + n_items) k + nnz + k^2). Scoring one user O(n_items k).
 */
#ifndef FACTO_MODELS_FACTORS_H
#define FACTO_MODELS_FACTORS_H

#include "model.h"

/* How a history query (fold-in) weighs its items: the one-user iALS
 * objective above. Stored in the file; every value finite and >= 0. */
typedef struct fct_factors_foldin {
    float alpha;        /* confidence of a history item: c = 1 + alpha * value */
    float unobserved;   /* alpha_0: weight of the squared score of every item not in the history */
    float reg;          /* lambda */
    float reg_exponent; /* nu: the L2 weight is lambda (n_h + alpha_0 n_items)^nu */
} fct_factors_foldin;

typedef struct fct_factors_model {
    facto_model base;          /* base.ops: the kind's ops (fct_ials_ops, ...) */
    void *params;              /* the kind's hyperparameter struct as trained: base.ops->params->size bytes, owned */
    int32_t n_users, n_items;
    int32_t k;                 /* factors per vector */
    float *U;                  /* [n_users, k] row-major, 64-byte aligned */
    float *V;                  /* [n_items, k] row-major, 64-byte aligned */
    float *item_bias;          /* [n_items], or NULL (0) */
    fct_factors_foldin foldin;
    facto_idmap *users, *items; /* owned */
    int64_t n_seen;            /* training interactions kept */
    int64_t *seen_ptr;         /* [n_users + 1] offsets into seen_items */
    int32_t *seen_items;       /* [n_seen] each user's training items, ascending */
    /* Derived by fct_factors_ready (not stored): */
    float *gram;               /* [k, k] V^T V (fct_gram_tn) */
    float *mean_user;          /* [k] mean of U's rows: the unknown user */
    float *v_norm;             /* [n_items] |V_i| */
} fct_factors_model;

/* The ops every factor kind shares; a kind's table adds kind, name,
 * summary, train_inputs, params and its load wrapper (see above). */
void fct_factors_free(facto_model *model);
facto_status fct_factors_save(facto_ctx *ctx, const facto_model *model, fct_mfile_writer *w);
const void *fct_factors_get_params(const facto_model *model);
facto_task fct_factors_task(const facto_model *model);
unsigned fct_factors_inputs(const facto_model *model);
const facto_idmap *fct_factors_users(const facto_model *model);
const facto_idmap *fct_factors_items(const facto_model *model);
facto_status fct_factors_score(facto_ctx *ctx, const facto_model *model, const fct_query *q, const int32_t *items,
                               int64_t n, fct_score_mode mode, float *out);
int fct_factors_dot_form(const facto_model *model, fct_dot_form *out);
facto_status fct_factors_item_similarity(facto_ctx *ctx, const facto_model *model, int32_t item, float *out);
int64_t fct_factors_seen(const facto_model *model, int32_t u, fct_seen_list *items);
/* task_of: every configuration of a factor kind trains a ranking model. */
facto_task fct_factors_task_of(const void *params);

#define FCT_FACTORS_SHARED_OPS                                                                                      \
    .free = fct_factors_free, .save = fct_factors_save, .get_params = fct_factors_get_params,                      \
    .task = fct_factors_task, .inputs = fct_factors_inputs, .users = fct_factors_users,                            \
    .items = fct_factors_items, .score = fct_factors_score, .dot_form = fct_factors_dot_form,                      \
    .item_similarity = fct_factors_item_similarity, .seen = fct_factors_seen, .task_of = fct_factors_task_of

/*
 * Read a factor model of kind `ops` from a verified file (the kind's load
 * op calls this with its own ops). Errors: FACTO_ERR_CORRUPT naming the
 * path (a size, range, seen list or id map that does not fit, a factor
 * that is not finite, hyperparameters the kind's table refuses),
 * FACTO_ERR_NOMEM. *out owned by the caller.
 */
facto_status fct_factors_load(facto_ctx *ctx, const fct_mfile_reader *r, const fct_model_ops *ops,
                              facto_model **out);

/*
 * A model of kind `ops` for the training data `train`: copies of its id
 * maps and per-user item lists (seen), a copy of `params` (the kind's
 * struct, ops->params->size bytes), U and V of k factors zeroed, an item
 * bias zeroed when with_item_bias, the fold-in settings. Errors:
 * FACTO_ERR_INVALID (k < 1, fold-in settings negative or not finite),
 * FACTO_ERR_NOMEM. Free with fct_factors_destroy.
 */
facto_status fct_factors_create(facto_ctx *ctx, const fct_model_ops *ops, const void *params,
                                const facto_dataset *train, int32_t k, int with_item_bias,
                                const fct_factors_foldin *foldin, fct_factors_model **out);
void fct_factors_destroy(fct_factors_model *m);

/* U then V, row by row, from N(0, std^2) drawn from rng. */
void fct_factors_init_normal(fct_factors_model *m, fct_rng *rng, double std);

/* 1 when every factor and bias is finite. O((n_users + n_items) k). */
int fct_factors_finite(const fct_factors_model *m);

/*
 * NULL when m can score: every factor and bias finite, and the sums of
 * squares of U and of V and the largest |bias| below FLT_MAX / 4, so no
 * score and no entry of U^T U or V^T V overflows float. Else what is wrong
 * (naming the user factors, item factors or item biases). O((n_users +
 * n_items) k).
 */
const char *fct_factors_unusable(const fct_factors_model *m);

/*
 * Derive what scoring needs from the trained arrays (V^T V, the mean user,
 * the item norms); call after the last update and before the model is
 * used or saved. Errors: FACTO_ERR_NOMEM. Uses OpenBLAS with one thread
 * (fct_blas_set_threads(1)), so the bits do not depend on thread counts.
 */
facto_status fct_factors_ready(facto_ctx *ctx, fct_factors_model *m);

/* The L2 weight of a row with n observations: reg (n + unobserved n_other)^nu
 * (frequency-scaled, Rendle et al. 2022; nu 0 gives reg). */
double fct_factors_row_reg(float reg, float unobserved, float nu, int64_t n, int64_t n_other);

/*
 * One exact least-squares row solve: x [k] minimising
 *     sum_j c_j (1 - <x, Y_j>)^2 + unobserved sum_{r not in idx} <x, Y_r>^2 + lam |x|^2,
 *     c_j = 1 + alpha values[j] (values NULL: each 1),
 * over the n rows Y_j = Y + idx[j] k of a fixed factor matrix whose Gram
 * matrix G = Y^T Y [k, k] (fct_gram_tn) is given; rows with idx outside
 * [0, n_rows_y) are skipped. The normal equations
 *     (unobserved G + sum_j (c_j - unobserved) Y_j Y_j^T + lam I) x = sum_j c_j Y_j
 * are built and solved by Cholesky in double. work: k (k + 1) doubles.
 * Returns 0, or -1 when the matrix is not positive definite (then x is 0).
 * Fold-in and iALS's exact solver both call this, so a training user's
 * history folded in gives the vector an exact solve trained. O(n k^2 + k^3).
 */
int fct_factors_solve_row(const float *Y, int32_t n_rows_y, int k, const float *G, float unobserved, float lam,
                          float alpha, const int32_t *idx, const float *values, int64_t n, double *work,
                          float *x);

#endif /* FACTO_MODELS_FACTORS_H */
