/*
 * test_readers.c — facto_dataset_read on good and bad input: every format
 * (ML-100K tab, ML-1M "::", ML CSV, generic delimited), gzip copies made here
 * with zlib, CRLF / BOM / comments / blank lines, header and delimiter
 * detection, columns by name and position, duplicates, and every error case
 * with its status and "PATH:LINE:" message. Implicit data: summed weights,
 * the threshold, a missing weight column and bad weights. Expected values
 * come from the hand-written fixtures (tests/data/README.md). With
 * FACTO_DATA_HOME set, ml-100k's u.data is read and checked against the
 * counts in its README, and, as implicit data with threshold 4, against
 * counts made here by reading the file apart from the library.
 * Every file is tiny except u.data (2 MB); the whole run takes well under 1 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "facto.h"
#include "data/dataset.h"

#include <sys/stat.h>
#include "testutil.h"

/* ---- temp files ------------------------------------------------------- */

static char g_dir[256];
static char *g_files[256];
static int g_n_files;

static int group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/fct_readers_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < g_n_files; i++) {
        unlink(g_files[i]);
        free(g_files[i]);
    }
    rmdir(g_dir);
    return 0;
}

/* Path of `name` in the temp folder; remembered for removal. Static storage
 * per call slot: the returned string lives until teardown. */
static const char *tmp_path(const char *name)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    for (int i = 0; i < g_n_files; i++)
        if (strcmp(g_files[i], buf) == 0)
            return g_files[i];
    assert_true(g_n_files < 256);
    g_files[g_n_files] = strdup(buf);
    assert_non_null(g_files[g_n_files]);
    return g_files[g_n_files++];
}

static const char *write_bytes(const char *name, const char *data, size_t n)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *write_text(const char *name, const char *text) { return write_bytes(name, text, strlen(text)); }

static const char *write_gz(const char *name, const char *data, size_t n)
{
    const char *path = tmp_path(name);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
    return path;
}

/* Bytes of a whole file, NUL-terminated; caller frees. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    size_t got;
    while ((got = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    b[len] = '\0';
    *n = len;
    return b;
}

static const char *fixture(const char *name)
{
    static char buf[4][1024];
    static int slot;
    const char *src = getenv("FACTO_SOURCE_DIR");
    char *b = buf[slot++ % 4];
    snprintf(b, sizeof buf[0], "%s/tests/data/%s", src && *src ? src : ".", name);
    return b;
}

/* ---- reading helpers ------------------------------------------------------ */

static facto_dataset *read_ok(const char *path, const facto_read_options *o, int64_t *dups)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = NULL;
    facto_status st = facto_dataset_read(ctx, path, o, &ds, dups);
    if (st != FACTO_OK)
        fail_msg("reading %s: %s", path, facto_errmsg(ctx));
    assert_non_null(ds);
    assert_string_equal(facto_errmsg(ctx), "");
    facto_ctx_free(ctx);
    return ds;
}

/* Read must fail with `code`; the message must start with `prefix` and
 * contain `part` (either may be NULL). */
static void read_fails(const char *path, const facto_read_options *o, facto_status code, const char *prefix,
                       const char *part)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = (facto_dataset *)(uintptr_t)1;
    facto_status st = facto_dataset_read(ctx, path, o, &ds, NULL);
    const char *msg = facto_errmsg(ctx);
    if (st != code)
        fail_msg("%s: expected status %d, got %d (%s)", path, (int)code, (int)st, msg);
    assert_null(ds);
    assert_int_equal(facto_errcode(ctx), code);
    if (prefix && strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", msg, prefix);
    if (part && !strstr(msg, part))
        fail_msg("message '%s' does not contain '%s'", msg, part);
    facto_ctx_free(ctx);
}

/* "PATH:LINE: " of a temp file. */
static const char *at(const char *path, int line)
{
    static char buf[4][600];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, sizeof buf[0], "%s:%d: ", path, line);
    return b;
}

/* Rating of (user, item) by external ids; 0 when absent. */
static int lookup(const facto_dataset *ds, const char *user, const char *item, float *r, int64_t *t)
{
    int32_t u = facto_idmap_find(facto_dataset_users(ds), user);
    int32_t i = facto_idmap_find(facto_dataset_items(ds), item);
    if (u < 0 || i < 0)
        return 0;
    const int64_t *rp, *ts;
    const int32_t *it;
    const float *rt;
    facto_dataset_csr(ds, &rp, &it, &rt, &ts);
    for (int64_t k = rp[u]; k < rp[u + 1]; k++)
        if (it[k] == i) {
            if (r)
                *r = rt[k];
            if (t)
                *t = ts ? ts[k] : -1;
            return 1;
        }
    return 0;
}

static float rating_of(const facto_dataset *ds, const char *user, const char *item)
{
    float r = NAN;
    if (!lookup(ds, user, item, &r, NULL))
        fail_msg("no rating for (%s, %s)", user, item);
    return r;
}

/* The five pairs of the fixtures (tests/data/README.md). */
static void check_fixture(const facto_dataset *ds, const float want[5], int with_time)
{
    static const char *const users[5] = {"1", "1", "2", "3", "2"};
    static const char *const items[5] = {"10", "20", "10", "30", "20"};
    assert_int_equal(facto_dataset_n_ratings(ds), 5);
    assert_int_equal(facto_dataset_n_users(ds), 3);
    assert_int_equal(facto_dataset_n_items(ds), 3);
    for (int k = 0; k < 5; k++) {
        float r;
        int64_t t;
        assert_true(lookup(ds, users[k], items[k], &r, &t));
        assert_true(r == want[k]);
        assert_int_equal(t, with_time ? 881250949 + k : -1);
    }
    assert_false(lookup(ds, "3", "10", NULL, NULL));
    /* CSR invariants: items ascending within each user. */
    const int64_t *rp;
    const int32_t *it;
    facto_dataset_csr(ds, &rp, &it, NULL, NULL);
    assert_int_equal(rp[0], 0);
    for (int32_t u = 0; u < facto_dataset_n_users(ds); u++)
        for (int64_t k = rp[u] + 1; k < rp[u + 1]; k++)
            assert_true(it[k - 1] < it[k]);
    float lo, hi, wlo = want[0], whi = want[0];
    for (int k = 1; k < 5; k++) {
        wlo = fminf(wlo, want[k]);
        whi = fmaxf(whi, want[k]);
    }
    facto_dataset_rating_range(ds, &lo, &hi);
    assert_true(lo == wlo && hi == whi);
}

static const float k_whole[5] = {5, 3, 4, 1, 2};
static const float k_half[5] = {5.0f, 3.5f, 4.0f, 0.5f, 2.5f};

static facto_read_options opts_format(facto_format f)
{
    facto_read_options o = facto_read_options_default();
    o.format = f;
    return o;
}

/* ---- formats ---------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    facto_read_options o = facto_read_options_default();
    assert_int_equal(o.format, FACTO_FORMAT_AUTO);
    assert_int_equal(o.delimiter, 0);
    assert_int_equal(o.header, -1);
    assert_null(o.columns);
    assert_int_equal(o.implicit, 0);
    assert_true(o.implicit_threshold == 0.0);
}

static void test_ml100k(void **state)
{
    (void)state;
    facto_read_options o = opts_format(FACTO_FORMAT_ML100K);
    int64_t dups = -1;
    facto_dataset *ds = read_ok(fixture("ratings_ml100k.tsv"), &o, &dups);
    check_fixture(ds, k_whole, 1);
    assert_int_equal(dups, 0);
    facto_dataset_free(ds);
    ds = read_ok(fixture("ratings_ml100k.tsv"), NULL, NULL); /* auto */
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
}

static void test_ml1m(void **state)
{
    (void)state;
    facto_read_options o = opts_format(FACTO_FORMAT_ML1M);
    facto_dataset *ds = read_ok(fixture("ratings_ml1m.dat"), &o, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    ds = read_ok(fixture("ratings_ml1m.dat"), NULL, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    /* String ids holding single colons stay whole. */
    const char *p = write_text("colon.dat", "a:b::x:1::4.5::7\n");
    ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, "a:b", "x:1") == 4.5f);
    facto_dataset_free(ds);
}

