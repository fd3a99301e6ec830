/*
 * synth_mnar.c — facto_dataset_synth_mnar: ratings missing not at random
 * with known exposure, the setting of Schnabel et al., "Recommendations as
 * Treatments: Debiasing Learning and Evaluation" (ICML 2016, section 6.2:
 * users rate what they like) and Steck, "Training and testing of
 * recommender systems on data missing not at random" (KDD 2010). Every
 * (user, item) pair has a true rating round(3 + b_u + b_i + <p_u, q_i> +
 * noise) in 1..5 (rank-k factors, <p, q> sd 0.35; biases sd 0.4, 0.5); it
 * is observed with propensity p = min(1, c alpha^max(0, 4 - r)), c set so
 * that about n_ratings pairs are observed (alpha = 1: missing at random).
 * Each observed pair goes to the MNAR test part with probability
 * test_fraction, else to train; n_uniform distinct pairs drawn uniformly at
 * random over all users x items, with their true ratings, form the
 * uniformly exposed test set. One RNG stream in a fixed order:
 * deterministic for the options. Cost O(users x items) time, one byte a
 * pair of memory.
 */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Push (u, i, value) to coo, interning ids "u+1" / "i+1" in the maps. */
static facto_status mnar_push(facto_ctx *ctx, fct_coo *coo, facto_idmap *um, facto_idmap *im, int32_t u, int32_t i,
                              float v)
{
    char id[24];
    int n = snprintf(id, sizeof id, "%d", (int)u + 1);
    int32_t a = fct_idmap_intern(um, id, (size_t)n);
    n = snprintf(id, sizeof id, "%d", (int)i + 1);
    int32_t b = fct_idmap_intern(im, id, (size_t)n);
    if (a < 0 || b < 0)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory generating synthetic MNAR ratings");
    return fct_coo_push(ctx, coo, a, b, v, 0, 0);
}

/* One data set and, when pcoo is given, its propensity twin (same pairs,
 * propensity as the rating), from triplets; maps created here. */
static facto_status mnar_build(facto_ctx *ctx, const fct_coo *coo, const fct_coo *pcoo, facto_dataset **ds,
                               facto_dataset **pds, facto_idmap **maps)
{
    facto_status st = fct_dataset_from_coo(ctx, coo, maps[0], maps[1], ds, NULL);
    maps[0] = maps[1] = NULL;
    if (st == FACTO_OK && pcoo)
        st = fct_dataset_from_coo(ctx, pcoo, maps[2], maps[3], pds, NULL);
    if (pcoo)
        maps[2] = maps[3] = NULL;
    return st;
}

void facto_synth_mnar_free(facto_synth_mnar *s)
{
    if (!s)
        return;
    facto_dataset_free(s->train);
    facto_dataset_free(s->test);
    facto_dataset_free(s->uniform);
    facto_dataset_free(s->train_propensity);
    facto_dataset_free(s->test_propensity);
    memset(s, 0, sizeof *s);
}

