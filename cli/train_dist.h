/*
 * train_dist.h — `facto train --distributed` (train_dist.c, built with
 * FACTO_WITH_MPI): the same data options and hyperparameters as `facto
 * train`, trained across the ranks of an MPI job by facto_dist_fit; rank 0
 * prints the epochs, saves the model and scores it on the test data.
 */
#ifndef FACTO_CLI_TRAIN_DIST_H
#define FACTO_CLI_TRAIN_DIST_H

#include "train_data.h"

/* Run the distributed fit (fm: asynchronous when `async`); returns the exit code (every rank). */
int cli_train_dist(facto_ctx *ctx, const char *verb, facto_params *p, const cli_data_opts *data, const char *out,
                   int async);

#endif /* FACTO_CLI_TRAIN_DIST_H */
