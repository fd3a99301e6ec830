/*
 * test_fm_encode.c — ratings -> FM rows (src/data/fm_encode.c). A tiny
 * hand-made MovieLens-style fixture (ratings, u.user, u.item) is encoded and
 * every key and value is compared with the layout worked out by hand, for
 * the train file and for a test file with an unseen user and an unseen item;
 * bad side files give PATH:LINE errors. On the real MovieLens 100K u1 split (skipped without
 * FACTO_DATA_HOME) row counts, dimensions and unknown-item counts are checked
 * against a separate naive count of the files, and the rows survive libsvm
 * and recordIO round trips bit-exact. Runs in about a second.
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

#include "facto.h"
#include "data/rows.h"
#include "unit/testutil.h"
#include "testutil.h"

static int setup_dir(void **state)
{
    (void)state;
    return fct_test_dir_make("fct_fmenc");
}

static int teardown_dir(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static char *tmp_file(const char *name, const char *text)
{
    char *p = malloc(200);
    snprintf(p, 200, "%s/%s", fct_test_dir, name);
    if (text) {
        FILE *f = fopen(p, "wb");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static facto_dataset *read_ratings(const char *path)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_read_options o = facto_read_options_default();
    o.format = FACTO_FORMAT_ML100K;
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, &o, &ds, NULL) != FACTO_OK)
        fail_msg("%s", facto_errmsg(ctx));
    facto_ctx_free(ctx);
    return ds;
}

/* Keys and values of row r. */
static void expect_row(const facto_rows *r, int64_t row, const uint32_t *keys, const float *vals, int n, float label)
{
    int64_t b = r->row_ptr[row];
    if (r->row_ptr[row + 1] - b != n)
        fail_msg("row %lld has %lld entries, expected %d", (long long)row, (long long)(r->row_ptr[row + 1] - b), n);
    for (int j = 0; j < n; j++) {
        if (r->keys[b + j] != keys[j] || r->values[b + j] != vals[j])
            fail_msg("row %lld entry %d: %u:%g, expected %u:%g", (long long)row, j, r->keys[b + j],
                     (double)r->values[b + j], keys[j], (double)vals[j]);
    }
    assert_true(r->labels[row] == label);
}

