/*
 * facto_dist.h — distributed training on MPI (libfacto_dist, built with
 * -DFACTO_WITH_MPI=ON; docs/distributed.md). Every rank of an MPI job calls
 * the same functions with the same settings; rank 0 receives the model,
 * which is an ordinary facto_model (same kinds, same file format).
 *
 *   mf: DSGD over rotating strata (Gemulla, Nijkamp, Haas & Sismanis,
 *       "Large-scale matrix factorization with distributed stochastic
 *       gradient descent", KDD 2011, section 4): users and items are cut
 *       into P blocks each; rank r owns user block r and, in sub-epoch s of
 *       an epoch, updates the ratings of stratum (r, (r + s) mod P), then
 *       passes the item block (factors and biases) to rank r - 1.
 *   fm: synchronous data-parallel mini-batch SGD: each rank takes every
 *       P-th training row, the gradients of a mini-batch are summed over
 *       ranks with MPI_Allreduce and every rank takes the same step; or
 *       (async) DiFacto-style (Li, Wang, Liu, Smola & Jordan, "DiFacto:
 *       Distributed Factorization Machines", WSDM 2016): each feature's
 *       parameters live on one rank (slot mod P), workers pull the rows a
 *       mini-batch needs and push sparse SGD steps to their owners with
 *       MPI one-sided calls, without waiting for each other.
 *   ials: users and items cut into P blocks; rank r re-solves user block r
 *       and item block r (the item-major view of its items comes from one
 *       MPI_Alltoallv of the interactions); in each half-step the Gram
 *       matrix of the fixed side is the MPI_Allreduce of every rank's
 *       share, and MPI_Allgatherv gives every rank the updated side
 *       (Hu, Koren & Volinsky 2008's alternation, as facto_model_fit).
 *
 * This header compiles as C11 and C++; it declares nothing that needs
 * <mpi.h>, which only src/dist/ includes.
 */
#ifndef FACTO_DIST_H
#define FACTO_DIST_H

#include "facto.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Start MPI (MPI_Init_thread, funneled) unless it runs already; argc and
 * argv may be NULL. Returns 0, or -1 when MPI cannot start (its message is
 * on stderr). Call once per process before anything below.
 */
FACTO_API int facto_dist_init(int *argc, char ***argv);
/* End MPI when facto_dist_init started it; a no-op otherwise. */
FACTO_API void facto_dist_finalize(void);
/* This process's rank (0-based) and the number of ranks; 0 and 1 before facto_dist_init. */
FACTO_API int facto_dist_rank(void);
FACTO_API int facto_dist_size(void);

/*
 * A collective check between steps of a program: every rank passes its own
 * status; FACTO_OK when every rank's is FACTO_OK, else this rank's error,
 * or FACTO_ERR_IO "another rank failed" on a rank that did not fail. Call it
 * after a step that may fail on some ranks only (reading a file), so no
 * rank waits forever in the next collective call.
 */
FACTO_API facto_status facto_dist_agree(facto_ctx *ctx, facto_status status);
/* 1 when this rank's last failed agreement (facto_dist_agree, or one inside
 * facto_dist_fit) failed only because another rank did: its own message is
 * then "another rank failed", not worth printing. 0 otherwise. */
FACTO_API int facto_dist_failed_elsewhere(void);
/*
 * A collective comparison of every rank's text [n bytes]: 1 when all ranks
 * hold the same bytes, else 0, on every rank. A program then prints a
 * message every rank hit alike from rank 0 only, and a rank's own one with
 * its rank. Rank 0 broadcasts its length and bytes; one allreduce of an
 * int. -1 (on every rank) when MPI fails or memory runs out.
 */
FACTO_API int facto_dist_all_same(const char *text, size_t n);

/* One epoch as every rank saw it (given to rank 0's callback only). */
typedef struct facto_dist_report {
    int epoch, epochs;
    double train_rmse;         /* running RMSE of the SGD errors over the epoch, before each update; NAN for ials */
    double seconds;            /* wall time of the epoch (rank 0's clock) */
    double updates_per_second; /* ratings (mf) or rows (fm) of all ranks / seconds */
    int64_t bytes;             /* bytes all ranks sent to each other during the epoch, counted by facto */
    double train_loss;         /* ials: the objective after the iteration over the training pairs (as
                                  facto_epoch_report.train_loss); NAN for mf and fm */
} facto_dist_report;

