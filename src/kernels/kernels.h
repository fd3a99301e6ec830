/*
 * kernels.h — every dense vector kernel of the solvers, behind one table of
 * function pointers (fct_kern) that is filled once, at start-up, with the
 * scalar or the AVX2+FMA implementation of each. A call is one load of the
 * pointer and an indirect call: no CPU check and no atomic per call.
 *
 * Contents: dot and axpy (MF scoring); the fused steps of MF's (p_u, q_i)
 * pair (SGD, Adam); Adam's and AdaGrad's step on a vector (FM's rows); the
 * forward pass and the fused SGD step of one FM row (FM's mini_batch_size 1
 * path); the sparse row pass and the Gram product of the implicit
 * least-squares solvers (iALS's CG). Optimizer steps are called by the optimizer module
 * (src/solvers/optim.h) only. The dense Gram kernel of the MCMC summary is
 * BLAS (gram.h).
 *
 * Design: every kernel has a scalar version, always built and tested, and an
 * AVX2 one compiled with __attribute__((target)) so the library still runs
 * on CPUs without AVX2 (on other architectures the AVX2 names are the scalar
 * code). The table starts out scalar (static initialiser) and a constructor
 * upgrades it when the CPU has AVX2 and FMA; fct_kernel_path_set refills it
 * (tests, benchmarks). dot, axpy and the MF pair steps round differently
 * from their scalar twins (FMA, another summation order) and agree to
 * rounding only; the others give the same bits when built with gcc (see
 * update.h).
 * Cost O(n) per call (FM rows: O(k * nnz)), no memory.
 */
#ifndef FACTO_KERNELS_H
#define FACTO_KERNELS_H

#include <stdint.h>

/* Which implementation the table holds. */
typedef enum fct_kernel_path {
    FACTO_KERNEL_SCALAR = 0,
    FACTO_KERNEL_AVX2 = 1
} fct_kernel_path;

/* Path chosen for this CPU (AVX2 when it has AVX2 and FMA). */
fct_kernel_path fct_kernel_path_detect(void);
/* Path the table holds now: the detected one unless overridden. */
fct_kernel_path fct_kernel_path_get(void);
/* Refill the table with `path`'s kernels; asking for AVX2 on a CPU without
 * it gives scalar. Not thread-safe: call before training starts. */
void fct_kernel_path_set(fct_kernel_path path);

/*
 * The kernel table. Shapes: vectors [n] (no alignment needed); FM rows as
 * in models/fm.h: slots[n] and values x[n] of one row, w [n_slots],
 * V [n_slots, k] row-major, sum and sq [k] scratch.
 */
