/*
 * fm_mcmc.h — the libFM-class solvers of factorization machines: Gibbs
 * sampling with hyperpriors (MCMC) and alternating least squares /
 * coordinate descent (ALS), Rendle, "Factorization Machines with libFM",
 * ACM TIST 2012, sec. 4-5. Both share one column-wise sweep engine
 * (fm_cd_engine.c, fm_cd_sweep.c; private header fm_cd_engine.h) that also
 * understands libFM's block structure (Rendle, VLDB 2013), so per-user
 * blocks (side features, implicit feedback) are never repeated per row.
 * Cost per iteration O(k * (nnz(direct) + sum_B (nnz(B) + n_rows))).
 * fct_fm_fit_mcmc / fct_fm_fit_als (fm_solvers.h) call in here; training
 * on block data: src/train/fit_fm_ratings.h.
 */
#ifndef FACTO_FM_MCMC_H
#define FACTO_FM_MCMC_H

#include "data/fm_blocks.h"
#include "models/fm.h"

typedef enum fct_fm_cd_mode {
    FACTO_FM_CD_MCMC = 1, /* draw every parameter from its conditional posterior */
    FACTO_FM_CD_ALS = 2   /* set every parameter to its conditional mode (fixed L2) */
} fct_fm_cd_mode;

/* Everything the engine reports besides the model. */
typedef struct fct_fm_cd_result {
    int iterations;        /* iterations run */
    int burnin;            /* MCMC: iterations left out of the running prediction average */
    double alpha;          /* last noise precision (MCMC regression) */
    double test_rmse_avg;  /* regressor: RMSE of the running average over all post-burn-in samples
                              (what libFM reports); NAN without test rows */
    double seconds;        /* wall time of all sweeps, without test scoring */
    double cpu_seconds;    /* CPU time of the same (one thread: robust to a busy machine); with
                              several chains, the sum over the chains */
    int chains;            /* MCMC chains pooled (params.mcmc_chains; 1 for ALS); seconds is then the
                              wall time of all chains together */
} fct_fm_cd_result;

/*
 * Train `model` (made by fct_fm_model_new, its w/V get re-initialised: w0 =
 * w = 0, V ~ N(0, init_stdev^2) as libFM does) on block data. `train_slots`
 * and `test_slots` are per source (index 0 = direct rows, 1 + b = block b)
 * slot maps from fct_fm_map_rows. test may be NULL. MCMC keeps
 * params.mcmc_samples thinned samples in the model (see fm_mcmc.c and
 * fm_mcmc_summary.c).
 * ALS minimises sum_n (y_n - y^_n)^2 + bias_wd w0^2 + linear_wd |w|^2 +
 * factors_wd |V|^2 (libFM's -regular r0,r1,r2). burnin: MCMC iterations
 * left out of the prediction average and of the stored samples; -1 = the
 * default, 0 (average every sample from the first, as libFM does).
 * summary_rank r > 0 (MCMC): instead of thinned samples the model gets a
 * rank-r Nystrom summary of the posterior average (fm_mcmc_summary.c): V
 * becomes [n_slots, r] (num_factors = r), w0 / w the posterior means,
 * n_samples 0; cost O(n_slots k r) for each of about 100 samples. Accurate
 * for rows with few features (one-hot user + item), not with many.
 * result may be NULL.
 * Errors: FACTO_ERR_INVALID (more than 2^32-1 rows, features shared between
 * sources, a starting point fct_fm_start_check refuses), FACTO_ERR_NOMEM,
 * FACTO_ERR_DIVERGED (non-finite error term).
 */
facto_status fct_fm_cd_run(facto_ctx *ctx, fct_fm_model *model, fct_fm_cd_mode mode,
                             const fct_fm_data *train, const uint32_t *const *train_slots,
                             const fct_fm_data *test, const uint32_t *const *test_slots,
                             const fct_fm_callbacks *callbacks, int burnin, int summary_rank,
                             fct_fm_cd_result *result);

/*
 * fct_fm_cd_run on flat feature rows (fct_fm_fit_mcmc / _als): finds
 * one-hot fields (fct_fm_infer_fields) for MCMC's prior groups when
 * params.prior_groups is 1, and sweeps rows of exactly two one-hot fields
 * in pair form (fct_fm_data_two_fields). test, test_slots and result may
 * be NULL.
 * Errors: those of fct_fm_cd_run; FACTO_ERR_NOMEM.
 */
facto_status fct_fm_cd_run_rows(facto_ctx *ctx, fct_fm_model *model, fct_fm_cd_mode mode,
                                  const facto_rows *train, const uint32_t *train_slots, const facto_rows *test,
                                  const uint32_t *test_slots, const fct_fm_callbacks *callbacks,
                                  fct_fm_cd_result *result);

/*
 * Whether ALS and MCMC can train from libFM's starting point (w0 = w = 0,
 * V ~ N(0, init_stdev^2)) on `train`: the spread of its first predictions
 * on the training rows, computed exactly without drawing V (variance k
 * init_stdev^4 sum_{i<j} x_i^2 x_j^2 a row), as a multiple R of the
 * standard deviation of the training labels (a classifier's +-1). From
 * FACTO_FM_START_MAX on the solvers learn nothing from there:
 * FACTO_ERR_INVALID, "training row N: feature key K = X, ... is far off the
 * scale of the other feature values ...; scale that feature ... or lower
 * init_stdev to S or below" (no row for ratings in block form; when no
 * feature stands out, the labels' scale and init_stdev are named). From
 * FACTO_FM_START_WARN on, the same as a warning through the context's
 * logger. fct_fm_cd_run calls it first. Figures behind the bounds in
 * fm_cd_start.c. O(nnz of every source + n_rows n_blocks). FACTO_ERR_NOMEM.
 */
/* summary_rank -1 on feature rows of one-hot fields: this rank (fm_mcmc.c). */
#define FACTO_FM_ROWS_AUTO_RANK 128
#define FACTO_FM_START_WARN 30
#define FACTO_FM_START_MAX 300
facto_status fct_fm_start_check(facto_ctx *ctx, const fct_fm_model *model, fct_fm_cd_mode mode,
                                const fct_fm_data *train);

/*
 * Predict raw y^ (no clipping, no link) of every row of block data `d` with
 * the model's current w0/w/V into out[n_rows]. slots per source as above.
 * O(k * (nnz(direct) + sum_B nnz(B) + n_rows * n_blocks)). FACTO_ERR_NOMEM.
 */
facto_status fct_fm_blocks_predict_raw(facto_ctx *ctx, const fct_fm_model *model, const fct_fm_data *d,
                                         const uint32_t *const *slots, double *out);

/* ALS objective sum_n (y_n - y^_n)^2 + bias_wd w0^2 + linear_wd |w|^2 +
 * factors_wd |V|^2 of the model's current parameters on block data d
 * (what every ALS coordinate step cannot increase). fm_als.c. */
facto_status fct_fm_als_objective(facto_ctx *ctx, const fct_fm_model *model, const fct_fm_data *d,
                                    const uint32_t *const *slots, double *objective);

#endif /* FACTO_FM_MCMC_H */
