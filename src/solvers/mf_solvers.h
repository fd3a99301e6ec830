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

/* The solver state: the optimizer and its state for b_u, b_i, P, Q. */
struct fct_mf_solver {
    fct_optim opt;
    fct_optim_param bu, bi, P, Q; /* [n_users], [n_items], [n_users, k], [n_items, k] */
    float reg_factors, reg_bias;  /* the weight decay of P, Q and of bu, bi */
    int64_t step_base;            /* updates done before this epoch; the update at position x
                                     of the epoch's order is step step_base + x + 1 (Adam) */
};

#endif /* FACTO_MF_SOLVERS_H */
