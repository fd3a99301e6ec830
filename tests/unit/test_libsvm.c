/*
 * test_libsvm.c — libsvm / libFM text: a hand-written file read into the rows
 * it spells out (unsorted and duplicate keys, comments, CRLF, qid, label-only
 * rows), each malformed line giving FACTO_ERR_PARSE with PATH:LINE, and
 * write -> read round trips that must give bit-identical floats (random rows
 * from a fixed seed, all-zero rows, float labels, 1-based keys, gzip input).
 * Temporary files live in a fresh mkdtemp folder. Runs in well under a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "facto.h"
#include "data/rows.h"
#include "unit/testutil.h"

static int setup_dir(void **state)
{
    (void)state;
    return fct_test_dir_make("fct_libsvm");
}

static int teardown_dir(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static const char *tmp_path(const char *name) { return fct_test_path(name); }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_read_hand_written(void **state)
{
    (void)state;
    const char *p = tmp_path("a.libsvm");
    write_file(p, "# a comment line\n"
                  "4 7:1 2:0.5 7:2\r\n"
                  "\n"
                  "-1.25\n"
                  "3 qid:9 0:1e-3   5:-2 # trailing comment\n"
                  "\t2.5\t1:1\n");
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_libsvm_read(ctx, p, 0, 0, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 4);
    assert_int_equal(r->nnz, 5);
    assert_int_equal(r->feature_dim, 8); /* largest key 7, plus 1 */
    /* row 0: keys 2, 7 (1 + 2 summed) */
    assert_int_equal(r->row_ptr[1], 2);
    assert_int_equal(r->keys[0], 2);
    assert_true(r->values[0] == 0.5f);
    assert_int_equal(r->keys[1], 7);
    assert_true(r->values[1] == 3.0f);
    assert_true(r->labels[0] == 4.0f);
    /* row 1: empty, label -1.25 */
    assert_int_equal(r->row_ptr[2], 2);
    assert_true(r->labels[1] == -1.25f);
    /* row 2: qid ignored */
    assert_int_equal(r->row_ptr[3], 4);
    assert_int_equal(r->keys[2], 0);
    assert_true(r->values[2] == 1e-3f);
    assert_int_equal(r->keys[3], 5);
    assert_true(r->values[3] == -2.0f);
    /* row 3 */
    assert_int_equal(r->keys[4], 1);
    assert_true(r->labels[3] == 2.5f);
    facto_rows_free(r);

    /* 1-based reading shifts keys down by one */
    write_file(p, "1 1:1 3:2\n");
    assert_int_equal(facto_libsvm_read(ctx, p, 0, 1, &r), FACTO_OK);
    assert_int_equal(r->keys[0], 0);
    assert_int_equal(r->keys[1], 2);
    assert_int_equal(r->feature_dim, 3);
    facto_rows_free(r);

    /* a given feature_dim is kept even when the data use fewer keys */
    assert_int_equal(facto_libsvm_read(ctx, p, 100, 0, &r), FACTO_OK);
    assert_int_equal(r->feature_dim, 100);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

/* Each bad file must fail with `code` and a message containing `expect`. */
static void expect_error(const char *text, uint64_t dim, int base, facto_status code, const char *expect)
{
    const char *p = tmp_path("bad.libsvm");
    write_file(p, text);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = (facto_rows *)1;
    facto_status st = facto_libsvm_read(ctx, p, dim, base, &r);
    if (st != code || !strstr(facto_errmsg(ctx), expect))
        fail_msg("input %s: got status %d '%s', wanted %d containing '%s'", text, st, facto_errmsg(ctx), code,
                 expect);
    assert_null(r);
    facto_ctx_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    char want[200];
    snprintf(want, sizeof want, "%s:2: label 'abc'", tmp_path("bad.libsvm"));
    expect_error("1 0:1\nabc 1:2\n", 0, 0, FACTO_ERR_PARSE, want);
    expect_error("1 0:1\n\n2 3\n", 0, 0, FACTO_ERR_PARSE, "bad.libsvm:3: '3' is not key:value");
    expect_error("1 x:1\n", 0, 0, FACTO_ERR_PARSE, ":1: key 'x' is not an unsigned integer");
    expect_error("1 -3:1\n", 0, 0, FACTO_ERR_PARSE, ":1: key '-3'");
    expect_error("1 2:abc\n", 0, 0, FACTO_ERR_PARSE, ":1: value 'abc' of key 2");
    expect_error("1 2:nan\n", 0, 0, FACTO_ERR_PARSE, "is not a finite number");
    expect_error("1 2:1e99\n", 0, 0, FACTO_ERR_PARSE, "is not a finite number");
    expect_error("1 2:\n", 0, 0, FACTO_ERR_PARSE, "value '' of key 2");
    expect_error("1 4294967296:1\n", 0, 0, FACTO_ERR_PARSE, "key 4294967296 is not below 2^32");
    expect_error("1 0:1\n1 10:1\n", 10, 0, FACTO_ERR_PARSE, ":2: key 10 is not below feature_dim 10");
    expect_error("1 0:1\n", 0, 1, FACTO_ERR_PARSE, ":1: key 0 in a file read as 1-based");
    /* duplicate keys: summed, but never past the float range (convert wrote "0:inf") */
    expect_error("1 0:1\n2 3:3e38 1:1 3:3e38\n", 0, 0, FACTO_ERR_PARSE,
                 "bad.libsvm:2: feature key 3: its duplicate values sum past the float range (3e+38 + 3e+38)");
    expect_error("", 0, 0, FACTO_ERR_EMPTY, "no rows");
    expect_error("# only a comment\n\n", 0, 0, FACTO_ERR_EMPTY, "no rows");

    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_libsvm_read(ctx, tmp_path("missing.libsvm"), 0, 0, &r), FACTO_ERR_IO);
    assert_non_null(strstr(facto_errmsg(ctx), "missing.libsvm"));
    facto_ctx_free(ctx);
}