typedef struct fct_kernels {
    fct_kernel_path path;
    /* sum_f a[f] b[f] */
    float (*dot)(const float *a, const float *b, int n);
    /* y[f] += alpha x[f] */
    void (*axpy)(float alpha, const float *x, float *y, int n);
    /*
     * One SGD step on the factor pair of a rating whose loss has derivative
     * d with respect to the score (squared loss: d = r^ - r), gradients
     * from the old values (of loss + reg/2 (|p|^2 + |q|^2)):
     *   p' = (1 - lr reg) p - (lr d) q,   q' = (1 - lr reg) q - (lr d) p
     */
    void (*sgd_pair)(float *p, float *q, int n, float d, float lr, float reg);
    /*
     * One Adam step (update.h's fct_adam_elem) on the same pair, gradients
     * g_p = d q + reg p, g_q = d p + reg q from the old values; mp, vp
     * (mq, vq) are the moments of p (q), all [n]. a, c: bias correction.
     */
    void (*adam_pair)(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float d, float reg,
                      float a, float c, float b1, float b2, float eps);
    /* fct_adam_elem on x[i], m[i], v[i] with gradient g[i], i < n. */
    void (*adam)(float *x, float *m, float *v, const float *g, int32_t n, float wd, float b1, float b2, float a,
                 float c, float eps);
    /* fct_adagrad_elem on x[i], h[i] with gradient g[i], i < n. */
    void (*adagrad)(float *x, float *h, const float *g, int32_t n, float wd, float lr, float eps);
    /*
     * FM forward pass of one training row (Rendle 2010, eq. 5): sum[f] =
     * sum_j v_{s_j f} x_j, sq[f] = sum_j (v_{s_j f} x_j)^2, and returns
     * y^ = lin + 0.5 * inter with lin = w0 + sum_j w_{s_j} x_j (float, in j
     * order) and inter = sum_f (sum[f]^2 - sq[f]) over 8 float lanes.
     * Every slot must be valid (no FACTO_FM_NO_SLOT).
     */
    double (*fm_score)(float w0, const float *w, const float *V, int32_t k, const uint32_t *slots, const float *x,
                       int64_t n, float *sum, float *sq);
    /*
     * FM fused SGD step on one row (keys distinct) whose rescaled loss
     * derivative is g, with sum from fm_score (before the update): for
     * each entry, gradient g x for w_s and g x (sum[f] - v_sf x) for v_sf
     * (Rendle 2010, eq. 7), each element clipped to [-clip, clip]
     * (fm_sgd_clip only), then fct_sgd_elem with (lr_w, wd_w) or (lr_v, wd_v).
     */
    void (*fm_sgd)(float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                   const float *sum, float g, float lr_w, float wd_w, float lr_v, float wd_v, float clip);
    void (*fm_sgd_clip)(float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                        const float *sum, float g, float lr_w, float wd_w, float lr_v, float wd_v, float clip);
    /*
     * Implicit least squares (ials_kernels.c): y[f] += sum_j (a_j + s w_j
     * <x_j, d>) x_j[f], f < k, over the n rows x_j = X + idx[j] ldx (idx
     * NULL: X + j ldx); a NULL means a_j = 0. y must not alias d or a row.
     */
    void (*rows_apply)(const float *X, int64_t ldx, const int32_t *idx, int64_t n, const float *a, const float *w,
                       float s, const float *d, int k, float *y);
    /* y = alpha G d + beta d for a symmetric G [k, k] row-major; y must not alias d. */
    void (*symv)(const float *G, int k, float alpha, float beta, const float *d, float *y);
    /*
     * Batch top-N's threshold scan (topn_kernels.c): the first i < n whose
     * score s = (c + bias[i]) + row[i] (bias NULL: c + row[i]) is > t, s in
     * *val; n when none. Same bits on every path (AVX-512 when the CPU has
     * it, with the AVX2 table); NaN and -inf never pass.
     */
    int32_t (*scan_above)(const float *row, const float *bias, float c, int32_t n, float t, float *val);
    /*
     * Blocked MF SGD (mf_sgd_kernels.c): one fused step on padded rows p =
     * [p_u (k) | b_u], q = [q_i (k) | b_i] for rating r with weight w (1 =
     * unweighted): returns d = (mu + b_u + b_i + <p_u, q_i>) - r before the
     * update, then steps both biases and both factor vectors with gradient
     * w d (weight decay reg_b, reg_f; gradients from the old values). The
     * widest of scalar, AVX2+FMA and AVX-512F the CPU has; same result to
     * rounding on every path.
     */
    float (*mf_sgd_row)(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f, float reg_b);
    /*
     * The same step with a per-row adaptive rate (mf_sgd_kernels.c,
     * mf_adagrad_row; Chin et al., PAKDD 2015): rows are [x (k) | b | G],
     * each row steps at lr / sqrt(G) from its G before the update (G > 0),
     * then G grows by the mean over the k + 1 entries of the row's squared
     * gradient (weight decay included). Same paths and tolerance as above.
     */
    float (*mf_adagrad_row)(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                            float reg_b);
} fct_kernels;

/* The table in use (read-only outside kernels.c). */
extern fct_kernels fct_kern;

static inline float fct_dot(const float *a, const float *b, int n) { return fct_kern.dot(a, b, n); }
static inline void fct_axpy(float alpha, const float *x, float *y, int n) { fct_kern.axpy(alpha, x, y, n); }

/* Both implementations of each kernel, for the table and for tests that
 * check they agree. The AVX2 ones may only be called when
 * fct_kernel_path_detect() == FACTO_KERNEL_AVX2. */
float fct_dot_scalar(const float *a, const float *b, int n);
float fct_dot_avx2(const float *a, const float *b, int n);
void fct_axpy_scalar(float alpha, const float *x, float *y, int n);
void fct_axpy_avx2(float alpha, const float *x, float *y, int n);
void fct_sgd_pair_scalar(float *p, float *q, int n, float d, float lr, float reg);
void fct_sgd_pair_avx2(float *p, float *q, int n, float d, float lr, float reg);
void fct_adam_pair_scalar(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float d,
                          float reg, float a, float c, float b1, float b2, float eps);
void fct_adam_pair_avx2(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float d, float reg,
                        float a, float c, float b1, float b2, float eps);
void fct_adam_scalar(float *x, float *m, float *v, const float *g, int32_t n, float wd, float b1, float b2,
                     float a, float c, float eps);
void fct_adam_avx2(float *x, float *m, float *v, const float *g, int32_t n, float wd, float b1, float b2, float a,
                   float c, float eps);
void fct_adagrad_scalar(float *x, float *h, const float *g, int32_t n, float wd, float lr, float eps);
void fct_adagrad_avx2(float *x, float *h, const float *g, int32_t n, float wd, float lr, float eps);
double fct_fm_score_scalar(float w0, const float *w, const float *V, int32_t k, const uint32_t *slots,
                           const float *x, int64_t n, float *sum, float *sq);
double fct_fm_score_avx2(float w0, const float *w, const float *V, int32_t k, const uint32_t *slots, const float *x,
                         int64_t n, float *sum, float *sq);
