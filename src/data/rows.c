/*
 * rows.c — sparse feature rows (facto_rows), the input of factorization
 * machines: a growable CSR matrix built one entry and one row at a time.
 * Arrays grow by doubling, so pushing n entries costs O(n) amortised.
 * Closing a row checks in O(len) whether its keys are already ascending;
 * only an unsorted row is sorted (insertion sort up to 32 entries, a stable
 * merge sort above, O(len log len)), and duplicate keys are summed in the
 * order they were pushed. Memory is O(nnz + n_rows), never O(feature_dim).
 * Also the format dispatch of facto_rows_read/facto_rows_write (libsvm.c,
 * recordio.c do the work).
 */
#include "core/internal.h"

#include <string.h>
#include <sys/stat.h>

facto_rows *facto_rows_new(uint64_t feature_dim, int with_labels)
{
    facto_rows *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->feature_dim = feature_dim;
    r->row_cap = 16;
    r->nnz_cap = 64;
    r->row_ptr = facto_malloc_array((size_t)r->row_cap + 1, sizeof *r->row_ptr);
    r->keys = facto_malloc_array((size_t)r->nnz_cap, sizeof *r->keys);
    r->values = facto_malloc_array((size_t)r->nnz_cap, sizeof *r->values);
    if (with_labels)
        r->labels = facto_malloc_array((size_t)r->row_cap, sizeof *r->labels);
    if (!r->row_ptr || !r->keys || !r->values || (with_labels && !r->labels)) {
        facto_rows_free(r);
        return NULL;
    }
    r->row_ptr[0] = 0;
    return r;
}

void facto_rows_free(facto_rows *rows)
{
    if (!rows)
        return;
    free(rows->row_ptr);
    free(rows->keys);
    free(rows->values);
    free(rows->labels);
    free(rows);
}

facto_status facto_rows_push(facto_ctx *ctx, facto_rows *rows, uint32_t key, float value)
{
    if (rows->feature_dim > 0 && (uint64_t)key >= rows->feature_dim)
        return facto_fail(ctx, FACTO_ERR_INVALID, "feature key %lu is not below feature_dim %llu",
                          (unsigned long)key, (unsigned long long)rows->feature_dim);
    if (rows->nnz == rows->nnz_cap) {
        int64_t cap = rows->nnz_cap * 2;
        uint32_t *k = facto_realloc_array(rows->keys, (size_t)cap, sizeof *k);
        if (!k)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld entries",
                              (long long)cap);
        rows->keys = k;
        float *v = facto_realloc_array(rows->values, (size_t)cap, sizeof *v);
        if (!v)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld entries",
                              (long long)cap);
        rows->values = v;
        rows->nnz_cap = cap;
    }
    rows->keys[rows->nnz] = key;
    rows->values[rows->nnz] = value;
    rows->nnz++;
    return FACTO_OK;
}

typedef struct facto_rows_entry {
    uint32_t key;
    float value;
} facto_rows_entry;

/* Stable merge sort of a[0..n) by key, using tmp[n]. */
static void facto_rows_msort(facto_rows_entry *a, facto_rows_entry *tmp, int64_t n)
{
    if (n <= 32) {
        for (int64_t i = 1; i < n; i++) {
            facto_rows_entry e = a[i];
            int64_t j = i;
            while (j > 0 && a[j - 1].key > e.key) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = e;
        }
        return;
    }
    int64_t h = n / 2;
    facto_rows_msort(a, tmp, h);
    facto_rows_msort(a + h, tmp, n - h);
    if (a[h - 1].key <= a[h].key)
        return;
    memcpy(tmp, a, (size_t)n * sizeof *a);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        a[o++] = tmp[j].key < tmp[i].key ? tmp[j++] : tmp[i++];
    while (i < h)
        a[o++] = tmp[i++];
    while (j < n)
        a[o++] = tmp[j++];
}

