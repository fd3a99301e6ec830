/*
 * recommend.c — top-N for any model with ids, one user or a batch, through
 * the model interface. A dot-form model: tiles of users x items scored with
 * a single-threaded sgemm per thread and scanned at once with a SIMD
 * threshold kernel (fct_kern.scan_above); any other model: score() per
 * user (scoring.c). Each user's candidates go through a bounded heap
 * (topn.c), the user's training items left out unless asked; ties rank the
 * lower item index first. The one-user call is the batch path with one
 * user, and the scores a list reports are the model's own raw scores of
 * the pairs whatever the tile (fct_rec_finish), so both give the same
 * lists, bit for bit, and a pair's score is the number predict gives.
 * Memory O(threads x tile) besides the output; time O(n_users n_items
 * num_factors) for the products plus O(n_items + log(n_items) k log k) a
 * user for the selection.
 */
#include "eval.h"
#include "kernels/blas.h"
#include "kernels/kernels.h"
#include "topn.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/*
 * Scores of a dot-form model are products from sgemm, whose last bits
 * depend on where a user sits in its block (BLAS kernels sum each panel's
 * rows in their own order). So that a user gets the same list and scores in
 * any block, and alone, the items whose block score comes within the
 * rounding bound of the k-th are scored again by the model itself
 * (fct_dot_form.pair: what score() and so predict give, e.g. mf's
 * (c + b_u) + b_i + its dot kernel), and the top k taken by those. Both
 * sums of K products err by at most ~K eps sum |u_f v_f| <= K eps |U_u|
 * max |V_i| (any order of the sum, or a sum in double), so every item of
 * the model's own top k is among those rescored; the bound is taken 4x,
 * plus the biases' roundings.
 */
typedef struct fct_rec_bound {
    float max_norm_v; /* max over items of |V_i| */
    float max_bias;   /* max over items of |b_i| */
} fct_rec_bound;

static void fct_rec_bound_init(const fct_dot_form *d, fct_rec_bound *b)
{
    b->max_norm_v = b->max_bias = 0.0f;
    for (int32_t i = 0; i < d->n_items; i++) {
        const float *v = d->V + (int64_t)i * d->ldv;
        /* eight float partial sums, so the compiler vectorizes the pass
         * (once a model: fct_rec_bound_cached); their rounding (< k 2^-24 relative) is
         * covered by raising the norm by 0.1% plus k 2^-23 */
        float p[8] = {0};
        int32_t f = 0;
        for (; f + 8 <= d->k; f += 8)
            for (int j = 0; j < 8; j++)
                p[j] += v[f + j] * v[f + j];
        double n2 = ((double)(p[0] + p[1]) + (double)(p[2] + p[3])) + ((double)(p[4] + p[5]) + (double)(p[6] + p[7]));
        for (; f < d->k; f++)
            n2 += (double)v[f] * v[f];
        n2 *= 1.002 + 2.4e-7 * d->k; /* sqrt: +0.1% and the rounding */
        b->max_norm_v = (float)sqrt(n2) > b->max_norm_v ? (float)sqrt(n2) : b->max_norm_v;
        if (d->item_bias && fabsf(d->item_bias[i]) > b->max_bias)
            b->max_bias = fabsf(d->item_bias[i]);
    }
}

/* The bound of a model, computed once and kept in the model (the pass
 * over every item's factors costs as much as scoring one user). Threads
 * that race on the first call compute the same values. */
static void fct_rec_bound_cached(const facto_model *model, const fct_dot_form *d, fct_rec_bound *b)
{
    facto_model *m = (facto_model *)model; /* the cache only: models are heap objects */
    if (atomic_load_explicit(&m->topn_bound_ready, memory_order_acquire)) {
        uint32_t nv = atomic_load_explicit(&m->topn_bound[0], memory_order_relaxed),
                 nb = atomic_load_explicit(&m->topn_bound[1], memory_order_relaxed);
        memcpy(&b->max_norm_v, &nv, sizeof nv);
        memcpy(&b->max_bias, &nb, sizeof nb);
        return;
    }
    fct_rec_bound_init(d, b);
    uint32_t nv, nb;
    memcpy(&nv, &b->max_norm_v, sizeof nv);
    memcpy(&nb, &b->max_bias, sizeof nb);
    atomic_store_explicit(&m->topn_bound[0], nv, memory_order_relaxed);
    atomic_store_explicit(&m->topn_bound[1], nb, memory_order_relaxed);
    atomic_store_explicit(&m->topn_bound_ready, 1, memory_order_release);
}

/* User u's score of item i as the lists report it: the model's own raw
 * score of the pair (fct_dot_form.pair), the number predict gives. */
