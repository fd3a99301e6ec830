/*
 * rng.c — xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", 2018) seeded by splitmix64; normal by Box-Muller,
 * gamma by Marsaglia & Tsang (2000). Same seed, same stream on every platform.
 */
#include "internal.h"

#include <math.h>

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

double fct_rng_normal(fct_rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    double u1, u2;
    do {
        u1 = fct_rng_uniform(rng);
    } while (u1 <= 0.0);
    u2 = fct_rng_uniform(rng);
    double r = sqrt(-2.0 * log(u1));
    double th = 2.0 * M_PI * u2;
    rng->spare = r * sin(th);
    rng->has_spare = 1;
    return r * cos(th);
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
