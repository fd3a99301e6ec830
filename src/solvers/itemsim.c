/*
 * itemsim.c — item-item products for the item-based ranking kinds
 * (itemsim.h): the transpose of a user CSR, BM25 weights, Gram rows by
 * sparse accumulation (dense G for EASE, top-K cosine lists for itemknn),
 * and EASE's solve. Every Gram row is computed by one thread into its own
 * double accumulator and touched list, so there is no sharing and the bits
 * do not depend on the thread count.
 */
#include "itemsim.h"

#include "kernels/blas.h"
#include "kernels/lapack.h"

#include <math.h>
#include <omp.h>
#include <string.h>

void fct_item_cols_free(fct_item_cols *c)
{
    free(c->ptr);
    free(c->users);
    free(c->w);
    memset(c, 0, sizeof *c);
}

facto_status fct_item_cols_build(facto_ctx *ctx, int32_t n_users, int32_t n_items, const int64_t *uptr,
                                 const int32_t *uitems, const float *w, fct_item_cols *out)
{
    int64_t nnz = uptr[n_users];
    memset(out, 0, sizeof *out);
    out->ptr = fct_calloc_array((size_t)n_items + 1, sizeof *out->ptr);
    out->users = fct_malloc_array((size_t)(nnz > 0 ? nnz : 1), sizeof *out->users);
    out->w = fct_malloc_array((size_t)(nnz > 0 ? nnz : 1), sizeof *out->w);
    int64_t *next = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *next);
    if (!out->ptr || !out->users || !out->w || !next) {
        free(next);
        fct_item_cols_free(out);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory transposing %lld interactions", (long long)nnz);
    }
    for (int64_t e = 0; e < nnz; e++)
        out->ptr[uitems[e] + 1]++;
    for (int32_t i = 0; i < n_items; i++)
        out->ptr[i + 1] += out->ptr[i];
    memcpy(next, out->ptr, (size_t)n_items * sizeof *next);
    for (int32_t u = 0; u < n_users; u++)
        for (int64_t e = uptr[u]; e < uptr[u + 1]; e++) {
            int64_t at = next[uitems[e]]++;
            out->users[at] = u;
            out->w[at] = w[e];
        }
    free(next);
    return FACTO_OK;
}

void fct_bm25_weigh(int32_t n_users, const int64_t *uptr, const float *x, float k1, float b, float *out)
{
    double total = 0.0;
    for (int64_t e = 0; e < uptr[n_users]; e++)
        total += x[e];
    double avg = n_users > 0 ? total / (double)n_users : 0.0;
    for (int32_t u = 0; u < n_users; u++) {
        double len = 0.0;
        for (int64_t e = uptr[u]; e < uptr[u + 1]; e++)
            len += x[e];
        double norm = avg > 0.0 ? (double)k1 * (1.0 - (double)b + (double)b * len / avg) : 0.0;
        for (int64_t e = uptr[u]; e < uptr[u + 1]; e++) {
            double v = x[e];
            out[e] = v > 0.0 && avg > 0.0 ? (float)(v * ((double)k1 + 1.0) / (v + norm)) : 0.0f;
        }
    }
}

/* Per-thread scratch of a Gram row. */
typedef struct fct_gram_row {
    double *acc;      /* [n_items], zero between rows */
    int32_t *touched; /* [n_items] the columns this row reached */
    unsigned char *mark;
} fct_gram_row;

static int fct_gram_row_alloc(fct_gram_row *r, int32_t n_items)
{
    size_t n = (size_t)(n_items > 0 ? n_items : 1);
    r->acc = fct_calloc_array(n, sizeof *r->acc);
    r->touched = fct_malloc_array(n, sizeof *r->touched);
    r->mark = fct_calloc_array(n, 1);
    return r->acc && r->touched && r->mark;
}

static void fct_gram_row_free(fct_gram_row *r)
{
    free(r->acc);
    free(r->touched);
    free(r->mark);
}

/* Row i of W^T W into r->acc at the columns r->touched[0..return). */
static int32_t fct_gram_row_fill(fct_gram_row *r, int32_t i, const fct_item_cols *cols, const int64_t *uptr,
                                 const int32_t *uitems, const float *w)
{
    int32_t nt = 0;
    for (int64_t c = cols->ptr[i]; c < cols->ptr[i + 1]; c++) {
        int32_t u = cols->users[c];
        double a = cols->w[c];
        for (int64_t e = uptr[u]; e < uptr[u + 1]; e++) {
            int32_t j = uitems[e];
            if (!r->mark[j]) {
                r->mark[j] = 1;
                r->touched[nt++] = j;
            }
            r->acc[j] += a * (double)w[e];
        }
    }
    return nt;
}

