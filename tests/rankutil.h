/*
 * rankutil.h — what the ranking tests and bench programs share until the
 * library reads implicit data and makes ranking splits itself (issue 9):
 * keep the pairs of a rating data set whose value is >= a threshold as
 * weight-1 interactions; split each user's interactions (a random fraction
 * held out, at least one kept in training, a fixed seed). Metrics come from
 * facto_model_evaluate. Header-only; needs src/ on the include path and
 * libfacto's internal symbols (link the static library).
 */
#ifndef FACTO_TESTS_RANKUTIL_H
#define FACTO_TESTS_RANKUTIL_H

#include "facto.h"
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Push (user name, item name, weight) into coo through maps us / is. */
static int ru_push(facto_ctx *ctx, fct_coo *coo, facto_idmap *us, facto_idmap *is, const char *u, const char *i,
                   float w)
{
    int32_t a = fct_idmap_intern(us, u, strlen(u)), b = fct_idmap_intern(is, i, strlen(i));
    if (a < 0 || b < 0)
        return -1;
    return fct_coo_push(ctx, coo, a, b, w, 0, 0) == FACTO_OK ? 0 : -1;
}

/* The pairs of src with value >= threshold, as weight-1 interactions
 * (users and items without one are dropped). NULL on failure. */
static facto_dataset *ru_implicit(const facto_dataset *src, float threshold)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *us = fct_idmap_new(), *is = fct_idmap_new();
    int bad = !ctx || !us || !is;
    for (int32_t u = 0; !bad && u < src->n_users; u++)
        for (int64_t x = src->row_ptr[u]; !bad && x < src->row_ptr[u + 1]; x++)
            if (src->ratings[x] >= threshold)
                bad = ru_push(ctx, &coo, us, is, facto_idmap_name(src->user_map, u),
                              facto_idmap_name(src->item_map, src->items[x]), 1.0f) != 0;
    facto_dataset *out = NULL;
    if (!bad && fct_dataset_from_coo(ctx, &coo, us, is, &out, NULL) != FACTO_OK)
        out = NULL;
    else if (bad) {
        fct_idmap_free(us);
        fct_idmap_free(is);
    }
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return out;
}

/* Each user's interactions of ds: round(frac * n) of them (at most n - 1)
 * drawn at random (one rng from seed, users in index order, Fisher-Yates)
 * into *test, the rest into *train. Returns 0, or -1 on failure. */
static int ru_split(const facto_dataset *ds, double frac, uint64_t seed, facto_dataset **train, facto_dataset **test)
{
    facto_ctx *ctx = facto_ctx_new();
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    fct_coo ctr, cte;
    fct_coo_init(&ctr);
    fct_coo_init(&cte);
    facto_idmap *tru = fct_idmap_new(), *tri = fct_idmap_new(), *teu = fct_idmap_new(), *tei = fct_idmap_new();
    int64_t width = 1;
    for (int32_t u = 0; u < ds->n_users; u++)
        width = ds->row_ptr[u + 1] - ds->row_ptr[u] > width ? ds->row_ptr[u + 1] - ds->row_ptr[u] : width;
    int64_t *order = malloc((size_t)width * sizeof *order);
    int bad = !ctx || !tru || !tri || !teu || !tei || !order;
    for (int32_t u = 0; !bad && u < ds->n_users; u++) {
        const int64_t b = ds->row_ptr[u], n = ds->row_ptr[u + 1] - b;
        for (int64_t x = 0; x < n; x++)
            order[x] = x;
        fct_rng_shuffle_i64(&rng, order, n);
        int64_t n_test = (int64_t)floor(frac * (double)n + 0.5);
        if (n_test > n - 1)
            n_test = n - 1;
        const char *un = facto_idmap_name(ds->user_map, u);
        for (int64_t x = 0; !bad && x < n; x++) {
            int64_t at = b + order[x];
            const char *in = facto_idmap_name(ds->item_map, ds->items[at]);
            bad = x < n_test ? ru_push(ctx, &cte, teu, tei, un, in, ds->ratings[at])
                             : ru_push(ctx, &ctr, tru, tri, un, in, ds->ratings[at]);
        }
    }
    free(order);
    *train = *test = NULL;
    if (!bad) {
        bad = fct_dataset_from_coo(ctx, &ctr, tru, tri, train, NULL) != FACTO_OK;
        tru = tri = NULL;
        if (!bad)
            bad = fct_dataset_from_coo(ctx, &cte, teu, tei, test, NULL) != FACTO_OK;
        teu = tei = NULL;
    }
    fct_idmap_free(tru);
    fct_idmap_free(tri);
    fct_idmap_free(teu);
    fct_idmap_free(tei);
    fct_coo_free(&ctr);
    fct_coo_free(&cte);
    facto_ctx_free(ctx);
    if (bad) {
        facto_dataset_free(*train);
        facto_dataset_free(*test);
        *train = *test = NULL;
        return -1;
    }
    return 0;
}

#endif /* FACTO_TESTS_RANKUTIL_H */
