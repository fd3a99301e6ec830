/*
 * mf_solvers.h — the optimizers of biased MF (sgd_mf.c: SGD with optional
 * heavy-ball momentum; adam_mf.c: lazy per-row Adam), called by the training
 * driver src/train/fit_mf.c on ranges of a shuffled order of the ratings.
 * Each update touches b_u, b_i, p_u and q_i of one rating, O(k).
 */
#ifndef FACTO_MF_SOLVERS_H
#define FACTO_MF_SOLVERS_H

#include "models/mf.h"

/* Training ratings in the solvers' form (borrowed arrays, [n] each). */
typedef struct fct_mf_triplets {
    const int32_t *users;
    const int32_t *items;
    const float *ratings;
    int64_t n;
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
 * Returns the sum of squared errors seen before each update (non-finite when
 * training diverged). One thread: deterministic.
 */
double fct_mf_solver_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                           int64_t begin, int64_t end, float lr, int n_threads);

/* Per-optimizer entry points behind fct_mf_solver_* (sgd_mf.c, adam_mf.c). */
struct fct_mf_solver {
    facto_optimizer optimizer;
    float momentum, reg_factors, reg_bias;
    /* SGD with momentum: velocities; Adam: first moments. Shaped like bu, bi, P, Q. */
    float *m_bu, *m_bi, *m_P, *m_Q;
    /* Adam: second moments. */
    float *v_bu, *v_bi, *v_P, *v_Q;
    int64_t step_base;       /* Adam: updates done before this epoch; the update at
                                position x of the epoch's order is step step_base + x + 1 */
};
double fct_mf_sgd_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                        int64_t begin, int64_t end, float lr, int n_threads);
double fct_mf_adam_run(fct_mf_solver *s, fct_mf_model *m, const fct_mf_triplets *t, const int64_t *order,
                         int64_t begin, int64_t end, float lr, int n_threads);

/* Adam's constants (Kingma & Ba 2015, Algorithm 1 defaults). */
#define FACTO_ADAM_BETA1 0.9f
#define FACTO_ADAM_BETA2 0.999f
#define FACTO_ADAM_EPS 1e-8f

#endif /* FACTO_MF_SOLVERS_H */