static void test_ml_csv(void **state)
{
    (void)state;
    facto_read_options o = opts_format(FACTO_FORMAT_ML_CSV);
    facto_dataset *ds = read_ok(fixture("ratings_ml.csv"), &o, NULL);
    check_fixture(ds, k_half, 1);
    facto_dataset_free(ds);
    ds = read_ok(fixture("ratings_ml.csv"), NULL, NULL);
    check_fixture(ds, k_half, 1);
    facto_dataset_free(ds);
    /* ML CSV finds its columns by name, in any order, extra columns ignored. */
    const char *p = write_text("reordered.csv", "timestamp,rating,extra,movieId,userId\n"
                                                "881250949,5.0,x,10,1\n881250950,3.5,y,20,1\n"
                                                "881250951,4.0,z,10,2\n881250952,0.5,,30,3\n"
                                                "881250953,2.5,w,20,2\n");
    ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_half, 1);
    facto_dataset_free(ds);
    /* Without a timestamp column: no timestamps. */
    p = write_text("notime.csv", "userId,movieId,rating\n1,10,5.0\n1,20,3.5\n2,10,4.0\n3,30,0.5\n2,20,2.5\n");
    ds = read_ok(p, NULL, NULL);
    check_fixture(ds, k_half, 0);
    facto_dataset_free(ds);
    /* ML CSV without its header is an error on line 1. */
    p = write_text("nohead.csv", "1,10,5.0,881250949\n");
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 1), "userId");
    p = write_text("badhead.csv", "user,movieId,rating,timestamp\n1,10,5.0,881250949\n");
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 1), "'userId'");
}

static void test_delimited(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        char delim;
    } cases[] = {
        {"comma.txt", "1,10,5\n1,20,3\n2,10,4\n3,30,1\n2,20,2\n", ','},
        {"semi.txt", "1;10;5\n1;20;3\n2;10;4\n3;30;1\n2;20;2\n", ';'},
        {"space.txt", "1 10 5\n 1  20   3\n2 10 4 \n3\t30 1\n2 20 2\n", ' '},
        {"tab.txt", "1\t10\t5\n1\t20\t3\n2\t10\t4\n3\t30\t1\n2\t20\t2\n", '\t'},
        {"spaced_comma.txt", "1 , 10 , 5\n1,20, 3 \n 2,10,4\n3,30,1\n2,20,2\n", ','},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *p = write_text(cases[c].name, cases[c].text);
        facto_dataset *ds = read_ok(p, NULL, NULL); /* delimiter detected */
        check_fixture(ds, k_whole, 0);
        facto_dataset_free(ds);
        facto_read_options o = opts_format(FACTO_FORMAT_DELIMITED);
        o.delimiter = cases[c].delim;
        ds = read_ok(p, &o, NULL);
        check_fixture(ds, k_whole, 0);
        facto_dataset_free(ds);
    }
    /* Ids with spaces in a comma file: comma wins over space. */
    const char *p = write_text("names.csv", "Ann Lee,The Big Movie,4.5\nBo,Up,3\n");
    facto_dataset *ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, "Ann Lee", "The Big Movie") == 4.5f);
    assert_true(rating_of(ds, "Bo", "Up") == 3.0f);
    facto_dataset_free(ds);
    /* Quoted fields may hold the delimiter and doubled quotes. */
    p = write_text("quoted.csv", "\"a,b\",\"say \"\"hi\"\"\",2\n\"c\" , d ,\"3.5\"\n");
    ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, "a,b", "say \"hi\"") == 2.0f);
    assert_true(rating_of(ds, "c", "d") == 3.5f);
    facto_dataset_free(ds);
    p = write_text("unclosed.csv", "a,b,1\n\"a,b,2\n");
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "quote");
    /* Any printable byte can be given as the delimiter; ':' is one colon. */
    p = write_text("pipe.txt", "1|10|5\n1|20|3\n2|10|4\n3|30|1\n2|20|2\n");
    facto_read_options o = opts_format(FACTO_FORMAT_DELIMITED);
    o.delimiter = '|';
    ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    p = write_text("colon1.txt", "1:10:5\n1:20:3\n2:10:4\n3:30:1\n2:20:2\n");
    o.delimiter = ':';
    ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    /* "::" is detected for generic text too, so columns work on ML-1M files. */
    o = facto_read_options_default();
    o.columns = "2,1,3";
    ds = read_ok(fixture("ratings_ml1m.dat"), &o, NULL);
    assert_int_equal(facto_dataset_n_users(ds), 3); /* items 10, 20, 30 as users */
    assert_true(rating_of(ds, "30", "3") == 1.0f);
    assert_true(rating_of(ds, "20", "2") == 2.0f);
    assert_false(lookup(ds, "1", "10", NULL, NULL));
    facto_dataset_free(ds);
    /* Given delimiter that does not match: too few columns on line 1. */
    o = opts_format(FACTO_FORMAT_DELIMITED);
    o.delimiter = ';';
    p = write_text("comma2.txt", "1,10,5\n");
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 1), "missing column 2");
    /* The ML-100K format insists on tabs. */
    o = opts_format(FACTO_FORMAT_ML100K);
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 1), "missing column");
}

