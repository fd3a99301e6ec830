/*
 * fm_cd_engine.h — private to the FM solvers sharing the column-wise sweep
 * engine (Rendle, "Factorization Machines with libFM", ACM TIST 2012, sec.
 * 4-5; blocks: VLDB 2013): its state (e and q cached per row, parameters in
 * double, each source's CSC), the summaries a run leaves in the model and
 * the steps of a chain. Design and costs at each definition: fm_cd_engine.c
 * (state, block rows, prediction), fm_cd_sweep.c (sweeps), fm_mcmc_sampler.c
 * (hyperpriors, probit targets), fm_mcmc_summary.c (samples, Nystrom summary,
 * per-user / per-item sums), fm_mcmc_chains.c (several chains), fm_mcmc.c.
 */
#ifndef FACTO_FM_CD_ENGINE_H
#define FACTO_FM_CD_ENGINE_H

#include "fm_mcmc.h"

#include <stdatomic.h>
#include <time.h>

/* Probit link written as a logistic one so stored samples score through the
 * model's sigmoid: Phi(t) ~ 1 / (1 + exp(-1.702 t)), max error 0.0095. */
#define FACTO_FM_PROBIT_SCALE 1.702

/* Per training row: the cached error and factor sum (interleaved, so a
 * column's update touches one cache line per row). */
typedef struct fct_fm_eq {
    double e; /* y^ - target (target = label, or z for probit) */
    double q; /* q_f(n) of the factor being swept */
} fct_fm_eq;

/* Per block row j: sums over the data rows joined to j, with q_rest = q - q^B_j
 * (the row's factor sum without the block's part). */
typedef struct fct_fm_agg {
    double s1, s2; /* sum over joined rows of q_rest, q_rest^2 */
    double e, eq;  /* sum over joined rows of e, e * q_rest */
} fct_fm_agg;

/* Rows of one block (shared by train and test when the pointer is the same),
 * with per-row values of the current factor. */
typedef struct fct_fm_brows {
    const facto_rows *rows;
    const uint32_t *slots; /* [nnz] */
    double *lin;           /* [n_rows] sum_i w_i x_i */
    double *qf;            /* [n_rows] sum_i v_if x_i */
    double *sf;            /* [n_rows] sum_i (v_if x_i)^2 */
} fct_fm_brows;

/* One training source: direct rows (ref == NULL) or a block. */
typedef struct fct_fm_src {
    int64_t n_rows; /* data rows (direct) or block rows */
    const int64_t *row_ptr;
    const uint32_t *slot;
    const float *val;
    const int32_t *ref; /* [n] block row of each data row; NULL for direct */
    int brows;          /* index into the engine's brows, -1 for direct */
    /* CSC: columns = distinct slots of this source, ascending */
    int64_t n_cols;
    uint32_t *col_slot;
    int64_t *col_ptr;
    uint32_t *col_row;
    float *col_val;
    /* runs of columns [n_runs + 1] (column index where each starts): the
     * columns of a run share no row, so their parameters of one factor are
     * conditionally independent (fct_fm_engine_threads) */
    int64_t n_runs;
    int64_t *run_ptr;
    /* block work arrays [n_rows] */
    double *cnt;
    fct_fm_agg *agg;
    double *dq, *dy;
} fct_fm_src;

/* The engine: one model's parameters in double while a run sweeps them, the
 * errors of the n training rows and the sources' transposes. */
