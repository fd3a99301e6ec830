/*
 * fpsg_mf.c — blocked parallel SGD for biased MF, after FPSG (Chin, Zhuang,
 * Juan & Lin, "A fast parallel stochastic gradient method for matrix
 * factorization in shared memory systems", ACM TIST 2015) with the
 * stratum schedule of DSGD (Gemulla, Nijkamp, Haas & Sismanis, KDD 2011).
 *
 * Grid. Users are cut into g contiguous ranges and items into g contiguous
 * ranges, each cut where the cumulative rating count crosses a multiple of
 * nnz / g, so the g x g blocks hold about nnz / g^2 ratings each. The
 * ratings are never copied: the training CSR (by user, items ascending)
 * already holds, for each user, the ratings of one item range as one
 * contiguous run; seg keeps, per user, where each run starts (g + 1 uint32
 * offsets from the user's row start). Optional per-rating weights (same
 * positions as the ratings; NULL = 1) ride along.
 *
 * Parameters. Training works in place on the model's P and Q, made with
 * padded rows (fct_mf_init with ld = fct_mf_blocked_stride): row u of P is
 * [p_u | b_u | 0..], row i of Q is [q_i | b_i | 0..], stride a multiple of
 * 16 floats (64 bytes), so one update streams one contiguous run of cache
 * lines per side; the biases are copied out to bu, bi after each epoch and
 * the rows compacted to stride k after the last (fct_mf_compact). No copy
 * of the parameters exists besides the model's.
 *
 * Data. The ratings are read as stored: item indices of 2 or 4 bytes, the
 * ratings as 1-byte codes through the .fds code table or as floats
 * (fct_mf_csr); one instance of the block loop per layout.
 *
 * Schedule. An epoch is g strata; stratum s holds the g blocks (r, c_s(r))
 * with c_s(r) = cperm[(r + sperm[s]) mod g] (a Latin square: no two blocks
 * of a stratum share a user range or an item range; every block once per
 * epoch); cperm and sperm are drawn per epoch from the seed. Threads take
 * blocks one at a time without a barrier between strata
 * (fct_mf_blocked_epoch): block (s, r) may start once the blocks of stratum
 * s - 1 on user range r and on its item range are done, so every row sees
 * its blocks in stratum order, as if the strata ran one after the other.
 * As the blocks of a stratum touch disjoint rows, the model does not depend
 * on which thread ran which block nor on how many threads there are: the
 * same seed gives the same bytes for any thread count (the per-block error
 * sums are added in (stratum, block) order too). FPSG's scheduler instead
 * hands any free block, least-processed first, in whatever order the
 * threads come: faster on many cores, another model on every run.
 *
 * Inside a block the users of its range are visited in an order drawn from
 * (seed, epoch, block) each epoch, each user's run in item order (the
 * CSR's), one fused kernel step per rating (kernels.h mf_sgd_row; with
 * the per-row adaptive rate, mf_adagrad_row, whose accumulator G sits after
 * the bias in each padded row).
 *
 * Memory: seg 4 (g + 1) bytes per user, the visiting order 4 bytes per
 * user; nothing per rating. The grid is built over the threads (item
 * counts per thread, then added; each user's runs apart): the same grid for
 * any count. Cost O(k) per
 * rating plus O(n_users) per stratum.
 */
#include "mf_solvers.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

int fct_mf_blocked_grid_size(int32_t n_users, int32_t n_items, int n_threads)
{
    int g = FCT_MF_GRID;
    if (n_threads > FCT_MF_GRID)
        g = 2 * n_threads + 1;
    if (g > FCT_MF_GRID_MAX)
        g = FCT_MF_GRID_MAX;
    if (g > n_users)
        g = (int)n_users;
    if (g > n_items)
        g = (int)n_items;
    return g < 1 ? 1 : g;
}

/* Cut [0, n) into g ranges of about total / g counts each: cut[0] = 0,
 * cut[g] = n, non-decreasing. cum(j) = count of indices < j. */
static void fct_mf_cuts(int32_t *cut, int g, int32_t n, const int64_t *cum)
{
    const int64_t total = cum[n];
    int32_t j = 0;
    cut[0] = 0;
    for (int r = 1; r < g; r++) {
        const int64_t want = total * r / g;
        while (j < n && cum[j] < want)
            j++;
        cut[r] = j;
    }
    cut[g] = n;
}

