/*
 * test_inference_formats.c — SageMaker inference bodies. Requests from the
 * hand-written golden files (tests/golden, taken from SageMaker's documented
 * examples) must parse into the rows worked out by hand; responses written
 * for given scores must equal the golden responses as JSON; recordIO
 * requests and responses are checked field by field with protobuf-c; every
 * bad request gets FACTO_ERR_PARSE with a message naming the instance, and
 * randomly corrupted requests never crash. Fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "facto.h"
#include "data/rows.h"
#include "record.pb-c.h"

/* Read tests/golden/NAME into a NUL-terminated buffer. */
static char *read_golden(const char *name, size_t *size)
{
    char dir[1024], path[1200];
    const char *src = getenv("FACTO_SOURCE_DIR");
    if (src) {
        snprintf(dir, sizeof dir, "%s", src);
    } else {
        snprintf(dir, sizeof dir, "%s", __FILE__);
        char *p = strstr(dir, "tests/unit/");
        if (p == dir)
            strcpy(dir, ".");
        else if (p)
            p[-1] = '\0';
    }
    snprintf(path, sizeof path, "%s/tests/golden/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open golden file %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* The two sparse instances of the golden requests, by hand. */
static void check_sparse_rows(const facto_rows *r)
{
    static const uint32_t k0[] = {26, 182, 232, 243, 431}, k1[] = {0, 182, 232, 243, 431};
    static const float v0[] = {1, 1, 1, 4, 1}, v1[] = {13, 1, 1, 4, 1};
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->feature_dim, 2000);
    assert_null(r->labels);
    assert_int_equal(r->row_ptr[1], 5);
    assert_int_equal(r->row_ptr[2], 10);
    assert_memory_equal(r->keys, k0, sizeof k0);
    assert_memory_equal(r->keys + 5, k1, sizeof k1);
    assert_memory_equal(r->values, v0, sizeof v0);
    assert_memory_equal(r->values + 5, v1, sizeof v1);
}

static void check_dense_rows(const facto_rows *r)
{
    static const uint32_t k[] = {0, 1, 2, 3};
    static const float v[] = {1.5f, 16.0f, 14.0f, 23.0f};
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->feature_dim, 4);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r->row_ptr[i + 1] - r->row_ptr[i], 4);
        assert_memory_equal(r->keys + 4 * i, k, sizeof k);
        assert_memory_equal(r->values + 4 * i, v, sizeof v);
    }
}

static facto_rows *parse_golden(const char *name, facto_content_type type, uint64_t dim)
{
    size_t n;
    char *body = read_golden(name, &n);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    facto_status st = facto_inference_request_parse(ctx, type, body, n, dim, &r);
    if (st != FACTO_OK)
        fail_msg("%s: %s", name, facto_errmsg(ctx));
    facto_ctx_free(ctx);
    free(body);
    return r;
}

static void test_golden_requests(void **state)
{
    (void)state;
    facto_rows *r = parse_golden("fm_request_sparse.json", FACTO_CONTENT_JSON, 2000);
    check_sparse_rows(r);
    facto_rows_free(r);
    r = parse_golden("fm_request_sparse.json", FACTO_CONTENT_JSON, 0);
    check_sparse_rows(r);
    facto_rows_free(r);
    r = parse_golden("fm_request.jsonl", FACTO_CONTENT_JSONLINES, 2000);
    check_sparse_rows(r);
    facto_rows_free(r);
    r = parse_golden("fm_request_dense.json", FACTO_CONTENT_JSON, 4);
    check_dense_rows(r);
    facto_rows_free(r);
    r = parse_golden("fm_request_dense.jsonl", FACTO_CONTENT_JSONLINES, 0);
    check_dense_rows(r);
    facto_rows_free(r);
}

