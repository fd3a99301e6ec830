/*
 * test_fds.c — the .fds data set file: round trips of every width and code
 * variant (2- and 4-byte items, 1-byte codes for half-stars and binary
 * weights, float32 ratings, with and without timestamps) give back the same
 * ids, CSR arrays and rating bits (the narrow arrays as read, kept in the
 * mapping, then the widened ones); the implicit threshold applies to a .fds
 * file as to text; id map views find every id; corrupt files (truncated,
 * a flipped byte, and with the checksum recomputed so the later checks are
 * reached: a section outside the file, decreasing row offsets, an item out
 * of range or out of order, a code outside the table, a repeated id, a
 * newer version) are FACTO_ERR_CORRUPT / FACTO_ERR_VERSION, never a crash;
 * shards read by offset (fct_fds_read_shard, for distributed training)
 * give back exactly their users' part for 1, 2, 3 and 7 parts, and check
 * what they read; synthetic sets are the same for a seed; the rating sum
 * (fct_dataset_rating_sum: the plain order's bits, in pieces when exact)
 * and a constant's RMSE, narrow or wide. About a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <xxhash.h>

#include "data/fds.h"
#include "facto.h"
#include "testutil.h"

/* A data set of n triplets (ids as numbers, ratings by rate(k)). */
static facto_dataset *make_ds(int n_users, int n_items, int per_user, float (*rate)(int64_t), int with_time)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_idmap *um = fct_idmap_new(), *im = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    char id[32];
    int64_t k = 0;
    for (int u = 0; u < n_users; u++) {
        snprintf(id, sizeof id, "user%d", u * 7 + 3);
        int32_t ui = fct_idmap_intern(um, id, strlen(id));
        for (int j = 0; j < per_user; j++, k++) {
            int item = (int)(((int64_t)u * per_user + j) * 11 % n_items);
            snprintf(id, sizeof id, "it-%d", item);
            int32_t ii = fct_idmap_intern(im, id, strlen(id));
            assert_int_equal(fct_coo_push(ctx, &coo, ui, ii, rate(k), with_time, 1000000 + k * 37), FACTO_OK);
        }
    }
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_build(ctx, &coo, um, im, NULL, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    facto_ctx_free(ctx);
    return ds;
}

static float rate_half(int64_t k) { return 0.5f * (float)(1 + (k * 7919) % 10); }
static float rate_one(int64_t k) { (void)k; return 1.0f; }
static float rate_float(int64_t k) { return (float)sin((double)k) * 3.25f; }

static void assert_same(const facto_dataset *a, const facto_dataset *b)
{
    assert_int_equal(a->n_users, b->n_users);
    assert_int_equal(a->n_items, b->n_items);
    assert_int_equal(a->n_ratings, b->n_ratings);
    for (int32_t u = 0; u < a->n_users; u++)
        assert_string_equal(facto_idmap_name(a->user_map, u), facto_idmap_name(b->user_map, u));
    for (int32_t i = 0; i < a->n_items; i++) {
        assert_string_equal(facto_idmap_name(a->item_map, i), facto_idmap_name(b->item_map, i));
        assert_int_equal(facto_idmap_find(b->item_map, facto_idmap_name(a->item_map, i)), i);
    }
    assert_int_equal(facto_idmap_find(b->item_map, "no such id"), -1);
    assert_memory_equal(a->row_ptr, b->row_ptr, ((size_t)a->n_users + 1) * sizeof *a->row_ptr);
    /* a .fds data set's narrow arrays (read before any widening), then the wide ones */
    for (int64_t x = 0; x < a->n_ratings; x++) {
        assert_int_equal(fct_ds_item(b, x), a->items[x]);
        float ra = a->ratings[x], rb = fct_ds_rating(b, x);
        assert_memory_equal(&ra, &rb, sizeof ra);
    }
    assert_true(fabs(facto_dataset_mean_rating(b) - facto_dataset_mean_rating(a)) == 0.0);
    assert_int_equal(fct_dataset_wide(NULL, b), FACTO_OK);
    assert_memory_equal(a->items, b->items, (size_t)a->n_ratings * sizeof *a->items);
    assert_memory_equal(a->ratings, b->ratings, (size_t)a->n_ratings * sizeof *a->ratings);
    assert_true((a->timestamps == NULL) == (b->timestamps == NULL));
    if (a->timestamps)
        assert_memory_equal(a->timestamps, b->timestamps, (size_t)a->n_ratings * sizeof *a->timestamps);
    assert_true(a->min_rating == b->min_rating && a->max_rating == b->max_rating);
}

