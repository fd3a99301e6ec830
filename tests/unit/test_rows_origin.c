/*
 * test_rows_origin.c — facto_rows_origin, where each row read from a file
 * came from: libsvm line numbers past comment, blank and CRLF lines (plain
 * and gzip), text so full of skipped lines that the origin turns dense,
 * recordIO record numbers and header offsets checked against the offsets
 * found by walking the RecordIO framing here, steps past 2^32 bytes, the
 * 1024-row anchors, the formatted prefix, and the unknown cases (NULL
 * origin, a row out of range, a read that fails). Runs in well under a
 * second.
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

#include "data/rows.h"
#include "unit/testutil.h"

static int setup_dir(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_rows_origin");
}

static int teardown_dir(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void read_origin(facto_ctx *ctx, const char *path, facto_rows_format fmt, facto_rows **rows,
                        facto_rows_origin **o)
{
    if (facto_rows_read_origin(ctx, path, fmt, 0, rows, o) != FACTO_OK)
        fail_msg("%s", facto_errmsg(ctx));
    assert_non_null(*o);
}

static void test_libsvm_lines(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    /* rows on lines 4, 5, 9, 10, 12 */
    const char *text = "# header\n\n  \t \n1 0:1\n2 1:1 # trailing\r\n# c\n\n\r\n3 2:1\n4\n#\n5 0:1 1:1\n\n# end\n";
    const int64_t want[] = {4, 5, 9, 10, 12};
    const char *path = fct_test_path("a.svm");
    write_text(path, text);
    for (int gz = 0; gz < 2; gz++) {
        const char *p = path;
        if (gz) {
            p = fct_test_path("a.svm.gz");
            gzFile g = gzopen(p, "wb");
            assert_non_null(g);
            assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), (int)strlen(text));
            assert_int_equal(gzclose(g), Z_OK);
        }
        facto_rows *rows = NULL;
        facto_rows_origin *o = NULL;
        read_origin(ctx, p, FACTO_ROWS_AUTO, &rows, &o);
        assert_int_equal(rows->n_rows, 5);
        for (int64_t r = 0; r < 5; r++)
            assert_int_equal(facto_rows_origin_pos(o, r), want[r]);
        char buf[512], expect[512];
        size_t n = facto_rows_origin_where(o, 2, buf, sizeof buf);
        snprintf(expect, sizeof expect, "%s:9", p);
        assert_string_equal(buf, expect);
        assert_int_equal(n, strlen(expect));
        /* snprintf's contract: the full length, the text cut to fit */
        char small[4];
        assert_int_equal(facto_rows_origin_where(o, 2, small, sizeof small), strlen(expect));
        assert_int_equal(strlen(small), 3);
        /* unknown rows */
        assert_int_equal(facto_rows_origin_pos(o, 5), -1);
        assert_int_equal(facto_rows_origin_pos(o, -1), -1);
        assert_int_equal(facto_rows_origin_where(o, 5, buf, sizeof buf), 0);
        assert_string_equal(buf, "");
        facto_rows_origin_free(o);
        facto_rows_free(rows);
    }
    char buf[8] = "x";
    assert_int_equal(facto_rows_origin_where(NULL, 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(facto_rows_origin_pos(NULL, 0), -1);
    facto_rows_origin_free(NULL);
    facto_ctx_free(ctx);
}

/* Text that skips lines before most rows: sparse anchors would cost more
 * than 4 bytes a row, so the origin turns dense halfway; every line stays right. */
static void test_libsvm_dense(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("dense.svm");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    enum { N = 9000 };
    int64_t *want = malloc(N * sizeof *want);
    int64_t line = 0;
    fct_test_rng = 12345;
    for (int64_t r = 0; r < N; r++) {
        /* plain rows first, then 0-3 skipped lines (sometimes many) before each */
        int skip = r < 2000 ? 0 : (int)(fct_test_rnd() % 4);
        if (r % 997 == 0)
            skip += 300;
        for (int s = 0; s < skip; s++) {
            fputs(s % 2 ? "# comment\n" : "\n", f);
            line++;
        }
        fprintf(f, "%lld %u:1\n", (long long)(r % 5), fct_test_rnd() % 50);
        want[r] = ++line;
    }
    assert_int_equal(fclose(f), 0);
    facto_rows *rows = NULL;
    facto_rows_origin *o = NULL;
    read_origin(ctx, path, FACTO_ROWS_LIBSVM, &rows, &o);
    assert_int_equal(rows->n_rows, N);
    for (int64_t r = 0; r < N; r++)
        if (facto_rows_origin_pos(o, r) != want[r])
            fail_msg("row %lld: line %lld, want %lld", (long long)r, (long long)facto_rows_origin_pos(o, r),
                     (long long)want[r]);
    facto_rows_origin_free(o);
    facto_rows_free(rows);
    free(want);
    facto_ctx_free(ctx);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* recordIO: record r + 1 at the offset of its header, found here by walking the framing. */
static void test_recordio_offsets(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    enum { N = 2600 }; /* past two 1024-row anchors */
    facto_rows *w = facto_rows_new(100000, 1);
    fct_test_rng = 777;
    for (int64_t r = 0; r < N; r++) {
        int len = (int)(fct_test_rnd() % 6); /* records of different sizes, some empty */
        for (int j = 0; j < len; j++)
            assert_int_equal(facto_rows_push(ctx, w, fct_test_rnd() % 100000, 1.5f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, w, (float)(r % 3)), FACTO_OK);
    }
    const char *path = fct_test_path("o.rec");
    assert_int_equal(facto_rows_write(ctx, w, path, FACTO_ROWS_RECORDIO), FACTO_OK);
    size_t size = 0;
    unsigned char *bytes = fct_test_slurp(path, &size);
    facto_rows *rows = NULL;
    facto_rows_origin *o = NULL;
    read_origin(ctx, path, FACTO_ROWS_AUTO, &rows, &o);
    assert_int_equal(rows->n_rows, N);
    size_t at = 0;
    for (int64_t r = 0; r < N; r++) {
        assert_true(at + 8 <= size);
        assert_int_equal(le32(bytes + at), FACTO_RECORDIO_MAGIC);
        assert_int_equal(facto_rows_origin_pos(o, r), (int64_t)at);
        at += 8 + ((le32(bytes + at + 4) & ((1u << 29) - 1)) + 3) / 4 * 4;
    }
    assert_int_equal(at, size);
    char buf[512], expect[512];
    int64_t r = 2049;
    facto_rows_origin_where(o, r, buf, sizeof buf);
    snprintf(expect, sizeof expect, "%s: record 2050 at byte %lld", path, (long long)facto_rows_origin_pos(o, r));
    assert_string_equal(buf, expect);
    facto_rows_origin_where(o, 0, buf, sizeof buf);
    snprintf(expect, sizeof expect, "%s: record 1 at byte 0", path);
    assert_string_equal(buf, expect);
    facto_rows_origin_free(o);
    facto_rows_free(rows);
    facto_rows_free(w);
    free(bytes);
    facto_ctx_free(ctx);
}

/* Steps past 2^32 bytes (a record of several GiB) take an anchor, not a wrapped step. */
static void test_huge_steps(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows_origin *o = fct_rows_origin_new("big.rec", FACTO_ORIGIN_RECORDS);
    assert_non_null(o);
    enum { N = 3000 };
    int64_t *want = malloc(N * sizeof *want), pos = 0;
    fct_test_rng = 99;
    for (int64_t r = 0; r < N; r++) {
        want[r] = pos;
        assert_int_equal(fct_rows_origin_push(ctx, o, pos), FACTO_OK);
        pos += r % 700 == 5 ? ((int64_t)1 << 33) + 12 : 8 + 4 * (int64_t)(fct_test_rnd() % 50);
    }
    for (int64_t r = 0; r < N; r++)
        assert_int_equal(facto_rows_origin_pos(o, r), want[r]);
    /* positions must not go back */
    assert_int_equal(fct_rows_origin_push(ctx, o, 3), FACTO_ERR_INTERNAL);
    facto_rows_origin_free(o);
    free(want);
    facto_ctx_free(ctx);
}

/* A failed read gives no origin and no rows. */
static void test_failed_read(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("bad.svm");
    write_text(path, "1 0:1\n\n2 x:1\n");
    facto_rows *rows = (facto_rows *)1;
    facto_rows_origin *o = (facto_rows_origin *)1;
    assert_int_equal(facto_rows_read_origin(ctx, path, FACTO_ROWS_LIBSVM, 0, &rows, &o), FACTO_ERR_PARSE);
    assert_null(rows);
    assert_null(o);
    assert_non_null(strstr(facto_errmsg(ctx), "bad.svm:3: key 'x' is not an unsigned integer"));
    /* without an origin asked for, the plain reader */
    assert_int_equal(facto_rows_read_origin(ctx, fct_test_path("none.svm"), FACTO_ROWS_LIBSVM, 0, &rows, NULL),
                     FACTO_ERR_IO);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libsvm_lines),     cmocka_unit_test(test_libsvm_dense),
        cmocka_unit_test(test_recordio_offsets), cmocka_unit_test(test_huge_steps),
        cmocka_unit_test(test_failed_read),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