static void test_request_variants(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    /* unsorted keys are sorted, duplicates summed; dense zeros dropped;
     * "data" with a dense array; a sparse row with no entries; empty keys
     * with values (dense, as in the protobuf form); an empty tensor */
    const char *body = "{\"instances\": ["
                       "{\"data\": {\"features\": {\"keys\": [7, 2, 7], \"shape\": [10], \"values\": [1, 0.5, 2]}}},"
                       "{\"features\": [0, 0, 3, 0, 0, 0, 0, 0, 0, 0]},"
                       "{\"data\": {\"features\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]}},"
                       "{\"data\": {\"features\": {\"keys\": [], \"shape\": [10], \"values\": []}}},"
                       "{\"data\": {\"features\": {\"values\": [0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0]}}},"
                       "{\"data\": {\"features\": {\"keys\": [], \"shape\": [10], \"values\": [0, 5, 0, 0, 0, 0, 0, 0, 0, 0]}}},"
                       "{\"data\": {\"features\": {\"values\": []}}}]}";
    assert_int_equal(facto_inference_request_parse(ctx, FACTO_CONTENT_JSON, body, strlen(body), 10, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 7);
    assert_int_equal(r->nnz, 6);
    assert_int_equal(r->keys[5], 1); /* empty keys: dense values */
    assert_true(r->values[5] == 5.0f);
    assert_int_equal(r->row_ptr[7], 6); /* nothing at all: an all-zero row */
    assert_int_equal(r->keys[0], 2);
    assert_true(r->values[0] == 0.5f);
    assert_int_equal(r->keys[1], 7);
    assert_true(r->values[1] == 3.0f);
    assert_int_equal(r->keys[2], 2);
    assert_true(r->values[2] == 3.0f);
    assert_int_equal(r->keys[3], 9);
    assert_int_equal(r->row_ptr[4], 4); /* the empty row */
    assert_int_equal(r->row_ptr[3], 4);
    assert_int_equal(r->keys[4], 8);
    assert_true(r->values[4] == 0.25f);
    facto_rows_free(r);

    /* JSON Lines with CRLF and blank lines */
    body = "{\"features\": [1, 0]}\r\n\r\n{\"features\": [0, 2]}\n";
    assert_int_equal(facto_inference_request_parse(ctx, FACTO_CONTENT_JSONLINES, body, strlen(body), 2, &r),
                     FACTO_OK);
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->keys[1], 1);
    facto_rows_free(r);

    /* feature_dim up to 2^32: a key of 2^32 - 1 stays sparse */
    body = "{\"instances\": [{\"data\": {\"features\": {\"keys\": [4294967295, 5], \"shape\": [4294967296], "
           "\"values\": [1, 2]}}}]}";
    assert_int_equal(facto_inference_request_parse(ctx, FACTO_CONTENT_JSON, body, strlen(body), 0, &r), FACTO_OK);
    assert_int_equal(r->feature_dim, 4294967296ull);
    assert_int_equal(r->nnz, 2);
    assert_int_equal(r->keys[1], 4294967295u);
    facto_rows_free(r);

    /* recordIO requests: rows encoded by the writer come back, labels dropped */
    facto_rows *a = facto_rows_new(50, 1);
    assert_int_equal(facto_rows_push(ctx, a, 49, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, a, 3, -2.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, a, 5.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, a, 1.0f), FACTO_OK);
    void *data = NULL;
    size_t size = 0;
    assert_int_equal(facto_recordio_encode(ctx, a, &data, &size), FACTO_OK);
    assert_int_equal(facto_inference_request_parse(ctx, FACTO_CONTENT_RECORDIO, data, size, 50, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 2);
    assert_null(r->labels);
    assert_int_equal(r->nnz, 2);
    assert_int_equal(r->keys[0], 3);
    assert_int_equal(r->keys[1], 49);
    facto_rows_free(r);
    /* the model's feature_dim must match the records' shape */
    assert_int_equal(facto_inference_request_parse(ctx, FACTO_CONTENT_RECORDIO, data, size, 60, &r),
                     FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "instance 0"));
    facto_buffer_free(data);
    facto_rows_free(a);
    facto_ctx_free(ctx);
}

static void expect_bad(facto_content_type type, const char *body, uint64_t dim, facto_status code,
                       const char *expect)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = (facto_rows *)1;
    facto_status st = facto_inference_request_parse(ctx, type, body, strlen(body), dim, &r);
    if (st != code || !strstr(facto_errmsg(ctx), expect))
        fail_msg("body %s: got %d '%s', wanted %d containing '%s'", body, st, facto_errmsg(ctx), code, expect);
    assert_null(r);
    facto_ctx_free(ctx);
}

#define SPARSE(k, s, v) "{\"data\": {\"features\": {\"keys\": " k ", \"shape\": " s ", \"values\": " v "}}}"
#define GOOD SPARSE("[1]", "[10]", "[1]")