static void test_header_detection(void **state)
{
    (void)state;
    const char *with = write_text("with_header.csv", "user,item,rating,time\n1,10,5,881250949\n1,20,3,881250950\n"
                                                     "2,10,4,881250951\n3,30,1,881250952\n2,20,2,881250953\n");
    facto_dataset *ds = read_ok(with, NULL, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    facto_read_options o = opts_format(FACTO_FORMAT_DELIMITED);
    o.header = 1;
    ds = read_ok(with, &o, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    /* Told there is no header: the header's rating is bad data on line 1. */
    o.header = 0;
    read_fails(with, &o, FACTO_ERR_PARSE, at(with, 1), "rating 'rating' is not a finite number");
    /* Told there is a header: the first data line is skipped. */
    const char *without = write_text("no_header.csv", "9,90,1\n1,10,5\n1,20,3\n2,10,4\n3,30,1\n2,20,2\n");
    o.header = 1;
    ds = read_ok(without, &o, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    o.header = -1;
    ds = read_ok(without, &o, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 6);
    facto_dataset_free(ds);
    /* With a header, the default 4th column is a timestamp only when its name
     * says so; a named timestamp column is then required on every line. */
    const char *extra = write_text("extra_col.csv", "user,item,rating,comment\n1,10,5,great\n1,20,3,ok\n"
                                                    "2,10,4,\n3,30,1,bad\n2,20,2,meh\n");
    ds = read_ok(extra, NULL, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    const char *when = write_text("date_col.csv", "user;item;rating;Date\n1;10;5;881250949\n1;20;3;881250950\n"
                                                  "2;10;4;881250951\n3;30;1;881250952\n2;20;2;881250953\n");
    ds = read_ok(when, NULL, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    const char *short_ts = write_text("short_ts.csv", "u\ti\tr\ttimestamp\n1\t10\t5\n");
    read_fails(short_ts, NULL, FACTO_ERR_PARSE, at(short_ts, 2), "missing column 4 (timestamp)");
    const char *short_ml = write_text("short_ml.csv", "userId,movieId,rating,timestamp\n1,10,5\n");
    read_fails(short_ml, NULL, FACTO_ERR_PARSE, at(short_ml, 2), "missing column 4 (timestamp)");
    /* Without --columns, a header that names the user, item and rating
     * columns places them, in any order and spelling. */
    const char *reordered = write_text("reordered.csv", "Rating;Movie_ID;UserId;timestamp\n5;10;1;881250949\n3;20;1;881250950\n"
                                                        "4;10;2;881250951\n1;30;3;881250952\n2;20;2;881250953\n");
    ds = read_ok(reordered, NULL, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    /* Names it does not know leave the columns in their default order. */
    const char *unknown = write_text("unknown_names.csv", "a,b,c\n1,10,5\n1,20,3\n2,10,4\n3,30,1\n2,20,2\n");
    ds = read_ok(unknown, NULL, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    /* A header after comments and blank lines is still found. */
    const char *late = write_text("late_header.csv", "# made by hand\n\n  \nu,i,r\n1,10,5\n");
    ds = read_ok(late, NULL, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 1);
    facto_dataset_free(ds);
}

static void test_columns(void **state)
{
    (void)state;
    const char *p = write_text("cols.txt", "when;stars;extra;movie;who\n"
                                           "881250949;5;a;10;1\n881250950;3;b;20;1\n881250951;4;c;10;2\n"
                                           "881250952;1;d;30;3\n881250953;2;e;20;2\n");
    facto_read_options o = facto_read_options_default();
    o.columns = "who,movie,stars,when";
    facto_dataset *ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    o.columns = "who, movie ,stars"; /* spaces around names; no timestamp wanted */
    ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    o.columns = "5,4,2,1"; /* the same by 1-based position; the header is detected */
    ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    o.columns = "who,4,stars"; /* mixed */
    ds = read_ok(p, &o, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    o.columns = "who,film,stars";
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 1), "'film'");
    /* Position past the end of a line. */
    /* A line without a wanted position is data, never a header. */
    o.columns = "5,4,6";
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 1), "missing column 6 (rating): the line has 5 columns");
    const char *q = write_text("cols_short.txt", "1,2,3,4,5,6\n1,2,3,4,5\n");
    read_fails(q, &o, FACTO_ERR_PARSE, at(q, 2), "missing column 6 (rating): the line has 5 columns");
    /* Names need a header. */
    o.columns = "who,movie,stars";
    o.header = 0;
    read_fails(p, &o, FACTO_ERR_INVALID, NULL, "header");
    /* Bad column lists. */
    static const char *const bad[] = {"1,2", "1,2,3,4,5", "1,,3", "0,1,2", "1,1,2", "a,b,a", ""};
    o.header = -1;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        o.columns = bad[k];
        read_fails(p, &o, FACTO_ERR_INVALID, "columns", NULL);
    }
}

static void test_gzip(void **state)
{
    (void)state;
    static const char *const names[3] = {"ratings_ml100k.tsv", "ratings_ml1m.dat", "ratings_ml.csv"};
    static const facto_format fmts[3] = {FACTO_FORMAT_ML100K, FACTO_FORMAT_ML1M, FACTO_FORMAT_ML_CSV};
    for (int k = 0; k < 3; k++) {
        size_t n;
        char *text = slurp(fixture(names[k]), &n);
        char gzname[64];
        snprintf(gzname, sizeof gzname, "%s.gz", names[k]);
        const char *p = write_gz(gzname, text, n);
        facto_dataset *ds = read_ok(p, NULL, NULL);
        check_fixture(ds, k == 2 ? k_half : k_whole, 1);
        facto_dataset_free(ds);
        facto_read_options o = opts_format(fmts[k]);
        ds = read_ok(p, &o, NULL);
        check_fixture(ds, k == 2 ? k_half : k_whole, 1);
        facto_dataset_free(ds);
        /* A gzip file without the .gz name is still found by its magic. */
        char other[64];
        snprintf(other, sizeof other, "gz_no_suffix_%d.txt", k);
        p = write_gz(other, text, n);
        ds = read_ok(p, NULL, NULL);
        check_fixture(ds, k == 2 ? k_half : k_whole, 1);
        facto_dataset_free(ds);
        free(text);
    }
    /* gzip + generic delimited + CRLF + BOM. */
    const char *t = "\xEF\xBB\xBFu;i;r\r\n1;10;5\r\n1;20;3\r\n2;10;4\r\n3;30;1\r\n2;20;2\r\n";
    const char *p = write_gz("crlf.csv.gz", t, strlen(t));
    facto_dataset *ds = read_ok(p, NULL, NULL);
    check_fixture(ds, k_whole, 0);
    facto_dataset_free(ds);
    /* Errors inside a gzip file still name the file and the line. */
    t = "1\t10\t5\t1\n1\t20\tbad\t2\n";
    p = write_gz("bad.tsv.gz", t, strlen(t));
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "rating 'bad'");
    /* Truncated and corrupt gzip data: I/O errors naming the file. */
    size_t n;
    char *text = slurp(fixture("ratings_ml100k.tsv"), &n);
    size_t big = 0;
    char *many = malloc(n * 200 + 1);
    assert_non_null(many);
    for (int k = 0; k < 200; k++) {
        memcpy(many + big, text, n);
        big += n;
    }
    p = write_gz("whole.tsv.gz", many, big);
    size_t gzn;
    char *gz = slurp(p, &gzn);
    assert_true(gzn > 40);
    const char *cut = write_bytes("truncated.tsv.gz", gz, gzn / 2);
    read_fails(cut, NULL, FACTO_ERR_IO, cut, "bad gzip data");
    gz[gzn - 5] ^= 0x55; /* the CRC-32 in the trailer */
    const char *bad = write_bytes("corrupt.tsv.gz", gz, gzn);
    read_fails(bad, NULL, FACTO_ERR_IO, bad, "bad gzip data");
    gz[gzn - 5] ^= 0x55;
    /* Members concatenated (`cat a.gz b.gz`, valid gzip): every one is read;
     * the big member is more than one input buffer. */
    {
        const char *a = "1\t10\t5\n1\t20\t3\n2\t10\t4\n", *b = "3\t30\t1\n2\t20\t2\n";
        size_t an, bn;
        char *ga = slurp(write_gz("a.gz", a, strlen(a)), &an), *gb = slurp(write_gz("b.gz", b, strlen(b)), &bn);
        char *cat = malloc(an + bn + gzn + 64);
        assert_non_null(cat);
        memcpy(cat, ga, an);
        memcpy(cat + an, gb, bn);
        p = write_bytes("two.tsv.gz", cat, an + bn);
        ds = read_ok(p, NULL, NULL);
        check_fixture(ds, k_whole, 0);
        facto_dataset_free(ds);
        /* big member first, then a small one */
        ds = read_ok(tmp_path("whole.tsv.gz"), NULL, NULL);
        int64_t n_whole = facto_dataset_n_ratings(ds);
        facto_dataset_free(ds);
        const char *c = "901\t90\t5\t1\n902\t91\t4\t2\n";
        size_t cn;
        char *gc = slurp(write_gz("c.gz", c, strlen(c)), &cn);
        memcpy(cat, gz, gzn);
        memcpy(cat + gzn, gc, cn);
        free(gc);
        p = write_bytes("big_then_small.tsv.gz", cat, gzn + cn);
        ds = read_ok(p, NULL, NULL);
        assert_int_equal(facto_dataset_n_ratings(ds), n_whole + 2);
        facto_dataset_free(ds);
        /* Plain text appended after the gzip data was dropped silently:
         * refused, naming the file and the byte where it starts. */
        memcpy(cat, ga, an);
        memcpy(cat + an, "4\t40\t5\n", 8);
        p = write_bytes("appended.tsv.gz", cat, an + 8);
        char want[600];
        snprintf(want, sizeof want, "%s: byte %zu: data after the end of the gzip stream that is not another gzip member",
                 p, an);
        read_fails(p, NULL, FACTO_ERR_PARSE, want, "plain text appended to a compressed file?");
        /* one stray byte after a member, and a second member cut short */
        p = write_bytes("one_byte.tsv.gz", cat, an + 1);
        snprintf(want, sizeof want, "%s: byte %zu: data after the end", p, an);
        read_fails(p, NULL, FACTO_ERR_PARSE, want, NULL);
        memcpy(cat + an, gb, bn);
        p = write_bytes("second_cut.tsv.gz", cat, an + bn - 3);
        read_fails(p, NULL, FACTO_ERR_IO, p, "bad gzip data (truncated or corrupt): unexpected end of file");
        free(cat);
        free(ga);
        free(gb);
    }
    free(gz);
    free(many);
    free(text);
}

static void test_line_ends_bom_comments(void **state)
{
    (void)state;
    const char *p = write_text("crlf.tsv", "\xEF\xBB\xBF"
                                           "1\t10\t5\t881250949\r\n"
                                           "# a comment\r\n"
                                           "\r\n"
                                           "   \t \n"
                                           "  # an indented comment\n"
                                           "1\t20\t3\t881250950\r\n"
                                           "2\t10\t4\t881250951\n"
                                           "\n"
                                           "3\t30\t1\t881250952\r\n"
                                           "2\t20\t2\t881250953"); /* no final line end */
    facto_dataset *ds = read_ok(p, NULL, NULL);
    check_fixture(ds, k_whole, 1);
    facto_dataset_free(ds);
    /* Line numbers count comments and blank lines. */
    p = write_text("numbers.tsv", "# c\n\n1\t10\t5\n\r\n1\t20\tx\n");
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 5), "rating 'x'");
    /* A BOM before an ML CSV header. */
    p = write_text("bom.csv", "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n1,10,5.0,881250949\r\n");
    ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, "1", "10") == 5.0f);
    facto_dataset_free(ds);
}