void fct_fm_sgd_scalar(float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                       const float *sum, float g, float lr_w, float wd_w, float lr_v, float wd_v, float clip);
void fct_fm_sgd_avx2(float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                     const float *sum, float g, float lr_w, float wd_w, float lr_v, float wd_v, float clip);
void fct_fm_sgd_clip_scalar(float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                            const float *sum, float g, float lr_w, float wd_w, float lr_v, float wd_v, float clip);
void fct_fm_sgd_clip_avx2(float *w, float *V, int32_t k, const uint32_t *slots, const float *x, int64_t n,
                          const float *sum, float g, float lr_w, float wd_w, float lr_v, float wd_v, float clip);

void fct_rows_apply_scalar(const float *X, int64_t ldx, const int32_t *idx, int64_t n, const float *a,
                           const float *w, float s, const float *d, int k, float *y);
void fct_rows_apply_avx2(const float *X, int64_t ldx, const int32_t *idx, int64_t n, const float *a,
                         const float *w, float s, const float *d, int k, float *y);
void fct_symv_scalar(const float *G, int k, float alpha, float beta, const float *d, float *y);
void fct_symv_avx2(const float *G, int k, float alpha, float beta, const float *d, float *y);
int32_t fct_scan_above_scalar(const float *row, const float *bias, float c, int32_t n, float t, float *val);
int32_t fct_scan_above_avx2(const float *row, const float *bias, float c, int32_t n, float t, float *val);
/* Only when the CPU has AVX-512F (fct_kernel_has_avx512). */
int32_t fct_scan_above_avx512(const float *row, const float *bias, float c, int32_t n, float t, float *val);
float fct_mf_sgd_row_scalar(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                            float reg_b);
float fct_mf_sgd_row_avx2(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f, float reg_b);
/* Only when the CPU has AVX-512F. */
float fct_mf_sgd_row_avx512(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                            float reg_b);
float fct_mf_adagrad_row_scalar(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                                float reg_b);
float fct_mf_adagrad_row_avx2(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                              float reg_b);
/* Only when the CPU has AVX-512F. */
float fct_mf_adagrad_row_avx512(float *p, float *q, int k, float mu, float r, float w, float lr, float reg_f,
                                float reg_b);
/* 1 when the CPU has AVX-512F. */
int fct_kernel_has_avx512(void);
/* out[i] = sum_f u[f] Q[i kp + f] (f < kp, kp a multiple of 64, < 2^16):
 * integer dot products of one uint8 vector with n int8 rows, the same
 * values on every path (topn_kernels.c; one-user top-N's prefilter). The
 * VNNI one only when fct_kernel_has_vnni512() (AVX-512F, BW and VNNI). */
void fct_dots_u8s8_scalar(const uint8_t *u, const int8_t *Q, int32_t kp, int32_t n, int32_t *out);
void fct_dots_u8s8_vnni(const uint8_t *u, const int8_t *Q, int32_t kp, int32_t n, int32_t *out);
int fct_kernel_has_vnni512(void);

/* The int8 prefilter's first bounds (one-user top-N, recommend.c), item i
 * < n: a = (ts scale[i]) (float)(dots[i] - 128 sumq[i]),
 * base = (cu + bias[i]) + a, e = ((unf A[i] + runf B[i]) + cuef) + C[i],
 * E = (e 1.001 + 2^-19 ((acu + |bias[i]|) + |a|)) + 1e-30,
 * lo[i] = base - E, hi[i] = base + E. The AVX-512 one (only when
 * fct_kernel_has_avx512()) 16 items at a time; a compiler may fuse a
 * multiply and an add there (one rounding fewer), far inside the 0.1% and
 * 2^-19 the bounds carry, so either path keeps every item of the top k. */
typedef struct fct_qbounds {
    const int32_t *dots, *sumq;
    const float *scale, *bias, *A, *B, *C;
    float ts, cu, unf, runf, cuef, acu;
} fct_qbounds;
void fct_qbounds_scalar(const fct_qbounds *q, int32_t n, float *lo, float *hi);
/* The prefilter's user vector u [k] (max |u_f| = 127 t, t > 0) as
 * w8[f] = round(u_f / t) + 128 (rounded to nearest even, clamped to
 * +-127; 128 for f in k .. kp - 1), with *ru2 = sum (u_f - t w_f)^2 and
 * *u2 = sum u_f^2 in double. The AVX-512 one (only when
 * fct_kernel_has_avx512()) sums in another order: the sums differ by a
 * few 2^-53 relative, which the 1e-9 the bounds add covers. */
void fct_quant_user_scalar(const float *u, int32_t k, int32_t kp, float t, uint8_t *w8, double *ru2, double *u2);
void fct_quant_user_avx512(const float *u, int32_t k, int32_t kp, float t, uint8_t *w8, double *ru2, double *u2);
void fct_qbounds_avx512(const fct_qbounds *q, int32_t n, float *lo, float *hi);

#endif /* FACTO_KERNELS_H */
