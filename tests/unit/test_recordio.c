/*
 * test_recordio.c — SageMaker recordIO-protobuf. The encoding of one row is
 * checked against bytes worked out by hand from the protobuf wire format and
 * dmlc-core's RecordIO framing; round trips must be exact (rows identical,
 * write -> read -> write byte-identical) for random rows, all-zero rows,
 * float labels and payload lengths of every residue mod 4; multi-part records
 * (the magic spliced out of the payload, as dmlc-core's writer does) read
 * back to the same row; dense, float64 and unlabelled records; and every
 * malformed input gives FACTO_ERR_PARSE with the record index; thousands of
 * randomly corrupted streams never crash (run under ASan/UBSan in CI). Fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "facto.h"
#include "data/rows.h"
#include "unit/testutil.h"
#include "record.pb-c.h"

static int setup_dir(void **state)
{
    (void)state;
    return fct_test_dir_make("fct_rio");
}

static int teardown_dir(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static const char *tmp_path(const char *name) { return fct_test_path(name); }

/*
 * One row {3: 1.0}, feature_dim 5, label 4.0, by hand:
 * Record.features (field 1, LEN) = map entry {key "values", value Value}
 *   entry: 0A 06 "values" | 12 0E Value
 *   Value.float32_tensor (field 2): 12 0C Tensor
 *   Tensor: values 0A 04 00 00 80 3F | keys 12 01 03 | shape 1A 01 05
 * Record.label (field 2, LEN) = entry {"values", Value{Tensor{values [4.0]}}}
 *   0A 06 "values" | 12 08 | 12 06 | 0A 04 00 00 80 40
 * Payload 46 bytes; framed: magic 0A 23 D7 CE, length 2E 00 00 00, 2 pad bytes.
 */
static const uint8_t k_one_row[] = {
    0x0A, 0x23, 0xD7, 0xCE, 0x2E, 0x00, 0x00, 0x00,
    0x0A, 0x18, 0x0A, 0x06, 'v', 'a', 'l', 'u', 'e', 's', 0x12, 0x0E, 0x12, 0x0C,
    0x0A, 0x04, 0x00, 0x00, 0x80, 0x3F, 0x12, 0x01, 0x03, 0x1A, 0x01, 0x05,
    0x12, 0x12, 0x0A, 0x06, 'v', 'a', 'l', 'u', 'e', 's', 0x12, 0x08, 0x12, 0x06,
    0x0A, 0x04, 0x00, 0x00, 0x80, 0x40,
    0x00, 0x00};

