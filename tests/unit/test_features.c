/*
 * test_features.c — feature tables (facto_features, src/data/features.c).
 * Small u.user, u.item and attribute files written to a scratch folder are
 * read through the public API and every column name, group and row value is
 * compared with what was worked out by hand; bad lines must fail with
 * PATH:LINE messages, duplicate ids are errors, an empty file is
 * FACTO_ERR_EMPTY. fct_fm_side_table's mapping onto training ids is checked
 * on the same files. On the real MovieLens 100K u.user / u.item (skipped
 * without FACTO_DATA_HOME/ml-100k) a few known rows are checked. Under a second.
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

#include "data/fm_blocks.h"
#include "facto.h"
#include "unit/testutil.h"
#include "testutil.h"

static int setup_dir(void **state)
{
    (void)state;
    return fct_test_dir_make("fct_features");
}

static int teardown_dir(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

/* Write `text` to <scratch>/name and return the path (rotating buffer). */
static const char *write_file(const char *name, const char *text)
{
    const char *p = fct_test_path(name);
    fct_test_spit(p, text, strlen(text));
    return p;
}

static facto_features *read_ok(facto_ctx *ctx, const char *path)
{
    facto_features *f = NULL;
    if (facto_features_read(ctx, path, &f) != FACTO_OK)
        fail_msg("%s: %s", path, facto_errmsg(ctx));
    assert_non_null(f);
    return f;
}

/* The row of `id` holds exactly the columns named names[0..n) (ascending
 * column order) with values vals[0..n). */
static void expect_row(facto_ctx *ctx, const facto_features *f, const char *id, const char *const *names,
                       const float *vals, int n)
{
    int32_t idx = facto_idmap_find(facto_features_ids(f), id);
    if (idx < 0)
        fail_msg("id '%s' not in the table", id);
    const uint32_t *cols = NULL;
    const float *v = NULL;
    int32_t len = -1;
    assert_int_equal(facto_features_row(ctx, f, idx, &cols, &v, &len), FACTO_OK);
    if (len != n)
        fail_msg("id '%s' has %d entries, expected %d", id, (int)len, n);
    for (int j = 0; j < n; j++) {
        const char *name = NULL;
        assert_int_equal(facto_features_column(ctx, f, (int32_t)cols[j], &name, NULL), FACTO_OK);
        if (strcmp(name, names[j]) != 0 || v[j] != vals[j])
            fail_msg("id '%s' entry %d: %s:%.9g, expected %s:%.9g", id, j, name, (double)v[j], names[j],
                     (double)vals[j]);
        if (j > 0)
            assert_true(cols[j] > cols[j - 1]);
    }
}

/* Column c is named `name` and its group is named `group`. */
static void expect_column(facto_ctx *ctx, const facto_features *f, int32_t c, const char *name, const char *group)
{
    const char *cn = NULL, *gn = NULL;
    int32_t g = -1;
    assert_int_equal(facto_features_column(ctx, f, c, &cn, &g), FACTO_OK);
    assert_int_equal(facto_features_group(ctx, f, g, &gn), FACTO_OK);
    if (strcmp(cn, name) != 0 || strcmp(gn, group) != 0)
        fail_msg("column %d is %s in group %s, expected %s in group %s", (int)c, cn, gn, name, group);
}