static void test_bad_requests(void **state)
{
    (void)state;
    const facto_content_type J = FACTO_CONTENT_JSON, L = FACTO_CONTENT_JSONLINES;
    expect_bad(J, "{\"instances\": [" GOOD ", " SPARSE("[1, 10]", "[10]", "[1, 2]") "]}", 10, FACTO_ERR_PARSE,
               "request instance 1: key 10 is not below feature_dim 10");
    expect_bad(J, "{\"instances\": [" SPARSE("[1, 2]", "[10]", "[1]") "]}", 10, FACTO_ERR_PARSE,
               "request instance 0: 2 keys but 1 values");
    expect_bad(J, "{\"instances\": [" GOOD ", " GOOD ", {\"data\": {\"features\": {\"keys\": [1], \"values\": [1]}}}]}",
               10, FACTO_ERR_PARSE, "request instance 2: sparse features (with keys) have no \"shape\"");
    expect_bad(J, "{\"instances\": [" SPARSE("[1]", "[10]", "[\"x\"]") "]}", 10, FACTO_ERR_PARSE,
               "request instance 0: value 0 (key 1) is a string, not a finite float");
    expect_bad(J, "{\"instances\": [{\"features\": [1, true]}]}", 2, FACTO_ERR_PARSE,
               "request instance 0: value 1 is a boolean, not a finite float");
    expect_bad(J, "{\"instances\": [" SPARSE("[-1]", "[10]", "[1]") "]}", 10, FACTO_ERR_PARSE,
               "keys[0] is the number -1, not a non-negative integer");
    expect_bad(J, "{\"instances\": [" SPARSE("[1.5]", "[10]", "[1]") "]}", 10, FACTO_ERR_PARSE,
               "not a non-negative integer");
    expect_bad(J, "{\"instances\": [" SPARSE("[4294967296]", "[4294967296]", "[1]") "]}", 0, FACTO_ERR_PARSE,
               "key 4294967296 is not below feature_dim 4294967296");
    expect_bad(J, "{\"instances\": [" SPARSE("[1]", "[12]", "[1]") "]}", 10, FACTO_ERR_PARSE,
               "shape 12 does not match the model's feature_dim 10");
    expect_bad(J, "{\"instances\": [{\"features\": [1, 2, 3]}]}", 10, FACTO_ERR_PARSE,
               "dense length 3 does not match the model's feature_dim 10");
    expect_bad(J, "{\"instances\": [{\"features\": [1, 2, 3]}, {\"features\": [1, 2]}]}", 0, FACTO_ERR_PARSE,
               "request instance 1: dense length 2 differs from 3 of instance 0");
    /* QA: the message says which number, not "a number, not a finite number" */
    expect_bad(J, "{\"instances\": [{\"features\": [1e39]}]}", 1, FACTO_ERR_PARSE,
               "value 0 is the number 1e+39, not a finite float");
    expect_bad(J, "{\"instances\": [{\"feature\": [1]}]}", 1, FACTO_ERR_PARSE,
               "request instance 0: has neither \"features\" nor \"data\"");
    expect_bad(J, "{\"instances\": [3]}", 1, FACTO_ERR_PARSE, "request instance 0: is a number, not an object");
    expect_bad(J, "{\"instances\": [{\"features\": [1]}", 1, FACTO_ERR_PARSE, "request: JSON error at line 1");
    expect_bad(J, "[{\"features\": [1]}]", 1, FACTO_ERR_PARSE, "expected {\"instances\": [...]}");
    expect_bad(J, "{\"instances\": []}", 1, FACTO_ERR_EMPTY, "no instances");
    expect_bad(J, "{\"instances\": [" SPARSE("[1]", "[4294967297]", "[1]") "]}", 0, FACTO_ERR_PARSE,
               "shape 4294967297 is above 2^32");
    expect_bad(J, "{\"instances\": [" GOOD "]}", ((uint64_t)1 << 32) + 1, FACTO_ERR_INVALID, "above 2^32");
    expect_bad(L, GOOD "\n\n" SPARSE("[1]", "[10]", "[1, 2]") "\n", 10, FACTO_ERR_PARSE,
               "request line 3 (instance 1): 1 keys but 2 values");
    expect_bad(L, GOOD "\n{\"features\": [1,\n", 10, FACTO_ERR_PARSE, "request line 2 (instance 1): JSON error");
    expect_bad(L, "\n \n", 10, FACTO_ERR_EMPTY, "no instances");
    expect_bad(FACTO_CONTENT_RECORDIO, "not recordio", 10, FACTO_ERR_PARSE, "request: instance 0 at byte 0: bad magic");
}