static inline float fct_rec_exact(const facto_model *model, const fct_dot_form *d, int32_t u, int32_t i)
{
    return d->pair(model, u, i);
}

/* How far a block score may be from fct_rec_exact's, times 2 (both err). */
static float fct_rec_slack(const fct_dot_form *d, const fct_rec_bound *b, int32_t u, float kth)
{
    const float *pu = d->U + (int64_t)u * d->ldu;
    double n2 = 0.0;
    for (int32_t f = 0; f < d->k; f++)
        n2 += (double)pu[f] * pu[f];
    const double cu = fabs((double)d->c + (d->user_bias ? d->user_bias[u] : 0.0f));
    const double eps = 1.0 / 8388608.0; /* 2^-23 */
    double e = (double)(d->k + 2) * eps * sqrt(n2) * b->max_norm_v + 4.0 * eps * (cu + b->max_bias + fabs(kth));
    return (float)(4.0 * e);
}

/* Extra entries a dot-form selection keeps beyond k, to find the items
 * near the k-th without a second pass over every item. */
#define FCT_REC_MARGIN 16
/* A dot-form tile: users a thread takes at once x items an sgemm call
 * makes, 256 x 512 floats = 512 KiB, so the products are read back from L2
 * (measured on bench/topn.sh: docs/design.md, Kernels). */
#define FCT_REC_TILE_USERS 256
#define FCT_REC_TILE_ITEMS 512

/* The top k of raw scores [n_items] into out, seen items skipped (ascending
 * lists of both, walked together), best first; returns how many. */
static int fct_rec_pass(const float *scores, int32_t n_items, const fct_seen_list *seen, int64_t n_seen, int k,
                        facto_recommendation *out)
{
    fct_seen_walk s;
    fct_seen_walk_init(&s, seen, n_seen);
    fct_topk top;
    fct_topk_init(&top, out, k);
    for (int32_t i = 0; i < n_items; i++) {
        if (fct_seen_walk_has(&s, i))
            continue;
        fct_topk_offer(&top, i, scores[i]);
    }
    return fct_topk_finish(&top);
}

/* One user's running selection over a dot-form model's tiles. */
typedef struct fct_rec_user {
    fct_topk top;               /* k + FCT_REC_MARGIN best block scores so far */
    fct_seen_walk seen;         /* training items, walked beside the tiles */
    float cu;                   /* c + b_u */
} fct_rec_user;

/* Offer items i0 .. i0 + n - 1 with products row [n]: item-ordered, so the
 * heap's worst is a strict threshold once it is full; the kernel skips
 * every score not above it. Finished scores are (c + b_u) + b_i + dot, as
 * fct_scorer_row adds them. */
static void fct_rec_scan(fct_rec_user *ru, const fct_dot_form *d, const float *row, int32_t i0, int32_t n)
{
    fct_topk *t = &ru->top;
    const float *bias = d->item_bias ? d->item_bias + i0 : NULL;
    int32_t x = 0;
    while (x < n) {
        float v;
        if (t->n < t->k) {
            v = bias ? ru->cu + bias[x] + row[x] : ru->cu + row[x];
        } else {
            x += fct_kern.scan_above(row + x, bias ? bias + x : NULL, ru->cu, n - x, t->heap[0].score, &v);
            if (x >= n)
                break;
        }
        const int32_t i = i0 + x++;
        if (fct_seen_walk_has(&ru->seen, i))
            continue;
        fct_topk_offer(t, i, v);
    }
}

/* User u's top k into out [k] from its block selection `kept` [n] (best
 * first, cap = k + FCT_REC_MARGIN entries at most): those within the slack
 * of the k-th block score are scored again by the model (fct_rec_exact)
 * and the k best kept. When more than were kept lie within the slack,
 * every item is scored so. Either way the list is the top k of the model's
 * own scores, ties to the lower item, whatever block or tile the user was
 * in. */
static int fct_rec_finish(const facto_model *model, const fct_dot_form *d, const fct_rec_bound *bound, int32_t u,
                          const fct_seen_list *seen, int64_t n_seen, const facto_recommendation *kept, int n, int k,
                          facto_recommendation *out)
{
    const int cap = k + FCT_REC_MARGIN;
    /* every candidate when fewer than k, else those within the slack of the k-th */
    float floor = n >= k ? kept[k - 1].score - fct_rec_slack(d, bound, u, kept[k - 1].score) : -INFINITY;
    fct_topk top;
    fct_topk_init(&top, out, k);
    if (n == cap && !(kept[cap - 1].score < floor)) { /* more near the k-th than kept: all of them */
        fct_seen_walk s;
        fct_seen_walk_init(&s, seen, n_seen);
        for (int32_t i = 0; i < d->n_items; i++) {
            if (fct_seen_walk_has(&s, i))
                continue;
            fct_topk_offer(&top, i, fct_rec_exact(model, d, u, i));
        }
        return fct_topk_finish(&top);
    }
    for (int x = 0; x < n; x++)
        if (kept[x].score >= floor)
            fct_topk_push(&top, kept[x].item, fct_rec_exact(model, d, u, kept[x].item));
    return fct_topk_finish(&top);
}

