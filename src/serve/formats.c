/*
 * formats.c — Amazon SageMaker's inference bodies for factorization
 * machines: requests (application/json {"instances": [...]},
 * application/jsonlines, application/x-recordio-protobuf) parsed into
 * unlabelled facto_rows, and responses ({"predictions": [{"score": ...,
 * "predicted_label": ...}]}, JSON Lines, recordIO Records with label["score"]
 * and label["predicted_label"]) written from arrays of scores, so this file
 * needs no model. JSON goes through jansson; recordIO through recordio.c.
 * Cost O(body bytes + nnz); sparse instances are never densified. Scores are
 * printed with the fewest digits (<= 9) that read back to the same float.
 */
#include "core/numtext.h"
#include "core/internal.h"
#include "data/events.h"
#include "data/recordio.h"

#include "record.pb-c.h"

#include <ctype.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- content types ------------------------------------------------------- */

facto_status facto_content_type_parse(facto_ctx *ctx, const char *text, facto_content_type *out)
{
    static const struct {
        const char *name;
        facto_content_type type;
    } k_types[] = {
        {"application/json", FACTO_CONTENT_JSON},
        {"application/jsonlines", FACTO_CONTENT_JSONLINES},
        {"application/x-jsonlines", FACTO_CONTENT_JSONLINES},
        {"application/json-lines", FACTO_CONTENT_JSONLINES},
        {"application/x-ndjson", FACTO_CONTENT_JSONLINES},
        {"application/x-recordio-protobuf", FACTO_CONTENT_RECORDIO},
    };
    if (!text)
        return fct_fail(ctx, FACTO_ERR_INVALID, "no content type given");
    int wildcard = 0;
    const char *p = text;
    for (;;) {
        /* one comma-separated element: a media type with optional ";params" */
        size_t n = strcspn(p, ",");
        size_t a = 0, b = strcspn(p, ";,");
        while (a < b && (p[a] == ' ' || p[a] == '\t'))
            a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
            b--;
        char t[64];
        if (b - a > 0 && b - a < sizeof t) {
            for (size_t i = a; i < b; i++)
                t[i - a] = (char)tolower((unsigned char)p[i]);
            t[b - a] = '\0';
            for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) {
                if (strcmp(t, k_types[i].name) == 0) {
                    *out = k_types[i].type;
                    return fct_ok(ctx);
                }
            }
            if (strcmp(t, "*/*") == 0 || strcmp(t, "application/*") == 0)
                wildcard = 1;
        }
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    if (wildcard) {
        *out = FACTO_CONTENT_JSON;
        return fct_ok(ctx);
    }
    return fct_fail(ctx, FACTO_ERR_INVALID,
                      "unsupported content type '%.100s' (use application/json, application/jsonlines or "
                      "application/x-recordio-protobuf)",
                      text);
}

const char *facto_content_type_name(facto_content_type type)
{
    switch (type) {
    case FACTO_CONTENT_JSON: return "application/json";
    case FACTO_CONTENT_JSONLINES: return "application/jsonlines";
    case FACTO_CONTENT_RECORDIO: return "application/x-recordio-protobuf";
    }
    return "application/octet-stream";
}

/* ---- requests -------------------------------------------------------------- */

typedef struct fct_req {
    facto_ctx *ctx;
    facto_rows *rows;
    uint64_t feature_dim; /* caller's, or 0 */
    uint64_t seen_dim;    /* first instance's when feature_dim is 0 */
    int64_t index;        /* 0-based instance index */
    int64_t line;         /* 1-based line for JSON Lines, 0 for JSON */
} fct_req;

static facto_status fct_req_fail(fct_req *q, const char *fmt, ...) FACTO_PRINTF(2, 3);
static facto_status fct_req_fail(fct_req *q, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (q->line > 0)
        return fct_fail(q->ctx, FACTO_ERR_PARSE, "request line %lld (instance %lld): %s", (long long)q->line,
                          (long long)q->index, detail);
    return fct_fail(q->ctx, FACTO_ERR_PARSE, "request instance %lld: %s", (long long)q->index, detail);
}