static void fct_gram_row_reset(fct_gram_row *r, int32_t nt)
{
    for (int32_t t = 0; t < nt; t++) {
        r->acc[r->touched[t]] = 0.0;
        r->mark[r->touched[t]] = 0;
    }
}

facto_status fct_gram_dense(facto_ctx *ctx, int32_t n_users, int32_t n_items, const int64_t *uptr,
                            const int32_t *uitems, const float *w, int threads, float *G)
{
    fct_item_cols cols;
    facto_status st = fct_item_cols_build(ctx, n_users, n_items, uptr, uitems, w, &cols);
    if (st != FACTO_OK)
        return st;
    int failed = 0;
    const size_t ni = (size_t)n_items;
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
    {
        fct_gram_row r;
        int ok = fct_gram_row_alloc(&r, n_items);
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 8)
        for (int32_t i = 0; i < n_items; i++) {
            float *row = G + (size_t)i * ni;
            memset(row, 0, ni * sizeof *row);
            if (!ok)
                continue;
            int32_t nt = fct_gram_row_fill(&r, i, &cols, uptr, uitems, w);
            for (int32_t t = 0; t < nt; t++)
                row[r.touched[t]] = (float)r.acc[r.touched[t]];
            fct_gram_row_reset(&r, nt);
        }
        fct_gram_row_free(&r);
    }
    fct_item_cols_free(&cols);
    if (failed)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the Gram rows of %d items", n_items);
    return FACTO_OK;
}

/* ---- top-K cosine neighbours ------------------------------------------------------- */

typedef struct fct_nbr {
    int32_t item;
    float sim;
} fct_nbr;

/* 1 when a ranks below b: lower similarity, or equal and higher item. */
static int fct_nbr_worse(const fct_nbr *a, const fct_nbr *b)
{
    return a->sim != b->sim ? a->sim < b->sim : a->item > b->item;
}

