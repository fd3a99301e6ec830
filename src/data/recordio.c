/*
 * recordio.c — Amazon SageMaker's application/x-recordio-protobuf for feature
 * rows. RecordIO framing (MXNet dmlc-core): u32 magic 0xCED7230A, u32 word
 * with the continuation flag in its top 3 bits and the length in the low 29,
 * the payload, zero padding to 4 bytes, all little-endian; multi-part records
 * are joined with the magic between parts. Each payload is an
 * aialgs.data.Record (record.proto), decoded by protobuf-c into a bump
 * allocator reset per record. The reader streams a file (plain or gzip) one
 * record at a time: memory O(nnz + largest record), time O(bytes); errors
 * name the record (1-based; request instances 0-based, as JSON's) and its
 * byte offset, and on request each row's offset is kept (facto_rows_origin,
 * 4 bytes a row) for errors found later. The writer emits single-part records with sparse Float32Tensors, so
 * write -> read -> write is byte-identical.
 */
#include "core/output.h"
#include "data/recordio.h"
#include "data/rows.h"

#include "record.pb-c.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* ---- byte buffer and framing ------------------------------------------- */

facto_status fct_bytebuf_reserve(facto_ctx *ctx, fct_bytebuf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return FACTO_OK;
    size_t need = b->len + extra;
    if (need < b->len)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "buffer size overflow");
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return FACTO_OK;
}

