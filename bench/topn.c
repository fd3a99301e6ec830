/*
 * topn.c — batch top-N speed (issue 9): a synthetic MF model of U users x I
 * items x k factors (random N(0, 0.1^2) factors and biases, seeded; built
 * directly, no training), then facto_model_recommend_batch for every user
 * (top 10, training items none), timed; and the sgemm rate of the same
 * products on the same machine, the faster of two shapes: blocks of 256
 * users x every item, OpenBLAS threads sharing each call; and 256 x 512
 * tiles, one single-threaded call per thread at a time (what the batch
 * path runs). The users/s are set against what sgemm allows:
 *   bound users/s = sgemm FLOP/s / (2 k I).
 * Prints one line: users, items, k, threads, seconds, users/s, sgemm
 * GFLOP/s, bound users/s, share of the bound.
 * Usage: topn [--users U] [--items I] [--k K] [--threads T] [--seed S]
 */
#include "facto.h"
#include "kernels/blas.h"
#include "data/dataset.h"
#include "models/mf.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int users = 100000, items = 50000, k = 64, threads = 0, top_k = 10;
    uint64_t seed = 1;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--users"))
            users = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--items"))
            items = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--k"))
            k = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--threads"))
            threads = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--seed"))
            seed = strtoull(argv[a + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: topn [--users U] [--items I] [--k K] [--threads T] [--seed S]\n");
            return 1;
        }
    }
    facto_ctx *ctx = facto_ctx_new();
    facto_ctx_set_threads(ctx, threads);
    fct_mf_model *m = fct_mf_model_alloc(users, items, k, 0);
    if (!m) {
        fprintf(stderr, "topn: out of memory\n");
        return 3;
    }
    m->params = facto_mf_params_default();
    m->params.num_factors = k;
    m->mu = 3.5;
    m->min_rating = 1.0f;
    m->max_rating = 5.0f;
    m->users = fct_idmap_new();
    m->items = fct_idmap_new();
    char id[32];
    for (int u = 0; u < users; u++) {
        int n = snprintf(id, sizeof id, "u%d", u);
        fct_idmap_intern(m->users, id, (size_t)n);
    }
    for (int i = 0; i < items; i++) {
        int n = snprintf(id, sizeof id, "i%d", i);
        fct_idmap_intern(m->items, id, (size_t)n);
    }
    fct_rng rng;
    fct_rng_seed(&rng, seed);
    for (size_t x = 0; x < (size_t)users * (size_t)k; x++)
        m->P[x] = (float)(0.1 * fct_rng_normal(&rng));
    for (size_t x = 0; x < (size_t)items * (size_t)k; x++)
        m->Q[x] = (float)(0.1 * fct_rng_normal(&rng));
    for (int i = 0; i < items; i++)
        m->bi[i] = (float)(0.1 * fct_rng_normal(&rng));
    const char **ids = malloc((size_t)users * sizeof *ids);
    for (int u = 0; u < users; u++)
        ids[u] = facto_idmap_name(m->users, u);
    facto_recommendation *out = malloc((size_t)users * (size_t)top_k * sizeof *out);
    int *n_out = malloc((size_t)users * sizeof *n_out);
    double t0 = now_s();
    if (facto_model_recommend_batch(ctx, &m->base, ids, users, top_k, 0, out, n_out) != FACTO_OK) {
        fprintf(stderr, "topn: %s\n", facto_errmsg(ctx));
        return 2;
    }
    double secs = now_s() - t0;
    /* sgemm alone on the same products, two ways */
    int block = 256, tile = 512, n_threads = threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    float *S = malloc((size_t)block * (size_t)items * sizeof *S);
    float *T = malloc((size_t)n_threads * (size_t)block * (size_t)tile * sizeof *T);
    int blocks = users / block < 40 ? (users / block > 0 ? users / block : 1) : 40;
    const double flop = 2.0 * (double)block * blocks * items * k;
    fct_blas_set_threads(n_threads);
    double g0 = now_s();
    for (int b = 0; b < blocks; b++)
        fct_sgemm_nt(block, items, k, m->P + (size_t)b * block * (size_t)k, k, m->Q, k, S, items);
    double gflops_whole = flop / (now_s() - g0) / 1e9;
    fct_blas_set_threads(1);
    g0 = now_s();
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int b = 0; b < blocks; b++)
        for (int i0 = 0; i0 < items; i0 += tile)
            fct_sgemm_nt(block, items - i0 < tile ? items - i0 : tile, k, m->P + (size_t)b * block * (size_t)k, k,
                         m->Q + (size_t)i0 * k, k, T + (size_t)omp_get_thread_num() * block * tile, tile);
    double gflops_tiles = flop / (now_s() - g0) / 1e9;
    double gflops = gflops_whole > gflops_tiles ? gflops_whole : gflops_tiles;
    double bound = gflops * 1e9 / (2.0 * (double)items * k);
    printf("users %d  items %d  k %d  threads %d  top %d: %.2f s, %.0f users/s; sgemm %.1f GFLOP/s (whole rows %.1f, "
           "tiles %.1f) -> bound %.0f users/s; %.2f of the bound\n",
           users, items, k, n_threads, top_k, secs, users / secs, gflops, gflops_whole, gflops_tiles, bound,
           users / secs / bound);
    free(T);
    free(S);
    free(ids);
    free(out);
    free(n_out);
    facto_model_free(&m->base);
    facto_ctx_free(ctx);
    return 0;
}