typedef struct fct_fm_engine {
    facto_ctx *ctx;
    fct_fm_model *m; /* the model trained (params, slot map; its w / V are written at the end) */
    fct_fm_cd_mode mode;
    int classify;        /* binary classifier: probit targets z */
    int32_t k;           /* factors */
    int64_t n_slots;     /* parameter slots */
    int64_t n;           /* training rows */
    const float *labels; /* [n] borrowed from the training rows */
    float *z;            /* [n] probit latent targets (classifier) */
    fct_fm_eq *eq;       /* [n] */
    double w0;
    double *w; /* [n_slots] */
    double *V; /* [k, n_slots] factor-major: V[f * n_slots + s] */
    int32_t *group;        /* [n_slots] prior group of each slot, in [0, G) */
    int32_t n_groups;      /* G <= 256 */
    int64_t *group_size;   /* [G] slots of the group seen in training */
    uint32_t *unseen;      /* [n_unseen] slots no training source uses */
    int64_t n_unseen;
    double alpha, lambda0; /* noise precision; prior precision of w0 (ALS: bias_wd, MCMC: 0) */
    double *mu_w, *lambda_w; /* [G] */
    double *mu_v, *lambda_v; /* [G, k] */
    int n_src;               /* 1 + blocks: src[0] direct rows, src[1 + b] block b */
    fct_fm_src src[1 + FACTO_FM_MAX_BLOCKS];
    int n_brows; /* block rows of train and test blocks (shared when the same) */
    fct_fm_brows brows[2 * FACTO_FM_MAX_BLOCKS];
    /* Last block's change of the previous factor, applied in the next
     * factor's first pass (saves one pass over the rows per factor):
     * e += q_prev * pend_a[j] + pend_b[j]. pending = 0 when none. */
    int pending;
    double *pend_a, *pend_b; /* [rows of the last block] */
    /* Pair form (no direct features, two blocks: every ratings data set):
     * fct_fm_sweep_v_pair, whose deferred change is e += pend_q1[j1]
     * pend_a[j2] + pend_b[j2] (pending = 2), with pend_q1 the first block's
     * final q of the previous factor; q of the rows is not kept. */
    double *pend_q1; /* [rows of block 1] */
    /* Flat rows (no blocks): q of the next factor, summed by each factor's
     * update pass; qn_ok once it holds the next factor's q. */
    double *qn; /* [n] */
    int qn_ok;
    /* Threads within a factor (fct_fm_engine_threads; 1: none). Pair
     * form with rows grouped by user (pair_par): pass 1 cut at user starts
     * ub [nthreads + 1] (pass 2, by item, stays on one thread: in item
     * order its rows would be random reads). col_mean / col_prec / col_v /
     * col_d [most columns of a source]: scratch of a run's columns. */
    int nthreads, pair_par;
    int64_t *ub;
    double *col_mean, *col_prec, *col_v, *col_d;
    uint8_t *seen;  /* [n_slots] 1 when a training source uses the slot */
    int64_t *count; /* [n_slots] scratch of the transposes */
    fct_rng rng; /* every draw of the run, seeded with params.seed */
} fct_fm_engine;

/* Seconds on clock `id` (CLOCK_MONOTONIC: wall time; CLOCK_THREAD_CPUTIME_ID:
 * this thread's CPU time). */
static inline double fct_fm_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double fct_fm_now(void)
{
    return fct_fm_clock(CLOCK_MONOTONIC);
}

/* Rank-r Nystrom summary of mean_s V_s V_s^T (fm_mcmc_summary.c). */
typedef struct fct_fm_summary {
    int32_t r;
    int64_t n;   /* samples accumulated */
    double *omega; /* [NS, r], NS = n_slots (or block rows for the pair sums) */
    double *y;     /* [NS, r] */
    double *t;     /* [k, r] scratch */
} fct_fm_summary;

/* Per-user / per-item sums of a ratings model (fm_mcmc_summary.c). */
typedef struct fct_fm_pairs {
    int64_t nb, off1;      /* block rows: users [0, off1), items [off1, nb) */
    int bidx[2];           /* engine brows of the user and item blocks */
    double *q;             /* [k, nb] sums of the current parameters */
    double *b;             /* [nb] */
    double *sum_b;         /* [nb] over post-burn-in samples */
    double sum_w0;
    int64_t n;             /* samples in sum_b */
    int keep, n_kept;      /* thinned samples of q (no summary) */
    float *kept;           /* [keep, nb, k] */
    fct_fm_summary sum;  /* r > 0: Nystrom summary of G */
} fct_fm_pairs;

