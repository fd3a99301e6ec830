/*
 * test_idmap.c — id maps: dense indices in first-seen order, lookups by id
 * and by index, the 1..255 byte length limit, ids taken by length (not NUL),
 * byte strings that are not UTF-8, growth to 200 000 ids, cloning, and the
 * NULL / out-of-range cases of the public accessors. Milliseconds to run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "data/dataset.h"
#include "facto.h"

static void test_basic(void **state)
{
    (void)state;
    facto_idmap *m = fct_idmap_new();
    assert_non_null(m);
    assert_int_equal(facto_idmap_size(m), 0);
    assert_int_equal(fct_idmap_intern(m, "196", 3), 0);
    assert_int_equal(fct_idmap_intern(m, "242", 3), 1);
    assert_int_equal(fct_idmap_intern(m, "196", 3), 0); /* already there */
    assert_int_equal(fct_idmap_intern(m, "1", 1), 2);
    assert_int_equal(fct_idmap_intern(m, "19", 2), 3); /* a prefix is another id */
    assert_int_equal(fct_idmap_intern(m, "0196", 4), 4); /* text, not number */
    assert_int_equal(facto_idmap_size(m), 5);
    assert_int_equal(facto_idmap_find(m, "196"), 0);
    assert_int_equal(facto_idmap_find(m, "242"), 1);
    assert_int_equal(facto_idmap_find(m, "0196"), 4);
    assert_int_equal(facto_idmap_find(m, "1960"), -1);
    assert_int_equal(facto_idmap_find(m, ""), -1);
    assert_string_equal(facto_idmap_name(m, 0), "196");
    assert_string_equal(facto_idmap_name(m, 3), "19");
    assert_null(facto_idmap_name(m, 5));
    assert_null(facto_idmap_name(m, -1));
    /* By length: the bytes after len are not part of the id. */
    assert_int_equal(fct_idmap_intern(m, "abcdef", 3), 5);
    assert_string_equal(facto_idmap_name(m, 5), "abc");
    assert_int_equal(fct_idmap_find_n(m, "abcxyz", 3), 5);
    assert_int_equal(facto_idmap_find(m, "abcdef"), -1);
    /* Case matters; bytes that are not UTF-8 are fine (u.item is Latin-1). */
    assert_int_equal(fct_idmap_intern(m, "ABC", 3), 6);
    assert_int_equal(fct_idmap_intern(m, "Mis\xe9rables", 10), 7);
    assert_int_equal(facto_idmap_find(m, "Mis\xe9rables"), 7);
    fct_idmap_free(m);
}

static void test_limits(void **state)
{
    (void)state;
    facto_idmap *m = fct_idmap_new();
    char id[300];
    memset(id, 'x', sizeof id);
    assert_int_equal(fct_idmap_intern(m, id, 0), -2);
    assert_int_equal(fct_idmap_intern(m, id, FACTO_MAX_ID_LEN + 1), -2);
    assert_int_equal(fct_idmap_intern(m, "a\0b", 3), -2); /* a NUL inside */
    assert_int_equal(facto_idmap_size(m), 0);
    assert_int_equal(fct_idmap_intern(m, id, FACTO_MAX_ID_LEN), 0);
    assert_int_equal(fct_idmap_find_n(m, id, FACTO_MAX_ID_LEN), 0);
    assert_int_equal(fct_idmap_find_n(m, id, FACTO_MAX_ID_LEN + 1), -1);
    assert_int_equal(strlen(facto_idmap_name(m, 0)), FACTO_MAX_ID_LEN);
    /* The largest int64 as text. */
    assert_int_equal(fct_idmap_intern(m, "9223372036854775807", 19), 1);
    assert_int_equal(facto_idmap_find(m, "9223372036854775807"), 1);
    fct_idmap_free(m);
    /* NULL handling of the public accessors. */
    assert_int_equal(facto_idmap_size(NULL), 0);
    assert_int_equal(facto_idmap_find(NULL, "1"), -1);
    assert_null(facto_idmap_name(NULL, 0));
    fct_idmap_free(NULL);
    assert_null(fct_idmap_clone(NULL));
}