#define rnd fct_test_rnd
#define rnd_float fct_test_rnd_float

static facto_rows *random_rows(int64_t n, uint32_t dim, int with_labels)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(dim, with_labels);
    for (int64_t i = 0; i < n; i++) {
        int len = (int)(rnd() % 9); /* 0 = an all-zero row */
        for (int j = 0; j < len; j++)
            assert_int_equal(facto_rows_push(ctx, r, rnd() % dim, rnd_float()), FACTO_OK);
        float label = (i % 3 == 0) ? (float)(rnd() % 5 + 1) : rnd_float();
        assert_int_equal(facto_rows_finish_row(ctx, r, label), FACTO_OK);
    }
    facto_ctx_free(ctx);
    return r;
}

static void assert_rows_identical(const facto_rows *a, const facto_rows *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->nnz, b->nnz);
    assert_memory_equal(a->row_ptr, b->row_ptr, (size_t)(a->n_rows + 1) * sizeof(int64_t));
    if (a->nnz) {
        assert_memory_equal(a->keys, b->keys, (size_t)a->nnz * sizeof(uint32_t));
        assert_memory_equal(a->values, b->values, (size_t)a->nnz * sizeof(float));
    }
    assert_non_null(b->labels);
    if (a->labels)
        assert_memory_equal(a->labels, b->labels, (size_t)a->n_rows * sizeof(float));
}

static void test_round_trip(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *a = random_rows(2000, 100000, 1);
    const char *p = tmp_path("rt.libsvm");
    for (int base = 0; base <= 1; base++) {
        assert_int_equal(facto_libsvm_write(ctx, a, p, base), FACTO_OK);
        facto_rows *b = NULL;
        assert_int_equal(facto_libsvm_read(ctx, p, 100000, base, &b), FACTO_OK);
        assert_rows_identical(a, b);
        assert_int_equal(b->feature_dim, 100000);
        facto_rows_free(b);
    }
    /* through the format dispatch, with auto-detection */
    assert_int_equal(facto_rows_write(ctx, a, p, FACTO_ROWS_LIBSVM), FACTO_OK);
    facto_rows_format fmt = FACTO_ROWS_RECORDIO;
    assert_int_equal(facto_rows_detect(ctx, p, &fmt), FACTO_OK);
    assert_int_equal(fmt, FACTO_ROWS_LIBSVM);
    facto_rows *b = NULL;
    assert_int_equal(facto_rows_read(ctx, p, FACTO_ROWS_AUTO, 0, &b), FACTO_OK);
    assert_rows_identical(a, b);
    assert_true(b->feature_dim <= 100000);
    assert_int_equal(b->feature_dim, facto_rows_dim(b));
    facto_rows_free(b);
    facto_rows_free(a);

    /* unlabelled rows are written with label 0 */
    a = random_rows(10, 50, 0);
    assert_int_equal(facto_libsvm_write(ctx, a, p, 0), FACTO_OK);
    assert_int_equal(facto_libsvm_read(ctx, p, 50, 0, &b), FACTO_OK);
    for (int64_t i = 0; i < b->n_rows; i++)
        assert_true(b->labels[i] == 0.0f);
    facto_rows_free(b);
    facto_rows_free(a);
    facto_ctx_free(ctx);
}

