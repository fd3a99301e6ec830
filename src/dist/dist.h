/*
 * dist.h — what the distributed trainers of src/dist/ share (dist.c): the
 * world communicator, a byte counter of every message facto sends, and the
 * agreement on a failure (one rank fails, every rank returns an error
 * instead of waiting forever in the next collective). The only folder that
 * includes <mpi.h> (scripts/check-layers checks it).
 */
#ifndef FACTO_DIST_INTERNAL_H
#define FACTO_DIST_INTERNAL_H

#include <mpi.h>

#include "facto_dist.h"
#include "core/internal.h"
#include "data/fds.h"

/* Bytes this process sent since facto_dist_init (each Sendrecv, Allreduce
 * and gather adds what it sent, as the algorithm's message sizes: a
 * reduction of n bytes counts n per rank, whatever MPI's algorithm moves). */
extern int64_t fct_dist_bytes;

/* Add n bytes sent to another rank: nothing in a job of one rank (a
 * collective then moves nothing). Messages to oneself are never counted. */
void fct_dist_count(int64_t n);

/*
 * Every rank passes its status; returns FACTO_OK when all are, else this
 * rank's error, or (a rank that did not fail) FACTO_ERR_IO with "another
 * rank failed". One MPI_Allreduce of an int.
 */
facto_status fct_dist_agree(facto_ctx *ctx, facto_status st);

/* Sum of bytes sent by all ranks since `since` (each rank's own counter
 * minus its `since`); collective, result on every rank. */
int64_t fct_dist_bytes_all(int64_t since);

/* Block b of `parts` over n things starts at n b / parts. */
static inline int32_t fct_dist_begin(int32_t n, int b, int parts) { return (int32_t)((int64_t)n * b / parts); }

/*
 * One rank's users of the training data (mf, ials): user block `rank` of
 * `parts`, [u0, u1), with their ratings, row_ptr from 0: a view of the
 * whole data set (data->train) or the rank's shard of the .fds file
 * (data->train_fds, read by offset; id maps on rank 0 only).
 */
typedef struct fct_dist_part {
    int32_t n_users, n_items, u0, u1;       /* of the whole data */
    int64_t n_ratings;                      /* of the whole data */
    const int64_t *row_ptr;                 /* [u1 - u0 + 1] from 0 */
    const int32_t *items;                   /* global item indices */
    const float *ratings;
    int64_t *own_rows;                      /* row_ptr when made here */
    fct_fds_shard shard;                    /* train_fds */
    const facto_idmap *users, *items_map;   /* every rank (train), rank 0 (train_fds) */
} fct_dist_part;

/* Fill *part (zeroed first) for `kind` ("mf", "ials": named in the
 * errors), which trains on `what` ("ratings", "interactions"): exactly one
 * of data->train and data->train_fds, no rating weights. */
facto_status fct_dist_part_read(facto_ctx *ctx, const facto_dist_data *data, const char *kind, const char *what,
                                int rank, int parts, fct_dist_part *part);
void fct_dist_part_free(fct_dist_part *part);

/* The settings each trainer takes (facto_dist_check_settings): FACTO_OK or
 * FACTO_ERR_INVALID naming the setting. No MPI call. */
facto_status fct_dist_check_mf(facto_ctx *ctx, const facto_params *params, int async, int n_ranks);
facto_status fct_dist_check_fm(facto_ctx *ctx, const facto_params *params, int async, int n_ranks);
facto_status fct_dist_check_ials(facto_ctx *ctx, const facto_params *params, int async, int n_ranks);

/* DSGD for mf (dsgd_mf.c) and synchronous mini-batch SGD for fm (fm_sync.c). */
facto_status fct_dist_fit_mf(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out);
facto_status fct_dist_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out);

/* iALS with users and items sharded and the Gram matrix all-reduced (ials_dist.c). */
facto_status fct_dist_fit_ials(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                               facto_model **out);

/* fm on both schemes (fm_sync.c): refuse data they cannot take (the
 * settings: fct_dist_check_fm, run by facto_dist_fit before), then the
 * model every rank builds alike from all rows (fct_fm_model_new), the slots
 * of the rows and the label range; *q the settings with feature_dim filled. */
struct fct_fm_model;
facto_status fct_dist_fm_prepare(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                 facto_fm_params *q, struct fct_fm_model **m, uint32_t **slots);
/* The asynchronous (DiFacto-style) fm trainer (fm_async.c). */
facto_status fct_dist_fit_fm_async(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                   facto_model **out);

#endif /* FACTO_DIST_INTERNAL_H */