/*
 * How the chains of one run keep in step (NULL for a lone chain). Only
 * chain 0 has the callbacks, so only it can be asked to stop early; every
 * other chain then ends after the same iterations, whatever the thread
 * count. Chain 0 publishes each iteration before it runs it (`started`) and
 * sets `done` when it leaves its loop; a chain c > 0 runs iteration `it`
 * only once chain 0 has started it (waiting when `lockstep`, that is when
 * there is a callback that could stop chain 0), and ends when chain 0 ended
 * before `it`. `failed`: a chain's error, which ends every chain.
 */
typedef struct fct_fm_chain_sync {
    atomic_int started, done, failed;
    int lockstep;
} fct_fm_chain_sync;

/* ---- fm_cd_engine.c: state, block rows, prediction ---------------------- */

/* A run's engine in two steps, so the caller can allocate its own buffers
 * in between (fm_mcmc.c). fct_fm_engine_alloc: zeroes *eng, takes the
 * model's sizes, seeds the stream with params.seed and allocates the
 * per-row and per-slot state. fct_fm_engine_build: prior groups, the
 * sources' transposes (train_bidx / test_bidx [n_blocks]: each block's
 * index in eng->brows), hyperparameters and libFM's starting point (V from
 * the stream). O(n_slots k + nnz of every source). Both: FACTO_ERR_NOMEM,
 * FACTO_ERR_INVALID (a bad prior group, a feature in two sources). */
facto_status fct_fm_engine_alloc(fct_fm_engine *eng, facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode,
                                 const fct_fm_data *train);
facto_status fct_fm_engine_build(fct_fm_engine *eng, const fct_fm_data *train, const uint32_t *const *train_slots,
                                 const fct_fm_data *test, const uint32_t *const *test_slots, int *train_bidx,
                                 int *test_bidx);
/* Threads within one factor's sweep on nthreads threads (when > 1): the
 * runs of conditionally independent columns of every block, and for the
 * pair form with rows grouped by user (and enough rows) the user cuts of
 * its first pass. The sweeps then give the same bits as on
 * one thread. FACTO_ERR_NOMEM. O(n + nnz of the blocks). */
facto_status fct_fm_engine_threads(fct_fm_engine *eng, int nthreads);
/* Least rows for the pair-form passes, and least entries of a run of
 * columns, to go on threads (tests lower them to reach the threaded code
 * on small data). */
extern int64_t fct_fm_par_min_rows, fct_fm_par_min_nnz;
/* Frees what the engine allocated (also after a failed set-up). */
void fct_fm_engine_free(fct_fm_engine *eng);
/* b->qf [block rows] = q_f of each row for vf [n_slots], and b->sf = sum_i
 * (v_if x_i)^2 when with_sq. O(nnz of the block). */
void fct_fm_brows_factor(fct_fm_engine *eng, fct_fm_brows *b, const double *vf, int with_sq);
/* out[i] [d[i]->n_rows] = y^ (raw) of the nd data sets d[i] (slots[i] per
 * source, bidx[i] their blocks' brows) with the engine's parameters. */
void fct_fm_predict_sets(fct_fm_engine *eng, int nd, const fct_fm_data *const *d,
                         const uint32_t *const *const *slots, const int *const *bidx, double *const *out);

/* ---- fm_cd_sweep.c: the sweeps ------------------------------------------- */

/* One iteration: alpha, w0, w, V (fm_cd_sweep.c). e stays exact up to
 * rounding. O(k (nnz(direct) + sum_B (nnz(B) + n))). */
void fct_fm_cd_sweep(fct_fm_engine *eng);

/* ---- fm_mcmc_sampler.c: hyperparameters and probit targets ------------- */