static void test_movielens_users(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *p = write_file("u.user", "1|24|M|writer|85711\n\n2|53|F|artist|94043\n3|17|M|writer|32067\n"
                                         "10|56|F|doctor|00000\n");
    facto_features *f = read_ok(ctx, p);
    /* 7 age buckets, M, F, then artist doctor writer (sorted) */
    assert_int_equal(facto_features_n_ids(f), 4);
    assert_int_equal(facto_features_n_columns(f), 12);
    assert_int_equal(facto_features_n_groups(f), 3);
    const char *ages[] = {"age=<18", "age=18-24", "age=25-34", "age=35-44", "age=45-49", "age=50-55", "age=56+"};
    for (int a = 0; a < 7; a++)
        expect_column(ctx, f, a, ages[a], "age");
    expect_column(ctx, f, 7, "gender=M", "gender");
    expect_column(ctx, f, 8, "gender=F", "gender");
    expect_column(ctx, f, 9, "occupation=artist", "occupation");
    expect_column(ctx, f, 10, "occupation=doctor", "occupation");
    expect_column(ctx, f, 11, "occupation=writer", "occupation");
    /* ids in file order */
    assert_string_equal(facto_idmap_name(facto_features_ids(f), 0), "1");
    assert_string_equal(facto_idmap_name(facto_features_ids(f), 3), "10");
    const float one[3] = {1, 1, 1};
    expect_row(ctx, f, "1", (const char *const[]){"age=18-24", "gender=M", "occupation=writer"}, one, 3);
    expect_row(ctx, f, "2", (const char *const[]){"age=50-55", "gender=F", "occupation=artist"}, one, 3);
    expect_row(ctx, f, "3", (const char *const[]){"age=<18", "gender=M", "occupation=writer"}, one, 3);
    expect_row(ctx, f, "10", (const char *const[]){"age=56+", "gender=F", "occupation=doctor"}, one, 3);
    facto_features_free(f);
    facto_ctx_free(ctx);
}

static void test_movielens_items(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    /* item 20's title holds '|' and an ISO-8859-1 byte; item 30 has no date */
    const char *p = write_file("u.item", "10|A (1995)|01-Jan-1995||http://x|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                                         "20|B|Mis\xe9rables (1977)|01-Jan-1977||http://y|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                                         "30|C|||http://z|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                                         "40|D|12-Oct-1999||http://w|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    facto_features *f = read_ok(ctx, p);
    assert_int_equal(facto_features_n_ids(f), 4);
    assert_int_equal(facto_features_n_columns(f), 19 + 2); /* decades 1970, 1990 */
    assert_int_equal(facto_features_n_groups(f), 2);
    expect_column(ctx, f, 0, "genre=unknown", "genre");
    expect_column(ctx, f, 4, "genre=Children's", "genre");
    expect_column(ctx, f, 18, "genre=Western", "genre");
    expect_column(ctx, f, 19, "decade=1970", "decade");
    expect_column(ctx, f, 20, "decade=1990", "decade");
    expect_row(ctx, f, "10", (const char *const[]){"genre=Action", "genre=Adventure", "decade=1990"},
               (const float[]){0.5f, 0.5f, 1.0f}, 3);
    const float third = 1.0f / 3.0f;
    expect_row(ctx, f, "20", (const char *const[]){"genre=Animation", "genre=Children's", "genre=Comedy", "decade=1970"},
               (const float[]){third, third, third, 1.0f}, 4);
    expect_row(ctx, f, "30", (const char *const[]){"genre=unknown"}, (const float[]){1.0f}, 1);
    /* no genre flag set: only the decade */
    expect_row(ctx, f, "40", (const char *const[]){"decade=1990"}, (const float[]){1.0f}, 1);
    facto_features_free(f);
    facto_ctx_free(ctx);
}

static void test_attributes(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    /* comments and blank lines skipped; value 1 when omitted; spaces and
     * tabs separate; a name twice on a line sums; the value follows the
     * last ':'; a name without '=' is its own group; bytes kept as they are */
    const char *p = write_file("items.attr", "# id<TAB>attributes\n"
                                             "\n"
                                             "m1\tgenre=Drama year:1995 genre=Comedy:0.25\n"
                                             "m2\tyear:-1e-3  genre=Drama:2\tgenre=Drama:0.5 url=a:b:3\n"
                                             "m3\t\n"
                                             "caf\xe9\tgenre=Com\xe9" "die kids\n");
    facto_features *f = read_ok(ctx, p);
    assert_int_equal(facto_features_n_ids(f), 4);
    assert_int_equal(facto_features_n_columns(f), 6);
    assert_int_equal(facto_features_n_groups(f), 4);
    expect_column(ctx, f, 0, "genre=Drama", "genre");
    expect_column(ctx, f, 1, "year", "year");
    expect_column(ctx, f, 2, "genre=Comedy", "genre");
    expect_column(ctx, f, 3, "url=a:b", "url");
    expect_column(ctx, f, 4, "genre=Com\xe9" "die", "genre");
    expect_column(ctx, f, 5, "kids", "kids");
    const char *g = NULL;
    assert_int_equal(facto_features_group(ctx, f, 0, &g), FACTO_OK);
    assert_string_equal(g, "genre");
    assert_int_equal(facto_features_group(ctx, f, 3, &g), FACTO_OK);
    assert_string_equal(g, "kids");
    expect_row(ctx, f, "m1", (const char *const[]){"genre=Drama", "year", "genre=Comedy"},
               (const float[]){1.0f, 1995.0f, 0.25f}, 3);
    /* columns ascending whatever the order on the line */
    expect_row(ctx, f, "m2", (const char *const[]){"genre=Drama", "year", "url=a:b"}, (const float[]){2.5f, -1e-3f, 3.0f},
               3);
    expect_row(ctx, f, "m3", NULL, NULL, 0);
    expect_row(ctx, f, "caf\xe9", (const char *const[]){"genre=Com\xe9" "die", "kids"}, (const float[]){1.0f, 1.0f}, 2);
    facto_features_free(f);
    facto_ctx_free(ctx);
}

static void test_unknown_and_out_of_range(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_features *f = read_ok(ctx, write_file("small.attr", "a\tx\nb\ty:2\n"));
    const facto_idmap *ids = facto_features_ids(f);
    assert_int_equal(facto_idmap_find(ids, "b"), 1);
    int32_t unknown = facto_idmap_find(ids, "zzz");
    assert_int_equal(unknown, -1);
    const uint32_t *cols = (const uint32_t *)1;
    int32_t n = 7;
    assert_int_equal(facto_features_row(ctx, f, unknown, &cols, NULL, &n), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "id index -1 is not in [0, 2)"));
    assert_int_equal(n, 7); /* untouched on error */
    assert_int_equal(facto_features_row(ctx, f, 2, &cols, NULL, &n), FACTO_ERR_INVALID);
    const char *name = NULL;
    assert_int_equal(facto_features_column(ctx, f, 2, &name, NULL), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "column 2 is not in [0, 2)"));
    assert_int_equal(facto_features_column(ctx, f, -1, &name, NULL), FACTO_ERR_INVALID);
    assert_int_equal(facto_features_group(ctx, f, 2, &name), FACTO_ERR_INVALID);
    assert_int_equal(facto_features_row(ctx, f, 1, NULL, NULL, &n), FACTO_OK);
    assert_int_equal(n, 1);
    assert_string_equal(facto_errmsg(ctx), "");
    facto_features_free(f);
    /* NULL tables count nothing */
    assert_int_equal(facto_features_n_ids(NULL), 0);
    assert_int_equal(facto_features_n_columns(NULL), 0);
    assert_null(facto_features_ids(NULL));
    facto_features_free(NULL);
    facto_ctx_free(ctx);
}