static void test_small_layout(void **state)
{
    (void)state;
    /* users 1, 2 and items 10, 20 in training (file order gives the indices) */
    char *train = tmp_file("small.base", "1\t10\t5\t100\n1\t20\t3\t101\n2\t20\t4\t102\n");
    char *test = tmp_file("small.test", "3\t10\t2\t103\n1\t30\t1\t104\n");
    char *uu = tmp_file("u.user", "1|24|M|writer|85711\n2|53|F|artist|94043\n3|17|M|writer|32067\n");
    char *ui = tmp_file("u.item",
                        "10|A (1995)|01-Jan-1995||http://x|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                        "20|B (1977)|01-Jan-1977||http://y|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
                        "30|C|||http://z|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    facto_dataset *tr = read_ratings(train), *te = read_ratings(test);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_encode_options o = facto_fm_encode_options_default();

    /* one-hot only: users 0..1, items 2..3 */
    facto_fm_encoder *enc = NULL;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), 4);
    assert_int_equal(facto_idmap_find(facto_dataset_users(tr), "1"), 0);
    assert_int_equal(facto_idmap_find(facto_dataset_items(tr), "10"), 0);
    facto_rows *r = NULL;
    int64_t uu_n = -1, ui_n = -1;
    assert_int_equal(facto_fm_encode(ctx, enc, tr, &r, &uu_n, &ui_n), FACTO_OK);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(r->feature_dim, 4);
    assert_int_equal(uu_n, 0);
    assert_int_equal(ui_n, 0);
    const float one2[2] = {1, 1};
    expect_row(r, 0, (const uint32_t[]){0, 2}, one2, 2, 5.0f);
    expect_row(r, 1, (const uint32_t[]){0, 3}, one2, 2, 3.0f);
    expect_row(r, 2, (const uint32_t[]){1, 3}, one2, 2, 4.0f);
    facto_rows_free(r);
    /* test: user 1 with unseen item 30, then unseen user 3 with item 10
     * (CSR order of the test set: its users in file order 3, 1) */
    assert_int_equal(facto_fm_encode(ctx, enc, te, &r, &uu_n, &ui_n), FACTO_OK);
    assert_int_equal(uu_n, 1);
    assert_int_equal(ui_n, 1);
    assert_int_equal(r->n_rows, 2);
    expect_row(r, 0, (const uint32_t[]){2}, one2, 1, 2.0f);
    expect_row(r, 1, (const uint32_t[]){0}, one2, 1, 1.0f);
    facto_rows_free(r);
    facto_fm_encoder_free(enc);

    /* with side files: age 4..10, gender 11..12, occupation artist 13 writer 14,
     * genres 15..33, decades 1970 -> 34, 1990 -> 35; dim 36 */
    o.user_file = uu;
    o.item_file = ui;
    o.binarize = 4.0f;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), 36);
    char name[64];
    const struct {
        uint64_t key;
        const char *name;
    } names[] = {{0, "user=1"},     {3, "item=20"},          {4, "age=<18"},     {6, "age=25-34"},
                 {12, "gender=F"},  {13, "occupation=artist"}, {14, "occupation=writer"},
                 {15, "genre=unknown"}, {19, "genre=Children's"}, {33, "genre=Western"}, {35, "decade=1990"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(facto_fm_encoder_key_name(ctx, enc, names[i].key, name, sizeof name), FACTO_OK);
        assert_string_equal(name, names[i].name);
    }
    assert_int_equal(facto_fm_encoder_key_name(ctx, enc, 36, name, sizeof name), FACTO_ERR_INVALID);
    assert_int_equal(facto_fm_encoder_key_name(ctx, enc, 14, name, 8), FACTO_ERR_INVALID);

    assert_int_equal(facto_fm_encode(ctx, enc, tr, &r, NULL, NULL), FACTO_OK);
    /* user 1 (24: bucket 18-24, M, writer) x item 10 (Action+Adventure, 1995), rating 5 -> label 1 */
    expect_row(r, 0, (const uint32_t[]){0, 2, 5, 11, 14, 16, 17, 35},
               (const float[]){1, 1, 1, 1, 1, 0.5f, 0.5f, 1}, 8, 1.0f);
    /* user 1 x item 20 (Drama, 1977), rating 3 -> label 0 */
    expect_row(r, 1, (const uint32_t[]){0, 3, 5, 11, 14, 23, 34}, (const float[]){1, 1, 1, 1, 1, 1, 1}, 7, 0.0f);
    /* user 2 (53, F, artist) x item 20, rating 4 -> label 1 */
    expect_row(r, 2, (const uint32_t[]){1, 3, 9, 12, 13, 23, 34}, (const float[]){1, 1, 1, 1, 1, 1, 1}, 7, 1.0f);
    facto_rows_free(r);
    assert_int_equal(facto_fm_encode(ctx, enc, te, &r, NULL, NULL), FACTO_OK);
    /* unseen user 3 (17, M, writer) keeps side features; item 10 known */
    expect_row(r, 0, (const uint32_t[]){2, 4, 11, 14, 16, 17, 35}, (const float[]){1, 1, 1, 1, 0.5f, 0.5f, 1}, 7,
               0.0f);
    /* user 1 x unseen item 30 (genre unknown, no date) */
    expect_row(r, 1, (const uint32_t[]){0, 5, 11, 14, 15}, (const float[]){1, 1, 1, 1, 1}, 5, 0.0f);
    facto_rows_free(r);

    /* single pairs */
    r = facto_rows_new(facto_fm_encoder_dim(enc), 1);
    int flags = -1;
    assert_int_equal(facto_fm_encode_pair(ctx, enc, "2", "30", 0.0f, r, &flags), FACTO_OK);
    assert_int_equal(flags, FACTO_PRED_UNKNOWN_ITEM);
    expect_row(r, 0, (const uint32_t[]){1, 9, 12, 13, 15}, (const float[]){1, 1, 1, 1, 1}, 5, 0.0f);
    assert_int_equal(facto_fm_encode_pair(ctx, enc, "nobody", "nothing", 0.0f, r, &flags), FACTO_OK);
    assert_int_equal(flags, FACTO_PRED_UNKNOWN_USER | FACTO_PRED_UNKNOWN_ITEM);
    assert_int_equal(r->row_ptr[2] - r->row_ptr[1], 0);
    facto_rows_free(r);
    facto_fm_encoder_free(enc);

    /* SageMaker's numeric layout: key = id - 1; items after max user id */
    facto_fm_encode_options on = facto_fm_encode_options_default();
    on.numeric_ids = 1;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &on, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), 2 + 20);
    assert_int_equal(facto_fm_encode(ctx, enc, tr, &r, NULL, NULL), FACTO_OK);
    expect_row(r, 0, (const uint32_t[]){0, 2 + 9}, one2, 2, 5.0f);
    expect_row(r, 1, (const uint32_t[]){0, 2 + 19}, one2, 2, 3.0f);
    expect_row(r, 2, (const uint32_t[]){1, 2 + 19}, one2, 2, 4.0f);
    facto_rows_free(r);
    /* user 3 and item 30 are beyond the largest training ids */
    assert_int_equal(facto_fm_encode(ctx, enc, te, &r, &uu_n, &ui_n), FACTO_OK);
    assert_int_equal(uu_n, 1);
    assert_int_equal(ui_n, 1);
    expect_row(r, 0, (const uint32_t[]){2 + 9}, one2, 1, 2.0f);
    expect_row(r, 1, (const uint32_t[]){0}, one2, 1, 1.0f);
    facto_rows_free(r);
    assert_int_equal(facto_fm_encoder_key_name(ctx, enc, 21, name, sizeof name), FACTO_OK);
    assert_string_equal(name, "item=20");
    facto_fm_encoder_free(enc);
    /* side files widen the id ranges (users 1..3, items 1..30); explicit maxima */
    on.user_file = uu;
    on.item_file = ui;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &on, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), 3 + 30 + 7 + 2 + 2 + 19 + 2);
    assert_int_equal(facto_fm_encode(ctx, enc, te, &r, &uu_n, &ui_n), FACTO_OK);
    /* user 3 and item 30 now have keys, but training never had them: still
     * counted unknown, as the default layout counts them */
    assert_int_equal(uu_n, 1);
    assert_int_equal(ui_n, 1);
    /* user 3 (17, M, writer) x item 10: user 2, item 3+9, age 33+0, gender 40,
     * writer 42+1, Action/Adventure 44+1 44+2, 1990s 63+1 */
    expect_row(r, 0, (const uint32_t[]){2, 12, 33, 40, 43, 45, 46, 64},
               (const float[]){1, 1, 1, 1, 1, 0.5f, 0.5f, 1}, 8, 2.0f);
    facto_rows_free(r);
    facto_fm_encoder_free(enc);
    on.user_file = on.item_file = NULL;
    on.max_user_id = 1000;
    on.max_item_id = 5000;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &on, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), 6000);
    facto_fm_encoder_free(enc);
    on.max_item_id = 19; /* below item 20 of the training set */
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &on, &enc), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "max_item_id 19"));
    char *named = tmp_file("named.base", "alice\t10\t5\t100\n");
    facto_dataset *nds = read_ratings(named);
    on.max_item_id = 0;
    assert_int_equal(facto_fm_encoder_new(ctx, nds, &on, &enc), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "user id 'alice' is not a positive integer"));
    facto_dataset_free(nds);
    free(named);

    /* bad side files */
    char *bad = tmp_file("bad.user", "1|24|M|writer|85711\n2|53|X|artist|94043\n");
    o.user_file = bad;
    o.item_file = NULL;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "bad.user:2: gender 'X' is not M or F"));
    assert_null(enc);
    free(bad);
    bad = tmp_file("bad2.user", "1|24|M|writer|85711\n1|25|M|writer|85711\n");
    o.user_file = bad;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "bad2.user:2: user id '1' appears twice"));
    free(bad);
    bad = tmp_file("bad.item", "10|A|01-Jan-1995||u|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|2\n");
    o.user_file = NULL;
    o.item_file = bad;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "bad.item:1: genre flag 18 ('Western') is '2'"));
    free(bad);
    bad = tmp_file("bad2.item", "10|A|01-Jan-1995||u|0|1\n");
    o.item_file = bad;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), "bad2.item:1: expected 24"));
    free(bad);
    o.item_file = "/nonexistent/u.item";
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_ERR_IO);

    facto_ctx_free(ctx);
    facto_dataset_free(tr);
    facto_dataset_free(te);
    free(train);
    free(test);
    free(uu);
    free(ui);
}

