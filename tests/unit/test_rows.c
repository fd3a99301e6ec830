/*
 * test_rows.c — sparse feature rows: building, sorting, summing duplicate
 * keys, bounds checks, growth past the initial capacities. Expected values
 * are worked out by hand from the inputs (a row's entries sorted by key,
 * duplicates added). Runs in milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "facto.h"
#include "data/rows.h"

static void test_sorted_rows(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(10, 1);
    assert_non_null(r);
    assert_int_equal(facto_rows_push(ctx, r, 1, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 7, 0.5f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, r, 4.0f), FACTO_OK);
    /* an empty row */
    assert_int_equal(facto_rows_finish_row(ctx, r, -1.5f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 9, 2.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, r, 0.25f), FACTO_OK);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(r->nnz, 3);
    assert_int_equal(r->row_ptr[0], 0);
    assert_int_equal(r->row_ptr[1], 2);
    assert_int_equal(r->row_ptr[2], 2);
    assert_int_equal(r->row_ptr[3], 3);
    assert_int_equal(r->keys[0], 1);
    assert_int_equal(r->keys[1], 7);
    assert_int_equal(r->keys[2], 9);
    assert_true(r->values[1] == 0.5f);
    assert_true(r->labels[0] == 4.0f);
    assert_true(r->labels[1] == -1.5f);
    assert_true(r->labels[2] == 0.25f);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

static void test_unsorted_and_duplicates(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(0, 0);
    assert_non_null(r);
    assert_null(r->labels);
    /* keys 5, 2, 5, 0, 2 -> 0:4, 2:1+3, 5:10+20 */
    assert_int_equal(facto_rows_push(ctx, r, 5, 10.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 2, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 5, 20.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 0, 4.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 2, 3.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, r, 1.0f), FACTO_OK);
    assert_int_equal(r->nnz, 3);
    assert_int_equal(r->row_ptr[1], 3);
    assert_int_equal(r->keys[0], 0);
    assert_int_equal(r->keys[1], 2);
    assert_int_equal(r->keys[2], 5);
    assert_true(r->values[0] == 4.0f);
    assert_true(r->values[1] == 4.0f);
    assert_true(r->values[2] == 30.0f);
    /* with feature_dim 0 the largest uint32 key is accepted */
    assert_int_equal(facto_rows_push(ctx, r, UINT32_MAX, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_finish_row(ctx, r, 0.0f), FACTO_OK);
    assert_int_equal(r->keys[3], UINT32_MAX);
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

static void test_key_bound(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(3, 1);
    assert_int_equal(facto_rows_push(ctx, r, 2, 1.0f), FACTO_OK);
    assert_int_equal(facto_rows_push(ctx, r, 3, 1.0f), FACTO_ERR_INVALID);
    assert_non_null(strstr(facto_errmsg(ctx), "feature key 3"));
    assert_int_equal(r->nnz, 1);
    facto_rows_free(r);
    /* feature_dim = 2^32 accepts every uint32 key */
    r = facto_rows_new((uint64_t)1 << 32, 0);
    assert_int_equal(facto_rows_push(ctx, r, UINT32_MAX, 1.0f), FACTO_OK);
    facto_rows_free(r);
    facto_rows_free(NULL);
    facto_ctx_free(ctx);
}

/* Many rows and a long reversed row: growth and the merge-sort path. */
static void test_growth_and_long_rows(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_rows *r = facto_rows_new(1000000, 1);
    const int n_rows = 5000;
    for (int i = 0; i < n_rows; i++) {
        for (int j = 0; j < i % 7; j++)
            assert_int_equal(facto_rows_push(ctx, r, (uint32_t)(i * 7 + j), (float)j), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(ctx, r, (float)i), FACTO_OK);
    }
    /* one row of 1000 keys pushed in reverse, each key twice (values k and 1) */
    for (int k = 999; k >= 0; k--) {
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)k, (float)k), FACTO_OK);
        assert_int_equal(facto_rows_push(ctx, r, (uint32_t)k, 1.0f), FACTO_OK);
    }
    assert_int_equal(facto_rows_finish_row(ctx, r, -1.0f), FACTO_OK);
    assert_int_equal(r->n_rows, n_rows + 1);
    int64_t expect = 0;
    for (int i = 0; i < n_rows; i++) {
        assert_int_equal(r->row_ptr[i], expect);
        assert_true(r->labels[i] == (float)i);
        for (int j = 0; j < i % 7; j++) {
            assert_int_equal(r->keys[expect + j], (uint32_t)(i * 7 + j));
            assert_true(r->values[expect + j] == (float)j);
        }
        expect += i % 7;
    }
    int64_t s = r->row_ptr[n_rows];
    assert_int_equal(r->row_ptr[n_rows + 1] - s, 1000);
    for (int k = 0; k < 1000; k++) {
        assert_int_equal(r->keys[s + k], (uint32_t)k);
        assert_true(r->values[s + k] == (float)k + 1.0f);
    }
    facto_rows_free(r);
    facto_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_rows),
        cmocka_unit_test(test_unsorted_and_duplicates),
        cmocka_unit_test(test_key_bound),
        cmocka_unit_test(test_growth_and_long_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