/* What a JSON value is, for a message: the kind, and a number's value
 * ("the number 1e+39", "the number -1"), into buf[64]. */
static const char *fct_json_desc(const json_t *j, char *buf)
{
    if (json_is_integer(j))
        snprintf(buf, 64, "the number %lld", (long long)json_integer_value(j));
    else if (json_is_real(j)) {
        memcpy(buf, "the number ", 11);
        fct_format_double(buf + 11, 53, 9, json_real_value(j));
    } else
        snprintf(buf, 64, "%s", fct_json_kind(j));
    return buf;
}

/* A finite float from a JSON number; 0 when it is not one. */
static int fct_json_float(const json_t *j, float *out)
{
    if (!json_is_number(j))
        return 0;
    double v = json_number_value(j);
    if (!isfinite(v) || fabs(v) > FLT_MAX)
        return 0;
    *out = (float)v;
    return 1;
}

/* A non-negative integral JSON number; 0 when it is not one. */
static int fct_json_uint(const json_t *j, uint64_t *out)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (v < 0)
            return 0;
        *out = (uint64_t)v;
        return 1;
    }
    if (json_is_real(j)) {
        double v = json_real_value(j);
        if (!(v >= 0.0) || v != floor(v) || v >= 18446744073709551616.0)
            return 0;
        *out = (uint64_t)v;
        return 1;
    }
    return 0;
}

static facto_status fct_req_check_dim(fct_req *q, uint64_t dim, const char *how)
{
    if (dim > ((uint64_t)1 << 32))
        return fct_req_fail(q, "%s %llu is above 2^32, the largest feature_dim", how, (unsigned long long)dim);
    if (q->feature_dim > 0) {
        if (dim != q->feature_dim)
            return fct_req_fail(q, "%s %llu does not match the model's feature_dim %llu", how,
                                  (unsigned long long)dim, (unsigned long long)q->feature_dim);
    } else if (q->seen_dim == 0) {
        q->seen_dim = dim;
    } else if (dim != q->seen_dim) {
        return fct_req_fail(q, "%s %llu differs from %llu of instance 0", how, (unsigned long long)dim,
                              (unsigned long long)q->seen_dim);
    }
    return FACTO_OK;
}

/* Dense values: key = position; exact zeros are not stored. */
static facto_status fct_req_dense(fct_req *q, const json_t *values)
{
    char desc[64];
    size_t n = json_array_size(values);
    if (n > (size_t)UINT32_MAX + 1)
        return fct_req_fail(q, "dense features longer than 2^32");
    facto_status st = fct_req_check_dim(q, n, "dense length");
    if (st != FACTO_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(values, i);
        float f;
        if (!fct_json_float(v, &f))
            return fct_req_fail(q, "value %zu is %s, not a finite float", i, fct_json_desc(v, desc));
        if (f != 0.0f && (st = facto_rows_push(q->ctx, q->rows, (uint32_t)i, f)) != FACTO_OK)
            return st;
    }
    return FACTO_OK;
}