/*
 * One user (the server's call), a dot-form model with many factors: the
 * float products of every item cost a pass over all of V (n_items x k
 * floats: 3.4 MB for ml-100k at 512 factors, more than L2), so the items
 * are first scored from an int8 copy of V (a quarter of the bytes, integer
 * dot products) and only those that can still be in the top k are scored
 * in float. Every estimate carries a proven bound on its distance to the
 * score fct_rec_exact reports, so the items kept are a superset of the
 * exact top k, and the list (the top k of the model's own scores, ties to
 * the lower item) is the same as the tile path's, bit for bit.
 *
 * Item i: s_i = max_f |V_if| / 127, q_i = round(V_i / s_i) in [-127, 127],
 * r_i = V_i - s_i q_i. User u: t = max |u_f| / 127, w = round(u / t),
 * ru = u - t w. Then <u, V_i> = t s_i <w, q_i> + s_i <ru, q_i> + <u, r_i>,
 * and the estimate cu + b_i + t s_i <w, q_i> (the integer product exact)
 * is within |u| |r_i| + |ru| s_i |q_i| of cu + b_i + <u, V_i>. The
 * model's float sum (in any order) differs from the true product by at
 * most gamma |u| |V_i| (gamma = (k + 2) 2^-24, with margin), and its two
 * additions round by at most 2^-22 (|cu| + |b_i| + |u| |V_i|). With lo and
 * hi the estimate minus and plus the bound, an item whose hi is below the
 * k-th largest lo cannot be in the top k. A second round scores the
 * remaining items with the float kernel (bound 2 gamma |u| |V_i| plus the
 * roundings) when more than k + 32 are left; the last round is
 * fct_rec_exact on the survivors.
 * Memory: the copy, n_items x k bytes + 28 bytes an item, kept in the
 * model; O(n_items) a call. Time: n_items k integer products (AVX-512
 * VNNI: 64 a instruction) plus k a survivor.
 */
typedef struct fct_rec_quant {
    int32_t n_items, k, kp; /* kp: k rounded up to 64 */
    int usable;             /* 0: a factor or bias is not finite (the tile path then) */
    double *nv;             /* [n_items] |V_i| */
    float *scale;           /* [n_items] s_i */
    int32_t *sumq;          /* [n_items] sum_f q_if (the uint8 offset's correction) */
    float *A;               /* [n_items] |r_i| + (gamma + 2^-22) |V_i|, rounded up: times |u| */
    float *B;               /* [n_items] s_i |q_i|, rounded up: times |ru| */
    float *bias;            /* [n_items] b_i (0 without biases) */
    float *C;               /* [n_items] 2^-22 |b_i|, rounded up */
    int8_t *q;              /* [n_items, kp], zero padded */
} fct_rec_quant;

#define FCT_REC_U22 (1.0 / 4194304.0) /* 2^-22 */
/* the largest |factor| or |bias| the prefilter takes: sums of k <= 16384
 * products then stay far below FLT_MAX */
#define FCT_REC_QMAX 1e12f
#define FCT_REC_U40 (1.0 / 1099511627776.0)

static atomic_int fct_rec_prefilter_mode; /* 0 auto, 1 never, 2 always, 3 always with the scalar kernel */

void fct_rec_set_prefilter(int mode) { atomic_store(&fct_rec_prefilter_mode, mode); }

static double fct_rec_gamma(int32_t k) { return 1.01 * (double)(k + 2) / 16777216.0; }

