/*
 * rows.c — sparse feature rows (facto_rows), the input of factorization
 * machines: a growable CSR matrix built one entry and one row at a time.
 * Arrays grow by doubling, so pushing n entries costs O(n) amortised.
 * Closing a row checks in O(len) whether its keys are already ascending;
 * only an unsorted row is sorted (insertion sort up to 32 entries, a stable
 * merge sort above, O(len log len)), and duplicate keys are summed in the
 * order they were pushed. Memory is O(nnz + n_rows), never O(feature_dim).
 * Also the format dispatch of facto_rows_read/facto_rows_write (libsvm.c,
 * recordio.c do the work), and facto_rows_origin: where each row read from
 * a file came from (text line, or recordIO record and byte offset), kept
 * apart from the rows so only a caller that asks pays for it.
 */
#include "data/rows.h"

#include <math.h>
#include <stdio.h>
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
    r->row_ptr = fct_malloc_array((size_t)r->row_cap + 1, sizeof *r->row_ptr);
    r->keys = fct_malloc_array((size_t)r->nnz_cap, sizeof *r->keys);
    r->values = fct_malloc_array((size_t)r->nnz_cap, sizeof *r->values);
    if (with_labels)
        r->labels = fct_malloc_array((size_t)r->row_cap, sizeof *r->labels);
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
        return fct_fail(ctx, FACTO_ERR_INVALID, "feature key %lu is not below feature_dim %llu",
                          (unsigned long)key, (unsigned long long)rows->feature_dim);
    if (rows->nnz == rows->nnz_cap) {
        int64_t cap = rows->nnz_cap * 2;
        uint32_t *k = fct_realloc_array(rows->keys, (size_t)cap, sizeof *k);
        if (!k)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld entries",
                              (long long)cap);
        rows->keys = k;
        float *v = fct_realloc_array(rows->values, (size_t)cap, sizeof *v);
        if (!v)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld entries",
                              (long long)cap);
        rows->values = v;
        rows->nnz_cap = cap;
    }
    rows->keys[rows->nnz] = key;
    rows->values[rows->nnz] = value;
    rows->nnz++;
    return FACTO_OK;
}

typedef struct fct_rows_entry {
    uint32_t key;
    float value;
} fct_rows_entry;