facto_status fct_bytebuf_append(facto_ctx *ctx, fct_bytebuf *b, const void *data, size_t n)
{
    facto_status st = fct_bytebuf_reserve(ctx, b, n);
    if (st != FACTO_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return FACTO_OK;
}

static void fct_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t fct_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define FACTO_RECORDIO_LEN_MASK ((1u << 29) - 1u)

facto_status fct_recordio_frame(facto_ctx *ctx, fct_bytebuf *b, const void *payload, size_t len)
{
    if (len > FACTO_RECORDIO_LEN_MASK)
        return fct_fail(ctx, FACTO_ERR_INVALID, "a record of %zu bytes does not fit RecordIO's 29-bit length", len);
    size_t padded = (len + 3) & ~(size_t)3;
    facto_status st = fct_bytebuf_reserve(ctx, b, 8 + padded);
    if (st != FACTO_OK)
        return st;
    uint8_t *p = b->data + b->len;
    fct_put_u32le(p, FACTO_RECORDIO_MAGIC);
    fct_put_u32le(p + 4, (uint32_t)len); /* cflag 0: a whole record */
    if (len)
        memcpy(p + 8, payload, len);
    memset(p + 8 + len, 0, padded - len);
    b->len += 8 + padded;
    return FACTO_OK;
}

/* ---- sources: a gzip/plain file or a memory block ------------------------ */

typedef struct fct_rio_src {
    gzFile gz;
    const uint8_t *mem;
    size_t mem_size, mem_pos;
    int64_t offset; /* bytes consumed so far */
} fct_rio_src;

/* Read up to n bytes; returns the count (short only at the end), or -1 on an I/O error. */
static int64_t fct_rio_read(fct_rio_src *s, void *dst, size_t n)
{
    size_t got = 0;
    if (s->mem) {
        size_t left = s->mem_size - s->mem_pos;
        got = n < left ? n : left;
        if (got && dst)
            memcpy(dst, s->mem + s->mem_pos, got);
        s->mem_pos += got;
    } else {
        while (got < n) {
            size_t chunk = n - got;
            if (chunk > (1u << 30))
                chunk = 1u << 30;
            int r = gzread(s->gz, (uint8_t *)dst + got, (unsigned)chunk);
            if (r < 0)
                return -1;
            if (r == 0) {
                /* gzread gives 0 both at the end and at a truncated gzip stream */
                int zerr = Z_OK;
                gzerror(s->gz, &zerr);
                if (zerr != Z_OK)
                    return -1;
                break;
            }
            got += (size_t)r;
        }
    }
    s->offset += (int64_t)got;
    return (int64_t)got;
}

/* Why the last read failed: zlib's message for bad or truncated gzip data. */
static const char *fct_rio_errstr(fct_rio_src *s)
{
    if (!s->gz)
        return "read error";
    int zerr = Z_OK;
    const char *msg = gzerror(s->gz, &zerr);
    if (zerr == Z_ERRNO)
        return strerror(errno);
    if (zerr == Z_BUF_ERROR || zerr == Z_DATA_ERROR)
        return zerr == Z_BUF_ERROR ? "bad gzip data (truncated or corrupt): unexpected end of file"
                                   : "bad gzip data (truncated or corrupt)";
    return msg && *msg ? msg : "read error";
}

/* ---- decoding records into rows -------------------------------------------- */

/*
 * Bump allocator for protobuf-c: a decoded Record is a dozen small blocks,
 * all dropped together, so they come from one buffer that is reset per
 * record (free is a no-op). A request that does not fit goes to malloc and
 * is remembered; at reset the buffer grows to what the record needed.
 */
typedef struct fct_rio_arena {
    uint8_t *buf;
    size_t cap, used, overflow_bytes;
    void **big; /* malloc'ed blocks of this record */
    size_t n_big, cap_big;
} fct_rio_arena;

static void *fct_rio_arena_alloc(void *data, size_t size)
{
    fct_rio_arena *a = data;
    size = (size + 15) & ~(size_t)15;
    if (a->buf && a->cap - a->used >= size) {
        void *p = a->buf + a->used;
        a->used += size;
        return p;
    }
    if (a->n_big == a->cap_big) {
        size_t c = a->cap_big ? a->cap_big * 2 : 8;
        void **nb = realloc(a->big, c * sizeof *nb);
        if (!nb)
            return NULL;
        a->big = nb;
        a->cap_big = c;
    }
    void *p = malloc(size);
    if (p) {
        a->big[a->n_big++] = p;
        a->overflow_bytes += size;
    }
    return p;
}

static void fct_rio_arena_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

static void fct_rio_arena_reset(fct_rio_arena *a)
{
    for (size_t i = 0; i < a->n_big; i++)
        free(a->big[i]);
    a->n_big = 0;
    if (a->overflow_bytes) {
        size_t want = a->used + a->overflow_bytes + 256;
        uint8_t *nb = malloc(want);
        if (nb) { /* else keep the old buffer; malloc stays the fallback */
            free(a->buf);
            a->buf = nb;
            a->cap = want;
        }
    }
    a->used = 0;
    a->overflow_bytes = 0;
}

static void fct_rio_arena_destroy(fct_rio_arena *a)
{
    fct_rio_arena_reset(a);
    free(a->buf);
    free(a->big);
}

typedef struct fct_rio_dec {
    facto_ctx *ctx;
    const char *name; /* source name for messages */
    const char *what; /* "record" or "instance" */
    uint64_t feature_dim; /* given by the caller, or 0 */
    uint64_t seen_dim;    /* dimension of the first record when feature_dim is 0 */
    int keep_labels;
    int has_labels;       /* -1 unknown, 0 none, 1 all */
    facto_rows *rows;
    int64_t index;        /* 0-based index of the record being decoded */
    int64_t index_base;   /* messages: records of a file count from 1, request instances from 0 */
    int64_t at;           /* byte offset of its header */
    facto_rows_origin *origin; /* where each row came from, or NULL */
    fct_rio_arena arena;
    ProtobufCAllocator alloc;
} fct_rio_dec;

#define FACTO_RIO_FAIL(d, code, ...) fct_rio_fail((d), (code), __VA_ARGS__)

static facto_status fct_rio_fail(fct_rio_dec *d, facto_status code, const char *fmt, ...) FACTO_PRINTF(3, 4);
static facto_status fct_rio_fail(fct_rio_dec *d, facto_status code, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return fct_fail(d->ctx, code, "%s: %s %lld at byte %lld: %s", d->name, d->what,
                      (long long)(d->index + d->index_base), (long long)d->at, detail);
}

/* A numeric tensor of any of the three element types, read uniformly. */
typedef struct fct_rio_tensor {
    int kind; /* 32 float, 64 double, 7 int32 */
    size_t n_values, n_keys, n_shape;
    const float *f32;
    const double *f64;
    const int32_t *i32;
    const uint64_t *keys, *shape;
} fct_rio_tensor;

static int fct_rio_tensor_of(const Aialgs__Data__Value *v, fct_rio_tensor *t)
{
    memset(t, 0, sizeof *t);
    if (!v)
        return 0;
    switch (v->value_case) {
    case AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR: {
        const Aialgs__Data__Float32Tensor *x = v->float32_tensor;
        t->kind = 32;
        t->n_values = x->n_values, t->f32 = x->values;
        t->n_keys = x->n_keys, t->keys = x->keys;
        t->n_shape = x->n_shape, t->shape = x->shape;
        return 1;
    }
    case AIALGS__DATA__VALUE__VALUE_FLOAT64_TENSOR: {
        const Aialgs__Data__Float64Tensor *x = v->float64_tensor;
        t->kind = 64;
        t->n_values = x->n_values, t->f64 = x->values;
        t->n_keys = x->n_keys, t->keys = x->keys;
        t->n_shape = x->n_shape, t->shape = x->shape;
        return 1;
    }
    case AIALGS__DATA__VALUE__VALUE_INT32_TENSOR: {
        const Aialgs__Data__Int32Tensor *x = v->int32_tensor;
        t->kind = 7;
        t->n_values = x->n_values, t->i32 = x->values;
        t->n_keys = x->n_keys, t->keys = x->keys;
        t->n_shape = x->n_shape, t->shape = x->shape;
        return 1;
    }
    default:
        return 0;
    }
}

static double fct_rio_value(const fct_rio_tensor *t, size_t i)
{
    return t->kind == 32 ? (double)t->f32[i] : t->kind == 64 ? t->f64[i] : (double)t->i32[i];
}

static const Aialgs__Data__Value *fct_rio_find_feature(const Aialgs__Data__Record *rec)
{
    for (size_t i = 0; i < rec->n_features; i++)
        if (rec->features[i]->key && strcmp(rec->features[i]->key, "values") == 0)
            return rec->features[i]->value;
    return rec->n_features == 1 ? rec->features[0]->value : NULL;
}

static const Aialgs__Data__Value *fct_rio_find_label(const Aialgs__Data__Record *rec)
{
    for (size_t i = 0; i < rec->n_label; i++)
        if (rec->label[i]->key && strcmp(rec->label[i]->key, "values") == 0)
            return rec->label[i]->value;
    return NULL;
}

/* Check the row's dimension against the caller's or the first record's. */
static facto_status fct_rio_check_dim(fct_rio_dec *d, uint64_t dim, const char *how)
{
    if (dim == 0)
        return FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "%s 0: feature_dim must be positive", how);
    if (dim > ((uint64_t)1 << 32))
        return FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "%s %llu is above 2^32, the largest feature_dim", how,
                              (unsigned long long)dim);
    if (d->feature_dim > 0) {
        if (dim != d->feature_dim)
            return FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "%s %llu does not match feature_dim %llu", how,
                                  (unsigned long long)dim, (unsigned long long)d->feature_dim);
        return FACTO_OK;
    }
    if (d->seen_dim == 0)
        d->seen_dim = dim;
    else if (dim != d->seen_dim)
        return FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "%s %llu differs from %llu of the first record", how,
                              (unsigned long long)dim, (unsigned long long)d->seen_dim);
    return FACTO_OK;
}