static fct_rec_quant *fct_rec_quant_build(const fct_dot_form *d)
{
    const int64_t n = d->n_items, kp = ((int64_t)d->k + 63) / 64 * 64;
    size_t head = (sizeof(fct_rec_quant) + 63) / 64 * 64;
    size_t bytes = head + (size_t)n * (6 * sizeof(float) + sizeof(double)) + (size_t)(n * kp) + 64;
    char *mem = calloc(1, bytes);
    if (!mem)
        return NULL;
    fct_rec_quant *z = (fct_rec_quant *)mem;
    char *p = mem + head;
    z->n_items = (int32_t)n;
    z->k = d->k;
    z->kp = (int32_t)kp;
    z->nv = (double *)p;
    z->scale = (float *)(z->nv + n);
    z->A = z->scale + n;
    z->B = z->A + n;
    z->bias = z->B + n;
    z->C = z->bias + n;
    z->sumq = (int32_t *)(z->C + n);
    z->q = (int8_t *)(z->sumq + n);
    z->usable = 1;
    const double gam = fct_rec_gamma(d->k);
    for (int64_t i = 0; i < n && z->usable; i++) {
        const float *v = d->V + i * d->ldv;
        int8_t *q = z->q + i * kp;
        float mx = 0.0f;
        for (int32_t f = 0; f < d->k; f++)
            mx = fabsf(v[f]) > mx ? fabsf(v[f]) : mx;
        const float b = d->item_bias ? d->item_bias[i] : 0.0f;
        if (!(mx <= FCT_REC_QMAX && fabsf(b) <= FCT_REC_QMAX)) { /* not finite, or so large a sum could overflow */
            z->usable = 0;
            break;
        }
        const float s = mx / 127.0f;
        double r2 = 0.0, q2 = 0.0, v2 = 0.0;
        int32_t sq = 0;
        for (int32_t f = 0; f < d->k; f++) {
            long w = s > 0.0f ? lrintf(v[f] / s) : 0;
            w = w > 127 ? 127 : w < -127 ? -127 : w;
            q[f] = (int8_t)w;
            sq += (int32_t)w;
            const double r = (double)v[f] - (double)s * (double)w;
            r2 += r * r;
            q2 += (double)w * (double)w;
            v2 += (double)v[f] * v[f];
        }
        const double up = 1.0 + 1e-6; /* above the float rounding of the stored values */
        z->scale[i] = s;
        z->sumq[i] = sq;
        z->nv[i] = sqrt(v2) * (1.0 + 1e-9);
        z->A[i] = (float)((sqrt(r2) + (gam + FCT_REC_U22) * z->nv[i]) * up);
        z->B[i] = (float)((double)s * sqrt(q2) * up);
        z->bias[i] = b;
        z->C[i] = (float)(FCT_REC_U22 * fabs((double)b) * up);
    }
    return z;
}

static const fct_rec_quant *fct_rec_quant_get(const facto_model *model, const fct_dot_form *d)
{
    facto_model *m = (facto_model *)model; /* the cache only */
    fct_rec_quant *z = atomic_load_explicit(&m->topn_quant, memory_order_acquire);
    if (z)
        return z;
    z = fct_rec_quant_build(d);
    if (!z)
        return NULL;
    void *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->topn_quant, &expected, z)) { /* another thread's copy won */
        free(z);
        z = expected;
    }
    return z;
}

/* Keep the items cand[0 .. m) whose hi[item] reaches the k-th largest
 * lo[item] (all when fewer than k); returns how many, in order, in cand. */
static int32_t fct_rec_keep(int32_t *cand, int32_t m, const float *lo, const float *hi, int k,
                            facto_recommendation *heap)
{
    if (m <= k)
        return m;
    fct_topk top;
    fct_topk_init(&top, heap, k);
    for (int32_t x = 0; x < m; x++)
        fct_topk_offer(&top, cand[x], lo[cand[x]]);
    const float floor = top.n < k ? -INFINITY : top.heap[0].score;
    int32_t kept = 0;
    for (int32_t x = 0; x < m; x++)
        if (!(hi[cand[x]] < floor))
            cand[kept++] = cand[x];
    return kept;
}

/* The bounds of estimate `base` with error bound e, as floats rounded
 * outwards; 0 when they are not finite. */
static inline int fct_rec_bounds(double base, double e, float *lo, float *hi)
{
    e = e * 1.0001 + FCT_REC_U40 * fabs(base);
    double l = base - e, h = base + e;
    if (!(fabs(l) < 1e37 && fabs(h) < 1e37))
        return 0;
    /* moved out by more than the float rounding (half an ulp, 2^-24
     * relative, or 2^-150 below the normal range) */
    l -= FCT_REC_U22 / 2 * fabs(l) + 1e-44;
    h += FCT_REC_U22 / 2 * fabs(h) + 1e-44;
    *lo = (float)l;
    *hi = (float)h;
    return 1;
}

/* User u's top k through the int8 prefilter; -1 when it cannot be used
 * (no memory, a factor not finite): the tile path then. */