static void test_long_lines_and_ids(void **state)
{
    (void)state;
    /* A 255-byte id is the longest allowed; 256 bytes is an error. */
    char id255[256], id256[257];
    memset(id255, 'u', 255);
    id255[255] = '\0';
    memset(id256, 'v', 256);
    id256[256] = '\0';
    /* A comment line of 300 KB forces the line buffer to grow. */
    size_t big = 300000;
    char *text = malloc(big + 1024);
    assert_non_null(text);
    text[0] = '#';
    memset(text + 1, 'c', big - 1);
    size_t n = big;
    n += (size_t)sprintf(text + n, "\n%s\titem\t4\n9223372036854775807\t-5\t1.25\n", id255);
    const char *p = write_text("long.tsv", text);
    facto_dataset *ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, id255, "item") == 4.0f);
    /* Integer ids are kept as their text. */
    assert_true(rating_of(ds, "9223372036854775807", "-5") == 1.25f);
    facto_dataset_free(ds);
    sprintf(text, "a\tb\t1\n%s\tb\t2\n", id256);
    p = write_text("long_id.tsv", text);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "user id is 256 bytes long");
    sprintf(text, "a\tb\t1\nc\t%s\t2\n", id256);
    p = write_text("long_item.tsv", text);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "item id is 256 bytes long");
    /* A data line of 200 KB (a long id in an ignored extra column). */
    n = (size_t)sprintf(text, "1\t10\t5\t881250949\t");
    memset(text + n, 'x', big - n - 10);
    sprintf(text + big - 10, "\n");
    p = write_text("long_data.tsv", text);
    ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, "1", "10") == 5.0f);
    facto_dataset_free(ds);
    free(text);
}

static void test_numbers(void **state)
{
    (void)state;
    /* Decimal ratings are read as strtod reads them, then rounded to float
     * (hexadecimal ones are refused: test_parse_errors). */
    static const char *const values[] = {"0.1", "3.14159", "1e0", "2.5e-1", "-0.75", "+2", "4.", ".5",
                                         "0.30000000000000004", "123456789.123456789", "7E2", "1.5E+1"};
    char text[2048];
    size_t n = 0;
    size_t nv = sizeof values / sizeof values[0];
    for (size_t k = 0; k < nv; k++)
        n += (size_t)snprintf(text + n, sizeof text - n, "u\ti%zu\t%s\t%zu\n", k, values[k], k);
    const char *p = write_text("numbers.tsv", text);
    facto_dataset *ds = read_ok(p, NULL, NULL);
    for (size_t k = 0; k < nv; k++) {
        char item[16];
        snprintf(item, sizeof item, "i%zu", k);
        float want = (float)strtod(values[k], NULL);
        if (rating_of(ds, "u", item) != want)
            fail_msg("rating '%s' read as %.9g, strtod gives %.9g", values[k], rating_of(ds, "u", item), want);
    }
    facto_dataset_free(ds);
    /* Timestamps: the int64 range, negative allowed. */
    p = write_text("ts.tsv", "a\tb\t1\t9223372036854775807\nc\td\t2\t-9223372036854775808\n");
    ds = read_ok(p, NULL, NULL);
    int64_t t;
    assert_true(lookup(ds, "a", "b", NULL, &t));
    assert_true(t == INT64_MAX);
    assert_true(lookup(ds, "c", "d", NULL, &t));
    assert_true(t == INT64_MIN);
    facto_dataset_free(ds);
}

/* Decimal ids are text: "7", "07" and "007" are three users; large and
 * small ids, and ids first seen in any order, map to first-seen indices. */
static void test_integer_ids(void **state)
{
    (void)state;
    const char *p = write_text("intids.tsv", "7\t1\t1\n007\t1\t2\n07\t1\t3\n4194303\t1\t4\n4194304\t1\t5\n"
                                             "12345678\t1\t1.5\n0\t1\t2.5\n7\t2\t3.5\n-7\t1\t4.5\n+7\t1\t0.5\n");
    facto_dataset *ds = read_ok(p, NULL, NULL);
    static const char *const users[] = {"7", "007", "07", "4194303", "4194304", "12345678", "0", "-7", "+7"};
    static const float r1[] = {1, 2, 3, 4, 5, 1.5f, 2.5f, 4.5f, 0.5f};
    assert_int_equal(facto_dataset_n_users(ds), 9);
    assert_int_equal(facto_dataset_n_items(ds), 2);
    for (int k = 0; k < 9; k++) {
        assert_string_equal(facto_idmap_name(facto_dataset_users(ds), k), users[k]);
        assert_true(rating_of(ds, users[k], "1") == r1[k]);
    }
    assert_true(rating_of(ds, "7", "2") == 3.5f);
    assert_false(lookup(ds, "007", "2", NULL, NULL));
    facto_dataset_free(ds);
}

static void test_duplicates(void **state)
{
    (void)state;
    const char *p = write_text("dups.tsv", "1\t10\t1\t100\n1\t20\t2\t101\n1\t10\t3\t102\n2\t10\t4\t103\n"
                                           "1\t10\t5\t104\n1\t20\t2.5\t105\n");
    int64_t dups = -1;
    facto_dataset *ds = read_ok(p, NULL, &dups);
    assert_int_equal(dups, 3); /* (1,10) twice more, (1,20) once more */
    assert_int_equal(facto_dataset_n_ratings(ds), 3);
    int64_t t;
    float r;
    assert_true(lookup(ds, "1", "10", &r, &t));
    assert_true(r == 5.0f && t == 104); /* the last line wins */
    assert_true(lookup(ds, "1", "20", &r, &t));
    assert_true(r == 2.5f && t == 105);
    facto_dataset_free(ds);
}


/* ---- implicit data ------------------------------------------------------------ */

static facto_read_options opts_implicit(double threshold)
{
    facto_read_options o = facto_read_options_default();
    o.implicit = 1;
    o.implicit_threshold = threshold;
    return o;
}

static facto_dataset *read_stats_ok(const char *path, const facto_read_options *o, facto_read_stats *stats)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = NULL;
    if (facto_dataset_read_with_stats(ctx, path, o, &ds, stats) != FACTO_OK)
        fail_msg("reading %s: %s", path, facto_errmsg(ctx));
    assert_string_equal(facto_errmsg(ctx), "");
    facto_ctx_free(ctx);
    return ds;
}

/* Repeated pairs add their weights and keep their latest timestamp; the
 * same file read as ratings keeps the last line, as it always did. */
