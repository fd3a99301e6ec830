/*
 * itemsim.h — the numeric routines of the item-based ranking kinds
 * (models/itemmodels.h): the item-major copy of a users x items matrix,
 * BM25 weighting, the item-item Gram matrix W^T W (dense, for EASE) and the
 * top-K cosine neighbours of every item (itemknn), and EASE's solve from
 * the Gram matrix to its weights. Rows of the Gram matrix are accumulated
 * sparsely (for item i: every user u of i, every item j of u, w_ui w_uj in
 * double), one row at a time, rows spread over threads; each row's sums run
 * in the same order whatever the thread count, so results do not depend on
 * it and the matrix is exactly symmetric. Cost O(sum over users of
 * |items of u|^2) for the Gram rows, plus O(n_items^3) for EASE's inverse.
 *
 * Matrices come as CSR by user (the facto_dataset layout): uptr
 * [n_users + 1], uitems [nnz] (ascending per user, < n_items), w [nnz].
 */
#ifndef FACTO_SOLVERS_ITEMSIM_H
#define FACTO_SOLVERS_ITEMSIM_H

#include "core/internal.h"

/* The same matrix by item: ptr [n_items + 1], users [nnz] ascending within
 * an item, w [nnz]. */
typedef struct fct_item_cols {
    int64_t *ptr;
    int32_t *users;
    float *w;
} fct_item_cols;

/* Build the item-major copy (counting sort, O(nnz + n_items)).
 * FACTO_ERR_NOMEM; on error *out holds nothing. */
facto_status fct_item_cols_build(facto_ctx *ctx, int32_t n_users, int32_t n_items, const int64_t *uptr,
                                 const int32_t *uitems, const float *w, fct_item_cols *out);
void fct_item_cols_free(fct_item_cols *c);

/*
 * BM25 weights of the entries x [nnz] of a users x items matrix, users as
 * the documents (itemknn.c's formula): out[e] = x (k1 + 1) / (x + k1 (1 -
 * b + b len_u / avg_len)) with len_u the sum of user u's x and avg_len the
 * mean over users; an entry with x = 0 stays 0, and so does every entry
 * when all lengths are 0. out may be x. O(nnz).
 */
void fct_bm25_weigh(int32_t n_users, const int64_t *uptr, const float *x, float k1, float b, float *out);

/*
 * G [n_items, n_items] (row-major, caller's memory) = W^T W, float, sums in
 * double, rows on `threads` threads. FACTO_ERR_NOMEM (per-thread rows of
 * n_items doubles).
 */
facto_status fct_gram_dense(facto_ctx *ctx, int32_t n_users, int32_t n_items, const int64_t *uptr,
                            const int32_t *uitems, const float *w, int threads, float *G);

/*
 * The K most similar items of every item by the cosine of W's columns
 * (similarity > 0 only, never the item itself; ties to the lower index),
 * each list in ascending item order: *ptr [n_items + 1], *items [*n_nbr],
 * *sim [*n_nbr], owned by the caller (free()). An item whose column is all
 * zero has no neighbours. FACTO_ERR_NOMEM.
 */
facto_status fct_knn_build(facto_ctx *ctx, int32_t n_users, int32_t n_items, const int64_t *uptr,
                           const int32_t *uitems, const float *w, int K, int threads, int64_t **ptr,
                           int32_t **items, float **sim, int64_t *n_nbr);

/*
 * EASE (Steck 2019, eq. 8) in place: G [n, n] holds X^T X on entry; adds
 * reg to its diagonal, inverts it (Cholesky, LAPACK spotrf + spotri on
 * `threads` OpenBLAS threads) into P, and leaves B with B_ij = -P_ij / P_jj
 * (i != j), B_ii = 0. Errors: FACTO_ERR_DIVERGED (not positive definite
 * in float, or a weight that is not finite: the message says to raise
 * reg), FACTO_ERR_NOMEM.
 */
facto_status fct_ease_solve(facto_ctx *ctx, int32_t n, float reg, int threads, float *G);

#endif /* FACTO_SOLVERS_ITEMSIM_H */