static facto_status fct_rio_decode_one(fct_rio_dec *d, const uint8_t *payload, size_t len)
{
    facto_ctx *ctx = d->ctx;
    fct_rio_arena_reset(&d->arena);
    Aialgs__Data__Record *rec = aialgs__data__record__unpack(&d->alloc, len, payload);
    if (!rec)
        return FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "payload of %zu bytes is not a Record protobuf", len);
    facto_status st = FACTO_OK;
    fct_rio_tensor t;
    const Aialgs__Data__Value *fv = fct_rio_find_feature(rec);
    if (!fv) {
        st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "no features[\"values\"] tensor");
        goto done;
    }
    if (!fct_rio_tensor_of(fv, &t)) {
        st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "features[\"values\"] is not a numeric tensor");
        goto done;
    }
    if (t.n_keys > 0 || (t.n_values == 0 && t.n_shape > 0)) {
        /* sparse */
        if (t.n_keys != t.n_values) {
            st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "features have %zu keys but %zu values", t.n_keys, t.n_values);
            goto done;
        }
        uint64_t dim;
        if (t.n_shape == 1)
            dim = t.shape[0];
        else if (t.n_shape == 2 && t.shape[0] == 1)
            dim = t.shape[1];
        else if (t.n_shape == 0) {
            st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "sparse features (with keys) have no shape");
            goto done;
        } else {
            st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "features shape has %zu dimensions; expected [feature_dim]",
                                t.n_shape);
            goto done;
        }
        if ((st = fct_rio_check_dim(d, dim, "shape")) != FACTO_OK)
            goto done;
        for (size_t i = 0; i < t.n_keys; i++) {
            uint64_t k = t.keys[i];
            double v = fct_rio_value(&t, i);
            if (k >= dim) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "key %llu is not below feature_dim %llu",
                                    (unsigned long long)k, (unsigned long long)dim);
                goto done;
            }
            if (k > UINT32_MAX) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "key %llu is not below 2^32", (unsigned long long)k);
                goto done;
            }
            if (!isfinite(v) || !isfinite((float)v)) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "value of key %llu is not a finite float",
                                    (unsigned long long)k);
                goto done;
            }
            if ((st = facto_rows_push(ctx, d->rows, (uint32_t)k, (float)v)) != FACTO_OK)
                goto done;
        }
    } else if (t.n_values > 0) {
        /* dense; an optional shape must agree with the count */
        if (t.n_shape > 0) {
            uint64_t prod = 1;
            for (size_t i = 0; i < t.n_shape; i++) {
                /* a product past 2^64 would wrap and could match by accident */
                if (t.shape[i] != 0 && prod > UINT64_MAX / t.shape[i]) {
                    st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "dense features shape overflows 64 bits");
                    goto done;
                }
                prod *= t.shape[i];
            }
            if (prod != t.n_values) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "dense features have %zu values but shape says %llu",
                                    t.n_values, (unsigned long long)prod);
                goto done;
            }
        }
        if ((st = fct_rio_check_dim(d, t.n_values, "dense length")) != FACTO_OK)
            goto done;
        if (t.n_values - 1 > UINT32_MAX) {
            st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "dense features longer than 2^32");
            goto done;
        }
        for (size_t i = 0; i < t.n_values; i++) {
            double v = fct_rio_value(&t, i);
            if (!isfinite(v) || !isfinite((float)v)) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "value %zu is not a finite float", i);
                goto done;
            }
            if (v != 0.0 && (st = facto_rows_push(ctx, d->rows, (uint32_t)i, (float)v)) != FACTO_OK)
                goto done;
        }
    }
    /* else: no keys, no values, no shape — an all-zero row */
    float label = 0.0f;
    if (d->keep_labels) {
        const Aialgs__Data__Value *lv = fct_rio_find_label(rec);
        int has = lv != NULL;
        if (d->has_labels < 0)
            d->has_labels = has;
        else if (d->has_labels != has) {
            st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "%s label[\"values\"] but the first record %s", has ? "has" : "has no",
                                has ? "has none" : "has one");
            goto done;
        }
        if (has) {
            fct_rio_tensor lt;
            if (!fct_rio_tensor_of(lv, &lt) || lt.n_values != 1) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "label[\"values\"] must be a numeric tensor of one value");
                goto done;
            }
            double v = fct_rio_value(&lt, 0);
            if (!isfinite(v) || !isfinite((float)v)) {
                st = FACTO_RIO_FAIL(d, FACTO_ERR_PARSE, "label is not a finite float");
                goto done;
            }
            label = (float)v;
        }
    }
    st = facto_rows_finish_row(ctx, d->rows, label);
