/*
 * softmax.h — the solver of the multi-label softmax kind on the shared
 * implicit factor model (models/factors.h), s(u, j) = b_j + <U_u, V_j>.
 * For a user u with training items P_u the loss is the cross-entropy of
 * every positive under one softmax over the catalogue:
 *
 *   l_u = -sum_{i in P_u} log softmax(s_u)_i
 *       = |P_u| log sum_j e^{s_uj} - sum_{i in P_u} s_ui,
 *   d l_u / d s_uj = |P_u| softmax(s_u)_j - [j in P_u].
 *
 * Full softmax (fct_softmax_full): a mini-batch of B users is scored
 * against every item with one sgemm (Z = U_B V^T + b), the row
 * derivatives dZ replace Z, and the gradients are two more sgemm calls,
 * d U_B = dZ V and d V = dZ^T U_B, and d b = the column sums of dZ.
 * O(B n_items k) a batch, Z [B, n_items] floats.
 *
 * Sampled softmax with the logQ correction (fct_softmax_sampled; Bengio &
 * Senecal, IEEE TNN 2008; Yi et al., RecSys 2019): S negatives j_1..j_S
 * are drawn for the whole batch from a proposal Q (the training
 * popularity, sampling.h) and each positive i of u is scored against them
 * with the sampled logits corrected by c_s = log(S Q(j_s)):
 *
 *   l_ui = -z_ui + log(e^{z_ui} + sum_{s: j_s != i} e^{z_uj_s - c_s}).
 *
 * sum_{s: j_s != i} e^{z_uj_s} / (S Q(j_s)) is an unbiased estimate of
 * sum_{j != i} e^{z_uj}, so l_ui estimates the full softmax's -log p_ui
 * with a bias that vanishes as S grows (the drawn copies of i itself are
 * left out: "accidental hits"; the user's other positives stay in, as in
 * the full softmax). The gradient is exact for the sampled loss:
 *   d / d z_ui = p_ui - 1,  p_ui = e^{z_ui} / Z_ui,
 *   d / d z_uj_s = e^{z_uj_s - c_s} sum_{i in P_u, i != j_s} 1 / Z_ui,
 * with Z_ui the normaliser above; computed once per user from the total
 * over the samples less each positive's own drawn copies, so a user costs
 * O(S log |P_u| + |P_u| k), and a batch one B x S x k sgemm each way.
 *
 * Training (fct_softmax_epoch): users in a fresh random order, in
 * mini-batches of batch_size; each batch's loss gradient divided by B
 * (the optimizer's rescale) and one lazy step of the optimizer module
 * (optim.h; adam by default) on the batch's user rows, the item rows with
 * a gradient (every item for the full softmax; samples and positives for
 * the sampled one) with weight decay reg, and their biases (no decay: the
 * softmax does not change when every bias moves by the same amount).
 * Threads: rows in OpenMP loops and OpenBLAS's own threads; one thread
 * gives the same bits for the same seed, several need not (OpenBLAS blocks
 * its sums by thread count).
 */
#ifndef FACTO_SOLVERS_SOFTMAX_H
#define FACTO_SOLVERS_SOFTMAX_H

#include "optim.h"
#include "sampling.h"

#include "data/dataset.h"
#include "models/factors.h"

typedef struct fct_softmax_cfg {
    fct_optim_kind optimizer;
    float lr;
    float reg;           /* weight decay of U and V rows */
    int32_t batch_size;  /* users per batch, >= 1 */
    int sampled;         /* 0: full softmax; 1: sampled with the logQ correction */
    int32_t num_sampled; /* sampled: S negatives per batch, >= 1 */
    int n_threads;       /* >= 1 */
    uint64_t seed;
} fct_softmax_cfg;

/* A batch: n users and their positives, ascending, through a CSR. */
typedef struct fct_softmax_batch {
    int32_t n;
    const int32_t *users; /* [n] distinct */
    const int64_t *row_ptr;
    const int32_t *items;
} fct_softmax_batch;