/* A tensor object {"keys": [...], "shape": [N], "values": [...]}. */
static facto_status fct_req_tensor(fct_req *q, const json_t *t)
{
    const json_t *values = json_object_get(t, "values");
    const json_t *keys = json_object_get(t, "keys");
    const json_t *shape = json_object_get(t, "shape");
    char desc[64];
    if (!values || !json_is_array(values))
        return fct_req_fail(q, "features have no \"values\" array");
    if (keys && !json_is_array(keys))
        return fct_req_fail(q, "\"keys\" is %s, not an array", fct_json_kind(keys));
    if (shape && !json_is_array(shape))
        return fct_req_fail(q, "\"shape\" is %s, not an array", fct_json_kind(shape));
    size_t n_shape = shape ? json_array_size(shape) : 0;
    uint64_t dim = 0;
    if (n_shape > 0) {
        size_t di = n_shape == 2 ? 1 : 0;
        uint64_t first = 0;
        if (n_shape > 2 || (n_shape == 2 && (!fct_json_uint(json_array_get(shape, 0), &first) || first != 1)))
            return fct_req_fail(q, "\"shape\" must be [feature_dim]");
        if (!fct_json_uint(json_array_get(shape, di), &dim))
            return fct_req_fail(q, "\"shape\" holds %s, not a non-negative integer",
                                  fct_json_desc(json_array_get(shape, di), desc));
    }
    size_t nk = keys ? json_array_size(keys) : 0, nv = json_array_size(values);
    /* as in the protobuf form: no (or empty) keys means dense values */
    if (nk == 0 && nv > 0) {
        if (n_shape > 0 && dim != nv)
            return fct_req_fail(q, "dense features have %zu values but shape [%llu]", nv, (unsigned long long)dim);
        return fct_req_dense(q, values);
    }
    if (nk == 0 && n_shape == 0)
        return FACTO_OK; /* no keys, values or shape: an all-zero row */
    if (nk != nv)
        return fct_req_fail(q, "%zu keys but %zu values", nk, nv);
    if (n_shape == 0)
        return fct_req_fail(q, "sparse features (with keys) have no \"shape\"; give \"shape\": [feature_dim]");
    facto_status st = fct_req_check_dim(q, dim, "shape");
    if (st != FACTO_OK)
        return st;
    for (size_t i = 0; i < nk; i++) {
        const json_t *kj = json_array_get(keys, i), *vj = json_array_get(values, i);
        uint64_t k;
        float f;
        if (!fct_json_uint(kj, &k))
            return fct_req_fail(q, "keys[%zu] is %s, not a non-negative integer", i, fct_json_desc(kj, desc));
        if (k >= dim)
            return fct_req_fail(q, "key %llu is not below feature_dim %llu", (unsigned long long)k,
                                  (unsigned long long)dim);
        if (k > UINT32_MAX)
            return fct_req_fail(q, "key %llu is not below 2^32", (unsigned long long)k);
        if (!fct_json_float(vj, &f))
            return fct_req_fail(q, "value %zu (key %llu) is %s, not a finite float", i, (unsigned long long)k,
                                  fct_json_desc(vj, desc));
        if ((st = facto_rows_push(q->ctx, q->rows, (uint32_t)k, f)) != FACTO_OK)
            return st;
    }
    return FACTO_OK;
}

/* The features element: an array (dense) or a tensor object. */
static facto_status fct_req_features(fct_req *q, const json_t *f)
{
    if (json_is_array(f))
        return fct_req_dense(q, f);
    if (json_is_object(f))
        return fct_req_tensor(q, f);
    return fct_req_fail(q, "\"features\" is %s, not an array or a {keys, shape, values} object",
                          fct_json_kind(f));
}

static facto_status fct_req_instance(fct_req *q, const json_t *inst)
{
    facto_status st;
    if (json_is_array(inst)) {
        st = fct_req_dense(q, inst);
    } else if (!json_is_object(inst)) {
        st = fct_req_fail(q, "is %s, not an object", fct_json_kind(inst));
    } else {
        const json_t *f = json_object_get(inst, "features");
        const json_t *data = json_object_get(inst, "data");
        if (f) {
            st = fct_req_features(q, f);
        } else if (data) {
            if (!json_is_object(data))
                return fct_req_fail(q, "\"data\" is %s, not an object", fct_json_kind(data));
            f = json_object_get(data, "features");
            if (!f && json_object_size(data) == 1)
                f = json_object_iter_value(json_object_iter((json_t *)data));
            if (!f)
                return fct_req_fail(q, "\"data\" has no \"features\"");
            st = fct_req_features(q, f);
        } else {
            st = fct_req_fail(q, "has neither \"features\" nor \"data\"");
        }
    }
    if (st != FACTO_OK)
        return st;
    st = facto_rows_finish_row(q->ctx, q->rows, 0.0f);
    if (st == FACTO_ERR_INVALID) { /* duplicate keys summing past the float range */
        char detail[FACTO_ERRMSG_MAX];
        snprintf(detail, sizeof detail, "%s", facto_errmsg(q->ctx));
        st = fct_req_fail(q, "%s", detail);
    }
    q->index++;
    return st;
}

