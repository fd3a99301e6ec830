/*
 * kernels.h — small dense vector kernels used by the solvers: dot product,
 * axpy and the fused SGD and Adam steps of one (p_u, q_i) pair. Each has a scalar
 * version and an AVX2+FMA version; the public entry points pick one at run
 * time (__builtin_cpu_supports, checked once). Cost O(n) per call, no memory.
 * The two paths sum in a different order, so results agree to rounding only.
 */
#ifndef FACTO_KERNELS_H
#define FACTO_KERNELS_H

#include <stdint.h>

/* Which implementation the dispatching kernels use. */
typedef enum fct_kernel_path {
    FACTO_KERNEL_SCALAR = 0,
    FACTO_KERNEL_AVX2 = 1
} fct_kernel_path;

/* Path chosen for this CPU (AVX2 when it has AVX2 and FMA). */
fct_kernel_path fct_kernel_path_detect(void);
/* Path in use now: the detected one unless overridden (tests, benchmarks). */
fct_kernel_path fct_kernel_path_get(void);
/* Force a path; asking for AVX2 on a CPU without it keeps scalar. Not
 * thread-safe: call before training starts. */
void fct_kernel_path_set(fct_kernel_path path);

/* sum_f a[f] * b[f], a and b [n] (no alignment needed). */
float fct_dot(const float *a, const float *b, int n);
/* y[f] += alpha * x[f], x and y [n]. */
void fct_axpy(float alpha, const float *x, float *y, int n);
/*
 * One SGD step on the factor pair of a rating with error err = r - r^:
 *   p' = p + lr * (err * q - reg * p),   q' = q + lr * (err * p - reg * q)
 * both from the old values (the gradient of 0.5 err^2 + 0.5 reg (|p|^2 + |q|^2)).
 */
void fct_sgd_pair(float *p, float *q, int n, float err, float lr, float reg);

/*
 * One Adam step (Kingma & Ba 2015, Algorithm 1) on the factor pair of a
 * rating with error err, gradients from the old values:
 *   g_p = -err * q + reg * p,  g_q = -err * p + reg * q
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   x -= lr_c1 * m / (sqrt(v * inv_c2) + eps)
 * where lr_c1 = lr / (1 - b1^t) and inv_c2 = 1 / (1 - b2^t). mp, vp (mq, vq)
 * are the moments of p (q), all [n].
 */
void fct_adam_pair(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float err, float reg,
                     float lr_c1, float inv_c2, float b1, float b2, float eps);

/* The two implementations, for tests that check they agree. The AVX2 ones
 * may only be called when fct_kernel_path_detect() == FACTO_KERNEL_AVX2. */
float fct_dot_scalar(const float *a, const float *b, int n);
void fct_axpy_scalar(float alpha, const float *x, float *y, int n);
void fct_sgd_pair_scalar(float *p, float *q, int n, float err, float lr, float reg);
float fct_dot_avx2(const float *a, const float *b, int n);
void fct_axpy_avx2(float alpha, const float *x, float *y, int n);
void fct_sgd_pair_avx2(float *p, float *q, int n, float err, float lr, float reg);
void fct_adam_pair_scalar(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float err,
                            float reg, float lr_c1, float inv_c2, float b1, float b2, float eps);
void fct_adam_pair_avx2(float *p, float *q, float *mp, float *mq, float *vp, float *vq, int n, float err,
                          float reg, float lr_c1, float inv_c2, float b1, float b2, float eps);

#endif /* FACTO_KERNELS_H */