/* Return non-zero to stop after this epoch (every rank then stops). */
typedef int (*facto_dist_epoch_fn)(const facto_dist_report *report, void *user_data);

/*
 * The training data of one rank. Give exactly one of:
 *   train      the whole training set, read by every rank (text input):
 *              each rank keeps its own users' part (mf) or every P-th row (fm
 *              from ratings is not supported: use train_rows);
 *   train_fds  a .fds file (mf, ials): each rank reads only its users' part, by
 *              offset; rank 0 also reads the id sections;
 *   train_rows feature rows, read by every rank (fm): each rank keeps rows
 *              rank, rank + P, rank + 2P, ...
 */
typedef struct facto_dist_data {
    const facto_dataset *train;
    const char *train_fds;
    const facto_rows *train_rows;
    facto_dist_epoch_fn on_epoch; /* rank 0 only; may be NULL */
    void *user_data;
    int async;                    /* fm: 1 = asynchronous DiFacto-style training (below), 0 = synchronous */
} facto_dist_data;

/*
 * FACTO_OK when `params`' kind has a distributed trainer (mf, fm, ials),
 * else FACTO_ERR_INVALID with a message naming the kinds that do. No MPI
 * call and no data: a program checks it before reading anything.
 */
FACTO_API facto_status facto_dist_check_kind(facto_ctx *ctx, const facto_params *params);

/*
 * facto_dist_check_kind, then the settings the kind's distributed trainer
 * takes on `n_ranks` ranks with `async` (facto_dist_data.async): mf trains
 * with optimizer sgd and momentum 0, not async; fm with solver sgd,
 * average_epochs 0, mini_batch_size >= 2 x n_ranks, and optimizer sgd when
 * async; ials not async. FACTO_OK, else FACTO_ERR_INVALID naming the
 * setting (a bad combination of settings, not of data). No MPI call and no
 * data: a program checks it before reading anything; facto_dist_fit checks
 * it too.
 */
FACTO_API facto_status facto_dist_check_settings(facto_ctx *ctx, const facto_params *params, int async,
                                                 int n_ranks);

/*
 * Train `params` (kind mf, ials or fm) across the ranks of MPI_COMM_WORLD; a
 * collective call. Rank 0 gets the model in *out (free with
 * facto_model_free); every other rank gets NULL. Settings: mf with
 * optimizer sgd and momentum 0 (DSGD's update; FACTO_ERR_INVALID otherwise);
 * fm with solver sgd (each rank computes the gradient of its part of a
 * mini-batch of `mini_batch_size` rows per rank); ials with any of its
 * settings (CG or exact solver; interaction weights finite and >= 0). With
 * one rank, fm and ials give the model of facto_model_fit bit for bit (mf
 * did until single-process SGD moved to the blocked schedule); ials with P
 * ranks differs from it only in the summation order of the Gram matrices.
 * Errors: FACTO_ERR_INVALID (settings facto_dist_check_settings refuses,
 * data), the readers' codes for
 * train_fds, FACTO_ERR_DIVERGED, FACTO_ERR_NOMEM; a rank that fails makes
 * every rank return an error (the others say "another rank failed").
 * *bytes_sent (may be NULL): bytes all ranks sent during the whole call,
 * model gathering included. Cost per epoch (mf): O(nnz k / P) per rank and
 * P exchanges of one item block ((n_items / P) (k + 1) floats) per rank;
 * ials: O((nnz k + (n_users + n_items) k^2) (cg_steps + 1) / P) per rank
 * and (P - 1) (n_users + n_items) k 4 + 2 P k^2 4 bytes in all. Memory
 * (ials): every rank holds the whole U and V.
 */
FACTO_API facto_status facto_dist_fit(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                      facto_model **out, int64_t *bytes_sent);

#ifdef __cplusplus
}
#endif

#endif /* FACTO_DIST_H */