static int fct_rec_one_quant(const facto_model *model, const fct_dot_form *d, const fct_rec_quant *z, int32_t u,
                             const fct_seen_list *seen, int64_t n_seen, int k, facto_recommendation *out)
{
    const int32_t n = d->n_items, kd = d->k, kp = z->kp;
    const float *pu = d->U + (int64_t)u * d->ldu;
    const float cu = d->c + (d->user_bias ? d->user_bias[u] : 0.0f);
    float mx = 0.0f;
    for (int32_t f = 0; f < kd; f++)
        mx = fabsf(pu[f]) > mx ? fabsf(pu[f]) : mx;
    if (!(mx <= FCT_REC_QMAX && fabsf(cu) <= FCT_REC_QMAX))
        return -1;
    size_t bytes = (size_t)n * (2 * sizeof(float) + 2 * sizeof(int32_t)) + (size_t)kp +
                   (size_t)(k + 1) * sizeof(facto_recommendation) + 64;
    char *mem = malloc(bytes);
    if (!mem)
        return -1;
    float *lo = (float *)mem, *hi = lo + n;
    int32_t *cand = (int32_t *)(hi + n), *dots = cand + n;
    facto_recommendation *heap = (facto_recommendation *)(dots + n);
    uint8_t *w8 = (uint8_t *)(heap + k + 1);
    /* the user, quantized: w = round(u / t), stored as w + 128 */
    const float t = mx / 127.0f;
    double ru2 = 0.0, u2 = 0.0;
    const int fast = fct_kernel_has_avx512() && atomic_load_explicit(&fct_rec_prefilter_mode, memory_order_relaxed) != 3;
    if (t > 0.0f && fast)
        fct_quant_user_avx512(pu, kd, kp, t, w8, &ru2, &u2);
    else
        fct_quant_user_scalar(pu, kd, kp, t, w8, &ru2, &u2);
    const double up = 1.0 + 1e-9, un = sqrt(u2) * up, run = sqrt(ru2) * up;
    const double cu_e = FCT_REC_U22 * fabs((double)cu);
    const float unf = (float)(un * (1.0 + 1e-6)), runf = (float)(run * (1.0 + 1e-6)),
                cuef = (float)(cu_e * (1.0 + 1e-6)), acu = fabsf(cu);
    if (fct_kernel_has_vnni512() && atomic_load_explicit(&fct_rec_prefilter_mode, memory_order_relaxed) != 3)
        fct_dots_u8s8_vnni(w8, z->q, kp, n, dots);
    else
        fct_dots_u8s8_scalar(w8, z->q, kp, n, dots);
    /* round 1: every item, from the int8 products, in float: the sums
     * below round by a few 2^-24 of |cu| + |b_i| + |a| and of the bound,
     * far inside the 2^-19 and 0.1% added (1e-30: below the normal range) */
    const fct_qbounds qb = {dots, z->sumq, z->scale, z->bias, z->A, z->B, z->C, t, cu, unf, runf, cuef, acu};
    if (fast)
        fct_qbounds_avx512(&qb, n, lo, hi);
    else
        fct_qbounds_scalar(&qb, n, lo, hi);
    /* every item but the seen ones (ascending): the runs between them */
    int32_t m = 0, from = 0;
    const int64_t ns = seen && (seen->i32 || seen->i16) ? n_seen : 0;
    for (int64_t x = 0; x <= ns; x++) {
        const int32_t to = x < ns ? fct_seen_at(seen, x) : n;
        if (to < from || to > n)
            continue;
        for (int32_t i = from; i < to; i++)
            cand[m++] = i;
        from = to + 1;
    }
    int ok = 1;
    m = fct_rec_keep(cand, m, lo, hi, k, heap);
    /* round 2: float products of the survivors, when many are left */
    if (ok && m > k + 32) {
        const double gam = fct_rec_gamma(kd);
        for (int32_t x = 0; x < m && ok; x++) {
            const int32_t i = cand[x];
            const double b = d->item_bias ? (double)d->item_bias[i] : 0.0;
            const double base = (double)cu + b + (double)fct_dot(pu, d->V + (int64_t)i * d->ldv, kd);
            const double e = un * z->nv[i] * (2.0 * gam + FCT_REC_U22) + cu_e + FCT_REC_U22 * fabs(b);
            ok = fct_rec_bounds(base, e, &lo[i], &hi[i]);
        }
        if (ok)
            m = fct_rec_keep(cand, m, lo, hi, k, heap);
    }
    int n_out = -1;
    if (ok) {
        fct_topk top;
        fct_topk_init(&top, out, k);
        for (int32_t x = 0; x < m; x++)
            fct_topk_push(&top, cand[x], fct_rec_exact(model, d, u, cand[x]));
        n_out = fct_topk_finish(&top);
    }
    free(mem);
    return n_out;
}

/* Whether one user of this model goes through the int8 prefilter. */
static int fct_rec_use_quant(const fct_dot_form *d)
{
    const int mode = atomic_load_explicit(&fct_rec_prefilter_mode, memory_order_relaxed);
    if (mode == 1 || d->k > 16384 || d->n_items < 1)
        return 0;
    if (mode >= 2)
        return 1;
    /* worth it when V is large and the integer products are fast */
    return d->k >= 64 && (int64_t)d->n_items * d->k >= 65536 && fct_kernel_has_vnni512();
}

