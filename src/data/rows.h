/*
 * rows.h — the layout of facto_rows, and the internal side of
 * facto_rows_origin (src/data/rows.c): the
 * readers (libsvm.c, recordio.c) record where each row they close came
 * from, one call per row. Cost: O(1) amortised a row; memory as described
 * at facto_rows_origin in rows.c (about nothing for ordinary text, 4 bytes
 * a row for recordIO).
 */
#ifndef FACTO_DATA_ROWS_H
#define FACTO_DATA_ROWS_H

#include "../core/internal.h"

#include <stdint.h>

/* The layout of facto_rows (opaque in facto.h): CSR [n_rows, feature_dim]. */
struct facto_rows {
    int64_t n_rows;
    uint64_t feature_dim; /* number of columns; 0 = not yet known (max key + 1) */
    int64_t nnz;          /* stored entries */
    int64_t *row_ptr;     /* [n_rows + 1] */
    uint32_t *keys;       /* [nnz] feature index of each entry */
    float *values;        /* [nnz] value of each entry */
    float *labels;        /* [n_rows] label of each row, or NULL when unlabelled */
    int64_t row_cap, nnz_cap; /* capacities of the arrays above */
};

/* What a position is: a text line number (1-based) or the byte offset of
 * a recordIO record's first header. */
typedef enum { FACTO_ORIGIN_LINES = 0, FACTO_ORIGIN_RECORDS = 1 } fct_origin_kind;

/* An empty origin for `path` (copied); NULL when out of memory. */
facto_rows_origin *fct_rows_origin_new(const char *path, fct_origin_kind kind);

/* The next row (row number facto_rows_origin's count) starts at `pos`:
 * positions must not decrease. FACTO_ERR_NOMEM. */
facto_status fct_rows_origin_push(facto_ctx *ctx, facto_rows_origin *o, int64_t pos);

/* The readers, also recording origins when `origin` is not NULL. */
facto_status fct_libsvm_read_origin(facto_ctx *ctx, const char *path, uint64_t feature_dim, int index_base,
                                      facto_rows **out, facto_rows_origin *origin);
facto_status fct_recordio_read_origin(facto_ctx *ctx, const char *path, uint64_t feature_dim, facto_rows **out,
                                        facto_rows_origin *origin);

#endif /* FACTO_DATA_ROWS_H */