done:
    aialgs__data__record__free_unpacked(rec, &d->alloc); /* no-op frees */
    return st;
}

/* Read every record of `s` into rows. */
static facto_status fct_rio_decode_stream(facto_ctx *ctx, fct_rio_src *s, const char *name, const char *what,
                                            uint64_t feature_dim, int keep_labels, facto_rows **out,
                                            facto_rows_origin *origin)
{
    *out = NULL;
    if (feature_dim > ((uint64_t)1 << 32))
        return fct_fail(ctx, FACTO_ERR_INVALID, "feature_dim %llu is above 2^32", (unsigned long long)feature_dim);
    fct_rio_dec d;
    memset(&d, 0, sizeof d);
    d.ctx = ctx;
    d.name = name;
    d.what = what;
    d.index_base = strcmp(what, "instance") == 0 ? 0 : 1;
    d.origin = origin;
    d.feature_dim = feature_dim;
    d.keep_labels = keep_labels;
    d.has_labels = -1;
    d.alloc.alloc = fct_rio_arena_alloc;
    d.alloc.free = fct_rio_arena_free;
    d.alloc.allocator_data = &d.arena;
    d.rows = facto_rows_new(0, 1);
    if (!d.rows)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", name);
    fct_bytebuf payload = {0};
    facto_status st = FACTO_OK;
    int in_multi = 0;
    for (;;) {
        uint8_t hdr[8];
        int64_t at = s->offset;
        if (!in_multi) {
            d.at = at;
            payload.len = 0;
        }
        int64_t got = fct_rio_read(s, hdr, 8);
        if (got < 0) {
            st = fct_fail(ctx, FACTO_ERR_IO, "%s: read error at byte %lld: %s", name, (long long)at,
                            fct_rio_errstr(s));
            goto done;
        }
        if (got == 0 && !in_multi)
            break;
        if (got < 8) {
            st = FACTO_RIO_FAIL(&d, FACTO_ERR_PARSE, "truncated header at byte %lld", (long long)at);
            goto done;
        }
        uint32_t magic = fct_get_u32le(hdr), word = fct_get_u32le(hdr + 4);
        if (magic != FACTO_RECORDIO_MAGIC) {
            st = FACTO_RIO_FAIL(&d, FACTO_ERR_PARSE, "bad magic 0x%08X at byte %lld (not recordIO, or corrupt)",
                                (unsigned)magic, (long long)at);
            goto done;
        }
        uint32_t cflag = word >> 29, len = word & FACTO_RECORDIO_LEN_MASK;
        if (cflag > 3 || (in_multi && (cflag == 0 || cflag == 1)) || (!in_multi && (cflag == 2 || cflag == 3))) {
            st = FACTO_RIO_FAIL(&d, FACTO_ERR_PARSE, "continuation flag %u out of sequence at byte %lld",
                                (unsigned)cflag, (long long)at);
            goto done;
        }
        size_t padded = ((size_t)len + 3) & ~(size_t)3;
        /* Read in chunks of at most 1 MiB, so a corrupt length word costs
         * memory only for the bytes really present. */
        got = 0;
        while ((size_t)got < padded) {
            size_t want = padded - (size_t)got;
            if (want > (1u << 20))
                want = 1u << 20;
            if ((st = fct_bytebuf_reserve(ctx, &payload, (size_t)got + want + 4)) != FACTO_OK)
                goto done;
            int64_t r = fct_rio_read(s, payload.data + payload.len + got, want);
            if (r < 0) {
                st = fct_fail(ctx, FACTO_ERR_IO, "%s: read error at byte %lld: %s", name, (long long)s->offset,
                                fct_rio_errstr(s));
                goto done;
            }
            got += r;
            if ((size_t)r < want)
                break;
        }
        if ((size_t)got < len) {
            st = FACTO_RIO_FAIL(&d, FACTO_ERR_PARSE, "truncated: %u payload bytes announced, %lld present", len,
                                (long long)got);
            goto done;
        }
        /* padding may be missing after the very last record */
        payload.len += len;
        if (cflag == 1 || cflag == 2) {
            in_multi = 1;
            uint8_t m[4];
            fct_put_u32le(m, FACTO_RECORDIO_MAGIC);
            memcpy(payload.data + payload.len, m, 4);
            payload.len += 4;
            continue;
        }
        in_multi = 0;
        if ((st = fct_rio_decode_one(&d, payload.data, payload.len)) != FACTO_OK)
            goto done;
        if (d.origin && (st = fct_rows_origin_push(ctx, d.origin, d.at)) != FACTO_OK)
            goto done;
        d.index++;
    }
    if (d.rows->n_rows == 0) {
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no records", name);
        goto done;
    }
    d.rows->feature_dim = feature_dim > 0 ? feature_dim : d.seen_dim;
    if (d.has_labels != 1) {
        free(d.rows->labels);
        d.rows->labels = NULL;
    }
    *out = d.rows;
    d.rows = NULL;
done:
    free(payload.data);
    fct_rio_arena_destroy(&d.arena);
    facto_rows_free(d.rows);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

facto_status fct_recordio_decode_ex(facto_ctx *ctx, const void *data, size_t size, const char *name,
                                      uint64_t feature_dim, int keep_labels, const char *what, facto_rows **out)
{
    fct_rio_src s = {0};
    s.mem = data ? data : (const uint8_t *)"";
    s.mem_size = data ? size : 0;
    return fct_rio_decode_stream(ctx, &s, name ? name : "recordIO data", what, feature_dim, keep_labels, out,
                                   NULL);
}

facto_status facto_recordio_decode(facto_ctx *ctx, const void *data, size_t size, const char *name,
                                   uint64_t feature_dim, facto_rows **out)
{
    return fct_recordio_decode_ex(ctx, data, size, name, feature_dim, 1, "record", out);
}

facto_status facto_recordio_read(facto_ctx *ctx, const char *path, uint64_t feature_dim, facto_rows **out)
{
    return fct_recordio_read_origin(ctx, path, feature_dim, out, NULL);
}

facto_status fct_recordio_read_origin(facto_ctx *ctx, const char *path, uint64_t feature_dim, facto_rows **out,
                                        facto_rows_origin *origin)
{
    *out = NULL;
    fct_rio_src s = {0};
    s.gz = gzopen(path, "rb");
    if (!s.gz)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(s.gz, 1 << 17);
    facto_status st = fct_rio_decode_stream(ctx, &s, path, "record", feature_dim, 1, out, origin);
    gzclose(s.gz);
    return st;
}

facto_status facto_rows_detect(facto_ctx *ctx, const char *path, facto_rows_format *out)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t b[4];
    int r = gzread(gz, b, 4);
    gzclose(gz);
    if (r < 0)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: read error", path);
    *out = r == 4 && fct_get_u32le(b) == FACTO_RECORDIO_MAGIC ? FACTO_ROWS_RECORDIO : FACTO_ROWS_LIBSVM;
    return fct_ok(ctx);
}