/* A thread's buffers for dot-form tiles. */
typedef struct fct_rec_tile {
    float *Ub;                  /* [FCT_REC_TILE_USERS, k] */
    float *S;                   /* [FCT_REC_TILE_USERS, FCT_REC_TILE_ITEMS] products */
    fct_rec_user *ru;           /* [FCT_REC_TILE_USERS] */
    facto_recommendation *heap; /* [FCT_REC_TILE_USERS, k + FCT_REC_MARGIN] */
} fct_rec_tile;

/* Users bu[nb] (model indices) of a dot-form model into out + pos[b] k,
 * n_out[pos[b]]: one sgemm per item tile, each user's scores of the tile
 * scanned while they are in L2. */
static void fct_rec_tile_run(const facto_model *model, const fct_dot_form *d, const fct_rec_bound *bound,
                             fct_rec_tile *tl, const int32_t *bu, const int64_t *pos, int nb, int k,
                             int include_seen, facto_recommendation *out, int *n_out)
{
    const int cap = k + FCT_REC_MARGIN;
    for (int b = 0; b < nb; b++) {
        fct_rec_user *ru = &tl->ru[b];
        memcpy(tl->Ub + (int64_t)b * d->k, d->U + (int64_t)bu[b] * d->ldu, (size_t)d->k * sizeof(float));
        fct_topk_init(&ru->top, tl->heap + (int64_t)b * cap, cap);
        fct_seen_list sl = {NULL, NULL};
        int64_t n_seen = include_seen ? 0 : fct_seen_items(model, bu[b], &sl, NULL);
        fct_seen_walk_init(&ru->seen, &sl, n_seen);
        ru->cu = d->c + (d->user_bias ? d->user_bias[bu[b]] : 0.0f);
    }
    for (int32_t i0 = 0; i0 < d->n_items; i0 += FCT_REC_TILE_ITEMS) {
        const int32_t ni = d->n_items - i0 < FCT_REC_TILE_ITEMS ? d->n_items - i0 : FCT_REC_TILE_ITEMS;
        if (nb == 1) /* one user (the server's call): no packing of V; the kept lists are rescored */
            fct_sgemv_n(ni, d->k, tl->Ub, d->V + (int64_t)i0 * d->ldv, d->ldv, tl->S);
        else
            fct_sgemm_nt(nb, ni, d->k, tl->Ub, d->k, d->V + (int64_t)i0 * d->ldv, d->ldv, tl->S, ni);
        for (int b = 0; b < nb; b++)
            fct_rec_scan(&tl->ru[b], d, tl->S + (int64_t)b * ni, i0, ni);
    }
    for (int b = 0; b < nb; b++) {
        fct_seen_list seen = {NULL, NULL};
        int64_t n_seen = include_seen ? 0 : fct_seen_items(model, bu[b], &seen, NULL);
        int n = fct_topk_finish(&tl->ru[b].top);
        n_out[pos[b]] = fct_rec_finish(model, d, bound, bu[b], &seen, n_seen, tl->ru[b].top.heap, n, k,
                                       out + pos[b] * (int64_t)k);
    }
}

/* Batch top-N of a dot-form model: tiles of users spread over the threads
 * (dynamic), each thread running its own single-threaded sgemm per item
 * tile, so no thread waits for another until the end. Memory per thread
 * O(tile users x (tile items + k + num_factors)). */
