/*
 * mf_solvers.h — the first-order solver of biased MF (sgd_mf.c: per-rating
 * steps of SGD, heavy-ball momentum or lazy Adam through the optimizer
 * module optim.h, squared loss through loss.h), called by the training
 * driver src/train/fit_mf.c on ranges of a shuffled order of the ratings.
 * Each update touches b_u, b_i, p_u and q_i of one rating, O(k).
 */
#ifndef FACTO_MF_SOLVERS_H
#define FACTO_MF_SOLVERS_H

#include "models/mf.h"
#include "optim.h"

/* Training ratings in the solvers' form (borrowed arrays, [n] each). */
typedef struct fct_mf_triplets {
    const int32_t *users;
    const int32_t *items;
    const float *ratings;
    int64_t n;
    const float *weights; /* [n] per-rating loss weights (inverse propensities), or NULL = all 1 */
} fct_mf_triplets;

/* Solver state (momentum velocities or Adam moments), created per fit. */
typedef struct fct_mf_solver fct_mf_solver;

/* Create the state the optimizer in `hp` needs for model m; NULL when out of memory. */
fct_mf_solver *fct_mf_solver_new(const fct_mf_model *m, const facto_mf_params *hp);
void fct_mf_solver_free(fct_mf_solver *s);
/*
 * Update on ratings order[begin..end-1] (indices into t) at learning rate lr,
 * with n_threads > 1 as Hogwild (lock-free, Recht et al. NIPS 2011). Writes
 * only parameters and per-parameter state, so disjoint ranges may also run
 * from several threads at once (that is how facto_mf_fit parallelises).
 * Returns the sum of squared errors seen before each update (unweighted; non-finite
 * when training diverged). With t->weights, rating j's error is scaled by
 * weights[j] before the step (weighted SGD / Adam on sum_j w_j (r_j - r^_j)^2). One thread: deterministic.
 */
double fct_mf_solver_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                           int64_t begin, int64_t end, float lr, int n_threads);

/*
 * The per-rating kernel alone, for callers with their own schedule (DSGD in
 * src/dist/): the rates of update number `step` (1-based; only Adam's
 * depend on it), then one update of b_u, b_i, p_u, q_i for rating r of
 * (u, i), indices into m's arrays. Returns the squared error before the
 * update. O(k).
 */
void fct_mf_rates_at(const fct_mf_solver *s, float lr, int64_t step, fct_optim_rate *rf, fct_optim_rate *rb);
double fct_mf_update(const fct_mf_solver *s, fct_mf_model *m, float mu, int32_t u, int32_t i, float r,
                     const fct_optim_rate *rf, const fct_optim_rate *rb);

/* The solver state: the optimizer and its state for b_u, b_i, P, Q. */
struct fct_mf_solver {
    fct_optim opt;
    fct_optim_param bu, bi, P, Q; /* [n_users], [n_items], [n_users, k], [n_items, k] */
    float reg_factors, reg_bias;  /* the weight decay of P, Q and of bu, bi */
    int64_t step_base;            /* updates done before this epoch; the update at position x
                                     of the epoch's order is step step_base + x + 1 (Adam) */
};

/*
 * Blocked SGD (fpsg_mf.c: FPSG's grid with DSGD's strata; plain SGD, or
 * SGD with a per-row adaptive rate). The ratings are the training CSR
 * (fct_mf_csr), borrowed for the blocked state's life.
 */
#define FCT_MF_GRID 16      /* blocks per side up to FCT_MF_GRID threads */
#define FCT_MF_GRID_MAX 512 /* above: 2 * threads + 1, capped */

/* The training ratings as blocked SGD reads them: CSR by user (items
 * ascending within a user), item indices of item_w bytes (2: uint16, 4:
 * int32), ratings as codes into table (codes non-NULL, the .fds 1-byte form)
 * or floats; weights [nnz] or NULL for 1. Borrowed. */
typedef struct fct_mf_csr {
    const int64_t *row_ptr; /* [n_users + 1] */
    const void *items;      /* [nnz] */
    int item_w;
    const uint8_t *codes;   /* [nnz] or NULL */
    const float *table;     /* [256] with codes */
    const float *ratings;   /* [nnz] without codes */
    const float *weights;   /* [nnz] or NULL */
} fct_mf_csr;