/* Scratch and the gradients of one batch (fct_softmax_work_new). */
typedef struct fct_softmax_work {
    int32_t k, n_items, max_batch, max_cols; /* max_cols: n_items (full) or S (sampled) */
    float *Ub;     /* [max_batch, k] the batch's user rows */
    float *Vc;     /* [max_cols, k] sampled: the sampled items' rows */
    float *Z;      /* [max_batch, max_cols] scores, then d loss / d score */
    float *Gc;     /* [max_cols, k] sampled: gradient of each sampled row */
    float *gbc;    /* [max_cols] sampled: gradient of each sampled bias */
    /* The gradients (of the batch's summed loss): */
    float *gU;     /* [max_batch, k] row r: user users[r] */
    int32_t n_rows;
    int32_t *rows; /* [n_rows] items with a gradient (full: every item, in order) */
    float *gV;     /* [rows cap, k] row t: item rows[t] */
    float *gb;     /* [rows cap] */
    int32_t rows_cap;
    int32_t *slot; /* [n_items] item -> its row in gV, or -1 (sampled) */
    double *dzp;   /* [dzp_cap] sampled: d loss / d score of each positive in batch order */
    int64_t dzp_cap;
    int64_t max_pos;    /* most positives one user has */
    int n_threads;
    double *t_excl;     /* [n_threads, max_pos] per-thread scratch */
    double *t_z;        /* [n_threads, max_pos] */
    int64_t *t_pos;     /* [n_threads, max_cols] */
    int64_t *off;       /* [max_batch] sampled: each user's first positive in dzp */
} fct_softmax_work;

/*
 * Scratch for batches of up to max_batch users of data whose users have at
 * most max_pos positives, for the full softmax (sampled 0) or S samples.
 * NULL when out of memory.
 */
fct_softmax_work *fct_softmax_work_new(int32_t k, int32_t n_items, int32_t max_batch, int sampled, int32_t S,
                                       int64_t max_pos, int n_threads);
void fct_softmax_work_free(fct_softmax_work *w);

/*
 * The full softmax loss of batch bt, summed over its users (and their
 * positives), under m (U, V, item_bias: NULL for none), into *loss; its
 * gradients into w (gU, and gV / gb over every item: rows = 0..n_items -
 * 1). Returns 0, or -1 when the batch does not fit w.
 */
int fct_softmax_full(const fct_factors_model *m, const fct_softmax_batch *bt, fct_softmax_work *w, double *loss);

/*
 * The sampled softmax loss of batch bt with samples[S] (items) and their
 * corrections corr[S] = log(S Q(samples[s])), summed, into *loss; its
 * gradients into w (gU; gV / gb for the rows `rows` of every sampled item
 * and positive). w->slot must be all -1 on entry and is left so. Returns
 * 0, or -1 when out of memory or the batch does not fit w.
 */
int fct_softmax_sampled(const fct_factors_model *m, const fct_softmax_batch *bt, int32_t S, const int32_t *samples,
                        const float *corr, fct_softmax_work *w, double *loss);

typedef struct fct_softmax_solver fct_softmax_solver;

/* A solver for m (created and initialised) on train (m's users and items).
 * Errors: FACTO_ERR_INVALID (a bad configuration), FACTO_ERR_NOMEM. */
facto_status fct_softmax_solver_new(facto_ctx *ctx, const fct_softmax_cfg *cfg, fct_factors_model *m,
                                    const facto_dataset *train, fct_softmax_solver **out);
void fct_softmax_solver_free(fct_softmax_solver *s);

/* One epoch (1-based `epoch` seeds its order and samples): every user
 * once. *loss: the summed loss of the batches before their steps; *n_pos
 * the positives it covers. Errors: FACTO_ERR_NOMEM. */
facto_status fct_softmax_epoch(facto_ctx *ctx, fct_softmax_solver *s, int epoch, double *loss, int64_t *n_pos);

#endif /* FACTO_SOLVERS_SOFTMAX_H */