static void test_implicit_sums(void **state)
{
    (void)state;
    const char *p = write_text("plays.tsv", "u1\ti1\t2\t100\n"
                                            "u1\ti1\t3\t150\n"
                                            "u2\ti1\t1\t10\n"
                                            "u1\ti2\t0.5\t70\n"
                                            "u1\ti1\t1\t80\n"
                                            "u2\ti3\t0\t5\n"
                                            "u2\ti3\t-0\t4\n");
    facto_read_options o = opts_implicit(0);
    facto_read_stats st;
    facto_dataset *ds = read_stats_ok(p, &o, &st);
    assert_int_equal(st.n_lines, 7);
    assert_int_equal(st.n_duplicates, 3); /* (u1,i1) twice more, (u2,i3) once more */
    assert_int_equal(st.n_below_threshold, 0);
    assert_int_equal(st.n_users_dropped, 0);
    assert_int_equal(st.n_items_dropped, 0);
    assert_int_equal(facto_dataset_n_ratings(ds), 4);
    assert_int_equal(st.n_lines, facto_dataset_n_ratings(ds) + st.n_duplicates + st.n_below_threshold);
    float r;
    int64_t t;
    assert_true(lookup(ds, "u1", "i1", &r, &t));
    assert_true(r == 6.0f && t == 150); /* 2 + 3 + 1; the latest time, not the last line's 80 */
    assert_true(lookup(ds, "u2", "i1", &r, &t));
    assert_true(r == 1.0f && t == 10);
    assert_true(lookup(ds, "u1", "i2", &r, &t));
    assert_true(r == 0.5f && t == 70);
    assert_true(lookup(ds, "u2", "i3", &r, &t));
    assert_true(r == 0.0f && !signbit(r) && t == 5); /* a weight of 0 is kept without a threshold */
    float lo, hi;
    facto_dataset_rating_range(ds, &lo, &hi);
    assert_true(lo == 0.0f && hi == 6.0f);
    facto_dataset_free(ds);
    /* facto_dataset_read gives the same n_duplicates. */
    int64_t dups = -1;
    ds = read_ok(p, &o, &dups);
    assert_int_equal(dups, 3);
    facto_dataset_free(ds);
    /* Explicit (the default): the last line wins, with its timestamp. */
    ds = read_stats_ok(p, NULL, &st);
    assert_int_equal(st.n_lines, 7);
    assert_int_equal(st.n_duplicates, 3);
    assert_true(lookup(ds, "u1", "i1", &r, &t));
    assert_true(r == 1.0f && t == 80);
    assert_true(lookup(ds, "u2", "i3", &r, &t));
    assert_true(r == 0.0f && t == 4);
    facto_dataset_free(ds);
}

/* A threshold keeps the pairs whose summed weight reaches it, as weight 1;
 * users and items left with nothing leave the id maps. */
static void test_implicit_threshold(void **state)
{
    (void)state;
    const char *p = write_text("stars.tsv", "a\tx\t5\t1\n"
                                            "a\ty\t3\t2\n"  /* below 4: dropped */
                                            "b\ty\t2\t3\n"
                                            "b\ty\t2\t9\n"  /* 2 + 2 = 4: kept, time 9 */
                                            "c\tz\t1\t4\n"  /* user c and item z have nothing left */
                                            "c\tx\t3.99\t5\n" /* below */
                                            "a\tw\t4\t6\n");
    facto_read_options o = opts_implicit(4);
    facto_read_stats st;
    facto_dataset *ds = read_stats_ok(p, &o, &st);
    assert_int_equal(st.n_lines, 7);
    assert_int_equal(st.n_duplicates, 1);
    assert_int_equal(st.n_below_threshold, 3); /* (a,y), (c,z), (c,x) */
    assert_int_equal(st.n_users_dropped, 1);   /* c */
    assert_int_equal(st.n_items_dropped, 1);   /* z; y stays through b */
    assert_int_equal(facto_dataset_n_ratings(ds), 3);
    assert_int_equal(st.n_lines, facto_dataset_n_ratings(ds) + st.n_duplicates + st.n_below_threshold);
    assert_int_equal(facto_dataset_n_users(ds), 2);
    assert_int_equal(facto_dataset_n_items(ds), 3);
    assert_int_equal(facto_idmap_find(facto_dataset_users(ds), "c"), -1);
    assert_int_equal(facto_idmap_find(facto_dataset_items(ds), "z"), -1);
    /* The remaining ids keep their order of first appearance. */
    assert_string_equal(facto_idmap_name(facto_dataset_users(ds), 0), "a");
    assert_string_equal(facto_idmap_name(facto_dataset_users(ds), 1), "b");
    assert_string_equal(facto_idmap_name(facto_dataset_items(ds), 0), "x");
    assert_string_equal(facto_idmap_name(facto_dataset_items(ds), 1), "y");
    assert_string_equal(facto_idmap_name(facto_dataset_items(ds), 2), "w");
    float r;
    int64_t t;
    assert_true(lookup(ds, "a", "x", &r, &t) && r == 1.0f && t == 1);
    assert_true(lookup(ds, "a", "w", &r, &t) && r == 1.0f && t == 6);
    assert_true(lookup(ds, "b", "y", &r, &t) && r == 1.0f && t == 9);
    assert_false(lookup(ds, "a", "y", NULL, NULL));
    float lo, hi;
    facto_dataset_rating_range(ds, &lo, &hi);
    assert_true(lo == 1.0f && hi == 1.0f);
    /* CSR stays sorted after the ids are renumbered. */
    const int64_t *rp;
    const int32_t *it;
    facto_dataset_csr(ds, &rp, &it, NULL, NULL);
    assert_int_equal(rp[0], 0);
    assert_int_equal(rp[2], 3);
    for (int32_t u = 0; u < 2; u++)
        for (int64_t k = rp[u] + 1; k < rp[u + 1]; k++)
            assert_true(it[k - 1] < it[k]);
    facto_dataset_free(ds);
    /* A threshold above every pair leaves nothing. */
    o = opts_implicit(100);
    read_fails(p, &o, FACTO_ERR_EMPTY, p, "no pair reaches the implicit threshold 100 (6 pairs below it)");
    /* A signed scale (-10..10) is thresholded, not refused for its negative
     * values: T = 1 keeps the positive sums (a: 3 + -4.5 = -1.5 dropped). */
    const char *q = write_text("signed.tsv", "a\tx\t3\n"
                                             "a\ty\t7.5\n"
                                             "b\tx\t-10\n"
                                             "a\tx\t-4.5\n"
                                             "b\ty\t1\n");
    o = opts_implicit(1);
    ds = read_stats_ok(q, &o, &st);
    assert_int_equal(st.n_below_threshold, 2); /* (a,x) summed to -1.5, (b,x) -10 */
    assert_int_equal(facto_dataset_n_ratings(ds), 2);
    assert_true(lookup(ds, "a", "y", &r, NULL) && r == 1.0f);
    assert_true(lookup(ds, "b", "y", &r, NULL) && r == 1.0f);
    assert_false(lookup(ds, "a", "x", NULL, NULL));
    facto_dataset_free(ds);
    /* without a threshold a negative weight stays an error, naming the line */
    o = opts_implicit(0);
    read_fails(q, &o, FACTO_ERR_PARSE, q, ":3: weight '-10' is negative");
}