/* Write, check the header's widths, read back, compare. */
static void round_trip_v(facto_dataset *ds, int item_w, int rate_w, int n_codes, int version)
{
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("rt.fds");
    if (version == FACTO_FDS_VERSION)
        assert_int_equal(facto_dataset_write_fds(ctx, ds, path), FACTO_OK);
    else
        assert_int_equal(fct_fds_write_version(ctx, ds, path, version), FACTO_OK);
    unsigned char h[64];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(h, 1, 64, f), 64);
    /* The checksum: XXH64 (seed 0) in format 1, XXH3 64-bit in format 2. */
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    unsigned char *all = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fread(all, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    uint64_t stored = 0;
    for (int i = 0; i < 8; i++)
        stored |= (uint64_t)all[size - 8 + i] << (8 * i);
    assert_true(stored == (version == 1 ? XXH64(all, (size_t)size - 8, 0) : XXH3_64bits(all, (size_t)size - 8)));
    free(all);
    assert_memory_equal(h, "FACTOFDS", 8);
    assert_int_equal(h[8], version);
    assert_int_equal(h[12], item_w);
    assert_int_equal(h[13], 4);
    assert_int_equal(h[14], rate_w);
    assert_int_equal(h[28], n_codes);
    facto_dataset *back = NULL;
    assert_int_equal(facto_dataset_read(ctx, path, NULL, &back, NULL), FACTO_OK);
    /* narrow sections stay in the mapping until asked for */
    assert_int_equal(back->narrow.item_w, item_w);
    if (item_w == 2)
        assert_null(back->items);
    if (rate_w == 1)
        assert_null(back->ratings);
    assert_same(ds, back);
    assert_non_null(back->fds);
    /* A second read of the same file has equal id tables (compared as
     * blobs), and a clone of a read map equals it too. */
    facto_dataset *again = NULL;
    assert_int_equal(facto_dataset_read(ctx, path, NULL, &again, NULL), FACTO_OK);
    assert_true(fct_idmap_equal(back->user_map, again->user_map));
    assert_true(fct_idmap_equal(back->item_map, again->item_map));
    assert_false(fct_idmap_equal(back->user_map, again->item_map));
    facto_idmap *c = fct_idmap_clone(again->item_map);
    facto_dataset_free(again);
    assert_true(fct_idmap_equal(c, back->item_map));
    assert_int_equal(facto_idmap_find(c, facto_idmap_name(back->item_map, back->n_items - 1)), back->n_items - 1);
    fct_idmap_free(c);
    facto_dataset_free(back);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static void round_trip(facto_dataset *ds, int item_w, int rate_w, int n_codes)
{
    round_trip_v(ds, item_w, rate_w, n_codes, FACTO_FDS_VERSION);
}

/* Format 1 files (XXH64), as facto 0.1 wrote them, stay readable. */
static void test_format1(void **state)
{
    (void)state;
    round_trip_v(make_ds(50, 300, 20, rate_half, 1), 2, 1, 10, 1);
    round_trip_v(make_ds(400, 70000, 200, rate_one, 0), 4, 1, 1, 1);
    round_trip_v(make_ds(60, 500, 40, rate_float, 1), 2, 4, 0, 1);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_ds(5, 5, 2, rate_one, 0);
    assert_int_equal(fct_fds_write_version(ctx, ds, fct_test_path("v3.fds"), FACTO_FDS_VERSION + 1), FACTO_ERR_INVALID);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static void test_half_stars_u16_time(void **state)
{
    (void)state;
    round_trip(make_ds(50, 300, 20, rate_half, 1), 2, 1, 10);
}

static void test_binary_u32(void **state)
{
    (void)state;
    /* 70 000 items: 4-byte indices, borrowed from the mapping. */
    round_trip(make_ds(400, 70000, 200, rate_one, 0), 4, 1, 1);
}

static void test_float_ratings(void **state)
{
    (void)state;
    /* Thousands of distinct values: float32, no code table. */
    round_trip(make_ds(60, 500, 40, rate_float, 1), 2, 4, 0);
}

static float rate_int(int64_t k) { return (float)(1 + (k * 31) % 5); }
static float rate_unit(int64_t k) { return 1.0f + (float)((k * 2654435761u) % 8388608u) * 0x1.0p-23f; }
static float rate_wide(int64_t k) { return k % 2 ? 1.0e12f * (float)(1 + k % 3) : 0.1f * (float)(1 + k % 7); }

/* A constant's RMSE by hand: ratings 1, 2, 3, 4 about 2.5. */
static float rate_1234(int64_t k) { return (float)(1 + k % 4); }

static void test_rmse_constant(void **state)
{
    (void)state;
    facto_dataset *ds = make_ds(1, 4, 4, rate_1234, 0);
    assert_true(fabs(facto_dataset_rmse_constant(ds, 2.5) - sqrt(1.25)) < 1e-15);
    assert_true(fabs(facto_dataset_mean_rating(ds) - 2.5) < 1e-15);
    facto_dataset_free(ds);
}

/* fct_dataset_rating_sum: the bits of the plain sum in CSR order for 1 and
 * 3 threads, over 3 pieces: exact sums (half stars read as codes or as
 * floats, integers, floats in [1, 2) with every mantissa bit, sin values)
 * taken in pieces, and a sum that rounds (1e12 beside 0.1) added in order
 * (a sum in pieces differs there, shown below). */
static void test_rating_sum(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    float (*rates[])(int64_t) = {rate_half, rate_int, rate_unit, rate_float, rate_wide};
    for (int c = 0; c < 5; c++) {
        facto_dataset *ds = make_ds(1200, 1000, 500, rates[c], 0);
        assert_true(ds->n_ratings > 2 * ((int64_t)1 << 18));
        const char *path = fct_test_path("sum.fds");
        assert_int_equal(facto_dataset_write_fds(ctx, ds, path), FACTO_OK);
        facto_dataset *back = NULL;
        assert_int_equal(facto_dataset_read(ctx, path, NULL, &back, NULL), FACTO_OK);
        if (c == 0)
            assert_non_null(back->narrow.codes);
        for (int v = 0; v < 2; v++) {
            const facto_dataset *d = v ? back : ds;
            double want = 0.0, pieces = 0.0, piece = 0.0, sse = 0.0;
            for (int64_t x = 0; x < d->n_ratings; x++) {
                want += fct_ds_rating(d, x);
                sse += (fct_ds_rating(d, x) - 3.0) * (fct_ds_rating(d, x) - 3.0);
                piece += fct_ds_rating(d, x);
                if ((x + 1) % ((int64_t)1 << 18) == 0 || x + 1 == d->n_ratings) {
                    pieces += piece;
                    piece = 0.0;
                }
            }
            if (c == 4)
                assert_true(pieces != want); /* so the order matters here */
            for (int t = 1; t <= 3; t += 2) {
                double got = fct_dataset_rating_sum(d, t);
                assert_memory_equal(&got, &want, sizeof got);
            }
            double mean = facto_dataset_mean_rating(d), wm = want / (double)d->n_ratings;
            assert_memory_equal(&mean, &wm, sizeof mean);
            double rmse = facto_dataset_rmse_constant(d, 3.0), wr = sqrt(sse / (double)d->n_ratings);
            assert_memory_equal(&rmse, &wr, sizeof rmse);
        }
        facto_dataset_free(back);
        facto_dataset_free(ds);
    }
    facto_ctx_free(ctx);
}

static void test_implicit_threshold(void **state)
{
    (void)state;
    facto_dataset *ds = make_ds(30, 100, 10, rate_half, 0);
    int64_t keep = 0;
    for (int64_t k = 0; k < ds->n_ratings; k++)
        keep += ds->ratings[k] >= 4.0f;
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("thr.fds");
    assert_int_equal(facto_dataset_write_fds(ctx, ds, path), FACTO_OK);
    facto_read_options o = facto_read_options_default();
    o.implicit = 1;
    o.implicit_threshold = 4.0;
    facto_dataset *t = NULL;
    facto_read_stats st;
    assert_int_equal(facto_dataset_read_with_stats(ctx, path, &o, &t, &st), FACTO_OK);
    assert_int_equal(t->n_ratings, keep);
    assert_int_equal(st.n_below_threshold, ds->n_ratings - keep);
    for (int64_t k = 0; k < t->n_ratings; k++)
        assert_true(t->ratings[k] == 1.0f);
    facto_dataset_free(t);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* Read as implicit feedback without a threshold, a .fds file with a negative
 * value is refused, and the message names the lowest value (it was read
 * after the data set had been freed: ASan's heap-use-after-free). */
static void test_implicit_negative(void **state)
{
    (void)state;
    facto_dataset *ds = make_ds(20, 50, 5, rate_float, 0); /* sin(k) * 3.25: some values < 0 */
    float lowest = ds->ratings[0];
    for (int64_t k = 1; k < ds->n_ratings; k++)
        lowest = fminf(lowest, ds->ratings[k]);
    assert_true(lowest < 0);
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("neg.fds");
    assert_int_equal(facto_dataset_write_fds(ctx, ds, path), FACTO_OK);
    facto_read_options o = facto_read_options_default();
    o.implicit = 1;
    facto_dataset *t = NULL;
    assert_int_equal(facto_dataset_read(ctx, path, &o, &t, NULL), FACTO_ERR_PARSE);
    assert_null(t);
    char want[64];
    snprintf(want, sizeof want, "a weight is negative (%g)", (double)lowest);
    assert_non_null(strstr(facto_errmsg(ctx), want));
    assert_non_null(strstr(facto_errmsg(ctx), "neg.fds"));
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

/* ---- corrupt files ------------------------------------------------------- */

static unsigned char *g_file;
static size_t g_size;

static int g_version = FACTO_FDS_VERSION;

static void load_good(void)
{
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = make_ds(20, 50, 10, rate_half, 1);
    const char *path = fct_test_path("good.fds");
    assert_int_equal(fct_fds_write_version(ctx, ds, path, g_version), FACTO_OK);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    g_size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    free(g_file);
    g_file = malloc(g_size);
    assert_int_equal(fread(g_file, 1, g_size, f), g_size);
    fclose(f);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Offset of a section's bytes in g_file. */
static size_t section(const char tag[4], uint64_t *size)
{
    uint32_t n = (uint32_t)le64(g_file + 24) & 0xffffffffu;
    size_t dir = (size_t)le64(g_file + 32);
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = g_file + dir + 24 * i;
        if (memcmp(e, tag, 4) == 0) {
            *size = le64(e + 16);
            return (size_t)le64(e + 8);
        }
    }
    fail_msg("no section %.4s", tag);
    return 0;
}

static char g_msg[512]; /* try_read's message */

/* Write g_file (first n bytes), with the checksum recomputed when rehash;
 * the message goes to g_msg. */
static facto_status try_read(size_t n, int rehash)
{
    if (rehash) {
        uint64_t h = g_file[8] == 1 ? XXH64(g_file, n - 8, 0) : XXH3_64bits(g_file, n - 8);
        for (int i = 0; i < 8; i++)
            g_file[n - 8 + i] = (unsigned char)(h >> (8 * i));
    }
    const char *path = fct_test_path("bad.fds");
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(g_file, 1, n, f), n);
    fclose(f);
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = NULL;
    facto_status st = facto_dataset_read(ctx, path, NULL, &ds, NULL);
    snprintf(g_msg, sizeof g_msg, "%s", facto_errmsg(ctx));
    if (st != FACTO_OK)
        assert_non_null(strstr(facto_errmsg(ctx), path));
    assert_true(st == FACTO_OK || ds == NULL);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
    return st;
}

static void corrupt_version(int version)
{
    g_version = version;
    load_good();
    assert_int_equal(g_file[8], version);
    assert_int_equal(try_read(g_size, 0), FACTO_OK);
    /* Truncated anywhere past the magic. */
    for (size_t n = 8; n < g_size; n += 61) {
        load_good();
        assert_int_equal(try_read(n, 0), FACTO_ERR_CORRUPT);
    }
    /* One flipped byte anywhere: the checksum. */
    for (size_t at = 16; at < g_size; at += 97) {
        load_good();
        g_file[at] ^= 0x40;
        assert_int_equal(try_read(g_size, 0), FACTO_ERR_CORRUPT);
    }
    uint64_t sz;
    /* A section outside the file, checksum recomputed. */
    load_good();
    size_t dir = (size_t)le64(g_file + 32);
    g_file[dir + 8 + 5] = 0x7f;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* Decreasing row offsets. */
    load_good();
    size_t rows = section("ROWS", &sz);
    g_file[rows + 4 * 3] = 0xff;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* An item out of range, and one out of order. */
    load_good();
    size_t items = section("ITEM", &sz);
    g_file[items + 2] = 0xff;
    g_file[items + 3] = 0x7f;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    load_good();
    memcpy(g_file + items + 2, g_file + items, 2);
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* A rating code outside the table. */
    load_good();
    size_t rate = section("RATE", &sz);
    g_file[rate + 5] = 200;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* A code table out of order (its first two values swapped: every code
     * in range, but ratings would decode to other values): refused. */
    load_good();
    size_t code = section("CODE", &sz);
    assert_true(sz >= 2);
    unsigned char t4[4];
    memcpy(t4, g_file + code, 4);
    memcpy(g_file + code, g_file + code + 4, 4);
    memcpy(g_file + code + 4, t4, 4);
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* A repeated id, and an id offset past its blob. */
    load_good();
    uint64_t ids_n;
    size_t ids = section("UIDS", &ids_n);
    assert_memory_equal(g_file + ids, "user3\0user10\0user17\0", 20);
    memcpy(g_file + ids + 6, "user17", 6); /* user10 -> user17: the next id again */
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* An id holding a line feed (user10 -> "us\ner10"): no text output
     * could carry it, so the reader refuses it. */
    load_good();
    g_file[ids + 6 + 2] = '\n';
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    g_file[ids + 6 + 2] = '\t'; /* a tab is data (quoted in TSV output) */
    assert_int_equal(try_read(g_size, 1), FACTO_OK);
    load_good();
    size_t uoff = section("UOFF", &sz);
    g_file[uoff + 8 * 2] = 0xf0;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* A newer version. */
    load_good();
    g_file[8] = 9;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_VERSION);
    /* Counts in the header that the sections do not hold. */
    load_good();
    g_file[40] += 1;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    /* More sections than a file may have (the directory would still fit
     * in this file): named as such, not as a directory outside the file. */
    load_good();
    g_file[24] = 65;
    assert_int_equal(try_read(g_size, 1), FACTO_ERR_CORRUPT);
    assert_non_null(strstr(g_msg, "more than 64 sections"));
    free(g_file);
    g_file = NULL;
}

static void test_corrupt(void **state)
{
    (void)state;
    corrupt_version(FACTO_FDS_VERSION);
    corrupt_version(1);
    g_version = FACTO_FDS_VERSION;
}

/* ---- shards (distributed training reads its users' part by offset) -------- */

/* Every part of `parts` read as a shard: users [n p / P, n (p + 1) / P),
 * their row offsets (from 0), items and rating bits equal the whole read's;
 * part 0 with ids also has the whole id maps. */
static void check_shards(facto_dataset *ds)
{
    facto_ctx *ctx = facto_ctx_new();
    const char *path = fct_test_path("shard.fds");
    assert_int_equal(facto_dataset_write_fds(ctx, ds, path), FACTO_OK);
    static const int counts[] = {1, 2, 3, 7};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int parts = counts[c];
        int32_t next_user = 0;
        for (int part = 0; part < parts; part++) {
            fct_fds_shard sh;
            assert_int_equal(fct_fds_read_shard(ctx, path, part, parts, part == 0, &sh), FACTO_OK);
            assert_int_equal(sh.n_users, ds->n_users);
            assert_int_equal(sh.n_items, ds->n_items);
            assert_int_equal(sh.n_ratings, ds->n_ratings);
            assert_int_equal(sh.u0, next_user);
            assert_int_equal(sh.u1, (int32_t)((int64_t)ds->n_users * (part + 1) / parts));
            next_user = sh.u1;
            int64_t first = ds->row_ptr[sh.u0], n = ds->row_ptr[sh.u1] - first;
            for (int32_t u = 0; u <= sh.u1 - sh.u0; u++)
                assert_int_equal(sh.row_ptr[u], ds->row_ptr[sh.u0 + u] - first);
            if (n > 0) {
                assert_memory_equal(sh.items, ds->items + first, (size_t)n * sizeof *sh.items);
                assert_memory_equal(sh.ratings, ds->ratings + first, (size_t)n * sizeof *sh.ratings);
            }
            if (part == 0) {
                assert_non_null(sh.user_map);
                for (int32_t u = 0; u < ds->n_users; u++)
                    assert_int_equal(facto_idmap_find(sh.user_map, facto_idmap_name(ds->user_map, u)), u);
                for (int32_t i = 0; i < ds->n_items; i++)
                    assert_int_equal(facto_idmap_find(sh.item_map, facto_idmap_name(ds->item_map, i)), i);
            } else {
                assert_null(sh.user_map);
                assert_null(sh.item_map);
            }
            fct_fds_shard_free(&sh);
        }
        assert_int_equal(next_user, ds->n_users);
    }
    fct_fds_shard sh;
    assert_int_equal(fct_fds_read_shard(ctx, path, 2, 2, 0, &sh), FACTO_ERR_INVALID);
    assert_int_equal(fct_fds_read_shard(ctx, fct_test_path("none.fds"), 0, 1, 0, &sh), FACTO_ERR_IO);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

static void test_shards(void **state)
{
    (void)state;
    check_shards(make_ds(50, 300, 20, rate_half, 1));   /* 2-byte items, 1-byte codes */
    check_shards(make_ds(40, 70000, 30, rate_one, 0));  /* 4-byte items */
    check_shards(make_ds(60, 500, 40, rate_float, 0));  /* float32 ratings */
}

/* A shard of a corrupt file: what the shard reads is checked (no checksum). */
static facto_status try_shard(size_t n, int part, int parts, int ids)
{
    const char *path = fct_test_path("badshard.fds");
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(g_file, 1, n, f), n);
    fclose(f);
    facto_ctx *ctx = facto_ctx_new();
    fct_fds_shard sh;
    facto_status st = fct_fds_read_shard(ctx, path, part, parts, ids, &sh);
    snprintf(g_msg, sizeof g_msg, "%s", facto_errmsg(ctx));
    if (st != FACTO_OK) {
        assert_non_null(strstr(facto_errmsg(ctx), path));
        assert_null(sh.items);
    }
    fct_fds_shard_free(&sh);
    facto_ctx_free(ctx);
    return st;
}

static void test_shard_corrupt(void **state)
{
    (void)state;
    uint64_t sz;
    load_good(); /* 20 users x 10 ratings */
    assert_int_equal(try_shard(g_size, 1, 2, 1), FACTO_OK);
    /* Truncated anywhere: never a crash; past the magic, FACTO_ERR_CORRUPT
     * (shorter than header + hash, 72 bytes, "truncated", as the whole-file
     * reader says; it was "not a facto data set file"). */
    for (size_t n = 0; n < g_size; n += 37) {
        facto_status st = try_shard(n, 1, 2, 1);
        assert_true(n < 8 ? st == FACTO_ERR_FORMAT : st == FACTO_ERR_CORRUPT);
        if (n >= 8 && n < 72)
            assert_non_null(strstr(g_msg, "truncated"));
    }
    assert_int_equal(try_shard(8, 1, 2, 1), FACTO_ERR_CORRUPT);
    assert_int_equal(try_shard(71, 1, 2, 1), FACTO_ERR_CORRUPT);
    /* An item out of range in the second half's first user. */
    size_t items = section("ITEM", &sz);
    g_file[items + 2 * 100] = 0xff;
    g_file[items + 2 * 100 + 1] = 0x7f;
    assert_int_equal(try_shard(g_size, 0, 2, 0), FACTO_OK); /* not in the first half */
    assert_int_equal(try_shard(g_size, 1, 2, 0), FACTO_ERR_CORRUPT);
    /* Decreasing row offsets, a code outside the table, a repeated id, a newer version. */
    load_good();
    size_t rows = section("ROWS", &sz);
    g_file[rows + 4 * 15] = 0;
    assert_int_equal(try_shard(g_size, 1, 2, 0), FACTO_ERR_CORRUPT);
    load_good();
    size_t rate = section("RATE", &sz);
    g_file[rate + 150] = 200;
    assert_int_equal(try_shard(g_size, 1, 2, 0), FACTO_ERR_CORRUPT);
    /* a code table out of order (first two values swapped) */
    load_good();
    size_t code = section("CODE", &sz);
    unsigned char t4[4];
    memcpy(t4, g_file + code, 4);
    memcpy(g_file + code, g_file + code + 4, 4);
    memcpy(g_file + code + 4, t4, 4);
    assert_int_equal(try_shard(g_size, 0, 1, 0), FACTO_ERR_CORRUPT);
    load_good();
    size_t ids = section("UIDS", &sz);
    memcpy(g_file + ids + 6, "user17", 6);
    assert_int_equal(try_shard(g_size, 1, 2, 0), FACTO_OK); /* ids are read with ids only */
    assert_int_equal(try_shard(g_size, 0, 2, 1), FACTO_ERR_CORRUPT);
    /* An id holding a line feed: refused as by the whole-file reader (the
     * shard reader took it, and rank 0 saved a model with that id). */
    load_good();
    g_file[ids + 6 + 2] = '\n';
    assert_int_equal(try_shard(g_size, 0, 2, 1), FACTO_ERR_CORRUPT);
    assert_non_null(strstr(g_msg, "user id 1 holds a line feed"));
    g_file[ids + 6 + 2] = '\t'; /* a tab is data */
    assert_int_equal(try_shard(g_size, 0, 2, 1), FACTO_OK);
    load_good();
    g_file[8] = 9;
    assert_int_equal(try_shard(g_size, 0, 1, 0), FACTO_ERR_VERSION);
    load_good();
    size_t dir = (size_t)le64(g_file + 32);
    g_file[dir + 8 + 5] = 0x7f;
    assert_int_equal(try_shard(g_size, 0, 1, 0), FACTO_ERR_CORRUPT);
    free(g_file);
    g_file = NULL;
}

/* TSV output: ids the reader would not take bare are quoted and read back
 * the same; an id holding a line feed is refused, naming it and its row. */
static void test_tsv_ids(void **state)
{
    (void)state;
    static const char *const odd[3] = {"#u\t\"q\"", " a::b ", "user17"};
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = NULL;
    {
        facto_idmap *um = fct_idmap_new(), *im = fct_idmap_new();
        fct_coo coo;
        fct_coo_init(&coo);
        for (int u = 0; u < 3; u++) {
            int32_t ui = fct_idmap_intern(um, odd[u], strlen(odd[u]));
            for (int j = 0; j < 2; j++) {
                char id[8];
                snprintf(id, sizeof id, "i%d", u + j);
                int32_t ii = fct_idmap_intern(im, id, strlen(id));
                assert_int_equal(fct_coo_push(ctx, &coo, ui, ii, 1.5f + (float)j, 0, 0), FACTO_OK);
            }
        }
        assert_int_equal(fct_dataset_build(ctx, &coo, um, im, NULL, &ds, NULL), FACTO_OK);
        fct_coo_free(&coo);
    }
    const char *path = fct_test_path("ids.tsv");
    assert_int_equal(facto_dataset_write_tsv(ctx, ds, path), FACTO_OK);
    facto_dataset *back = NULL;
    assert_int_equal(facto_dataset_read(ctx, path, NULL, &back, NULL), FACTO_OK);
    assert_int_equal(back->n_users, 3);
    for (int u = 0; u < 3; u++)
        assert_string_equal(facto_idmap_name(back->user_map, u), odd[u]);
    assert_int_equal(back->n_ratings, ds->n_ratings);
    facto_dataset_free(back);
    /* a line feed in the second user's id (patched in place: the writer
     * only reads the names): refused, nothing written */
    remove(path);
    ((char *)facto_idmap_name(ds->user_map, 1))[2] = '\n';
    assert_int_equal(facto_dataset_write_tsv(ctx, ds, path), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "user id ' a\\x0a:b ' (row 3) holds a line break"));
    FILE *f = fopen(path, "r");
    assert_null(f);
    facto_ctx_free(ctx);
    facto_dataset_free(ds);
}

/* ---- synthetic sets -------------------------------------------------------- */

static void test_synth(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_synth_options o = facto_synth_options_default();
    o.n_users = 300;
    o.n_items = 200;
    o.n_ratings = 20000; /* some users take most of the catalogue: the dense draw */
    o.seed = 7;
    facto_dataset *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(facto_dataset_synth(ctx, &o, &a), FACTO_OK);
    assert_int_equal(facto_dataset_synth(ctx, &o, &b), FACTO_OK);
    assert_same(a, b);
    o.seed = 8;
    assert_int_equal(facto_dataset_synth(ctx, &o, &c), FACTO_OK);
    assert_int_equal(c->n_ratings, 20000);
    assert_true(memcmp(a->items, c->items, 20000 * sizeof *a->items) != 0 ||
                memcmp(a->ratings, c->ratings, 20000 * sizeof *a->ratings) != 0);
    /* Exactly R distinct pairs, every user present, ratings on the half-star scale. */
    assert_int_equal(a->n_ratings, 20000);
    assert_int_equal(a->n_users, 300);
    for (int32_t u = 0; u < a->n_users; u++) {
        assert_true(a->row_ptr[u + 1] > a->row_ptr[u]);
        for (int64_t k = a->row_ptr[u]; k < a->row_ptr[u + 1]; k++) {
            if (k > a->row_ptr[u])
                assert_true(a->items[k] > a->items[k - 1]);
            float r = a->ratings[k];
            assert_true(r >= 0.5f && r <= 5.0f && r * 2 == floorf(r * 2));
        }
    }
    facto_dataset_free(b);
    facto_dataset_free(c);
    /* Implicit: weight 1. */
    o.implicit = 1;
    assert_int_equal(facto_dataset_synth(ctx, &o, &b), FACTO_OK);
    assert_int_equal(b->n_ratings, 20000);
    assert_true(b->min_rating == 1.0f && b->max_rating == 1.0f);
    facto_dataset_free(b);
    /* Out of range. */
    o.n_ratings = (int64_t)o.n_users * o.n_items + 1;
    assert_int_equal(facto_dataset_synth(ctx, &o, &b), FACTO_ERR_INVALID);
    o.n_ratings = o.n_users - 1;
    assert_int_equal(facto_dataset_synth(ctx, &o, &b), FACTO_ERR_INVALID);
    facto_dataset_free(a);
    facto_ctx_free(ctx);
}

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_fds");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_stars_u16_time), cmocka_unit_test(test_binary_u32),
        cmocka_unit_test(test_float_ratings),       cmocka_unit_test(test_implicit_threshold), cmocka_unit_test(test_implicit_negative),
        cmocka_unit_test(test_corrupt),             cmocka_unit_test(test_synth),
        cmocka_unit_test(test_shards),              cmocka_unit_test(test_shard_corrupt),
        cmocka_unit_test(test_tsv_ids),             cmocka_unit_test(test_format1),
        cmocka_unit_test(test_rating_sum),          cmocka_unit_test(test_rmse_constant),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