static void test_content_types(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_content_type t = 0;
    assert_int_equal(facto_content_type_parse(ctx, "application/json", &t), FACTO_OK);
    assert_int_equal(t, FACTO_CONTENT_JSON);
    assert_int_equal(facto_content_type_parse(ctx, " Application/JSON; charset=utf-8", &t), FACTO_OK);
    assert_int_equal(t, FACTO_CONTENT_JSON);
    assert_int_equal(facto_content_type_parse(ctx, "application/jsonlines", &t), FACTO_OK);
    assert_int_equal(t, FACTO_CONTENT_JSONLINES);
    assert_int_equal(facto_content_type_parse(ctx, "application/x-recordio-protobuf", &t), FACTO_OK);
    assert_int_equal(t, FACTO_CONTENT_RECORDIO);
    assert_int_equal(facto_content_type_parse(ctx, "text/html, application/x-recordio-protobuf;q=0.9, */*", &t),
                     FACTO_OK);
    assert_int_equal(t, FACTO_CONTENT_RECORDIO);
    assert_int_equal(facto_content_type_parse(ctx, "*/*", &t), FACTO_OK);
    assert_int_equal(t, FACTO_CONTENT_JSON);
    assert_int_equal(facto_content_type_parse(ctx, "text/csv", &t), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "text/csv"));
    assert_string_equal(facto_content_type_name(FACTO_CONTENT_JSONLINES), "application/jsonlines");
    facto_ctx_free(ctx);
}

/* The response for `scores` (+ labels) must equal golden `name` as JSON. */
static void check_json_response(facto_content_type type, const float *scores, const float *labels, int64_t n,
                                const char *name)
{
    facto_ctx *ctx = facto_ctx_new();
    void *body = NULL;
    size_t size = 0;
    assert_int_equal(facto_inference_response_write(ctx, type, scores, labels, n, &body, &size), FACTO_OK);
    assert_int_equal(strlen(body), size);
    size_t gn;
    char *golden = read_golden(name, &gn);
    json_error_t err;
    if (type == FACTO_CONTENT_JSON) {
        json_t *a = json_loadb(body, size, 0, &err), *b = json_loadb(golden, gn, 0, &err);
        assert_non_null(a);
        assert_non_null(b);
        if (!json_equal(a, b))
            fail_msg("%s differs from the response: %s", name, (char *)body);
        json_decref(a);
        json_decref(b);
    } else {
        /* line by line */
        char *sa = body, *sb = golden;
        int lines = 0;
        for (;;) {
            char *ea = strchr(sa, '\n'), *eb = strchr(sb, '\n');
            if (!ea || !eb) {
                assert_true(!ea && !eb);
                break;
            }
            json_t *a = json_loadb(sa, (size_t)(ea - sa), 0, &err), *b = json_loadb(sb, (size_t)(eb - sb), 0, &err);
            assert_non_null(a);
            assert_non_null(b);
            assert_true(json_equal(a, b));
            json_decref(a);
            json_decref(b);
            sa = ea + 1;
            sb = eb + 1;
            lines++;
        }
        assert_int_equal(lines, n);
    }
    free(golden);
    facto_buffer_free(body);
    facto_ctx_free(ctx);
}

static void test_golden_responses(void **state)
{
    (void)state;
    const float bs[2] = {0.4f, 0.9f}, bl[2] = {0.0f, 1.0f}, rs[2] = {0.4f, 3.5f};
    check_json_response(FACTO_CONTENT_JSON, bs, bl, 2, "fm_response_binary.json");
    check_json_response(FACTO_CONTENT_JSON, rs, NULL, 2, "fm_response_regressor.json");
    check_json_response(FACTO_CONTENT_JSONLINES, bs, bl, 2, "fm_response_binary.jsonl");
    check_json_response(FACTO_CONTENT_JSONLINES, rs, NULL, 2, "fm_response_regressor.jsonl");

    /* every score reads back as the same float */
    facto_ctx *ctx = facto_ctx_new();
    float s[5] = {0.1f, 1.0f / 3.0f, 123456.789f, -2.5e-7f, 0.0f};
    void *body = NULL;
    size_t size = 0;
    assert_int_equal(facto_inference_response_write(ctx, FACTO_CONTENT_JSON, s, NULL, 5, &body, &size), FACTO_OK);
    json_error_t err;
    json_t *j = json_loadb(body, size, 0, &err);
    json_t *preds = json_object_get(j, "predictions");
    assert_int_equal(json_array_size(preds), 5);
    for (size_t i = 0; i < 5; i++) {
        double v = json_number_value(json_object_get(json_array_get(preds, i), "score"));
        assert_true((float)v == s[i]);
        assert_null(json_object_get(json_array_get(preds, i), "predicted_label"));
    }
    json_decref(j);
    facto_buffer_free(body);
    /* an empty batch is an empty list */
    assert_int_equal(facto_inference_response_write(ctx, FACTO_CONTENT_JSON, NULL, NULL, 0, &body, &size), FACTO_OK);
    j = json_loadb(body, size, 0, &err);
    assert_int_equal(json_array_size(json_object_get(j, "predictions")), 0);
    json_decref(j);
    facto_buffer_free(body);
    /* a non-finite score is refused */
    s[1] = INFINITY;
    assert_int_equal(facto_inference_response_write(ctx, FACTO_CONTENT_JSON, s, NULL, 5, &body, &size),
                     FACTO_ERR_INVALID);
    facto_ctx_free(ctx);
}