static void test_known_bytes(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(5, 1);
    assert_int_equal(facto_rows_push(ctx, r, 3, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, r, 4.0f), FACTO_OK);
    void *data = NULL;
    size_t size = 0;
    assert_int_equal(facto_recordio_encode(ctx, r, &data, &size), FACTO_OK);
    assert_int_equal(size, sizeof k_one_row);
    assert_memory_equal(data, k_one_row, sizeof k_one_row);
    facto_buffer_free(data);
    facto_rows_free(r);

    r = NULL;
    assert_int_equal(facto_recordio_decode(ctx, k_one_row, sizeof k_one_row, "k", 0, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(r->nnz, 1);
    assert_int_equal(r->feature_dim, 5);
    assert_int_equal(r->keys[0], 3);
    assert_true(r->values[0] == 1.0f);
    assert_non_null(r->labels);
    assert_true(r->labels[0] == 4.0f);
    facto_rows_free(r);
    /* the padding may be missing after the last record */
    assert_int_equal(facto_recordio_decode(ctx, k_one_row, sizeof k_one_row - 2, "k", 5, &r), FACTO_OK);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

#define rnd fct_test_rnd
#define rnd_float fct_test_rnd_float

static void assert_rows_identical(const facto_rows *a, const facto_rows *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->nnz, b->nnz);
    assert_int_equal(facto_rows_dim(a), b->feature_dim);
    assert_memory_equal(a->row_ptr, b->row_ptr, (size_t)(a->n_rows + 1) * sizeof(int64_t));
    if (a->nnz) {
        assert_memory_equal(a->keys, b->keys, (size_t)a->nnz * sizeof(uint32_t));
        assert_memory_equal(a->values, b->values, (size_t)a->nnz * sizeof(float));
    }
    if (a->labels) {
        assert_non_null(b->labels);
        assert_memory_equal(a->labels, b->labels, (size_t)a->n_rows * sizeof(float));
    } else {
        assert_null(b->labels);
    }
}

/* Payload length of the single record in `data`. */
static uint32_t payload_len(const uint8_t *data)
{
    uint32_t w = (uint32_t)data[4] | (uint32_t)data[5] << 8 | (uint32_t)data[6] << 16 | (uint32_t)data[7] << 24;
    return w & ((1u << 29) - 1u);
}

static void test_round_trips(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    int residues[4] = {0, 0, 0, 0};
    for (int labelled = 0; labelled <= 1; labelled++) {
        facto_rows *a = facto_rows_new((uint64_t)1 << 32, labelled);
        for (int i = 0; i < 3000; i++) {
            int len = (int)(rnd() % 7); /* 0: an all-zero row */
            /* keys of 1 to 5 varint bytes, so payload lengths vary */
            uint32_t range = i % 4 == 0 ? 100u : i % 4 == 1 ? 20000u : i % 4 == 2 ? 3000000u : UINT32_MAX;
            for (int j = 0; j < len; j++)
                assert_int_equal(facto_rows_push(ctx, a, rnd() % range, rnd_float()), FACTO_OK);
            assert_int_equal(facto_rows_finish_row(ctx, a, i % 2 ? rnd_float() : (float)(i % 5)), FACTO_OK);
            /* single-row encoding: note the residue of its payload length */
        }
        /* residues: encode each row alone */
        for (int64_t i = 0; i < 200; i++) {
            facto_rows *one = facto_rows_new(a->feature_dim, labelled);
            for (int64_t j = a->row_ptr[i]; j < a->row_ptr[i + 1]; j++)
                assert_int_equal(facto_rows_push(ctx, one, a->keys[j], a->values[j]), FACTO_OK);
            assert_int_equal(facto_rows_finish_row(ctx, one, labelled ? a->labels[i] : 0.0f), FACTO_OK);
            void *d = NULL;
            size_t n = 0;
            assert_int_equal(facto_recordio_encode(ctx, one, &d, &n), FACTO_OK);
            uint32_t pl = payload_len(d);
            residues[pl % 4]++;
            assert_int_equal(n, 8 + ((pl + 3) & ~3u));
            facto_rows *back = NULL;
            assert_int_equal(facto_recordio_decode(ctx, d, n, "one", 0, &back), FACTO_OK);
            assert_rows_identical(one, back);
            facto_rows_free(back);
            facto_buffer_free(d);
            facto_rows_free(one);
        }
        /* whole file: write -> read identical, -> write byte-identical */
        char p1[160], p2[160];
        snprintf(p1, sizeof p1, "%s", tmp_path("a.rec"));
        snprintf(p2, sizeof p2, "%s", tmp_path("b.rec"));
        assert_int_equal(facto_recordio_write(ctx, a, p1), FACTO_OK);
        facto_rows_format fmt = FACTO_ROWS_LIBSVM;
        assert_int_equal(facto_rows_detect(ctx, p1, &fmt), FACTO_OK);
        assert_int_equal(fmt, FACTO_ROWS_RECORDIO);
        facto_rows *b = NULL;
        assert_int_equal(facto_rows_read(ctx, p1, FACTO_ROWS_AUTO, 0, &b), FACTO_OK);
        assert_rows_identical(a, b);
        assert_int_equal(facto_rows_write(ctx, b, p2, FACTO_ROWS_RECORDIO), FACTO_OK);
        void *d1 = NULL, *d2 = NULL;
        size_t n1 = 0, n2 = 0;
        assert_int_equal(facto_recordio_encode(ctx, a, &d1, &n1), FACTO_OK);
        FILE *f = fopen(p2, "rb");
        assert_non_null(f);
        d2 = malloc(n1 + 1);
        n2 = fread(d2, 1, n1 + 1, f);
        fclose(f);
        assert_int_equal(n1, n2);
        assert_memory_equal(d1, d2, n1);
        free(d2);
        facto_buffer_free(d1);
        facto_rows_free(b);
        facto_rows_free(a);
    }
    for (int k = 0; k < 4; k++)
        if (residues[k] == 0)
            fail_msg("no payload length = %d mod 4 was produced", k);
    facto_ctx_free(ctx);
}

/* Frame `len` payload bytes with continuation flag `cflag` into out; returns bytes written. */
static size_t frame(uint8_t *out, const uint8_t *payload, uint32_t len, uint32_t cflag)
{
    uint32_t magic = 0xCED7230Au, word = cflag << 29 | len;
    for (int i = 0; i < 4; i++) {
        out[i] = (uint8_t)(magic >> (8 * i));
        out[4 + i] = (uint8_t)(word >> (8 * i));
    }
    memcpy(out + 8, payload, len);
    size_t padded = (len + 3u) & ~3u;
    memset(out + 8 + len, 0, padded - len);
    return 8 + padded;
}

static void test_multipart(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    /* a row whose values contain the magic's bytes twice */
    uint32_t bits = 0xCED7230Au;
    float magic_float;
    memcpy(&magic_float, &bits, 4);
    facto_rows *a = facto_rows_new(1000, 1);
    assert_int_equal(facto_rows_push(ctx, a, 1, magic_float), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, a, 2, 0.5f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, a, 999, magic_float), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, a, 2.0f), FACTO_OK);
    void *d = NULL;
    size_t n = 0;
    assert_int_equal(facto_recordio_encode(ctx, a, &d, &n), FACTO_OK);
    const uint8_t *pl = (const uint8_t *)d + 8;
    uint32_t len = payload_len(d);
    const uint8_t m[4] = {0x0A, 0x23, 0xD7, 0xCE};
    size_t cut[2];
    int nc = 0;
    for (uint32_t i = 0; i + 4 <= len && nc < 2; i++)
        if (memcmp(pl + i, m, 4) == 0)
            cut[nc++] = i;
    assert_int_equal(nc, 2);
    /* parts: [0, cut0) flag 1, [cut0+4, cut1) flag 2, [cut1+4, len) flag 3,
     * then a normal single-part record after it */
    uint8_t *buf = calloc(1, 3 * 8 + len + 16 + n);
    size_t o = 0;
    o += frame(buf + o, pl, (uint32_t)cut[0], 1);
    o += frame(buf + o, pl + cut[0] + 4, (uint32_t)(cut[1] - cut[0] - 4), 2);
    o += frame(buf + o, pl + cut[1] + 4, (uint32_t)(len - cut[1] - 4), 3);
    memcpy(buf + o, d, n);
    o += n;
    facto_rows *b = NULL;
    assert_int_equal(facto_recordio_decode(ctx, buf, o, "multi", 0, &b), FACTO_OK);
    assert_int_equal(b->n_rows, 2);
    for (int64_t r = 0; r < 2; r++) {
        assert_int_equal(b->row_ptr[r + 1] - b->row_ptr[r], 3);
        assert_memory_equal(b->keys + b->row_ptr[r], a->keys, 3 * sizeof(uint32_t));
        assert_memory_equal(b->values + b->row_ptr[r], a->values, 3 * sizeof(float));
        assert_true(b->labels[r] == 2.0f);
    }
    facto_rows_free(b);

    /* a start part followed by a whole record is out of sequence */
    o = frame(buf, pl, (uint32_t)cut[0], 1);
    memcpy(buf + o, d, n);
    o += n;
    assert_int_equal(facto_recordio_decode(ctx, buf, o, "multi", 0, &b), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "continuation flag 0 out of sequence"));
    /* an end part with no start */
    o = frame(buf, pl, len, 3);
    assert_int_equal(facto_recordio_decode(ctx, buf, o, "multi", 0, &b), FACTO_ERR_PARSE);
    /* a start part at the end of the data */
    o = frame(buf, pl, (uint32_t)cut[0], 1);
    assert_int_equal(facto_recordio_decode(ctx, buf, o, "multi", 0, &b), FACTO_ERR_PARSE);
    assert_null(b);
    free(buf);
    facto_buffer_free(d);
    facto_rows_free(a);
    facto_ctx_free(ctx);
}