/* Reading <scratch>/name holding `text` fails with `code` and a message
 * holding "<scratch>/name:<line>: <what>" (line 0: "<scratch>/name: <what>"). */
static void read_fails(facto_ctx *ctx, const char *name, const char *text, facto_status code, int line,
                       const char *what)
{
    const char *p = write_file(name, text);
    facto_features *f = (facto_features *)1;
    facto_status st = facto_features_read(ctx, p, &f);
    if (st != code)
        fail_msg("%s: status %d (%s), expected %d", name, (int)st, facto_errmsg(ctx), (int)code);
    assert_null(f);
    char want[512];
    if (line > 0)
        snprintf(want, sizeof want, "%s:%d: %s", p, line, what);
    else
        snprintf(want, sizeof want, "%s: %s", p, what);
    if (!strstr(facto_errmsg(ctx), want))
        fail_msg("%s: message '%s' lacks '%s'", name, facto_errmsg(ctx), want);
}

static void test_bad_input(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const facto_status P = FACTO_ERR_PARSE;
    /* attribute files */
    read_fails(ctx, "notab.attr", "# c\na\tx\nb x\n", P, 3, "expected 'id<TAB>name[:value] ...'");
    read_fails(ctx, "nan.attr", "a\tx:nan\n", P, 1, "value of 'x:nan' is not a finite number");
    read_fails(ctx, "inf.attr", "a\tx:1\n\nb\ty:-inf\n", P, 3, "value of 'y:-inf' is not a finite number");
    read_fails(ctx, "big.attr", "a\tx:1e39\n", P, 1, "value of 'x:1e39' is not a finite number");
    read_fails(ctx, "abc.attr", "a\tx:1.5abc\n", P, 1, "value of 'x:1.5abc' is not a finite number");
    read_fails(ctx, "novalue.attr", "a\tx:\n", P, 1, "value of 'x:' is not a finite number");
    read_fails(ctx, "noname.attr", "a\t:3\n", P, 1, "bad attribute name '' (1..255 bytes)");
    read_fails(ctx, "nogroup.attr", "a\t=3\n", P, 1, "bad attribute name '=3'");
    read_fails(ctx, "noid.attr", "a\tx\n\ty\n", P, 2, "id '' is empty or too long");
    /* duplicate ids are errors, not merged */
    read_fails(ctx, "dup.attr", "7\tx\n8\ty\n7\tz\n", P, 3, "id '7' appears twice");
    read_fails(ctx, "dup.user", "1|24|M|writer|85711\n1|25|M|writer|85711\n", P, 2, "user id '1' appears twice");
    read_fails(ctx, "dup.item",
               "5|A|01-Jan-1995||u|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
               "5|A|01-Jan-1995||u|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
               P, 2, "item id '5' appears twice");
    /* u.user */
    read_fails(ctx, "gender.user", "1|24|M|writer|85711\n2|53|X|artist|94043\n", P, 2, "gender 'X' is not M or F");
    read_fails(ctx, "age.user", "1|2x|M|writer|85711\n", P, 1, "age '2x' is not a whole number of years");
    read_fails(ctx, "occ.user", "1|24|M||85711\n", P, 1, "empty occupation");
    read_fails(ctx, "fields.user", "1|24|M|writer|85711\n2|53|F|artist\n", P, 2, "expected 5 '|'-separated fields");
    /* u.item */
    read_fails(ctx, "flag.item", "10|A|01-Jan-1995||u|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|2\n", P, 1,
               "genre flag 18 ('Western') is '2', not 0 or 1");
    read_fails(ctx, "date.item", "10|A|someday||u|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n", P, 1,
               "release date 'someday' has no year");
    read_fails(ctx, "fields.item", "10|A|01-Jan-1995||u|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n10|A|x\n", P, 2,
               "expected 24 '|'-separated fields");
    /* nothing to read */
    read_fails(ctx, "empty.attr", "", FACTO_ERR_EMPTY, 0, "no ids");
    read_fails(ctx, "comments.attr", "# nothing\n\n# here\n", FACTO_ERR_EMPTY, 0, "no ids");
    facto_features *f = NULL;
    assert_int_equal(facto_features_read(ctx, fct_test_path("missing.attr"), &f), FACTO_ERR_IO);
    assert_null(f);
    assert_int_equal(facto_features_read(ctx, NULL, &f), FACTO_ERR_INVALID);
    facto_ctx_free(ctx);
}