/* Min-heap of the K best kept so far (root = the worst kept). */
static void fct_nbr_push(fct_nbr *h, int *n, int K, fct_nbr c)
{
    if (*n < K) {
        int i = (*n)++;
        h[i] = c;
        while (i > 0 && fct_nbr_worse(&h[i], &h[(i - 1) / 2])) {
            fct_nbr t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    if (!fct_nbr_worse(&h[0], &c))
        return;
    h[0] = c;
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && fct_nbr_worse(&h[l], &h[m]))
            m = l;
        if (r < *n && fct_nbr_worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        fct_nbr t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int fct_nbr_by_item(const void *a, const void *b)
{
    int32_t x = ((const fct_nbr *)a)->item, y = ((const fct_nbr *)b)->item;
    return (x > y) - (x < y);
}

facto_status fct_knn_build(facto_ctx *ctx, int32_t n_users, int32_t n_items, const int64_t *uptr,
                           const int32_t *uitems, const float *w, int K, int threads, int64_t **ptr,
                           int32_t **items, float **sim, int64_t *n_nbr)
{
    *ptr = NULL;
    *items = NULL;
    *sim = NULL;
    *n_nbr = 0;
    if (K > n_items - 1)
        K = n_items - 1 > 0 ? n_items - 1 : 0;
    fct_item_cols cols;
    facto_status st = fct_item_cols_build(ctx, n_users, n_items, uptr, uitems, w, &cols);
    if (st != FACTO_OK)
        return st;
    double *norm = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *norm);
    fct_nbr **lists = fct_calloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *lists);
    int *count = fct_calloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *count);
    int64_t *p = fct_malloc_array((size_t)n_items + 1, sizeof *p);
    int failed = !norm || !lists || !count || !p;
    for (int32_t i = 0; !failed && i < n_items; i++) {
        double s = 0.0;
        for (int64_t c = cols.ptr[i]; c < cols.ptr[i + 1]; c++)
            s += (double)cols.w[c] * (double)cols.w[c];
        norm[i] = sqrt(s);
    }
    if (!failed) {
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
        {
            fct_gram_row r;
            fct_nbr *heap = fct_malloc_array((size_t)(K > 0 ? K : 1), sizeof *heap);
            int ok = fct_gram_row_alloc(&r, n_items) && heap;
            if (!ok) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 8)
            for (int32_t i = 0; i < n_items; i++) {
                if (!ok || K == 0 || norm[i] == 0.0)
                    continue;
                int32_t nt = fct_gram_row_fill(&r, i, &cols, uptr, uitems, w);
                int n = 0;
                for (int32_t t = 0; t < nt; t++) {
                    int32_t j = r.touched[t];
                    if (j == i || norm[j] == 0.0)
                        continue;
                    fct_nbr c = {j, (float)(r.acc[j] / (norm[i] * norm[j]))};
                    if (c.sim > 0.0f)
                        fct_nbr_push(heap, &n, K, c);
                }
                fct_gram_row_reset(&r, nt);
                if (n == 0)
                    continue;
                fct_nbr *list = fct_malloc_array((size_t)n, sizeof *list);
                if (!list) {
#pragma omp atomic write
                    failed = 1;
                    continue;
                }
                memcpy(list, heap, (size_t)n * sizeof *list);
                qsort(list, (size_t)n, sizeof *list, fct_nbr_by_item);
                lists[i] = list;
                count[i] = n;
            }
            fct_gram_row_free(&r);
            free(heap);
        }
    }
    int64_t total = 0;
    if (!failed) {
        p[0] = 0;
        for (int32_t i = 0; i < n_items; i++)
            p[i + 1] = p[i] + count[i];
        total = p[n_items];
        *items = fct_malloc_array((size_t)(total > 0 ? total : 1), sizeof **items);
        *sim = fct_malloc_array((size_t)(total > 0 ? total : 1), sizeof **sim);
        failed = !*items || !*sim;
    }
    for (int32_t i = 0; !failed && i < n_items; i++)
        for (int c = 0; c < count[i]; c++) {
            (*items)[p[i] + c] = lists[i][c].item;
            (*sim)[p[i] + c] = lists[i][c].sim;
        }
    for (int32_t i = 0; lists && i < n_items; i++)
        free(lists[i]);
    free(lists);
    free(count);
    free(norm);
    fct_item_cols_free(&cols);
    if (failed) {
        free(p);
        free(*items);
        free(*sim);
        *items = NULL;
        *sim = NULL;
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for the neighbour lists of %d items", n_items);
    }
    *ptr = p;
    *n_nbr = total;
    return FACTO_OK;
}

/* ---- EASE ------------------------------------------------------------------------ */

facto_status fct_ease_solve(facto_ctx *ctx, int32_t n, float reg, int threads, float *G)
{
    const size_t N = (size_t)n;
    for (size_t i = 0; i < N; i++)
        G[i * N + i] += reg;
    fct_blas_set_threads(threads);
    int info = fct_spd_inverse(n, G);
    fct_blas_set_threads(1);
    if (info > 0)
        return fct_fail(ctx, FACTO_ERR_DIVERGED,
                        "ease: X^T X + reg I is not positive definite in float precision (LAPACK spotrf/spotri "
                        "stopped at column %d): raise reg (now %g)",
                        info, (double)reg);
    if (info < 0)
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "ease: LAPACK refused argument %d of a %d x %d inverse", -info, n, n);
    float *d = fct_malloc_array(N > 0 ? N : 1, sizeof *d);
    if (!d)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "ease: out of memory");
    for (size_t j = 0; j < N; j++)
        d[j] = G[j * N + j];
    int bad = 0;
    for (size_t j = 0; j < N; j++)
        bad |= !(d[j] > 0.0f) || !isfinite(d[j]);
    if (!bad) {
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static) reduction(| : bad)
        for (int32_t i = 0; i < n; i++) {
            float *row = G + (size_t)i * N;
            float acc = 0.0f;
            for (size_t j = 0; j < N; j++) {
                row[j] = -row[j] / d[j];
                acc += 0.0f * row[j];
            }
            row[i] = 0.0f;
            bad |= acc != 0.0f;
        }
    }
    free(d);
    if (bad)
        return fct_fail(ctx, FACTO_ERR_DIVERGED,
                        "ease: the inverse of X^T X + reg I holds a value that is not finite: raise reg (now %g) or "
                        "rescale the interaction weights",
                        (double)reg);
    return FACTO_OK;
}