/* Pack a Record with the given features tensor (and optional label) and frame it. */
static size_t make_record(uint8_t *out, Aialgs__Data__Value *features, Aialgs__Data__Value *label)
{
    Aialgs__Data__Record__FeaturesEntry fe = AIALGS__DATA__RECORD__FEATURES_ENTRY__INIT;
    fe.key = (char *)"values";
    fe.value = features;
    Aialgs__Data__Record__FeaturesEntry *fes[1] = {&fe};
    Aialgs__Data__Record__LabelEntry le = AIALGS__DATA__RECORD__LABEL_ENTRY__INIT;
    le.key = (char *)"values";
    le.value = label;
    Aialgs__Data__Record__LabelEntry *les[1] = {&le};
    Aialgs__Data__Record rec = AIALGS__DATA__RECORD__INIT;
    if (features) {
        rec.n_features = 1;
        rec.features = fes;
    }
    if (label) {
        rec.n_label = 1;
        rec.label = les;
    }
    uint8_t payload[4096];
    size_t len = aialgs__data__record__pack(&rec, payload);
    return frame(out, payload, (uint32_t)len, 0);
}

static void test_dense_and_other_types(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    uint8_t buf[8192];
    size_t o = 0;
    /* dense float32 [0, 2.5, 0, 1], label 1 (int32 tensor) */
    float dv[4] = {0.0f, 2.5f, 0.0f, 1.0f};
    Aialgs__Data__Float32Tensor dt = AIALGS__DATA__FLOAT32_TENSOR__INIT;
    dt.n_values = 4;
    dt.values = dv;
    Aialgs__Data__Value fv = AIALGS__DATA__VALUE__INIT;
    fv.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
    fv.float32_tensor = &dt;
    int32_t one = 1;
    Aialgs__Data__Int32Tensor it = AIALGS__DATA__INT32_TENSOR__INIT;
    it.n_values = 1;
    it.values = &one;
    Aialgs__Data__Value lv = AIALGS__DATA__VALUE__INIT;
    lv.value_case = AIALGS__DATA__VALUE__VALUE_INT32_TENSOR;
    lv.int32_tensor = &it;
    o += make_record(buf + o, &fv, &lv);
    /* sparse float64 {2: 0.25, 0: -3} shape [4], label 0.5 (float64) */
    double sv[2] = {0.25, -3.0};
    uint64_t sk[2] = {2, 0}, shape = 4;
    Aialgs__Data__Float64Tensor st64 = AIALGS__DATA__FLOAT64_TENSOR__INIT;
    st64.n_values = 2;
    st64.values = sv;
    st64.n_keys = 2;
    st64.keys = sk;
    st64.n_shape = 1;
    st64.shape = &shape;
    Aialgs__Data__Value fv2 = AIALGS__DATA__VALUE__INIT;
    fv2.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT64_TENSOR;
    fv2.float64_tensor = &st64;
    double half = 0.5;
    Aialgs__Data__Float64Tensor lt64 = AIALGS__DATA__FLOAT64_TENSOR__INIT;
    lt64.n_values = 1;
    lt64.values = &half;
    Aialgs__Data__Value lv2 = AIALGS__DATA__VALUE__INIT;
    lv2.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT64_TENSOR;
    lv2.float64_tensor = &lt64;
    o += make_record(buf + o, &fv2, &lv2);

    facto_rows *r = NULL;
    assert_int_equal(facto_recordio_decode(ctx, buf, o, "dense", 0, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->feature_dim, 4);
    assert_int_equal(r->nnz, 4);
    assert_int_equal(r->keys[0], 1);
    assert_true(r->values[0] == 2.5f);
    assert_int_equal(r->keys[1], 3);
    assert_true(r->values[1] == 1.0f);
    assert_int_equal(r->keys[2], 0);
    assert_true(r->values[2] == -3.0f);
    assert_int_equal(r->keys[3], 2);
    assert_true(r->values[3] == 0.25f);
    assert_true(r->labels[0] == 1.0f);
    assert_true(r->labels[1] == 0.5f);
    facto_rows_free(r);

    /* unlabelled records give rows without labels */
    o = make_record(buf, &fv, NULL);
    assert_int_equal(facto_recordio_decode(ctx, buf, o, "nolabel", 4, &r), FACTO_OK);
    assert_null(r->labels);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

static void expect_bad(const uint8_t *data, size_t n, uint64_t dim, const char *expect)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = (facto_rows *)1;
    facto_status st = facto_recordio_decode(ctx, data, n, "bad.rec", dim, &r);
    if (st != FACTO_ERR_PARSE || !strstr(facto_errmsg(ctx), expect))
        fail_msg("got %d '%s', wanted a parse error containing '%s'", st, facto_errmsg(ctx), expect);
    assert_null(r);
    facto_ctx_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t buf[8192];
    uint8_t bad[sizeof k_one_row];
    memcpy(bad, k_one_row, sizeof bad);
    bad[0] = 0x0B;
    expect_bad(bad, sizeof bad, 0, "bad.rec: record 1 at byte 0: bad magic 0xCED7230B");
    expect_bad(k_one_row, 5, 0, "truncated header");
    expect_bad(k_one_row, 30, 0, "truncated: 46 payload bytes announced, 22 present");
    /* a corrupt length word near 2^29 is reported, not allocated */
    memcpy(bad, k_one_row, sizeof bad);
    bad[4] = bad[5] = bad[6] = 0xFF;
    bad[7] = 0x1F;
    expect_bad(bad, sizeof bad, 0, "truncated: 536870911 payload bytes announced, 48 present");
    /* second record broken: its number (from 1) and offset are named */
    memcpy(buf, k_one_row, sizeof k_one_row);
    memcpy(buf + sizeof k_one_row, k_one_row, sizeof k_one_row);
    buf[sizeof k_one_row + 8] = 0xFF; /* not a protobuf field tag of a Record */
    buf[sizeof k_one_row + 9] = 0xFF;
    expect_bad(buf, 2 * sizeof k_one_row, 0, "record 2 at byte 56: payload of 46 bytes is not a Record");
    /* the key 3 is not below feature_dim 3 (shape [5] vs the caller's 3 first) */
    expect_bad(k_one_row, sizeof k_one_row, 3, "shape 5 does not match feature_dim 3");

    Aialgs__Data__Float32Tensor t = AIALGS__DATA__FLOAT32_TENSOR__INIT;
    float v[2] = {1.0f, 2.0f};
    uint64_t k[2] = {1, 7}, shape = 5;
    Aialgs__Data__Value fv = AIALGS__DATA__VALUE__INIT;
    fv.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
    fv.float32_tensor = &t;
    t.values = v;
    t.keys = k;
    /* keys and values of different lengths */
    t.n_values = 2, t.n_keys = 1, t.n_shape = 1, t.shape = &shape;
    expect_bad(buf, make_record(buf, &fv, NULL), 0, "features have 1 keys but 2 values");
    /* sparse without shape */
    t.n_values = 1, t.n_keys = 1, t.n_shape = 0;
    expect_bad(buf, make_record(buf, &fv, NULL), 0, "sparse features (with keys) have no shape");
    /* key beyond the shape */
    t.n_values = 2, t.n_keys = 2, t.n_shape = 1;
    expect_bad(buf, make_record(buf, &fv, NULL), 0, "key 7 is not below feature_dim 5");
    /* duplicate keys whose finite values sum past the float range: refused
     * (convert wrote an infinite float it then could not read) */
    float big[2] = {3e38f, 3e38f};
    uint64_t dup[2] = {2, 2};
    t.values = big;
    t.keys = dup;
    expect_bad(buf, make_record(buf, &fv, NULL), 0,
               "bad.rec: record 1 at byte 0: feature key 2: its duplicate values sum past the float range "
               "(3e+38 + 3e+38)");
    t.values = v;
    t.keys = k;
    /* a label of two values */
    k[1] = 4;
    Aialgs__Data__Float32Tensor lt = AIALGS__DATA__FLOAT32_TENSOR__INIT;
    lt.n_values = 2;
    lt.values = v;
    Aialgs__Data__Value lv = AIALGS__DATA__VALUE__INIT;
    lv.value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
    lv.float32_tensor = &lt;
    expect_bad(buf, make_record(buf, &fv, &lv), 0, "label[\"values\"] must be a numeric tensor of one value");
    /* labelled then unlabelled */
    lt.n_values = 1;
    size_t o = make_record(buf, &fv, &lv);
    o += make_record(buf + o, &fv, NULL);
    expect_bad(buf, o, 0, "record 2 at byte");
    /* no features at all */
    expect_bad(buf, make_record(buf, NULL, &lv), 0, "no features[\"values\"] tensor");
    /* a non-finite value */
    v[0] = INFINITY;
    expect_bad(buf, make_record(buf, &fv, NULL), 0, "value of key 1 is not a finite float");
    v[0] = 1.0f;
    /* records of different shapes */
    o = make_record(buf, &fv, NULL);
    shape = 6;
    o += make_record(buf + o, &fv, NULL);
    expect_bad(buf, o, 0, "shape 6 differs from 5 of the first record");

    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_recordio_decode(ctx, buf, 0, "empty", 0, &r), FACTO_ERR_EMPTY);
    assert_int_equal(facto_recordio_read(ctx, tmp_path("missing.rec"), 0, &r), FACTO_ERR_IO);
    facto_ctx_free(ctx);
}

