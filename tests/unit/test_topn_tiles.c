/*
 * test_topn_tiles.c — batch top-N of a dot-form model through its tiles
 * (users x items, recommend.c) against a brute force on an MF model built
 * by hand: 600 users (several user tiles, two threads) x 1300 items
 * (several item tiles, one partial), k 8, seen items left out, and blocks
 * of items with identical factors so that more than k + 16 scores tie at
 * the k-th (the path that scores every item again). Every list must equal
 * the brute force's top k of the model's own scores (fct_mf_score, what
 * predict gives: its dot kernel, not a fixed-order sum), ties to the lower
 * item, and the one-user call's, bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"
#include "core/internal.h"
#include "data/dataset.h"
#include "eval/eval.h"
#include "models/mf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { U = 600, I = 1300, TOP = 10 };
static int K = 8; /* factors: 8 for the tiles, 72 for the int8 prefilter */

static int cmp_rec(const void *x, const void *y)
{
    const facto_recommendation *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

static fct_mf_model *build(int n_seen_per_user)
{
    fct_mf_model *m = fct_mf_model_alloc(U, I, K, (int64_t)U * n_seen_per_user);
    assert_non_null(m);
    m->params = facto_mf_params_default();
    m->params.num_factors = K;
    m->mu = 3.5;
    m->min_rating = 1.0f;
    m->max_rating = 5.0f;
    m->users = fct_idmap_new();
    m->items = fct_idmap_new();
    char id[32];
    for (int u = 0; u < U; u++)
        fct_idmap_intern(m->users, id, (size_t)snprintf(id, sizeof id, "u%d", u));
    for (int i = 0; i < I; i++)
        fct_idmap_intern(m->items, id, (size_t)snprintf(id, sizeof id, "i%d", i));
    fct_rng rng;
    fct_rng_seed(&rng, 3);
    for (int x = 0; x < U * K; x++)
        m->P[x] = (float)(0.3 * fct_rng_normal(&rng));
    for (int x = 0; x < I * K; x++)
        m->Q[x] = (float)(0.3 * fct_rng_normal(&rng));
    for (int u = 0; u < U; u++)
        m->bu[u] = (float)(0.1 * fct_rng_normal(&rng));
    for (int i = 0; i < I; i++)
        m->bi[i] = (float)(0.1 * fct_rng_normal(&rng));
    /* items 500..539 and 1000..1039: one item's factors and bias copied, so
     * users who like it see 80 exact ties at the top, across item tiles */
    for (int i = 500; i < 1040; i++) {
        if (i == 540)
            i = 1000;
        memcpy(m->Q + (int64_t)i * K, m->Q + (int64_t)7 * K, K * sizeof(float));
        m->bi[i] = m->bi[7] + 2.0f;
    }
    /* seen: every 97th item from an offset of the user's */
    int64_t at = 0;
    for (int u = 0; u < U; u++) {
        m->seen_ptr[u] = at;
        for (int s = 0; s < n_seen_per_user; s++)
            m->seen_items[at++] = (u % 97) + 97 * s;
    }
    m->seen_ptr[U] = at;
    return m;
}

static int brute(const fct_mf_model *m, int u, facto_recommendation *all)
{
    int n = 0;
    const int32_t *s = m->seen_items + m->seen_ptr[u], *e = m->seen_items + m->seen_ptr[u + 1];
    for (int i = 0; i < I; i++) {
        while (s < e && *s < i)
            s++;
        if (s < e && *s == i)
            continue;
        all[n++] = (facto_recommendation){i, fct_mf_score(m, u, i)}; /* the model's own score: predict's */
    }
    qsort(all, (size_t)n, sizeof *all, cmp_rec);
    return n;
}

static void test_tiles(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_ctx_set_threads(ctx, 2);
    fct_mf_model *m = build(12);
    const char *ids[U + 1];
    for (int u = 0; u < U; u++)
        ids[u] = facto_idmap_name(m->users, u);
    ids[U] = "nobody";
    facto_recommendation *out = malloc((size_t)(U + 1) * TOP * sizeof *out), all[I], one[TOP];
    int n_out[U + 1], ties = 0;
    assert_int_equal(facto_model_recommend_batch(ctx, &m->base, ids, U + 1, TOP, 0, out, n_out), FACTO_OK);
    assert_int_equal(n_out[U], 0);
    for (int u = 0; u < U; u++) {
        int n = brute(m, u, all);
        assert_int_equal(n_out[u], TOP);
        ties += all[TOP + 16].score == all[TOP - 1].score;
        for (int x = 0; x < TOP; x++) {
            assert_int_equal(out[u * TOP + x].item, all[x].item);
            assert_memory_equal(&out[u * TOP + x].score, &all[x].score, sizeof(float));
        }
        (void)n;
        if (u % 7 == 0) {
            int n1 = 0;
            assert_int_equal(facto_model_recommend(ctx, &m->base, ids[u], TOP, 0, one, &n1), FACTO_OK);
            assert_int_equal(n1, TOP);
            assert_memory_equal(one, out + u * TOP, TOP * sizeof *one);
        }
    }
    assert_true(ties > 10); /* the every-item path ran */
    /* seen items kept when asked: u0's list then is the brute force's with them */
    assert_int_equal(facto_model_recommend(ctx, &m->base, "u0", TOP, 1, one, &n_out[0]), FACTO_OK);
    m->seen_ptr[1] = 0;
    brute(m, 0, all);
    for (int x = 0; x < TOP; x++)
        assert_int_equal(one[x].item, all[x].item);
    free(out);
    facto_model_free(&m->base);
    facto_ctx_free(ctx);
}

/* One-user top-N through the int8 prefilter (recommend.c, fct_rec_quant):
 * 72 factors (a padded last block of 64), VNNI or not and the scalar
 * kernel, k from 1 to more than the items left: every list is the brute
 * force's, bit for bit, ties (80 equal scores at the top for some users)
 * to the lower item. */
static void test_prefilter(void **state)
{
    (void)state;
    K = 72;
    facto_ctx *ctx = facto_ctx_new();
    fct_mf_model *m = build(12);
    facto_recommendation all[I], *one = malloc(I * sizeof *one);
    assert_non_null(one);
    static const int ks[] = {1, TOP, 100, I};
    for (int mode = 2; mode <= 3; mode++) {
        fct_rec_set_prefilter(mode);
        for (int u = 0; u < U; u += mode == 2 ? 1 : 5) {
            const int n = brute(m, u, all);
            for (size_t x = 0; x < sizeof ks / sizeof ks[0]; x++) {
                if (u % 50 != 0 && ks[x] > TOP)
                    continue;
                int n1 = 0;
                assert_int_equal(facto_model_recommend(ctx, &m->base, facto_idmap_name(m->users, u), ks[x], 0, one,
                                                       &n1),
                                 FACTO_OK);
                assert_int_equal(n1, ks[x] < n ? ks[x] : n);
                for (int y = 0; y < n1; y++) {
                    assert_int_equal(one[y].item, all[y].item);
                    assert_memory_equal(&one[y].score, &all[y].score, sizeof(float));
                }
            }
        }
    }
    /* the tile path gives the same lists */
    fct_rec_set_prefilter(1);
    facto_recommendation tile[TOP];
    int nt = 0, nq = 0;
    assert_int_equal(facto_model_recommend(ctx, &m->base, "u7", TOP, 0, tile, &nt), FACTO_OK);
    fct_rec_set_prefilter(2);
    assert_int_equal(facto_model_recommend(ctx, &m->base, "u7", TOP, 0, one, &nq), FACTO_OK);
    assert_int_equal(nt, nq);
    assert_memory_equal(tile, one, TOP * sizeof *one);
    fct_rec_set_prefilter(0);
    free(one);
    facto_model_free(&m->base);
    facto_ctx_free(ctx);
    K = 8;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tiles), cmocka_unit_test(test_prefilter)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
