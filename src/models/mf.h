/*
 * mf.h — internal layout of the biased matrix factorization model and the
 * interface between mf.c (fit, predict, evaluate, recommend, save/load) and
 * its solvers (src/solvers/sgd_mf.c, adam_mf.c). Parameters live in 64-byte
 * aligned arrays; the model also keeps the training CSR item lists ("seen")
 * so recommend can leave rated items out. Memory O((n_users + n_items) k + nnz).
 */
#ifndef FACTO_MF_H
#define FACTO_MF_H

#include "model.h"

typedef struct fct_mf_model {
    facto_model base;
    facto_mf_params params;  /* hyperparameters it was trained with */
    int32_t n_users, n_items;
    int32_t k;               /* num_factors */
    double mu;               /* global mean of the training ratings */
    float min_rating, max_rating; /* training rating range, predictions are clipped to it */
    float *bu;               /* [n_users] user biases, aligned */
    float *bi;               /* [n_items] item biases, aligned */
    float *P;                /* [n_users, k] user factors, row-major, aligned */
    float *Q;                /* [n_items, k] item factors, row-major, aligned */
    facto_idmap *users, *items; /* owned */
    int64_t n_seen;          /* training ratings */
    int64_t *seen_ptr;       /* [n_users + 1] offsets into seen_items */
    int32_t *seen_items;     /* [n_seen] items each user rated in training, ascending */
} fct_mf_model;

/* Allocate a model with zeroed arrays (maps and params left for the caller).
 * NULL when out of memory. */
fct_mf_model *fct_mf_model_alloc(int32_t n_users, int32_t n_items, int32_t k, int64_t n_seen);
/* Free everything the model owns; NULL is a no-op. */
void fct_mf_model_destroy(fct_mf_model *m);

/* Unclipped prediction mu + b_u + b_i + p_u . q_i of known indices. */
float fct_mf_score(const fct_mf_model *m, int32_t u, int32_t i);

/*
 * Regularized training objective (the function SGD descends, summed over the
 * ratings of `data`, whose indices must be the model's):
 *   J = sum_(u,i) [ 0.5 (r - r^)^2 + 0.5 reg_factors (|p_u|^2 + |q_i|^2)
 *                   + 0.5 reg_bias (b_u^2 + b_i^2) ]
 * and its exact gradient (arrays shaped like bu, bi, P, Q; zeroed here).
 * For tests (finite differences) and diagnostics; O(nnz k).
 */
double fct_mf_objective(const fct_mf_model *m, const facto_dataset *data, float reg_factors, float reg_bias);
void fct_mf_gradient(const fct_mf_model *m, const facto_dataset *data, float reg_factors, float reg_bias,
                       double *g_bu, double *g_bi, double *g_P, double *g_Q);

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

#endif /* FACTO_MF_H */
