/*
 * mf.h — internal layout of the biased matrix factorization model, shared
 * by mf.c (parameters, scoring through the model interface, save/load), its
 * training driver (src/train/fit_mf.c) and its solver (src/solvers/sgd_mf.c).
 * Parameters live in 64-byte
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
    int32_t ld;              /* row stride of P and Q in floats: k, except while blocked SGD trains
                                (fpsg_mf.c), when rows are [p | b | 0..] of a padded stride */
    facto_idmap *users, *items; /* owned */
    int64_t n_seen;          /* training ratings */
    int64_t *seen_ptr;       /* [n_users + 1] offsets into seen_items / seen16 */
    int32_t *seen_items;     /* [n_seen] items each user rated in training, ascending; NULL when seen16 */
    uint16_t *seen16;        /* [n_seen] the same as 2-byte indices (a model of at most 65,536 items
                                trained or loaded from a format-2 file), or NULL */
} fct_mf_model;

/* Seen lists are kept and saved as uint16 up to this many items. */
#define FCT_MF_SEEN16_MAX 65536

/* Allocate a model with zeroed arrays (maps and params left for the caller).
 * NULL when out of memory. */
fct_mf_model *fct_mf_model_alloc(int32_t n_users, int32_t n_items, int32_t k, int64_t n_seen);
/* Free everything the model owns; NULL is a no-op. */
void fct_mf_model_destroy(fct_mf_model *m);

/* Check every hyperparameter's range; FACTO_ERR_INVALID naming the first bad one. */
facto_status fct_mf_validate(facto_ctx *ctx, const facto_mf_params *p);
/* 1 when every bias and factor is finite. O((n_users + n_items) k). */
int fct_mf_params_finite(const fct_mf_model *m);
/* The largest |bit pattern| of a[0..n) (sign cleared): below 0x7f800000
 * (inf) when every a[x] is finite. O(n), vectorises. */
uint32_t fct_mf_abs_bits_max(const float *a, size_t n);
/* reg_factors from the training data, for a facto_mf_params whose
 * reg_factors is unset (NAN): FCT_MF_REG_SCALE sd (1 / sqrt(ratings per
 * user) + 1 / sqrt(ratings per item)), at most FCT_MF_REG_MAX; sd the
 * ratings' spread around their mean, the counts over the users and items
 * with a rating (facto.h, facto_mf_params.reg_factors, says why). 0 when sd
 * is 0 or not finite. */
#define FCT_MF_REG_SCALE 0.27
#define FCT_MF_REG_MAX 0.08
float fct_mf_reg_from_data(double sd, int64_t n_ratings, int32_t users_rated, int32_t items_rated);
/* Build a model for `train`: copies of its id maps and per-user item lists
 * (fct_mf_set_seen; with_seen 0: seen_items and seen16 are left NULL for
 * the caller to fill), mu = mean
 * rating, the rating range, biases 0, m->params = *p with an unset
 * reg_factors set from the data (fct_mf_reg_from_data), factors N(0, init_std^2) drawn from
 * rng (P first, then Q) into rows of stride ld >= k floats (the padding 0;
 * ld > k: P and Q hold one spare zero row each, n + 1 rows). Reads the
 * ratings from the narrow arrays of a .fds data set when it has them. The
 * draws, the mean and the seen lists run over ctx's threads, with the
 * values (and rng's state after) of one thread. FACTO_ERR_NOMEM. */
facto_status fct_mf_init(facto_ctx *ctx, const facto_dataset *train, const facto_mf_params *p, fct_rng *rng,
                         int32_t ld, int with_seen, fct_mf_model **out);
/* The model's seen lists from train's CSR (the same users and items):
 * uint16 (seen16) when n_items <= FCT_MF_SEEN16_MAX, else int32
 * (seen_items); read from a .fds data set's narrow arrays when it has them
 * (their mapped pages given back as they are copied) or from the wide
 * ones. FACTO_ERR_NOMEM. O(nnz). */
facto_status fct_mf_set_seen(facto_ctx *ctx, fct_mf_model *m, const facto_dataset *train);
/* Give P and Q rows of stride k again (in place; the spare tail of the
 * allocations is returned to the system). O((n_users + n_items) k). */
void fct_mf_compact(fct_mf_model *m);
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

#endif /* FACTO_MF_H */
