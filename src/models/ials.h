/*
 * ials.h — the hyperparameters of iALS (ials.c), shared with its training
 * driver (src/train/fit_ials.c). The model itself is the shared implicit
 * factor model (factors.h); the objective is written out in fit_ials.c.
 */
#ifndef FACTO_MODELS_IALS_H
#define FACTO_MODELS_IALS_H

#include "factors.h"

typedef struct fct_ials_params {
    int32_t num_factors;     /* k */
    int32_t epochs;          /* alternating iterations (items, then users) */
    float reg;               /* lambda */
    float reg_exponent;      /* nu: L2 weight lambda (n_obs + unobserved_weight n_other)^nu */
    float alpha;             /* confidence 1 + alpha * weight of an observed pair */
    float unobserved_weight; /* alpha_0: weight of an unobserved pair's squared score */
    int32_t cg_steps;        /* conjugate gradient steps per row; 0 = exact Cholesky solve */
    float init_std;          /* factors start as N(0, init_std^2 / k) */
    uint64_t seed;
} fct_ials_params;

extern const fct_ptable fct_ials_ptable;

#endif /* FACTO_MODELS_IALS_H */