/* Implicit data may have no weight column: every line weighs 1. */
static void test_implicit_missing_column(void **state)
{
    (void)state;
    facto_read_options o = opts_implicit(0);
    /* Two columns, numeric ids, repeated pair. */
    const char *p = write_text("clicks.tsv", "1\t10\n1\t20\n2\t10\n1\t10\n");
    facto_read_stats st;
    facto_dataset *ds = read_stats_ok(p, &o, &st);
    assert_int_equal(facto_dataset_n_ratings(ds), 3);
    assert_int_equal(st.n_duplicates, 1);
    assert_true(rating_of(ds, "1", "10") == 2.0f);
    assert_true(rating_of(ds, "1", "20") == 1.0f);
    const int64_t *ts;
    facto_dataset_csr(ds, NULL, NULL, NULL, &ts);
    assert_null(ts);
    facto_dataset_free(ds);
    /* Word ids on blanks: "alice apple" is data, not a header. */
    p = write_text("words.txt", "alice apple\nbob apple\nalice pear\nalice apple\n");
    ds = read_ok(p, &o, NULL);
    assert_int_equal(facto_dataset_n_users(ds), 2);
    assert_true(rating_of(ds, "alice", "apple") == 2.0f);
    assert_true(rating_of(ds, "bob", "apple") == 1.0f);
    facto_dataset_free(ds);
    /* A header naming user and item but no weight; the timestamp by name. */
    p = write_text("events.csv", "user_id,item_id,timestamp\nu,a,100\nu,b,200\nv,a,50\nu,a,300\n");
    ds = read_ok(p, &o, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 3);
    float r;
    int64_t t;
    assert_true(lookup(ds, "u", "a", &r, &t) && r == 2.0f && t == 300);
    assert_true(lookup(ds, "v", "a", &r, &t) && r == 1.0f && t == 50);
    facto_dataset_free(ds);
    /* A header with a weight name places it ("plays" is a weight in implicit data). */
    p = write_text("plays.csv", "plays,artist,user\n3,a,u\n4,a,u\n2,b,v\n");
    ds = read_ok(p, &o, NULL);
    assert_true(rating_of(ds, "u", "a") == 7.0f);
    assert_true(rating_of(ds, "v", "b") == 2.0f);
    facto_dataset_free(ds);
    /* A two-field header is a header when it names a column. */
    p = write_text("pairs.tsv", "user\titem\nu\ta\n");
    ds = read_ok(p, &o, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 1);
    assert_true(rating_of(ds, "u", "a") == 1.0f);
    facto_dataset_free(ds);
    /* Columns without a weight: "user,item" and "user,item,,timestamp". */
    p = write_text("cols.tsv", "100\tu\ta\tjunk\n200\tu\tb\tjunk\n300\tu\ta\tjunk\n");
    o.columns = "2,3";
    ds = read_ok(p, &o, NULL);
    assert_true(rating_of(ds, "u", "a") == 2.0f);
    facto_dataset_free(ds);
    o.columns = "2,3,,1";
    ds = read_ok(p, &o, NULL);
    assert_true(lookup(ds, "u", "a", &r, &t) && r == 2.0f && t == 300);
    assert_true(lookup(ds, "u", "b", &r, &t) && r == 1.0f && t == 200);
    facto_dataset_free(ds);
    /* With a threshold, weight-1 lines count towards it. */
    o = opts_implicit(2);
    p = write_text("twice.tsv", "1\t10\n1\t20\n1\t10\n2\t20\n2\t20\n2\t30\n");
    ds = read_stats_ok(p, &o, &st);
    assert_int_equal(facto_dataset_n_ratings(ds), 2); /* (1,10) and (2,20) */
    assert_int_equal(st.n_below_threshold, 2);
    assert_int_equal(st.n_items_dropped, 1); /* 30 */
    assert_false(lookup(ds, "1", "20", NULL, NULL));
    facto_dataset_free(ds);
    /* The first data line decides: a later line without the weight is an error. */
    o = opts_implicit(0);
    p = write_text("ragged.tsv", "1\t10\t3\n1\t20\n");
    read_fails(p, &o, FACTO_ERR_PARSE, at(p, 2), "missing column 3 (weight): the line has 2 columns");
    /* Ratings (the default) still need the third column. */
    p = write_text("two_cols.tsv", "1\t10\n");
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 1), "missing column 3 (rating)");
    facto_read_options e = facto_read_options_default();
    e.columns = "1,2";
    read_fails(p, &e, FACTO_ERR_INVALID, NULL, "give 3 or 4 columns");
    e.columns = "1,2,,3";
    read_fails(p, &e, FACTO_ERR_INVALID, NULL, "column 3 (rating) is empty");
    o.columns = "1";
    read_fails(p, &o, FACTO_ERR_INVALID, NULL, "give 2 to 4 columns (user,item[,weight[,timestamp]])");
}

/* Bad weights and options: FACTO_ERR_PARSE naming FILE:LINE, or FACTO_ERR_INVALID. */
static void test_implicit_errors(void **state)
{
    (void)state;
    facto_read_options o = opts_implicit(0);
    static const struct {
        const char *name, *text;
        int line;
        const char *part;
    } cases[] = {
        {"w_word.tsv", "1\t2\t3\n1\t3\tlots\n", 2, "weight 'lots' is not a finite number"},
        {"w_nan.tsv", "1\t2\tnan\n", 1, "weight 'nan' is not a finite number"},
        {"w_inf.tsv", "1\t2\t1\n1\t3\t2\n1\t4\tinf\n", 3, "weight 'inf' is not a finite number"},
        {"w_neg.tsv", "1\t2\t3\n# c\n1\t3\t-1\n", 3, "weight '-1' is negative"},
        {"w_negsmall.tsv", "1\t2\t-0.001\n", 1, "weight '-0.001' is negative"},
        {"w_big.tsv", "1\t2\t1e39\n", 1, "weight '1e39' is too large for a float"},
        {"w_empty.tsv", "1\t2\t3\n1\t3\t\n", 2, "the weight is empty"},
        {"w_user.tsv", "1\t2\t3\n\t3\t1\n", 2, "the user id is empty"},
        {"w_item.csv", "1,2,3\n1,,1\n", 2, "the item id is empty"},
        {"w_user2.csv", "u,a\n,b\n", 2, "the user id is empty"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *p = write_text(cases[c].name, cases[c].text);
        read_fails(p, &o, FACTO_ERR_PARSE, at(p, cases[c].line), cases[c].part);
    }
    /* Negative ratings stay fine as explicit data. */
    const char *p = write_text("neg_rating.tsv", "1\t2\t-1\n");
    facto_dataset *ds = read_ok(p, NULL, NULL);
    assert_true(rating_of(ds, "1", "2") == -1.0f);
    facto_dataset_free(ds);
    /* Weights that add up past a float: the file, the user and the item. */
    p = write_text("w_sum.tsv", "1\t2\t3e38\n1\t2\t3e38\n");
    read_fails(p, &o, FACTO_ERR_PARSE, p, "the weights of user '1' and item '2' add up to 6e+38");
    /* Options. */
    const char *ml = fixture("ratings_ml100k.tsv");
    facto_read_options b = facto_read_options_default();
    b.implicit_threshold = 4;
    read_fails(ml, &b, FACTO_ERR_INVALID, NULL, "set implicit = 1");
    b = opts_implicit(-1);
    read_fails(ml, &b, FACTO_ERR_INVALID, NULL, "threshold must be a finite number >= 0");
    b = opts_implicit(NAN);
    read_fails(ml, &b, FACTO_ERR_INVALID, NULL, "threshold");
    b = opts_implicit(INFINITY);
    read_fails(ml, &b, FACTO_ERR_INVALID, NULL, "threshold");
    b = opts_implicit(0);
    b.implicit = 2;
    read_fails(ml, &b, FACTO_ERR_INVALID, NULL, "implicit must be 0");
    /* The MovieLens formats read their rating as the weight. */
    b = opts_implicit(4);
    b.format = FACTO_FORMAT_ML100K;
    ds = read_ok(ml, &b, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 2); /* the fixture's 5 and 4 */
    facto_dataset_free(ds);
    b.format = FACTO_FORMAT_ML1M;
    ds = read_ok(fixture("ratings_ml1m.dat"), &b, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 2);
    facto_dataset_free(ds);
    b.format = FACTO_FORMAT_AUTO;
    ds = read_ok(fixture("ratings_ml.csv"), &b, NULL);
    assert_int_equal(facto_dataset_n_ratings(ds), 2); /* 5.0 and 4.0 */
    facto_dataset_free(ds);
}

/* ---- errors ------------------------------------------------------------------ */

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        int line;
        const char *part;
    } cases[] = {
        {"nan.tsv", "1\t2\t3\n1\t3\tnan\n", 2, "rating 'nan' is not a finite number"},
        {"inf.tsv", "1\t2\t3\n\n1\t3\tinf\n", 3, "rating 'inf' is not a finite number"},
        {"minf.tsv", "1\t2\t-Infinity\n", 1, "rating '-Infinity' is not a finite number"},
        {"abc.tsv", "1\t2\t3\n1\t3\tabc\n", 2, "rating 'abc' is not a finite number"},
        {"trail.tsv", "1\t2\t3\n1\t3\t4x\n", 2, "rating '4x' is not a finite number"},
        {"hex.tsv", "1\t2\t3\n1\t3\t0x10\n", 2, "rating '0x10' is not a finite number"}, /* was read as 16 */
        {"hexf.tsv", "1\t2\t-0X1p2\n", 1, "rating '-0X1p2' is not a finite number"},
        {"huge.tsv", "1\t2\t1e300\n", 1, "rating '1e300' is too large"},
        {"empty_r.tsv", "1\t2\t3\n1\t3\t\n", 2, "rating is empty"},
        {"empty_r.csv", "1,2,3\n1,3,  \n", 2, "rating is empty"},
        {"missing.tsv", "1\t2\t3\t4\n1\t3\n", 2, "missing column 3 (rating): the line has 2 columns"},
        {"missing_t.tsv", "1\t2\t3\t4\n1\t3\t5\n", 2, "missing column 4 (timestamp)"},
        {"empty_u.csv", "1,2,3\n,3,4\n", 2, "user id is empty"},
        {"empty_i.csv", "1,2,3\n1, ,4\n", 2, "item id is empty"},
        {"ts_float.tsv", "1\t2\t3\t100\n1\t3\t4\t12.5\n", 2, "timestamp '12.5' is not an integer"},
        {"ts_abc.tsv", "1\t2\t3\t100\n1\t3\t4\tabc\n", 2, "timestamp 'abc' is not an integer"},
        {"ts_big.tsv", "1\t2\t3\t9223372036854775808\n", 1, "timestamp '9223372036854775808' is not an integer"},
        {"ts_empty.tsv", "1\t2\t3\t100\n1\t3\t4\t\n", 2, "timestamp '' is not an integer"},
        {"ml1m_bad.dat", "1::2::3::4\n1::2::x::4\n", 2, "rating 'x'"},
        {"ml1m_quote.dat", "1::2::3::4\n\"a\":x::b::1::5\n", 2, "unexpected text after a closing quote"},
        {"csv_bad.csv", "userId,movieId,rating,timestamp\n1,2,3.5,4\n1,3,,5\n", 3, "rating is empty"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *p = write_text(cases[c].name, cases[c].text);
        read_fails(p, NULL, FACTO_ERR_PARSE, at(p, cases[c].line), cases[c].part);
    }
    /* A long bad field is shortened in the message. */
    char text[400] = "1\t2\t";
    memset(text + 4, 'z', 300);
    strcpy(text + 304, "\n");
    const char *p = write_text("long_bad.tsv", text);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 1), "zzz...' is not a finite number");
    /* A NUL byte inside an id. */
    p = write_bytes("nul.tsv", "1\t2\t3\na\0b\t2\t3\n", 14);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "NUL");
}