static void test_gzip_file(void **state)
{
    (void)state;
    const char *p = tmp_path("one.rec.gz");
    gzFile gz = gzopen(p, "wb");
    assert_non_null(gz);
    gzwrite(gz, k_one_row, sizeof k_one_row);
    gzwrite(gz, k_one_row, sizeof k_one_row);
    gzclose(gz);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows_format fmt = FACTO_ROWS_LIBSVM;
    assert_int_equal(facto_rows_detect(ctx, p, &fmt), FACTO_OK);
    assert_int_equal(fmt, FACTO_ROWS_RECORDIO);
    facto_rows *r = NULL;
    assert_int_equal(facto_rows_read(ctx, p, FACTO_ROWS_AUTO, 5, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->keys[1], 3);
    assert_true(r->labels[1] == 4.0f);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

/* QA: a gzip file cut right after a full flush ends at a record boundary;
 * gzread then returns 0 as at a clean end, so the rows read so far used to
 * be taken as the whole file. It must be an error naming the file. */
static void test_gzip_cut_at_record_boundary(void **state)
{
    (void)state;
    const char *p = tmp_path("cut.rec.gz");
    gzFile gz = gzopen(p, "wb");
    assert_non_null(gz);
    gzwrite(gz, k_one_row, sizeof k_one_row);
    assert_int_equal(gzflush(gz, Z_FULL_FLUSH), Z_OK);
    gzclose(gz);
    /* drop the 8-byte trailer and the final empty block: the stream now
     * stops after the flush, exactly after the first record */
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    assert_int_equal(truncate(p, n - 10), 0);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_recordio_read(ctx, p, 0, &r), FACTO_ERR_IO);
    assert_null(r);
    assert_non_null(strstr(facto_errmsg(ctx), "cut.rec.gz: read error at byte"));
    assert_non_null(strstr(facto_errmsg(ctx), "truncated or corrupt"));
    facto_ctx_free(ctx);
}

/* Random byte flips, truncations and insertions: each decode either
 * succeeds with consistent rows or fails with a parse/empty status. */
static void test_mutations(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *a = facto_rows_new(300, 1);
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < i; j++)
            assert_int_equal(facto_rows_push(ctx, a, (uint32_t)(rnd() % 300), rnd_float()), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, a, (float)i), FACTO_OK);
    }
    void *d = NULL;
    size_t n = 0;
    assert_int_equal(facto_recordio_encode(ctx, a, &d, &n), FACTO_OK);
    uint8_t *m = malloc(n + 8);
    int ok = 0, bad = 0;
    for (int it = 0; it < 5000; it++) {
        memcpy(m, d, n);
        size_t len = n;
        int kind = (int)(rnd() % 3);
        if (kind == 0) {
            for (int f = 0; f < 1 + (int)(rnd() % 4); f++)
                m[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
        } else if (kind == 1) {
            len = rnd() % n;
        } else {
            size_t at = rnd() % n;
            memmove(m + at + 4, m + at, n - at);
            for (int k = 0; k < 4; k++)
                m[at + k] = (uint8_t)rnd();
            len = n + 4;
        }
        facto_rows *r = NULL;
        facto_status st = facto_recordio_decode(ctx, m, len, "fuzz", 0, &r);
        if (st == FACTO_OK) {
            ok++;
            assert_non_null(r);
            assert_int_equal(r->row_ptr[r->n_rows], r->nnz);
            for (int64_t k = 0; k < r->nnz; k++)
                assert_true(r->keys[k] < r->feature_dim);
            facto_rows_free(r);
        } else {
            bad++;
            assert_true(st == FACTO_ERR_PARSE || st == FACTO_ERR_EMPTY);
            assert_null(r);
        }
    }
    assert_true(ok > 0 && bad > 0);
    free(m);
    facto_buffer_free(d);
    facto_rows_free(a);
    facto_ctx_free(ctx);
}