/* Classifier: z before an iteration (MCMC: truncated normal; ALS: +-1). */
void fct_fm_update_targets(fct_fm_engine *eng);
/* alpha ~ Gamma from the squared errors (MCMC regression; else 1). O(n). */
void fct_fm_draw_alpha(fct_fm_engine *eng);
/* lambda then mu of every group for theta[s] (strided by gstride in mu,
 * lambda: 1 for w, k for factor f of V). O(n_slots). */
void fct_fm_draw_hyper(fct_fm_engine *eng, const double *theta, double *mu, double *lambda, int64_t gstride);
/* The probit link as the model scores it: 1 / (1 + exp(-1.702 t)). */
double fct_fm_probit(double t);

/* ---- fm_mcmc_summary.c: what the model keeps ---------------------------- */

/* The engine's w0, w [n_slots], V [n_slots, k] as model floats (the
 * classifier's scaled from probit to logistic). */
void fct_fm_store_params(fct_fm_engine *eng, float *w0, float *w, float *V);
/* Nystrom summary: init (rank min(r, n), Omega from `seed`), add one
 * sample's V [k, NS] factor-major, factor into F [NS, r] (F F^T ~ the mean
 * of V V^T), finish into the model (V := F, w0 / w := means). */
void fct_fm_summary_free(fct_fm_summary *s);
facto_status fct_fm_summary_init(fct_fm_engine *eng, fct_fm_summary *s, int64_t n, int32_t r, uint64_t seed);
void fct_fm_summary_add(fct_fm_engine *eng, fct_fm_summary *s, const double *V, int64_t NS);
facto_status fct_fm_summary_factor(fct_fm_engine *eng, fct_fm_summary *s, int64_t NS, float **out);
facto_status fct_fm_summary_finish(fct_fm_engine *eng, fct_fm_summary *s, fct_fm_model *m, double w0_mean,
                                   const double *w_sum, int n_lin);
/* Per-user / per-item sums: init for ratings data, add a post-burn-in
 * sample, finish into the model's pair part. */
void fct_fm_pairs_free(fct_fm_pairs *p);
facto_status fct_fm_pairs_init(fct_fm_engine *eng, fct_fm_pairs *p, const fct_fm_data *train, const int *bidx,
                               int T, int burnin);
void fct_fm_pairs_add(fct_fm_engine *eng, fct_fm_pairs *p, int T, int it, int burnin, int sum_every);
facto_status fct_fm_pairs_finish(fct_fm_engine *eng, fct_fm_pairs *p, fct_fm_model *m);

/* ---- fm_mcmc_chains.c: several chains ----------------------------------- */

/* 1 when chain `chain` may run iteration `it` (waits in lockstep). */
int fct_fm_chain_may_run(fct_fm_chain_sync *sync, int chain, int it);
/* fct_fm_cd_run with params.mcmc_chains > 1 (MCMC): the chains, pooled. */
facto_status fct_fm_cd_chains(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode, const fct_fm_data *train,
                              const uint32_t *const *train_slots, const fct_fm_data *test,
                              const uint32_t *const *test_slots, const fct_fm_callbacks *callbacks, int burnin,
                              int summary_rank, fct_fm_cd_result *result);

/* ---- fm_mcmc.c: one chain ------------------------------------------------ */

/* One chain (MCMC) or the ALS run into m; test_avg [test rows] (may be NULL)
 * gets its running average of the test predictions; sync / chain: see
 * fct_fm_chain_sync (NULL, 0 for a lone chain). */

facto_status fct_fm_cd_chain(facto_ctx *ctx, fct_fm_model *m, fct_fm_cd_mode mode, const fct_fm_data *train,
                             const uint32_t *const *train_slots, const fct_fm_data *test,
                             const uint32_t *const *test_slots, const fct_fm_callbacks *callbacks,
                             int burnin_req, int summary_rank, fct_fm_cd_result *result, double *test_avg,
                             fct_fm_chain_sync *sync, int chain);

#endif /* FACTO_FM_CD_ENGINE_H */
