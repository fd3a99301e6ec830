/*
 * classify.c — metrics of a binary classifier from labels and scores, with
 * SageMaker's metric names: accuracy, cross-entropy (mean log loss, nats,
 * probabilities clamped to [1e-15, 1 - 1e-15]), F-beta, precision, recall,
 * and ROC AUC computed as the Mann-Whitney statistic with average ranks for
 * tied scores (Hanley & McNeil, Radiology 1982), so a tie between a positive
 * and a negative counts 1/2. Cost O(n log n) for the sort, O(n) memory.
 */
#include "../core/internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    float score;
    int positive;
} fct_scored;

static int fct_scored_cmp(const void *a, const void *b)
{
    float x = ((const fct_scored *)a)->score, y = ((const fct_scored *)b)->score;
    return (x > y) - (x < y);
}

facto_status facto_binary_metrics_compute(facto_ctx *ctx, const float *labels, const float *scores, int64_t n,
                                          double threshold, double beta, facto_binary_metrics *out)
{
    if (!out || (n > 0 && (!labels || !scores)) || n < 0)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_binary_metrics_compute: labels, scores and out must be given");
    if (!(beta > 0.0) || !isfinite(beta))
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_binary_metrics_compute: beta must be a positive number");
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n == 0) {
        out->accuracy = out->cross_entropy = out->f_beta = out->precision = out->recall = out->auc = NAN;
        return FACTO_OK;
    }
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(scores[i]))
            return fct_fail(ctx, FACTO_ERR_INVALID, "score %lld is not a finite number", (long long)i + 1);
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    double ce = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int pos = labels[i] > 0.0f;
        int pred = scores[i] >= threshold;
        tp += pos && pred;
        fp += !pos && pred;
        fn += pos && !pred;
        tn += !pos && !pred;
        double p = scores[i];
        p = p < 1e-15 ? 1e-15 : (p > 1.0 - 1e-15 ? 1.0 - 1e-15 : p);
        ce -= pos ? log(p) : log1p(-p);
    }
    out->n_positive = tp + fn;
    out->accuracy = (double)(tp + tn) / (double)n;
    out->cross_entropy = ce / (double)n;
    out->precision = tp + fp > 0 ? (double)tp / (double)(tp + fp) : 0.0;
    out->recall = tp + fn > 0 ? (double)tp / (double)(tp + fn) : 0.0;
    double b2 = beta * beta, pr = out->precision, rc = out->recall;
    out->f_beta = pr + rc > 0.0 ? (1.0 + b2) * pr * rc / (b2 * pr + rc) : 0.0;

    int64_t npos = tp + fn, nneg = n - npos;
    if (npos == 0 || nneg == 0) {
        out->auc = NAN;
        return FACTO_OK;
    }
    fct_scored *a = fct_malloc_array((size_t)n, sizeof *a);
    if (!a)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld scores (AUC)", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        a[i].score = scores[i];
        a[i].positive = labels[i] > 0.0f;
    }
    qsort(a, (size_t)n, sizeof *a, fct_scored_cmp);
    /* Sum of the 1-based ranks of the positives, tied scores sharing their
     * average rank. */
    double rank_sum = 0.0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        int64_t pos_in_group = 0;
        while (j < n && a[j].score == a[i].score) {
            pos_in_group += a[j].positive;
            j++;
        }
        double avg_rank = 0.5 * (double)(i + 1 + j); /* mean of i+1 .. j */
        rank_sum += avg_rank * (double)pos_in_group;
        i = j;
    }
    free(a);
    out->auc = (rank_sum - 0.5 * (double)npos * (double)(npos + 1)) / ((double)npos * (double)nneg);
    return FACTO_OK;
}