/* Found by tests/fuzz/fuzz_recordio: rows whose dimension the data never
 * gave (label-only libsvm lines, or records with no features, read with
 * feature_dim 0) were encoded with shape [0], which the decoder refuses, so
 * `facto convert` wrote recordIO it could not read. They are written as
 * all-zero records without a shape and read back to the same rows, and the
 * bytes of write -> read -> write are identical. */
/* Found by fuzz_recordio: a multi-part record whose first part is empty
 * (cflag 1, length 0) then a cut header wrote the joining magic through a
 * NULL buffer; now a parse error naming the cut. */
static void test_empty_first_part(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0x0a, 0x23, 0xd7, 0xce, 0x00, 0x00, 0x00, 0x20, 0x33, 0x00, 0x03, 0x1a, 0xff};
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *rows = NULL;
    assert_int_equal(facto_recordio_decode(ctx, bytes, sizeof bytes, "cut.rec", 0, &rows), FACTO_ERR_PARSE);
    assert_null(rows);
    assert_non_null(strstr(facto_errmsg(ctx), "cut.rec"));
    /* the same empty first part closed by an empty last part is one empty record */
    const unsigned char two[] = {0x0a, 0x23, 0xd7, 0xce, 0x00, 0x00, 0x00, 0x20,
                                 0x0a, 0x23, 0xd7, 0xce, 0x00, 0x00, 0x00, 0x60};
    facto_status st = facto_recordio_decode(ctx, two, sizeof two, "two.rec", 0, &rows);
    assert_true(st == FACTO_ERR_PARSE || st == FACTO_ERR_EMPTY || st == FACTO_OK);
    facto_rows_free(rows);
    facto_ctx_free(ctx);
}

