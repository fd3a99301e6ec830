/*
 * sampling.h — negative items for the ranking solvers (BPR, WARP: pairwise.c;
 * sampled softmax: softmax.c): uniform over the catalogue, or proportional
 * to each item's number of training interactions (popularity) through
 * Walker's alias method (Walker, "An efficient method for generating
 * discrete random variables with general distributions", ACM TOMS 1977;
 * built as in Vose, IEEE TSE 1991): O(n) to build, O(1) a draw (one
 * uniform column, one biased coin). Also the membership test of an item in
 * a user's sorted training items (binary search), with which the solvers
 * reject a drawn negative that is a positive.
 *
 * Memory: the alias table holds n floats, n int32 and n doubles (log Q).
 */
#ifndef FACTO_SOLVERS_SAMPLING_H
#define FACTO_SOLVERS_SAMPLING_H

#include "core/internal.h"

#include <math.h>
#include <stdint.h>

/* How negatives are drawn (the kinds' negative_sampling hyperparameter). */
typedef enum fct_neg_kind {
    FCT_NEG_UNIFORM = 0,   /* every item with probability 1 / n_items */
    FCT_NEG_POPULARITY = 1 /* item j with probability count_j / nnz */
} fct_neg_kind;

/* Walker's alias table of a distribution Q over [0, n). */
typedef struct fct_alias {
    int32_t n;
    float *prob;    /* [n] keep column c with probability prob[c], else alias[c] */
    int32_t *alias; /* [n] */
    double *log_q;  /* [n] log Q(j) (-inf where Q(j) is 0) */
} fct_alias;

/*
 * Build the table of Q(j) = w[j] / sum w over j < n (n >= 1; every w finite
 * and >= 0, sum > 0). Returns 0, or -1 (out of memory, or weights that do
 * not form a distribution; then the table holds nothing). O(n).
 */
int fct_alias_build(fct_alias *a, const double *w, int32_t n);
void fct_alias_free(fct_alias *a);

/* One draw from Q: O(1), two numbers from rng. */
static inline int32_t fct_alias_draw(const fct_alias *a, fct_rng *rng)
{
    const int32_t c = (int32_t)fct_rng_below(rng, (uint64_t)a->n);
    return fct_rng_uniform(rng) < (double)a->prob[c] ? c : a->alias[c];
}

/* The negative sampler of a training set. */
typedef struct fct_negsampler {
    fct_neg_kind kind;
    int32_t n_items;
    fct_alias pop; /* POPULARITY: the table of count_j / nnz; UNIFORM: empty */
} fct_negsampler;

/*
 * A sampler of `kind` for n_items items whose training interactions are the
 * CSR items[nnz] (each pair counts 1 for popularity). Returns 0, or -1 when
 * out of memory or when popularity has nothing to count (nnz 0).
 */
int fct_negsampler_init(fct_negsampler *s, fct_neg_kind kind, int32_t n_items, const int32_t *items, int64_t nnz);
void fct_negsampler_free(fct_negsampler *s);

/* One negative candidate (not checked against the user's positives). */
static inline int32_t fct_negsampler_draw(const fct_negsampler *s, fct_rng *rng)
{
    return s->kind == FCT_NEG_POPULARITY ? fct_alias_draw(&s->pop, rng)
                                         : (int32_t)fct_rng_below(rng, (uint64_t)s->n_items);
}

/* log Q(j) of the sampler's distribution. */
static inline double fct_negsampler_log_q(const fct_negsampler *s, int32_t j)
{
    return s->kind == FCT_NEG_POPULARITY ? s->pop.log_q[j] : -log((double)s->n_items);
}

/* Position of x in the ascending items[0..n-1], or -1. O(log n). */
static inline int64_t fct_sorted_find(const int32_t *items, int64_t n, int32_t x)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (items[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && items[lo] == x ? lo : -1;
}

#endif /* FACTO_SOLVERS_SAMPLING_H */