/* ---- encoding ------------------------------------------------------------ */

/* Append row r of `rows` as one framed Record; `keys64` is scratch of at least the row length. */
static facto_status fct_rio_encode_row(facto_ctx *ctx, const facto_rows *rows, int64_t r, uint64_t dim,
                                         uint64_t *keys64, fct_bytebuf *scratch, fct_bytebuf *out)
{
    int64_t b = rows->row_ptr[r], n = rows->row_ptr[r + 1] - b;
    for (int64_t j = 0; j < n; j++)
        keys64[j] = rows->keys[b + j];
    Aialgs__Data__Float32Tensor ft = AIALGS__DATA__FLOAT32_TENSOR__INIT;
    ft.n_values = (size_t)n;
    ft.values = rows->values + b;
    ft.n_keys = (size_t)n;
    ft.keys = keys64;
    ft.n_shape = 1;
    ft.shape = &dim;
    Aialgs__Data__Value fv = AIALGS__DATA__VALUE__INIT;
    fv.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
    fv.float32_tensor = &ft;
    Aialgs__Data__Record__FeaturesEntry fe = AIALGS__DATA__RECORD__FEATURES_ENTRY__INIT;
    fe.key = (char *)"values";
    fe.value = &fv;
    Aialgs__Data__Record__FeaturesEntry *fes[1] = {&fe};

    float label = rows->labels ? rows->labels[r] : 0.0f;
    Aialgs__Data__Float32Tensor lt = AIALGS__DATA__FLOAT32_TENSOR__INIT;
    lt.n_values = 1;
    lt.values = &label;
    Aialgs__Data__Value lv = AIALGS__DATA__VALUE__INIT;
    lv.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
    lv.float32_tensor = &lt;
    Aialgs__Data__Record__LabelEntry le = AIALGS__DATA__RECORD__LABEL_ENTRY__INIT;
    le.key = (char *)"values";
    le.value = &lv;
    Aialgs__Data__Record__LabelEntry *les[1] = {&le};

    Aialgs__Data__Record rec = AIALGS__DATA__RECORD__INIT;
    rec.n_features = 1;
    rec.features = fes;
    if (rows->labels) {
        rec.n_label = 1;
        rec.label = les;
    }
    size_t len = aialgs__data__record__get_packed_size(&rec);
    scratch->len = 0;
    facto_status st = fct_bytebuf_reserve(ctx, scratch, len);
    if (st != FACTO_OK)
        return st;
    aialgs__data__record__pack(&rec, scratch->data);
    return fct_recordio_frame(ctx, out, scratch->data, len);
}