static facto_status fct_req_json(fct_req *q, const char *body, size_t size)
{
    json_error_t err;
    json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return fct_fail(q->ctx, FACTO_ERR_PARSE, "request: JSON error at line %d column %d: %s", err.line,
                          err.column, err.text);
    facto_status st = FACTO_OK;
    const json_t *inst = json_is_object(root) ? json_object_get(root, "instances") : NULL;
    if (!inst || !json_is_array(inst)) {
        st = fct_fail(q->ctx, FACTO_ERR_PARSE, "request: expected {\"instances\": [...]}");
    } else {
        for (size_t i = 0; i < json_array_size(inst) && st == FACTO_OK; i++)
            st = fct_req_instance(q, json_array_get(inst, i));
    }
    json_decref(root);
    return st;
}

static facto_status fct_req_jsonlines(fct_req *q, const char *body, size_t size)
{
    size_t pos = 0;
    q->line = 0;
    while (pos < size) {
        const char *nl = memchr(body + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - body) : size;
        q->line++;
        size_t a = pos, b = end;
        while (a < b && isspace((unsigned char)body[a]))
            a++;
        while (b > a && isspace((unsigned char)body[b - 1]))
            b--;
        pos = end + 1;
        if (a == b)
            continue;
        json_error_t err;
        json_t *j = json_loadb(body + a, b - a, JSON_REJECT_DUPLICATES, &err);
        if (!j)
            return fct_req_fail(q, "JSON error at column %d: %s", err.column, err.text);
        facto_status st = fct_req_instance(q, j);
        json_decref(j);
        if (st != FACTO_OK)
            return st;
    }
    return FACTO_OK;
}

facto_status facto_inference_request_parse(facto_ctx *ctx, facto_content_type type, const void *body, size_t size,
                                           uint64_t feature_dim, facto_rows **out)
{
    *out = NULL;
    if (type == FACTO_CONTENT_RECORDIO) {
        facto_status st = fct_recordio_decode_ex(ctx, body, size, "request", feature_dim, 0, "instance", out);
        if (st == FACTO_ERR_EMPTY)
            return fct_fail(ctx, FACTO_ERR_EMPTY, "request: no instances");
        return st;
    }
    if (type != FACTO_CONTENT_JSON && type != FACTO_CONTENT_JSONLINES)
        return fct_fail(ctx, FACTO_ERR_INVALID, "unknown content type %d", (int)type);
    if (feature_dim > ((uint64_t)1 << 32))
        return fct_fail(ctx, FACTO_ERR_INVALID, "feature_dim %llu is above 2^32", (unsigned long long)feature_dim);
    fct_req q = {ctx, NULL, feature_dim, 0, 0, 0};
    q.rows = facto_rows_new(0, 0);
    if (!q.rows)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "request: out of memory");
    const char *text = body ? (const char *)body : "";
    size = body ? size : 0;
    facto_status st = type == FACTO_CONTENT_JSON ? fct_req_json(&q, text, size) : fct_req_jsonlines(&q, text, size);
    if (st == FACTO_OK && q.rows->n_rows == 0)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "request: no instances");
    if (st != FACTO_OK) {
        facto_rows_free(q.rows);
        return st;
    }
    q.rows->feature_dim = feature_dim > 0 ? feature_dim : q.seen_dim;
    *out = q.rows;
    return fct_ok(ctx);
}

/* ---- responses ----------------------------------------------------------------- */