int32_t fct_mf_blocked_stride(int32_t k) { return (k + 2 + 15) / 16 * 16; /* [p | b | G (adaptive rate) | 0..] */ }

/* Item index j of the CSR. */
static inline int32_t fct_mf_item(const fct_mf_csr *d, int64_t j)
{
    return d->item_w == 2 ? (int32_t)((const uint16_t *)d->items)[j] : ((const int32_t *)d->items)[j];
}

void fct_mf_blocked_free(fct_mf_blocked *b)
{
    if (!b)
        return;
    free(b->ucut);
    free(b->icut);
    free(b->seg);
    free(b->uorder);
    free(b->bsse);
    free(b->bsae);
    free((void *)b->flow);
    free(b->cols);
    memset(b, 0, sizeof *b);
}

int fct_mf_blocked_init(fct_mf_blocked *b, const fct_mf_model *m, const fct_mf_csr *d, int g, uint64_t seed,
                        int n_threads)
{
    memset(b, 0, sizeof *b);
    const int32_t nu = m->n_users, ni = m->n_items, k = m->k;
    b->g = g;
    b->n_users = nu;
    b->n_items = ni;
    b->k = k;
    b->stride = m->ld;
    b->d = *d;
    b->seed = seed;
    b->U = m->P;
    b->V = m->Q;
    const int64_t *row_ptr = d->row_ptr;
    b->ucut = fct_malloc_array((size_t)g + 1, sizeof *b->ucut);
    b->icut = fct_malloc_array((size_t)g + 1, sizeof *b->icut);
    b->seg = fct_malloc_array((size_t)nu * ((size_t)g + 1), sizeof *b->seg);
    b->uorder = fct_malloc_array((size_t)nu + 1, sizeof *b->uorder);
    b->bsse = fct_calloc_array((size_t)g * (size_t)g, sizeof *b->bsse);
    b->bsae = fct_calloc_array((size_t)g * (size_t)g, sizeof *b->bsae);
    b->flow = fct_calloc_array((size_t)g * ((size_t)g + 3), sizeof *b->flow);
    b->cols = fct_malloc_array((size_t)g * (size_t)g, sizeof *b->cols);
    const int nt = n_threads > 1 ? n_threads : 1;
    int64_t *icum = fct_calloc_array(((size_t)ni + 1) * (size_t)nt, sizeof *icum); /* a count per thread */
    if (!b->ucut || !b->icut || !b->seg || !b->uorder || !b->bsse || !b->bsae || !b->flow || !b->cols || !icum ||
        b->stride != fct_mf_blocked_stride(k)) {
        free(icum);
        fct_mf_blocked_free(b);
        return -1;
    }
    /* cuts balanced by ratings: users from the CSR offsets, items from their counts */
    fct_mf_cuts(b->ucut, g, nu, row_ptr);
    const int64_t nnz = row_ptr[nu];
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int64_t *h = icum + ((size_t)ni + 1) * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (int64_t x = 0; x < nnz; x++)
            h[fct_mf_item(d, x) + 1]++;
    }
    for (int t = 1; t < nt; t++)
        for (int32_t i = 0; i <= ni; i++)
            icum[i] += icum[((size_t)ni + 1) * (size_t)t + (size_t)i];
    for (int32_t i = 0; i < ni; i++)
        icum[i + 1] += icum[i];
    fct_mf_cuts(b->icut, g, ni, icum);
    free(icum);
    /* each user's runs: items ascending, so one merge over the item cuts
     * (users apart: over the threads, the same offsets) */
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int32_t u = 0; u < nu; u++) {
        uint32_t *s = b->seg + (size_t)u * ((size_t)g + 1);
        const int64_t x0 = row_ptr[u], x1 = row_ptr[u + 1];
        int64_t x = x0;
        for (int c = 0; c < g; c++) {
            s[c] = (uint32_t)(x - x0);
            while (x < x1 && fct_mf_item(d, x) < b->icut[c + 1])
                x++;
        }
        s[g] = (uint32_t)(x1 - x0);
        b->uorder[u] = u;
    }
    return 0;
}

