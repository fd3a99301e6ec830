/*
 * sampling.c — Walker's alias table (Vose's construction: columns scaled
 * to mean 1 are split into a "small" and a "large" work list; each small
 * column is topped up by a large one, which becomes its alias) and the
 * negative sampler over it (sampling.h). O(n) time and memory to build.
 */
#include "sampling.h"

#include <math.h>
#include <string.h>

void fct_alias_free(fct_alias *a)
{
    free(a->prob);
    free(a->alias);
    free(a->log_q);
    memset(a, 0, sizeof *a);
}

int fct_alias_build(fct_alias *a, const double *w, int32_t n)
{
    memset(a, 0, sizeof *a);
    if (n < 1)
        return -1;
    double sum = 0.0;
    for (int32_t j = 0; j < n; j++) {
        if (!isfinite(w[j]) || w[j] < 0.0)
            return -1;
        sum += w[j];
    }
    if (!(sum > 0.0) || !isfinite(sum))
        return -1;
    a->n = n;
    a->prob = fct_malloc_array((size_t)n, sizeof *a->prob);
    a->alias = fct_malloc_array((size_t)n, sizeof *a->alias);
    a->log_q = fct_malloc_array((size_t)n, sizeof *a->log_q);
    double *scaled = fct_malloc_array((size_t)n, sizeof *scaled);
    int32_t *small = fct_malloc_array((size_t)n, sizeof *small), *large = fct_malloc_array((size_t)n, sizeof *large);
    if (!a->prob || !a->alias || !a->log_q || !scaled || !small || !large) {
        free(scaled);
        free(small);
        free(large);
        fct_alias_free(a);
        return -1;
    }
    int32_t ns = 0, nl = 0;
    for (int32_t j = 0; j < n; j++) {
        a->log_q[j] = w[j] > 0.0 ? log(w[j] / sum) : -INFINITY;
        scaled[j] = w[j] / sum * (double)n;
        a->alias[j] = j;
        if (scaled[j] < 1.0)
            small[ns++] = j;
        else
            large[nl++] = j;
    }
    while (ns > 0 && nl > 0) {
        const int32_t s = small[--ns], l = large[nl - 1];
        a->prob[s] = (float)scaled[s];
        a->alias[s] = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* What is left is 1 up to rounding: always keep the column. */
    while (nl > 0)
        a->prob[large[--nl]] = 1.0f;
    while (ns > 0)
        a->prob[small[--ns]] = 1.0f;
    free(scaled);
    free(small);
    free(large);
    return 0;
}

int fct_negsampler_init(fct_negsampler *s, fct_neg_kind kind, int32_t n_items, const int32_t *items, int64_t nnz)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->n_items = n_items;
    if (n_items < 1)
        return -1;
    if (kind != FCT_NEG_POPULARITY)
        return 0;
    double *w = fct_calloc_array((size_t)n_items, sizeof *w);
    if (!w)
        return -1;
    for (int64_t x = 0; x < nnz; x++)
        if (items[x] >= 0 && items[x] < n_items)
            w[items[x]] += 1.0;
    int rc = fct_alias_build(&s->pop, w, n_items);
    free(w);
    return rc;
}

void fct_negsampler_free(fct_negsampler *s) { fct_alias_free(&s->pop); }
