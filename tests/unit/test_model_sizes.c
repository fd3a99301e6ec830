/*
 * test_model_sizes.c — counts in a model file whose size products wrap
 * around 2^64 are corrupt, not "out of memory" (issue 8). For every kind
 * that keeps the training users' items (mf, ials, popular, itemknn, ease),
 * a saved model gets n_seen = 2^62 + its true count in its header: times 4
 * bytes, that wraps to exactly the size of its seen-list section, which the
 * loaders used to accept and then failed to allocate (FACTO_ERR_NOMEM, exit
 * 3). The file is re-sealed with a valid checksum, so only the size checks
 * can tell. Now FACTO_ERR_CORRUPT naming the file. Also fct_size_mul on its
 * own: exact below 2^63, saturating above.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/internal.h"
#include "io/modelfile.h"
#include "unit/testutil.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_model_sizes");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static void test_size_mul(void **state)
{
    (void)state;
    assert_true(fct_size_mul(0, UINT64_MAX) == 0);
    assert_true(fct_size_mul(3, 5) == 15);
    assert_true(fct_size_mul((1ull << 31) - 1, (1ull << 31) - 1) == ((1ull << 31) - 1) * ((1ull << 31) - 1));
    assert_true(fct_size_mul(1ull << 31, 1ull << 32) == UINT64_MAX); /* 2^63: past INT64_MAX */
    assert_true(fct_size_mul((1ull << 62) + 5, 4) == UINT64_MAX);    /* wrapped to 20 before */
    assert_true(fct_size_mul(fct_size_mul(1ull << 40, 1ull << 40), 0) == 0);
    assert_true(fct_size_mul(fct_size_mul(1ull << 40, 1ull << 40), 4) == UINT64_MAX);
}

/* 30 users x 20 items, about half rated, ratings 1..5. */
static facto_dataset *ratings(facto_ctx *ctx)
{
    const char *path = fct_test_path("ratings.tsv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int u = 0; u < 30; u++)
        for (int i = 0; i < 20; i++)
            if ((u * 7 + i * 3) % 5 < 3)
                fprintf(f, "u%d\ti%d\t%d\n", u, i, 1 + (u + 2 * i) % 5);
    fclose(f);
    facto_dataset *ds = NULL;
    if (facto_dataset_read(ctx, path, NULL, &ds, NULL) != FACTO_OK)
        fail_msg("read: %s", facto_errmsg(ctx));
    return ds;
}

/* The directory entry (24 bytes: tag, width, offset, size) of `tag`. */
static unsigned char *find_section(unsigned char *buf, uint32_t tag)
{
    uint32_t count = fct_le_load_u32(buf + 24);
    uint64_t dir = fct_le_load_u64(buf + 32);
    for (uint32_t s = 0; s < count; s++) {
        unsigned char *e = buf + dir + 24 * (uint64_t)s;
        if (fct_le_load_u32(e) == tag)
            return e;
    }
    fail_msg("no section %.4s", (const char *)&tag);
    return NULL;
}

static void test_seen_count_wraps(void **state)
{
    (void)state;
    struct {
        const char *kind;
        uint32_t head, seen;
        int at; /* byte of n_seen (u64) in the header section */
        const char *nv[5];
    } cases[] = {
        {"mf", FACTO_TAG('M', 'F', 'H', 'P'), FACTO_TAG('M', 'F', 'S', 'I'), 72, {"epochs", "2", NULL}},
        {"ials", FACTO_TAG('F', 'C', 'H', 'D'), FACTO_TAG('F', 'C', 'S', 'I'), 40, {"iterations", "2", NULL}},
        {"popular", FACTO_TAG('P', 'P', 'H', 'D'), FACTO_TAG('P', 'P', 'S', 'I'), 16, {NULL}},
        {"itemknn", FACTO_TAG('K', 'N', 'H', 'D'), FACTO_TAG('K', 'N', 'S', 'I'), 16, {NULL}},
        {"ease", FACTO_TAG('E', 'A', 'H', 'D'), FACTO_TAG('E', 'A', 'S', 'I'), 16, {NULL}},
    };
    facto_ctx *ctx = facto_ctx_new();
    facto_dataset *ds = ratings(ctx);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        facto_params *p = NULL;
        assert_int_equal(facto_params_new(ctx, cases[c].kind, &p), FACTO_OK);
        for (int i = 0; cases[c].nv[i]; i += 2)
            if (facto_params_set(ctx, p, cases[c].nv[i], cases[c].nv[i + 1]) != FACTO_OK)
                fail_msg("%s: %s", cases[c].kind, facto_errmsg(ctx));
        facto_fit_data data = {ds, NULL, NULL, NULL, NULL, NULL};
        facto_model *m = NULL;
        if (facto_model_fit(ctx, p, &data, NULL, &m) != FACTO_OK)
            fail_msg("%s: fit: %s", cases[c].kind, facto_errmsg(ctx));
        char name[64];
        snprintf(name, sizeof name, "%s.facto", cases[c].kind);
        const char *path = fct_test_path(name);
        assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
        facto_model_free(m);
        facto_params_free(p);

        size_t n;
        unsigned char *buf = fct_test_slurp(path, &n);
        unsigned char *head = find_section(buf, cases[c].head), *seen = find_section(buf, cases[c].seen);
        const uint32_t width = fct_le_load_u32(seen + 4); /* 4, or 2: mf's uint16 items (format 2) */
        assert_true(width == 4 || (width == 2 && strcmp(cases[c].kind, "mf") == 0));
        uint64_t true_seen = fct_le_load_u64(seen + 16) / width;
        unsigned char *field = buf + fct_le_load_u64(head + 8) + cases[c].at;
        if (fct_le_load_u64(field) != true_seen)
            fail_msg("%s: n_seen field holds %llu, the section %llu", cases[c].kind,
                     (unsigned long long)fct_le_load_u64(field), (unsigned long long)true_seen);
        /* (2^62 + n) * 4 wraps to 4n, (2^63 + n) * 2 to 2n: the seen section's size */
        fct_le_store_u64(field, (width == 4 ? 1ull << 62 : 1ull << 63) + true_seen);
        fct_le_store_u64(buf + n - 8, XXH64(buf, n - 8, 0));
        fct_test_spit(path, buf, n);
        free(buf);
        facto_model *l = NULL;
        facto_status st = facto_model_load(ctx, path, &l);
        if (st != FACTO_ERR_CORRUPT || !strstr(facto_errmsg(ctx), name))
            fail_msg("%s: status %d '%s', wanted FACTO_ERR_CORRUPT naming the file", cases[c].kind, st,
                     facto_errmsg(ctx));
        assert_null(l);
    }
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_mul),
        cmocka_unit_test(test_seen_count_wraps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