int fct_mf_blocked_store(const fct_mf_blocked *b, fct_mf_model *m, int n_threads)
{
    const size_t stride = (size_t)b->stride, k = (size_t)b->k;
    const int32_t nu = b->n_users, n = b->n_users + b->n_items;
    const int nt = n_threads > 1 ? n_threads : 1;
    /* finite: the largest |bits| of every float of every row (the bias, the
     * padding and adagrad's accumulator too) below that of inf */
    uint32_t mx = 0;
#pragma omp parallel for num_threads(nt) schedule(static) reduction(max : mx) if (nt > 1)
    for (int32_t r = 0; r < n; r++) {
        const float *row = r < nu ? b->U + (size_t)r * stride : b->V + (size_t)(r - nu) * stride;
        if (r < nu)
            m->bu[r] = row[k];
        else
            m->bi[r - nu] = row[k];
        const uint32_t rm = fct_mf_abs_bits_max(row, stride);
        mx = rm > mx ? rm : mx;
    }
    return mx < 0x7f800000u;
}

void fct_mf_blocked_adaptive(fct_mf_blocked *b, float g0)
{
    const size_t stride = (size_t)b->stride, k = (size_t)b->k;
    for (int32_t u = 0; u < b->n_users; u++)
        b->U[(size_t)u * stride + k + 1] = g0;
    for (int32_t i = 0; i < b->n_items; i++)
        b->V[(size_t)i * stride + k + 1] = g0;
    b->adaptive = 1;
}

/* A stream of the seed for (epoch, a, b): splitmix-style mixing. */
static uint64_t fct_mf_stream(uint64_t seed, int epoch, int a, int c)
{
    uint64_t z = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(epoch + 1));
    z ^= (uint64_t)(uint32_t)a << 32 | (uint32_t)c;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fct_mf_perm(fct_rng *rng, int *a, int n)
{
    for (int x = 0; x < n; x++)
        a[x] = x;
    for (int x = n - 1; x > 0; x--) {
        int y = (int)fct_rng_below(rng, (uint64_t)x + 1);
        int t = a[x];
        a[x] = a[y];
        a[y] = t;
    }
}

void fct_mf_blocked_schedule(fct_mf_blocked *b, int epoch)
{
    const int g = b->g;
    fct_rng rng;
    fct_rng_seed(&rng, fct_mf_stream(b->seed, epoch, -1, -1));
    int cperm[FCT_MF_GRID_MAX], sperm[FCT_MF_GRID_MAX];
    fct_mf_perm(&rng, cperm, g);
    fct_mf_perm(&rng, sperm, g);
    for (int s = 0; s < g; s++)
        for (int r = 0; r < g; r++)
            b->cols[s * g + r] = cperm[(r + sperm[s]) % g];
}

/* Ask for the cache lines of one padded row (stride floats, 64-byte
 * aligned): the next rating's item row is fetched while this one updates. */
#define FCT_MF_AHEAD 3 /* ratings ahead whose item rows are prefetched */

static inline void fct_mf_prefetch_row(const float *row, size_t stride)
{
    for (size_t f = 0; f < stride; f += 16)
        __builtin_prefetch(row + f, 1, 3);
}

/* The users of block (r, c), each user's run in item order; item_w and
 * coded are constants in each instance below (one loop per data layout). */
