/*
 * metrics.c — RMSE and MAE of rating predictions. Errors are accumulated in
 * double so 10^8 ratings lose no precision worth noticing; a non-finite
 * prediction makes the result non-finite (callers use that to detect
 * divergence). O(n) time, O(1) memory.
 */
#include "metrics.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

void fct_err_acc_add(fct_err_acc *acc, double pred, double truth)
{
    double e = pred - truth;
    acc->sse += e * e;
    acc->sae += fabs(e);
    acc->n++;
}

void fct_err_acc_merge(fct_err_acc *a, const fct_err_acc *b)
{
    a->sse += b->sse;
    a->sae += b->sae;
    a->n += b->n;
}

double fct_err_acc_rmse(const fct_err_acc *acc)
{
    return acc->n > 0 ? sqrt(acc->sse / (double)acc->n) : NAN;
}

double fct_err_acc_mae(const fct_err_acc *acc) { return acc->n > 0 ? acc->sae / (double)acc->n : NAN; }

double fct_rmse(const float *pred, const float *truth, int64_t n)
{
    fct_err_acc acc = {0, 0, 0};
    for (int64_t i = 0; i < n; i++)
        fct_err_acc_add(&acc, pred[i], truth[i]);
    return fct_err_acc_rmse(&acc);
}

double fct_mae(const float *pred, const float *truth, int64_t n)
{
    fct_err_acc acc = {0, 0, 0};
    for (int64_t i = 0; i < n; i++)
        fct_err_acc_add(&acc, pred[i], truth[i]);
    return fct_err_acc_mae(&acc);
}

void fct_metrics_empty(facto_metrics *m, facto_task task)
{
    memset(m, 0, sizeof *m);
    m->task = task;
    m->rmse = m->mae = NAN;
    m->binary.accuracy = m->binary.cross_entropy = m->binary.f_beta = NAN;
    m->binary.precision = m->binary.recall = m->binary.auc = NAN;
}

void fct_metrics_set_errors(facto_metrics *m, const fct_err_acc *acc)
{
    m->n = acc->n;
    m->rmse = fct_err_acc_rmse(acc);
    m->mae = fct_err_acc_mae(acc);
}

double facto_metrics_get(const facto_metrics *m, const char *name)
{
    if (!m || !name)
        return NAN;
    for (int i = 0; i < m->n_ranking && i < FACTO_METRICS_MAX_RANKING; i++)
        if (strcmp(m->ranking[i].name, name) == 0)
            return m->ranking[i].value;
    static const struct {
        const char *name;
        size_t offset;
    } fields[] = {
        {"rmse", offsetof(facto_metrics, rmse)},
        {"mae", offsetof(facto_metrics, mae)},
        {"accuracy", offsetof(facto_metrics, binary.accuracy)},
        {"cross_entropy", offsetof(facto_metrics, binary.cross_entropy)},
        {"f_beta", offsetof(facto_metrics, binary.f_beta)},
        {"precision", offsetof(facto_metrics, binary.precision)},
        {"recall", offsetof(facto_metrics, binary.recall)},
        {"auc", offsetof(facto_metrics, binary.auc)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].name, name) == 0) {
            double v;
            memcpy(&v, (const char *)m + fields[i].offset, sizeof v);
            return v;
        }
    return NAN;
}