/* QA: hostile bytes get a message that names the field and stays one
 * readable line; options the fixed formats would ignore are refused. */
static void test_hostile_bytes_and_ignored_options(void **state)
{
    (void)state;
    /* A NUL byte in the rating or the timestamp is named as such (strtod
     * would stop at it and show only "4"). */
    const char *p = write_bytes("nul_rating.tsv", "1\t2\t3\n1\t3\t4\0\n", 13);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "the rating holds a NUL byte");
    p = write_bytes("nul_time.tsv", "1\t2\t3\t5\n1\t3\t4\t5\0\n", 17);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 2), "the timestamp holds a NUL byte");
    /* A bare CR (old Mac line ends) inside a field is shown escaped. */
    p = write_text("cr_only.tsv", "1\t2\t3\r1\t3\t4\r");
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 1), "rating '3\\x0d1' is not a finite number");
    p = write_bytes("binary.tsv", "1\t2\t\x01\x02\xff\n", 8);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 1), "rating '\\x01\\x02\xff'");
    /* Binary files are named as such, not as a line with missing columns. */
    p = write_bytes("model.facto", "FACTOMDL\x01\0\0\0\x01\0\0\0", 16);
    read_fails(p, NULL, FACTO_ERR_PARSE, p, "a facto model file, not ratings");
    p = write_bytes("blob.bin", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16);
    read_fails(p, NULL, FACTO_ERR_PARSE, at(p, 1), "binary data");
    /* --columns / --delimiter with a fixed MovieLens format. */
    const char *ml = fixture("ratings_ml100k.tsv");
    facto_read_options o = opts_format(FACTO_FORMAT_ML100K);
    o.columns = "2,1,3";
    read_fails(ml, &o, FACTO_ERR_INVALID, NULL, "columns '2,1,3' apply to delimited text");
    o = opts_format(FACTO_FORMAT_ML_CSV);
    o.delimiter = ';';
    read_fails(ml, &o, FACTO_ERR_INVALID, NULL, "the mlcsv format fixes its delimiter");
    o = opts_format(FACTO_FORMAT_ML1M);
    o.delimiter = ':';
    read_fails(ml, &o, FACTO_ERR_INVALID, NULL, "ml1m");
    o = opts_format(FACTO_FORMAT_ML100K);
    o.delimiter = '\t'; /* the format's own delimiter is fine */
    facto_dataset *ds = read_ok(ml, &o, NULL);
    facto_dataset_free(ds);
}

/* QA: titles are printed to terminals; control characters in a titles file
 * (ESC sequences, BEL, C1 controls from Latin-1 or UTF-8) become spaces. */
static void test_titles_control_characters(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s", tmp_path("titles_ctl"));
    assert_int_equal(mkdir(dir, 0755), 0);
    char p[700];
    snprintf(p, sizeof p, "%s/u.item", dir);
    static const char data[] = "1|\x1b[31mRED\x1b[0m\x07|x\n"
                               "2|Caf\xe9\x85|x\n"                 /* Latin-1 with a C1 byte */
                               "3|A\xc2\x9b" "B \xc3\xa9|x\n"; /* UTF-8 U+009B (CSI), then U+00E9 */
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, sizeof data - 1, f), sizeof data - 1);
    fclose(f);
    facto_idmap *items = fct_idmap_new();
    assert_int_equal(fct_idmap_intern(items, "1", 1), 0);
    assert_int_equal(fct_idmap_intern(items, "2", 1), 1);
    assert_int_equal(fct_idmap_intern(items, "3", 1), 2);
    facto_ctx *ctx = facto_ctx_new();
    char **titles = NULL;
    int32_t n = 0;
    assert_int_equal(facto_titles_read(ctx, dir, items, &titles, &n), FACTO_OK);
    assert_int_equal(n, 3);
    assert_string_equal(titles[0], " [31mRED [0m ");
    assert_string_equal(titles[1], "Caf\xc3\xa9 ");
    assert_string_equal(titles[2], "A B \xc3\xa9");
    facto_titles_free(titles, n);
    fct_idmap_free(items);
    facto_ctx_free(ctx);
}

static void test_empty_and_missing(void **state)
{
    (void)state;
    const char *p = write_text("empty.tsv", "");
    read_fails(p, NULL, FACTO_ERR_EMPTY, p, "is empty");
    p = write_text("comments.tsv", "# nothing\n\n   \n#\n");
    read_fails(p, NULL, FACTO_ERR_EMPTY, p, "no ratings");
    p = write_text("header_only.csv", "userId,movieId,rating,timestamp\n");
    read_fails(p, NULL, FACTO_ERR_EMPTY, p, "only a header");
    p = write_text("bom_only.csv", "\xEF\xBB\xBF\r\n");
    read_fails(p, NULL, FACTO_ERR_EMPTY, p, "no ratings");
    p = write_gz("empty.tsv.gz", "", 0);
    read_fails(p, NULL, FACTO_ERR_EMPTY, p, "no ratings");
    const char *missing = tmp_path("does_not_exist.tsv");
    read_fails(missing, NULL, FACTO_ERR_IO, missing, "cannot open");
    read_fails(g_dir, NULL, FACTO_ERR_IO, g_dir, "cannot read"); /* a folder */
}