static inline __attribute__((always_inline)) void fct_mf_block_run(fct_mf_blocked *b, const int32_t *ord, int32_t n,
                                                                  int c, float mu, float lr, float reg_f,
                                                                  float reg_b, int item_w, int coded, double *sse,
                                                                  double *sae)
{
    const int g = b->g;
    const size_t stride = (size_t)b->stride;
    const int k = b->k;
    const fct_mf_csr *d = &b->d;
    const uint16_t *it16 = d->items;
    const int32_t *it32 = d->items;
    const uint8_t *codes = d->codes;
    const float *table = d->table, *ratings = d->ratings, *weights = d->weights;
#define FCT_MF_ITEM(j) (item_w == 2 ? (int32_t)it16[j] : it32[j])
#define FCT_MF_RATING(j) (coded ? table[codes[j]] : ratings[j])
    float (*step)(float *, float *, int, float, float, float, float, float, float) =
        b->adaptive ? fct_kern.mf_adagrad_row : fct_kern.mf_sgd_row;
    double s2 = 0.0, s1 = 0.0;
    for (int32_t x = 0; x < n; x++) {
        const int32_t u = ord[x];
        const uint32_t *s = b->seg + (size_t)u * ((size_t)g + 1);
        const int64_t j0 = d->row_ptr[u] + s[c], j1 = d->row_ptr[u] + s[c + 1];
        if (j0 == j1)
            continue;
        float *p = b->U + (size_t)u * stride;
        if (x + 1 < n) /* the next user's row, while this one runs */
            fct_mf_prefetch_row(b->U + (size_t)ord[x + 1] * stride, stride);
        if (x + 4 < n) { /* and the run offsets of the user after next */
            __builtin_prefetch(b->seg + (size_t)ord[x + 4] * ((size_t)g + 1) + c, 0, 3);
            __builtin_prefetch(d->row_ptr + ord[x + 4], 0, 3);
        }
        float es = 0.0f, ea = 0.0f;
        for (int64_t j = j0; j < j1 && j < j0 + FCT_MF_AHEAD; j++)
            fct_mf_prefetch_row(b->V + (size_t)FCT_MF_ITEM(j) * stride, stride);
        for (int64_t j = j0; j < j1; j++) {
            if (j + FCT_MF_AHEAD < j1)
                fct_mf_prefetch_row(b->V + (size_t)FCT_MF_ITEM(j + FCT_MF_AHEAD) * stride, stride);
            float *q = b->V + (size_t)FCT_MF_ITEM(j) * stride;
            const float dd = step(p, q, k, mu, FCT_MF_RATING(j), weights ? weights[j] : 1.0f, lr, reg_f, reg_b);
            es += dd * dd;
            ea += dd < 0.0f ? -dd : dd;
        }
        s2 += (double)es;
        s1 += (double)ea;
    }
#undef FCT_MF_ITEM
#undef FCT_MF_RATING
    *sse = s2;
    *sae = s1;
}

/* Block (r, c): its users in a fresh order, each user's run in item order. */
static void fct_mf_block(fct_mf_blocked *b, int epoch, int r, int c, float mu, float lr, float reg_f, float reg_b,
                         double *out_sse, double *out_sae)
{
    const int32_t u0 = b->ucut[r], u1 = b->ucut[r + 1];
    int32_t *ord = b->uorder + u0;
    const int32_t n = u1 - u0;
    fct_rng rng;
    fct_rng_seed(&rng, fct_mf_stream(b->seed, epoch, r, c));
    for (int32_t x = n - 1; x > 0; x--) {
        int32_t y = (int32_t)fct_rng_below(&rng, (uint64_t)x + 1);
        int32_t t = ord[x];
        ord[x] = ord[y];
        ord[y] = t;
    }
    double sse = 0.0, sae = 0.0;
    const int coded = b->d.codes != NULL;
    if (b->d.item_w == 2 && coded)
        fct_mf_block_run(b, ord, n, c, mu, lr, reg_f, reg_b, 2, 1, &sse, &sae);
    else if (b->d.item_w == 2)
        fct_mf_block_run(b, ord, n, c, mu, lr, reg_f, reg_b, 2, 0, &sse, &sae);
    else if (coded)
        fct_mf_block_run(b, ord, n, c, mu, lr, reg_f, reg_b, 4, 1, &sse, &sae);
    else
        fct_mf_block_run(b, ord, n, c, mu, lr, reg_f, reg_b, 4, 0, &sse, &sae);
    *out_sse = sse;
    *out_sae = sae;
}

void fct_mf_blocked_stratum(fct_mf_blocked *b, int epoch, int s, float mu, float lr, float reg_f, float reg_b,
                            int n_threads, double *sse, double *sae)
{
    const int g = b->g;
    const int *cols = b->cols + (size_t)s * (size_t)g;
    if (n_threads > g)
        n_threads = g;
    if (n_threads <= 1) {
        for (int r = 0; r < g; r++)
            fct_mf_block(b, epoch, r, cols[r], mu, lr, reg_f, reg_b, &b->bsse[r], &b->bsae[r]);
    } else {
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
        for (int r = 0; r < g; r++)
            fct_mf_block(b, epoch, r, cols[r], mu, lr, reg_f, reg_b, &b->bsse[r], &b->bsae[r]);
    }
    for (int r = 0; r < g; r++) {
        *sse += b->bsse[r];
        *sae += b->bsae[r];
    }
}

/* Strata done in order so far: every block of strata 0 .. n-1 done. */
static int fct_mf_flow_strata_done(const fct_mf_blocked *b, int from)
{
    const int g = b->g;
    const _Atomic int *left = b->flow + 2 * g;
    while (from < g && atomic_load_explicit(&left[from], memory_order_acquire) == 0)
        from++;
    return from;
}