/* fct_fm_side_table (FM training from ratings) maps a table onto training ids. */
static void test_fm_side_table(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *p = write_file("side.attr", "u9\tage:30 city=Oslo\nu1\tcity=Rome\nu5\tcity=Oslo:2\n");
    facto_features *f = read_ok(ctx, p);
    /* training users u1, u2 (not in the file), u9 */
    const facto_idmap *fid = facto_features_ids(f);
    facto_dataset *ds = NULL;
    const char *r = write_file("side.ratings", "u1\ti\t3\nu2\ti\t4\nu9\ti\t5\n");
    facto_read_options o = facto_read_options_default();
    assert_int_equal(facto_dataset_read(ctx, r, &o, &ds, NULL), FACTO_OK);
    facto_rows *rows = NULL;
    int32_t *groups = NULL, n_cols = 0;
    assert_int_equal(fct_fm_side_table(ctx, p, 1, facto_dataset_users(ds), &rows, &groups, &n_cols), FACTO_OK);
    assert_int_equal(n_cols, 3); /* age, city=Oslo, city=Rome */
    assert_int_equal(rows->n_rows, 3);
    assert_int_equal(rows->feature_dim, 3);
    assert_int_equal(groups[0], 0);
    assert_int_equal(groups[1], 1);
    assert_int_equal(groups[2], 1);
    const int64_t want_ptr[4] = {0, 1, 1, 3};
    assert_memory_equal(rows->row_ptr, want_ptr, sizeof want_ptr);
    assert_int_equal(rows->keys[0], 2);
    assert_true(rows->values[0] == 1.0f);
    assert_int_equal(rows->keys[1], 0);
    assert_true(rows->values[1] == 30.0f);
    assert_int_equal(rows->keys[2], 1);
    assert_true(rows->values[2] == 1.0f);
    assert_int_equal(facto_idmap_find(fid, "u5"), 2); /* in the table, not in training: dropped */
    facto_rows_free(rows);
    free(groups);
    /* a u.user file is refused as items (the kind is fixed by is_user) */
    const char *uu = write_file("side.user", "u1|24|M|writer|85711\n");
    assert_int_equal(fct_fm_side_table(ctx, uu, 0, facto_dataset_items(ds), &rows, &groups, &n_cols), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "side.user:1: expected 24 '|'-separated fields"));
    assert_null(rows);
    assert_int_equal(fct_fm_side_table(ctx, uu, 1, facto_dataset_users(ds), &rows, &groups, &n_cols), FACTO_OK);
    assert_int_equal(n_cols, 7 + 2 + 1);
    facto_rows_free(rows);
    free(groups);
    /* ids of other data: no training user gets a feature */
    const char *other = write_file("other.attr", "zzz\tx\n");
    assert_int_equal(fct_fm_side_table(ctx, other, 1, facto_dataset_users(ds), &rows, &groups, &n_cols),
                     FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "other.attr: gives no user of the training ratings a feature"));
    facto_dataset_free(ds);
    facto_features_free(f);
    facto_ctx_free(ctx);
}