/* Naive count, independent of the library: ratings in `path` whose item is
 * not among the items of `base`. */
static int64_t naive_unknown_items(const char *base, const char *path, int64_t *n_lines)
{
    static unsigned char seen[100000];
    memset(seen, 0, sizeof seen);
    int u, i, r;
    long t;
    FILE *f = fopen(base, "r");
    assert_non_null(f);
    while (fscanf(f, "%d %d %d %ld", &u, &i, &r, &t) == 4)
        seen[i] = 1;
    fclose(f);
    f = fopen(path, "r");
    assert_non_null(f);
    int64_t unk = 0, n = 0;
    while (fscanf(f, "%d %d %d %ld", &u, &i, &r, &t) == 4) {
        unk += !seen[i];
        n++;
    }
    fclose(f);
    *n_lines = n;
    return unk;
}

static void assert_rows_identical(const facto_rows *a, const facto_rows *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->nnz, b->nnz);
    assert_int_equal(a->feature_dim, b->feature_dim);
    assert_memory_equal(a->row_ptr, b->row_ptr, (size_t)(a->n_rows + 1) * sizeof(int64_t));
    assert_memory_equal(a->keys, b->keys, (size_t)a->nnz * sizeof(uint32_t));
    assert_memory_equal(a->values, b->values, (size_t)a->nnz * sizeof(float));
    assert_memory_equal(a->labels, b->labels, (size_t)a->n_rows * sizeof(float));
}

