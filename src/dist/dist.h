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

/* DSGD for mf (dsgd_mf.c) and synchronous mini-batch SGD for fm (fm_sync.c). */
facto_status fct_dist_fit_mf(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out);
facto_status fct_dist_fit_fm(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                             facto_model **out);

/* iALS with users and items sharded and the Gram matrix all-reduced (ials_dist.c). */
facto_status fct_dist_fit_ials(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                               facto_model **out);

/* fm on both schemes (fm_sync.c): refuse what they cannot take, then the
 * model every rank builds alike from all rows (fct_fm_model_new), the slots
 * of the rows and the label range; *q the settings with feature_dim filled. */
struct fct_fm_model;
facto_status fct_dist_fm_prepare(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                 facto_fm_params *q, struct fct_fm_model **m, uint32_t **slots);
/* The asynchronous (DiFacto-style) fm trainer (fm_async.c). */
facto_status fct_dist_fit_fm_async(facto_ctx *ctx, const facto_params *params, const facto_dist_data *data,
                                   facto_model **out);

#endif /* FACTO_DIST_INTERNAL_H */