static void test_invalid_options(void **state)
{
    (void)state;
    const char *p = fixture("ratings_ml100k.tsv");
    facto_read_options o = facto_read_options_default();
    static const char bad_delims[] = {'"', '#', '\n', '\r', '\x01', '\x7f', (char)0xC3};
    for (size_t k = 0; k < sizeof bad_delims; k++) {
        o.delimiter = bad_delims[k];
        read_fails(p, &o, FACTO_ERR_INVALID, NULL, "delimiter");
    }
    o = facto_read_options_default();
    o.header = 2;
    read_fails(p, &o, FACTO_ERR_INVALID, NULL, "header");
    o = facto_read_options_default();
    o.format = (facto_format)42;
    read_fails(p, &o, FACTO_ERR_INVALID, NULL, "format");
    facto_ctx *ctx = facto_ctx_new();
    assert_int_equal(facto_dataset_read(ctx, p, NULL, NULL, NULL), FACTO_ERR_INVALID);
    facto_dataset *ds = NULL;
    assert_int_equal(facto_dataset_read(ctx, NULL, NULL, &ds, NULL), FACTO_ERR_INVALID);
    assert_null(ds);
    facto_ctx_free(ctx);
}

/* ---- real data ------------------------------------------------------------------ */

static void test_ml100k_u_data(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u.data");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t dups = -1;
    facto_dataset *ds = read_ok(path, NULL, &dups);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Figures from ml-100k's README and u.info. */
    assert_int_equal(facto_dataset_n_ratings(ds), 100000);
    assert_int_equal(facto_dataset_n_users(ds), 943);
    assert_int_equal(facto_dataset_n_items(ds), 1682);
    assert_int_equal(dups, 0);
    float lo, hi;
    facto_dataset_rating_range(ds, &lo, &hi);
    assert_true(lo == 1.0f && hi == 5.0f);
    /* The first line of u.data is "196	242	3	881250949". */
    float r;
    int64_t t;
    assert_true(lookup(ds, "196", "242", &r, &t));
    assert_true(r == 3.0f && t == 881250949);
    /* Ids are 1..943 and 1..1682. */
    for (int32_t u = 0; u < 943; u++) {
        long v = atol(facto_idmap_name(facto_dataset_users(ds), u));
        assert_true(v >= 1 && v <= 943);
    }
    /* Rating counts from PROVENANCE.md's verification: 1:6110 ... 5:21201. */
    const float *rt;
    facto_dataset_csr(ds, NULL, NULL, &rt, NULL);
    int64_t count[6] = {0};
    for (int64_t k = 0; k < 100000; k++)
        count[(int)rt[k]]++;
    assert_int_equal(count[1], 6110);
    assert_int_equal(count[5], 21201);
    /* Same data gzip-compressed. */
    size_t n;
    char *text = slurp(path, &n);
    const char *gz = write_gz("u.data.gz", text, n);
    free(text);
    facto_dataset *dz = read_ok(gz, NULL, NULL);
    assert_int_equal(facto_dataset_n_ratings(dz), 100000);
    assert_int_equal(facto_dataset_n_users(dz), 943);
    assert_int_equal(facto_dataset_n_items(dz), 1682);
    facto_dataset_free(dz);
    print_message("u.data: 100000 ratings read in %.1f ms\n",
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    facto_dataset_free(ds);
}


/* u.data as implicit data with threshold 4, against counts made here by
 * reading the file line by line apart from the library (the same figures as
 * awk '$3 >= 4' u.data | wc -l: 55375 lines, 942 users, 1447 items). */
static void test_ml100k_implicit(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u.data");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", home);
    /* The independent count: every line is "user item rating time", no pair twice. */
    enum { NU = 944, NI = 1683 };
    static int deg[NU], pos_of_item[NI];
    static unsigned char positive[NU][NI];
    memset(deg, 0, sizeof deg);
    memset(pos_of_item, 0, sizeof pos_of_item);
    memset(positive, 0, sizeof positive);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int u, i, rating;
    long ts;
    int64_t lines = 0, positives = 0;
    while (fscanf(f, "%d %d %d %ld", &u, &i, &rating, &ts) == 4) {
        assert_true(u >= 1 && u < NU && i >= 1 && i < NI);
        lines++;
        if (rating >= 4) {
            positives++;
            deg[u]++;
            pos_of_item[i]++;
            positive[u][i] = 1;
        }
    }
    fclose(f);
    assert_int_equal(lines, 100000);
    int n_users = 0, n_items = 0;
    for (int k = 1; k < NU; k++)
        n_users += deg[k] > 0;
    for (int k = 1; k < NI; k++)
        n_items += pos_of_item[k] > 0;

    facto_read_options o = opts_implicit(4);
    facto_read_stats st;
    facto_dataset *ds = read_stats_ok(path, &o, &st);
    assert_int_equal(facto_dataset_n_ratings(ds), positives);
    assert_int_equal(facto_dataset_n_users(ds), n_users);
    assert_int_equal(facto_dataset_n_items(ds), n_items);
    assert_int_equal(positives, 55375);
    assert_int_equal(n_users, 942);
    assert_int_equal(n_items, 1447);
    assert_int_equal(st.n_lines, 100000);
    assert_int_equal(st.n_duplicates, 0);
    assert_int_equal(st.n_below_threshold, 100000 - 55375);
    assert_int_equal(st.n_users_dropped, 943 - 942);
    assert_int_equal(st.n_items_dropped, 1682 - 1447);
    /* Pair by pair: the data set holds exactly the positives, each weight 1. */
    const int64_t *rp, *tsp;
    const int32_t *it;
    const float *w;
    facto_dataset_csr(ds, &rp, &it, &w, &tsp);
    assert_non_null(tsp);
    for (int32_t du = 0; du < facto_dataset_n_users(ds); du++) {
        int uid = atoi(facto_idmap_name(facto_dataset_users(ds), du));
        assert_int_equal(rp[du + 1] - rp[du], deg[uid]);
        for (int64_t k = rp[du]; k < rp[du + 1]; k++) {
            int iid = atoi(facto_idmap_name(facto_dataset_items(ds), it[k]));
            assert_true(positive[uid][iid]);
            assert_true(w[k] == 1.0f);
        }
    }
    /* "196 242 3 881250949" is below 4; "186 302 3" too; "22 377 1" too. */
    assert_false(lookup(ds, "196", "242", NULL, NULL));
    facto_dataset_free(ds);
    /* Without a threshold: every line is a pair weighing its rating. */
    o = opts_implicit(0);
    ds = read_stats_ok(path, &o, &st);
    assert_int_equal(facto_dataset_n_ratings(ds), 100000);
    float r;
    int64_t t;
    assert_true(lookup(ds, "196", "242", &r, &t) && r == 3.0f && t == 881250949);
    facto_dataset_free(ds);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_ml100k),
        cmocka_unit_test(test_ml1m),
        cmocka_unit_test(test_ml_csv),
        cmocka_unit_test(test_delimited),
        cmocka_unit_test(test_header_detection),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_line_ends_bom_comments),
        cmocka_unit_test(test_long_lines_and_ids),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_integer_ids),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_implicit_sums),
        cmocka_unit_test(test_implicit_threshold),
        cmocka_unit_test(test_implicit_missing_column),
        cmocka_unit_test(test_implicit_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_hostile_bytes_and_ignored_options),
        cmocka_unit_test(test_titles_control_characters),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_invalid_options),
        fct_data_test(test_ml100k_u_data),
        fct_data_test(test_ml100k_implicit),
    };
    return fct_run_tests(tests, group_setup, group_teardown);
}