static void test_dimensionless_rows_round_trip(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *svm = tmp_path("labels_only.svm");
    FILE *f = fopen(svm, "w");
    assert_non_null(f);
    fputs("1\n2.5\n-1 \n", f);
    fclose(f);
    facto_rows *a = NULL;
    assert_int_equal(facto_libsvm_read(ctx, svm, 0, 0, &a), FACTO_OK);
    assert_int_equal(facto_rows_count(a), 3);
    assert_int_equal(facto_rows_nnz(a), 0);
    assert_int_equal(facto_rows_dim(a), 0);
    void *d1 = NULL, *d2 = NULL;
    size_t n1 = 0, n2 = 0;
    assert_int_equal(facto_recordio_encode(ctx, a, &d1, &n1), FACTO_OK);
    facto_rows *b = NULL;
    if (facto_recordio_decode(ctx, d1, n1, "re-encoded", 0, &b) != FACTO_OK)
        fail_msg("decode: %s", facto_errmsg(ctx));
    assert_int_equal(facto_rows_count(b), 3);
    assert_int_equal(facto_rows_nnz(b), 0);
    assert_int_equal(facto_rows_dim(b), 0);
    const float *la, *lb;
    facto_rows_csr(a, NULL, NULL, NULL, &la);
    facto_rows_csr(b, NULL, NULL, NULL, &lb);
    assert_non_null(lb);
    assert_memory_equal(la, lb, 3 * sizeof *la);
    assert_int_equal(facto_recordio_encode(ctx, b, &d2, &n2), FACTO_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(d1, d2, n1);
    /* the same through files, as facto convert does */
    const char *rec = tmp_path("labels_only.rec");
    assert_int_equal(facto_recordio_write(ctx, a, rec), FACTO_OK);
    facto_rows *c = NULL;
    if (facto_recordio_read(ctx, rec, 0, &c) != FACTO_OK)
        fail_msg("read: %s", facto_errmsg(ctx));
    assert_int_equal(facto_rows_count(c), 3);
    /* given a dimension, the records are all-zero rows of that dimension */
    facto_rows *e = NULL;
    assert_int_equal(facto_recordio_read(ctx, rec, 7, &e), FACTO_OK);
    assert_int_equal(facto_rows_dim(e), 7);
    assert_int_equal(facto_rows_nnz(e), 0);
    facto_rows_free(e);
    facto_rows_free(c);
    facto_rows_free(b);
    facto_rows_free(a);
    facto_buffer_free(d1);
    facto_buffer_free(d2);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_dense_and_other_types),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_gzip_file),
        cmocka_unit_test(test_gzip_cut_at_record_boundary),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_dimensionless_rows_round_trip),
        cmocka_unit_test(test_empty_first_part),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
