/*
 * update.h — the update formula of one parameter for each first-order
 * optimizer, written once and inlined everywhere a step is taken: the
 * optimizer module (src/solvers/optim.c) on single parameters and rows, the
 * scalar kernels and the scalar tails of the AVX2 kernels (step_kernels.c,
 * fm_kernels.c). The AVX2 kernels restate the same operations in the same
 * order with intrinsics. g is the gradient of the loss alone (before weight
 * decay); wd adds the L2 term wd * x to it (FTRL: wd is lambda_2 in the
 * denominator). All in float, O(1) per call, no memory.
 * Keep the expression shapes: with gcc (no FP contraction in ISO C mode)
 * the scalar and vector kernels then give the same bits, and a compiler that
 * fuses a * b + c does so identically on every path that inlines these.
 */
#ifndef FACTO_KERNELS_UPDATE_H
#define FACTO_KERNELS_UPDATE_H

#include <math.h>

/* g clipped to [-c, c] (MXNet's clip_gradient; NaN passes through). */
static inline float fct_clipf(float g, float c) { return g > c ? c : (g < -c ? -c : g); }

/* SGD: x - lr (g + wd x). */
static inline float fct_sgd_elem(float x, float g, float lr, float wd) { return x - lr * (g + wd * x); }

/* Heavy-ball momentum (Polyak 1964): u = beta u - lr (g + wd x); x += u.
 * u is the velocity. */
static inline void fct_momentum_elem(float *x, float *u, float g, float lr, float wd, float beta)
{
    *u = beta * *u - lr * (g + wd * *x);
    *x = *x + *u;
}

/* AdaGrad (Duchi, Hazan & Singer, JMLR 2011): h += g'^2;
 * x -= lr g' / (sqrt(h) + eps), g' = g + wd x. */
static inline void fct_adagrad_elem(float *x, float *h, float g, float lr, float wd, float eps)
{
    const float gi = g + wd * *x;
    *h += gi * gi;
    *x -= lr * gi / (sqrtf(*h) + eps);
}

/*
 * Adam (Kingma & Ba, ICLR 2015, Algorithm 1) with g' = g + wd x:
 *   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2
 *   x -= a m / (sqrt(v c) + eps)
 * where the caller's a and c carry the bias correction of step t: a =
 * lr / (1 - b1^t), c = 1 / (1 - b2^t) for Algorithm 1 as printed, or a =
 * lr sqrt(1 - b2^t) / (1 - b1^t), c = 1 for the paper's reordering
 * (section 2, last paragraph; MXNet's). v * 1 is exact, so c = 1 changes
 * nothing.
 */
static inline void fct_adam_elem(float *x, float *m, float *v, float g, float wd, float b1, float b2, float a,
                                 float c, float eps)
{
    const float gi = g + wd * *x;
    *m = b1 * *m + (1.0f - b1) * gi;
    *v = b2 * *v + (1.0f - b2) * gi * gi;
    *x -= a * *m / (sqrtf(*v * c) + eps);
}

/*
 * FTRL-Proximal (McMahan et al., KDD 2013, Algorithm 1), per coordinate with
 * alpha = lr, lambda_2 = wd and the paper's beta and lambda_1 (l1):
 *   sigma = (sqrt(n + g^2) - sqrt(n)) / alpha;  z += g - sigma x;  n += g^2
 *   x = 0 when |z| <= lambda_1, else
 *   x = -(z - sgn(z) lambda_1) / ((beta + sqrt(n)) / alpha + lambda_2)
 * lr must be > 0. With l1 = 0 the second line is x = -z / (...), as MXNet.
 */
static inline void fct_ftrl_elem(float *x, float *z, float *n, float g, float lr, float wd, float beta, float l1)
{
    const float nn = *n + g * g;
    *z += g - (sqrtf(nn) - sqrtf(*n)) * *x / lr;
    *n = nn;
    if (l1 > 0.0f)
        *x = fabsf(*z) <= l1 ? 0.0f : -(*z - copysignf(l1, *z)) / ((beta + sqrtf(nn)) / lr + wd);
    else
        *x = -*z / ((beta + sqrtf(nn)) / lr + wd);
}

#endif /* FACTO_KERNELS_UPDATE_H */