int fct_mf_blocked_epoch(fct_mf_blocked *b, int epoch, float mu, float lr, float reg_f, float reg_b, int n_threads,
                         int (*progress)(int strata_done, void *user), void *user, double *sse, double *sae)
{
    const int g = b->g;
    const size_t gg = (size_t)g * (size_t)g;
    _Atomic int *row_next = b->flow, *col_next = b->flow + g, *left = b->flow + 2 * g, *state = b->flow + 3 * g;
    for (int x = 0; x < g; x++) {
        atomic_store_explicit(&row_next[x], 0, memory_order_relaxed);
        atomic_store_explicit(&col_next[x], 0, memory_order_relaxed);
        atomic_store_explicit(&left[x], g, memory_order_relaxed);
    }
    for (size_t x = 0; x < gg; x++)
        atomic_store_explicit(&state[x], 0, memory_order_relaxed);
    if (n_threads > g)
        n_threads = g;
    _Atomic int stop = 0;
    int reported = 0;
    if (n_threads <= 1) {
        for (int s = 0; s < g && !stop; s++) {
            const int *cols = b->cols + (size_t)s * (size_t)g;
            double ss = 0.0;
            for (int r = 0; r < g; r++) {
                const size_t x = (size_t)s * (size_t)g + (size_t)r;
                fct_mf_block(b, epoch, r, cols[r], mu, lr, reg_f, reg_b, &b->bsse[x], &b->bsae[x]);
                atomic_store_explicit(&state[x], 2, memory_order_relaxed);
                ss += b->bsse[x];
            }
            atomic_store_explicit(&left[s], 0, memory_order_relaxed);
            reported = s + 1;
            if (!isfinite(ss) || (progress && progress(reported, user)))
                stop = 1;
        }
    } else {
#pragma omp parallel num_threads(n_threads)
        {
            const int me = omp_get_thread_num();
            int lo = 0; /* strata below are claimed whole */
            for (;;) {
                if (atomic_load_explicit(&stop, memory_order_relaxed))
                    break;
                int got = -1;
                for (int s = lo; s < g && got < 0; s++) {
                    int whole = 1;
                    for (int r = 0; r < g; r++) {
                        const size_t x = (size_t)s * (size_t)g + (size_t)r;
                        if (atomic_load_explicit(&state[x], memory_order_relaxed) != 0)
                            continue;
                        whole = 0;
                        if (atomic_load_explicit(&row_next[r], memory_order_acquire) != s ||
                            atomic_load_explicit(&col_next[b->cols[x]], memory_order_acquire) != s)
                            continue;
                        int free_ = 0;
                        if (atomic_compare_exchange_strong(&state[x], &free_, 1)) {
                            got = (int)x;
                            break;
                        }
                    }
                    if (whole && s == lo)
                        lo = s + 1;
                }
                if (me == 0 && progress) {
                    const int now = fct_mf_flow_strata_done(b, reported);
                    for (; reported < now && !atomic_load(&stop); reported++)
                        if (progress(reported + 1, user))
                            atomic_store(&stop, 1);
                }
                if (got < 0) {
                    if (lo >= g)
                        break; /* every block taken */
                    sched_yield();
                    continue;
                }
                const int s = got / g, r = got % g, c = b->cols[got];
                fct_mf_block(b, epoch, r, c, mu, lr, reg_f, reg_b, &b->bsse[got], &b->bsae[got]);
                if (!isfinite(b->bsse[got]))
                    atomic_store(&stop, 1);
                atomic_store_explicit(&state[got], 2, memory_order_relaxed);
                atomic_store_explicit(&row_next[r], s + 1, memory_order_release);
                atomic_store_explicit(&col_next[c], s + 1, memory_order_release);
                atomic_fetch_sub_explicit(&left[s], 1, memory_order_acq_rel);
            }
        }
        const int now = fct_mf_flow_strata_done(b, reported);
        for (; progress && reported < now && !atomic_load(&stop); reported++)
            if (progress(reported + 1, user))
                atomic_store(&stop, 1);
        reported = now;
    }
    /* every block done, in (s, r) order: as the strata one by one */
    for (size_t x = 0; x < gg; x++)
        if (atomic_load_explicit(&state[x], memory_order_relaxed) == 2) {
            *sse += b->bsse[x];
            *sae += b->bsae[x];
        }
    return reported;
}