/* Stable merge sort of a[0..n) by key, using tmp[n]. */
static void fct_rows_msort(fct_rows_entry *a, fct_rows_entry *tmp, int64_t n)
{
    if (n <= 32) {
        for (int64_t i = 1; i < n; i++) {
            fct_rows_entry e = a[i];
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
    fct_rows_msort(a, tmp, h);
    fct_rows_msort(a + h, tmp, n - h);
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
        fct_rows_entry *e = fct_malloc_array((size_t)len * 2, sizeof *e);
        if (!e)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory sorting a row of %lld entries", (long long)len);
        for (int64_t i = 0; i < len; i++) {
            e[i].key = rows->keys[start + i];
            e[i].value = rows->values[start + i];
        }
        fct_rows_msort(e, e + len, len);
        int64_t o = start;
        for (int64_t i = 0; i < len; i++) {
            if (o > start && rows->keys[o - 1] == e[i].key) {
                float a = rows->values[o - 1], b = e[i].value, sum = a + b;
                if (isfinite(a) && isfinite(b) && !isfinite(sum)) {
                    uint32_t key = e[i].key;
                    free(e);
                    rows->nnz = start; /* the row is dropped; the caller fails */
                    return fct_fail(ctx, FACTO_ERR_INVALID,
                                    "feature key %u: its duplicate values sum past the float range (%g + %g)",
                                    key, (double)a, (double)b);
                }
                rows->values[o - 1] = sum;
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
        int64_t *p = fct_realloc_array(rows->row_ptr, (size_t)cap + 1, sizeof *p);
        if (!p)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld rows",
                              (long long)cap);
        rows->row_ptr = p;
        if (rows->labels) {
            float *l = fct_realloc_array(rows->labels, (size_t)cap, sizeof *l);
            if (!l)
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing feature rows to %lld rows",
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

int64_t facto_rows_count(const facto_rows *rows) { return rows ? rows->n_rows : 0; }

int64_t facto_rows_nnz(const facto_rows *rows) { return rows ? rows->nnz : 0; }

void facto_rows_csr(const facto_rows *rows, const int64_t **row_ptr, const uint32_t **keys, const float **values,
                    const float **labels)
{
    if (row_ptr)
        *row_ptr = rows ? rows->row_ptr : NULL;
    if (keys)
        *keys = rows ? rows->keys : NULL;
    if (values)
        *values = rows ? rows->values : NULL;
    if (labels)
        *labels = rows ? rows->labels : NULL;
}

facto_status facto_rows_set_dim(facto_ctx *ctx, facto_rows *rows, uint64_t dim)
{
    if (!rows || dim == 0 || dim > ((uint64_t)1 << 32))
        return fct_fail(ctx, FACTO_ERR_INVALID, "feature_dim %llu: must be in 1..2^32",
                        (unsigned long long)dim);
    for (int64_t r = 0; r < rows->n_rows; r++)
        for (int64_t j = rows->row_ptr[r]; j < rows->row_ptr[r + 1]; j++)
            if ((uint64_t)rows->keys[j] >= dim)
                return fct_fail(ctx, FACTO_ERR_INVALID, "row %lld: feature key %u >= feature_dim %llu",
                                (long long)r + 1, rows->keys[j], (unsigned long long)dim);
    rows->feature_dim = dim;
    return fct_ok(ctx);
}

void facto_buffer_free(void *buffer) { free(buffer); }

/* ---- origins ---------------------------------------------------------------
 *
 * The position of row r (a line number, or a record's byte offset) is kept
 * as anchors (row, position) sorted by row, in one of two modes:
 *  - sparse (text): an anchor wherever a row does not start on the line
 *    after the previous row's, pos(r) = anchor pos + (r - anchor row). A
 *    file without blank or comment lines costs one anchor; each run of
 *    skipped lines costs 16 bytes.
 *  - dense (recordIO; text once its anchors would cost more than 4 bytes a
 *    row): a uint32 step pos(r + 1) - pos(r) a row and an anchor every 1024
 *    rows (and after a step past 2^32 - 1), pos(r) = anchor pos + the <=
 *    1023 steps since. 4 bytes a row.
 * Recording is O(1) amortised a row; a look-up O(log anchors + 1024).
 */
enum { FACTO_ORIGIN_EVERY = 1024 };

struct facto_rows_origin {
    char *path;
    fct_origin_kind kind;
    int dense;
    int64_t n;    /* rows recorded */
    int64_t last; /* position of row n - 1 */
    int64_t n_anchor, cap_anchor;
    int64_t *anchor_row, *anchor_pos;
    uint32_t *step; /* dense: step[r] = pos(r + 1) - pos(r), 0 where an anchor follows */
    int64_t cap_step;
};

facto_rows_origin *fct_rows_origin_new(const char *path, fct_origin_kind kind)
{
    facto_rows_origin *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    size_t len = strlen(path ? path : "");
    o->path = malloc(len + 1);
    if (!o->path) {
        free(o);
        return NULL;
    }
    memcpy(o->path, path ? path : "", len + 1);
    o->kind = kind;
    o->dense = kind == FACTO_ORIGIN_RECORDS;
    return o;
}

void facto_rows_origin_free(facto_rows_origin *o)
{
    if (!o)
        return;
    free(o->path);
    free(o->anchor_row);
    free(o->anchor_pos);
    free(o->step);
    free(o);
}

static int fct_origin_anchor(facto_rows_origin *o, int64_t row, int64_t pos)
{
    if (o->n_anchor == o->cap_anchor) {
        int64_t cap = o->cap_anchor ? o->cap_anchor * 2 : 16;
        int64_t *r = fct_realloc_array(o->anchor_row, (size_t)cap, sizeof *r);
        if (!r)
            return -1;
        o->anchor_row = r;
        int64_t *p = fct_realloc_array(o->anchor_pos, (size_t)cap, sizeof *p);
        if (!p)
            return -1;
        o->anchor_pos = p;
        o->cap_anchor = cap;
    }
    o->anchor_row[o->n_anchor] = row;
    o->anchor_pos[o->n_anchor] = pos;
    o->n_anchor++;
    return 0;
}

/* Record row o->n at pos in dense mode (o->n and o->last not advanced here). */
static int fct_origin_dense_push(facto_rows_origin *o, int64_t pos)
{
    int need_anchor = o->n % FACTO_ORIGIN_EVERY == 0;
    if (o->n > 0) {
        if (o->n > o->cap_step) {
            int64_t cap = o->cap_step ? o->cap_step * 2 : 1024;
            while (cap < o->n)
                cap *= 2;
            uint32_t *s = fct_realloc_array(o->step, (size_t)cap, sizeof *s);
            if (!s)
                return -1;
            o->step = s;
            o->cap_step = cap;
        }
        uint64_t d = (uint64_t)(pos - o->last);
        if (d > UINT32_MAX) {
            need_anchor = 1;
            d = 0;
        }
        o->step[o->n - 1] = (uint32_t)d;
    }
    return need_anchor ? fct_origin_anchor(o, o->n, pos) : 0;
}

/* Index of the last anchor at or before row r (anchors are sorted, the first is row 0). */
static int64_t fct_origin_find(const facto_rows_origin *o, int64_t r)
{
    int64_t lo = 0, hi = o->n_anchor - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (o->anchor_row[mid] <= r)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int64_t facto_rows_origin_pos(const facto_rows_origin *o, int64_t row)
{
    if (!o || row < 0 || row >= o->n)
        return -1;
    int64_t k = fct_origin_find(o, row);
    int64_t pos = o->anchor_pos[k];
    if (!o->dense)
        return pos + (row - o->anchor_row[k]);
    for (int64_t r = o->anchor_row[k]; r < row; r++)
        pos += o->step[r];
    return pos;
}

/* Sparse text whose anchors outgrew 4 bytes a row: rebuild it dense. */
static int fct_origin_densify(facto_rows_origin *o)
{
    facto_rows_origin d;
    memset(&d, 0, sizeof d);
    d.kind = o->kind;
    d.dense = 1;
    int64_t k = 0;
    for (int64_t r = 0; r < o->n; r++) {
        while (k + 1 < o->n_anchor && o->anchor_row[k + 1] <= r)
            k++;
        int64_t pos = o->anchor_pos[k] + (r - o->anchor_row[k]);
        if (fct_origin_dense_push(&d, pos) != 0) {
            free(d.anchor_row);
            free(d.anchor_pos);
            free(d.step);
            return -1;
        }
        d.n++;
        d.last = pos;
    }
    free(o->anchor_row);
    free(o->anchor_pos);
    free(o->step);
    o->anchor_row = d.anchor_row;
    o->anchor_pos = d.anchor_pos;
    o->n_anchor = d.n_anchor;
    o->cap_anchor = d.cap_anchor;
    o->step = d.step;
    o->cap_step = d.cap_step;
    o->dense = 1;
    return 0;
}

facto_status fct_rows_origin_push(facto_ctx *ctx, facto_rows_origin *o, int64_t pos)
{
    if (o->n > 0 && pos < o->last)
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "%s: row positions out of order (%lld after %lld)", o->path,
                          (long long)pos, (long long)o->last);
    int bad;
    if (o->dense) {
        bad = fct_origin_dense_push(o, pos);
    } else {
        bad = (o->n == 0 || pos != o->last + 1) ? fct_origin_anchor(o, o->n, pos) : 0;
        if (!bad && o->n_anchor >= FACTO_ORIGIN_EVERY && o->n_anchor > (o->n + 1) / 4) {
            o->n++; /* densify replays rows 0..n-1, this one included */
            o->last = pos;
            bad = fct_origin_densify(o);
            if (bad)
                return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for the line numbers of %lld rows",
                                  o->path, (long long)o->n);
            return FACTO_OK;
        }
    }
    if (bad)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory for the positions of %lld rows", o->path,
                          (long long)o->n + 1);
    o->n++;
    o->last = pos;
    return FACTO_OK;
}

size_t facto_rows_origin_where(const facto_rows_origin *o, int64_t row, char *buf, size_t size)
{
    int64_t pos = facto_rows_origin_pos(o, row);
    int n;
    if (pos < 0)
        n = snprintf(buf, size, "%s", "");
    else if (o->kind == FACTO_ORIGIN_LINES)
        n = snprintf(buf, size, "%s:%lld", o->path, (long long)pos);
    else
        n = snprintf(buf, size, "%s: record %lld at byte %lld", o->path, (long long)row + 1, (long long)pos);
    return n > 0 ? (size_t)n : 0;
}

/* ---- reading and writing ---------------------------------------------------- */

facto_status facto_rows_read(facto_ctx *ctx, const char *path, facto_rows_format format, uint64_t feature_dim,
                             facto_rows **out)
{
    return facto_rows_read_origin(ctx, path, format, feature_dim, out, NULL);
}

facto_status facto_rows_read_origin(facto_ctx *ctx, const char *path, facto_rows_format format,
                                    uint64_t feature_dim, facto_rows **out, facto_rows_origin **origin)
{
    *out = NULL;
    if (origin)
        *origin = NULL;
    struct stat dsb;
    if (path && stat(path, &dsb) == 0 && S_ISDIR(dsb.st_mode))
        return fct_fail(ctx, FACTO_ERR_IO,
                          "%s: is a folder; give a file (for a SageMaker channel folder, the file in it, "
                          "e.g. %s/part-0)",
                          path, path);
    if (format == FACTO_ROWS_AUTO) {
        /* Detection reads the first bytes and opens the file again: on a pipe
         * or FIFO those bytes would be lost (rows dropped, or a bogus error). */
        struct stat sb;
        if (path && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            return fct_fail(ctx, FACTO_ERR_IO,
                              "%s: not a regular file (a pipe?), so its format cannot be detected without "
                              "losing data: give the format (--format libsvm or recordio)",
                              path);
        facto_status st = facto_rows_detect(ctx, path, &format);
        if (st != FACTO_OK)
            return st;
    }
    if (format != FACTO_ROWS_LIBSVM && format != FACTO_ROWS_RECORDIO)
        return fct_fail(ctx, FACTO_ERR_INVALID, "unknown feature rows format %d", (int)format);
    facto_rows_origin *o = NULL;
    if (origin) {
        o = fct_rows_origin_new(path, format == FACTO_ROWS_LIBSVM ? FACTO_ORIGIN_LINES : FACTO_ORIGIN_RECORDS);
        if (!o)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    facto_status st = format == FACTO_ROWS_LIBSVM ? fct_libsvm_read_origin(ctx, path, feature_dim, 0, out, o)
                                                  : fct_recordio_read_origin(ctx, path, feature_dim, out, o);
    if (st != FACTO_OK || !origin)
        facto_rows_origin_free(o);
    else
        *origin = o;
    return st;
}

facto_status facto_rows_write(facto_ctx *ctx, const facto_rows *rows, const char *path, facto_rows_format format)
{
    switch (format) {
    case FACTO_ROWS_LIBSVM: return facto_libsvm_write(ctx, rows, path, 0);
    case FACTO_ROWS_RECORDIO: return facto_recordio_write(ctx, rows, path);
    default:
        return fct_fail(ctx, FACTO_ERR_INVALID, "writing feature rows needs a format (libsvm or recordio), not %d",
                          (int)format);
    }
}