static facto_status fct_rec_batch_dot(facto_ctx *ctx, const facto_model *model, const fct_dot_form *d,
                                      const int32_t *idx, int32_t n, int k, int include_seen,
                                      facto_recommendation *out, int *n_out)
{
    if (n == 1 && idx[0] >= 0 && k > 0 && fct_rec_use_quant(d)) {
        const fct_rec_quant *z = fct_rec_quant_get(model, d);
        if (z && z->usable) {
            fct_seen_list seen = {NULL, NULL};
            int64_t n_seen = include_seen ? 0 : fct_seen_items(model, idx[0], &seen, NULL);
            int got = fct_rec_one_quant(model, d, z, idx[0], &seen, n_seen, k, out);
            if (got >= 0) {
                n_out[0] = got;
                return FACTO_OK;
            }
        }
    }
    int n_threads = fct_threads(ctx);
    int32_t n_valid = 0;
    for (int32_t j = 0; j < n; j++) {
        n_out[j] = 0;
        n_valid += idx[j] >= 0;
    }
    /* tiles small enough that every thread gets some */
    int tu = (int)((n_valid + n_threads - 1) / n_threads);
    tu = tu < 1 ? 1 : tu > FCT_REC_TILE_USERS ? FCT_REC_TILE_USERS : tu;
    const int64_t n_tiles = (n_valid + tu - 1) / tu;
    if (n_tiles < n_threads)
        n_threads = (int)(n_tiles > 0 ? n_tiles : 1);
    const int cap = k + FCT_REC_MARGIN;
    int32_t *bu = fct_malloc_array((size_t)(n_valid > 0 ? n_valid : 1), sizeof *bu);
    int64_t *pos = fct_malloc_array((size_t)(n_valid > 0 ? n_valid : 1), sizeof *pos);
    fct_rec_tile *tiles = calloc((size_t)n_threads, sizeof *tiles);
    int ok = bu && pos && tiles;
    for (int t = 0; ok && t < n_threads; t++) {
        tiles[t].Ub = fct_malloc_array((size_t)tu * (size_t)(d->k > 0 ? d->k : 1), sizeof(float));
        tiles[t].S = fct_malloc_array((size_t)tu * FCT_REC_TILE_ITEMS, sizeof(float));
        tiles[t].ru = fct_malloc_array((size_t)tu, sizeof(fct_rec_user));
        tiles[t].heap = fct_malloc_array((size_t)tu * (size_t)cap, sizeof(facto_recommendation));
        ok = tiles[t].Ub && tiles[t].S && tiles[t].ru && tiles[t].heap;
    }
    facto_status st = FACTO_OK;
    if (!ok) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "top-N: out of memory for %d threads' tiles of %d users", n_threads,
                      tu);
    } else {
        n_valid = 0;
        for (int32_t j = 0; j < n; j++)
            if (idx[j] >= 0) {
                bu[n_valid] = idx[j];
                pos[n_valid++] = j;
            }
        fct_rec_bound bound;
        fct_rec_bound_cached(model, d, &bound);
        fct_blas_set_threads(1); /* the threads split the users; each sgemm runs alone */
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (n_threads > 1)
        for (int64_t t = 0; t < n_tiles; t++) {
            const int64_t j0 = t * tu;
            const int nb = (int)(n_valid - j0 < tu ? n_valid - j0 : tu);
            fct_rec_tile_run(model, d, &bound, &tiles[omp_get_thread_num()], bu + j0, pos + j0, nb, k,
                             include_seen, out, n_out);
        }
        fct_blas_set_threads(fct_threads(ctx));
    }
    for (int t = 0; tiles && t < n_threads; t++) {
        free(tiles[t].Ub);
        free(tiles[t].S);
        free(tiles[t].ru);
        free(tiles[t].heap);
    }
    free(tiles);
    free(bu);
    free(pos);
    return st;
}

/* Warn once a call when the model keeps no training items to leave out. */
static void fct_rec_warn_seen(facto_ctx *ctx, const facto_model *model, int include_seen)
{
    int kept = 1;
    fct_seen_list probe;
    if (!include_seen)
        fct_seen_items(model, 0, &probe, &kept);
    if (!kept)
        fct_log(ctx, FACTO_LOG_WARN,
                "this %s model keeps no training items (a file written before facto 0.2): items users had in "
                "training are not left out",
                model->ops->name);
}

/* The batch driver over model indices: idx [n] (-1 = unknown user: n_out 0). */
static facto_status fct_rec_batch(facto_ctx *ctx, const facto_model *model, const int32_t *idx, int32_t n, int k,
                                  int include_seen, facto_recommendation *out, int *n_out)
{
    fct_rec_warn_seen(ctx, model, include_seen);
    fct_dot_form dot;
    if (model->ops->dot_form && model->ops->dot_form(model, &dot))
        return fct_rec_batch_dot(ctx, model, &dot, idx, n, k, include_seen, out, n_out);
    fct_scorer sc;
    facto_status st = fct_scorer_init(ctx, &sc, model);
    if (st != FACTO_OK)
        return st;
    for (int32_t j = 0; j < n && st == FACTO_OK; j++) {
        n_out[j] = 0;
        if (idx[j] < 0)
            continue;
        if ((st = fct_scorer_run(ctx, &sc, &idx[j], 1)) != FACTO_OK)
            break;
        fct_seen_list seen = {NULL, NULL};
        int64_t n_seen = include_seen ? 0 : fct_seen_items(model, idx[j], &seen, NULL);
        n_out[j] = fct_rec_pass(fct_scorer_row(&sc, 0), sc.n_items, &seen, n_seen, k, out + j * (int64_t)k);
    }
    fct_scorer_free(&sc);
    return st;
}

