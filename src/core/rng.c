/*
 * rng.c — xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", 2018) seeded by splitmix64; normal by Box-Muller,
 * gamma by Marsaglia & Tsang (2000). Same seed, same stream on every platform.
 */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void fct_rng_seed(fct_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
    rng->has_spare = 0;
    rng->spare = 0.0;
}

uint64_t fct_rng_u64(fct_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fct_rng_uniform(fct_rng *rng) { return (double)(fct_rng_u64(rng) >> 11) * 0x1.0p-53; }

uint64_t fct_rng_below(fct_rng *rng, uint64_t n)
{
    uint64_t x = fct_rng_u64(rng);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            x = fct_rng_u64(rng);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Box-Muller's uniforms: u1 in (0, 1) (0 drawn again), then u2 in [0, 1). */
static inline void fct_rng_box_uniforms(fct_rng *rng, double *u1, double *u2)
{
    double a;
    do {
        a = fct_rng_uniform(rng);
    } while (a <= 0.0);
    *u1 = a;
    *u2 = fct_rng_uniform(rng);
}

/* Box-Muller's transform of one uniform pair: *c first, *s the spare. The
 * one body of fct_rng_normal and fct_rng_normal_rows, so both give the same
 * bits. */
static inline void fct_rng_box_transform(double u1, double u2, double *c, double *s)
{
    double r = sqrt(-2.0 * log(u1));
    double th = 2.0 * M_PI * u2;
    *s = r * sin(th);
    *c = r * cos(th);
}

double fct_rng_normal(fct_rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    double u1, u2, c;
    fct_rng_box_uniforms(rng, &u1, &u2);
    fct_rng_box_transform(u1, u2, &c, &rng->spare);
    rng->has_spare = 1;
    return c;
}

/* fct_rng_normal_rows: values per piece (whole rows, at least one). */
#define FCT_RNG_PIECE_VALUES 8192

/* What one piece takes from the stream: the pending spare, if any, first;
 * then uniform pairs; then, for an odd count left, one value drawn whole
 * (fct_rng_normal), whose second half stays in rng for the next piece. */
typedef struct fct_rng_piece {
    size_t pairs;
    double first, last;
    int has_first, has_last;
} fct_rng_piece;

static void fct_rng_piece_draw(fct_rng *rng, size_t n, double *u, fct_rng_piece *d)
{
    d->has_first = n > 0 && rng->has_spare;
    d->first = d->has_first ? rng->spare : 0.0;
    if (d->has_first)
        rng->has_spare = 0;
    d->pairs = (n - (size_t)d->has_first) / 2;
    for (size_t x = 0; x < d->pairs; x++)
        fct_rng_box_uniforms(rng, &u[2 * x], &u[2 * x + 1]);
    d->has_last = (n - (size_t)d->has_first) % 2 != 0;
    d->last = d->has_last ? fct_rng_normal(rng) : 0.0;
}

/* Rows [r0, r1) from a piece's draws: first, the pairs' (c, s) in turn, last. */
static void fct_rng_piece_write(const double *u, const fct_rng_piece *d, float *a, size_t r0, size_t r1, size_t k,
                                size_t ld, double scale)
{
    size_t x = 0;
    int has_first = d->has_first, half = 0;
    double c = 0.0, sn = 0.0;
    for (size_t r = r0; r < r1; r++) {
        float *row = a + r * ld;
        for (size_t f = 0; f < k; f++) {
            double v;
            if (has_first) {
                v = d->first;
                has_first = 0;
            } else if (x < d->pairs) {
                if (!half) {
                    fct_rng_box_transform(u[2 * x], u[2 * x + 1], &c, &sn);
                    v = c;
                } else {
                    v = sn;
                    x++;
                }
                half = !half;
            } else {
                v = d->last;
            }
            row[f] = (float)(scale * v);
        }
        for (size_t f = k; f < ld; f++)
            row[f] = 0.0f;
    }
}

void fct_rng_normal_rows(fct_rng *rng, float *a, size_t rows, size_t k, size_t ld, double scale, int n_threads)
{
    if (rows == 0)
        return;
    const size_t per = k > 0 && k < FCT_RNG_PIECE_VALUES ? FCT_RNG_PIECE_VALUES / k : 1;
    const size_t pieces = (rows + per - 1) / per, max_pairs = (per * k) / 2 + 1;
    int nt = n_threads > 1 ? n_threads : 1;
    if ((size_t)nt > pieces)
        nt = (int)pieces;
    double *uni = nt > 1 ? fct_malloc_array((size_t)nt * 2 * max_pairs, sizeof *uni) : NULL;
    if (!uni) {
        /* one thread (or no memory for the buffers): the plain loop */
        for (size_t r = 0; r < rows; r++) {
            float *row = a + r * ld;
            for (size_t f = 0; f < k; f++)
                row[f] = (float)(scale * fct_rng_normal(rng));
            for (size_t f = k; f < ld; f++)
                row[f] = 0.0f;
        }
        return;
    }
    /* A thread takes the next piece (next), waits for its turn at the
     * stream (turn == its piece: the one before has drawn, a few ns a
     * value), draws the piece's uniforms into its own buffer and passes the
     * turn on, then takes their logs, roots and sines and writes the rows
     * (their first touch) while the others draw and write theirs. The
     * stream is read in piece order, so the values, its state and its spare
     * at the end are those of the plain loop. */
    atomic_size_t next = 0, turn = 0;
#pragma omp parallel num_threads(nt)
    {
        double *u = uni + (size_t)omp_get_thread_num() * 2 * max_pairs;
        for (;;) {
            const size_t p = atomic_fetch_add(&next, 1);
            if (p >= pieces)
                break;
            for (unsigned spin = 0; atomic_load_explicit(&turn, memory_order_acquire) != p; spin++)
                if (spin >= 64)
                    sched_yield();
            const size_t r0 = p * per, r1 = r0 + per < rows ? r0 + per : rows;
            fct_rng_piece d;
            fct_rng_piece_draw(rng, (r1 - r0) * k, u, &d);
            atomic_store_explicit(&turn, p + 1, memory_order_release);
            fct_rng_piece_write(u, &d, a, r0, r1, k, ld, scale);
        }
    }
    free(uni);
}

double fct_rng_gamma(fct_rng *rng, double shape)
{
    if (shape < 1.0) {
        /* Boost: Gamma(a) = Gamma(a+1) * U^(1/a). */
        double u;
        do {
            u = fct_rng_uniform(rng);
        } while (u <= 0.0);
        return fct_rng_gamma(rng, shape + 1.0) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = fct_rng_normal(rng);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = fct_rng_uniform(rng);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v;
        if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

void fct_rng_shuffle_i64(fct_rng *rng, int64_t *a, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)fct_rng_below(rng, (uint64_t)i + 1);
        int64_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