/* The real MovieLens 100K side files, when FACTO_DATA_HOME has them. */
static void test_real_ml100k(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u.user", "ml-100k/u.item");
    char uu[1024], ui[1024];
    snprintf(uu, sizeof uu, "%s/ml-100k/u.user", home);
    snprintf(ui, sizeof ui, "%s/ml-100k/u.item", home);
    facto_ctx *ctx = facto_ctx_new();
    facto_features *f = read_ok(ctx, uu);
    /* ml-100k README: 943 users, 21 occupations */
    assert_int_equal(facto_features_n_ids(f), 943);
    assert_int_equal(facto_features_n_columns(f), 7 + 2 + 21);
    const float one[3] = {1, 1, 1};
    /* "1|24|M|technician|85711", "2|53|F|other|94043" */
    expect_row(ctx, f, "1", (const char *const[]){"age=18-24", "gender=M", "occupation=technician"}, one, 3);
    expect_row(ctx, f, "2", (const char *const[]){"age=50-55", "gender=F", "occupation=other"}, one, 3);
    expect_column(ctx, f, 9, "occupation=administrator", "occupation");
    facto_features_free(f);

    f = read_ok(ctx, ui);
    /* 1682 movies, released in the 1920s .. 1990s */
    assert_int_equal(facto_features_n_ids(f), 1682);
    assert_int_equal(facto_features_n_columns(f), 19 + 8);
    expect_column(ctx, f, 19, "decade=1920", "decade");
    const float third = 1.0f / 3.0f;
    /* Toy Story (1995): Animation, Children's, Comedy */
    expect_row(ctx, f, "1", (const char *const[]){"genre=Animation", "genre=Children's", "genre=Comedy", "decade=1990"},
               (const float[]){third, third, third, 1.0f}, 4);
    /* GoldenEye (1995): Action, Adventure, Thriller */
    expect_row(ctx, f, "2", (const char *const[]){"genre=Action", "genre=Adventure", "genre=Thriller", "decade=1990"},
               (const float[]){third, third, third, 1.0f}, 4);
    /* 267 "unknown": genre unknown, no release date */
    expect_row(ctx, f, "267", (const char *const[]){"genre=unknown"}, (const float[]){1.0f}, 1);
    facto_features_free(f);
    facto_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_movielens_users),
        cmocka_unit_test(test_movielens_items),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_unknown_and_out_of_range),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_fm_side_table),
        fct_data_test(test_real_ml100k),
    };
    return fct_run_tests(tests, setup_dir, teardown_dir);
}
