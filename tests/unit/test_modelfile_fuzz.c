/*
 * test_modelfile_fuzz.c — loads 2000 randomly damaged variants of each of
 * six real model files trained here on synthetic data (mf; popular,
 * itemknn, ease; fm hashed by SGD; fm dense by MCMC with posterior samples)
 * through facto_model_load.
 * Truncations and bit flips keep the stored checksum, so they must be
 * refused; the other kinds of damage re-seal the file with a fresh XXH64 so
 * the directory checks and the model loaders see hostile sizes, offsets,
 * kinds and contents. Each variant must return an error whose message starts
 * with the path, or load a model that predicts, recommends and (for the
 * first 100) survives save -> load -> save with identical bytes. Meant for
 * ASan+UBSan too; fixed seeds keep failures reproducible. About a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/dataset.h"
#include "io/modelfile.h"
#include "models/fm.h"
#include "models/model.h"
#include "unit/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* Longer runs: -DFACTO_FUZZ_VARIANTS=100000 -DFACTO_FUZZ_SEED=7 */
#ifndef FACTO_FUZZ_VARIANTS
#define FACTO_FUZZ_VARIANTS 2000
#endif
#ifndef FACTO_FUZZ_SEED
#define FACTO_FUZZ_SEED 20261129
#endif
#define N_VARIANTS FACTO_FUZZ_VARIANTS

/* The typed hyperparameters of an FM model (the library's internal struct). */
static facto_status test_fm_params_of(const facto_model *m, facto_fm_params *out)
{
    if (!m || facto_model_get_kind(m) != FACTO_MODEL_FM)
        return FACTO_ERR_INVALID;
    *out = ((const fct_fm_model *)m)->params;
    return FACTO_OK;
}

static char g_dir[256];


/* A small model of `kind` (mf, or a ranking kind with the ratings as
 * weights) trained on 20 users x 15 items of synthetic ratings. */
static void train_kind(facto_ctx *ctx, const char *kind, const char *path)
{
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    char id[32];
    for (int u = 0; u < 20; u++) {
        snprintf(id, sizeof id, "user%d", u);
        assert_int_equal(fct_idmap_intern(users, id, strlen(id)), u);
    }
    for (int i = 0; i < 15; i++) {
        snprintf(id, sizeof id, "item-%d", i);
        assert_int_equal(fct_idmap_intern(items, id, strlen(id)), i);
    }
    for (int u = 0; u < 20; u++)
        for (int i = 0; i < 15; i++)
            if ((u * 7 + i * 3) % 4 != 0)
                assert_int_equal(fct_coo_push(ctx, &coo, u, i, (float)(1 + (u + 2 * i) % 5), 0, 0), FACTO_OK);
    facto_dataset *ds = NULL;
    assert_int_equal(fct_dataset_from_coo(ctx, &coo, users, items, &ds, NULL), FACTO_OK);
    fct_coo_free(&coo);
    facto_params *p = NULL;
    assert_int_equal(facto_params_new(ctx, kind, &p), FACTO_OK);
    if (strcmp(kind, "mf") == 0) {
        assert_int_equal(facto_params_set(ctx, p, "num_factors", "4"), FACTO_OK);
        assert_int_equal(facto_params_set(ctx, p, "epochs", "2"), FACTO_OK);
    }
    if (strcmp(kind, "itemknn") == 0)
        assert_int_equal(facto_params_set(ctx, p, "neighbors", "4"), FACTO_OK);
    facto_fit_data d = {ds, NULL, NULL, NULL, NULL, NULL};
    facto_model *m = NULL;
    assert_int_equal(facto_model_fit(ctx, p, &d, NULL, &m), FACTO_OK);
    facto_params_free(p);
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    facto_model_free(m);
    facto_dataset_free(ds);
}

