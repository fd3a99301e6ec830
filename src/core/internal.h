/*
 * internal.h — what every part of libfacto shares and no user sees: the
 * context layout, error and log helpers, checked allocation and the RNG.
 * Nothing here is part of the public API (include/facto.h).
 */
#ifndef FACTO_INTERNAL_H
#define FACTO_INTERNAL_H

#include "facto.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#define FACTO_ERRMSG_MAX 1024

struct facto_ctx {
    facto_status code;
    char msg[FACTO_ERRMSG_MAX];
    facto_log_fn log_fn;
    void *log_user_data;
    facto_log_level log_max;
    int n_threads; /* 0 = all cores */
    void *inputs;  /* output.c: device + inode of every file read, so no output replaces one */
    int n_inputs, cap_inputs;
};

#if defined(__GNUC__) || defined(__clang__)
#define FACTO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FACTO_PRINTF(a, b)
#endif

/* Set ctx's error to `status` with a printf-style message; returns `status`
 * so callers can write `return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%ld: ...", ...)`.
 * ctx may be NULL (then only the status is returned). */
facto_status fct_fail(facto_ctx *ctx, facto_status status, const char *fmt, ...) FACTO_PRINTF(3, 4);
/* A ctx as facto_ctx_new left it but for its log function, log level and
 * threads: no error, no list of files read (the server's worker threads
 * keep one ctx each and reset it before every request). */
void fct_ctx_reset(facto_ctx *ctx);
/* Mark the last call successful (code FACTO_OK, empty message). Returns FACTO_OK. */
facto_status fct_ok(facto_ctx *ctx);
/* Send a log line (no trailing newline needed) if level <= the ctx's max. */
void fct_log(facto_ctx *ctx, facto_log_level level, const char *fmt, ...) FACTO_PRINTF(3, 4);
/* Threads to use: ctx's setting with 0 resolved to the number of cores. */
int fct_threads(const facto_ctx *ctx);
/* Bytes of memory this process may use: the machine's physical memory
 * (sysconf), or the cgroup v2 limit (/sys/fs/cgroup/memory.max) when that
 * is smaller; 0 when neither can be read. */
uint64_t fct_memory_total(void);

/* Allocation with overflow checks; NULL on failure (callers report NOMEM). */
void *fct_malloc_array(size_t n, size_t size);
void *fct_calloc_array(size_t n, size_t size);
void *fct_realloc_array(void *p, size_t n, size_t size);
/* a * b for sizes computed from counts read from a file: saturates at
 * UINT64_MAX when the product passes INT64_MAX, so it can never wrap around
 * to match a real size (sections and files are below 2^63 bytes) and,
 * compared with one, always differs. Chains: fct_size_mul(fct_size_mul(a,
 * b), c). */
static inline uint64_t fct_size_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r) || r > (uint64_t)INT64_MAX)
        return UINT64_MAX;
    return r;
}

/* 64-byte aligned, for parameter arrays used by SIMD kernels; free with fct_aligned_free(). */
void *fct_aligned_alloc(size_t bytes);
void fct_aligned_free(void *p);

/*
 * Random numbers: xoshiro256** (Blackman & Vigna 2018) seeded through
 * splitmix64. Deterministic across platforms for a given seed.
 */
typedef struct fct_rng {
    uint64_t s[4];
    int has_spare;  /* Box-Muller keeps its second value */
    double spare;
} fct_rng;

void fct_rng_seed(fct_rng *rng, uint64_t seed);
uint64_t fct_rng_u64(fct_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double fct_rng_uniform(fct_rng *rng);
/* Uniform integer in [0, n), unbiased (Lemire 2019). n >= 1. */
uint64_t fct_rng_below(fct_rng *rng, uint64_t n);
/* Standard normal N(0, 1) (Box-Muller). */
double fct_rng_normal(fct_rng *rng);
/* Rows [rows, ld] of a: a[r * ld + f] = (float)(scale * fct_rng_normal(rng))
 * for f < k, row by row, and 0 for k <= f < ld; every element written (the
 * first touch of a fresh allocation), over n_threads threads. The values
 * and the state rng is left in (the spare too) are those of that plain
 * loop whatever n_threads: the uniforms are drawn from the one stream in
 * order, the logs, roots and sines computed in parallel. */
void fct_rng_normal_rows(fct_rng *rng, float *a, size_t rows, size_t k, size_t ld, double scale, int n_threads);
/* Gamma(shape, scale=1), shape > 0 (Marsaglia & Tsang 2000). */
double fct_rng_gamma(fct_rng *rng, double shape);
/* Fisher-Yates shuffle of [n] int64 values. */
void fct_rng_shuffle_i64(fct_rng *rng, int64_t *a, int64_t n);

#endif /* FACTO_INTERNAL_H */