/* Walk the framed Records of a recordIO response. */
static void test_recordio_response(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const float scores[3] = {0.4f, 0.75f, 0.125f}, labels[3] = {0.0f, 1.0f, 0.0f};
    for (int binary = 0; binary <= 1; binary++) {
        void *body = NULL;
        size_t size = 0;
        assert_int_equal(facto_inference_response_write(ctx, FACTO_CONTENT_RECORDIO, scores, binary ? labels : NULL,
                                                        3, &body, &size),
                         FACTO_OK);
        const uint8_t *p = body;
        size_t off = 0;
        for (int i = 0; i < 3; i++) {
            assert_true(off + 8 <= size);
            uint32_t magic = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                             (uint32_t)p[off + 3] << 24;
            uint32_t word = (uint32_t)p[off + 4] | (uint32_t)p[off + 5] << 8 | (uint32_t)p[off + 6] << 16 |
                            (uint32_t)p[off + 7] << 24;
            assert_int_equal(magic, 0xCED7230Au);
            assert_int_equal(word >> 29, 0);
            uint32_t len = word & ((1u << 29) - 1u);
            Aialgs__Data__Record *rec = aialgs__data__record__unpack(NULL, len, p + off + 8);
            assert_non_null(rec);
            assert_int_equal(rec->n_features, 0);
            assert_int_equal(rec->n_label, binary ? 2 : 1);
            int seen_score = 0, seen_label = 0;
            for (size_t e = 0; e < rec->n_label; e++) {
                const Aialgs__Data__Value *v = rec->label[e]->value;
                assert_int_equal(v->value_case, AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR);
                assert_int_equal(v->float32_tensor->n_values, 1);
                assert_int_equal(v->float32_tensor->n_keys, 0);
                if (strcmp(rec->label[e]->key, "score") == 0) {
                    assert_true(v->float32_tensor->values[0] == scores[i]);
                    seen_score = 1;
                } else {
                    assert_string_equal(rec->label[e]->key, "predicted_label");
                    assert_true(v->float32_tensor->values[0] == labels[i]);
                    seen_label = 1;
                }
            }
            assert_true(seen_score);
            assert_int_equal(seen_label, binary);
            aialgs__data__record__free_unpacked(rec, NULL);
            off += 8 + ((len + 3u) & ~3u);
        }
        assert_int_equal(off, size);
        facto_buffer_free(body);
    }
    facto_ctx_free(ctx);
}

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

static void test_mutated_requests(void **state)
{
    (void)state;
    static const char *const alphabet = "{}[],:\"0123456789.-e \nkeysvaluesshapedatafeatures";
    size_t n;
    char *golden = read_golden("fm_request_sparse.json", &n);
    char *m = malloc(n + 1);
    facto_ctx *ctx = facto_ctx_new();
    int ok = 0, bad = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(m, golden, n);
        for (int f = 0; f < 1 + (int)(rnd() % 3); f++)
            m[rnd() % n] = alphabet[rnd() % strlen(alphabet)];
        facto_content_type t = it % 2 ? FACTO_CONTENT_JSON : FACTO_CONTENT_JSONLINES;
        facto_rows *r = NULL;
        facto_status st = facto_inference_request_parse(ctx, t, m, n, 2000, &r);
        if (st == FACTO_OK) {
            ok++;
            for (int64_t k = 0; k < r->nnz; k++)
                assert_true(r->keys[k] < 2000);
            facto_rows_free(r);
        } else {
            bad++;
            assert_true(st == FACTO_ERR_PARSE || st == FACTO_ERR_EMPTY);
            assert_null(r);
        }
    }
    assert_true(bad > 0);
    (void)ok;
    free(m);
    free(golden);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_requests),   cmocka_unit_test(test_request_variants),
        cmocka_unit_test(test_bad_requests),      cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_golden_responses),  cmocka_unit_test(test_recordio_response),
        cmocka_unit_test(test_mutated_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