/* Longest row of `rows`. */
static int64_t fct_rio_max_row(const facto_rows *rows)
{
    int64_t m = 0;
    for (int64_t r = 0; r < rows->n_rows; r++)
        if (rows->row_ptr[r + 1] - rows->row_ptr[r] > m)
            m = rows->row_ptr[r + 1] - rows->row_ptr[r];
    return m;
}

/* Encode rows [all] into `out`; when `f` is set, flush to it every ~1 MiB. */
static facto_status fct_rio_encode_all(facto_ctx *ctx, const facto_rows *rows, fct_bytebuf *out, FILE *f,
                                         const char *path)
{
    uint64_t dim = facto_rows_dim(rows);
    int64_t maxlen = fct_rio_max_row(rows);
    uint64_t *keys64 = fct_malloc_array((size_t)(maxlen > 0 ? maxlen : 1), sizeof *keys64);
    if (!keys64)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory encoding recordIO");
    fct_bytebuf scratch = {0};
    facto_status st = FACTO_OK;
    for (int64_t r = 0; r < rows->n_rows; r++) {
        if ((st = fct_rio_encode_row(ctx, rows, r, dim, keys64, &scratch, out)) != FACTO_OK)
            break;
        if (f && (out->len >= (1u << 20) || r + 1 == rows->n_rows)) {
            if (fwrite(out->data, 1, out->len, f) != out->len) {
                st = fct_fail(ctx, FACTO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
                break;
            }
            out->len = 0;
        }
    }
    free(keys64);
    free(scratch.data);
    return st;
}

facto_status facto_recordio_encode(facto_ctx *ctx, const facto_rows *rows, void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    fct_bytebuf out = {0};
    facto_status st = fct_rio_encode_all(ctx, rows, &out, NULL, NULL);
    if (st != FACTO_OK) {
        free(out.data);
        return st;
    }
    *data = out.data ? (void *)out.data : malloc(1);
    if (!*data)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    *size = out.len;
    return fct_ok(ctx);
}

facto_status facto_recordio_write(facto_ctx *ctx, const facto_rows *rows, const char *path)
{
    int to_stdout = strcmp(path, "-") == 0;
    facto_output *o = NULL;
    facto_status st = to_stdout ? FACTO_OK : facto_output_open(ctx, path, 0, &o);
    if (st != FACTO_OK)
        return st;
    FILE *f = to_stdout ? stdout : facto_output_stream(o);
    fct_bytebuf out = {0};
    st = fct_rio_encode_all(ctx, rows, &out, f, path);
    free(out.data);
    if (st != FACTO_OK) {
        facto_output_abort(o);
        return st;
    }
    if (!to_stdout)
        return facto_output_commit(ctx, o);
    if (fflush(f) != 0 || ferror(f))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return fct_ok(ctx);
}