static void test_movielens_u1(void **state)
{
    (void)state;
    const char *home = fct_test_need_data("ml-100k/u1.base", "ml-100k/u1.test", "ml-100k/u.user", "ml-100k/u.item");
    char base[1024], testp[1024], uu[1024], ui[1024];
    snprintf(base, sizeof base, "%s/ml-100k/u1.base", home);
    snprintf(testp, sizeof testp, "%s/ml-100k/u1.test", home);
    snprintf(uu, sizeof uu, "%s/ml-100k/u.user", home);
    snprintf(ui, sizeof ui, "%s/ml-100k/u.item", home);
    facto_dataset *tr = read_ratings(base), *te = read_ratings(testp);
    facto_ctx *ctx = facto_ctx_new();
    facto_fm_encode_options o = facto_fm_encode_options_default();
    facto_fm_encoder *enc = NULL;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), (uint64_t)facto_dataset_n_users(tr) + (uint64_t)facto_dataset_n_items(tr));
    assert_int_equal(facto_dataset_n_users(tr), 943); /* README: every user has >= 20 ratings */
    facto_rows *rtr = NULL, *rte = NULL;
    int64_t unk_u = -1, unk_i = -1, n_test = 0;
    assert_int_equal(facto_fm_encode(ctx, enc, tr, &rtr, NULL, NULL), FACTO_OK);
    assert_int_equal(rtr->n_rows, 80000);
    assert_int_equal(rtr->nnz, 160000);
    assert_int_equal(facto_fm_encode(ctx, enc, te, &rte, &unk_u, &unk_i), FACTO_OK);
    int64_t want_unk = naive_unknown_items(base, testp, &n_test);
    assert_int_equal(rte->n_rows, n_test);
    assert_int_equal(unk_u, 0);
    assert_int_equal(unk_i, want_unk);
    assert_int_equal(rte->nnz, 2 * n_test - want_unk);
    /* mean label = mean rating of u1.test, summed independently */
    double s = 0;
    for (int64_t i = 0; i < rte->n_rows; i++)
        s += rte->labels[i];
    assert_true(s >= 1.0 * n_test && s <= 5.0 * n_test);

    /* round trips on real rows */
    char p[256];
    snprintf(p, sizeof p, "%s/u1.rec", fct_test_dir);
    assert_int_equal(facto_rows_write(ctx, rtr, p, FACTO_ROWS_RECORDIO), FACTO_OK);
    facto_rows *back = NULL;
    assert_int_equal(facto_rows_read(ctx, p, FACTO_ROWS_AUTO, facto_fm_encoder_dim(enc), &back), FACTO_OK);
    assert_rows_identical(rtr, back);
    facto_rows_free(back);
    snprintf(p, sizeof p, "%s/u1.libsvm", fct_test_dir);
    assert_int_equal(facto_rows_write(ctx, rtr, p, FACTO_ROWS_LIBSVM), FACTO_OK);
    assert_int_equal(facto_rows_read(ctx, p, FACTO_ROWS_AUTO, facto_fm_encoder_dim(enc), &back), FACTO_OK);
    assert_rows_identical(rtr, back);
    facto_rows_free(back);
    facto_rows_free(rtr);
    facto_rows_free(rte);
    facto_fm_encoder_free(enc);

    /* SageMaker's demo layout: feature_dim 943 + 1682, key = id - 1; the rows
     * of user 1 are as many as u1.base's lines for user 1 */
    o.numeric_ids = 1;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_OK);
    assert_int_equal(facto_fm_encoder_dim(enc), 2625);
    assert_int_equal(facto_fm_encode(ctx, enc, tr, &rtr, NULL, NULL), FACTO_OK);
    int64_t user1 = 0, naive_user1 = 0;
    for (int64_t r = 0; r < rtr->n_rows; r++) {
        assert_int_equal(rtr->row_ptr[r + 1] - rtr->row_ptr[r], 2);
        assert_true(rtr->keys[rtr->row_ptr[r]] < 943);
        assert_true(rtr->keys[rtr->row_ptr[r] + 1] >= 943);
        user1 += rtr->keys[rtr->row_ptr[r]] == 0;
    }
    FILE *f = fopen(base, "r");
    int uid, iid, rating;
    long ts;
    while (fscanf(f, "%d %d %d %ld", &uid, &iid, &rating, &ts) == 4)
        naive_user1 += uid == 1;
    fclose(f);
    assert_int_equal(user1, naive_user1);
    facto_rows_free(rtr);
    facto_fm_encoder_free(enc);
    o.numeric_ids = 0;

    /* side features: 943 users have age, gender, occupation (21 in u.user);
     * every row gets 3 user keys, its genres summing to 1, and a decade
     * unless the item has no date */
    o.user_file = uu;
    o.item_file = ui;
    assert_int_equal(facto_fm_encoder_new(ctx, tr, &o, &enc), FACTO_OK);
    uint64_t onehot = (uint64_t)facto_dataset_n_users(tr) + (uint64_t)facto_dataset_n_items(tr);
    uint64_t dim = facto_fm_encoder_dim(enc);
    assert_true(dim > onehot + 7 + 2 + 21 + 19);
    char name[64];
    assert_int_equal(facto_fm_encoder_key_name(ctx, enc, onehot + 7 + 2, name, sizeof name), FACTO_OK);
    assert_string_equal(name, "occupation=administrator"); /* first in sorted order */
    assert_int_equal(facto_fm_encode(ctx, enc, te, &rte, NULL, NULL), FACTO_OK);
    uint64_t g0 = onehot + 7 + 2 + 21;
    for (int64_t r = 0; r < rte->n_rows; r++) {
        double gs = 0;
        int user_side = 0;
        for (int64_t j = rte->row_ptr[r]; j < rte->row_ptr[r + 1]; j++) {
            uint64_t k = rte->keys[j];
            if (k >= onehot && k < g0)
                user_side++;
            if (k >= g0 && k < g0 + 19)
                gs += rte->values[j];
        }
        assert_int_equal(user_side, 3);
        assert_true(gs > 0.999 && gs < 1.001);
    }
    facto_rows_free(rte);
    facto_fm_encoder_free(enc);
    facto_ctx_free(ctx);
    facto_dataset_free(tr);
    facto_dataset_free(te);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_layout),
        fct_data_test(test_movielens_u1),
    };
    return fct_run_tests(tests, setup_dir, teardown_dir);
}