typedef struct fct_mf_blocked {
    int g;                         /* blocks per side */
    int32_t n_users, n_items, k, stride;
    fct_mf_csr d;
    int32_t *ucut, *icut;          /* [g + 1] user and item range starts */
    uint32_t *seg;                 /* [n_users, g + 1] run starts from row_ptr[u]; [g]: row length */
    int32_t *uorder;               /* [n_users] visiting order within each user range */
    double *bsse, *bsae;           /* [g, g] error sums of the epoch's blocks, by stratum and user range */
    _Atomic int *flow;             /* [3 g + g g] fct_mf_blocked_epoch's state: per user range and per
                                      item range the next stratum it may run, per stratum the blocks
                                      left, per block 0 free / 1 running / 2 done */
    int *cols;                     /* [g, g] the epoch's schedule: stratum s, user range r -> item range */
    float *U, *V;                  /* the model's P and Q in padded rows [p | b | G | 0..] of stride floats
                                      (borrowed: fct_mf_init with ld = fct_mf_blocked_stride); G: the
                                      adaptive rate's accumulator */
    uint64_t seed;
    int adaptive;                  /* 1: per-row adaptive rate, G at [k + 1] (fct_mf_blocked_adaptive) */
} fct_mf_blocked;

/* The padded row stride for k factors: k + 2 (the bias, the adaptive rate's
 * accumulator) rounded up to 16 floats (64 bytes). */
int32_t fct_mf_blocked_stride(int32_t k);
/* Blocks per side for this data: FCT_MF_GRID for up to FCT_MF_GRID threads
 * (a stratum has g disjoint blocks, enough work for g threads), else
 * 2 n_threads + 1 (capped at FCT_MF_GRID_MAX); at most min(n_users,
 * n_items). The model depends on g only, so it is the same for every thread
 * count from 1 to FCT_MF_GRID. */
int fct_mf_blocked_grid_size(int32_t n_users, int32_t n_items, int n_threads);
/* Build the grid over m's sizes; m's P and Q must have rows of stride
 * fct_mf_blocked_stride(k) (they are trained in place; the bias column is
 * kept equal to bu, bi by fct_mf_blocked_store). 0, or -1 when out of
 * memory (b then holds nothing). O(nnz + n_users g). */
int fct_mf_blocked_init(fct_mf_blocked *b, const fct_mf_model *m, const fct_mf_csr *d, int g, uint64_t seed,
                        int n_threads);
/* Switch b to the per-row adaptive rate (optimizer adagrad; Chin, Zhuang,
 * Juan & Lin, PAKDD 2015; kernels.h mf_adagrad_row): every row's
 * accumulator G starts at g0 > 0, the first step's rate is lr / sqrt(g0). */
void fct_mf_blocked_adaptive(fct_mf_blocked *b, float g0);
/* Copy the trained biases (column k of the padded rows) into m's bu, bi,
 * over n_threads; 1 when every float of the rows is finite (the model's
 * parameters: fct_mf_params_finite in the same pass), else 0. */
int fct_mf_blocked_store(const fct_mf_blocked *b, fct_mf_model *m, int n_threads);
void fct_mf_blocked_free(fct_mf_blocked *b);
/* Draw epoch `epoch`'s stratum schedule (b->cols) from the seed. */
void fct_mf_blocked_schedule(fct_mf_blocked *b, int epoch);
/* Run stratum s of the epoch's schedule on n_threads; adds the squared and
 * absolute errors seen before each update (w not applied) to *sse, *sae
 * (non-finite when training diverged). Same bits for any n_threads. */
void fct_mf_blocked_stratum(fct_mf_blocked *b, int epoch, int s, float mu, float lr, float reg_f, float reg_b,
                            int n_threads, double *sse, double *sae);
/* Run every stratum of the epoch's schedule on n_threads without a barrier
 * between strata: block (s, r) starts as soon as the blocks of stratum s - 1
 * on its user range and on its item range are done, so each row sees its
 * blocks in stratum order and the result is bit for bit that of
 * fct_mf_blocked_stratum for s = 0 .. g-1 (the error sums are added in the
 * same (s, r) order). progress (may be NULL) is called on the calling
 * thread with the count of strata done so far, in order; non-zero stops the
 * epoch (blocks running finish, none start), as does a non-finite error
 * sum. Adds the errors of the blocks done to *sse, *sae; returns the count
 * of strata done (g: the whole epoch). */
int fct_mf_blocked_epoch(fct_mf_blocked *b, int epoch, float mu, float lr, float reg_f, float reg_b, int n_threads,
                         int (*progress)(int strata_done, void *user), void *user, double *sse, double *sae);

#endif /* FACTO_MF_SOLVERS_H */