facto_status facto_dataset_synth_mnar(facto_ctx *ctx, const facto_synth_options *o, double alpha,
                                      double test_fraction, int64_t n_uniform, facto_synth_mnar *out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_synth_mnar: out must be given");
    memset(out, 0, sizeof *out);
    int64_t NM = o ? (int64_t)o->n_users * o->n_items : 0;
    if (!o || o->n_users < 1 || o->n_items < 1 || NM > ((int64_t)1 << 28) || o->n_ratings < 1 ||
        o->n_ratings > NM / 2 || o->rank < 1 || o->rank > 256 || !(o->noise >= 0) || !(o->noise <= 10) ||
        o->implicit || !(alpha > 0.0 && alpha <= 1.0) || !(test_fraction >= 0.0 && test_fraction < 1.0) ||
        n_uniform < 0 || n_uniform > NM / 2)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "synthetic MNAR data set: need users, items >= 1 with users x items <= 2^28, 1 <= ratings "
                        "<= users x items / 2, rank 1..256, noise 0..10, explicit ratings, alpha in (0, 1], a test "
                        "fraction in [0, 1) and 0 <= uniform pairs <= users x items / 2");
    const int32_t N = o->n_users, M = o->n_items, k = o->rank;
    fct_rng rng;
    fct_rng_seed(&rng, o->seed);
    float *P = fct_malloc_array((size_t)N * (size_t)k, sizeof *P), *Q = fct_malloc_array((size_t)M * (size_t)k, sizeof *Q);
    float *bu = fct_malloc_array((size_t)N, sizeof *bu), *bi = fct_malloc_array((size_t)M, sizeof *bi);
    unsigned char *R = fct_malloc_array((size_t)NM, 1);
    fct_coo c[5]; /* train, train propensities, test, test propensities, uniform */
    facto_idmap *maps[10] = {NULL};
    for (int j = 0; j < 5; j++)
        fct_coo_init(&c[j]);
    for (int j = 0; j < 10; j++)
        maps[j] = fct_idmap_new();
    facto_status st = FACTO_OK;
    for (int j = 0; j < 10; j++)
        if (!maps[j])
            P = (free(P), NULL);
    if (!P || !Q || !bu || !bi || !R) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory generating %lld synthetic MNAR pairs", (long long)NM);
        goto done;
    }
    double sd = sqrt(0.35 / sqrt((double)k));
    for (size_t j = 0; j < (size_t)N * (size_t)k; j++)
        P[j] = (float)(sd * fct_rng_normal(&rng));
    for (size_t j = 0; j < (size_t)M * (size_t)k; j++)
        Q[j] = (float)(sd * fct_rng_normal(&rng));
    for (int32_t u = 0; u < N; u++)
        bu[u] = (float)(0.4 * fct_rng_normal(&rng));
    for (int32_t i = 0; i < M; i++)
        bi[i] = (float)(0.5 * fct_rng_normal(&rng));
    /* True ratings of every pair, and how many of each value. */
    int64_t count[6] = {0};
    for (int32_t u = 0; u < N; u++)
        for (int32_t i = 0; i < M; i++) {
            double d = 0.0;
            for (int f = 0; f < k; f++)
                d += (double)P[(size_t)u * k + f] * Q[(size_t)i * k + f];
            double x = floor(3.0 + bu[u] + bi[i] + d + o->noise * fct_rng_normal(&rng) + 0.5);
            int r = x < 1.0 ? 1 : x > 5.0 ? 5 : (int)x;
            R[(size_t)u * M + i] = (unsigned char)r;
            count[r]++;
        }
    /* Exposure a(r) = alpha^max(0, 4 - r); c by bisection so that the
     * expected number observed, sum min(1, c a(r)), is n_ratings. */
    double a[6], lo = 0.0, hi = pow(alpha, -3.0);
    for (int r = 1; r <= 5; r++)
        a[r] = pow(alpha, r < 4 ? 4 - r : 0);
    for (int it = 0; it < 200; it++) {
        double cmid = 0.5 * (lo + hi), e = 0.0;
        for (int r = 1; r <= 5; r++)
            e += (double)count[r] * fmin(1.0, cmid * a[r]);
        if (e < (double)o->n_ratings)
            lo = cmid;
        else
            hi = cmid;
    }
    double prop[6];
    for (int r = 1; r <= 5; r++)
        prop[r] = fmin(1.0, hi * a[r]);
    for (int32_t u = 0; u < N && st == FACTO_OK; u++)
        for (int32_t i = 0; i < M && st == FACTO_OK; i++) {
            int r = R[(size_t)u * M + i];
            if (fct_rng_uniform(&rng) >= prop[r])
                continue;
            int test = test_fraction > 0.0 && fct_rng_uniform(&rng) < test_fraction;
            double share = test ? test_fraction : 1.0 - test_fraction;
            int j = test ? 2 : 0;
            st = mnar_push(ctx, &c[j], maps[2 * j], maps[2 * j + 1], u, i, (float)r);
            if (st == FACTO_OK)
                st = mnar_push(ctx, &c[j + 1], maps[2 * j + 2], maps[2 * j + 3], u, i, (float)(prop[r] * share));
        }
    /* Uniform exposure: distinct pairs, marked in the high bit. */
    for (int64_t got = 0; got < n_uniform && st == FACTO_OK;) {
        int64_t x = (int64_t)fct_rng_below(&rng, (uint64_t)NM);
        if (R[x] & 0x80)
            continue;
        R[x] |= 0x80;
        got++;
    }
    for (int64_t x = 0; x < NM && st == FACTO_OK; x++)
        if (R[x] & 0x80)
            st = mnar_push(ctx, &c[4], maps[8], maps[9], (int32_t)(x / M), (int32_t)(x % M), (float)(R[x] & 0x7f));
    if (st != FACTO_OK)
        goto done;
    if (c[0].n == 0 || (test_fraction > 0.0 && c[2].n == 0) || (n_uniform > 0 && c[4].n == 0)) {
        const char *part = c[0].n == 0 ? "training part (train.tsv)"
                           : c[2].n == 0 && test_fraction > 0.0 ? "test part (test.tsv)"
                                                                : "uniform part (uniform.tsv)";
        st = fct_fail(ctx, FACTO_ERR_EMPTY,
                      "synthetic MNAR data set: the %s came out empty (%lld observed for training, %lld for test, "
                      "%lld uniform); ask for more ratings, or a test fraction further from 0 and 1",
                      part, (long long)c[0].n, (long long)c[2].n, (long long)c[4].n);
        goto done;
    }
    st = mnar_build(ctx, &c[0], &c[1], &out->train, &out->train_propensity, maps);
    if (st == FACTO_OK && c[2].n)
        st = mnar_build(ctx, &c[2], &c[3], &out->test, &out->test_propensity, maps + 4);
    if (st == FACTO_OK && c[4].n)
        st = mnar_build(ctx, &c[4], NULL, &out->uniform, NULL, maps + 8);
    for (int r = 1; r <= 5; r++)
        out->propensity[r - 1] = prop[r];
done:
    if (st != FACTO_OK)
        facto_synth_mnar_free(out);
    for (int j = 0; j < 10; j++)
        fct_idmap_free(maps[j]);
    for (int j = 0; j < 5; j++)
        fct_coo_free(&c[j]);
    free(P);
    free(Q);
    free(bu);
    free(bi);
    free(R);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