/* Common argument checks; the model's maps into *users / *items. */
static facto_status fct_rec_check(facto_ctx *ctx, const facto_model *model, int k, const facto_recommendation *out,
                                  const facto_idmap **users)
{
    if (!model)
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: a model must be given");
    *users = facto_model_users(model);
    if (!*users || !facto_model_items(model))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "this %s model was trained on feature rows: it has no users and items to recommend",
                        model->ops->name);
    if (k < 0 || (k > 0 && !out))
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: bad arguments (out, k = %d)", k);
    return FACTO_OK;
}

facto_status facto_model_recommend(facto_ctx *ctx, const facto_model *model, const char *user, int k,
                                   int include_seen, facto_recommendation *out, int *n_out)
{
    const facto_idmap *users = NULL;
    facto_status st = fct_rec_check(ctx, model, k, out, &users);
    if (st != FACTO_OK)
        return st;
    if (!user || !n_out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: user and n_out must be given");
    *n_out = 0;
    int32_t u = facto_idmap_find(users, user);
    if (u < 0)
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "user '%s' was not in the training data", user);
    if (k == 0)
        return fct_ok(ctx);
    st = fct_rec_batch(ctx, model, &u, 1, k, include_seen, out, n_out);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

facto_status facto_model_recommend_batch(facto_ctx *ctx, const facto_model *model, const char *const *users,
                                         int32_t n_users, int k, int include_seen, facto_recommendation *out,
                                         int *n_out)
{
    const facto_idmap *map = NULL;
    facto_status st = fct_rec_check(ctx, model, k, out, &map);
    if (st != FACTO_OK)
        return st;
    if (n_users < 0 || (n_users > 0 && (!users || !n_out)))
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: users and n_out must be given for %d users", n_users);
    if (n_users == 0)
        return fct_ok(ctx);
    int32_t *idx = fct_malloc_array((size_t)n_users, sizeof *idx);
    if (!idx)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "recommend: out of memory for %d users", n_users);
    for (int32_t j = 0; j < n_users; j++)
        idx[j] = users[j] ? facto_idmap_find(map, users[j]) : -1;
    if (k > 0)
        st = fct_rec_batch(ctx, model, idx, n_users, k, include_seen, out, n_out);
    else
        memset(n_out, 0, (size_t)n_users * sizeof *n_out);
    free(idx);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

facto_status facto_model_recommend_history(facto_ctx *ctx, const facto_model *model, const char *const *items,
                                           const float *values, int32_t n, int k, facto_recommendation *out,
                                           int *n_out, int32_t *n_unknown)
{
    const facto_idmap *users = NULL;
    facto_status st = fct_rec_check(ctx, model, k, out, &users);
    if (st != FACTO_OK)
        return st;
    if (n < 0 || (n > 0 && !items) || !n_out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "recommend: items and n_out must be given for %d items", n);
    *n_out = 0;
    const facto_idmap *imap = facto_model_items(model);
    const int32_t n_items = facto_idmap_size(imap);
    int32_t *hist = fct_malloc_array((size_t)(n > 0 ? n : 1), sizeof *hist);
    float *vals = fct_malloc_array((size_t)(n > 0 ? n : 1), sizeof *vals);
    float *scores = fct_malloc_array((size_t)(n_items > 0 ? n_items : 1), sizeof *scores);
    if (!hist || !vals || !scores) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "recommend: out of memory for a history of %d items", n);
        goto done;
    }
    /* known items, ascending, a repeated item's values added */
    int32_t m = 0, unknown = 0;
    for (int32_t x = 0; x < n; x++) {
        int32_t i = items[x] ? facto_idmap_find(imap, items[x]) : -1;
        float v = values ? values[x] : 1.0f;
        if (i < 0) {
            unknown++;
            continue;
        }
        int32_t at = m;
        while (at > 0 && hist[at - 1] > i)
            at--;
        if (at > 0 && hist[at - 1] == i) {
            vals[at - 1] += v;
            continue;
        }
        memmove(hist + at + 1, hist + at, (size_t)(m - at) * sizeof *hist);
        memmove(vals + at + 1, vals + at, (size_t)(m - at) * sizeof *vals);
        hist[at] = i;
        vals[at] = v;
        m++;
    }
    if (n_unknown)
        *n_unknown = unknown;
    fct_query q = {-1, m, hist, vals, 0, NULL, NULL};
    if (k == 0 || (st = model->ops->score(ctx, model, &q, NULL, n_items, FCT_SCORE_RAW, scores)) != FACTO_OK)
        goto done;
    fct_topk top;
    fct_topk_init(&top, out, k);
    for (int32_t i = 0, h = 0; i < n_items; i++) {
        while (h < m && hist[h] < i)
            h++;
        if (h < m && hist[h] == i)
            continue;
        fct_topk_offer(&top, i, scores[i]);
    }
    *n_out = fct_topk_finish(&top);
done:
    free(hist);
    free(vals);
    free(scores);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
