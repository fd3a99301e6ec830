/*
 * metrics.h — accuracy metrics of rating predictions (RMSE, MAE), as plain
 * array functions and as a running accumulator that training and evaluation
 * feed one prediction at a time. Sums are kept in double. O(n), no memory.
 */
#ifndef FACTO_METRICS_H
#define FACTO_METRICS_H

#include "core/internal.h"

#include <stdint.h>

/* Running sums of squared and absolute errors. Zero-initialise to start. */
typedef struct fct_err_acc {
    double sse; /* sum of (pred - truth)^2 */
    double sae; /* sum of |pred - truth| */
    int64_t n;
} fct_err_acc;

void fct_err_acc_add(fct_err_acc *acc, double pred, double truth);
/* Merge b into a (for per-thread accumulators). */
void fct_err_acc_merge(fct_err_acc *a, const fct_err_acc *b);
/* sqrt(sse / n) and sae / n; NAN when n == 0. */
double fct_err_acc_rmse(const fct_err_acc *acc);
double fct_err_acc_mae(const fct_err_acc *acc);

/* Over arrays pred [n] and truth [n]; NAN when n == 0. */
double fct_rmse(const float *pred, const float *truth, int64_t n);
double fct_mae(const float *pred, const float *truth, int64_t n);

/* A facto_metrics of `task` with counts 0 and every figure NAN. */
void fct_metrics_empty(facto_metrics *m, facto_task task);
/* n, RMSE and MAE of m from acc (regression). */
void fct_metrics_set_errors(facto_metrics *m, const fct_err_acc *acc);

#endif /* FACTO_METRICS_H */