/* Values in every decimal shape the reader's fast path takes (and a few it
 * leaves to strtof) must give exactly strtof's bits. */
static void test_decimal_exactness(void **state)
{
    (void)state;
    const char *p = tmp_path("dec.libsvm");
    enum { N = 20000 };
    static char text[N][40];
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 0; i < N; i++) {
        int intd = (int)(rnd() % 8), fracd = (int)(rnd() % 12), k = 0;
        char *t = text[i];
        if (rnd() % 2)
            t[k++] = '-';
        if (rnd() % 4 == 0)
            t[k++] = '0'; /* leading zero */
        for (int d = 0; d < intd; d++)
            t[k++] = (char)('0' + rnd() % 10);
        if (fracd || intd == 0) {
            if (intd == 0 && k == 0)
                t[k++] = '0';
            t[k++] = '.';
            for (int d = 0; d < (fracd ? fracd : 1); d++)
                t[k++] = (char)('0' + rnd() % 10);
        }
        t[k] = '\0';
        fprintf(f, "%s 0:%s\n", t, t);
    }
    fclose(f);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_libsvm_read(ctx, p, 0, 0, &r), FACTO_OK);
    assert_int_equal(r->n_rows, N);
    int64_t j = 0;
    for (int i = 0; i < N; i++) {
        float want = strtof(text[i], NULL);
        if (memcmp(&want, &r->labels[i], 4) != 0)
            fail_msg("'%s' read as %.9g, strtof gives %.9g", text[i], (double)r->labels[i], (double)want);
        if (want != 0.0f || r->row_ptr[i + 1] > r->row_ptr[i]) {
            assert_memory_equal(&want, &r->values[j], 4);
            j++;
        }
    }
    /* written back and read again: the same bits */
    const char *p2 = tmp_path("dec2.libsvm");
    assert_int_equal(facto_libsvm_write(ctx, r, p2, 0), FACTO_OK);
    facto_rows *b = NULL;
    assert_int_equal(facto_libsvm_read(ctx, p2, 0, 0, &b), FACTO_OK);
    assert_rows_identical(r, b);
    facto_rows_free(b);
    facto_rows_free(r);

    /* the text written for a few floats: short decimals stay short, the
     * rest get 9 digits */
    r = facto_rows_new(0, 1);
    const float v[7] = {6.3f, -0.001f, 1e-10f, 3.40282347e+38f, -0.0f, 16777216.0f, 1.0f / 3.0f};
    for (uint32_t k = 0; k < 7; k++)
        assert_int_equal(facto_rows_push(ctx, r, k, v[k]), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, r, 0.1f), FACTO_OK);
    assert_int_equal(facto_libsvm_write(ctx, r, p2, 0), FACTO_OK);
    char line[256] = "";
    FILE *g = fopen(p2, "r");
    assert_non_null(g);
    assert_non_null(fgets(line, sizeof line, g));
    fclose(g);
    assert_string_equal(line, "0.1 0:6.3 1:-0.001 2:0.0000000001 3:3.40282347e+38 4:-0 5:16777216 6:0.333333343\n");
    assert_int_equal(facto_libsvm_read(ctx, p2, 0, 0, &b), FACTO_OK);
    assert_rows_identical(r, b);
    facto_rows_free(b);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

static void test_gzip(void **state)
{
    (void)state;
    const char *p = tmp_path("z.libsvm.gz");
    gzFile gz = gzopen(p, "wb");
    assert_non_null(gz);
    gzputs(gz, "5 3:1 1:2\n0\n");
    gzclose(gz);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_rows_read(ctx, p, FACTO_ROWS_AUTO, 0, &r), FACTO_OK);
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->keys[0], 1);
    assert_true(r->values[0] == 2.0f);
    assert_int_equal(r->keys[1], 3);
    assert_true(r->labels[0] == 5.0f);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

/* QA: a NUL byte ends no line early (the rest used to be dropped silently);
 * binary bytes in a message are escaped. */
static void test_nul_and_binary(void **state)
{
    (void)state;
    const char *p = tmp_path("nul.libsvm");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite("1 0:1\n2 0:1\0junk\n", 1, 17, f);
    fclose(f);
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = NULL;
    assert_int_equal(facto_libsvm_read(ctx, p, 0, 0, &r), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "nul.libsvm:2: a NUL byte at column 6"));
    assert_null(r);
    facto_ctx_free(ctx);
    expect_error("\x01\xff 0:1\n", 0, 0, FACTO_ERR_PARSE, ":1: label '\\x01\\xff' is not a finite number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_hand_written),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_decimal_exactness),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_nul_and_binary),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