facto_status facto_rows_finish_row(facto_ctx *ctx, facto_rows *rows, float label)
{
    int64_t start = rows->row_ptr[rows->n_rows];
    int64_t len = rows->nnz - start;
    int sorted = 1;
    for (int64_t i = start + 1; i < rows->nnz; i++) {
        if (rows->keys[i] <= rows->keys[i - 1]) {
            sorted = 0;
            break;
        }
    }
    if (!sorted) {
        facto_rows_entry *e = facto_malloc_array((size_t)len * 2, sizeof *e);
        if (!e)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory sorting a row of %lld entries", (long long)len);
        for (int64_t i = 0; i < len; i++) {
            e[i].key = rows->keys[start + i];
            e[i].value = rows->values[start + i];
        }
        facto_rows_msort(e, e + len, len);
        int64_t o = start;
        for (int64_t i = 0; i < len; i++) {
            if (o > start && rows->keys[o - 1] == e[i].key) {
                rows->values[o - 1] += e[i].value;
            } else {
                rows->keys[o] = e[i].key;
                rows->values[o] = e[i].value;
                o++;
            }
        }
        free(e);
        rows->nnz = o;
    }
    if (rows->n_rows == rows->row_cap) {
        int64_t cap = rows->row_cap * 2;
        int64_t *p = facto_realloc_array(rows->row_ptr, (size_t)cap + 1, sizeof *p);
        if (!p)
            return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld rows",
                              (long long)cap);
        rows->row_ptr = p;
        if (rows->labels) {
            float *l = facto_realloc_array(rows->labels, (size_t)cap, sizeof *l);
            if (!l)
                return facto_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld rows",
                                  (long long)cap);
            rows->labels = l;
        }
        rows->row_cap = cap;
    }
    if (rows->labels)
        rows->labels[rows->n_rows] = label;
    rows->n_rows++;
    rows->row_ptr[rows->n_rows] = rows->nnz;
    return FACTO_OK;
}

uint64_t facto_rows_dim(const facto_rows *rows)
{
    if (rows->feature_dim > 0)
        return rows->feature_dim;
    uint64_t d = 0;
    for (int64_t i = 0; i < rows->nnz; i++)
        if ((uint64_t)rows->keys[i] + 1 > d)
            d = (uint64_t)rows->keys[i] + 1;
    return d;
}

void facto_buffer_free(void *buffer) { free(buffer); }

facto_status facto_rows_read(facto_ctx *ctx, const char *path, facto_rows_format format, uint64_t feature_dim,
                             facto_rows **out)
{
    *out = NULL;
    if (format == FACTO_ROWS_AUTO) {
        /* Detection reads the first bytes and opens the file again: on a pipe
         * or FIFO those bytes would be lost (rows dropped, or a bogus error). */
        struct stat sb;
        if (path && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            return facto_fail(ctx, FACTO_ERR_IO,
                              "%s: not a regular file (a pipe?), so its format cannot be detected without "
                              "losing data: give the format (--format libsvm or recordio)",
                              path);
        facto_status st = facto_rows_detect(ctx, path, &format);
        if (st != FACTO_OK)
            return st;
    }
    switch (format) {
    case FACTO_ROWS_LIBSVM: return facto_libsvm_read(ctx, path, feature_dim, 0, out);
    case FACTO_ROWS_RECORDIO: return facto_recordio_read(ctx, path, feature_dim, out);
    default: return facto_fail(ctx, FACTO_ERR_INVALID, "unknown feature rows format %d", (int)format);
    }
}

facto_status facto_rows_write(facto_ctx *ctx, const facto_rows *rows, const char *path, facto_rows_format format)
{
    switch (format) {
    case FACTO_ROWS_LIBSVM: return facto_libsvm_write(ctx, rows, path, 0);
    case FACTO_ROWS_RECORDIO: return facto_recordio_write(ctx, rows, path);
    default:
        return facto_fail(ctx, FACTO_ERR_INVALID, "writing feature rows needs a format (libsvm or recordio), not %d",
                          (int)format);
    }
}