static void test_growth_and_clone(void **state)
{
    (void)state;
    enum { N = 200000 };
    facto_idmap *m = fct_idmap_new();
    char id[32];
    for (int k = 0; k < N; k++) {
        int n = snprintf(id, sizeof id, "user-%d", k * 7);
        assert_int_equal(fct_idmap_intern(m, id, (size_t)n), k);
    }
    assert_int_equal(facto_idmap_size(m), N);
    for (int k = 0; k < N; k += 997) {
        snprintf(id, sizeof id, "user-%d", k * 7);
        assert_int_equal(facto_idmap_find(m, id), k);
        assert_string_equal(facto_idmap_name(m, k), id);
    }
    assert_int_equal(facto_idmap_find(m, "user-1"), -1);
    facto_idmap *c = fct_idmap_clone(m);
    assert_non_null(c);
    assert_int_equal(facto_idmap_size(c), N);
    for (int k = 0; k < N; k += 101) {
        assert_string_equal(facto_idmap_name(c, k), facto_idmap_name(m, k));
        assert_int_equal(facto_idmap_find(c, facto_idmap_name(m, k)), k);
    }
    /* The clone is flat and read-only: it finds its own ids, takes no new
     * one, and needs under a third of the growable map's memory (a uthash entry
     * an id against its bytes, a 4-byte offset and a 6-byte table slot). */
    assert_int_equal(fct_idmap_intern(c, "new", 3), -1);
    assert_int_equal(fct_idmap_intern(c, "user-14", 7), 2);
    assert_true(fct_idmap_equal(c, m));
    size_t grow = fct_idmap_bytes(m), flat = fct_idmap_bytes(c);
    assert_true(flat * 3 < grow);
    assert_true(flat < (size_t)N * 30); /* 12-byte ids: 13 + 4 + 4 x 2^19 / N */
    /* A growable clone is independent. */
    facto_idmap *g = fct_idmap_clone_growable(m);
    assert_int_equal(fct_idmap_intern(g, "new", 3), N);
    assert_int_equal(facto_idmap_find(m, "new"), -1);
    assert_int_equal(facto_idmap_size(m), N);
    assert_false(fct_idmap_equal(g, m));
    fct_idmap_free(g);
    fct_idmap_free(m);
    assert_int_equal(facto_idmap_find(c, "user-7"), 1); /* survives the original */
    /* A clone of a flat map (indexed already) builds its own table when asked. */
    facto_idmap *c2 = fct_idmap_clone(c);
    assert_int_equal(facto_idmap_find(c2, "user-1399993"), N - 1);
    assert_int_equal(facto_idmap_find(c2, "user-1"), -1);
    fct_idmap_free(c2);
    fct_idmap_free(c);
}

/* A flat map over a blob: names by index, lookups by id (the table built on
 * the first), a repeated id reported by fct_idmap_index with its index. */
static void test_flat(void **state)
{
    (void)state;
    static const char ids[] = "7\0" "42\0" "x y\0" "42\0";
    uint64_t off64[] = {0, 2, 5, 9, 12};
    facto_idmap *v = NULL;
    assert_int_equal(fct_idmap_view(ids, off64, 0, 3, &v), 0);
    assert_int_equal(facto_idmap_size(v), 3);
    assert_string_equal(facto_idmap_name(v, 2), "x y");
    assert_null(facto_idmap_name(v, 3));
    assert_int_equal(facto_idmap_find(v, "42"), 1);
    assert_int_equal(facto_idmap_find(v, "4"), -1);
    assert_int_equal(facto_idmap_find(v, "x y"), 2);
    assert_int_equal(fct_idmap_find_n(v, "x yz", 3), 2);
    int32_t dup = 5;
    assert_int_equal(fct_idmap_index(v, &dup), 0);
    assert_int_equal(dup, -1);
    fct_idmap_free(v);
    /* All four: the fourth repeats the second. */
    assert_int_equal(fct_idmap_view(ids, off64, 0, 4, &v), 0);
    assert_int_equal(fct_idmap_index(v, &dup), -2);
    assert_int_equal(dup, 3);
    assert_int_equal(facto_idmap_find(v, "42"), 1); /* the earlier one keeps it */
    fct_idmap_free(v);
    /* An owned flat map equals a growable one with the same ids. */
    char *blob = malloc(9);
    memcpy(blob, ids, 9);
    uint32_t *off32 = malloc(4 * sizeof *off32);
    off32[0] = 0, off32[1] = 2, off32[2] = 5, off32[3] = 9;
    facto_idmap *f = NULL, *g = fct_idmap_new();
    assert_int_equal(fct_idmap_flat(blob, off32, 3, &f), 0);
    assert_int_equal(fct_idmap_intern(g, "7", 1), 0);
    assert_int_equal(fct_idmap_intern(g, "42", 2), 1);
    assert_int_equal(fct_idmap_intern(g, "x y", 3), 2);
    assert_true(fct_idmap_equal(f, g));
    assert_int_equal(facto_idmap_find(f, "7"), 0);
    fct_idmap_free(f);
    fct_idmap_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_growth_and_clone),
        cmocka_unit_test(test_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