/* Rows for small factorization machines: keys spread over [0, dim). */
static facto_rows *fm_rows(uint64_t dim)
{
    facto_rows *rows = facto_rows_new(dim, 1);
    assert_non_null(rows);
    for (int r = 0; r < 60; r++) {
        uint32_t a = (uint32_t)((uint64_t)(r % 6) * (dim / 6)), b = (uint32_t)(dim - 1 - (uint64_t)(r % 5));
        assert_int_equal(facto_rows_push(NULL, rows, a, 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_push(NULL, rows, b, 1.0f), FACTO_OK);
        assert_int_equal(facto_rows_finish_row(NULL, rows, (float)(1 + (r * 7) % 5)), FACTO_OK);
    }
    return rows;
}

#define FM_HASHED_DIM 4000000000u /* hashed model: sections FMKY (slot keys) */
#define FM_DENSE_DIM 40u          /* dense model, trained by MCMC: FMS0/FMSW/FMSV */

static void train_fm_reference(facto_ctx *ctx, const char *path, uint64_t dim)
{
    facto_rows *rows = fm_rows(dim);
    facto_fm_params p = facto_fm_params_default();
    p.feature_dim = dim;
    p.num_factors = 3;
    p.predictor_type = FACTO_FM_REGRESSOR;
    if (dim == FM_DENSE_DIM) {
        p.solver = FACTO_FM_SOLVER_MCMC;
        p.num_iter = 6;
        p.mcmc_samples = 2;
        p.summary_rank = 0; /* thinned samples: the FMSV/FMSW/FMS0 sections */
    }
    facto_model *m = NULL;
    if (facto_fm_fit(ctx, rows, NULL, &p, NULL, &m) != FACTO_OK)
        fail_msg("fm fit: %s", facto_errmsg(ctx));
    assert_int_equal(facto_model_save(ctx, m, path), FACTO_OK);
    facto_model_free(m);
    facto_rows_free(rows);
}

/* Exercise a model that loaded: every call must return without crashing,
 * and save -> load -> save must reproduce the same bytes. */
static void check_loaded(facto_ctx *ctx, facto_model *m, int variant, int resave)
{
    if (facto_model_get_kind(m) == FACTO_MODEL_FM) {
        facto_fm_params p = facto_fm_params_default();
        assert_int_equal(test_fm_params_of(m, &p), FACTO_OK);
        facto_rows *rows = fm_rows(p.feature_dim == FM_DENSE_DIM ? FM_DENSE_DIM : FM_HASHED_DIM);
        float scores[60];
        (void)facto_model_predict_rows(ctx, m, rows, scores, NULL);
        facto_rows_free(rows);
        goto resave;
    }
    const facto_idmap *users = facto_model_users(m), *items = facto_model_items(m);
    int32_t nu = facto_idmap_size(users), ni = facto_idmap_size(items);
    const char *u0 = nu > 0 ? facto_idmap_name(users, 0) : "nobody";
    const char *i0 = ni > 0 ? facto_idmap_name(items, ni - 1) : "nothing";
    float score;
    int flags;
    (void)facto_model_predict(ctx, m, u0, i0, &score, &flags);
    (void)facto_model_predict(ctx, m, "no such user", i0, &score, &flags);
    facto_recommendation rec[5];
    int n_out = 0;
    if (facto_model_recommend(ctx, m, u0, 5, 0, rec, &n_out) == FACTO_OK) {
        assert_true(n_out >= 0 && n_out <= 5);
        for (int j = 0; j < n_out; j++)
            assert_true(rec[j].item >= 0 && rec[j].item < ni);
    }
resave:
    if (!resave)
        return;

    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/resave1.facto", g_dir);
    snprintf(p2, sizeof p2, "%s/resave2.facto", g_dir);
    assert_int_equal(facto_model_save(ctx, m, p1), FACTO_OK);
    facto_model *m2 = NULL;
    if (facto_model_load(ctx, p1, &m2) != FACTO_OK)
        fail_msg("variant %d: loaded, saved, but the saved copy does not load: %s", variant, facto_errmsg(ctx));
    assert_int_equal(facto_model_save(ctx, m2, p2), FACTO_OK);
    facto_model_free(m2);
    size_t n1, n2;
    unsigned char *b1 = fct_test_slurp(p1, &n1), *b2 = fct_test_slurp(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
}

static void put_le(unsigned char *p, int bytes, uint64_t v)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A value that is likely to hit an edge: 0, small, off-by-one of a nearby
 * value, huge, or random. */
static uint64_t edge_value(fct_rng *rng, uint64_t near)
{
    switch (fct_rng_below(rng, 8)) {
    case 0: return 0;
    case 1: return fct_rng_below(rng, 130);
    case 2: return near + 1;
    case 3: return near - 1;
    case 4: return near + 64;
    case 5: return UINT64_MAX - fct_rng_below(rng, 4);
    case 6: return (uint64_t)INT32_MAX + fct_rng_below(rng, 3);
    default: return fct_rng_u64(rng);
    }
}

/* Load N_VARIANTS damaged copies of `ref` and check each outcome. */
static void fuzz_file(facto_ctx *ctx, const char *ref, uint64_t seed)
{
    char bad[512];
    snprintf(bad, sizeof bad, "%s/variant.facto", g_dir);
    size_t n;
    unsigned char *orig = fct_test_slurp(ref, &n);
    uint64_t dir = fct_le_load_u64(orig + 32);
    uint32_t n_sec = fct_le_load_u32(orig + 24);
    assert_true(n_sec >= 5);
    unsigned char *b = malloc(n + 4096);
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    int counts[16] = {0}, loaded = 0;

    for (int v = 0; v < N_VARIANTS; v++) {
        memcpy(b, orig, n);
        size_t len = n;
        int reseal = 1;
        int kind = (int)fct_rng_below(&rng, 7);
        switch (kind) {
        case 0: /* truncate anywhere */
            len = (size_t)fct_rng_below(&rng, n);
            reseal = 0;
            break;
        case 1: /* 1-3 random bit flips, checksum left as it was */
            for (int k = 1 + (int)fct_rng_below(&rng, 3); k > 0; k--)
                b[fct_rng_below(&rng, n)] ^= (unsigned char)(1u << fct_rng_below(&rng, 8));
            reseal = 0;
            break;
        case 2: /* 1-4 random bytes anywhere before the checksum, re-sealed */
            for (int k = 1 + (int)fct_rng_below(&rng, 4); k > 0; k--)
                b[fct_rng_below(&rng, n - 8)] = (unsigned char)fct_rng_u64(&rng);
            break;
        case 3: { /* a header field */
            static const int off[] = {0, 8, 12, 16, 24, 28, 32, 40, 48, 56};
            static const int width[] = {8, 4, 4, 8, 4, 4, 8, 8, 8, 8};
            int f = (int)fct_rng_below(&rng, 10);
            uint64_t near = width[f] == 4 ? fct_le_load_u32(b + off[f]) : fct_le_load_u64(b + off[f]);
            put_le(b + off[f], width[f], edge_value(&rng, near));
            break;
        }
        case 4: { /* a directory field */
            unsigned char *e = b + dir + 24 * fct_rng_below(&rng, n_sec);
            static const int off[] = {0, 4, 8, 16};
            static const int width[] = {4, 4, 8, 8};
            int f = (int)fct_rng_below(&rng, 4);
            uint64_t near = width[f] == 4 ? fct_le_load_u32(e + off[f]) : fct_le_load_u64(e + off[f]);
            put_le(e + off[f], width[f], edge_value(&rng, near));
            break;
        }
        case 5: { /* section contents: hyperparameters, id maps, seen lists */
            uint32_t s = (uint32_t)fct_rng_below(&rng, n_sec);
            const unsigned char *e = orig + dir + 24 * s;
            uint64_t off = fct_le_load_u64(e + 8), size = fct_le_load_u64(e + 16);
            if (size >= 8) {
                uint64_t at = off + 4 * fct_rng_below(&rng, size / 4 - 1);
                put_le(b + at, (int)(1 + fct_rng_below(&rng, 4)), edge_value(&rng, fct_le_load_u32(b + at)));
            }
            break;
        }
        default: { /* grow the file with junk and fix the size field */
            size_t extra = (size_t)fct_rng_below(&rng, 200);
            for (size_t k = 0; k < extra; k++)
                b[n - 8 + k] = (unsigned char)fct_rng_u64(&rng);
            len = n + extra;
            put_le(b + 16, 8, len);
            break;
        }
        }
        if (reseal && len >= 72)
            fct_le_store_u64(b + len - 8, XXH64(b, len - 8, 0));
        int changed = len != n || memcmp(b, orig, n) != 0;
        fct_test_spit(bad, b, len);

        facto_model *m = NULL;
        facto_status st = facto_model_load(ctx, bad, &m);
        counts[st < 16 ? st : 15]++;
        if (st == FACTO_OK) {
            assert_non_null(m);
            if (!reseal && changed)
                fail_msg("variant %d (kind %d): damage without a new checksum was accepted", v, kind);
            /* the save -> load -> save check costs two fsyncs: the first 100 */
            check_loaded(ctx, m, v, loaded++ < 100);
            facto_model_free(m);
            continue;
        }
        assert_null(m);
        if (st != FACTO_ERR_CORRUPT && st != FACTO_ERR_FORMAT && st != FACTO_ERR_VERSION)
            fail_msg("variant %d (kind %d): unexpected status %d: %s", v, kind, st, facto_errmsg(ctx));
        if (strncmp(facto_errmsg(ctx), bad, strlen(bad)) != 0)
            fail_msg("variant %d: message does not start with the path: %s", v, facto_errmsg(ctx));
        if (!changed)
            fail_msg("variant %d: an unchanged file was refused: %s", v, facto_errmsg(ctx));
    }
    print_message("%s: %d variants: %d loaded, %d corrupt, %d format, %d version\n", ref, N_VARIANTS, loaded,
                  counts[FACTO_ERR_CORRUPT], counts[FACTO_ERR_FORMAT], counts[FACTO_ERR_VERSION]);
    /* The damage must reach every check, not just the checksum. */
    assert_true(counts[FACTO_ERR_CORRUPT] > N_VARIANTS / 2);
    assert_true(counts[FACTO_ERR_FORMAT] > 0);
    assert_true(counts[FACTO_ERR_VERSION] > 0);
    assert_true(loaded > 0);
    free(b);
    free(orig);
}

static void test_fuzz_mf(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char ref[512];
    snprintf(ref, sizeof ref, "%s/mf.facto", g_dir);
    train_kind(ctx, "mf", ref);
    fuzz_file(ctx, ref, FACTO_FUZZ_SEED);
    facto_ctx_free(ctx);
}

/* The ranking kinds: hyperparameter text, shared header, id maps, seen
 * lists, weights, counts, neighbour lists, the EASE matrix. */
static void fuzz_ranking(const char *kind, uint64_t seed)
{
    facto_ctx *ctx = facto_ctx_new();
    char ref[512];
    snprintf(ref, sizeof ref, "%s/%s.facto", g_dir, kind);
    train_kind(ctx, kind, ref);
    fuzz_file(ctx, ref, seed);
    facto_ctx_free(ctx);
}

static void test_fuzz_popular(void **state)
{
    (void)state;
    fuzz_ranking("popular", FACTO_FUZZ_SEED + 3);
}

static void test_fuzz_itemknn(void **state)
{
    (void)state;
    fuzz_ranking("itemknn", FACTO_FUZZ_SEED + 4);
}

static void test_fuzz_ease(void **state)
{
    (void)state;
    fuzz_ranking("ease", FACTO_FUZZ_SEED + 5);
}

static void fuzz_fm(uint64_t dim, uint32_t must_have, uint64_t seed)
{
    facto_ctx *ctx = facto_ctx_new();
    char ref[512];
    snprintf(ref, sizeof ref, "%s/fm%llu.facto", g_dir, (unsigned long long)dim);
    train_fm_reference(ctx, ref, dim);
    fct_mfile_reader *r = NULL;
    assert_int_equal(fct_mfile_open(ctx, ref, &r), FACTO_OK);
    assert_true(fct_mfile_has(r, must_have));
    fct_mfile_close(r);
    fuzz_file(ctx, ref, seed);
    facto_ctx_free(ctx);
}

static void test_fuzz_fm_hashed(void **state)
{
    (void)state;
    fuzz_fm(FM_HASHED_DIM, FACTO_TAG('F', 'M', 'K', 'Y'), FACTO_FUZZ_SEED + 1);
}

static void test_fuzz_fm_mcmc(void **state)
{
    (void)state;
    fuzz_fm(FM_DENSE_DIM, FACTO_TAG('F', 'M', 'S', 'V'), FACTO_FUZZ_SEED + 2);
}

static int group_setup(void **state)
{
    (void)state;
    /* tmpfs when there is one: every save fsyncs, which is slow on a busy disk */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/fct_fuzz_XXXXXX", tmp);
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_mf),
        cmocka_unit_test(test_fuzz_popular),
        cmocka_unit_test(test_fuzz_itemknn),
        cmocka_unit_test(test_fuzz_ease),
        cmocka_unit_test(test_fuzz_fm_hashed),
        cmocka_unit_test(test_fuzz_fm_mcmc),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