facto_status facto_inference_response_write(facto_ctx *ctx, facto_content_type type, const float *scores,
                                            const float *predicted_labels, int64_t n, void **body, size_t *size)
{
    *body = NULL;
    *size = 0;
    if (n < 0 || (n > 0 && !scores))
        return fct_fail(ctx, FACTO_ERR_INVALID, "response: %lld scores given without an array", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            return fct_fail(ctx, FACTO_ERR_INVALID, "response: score %lld is not finite", (long long)i);
        if (predicted_labels && predicted_labels[i] != 0.0f && predicted_labels[i] != 1.0f)
            return fct_fail(ctx, FACTO_ERR_INVALID, "response: predicted_label %lld is %g, not 0 or 1",
                              (long long)i, (double)predicted_labels[i]);
    }
    fct_bytebuf b = {0};
    facto_status st = FACTO_OK;
    if (type == FACTO_CONTENT_JSON || type == FACTO_CONTENT_JSONLINES) {
        int json = type == FACTO_CONTENT_JSON;
        if (json)
            st = fct_bytebuf_append(ctx, &b, "{\"predictions\": [", 17);
        for (int64_t i = 0; i < n && st == FACTO_OK; i++) {
            char num[32], item[96];
            fct_format_float_short(num, sizeof num, scores[i]); /* C locale: "0.4", never "0,4" */
            int len;
            if (predicted_labels)
                len = snprintf(item, sizeof item, "%s{\"score\": %s, \"predicted_label\": %d}%s",
                               json && i > 0 ? ", " : "", num, (int)predicted_labels[i], json ? "" : "\n");
            else
                len = snprintf(item, sizeof item, "%s{\"score\": %s}%s", json && i > 0 ? ", " : "", num,
                               json ? "" : "\n");
            st = fct_bytebuf_append(ctx, &b, item, (size_t)len);
        }
        if (st == FACTO_OK && json)
            st = fct_bytebuf_append(ctx, &b, "]}\n", 3);
        if (st == FACTO_OK)
            st = fct_bytebuf_append(ctx, &b, "", 1); /* NUL, not counted in the size */
        if (st == FACTO_OK)
            b.len--;
    } else if (type == FACTO_CONTENT_RECORDIO) {
        fct_bytebuf scratch = {0};
        for (int64_t i = 0; i < n && st == FACTO_OK; i++) {
            float score = scores[i], label = predicted_labels ? predicted_labels[i] : 0.0f;
            Aialgs__Data__Float32Tensor ts = AIALGS__DATA__FLOAT32_TENSOR__INIT, tl = AIALGS__DATA__FLOAT32_TENSOR__INIT;
            ts.n_values = 1;
            ts.values = &score;
            tl.n_values = 1;
            tl.values = &label;
            Aialgs__Data__Value vs = AIALGS__DATA__VALUE__INIT, vl = AIALGS__DATA__VALUE__INIT;
            vs.value_case = vl.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
            vs.float32_tensor = &ts;
            vl.float32_tensor = &tl;
            Aialgs__Data__Record__LabelEntry es = AIALGS__DATA__RECORD__LABEL_ENTRY__INIT;
            Aialgs__Data__Record__LabelEntry el = AIALGS__DATA__RECORD__LABEL_ENTRY__INIT;
            es.key = (char *)"score";
            es.value = &vs;
            el.key = (char *)"predicted_label";
            el.value = &vl;
            Aialgs__Data__Record__LabelEntry *entries[2] = {&es, &el};
            Aialgs__Data__Record rec = AIALGS__DATA__RECORD__INIT;
            rec.n_label = predicted_labels ? 2 : 1;
            rec.label = entries;
            size_t len = aialgs__data__record__get_packed_size(&rec);
            scratch.len = 0;
            if ((st = fct_bytebuf_reserve(ctx, &scratch, len)) != FACTO_OK)
                break;
            aialgs__data__record__pack(&rec, scratch.data);
            st = fct_recordio_frame(ctx, &b, scratch.data, len);
        }
        free(scratch.data);
        if (st == FACTO_OK && !b.data)
            st = fct_bytebuf_reserve(ctx, &b, 1);
    } else {
        st = fct_fail(ctx, FACTO_ERR_INVALID, "unknown content type %d", (int)type);
    }
    if (st != FACTO_OK) {
        free(b.data);
        return st;
    }
    *body = b.data;
    *size = b.len;
    return fct_ok(ctx);
}
