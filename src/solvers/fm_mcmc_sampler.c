/*
 * fm_mcmc_sampler.c — the MCMC draws besides the parameters themselves
 * (Rendle, "Factorization Machines with libFM", ACM TIST 2012, sec. 4.3,
 * eq. 24-27): the noise precision alpha ~ Gamma from the squared errors, and
 * per prior group lambda ~ Gamma then mu ~ Normal from the group's
 * parameters, O(n) and O(n_slots) per draw; for the probit classifier the
 * latent targets z ~ N(y^, 1) truncated to the label's sign (rejection, or
 * Robert's exponential proposal far in the tail), and the probit link
 * written as a logistic one so stored samples score through a sigmoid.
 */
#include "fm_cd_engine.h"

#include <math.h>

/* Hyperprior constants of libFM's TIST 2012 paper (sec. 4.3): alpha_0 =
 * beta_0 = alpha_lambda = beta_lambda = gamma_0 = 1, mu_0 = 0. */
#define FACTO_FM_HYPER_A0 1.0
#define FACTO_FM_HYPER_B0 1.0
#define FACTO_FM_HYPER_G0 1.0

/* Sample z ~ N(mean, 1) truncated to z > 0 (positive) or z < 0. Rejection
 * from the normal when the bound is near the mean, else Robert's (1995)
 * exponential proposal. */
static double fct_fm_trunc_normal(fct_rng *rng, double mean, int positive)
{
    double a = positive ? -mean : mean; /* t = +-(z - mean) must exceed a */
    double t;
    if (a < 0.5) {
        do {
            t = fct_rng_normal(rng);
        } while (t <= a);
    } else {
        double lam = 0.5 * (a + sqrt(a * a + 4.0));
        for (;;) {
            double u;
            do {
                u = fct_rng_uniform(rng);
            } while (u <= 0.0);
            t = a - log(u) / lam;
            double r = exp(-0.5 * (t - lam) * (t - lam));
            if (fct_rng_uniform(rng) <= r)
                break;
        }
    }
    return positive ? mean + t : mean - t;
}

/* The classifier's targets before an iteration's sweeps, with e = y^ - z
 * kept: MCMC draws the probit latent z_n ~ N(y^_n, 1) truncated to the
 * label's side of 0 (Albert & Chib, JASA 1993); ALS regresses on +-1.
 * Regression: nothing. O(n). */
void fct_fm_update_targets(fct_fm_engine *eng)
{
    if (eng->classify && eng->mode == FACTO_FM_CD_MCMC) {
        for (int64_t n = 0; n < eng->n; n++) {
            double yhat = eng->eq[n].e + eng->z[n];
            eng->z[n] = (float)fct_fm_trunc_normal(&eng->rng, yhat, eng->labels[n] > 0.0f);
            eng->eq[n].e = yhat - eng->z[n];
        }
    } else if (eng->classify) {
        /* ALS classifier: least squares on +-1 targets. */
        for (int64_t n = 0; n < eng->n; n++) {
            double yhat = eng->eq[n].e + eng->z[n];
            eng->z[n] = eng->labels[n] > 0.0f ? 1.0f : -1.0f;
            eng->eq[n].e = yhat - eng->z[n];
        }
    }
}

void fct_fm_draw_alpha(fct_fm_engine *eng)
{
    if (eng->mode == FACTO_FM_CD_ALS || eng->classify) {
        eng->alpha = 1.0;
        return;
    }
    double sse = 0.0;
    for (int64_t n = 0; n < eng->n; n++)
        sse += eng->eq[n].e * eng->eq[n].e;
    double shape = 0.5 * (FACTO_FM_HYPER_A0 + (double)eng->n);
    double rate = 0.5 * (FACTO_FM_HYPER_B0 + sse);
    eng->alpha = fct_rng_gamma(&eng->rng, shape) / rate;
}

/* lambda then mu of each group for the parameters theta[s * stride] (libFM's
 * order), over the slots seen in training. */
void fct_fm_draw_hyper(fct_fm_engine *eng, const double *theta, double *mu, double *lambda,
                         int64_t gstride)
{
    const int32_t G = eng->n_groups;
    double sum[256], sq[256];
    for (int32_t g = 0; g < G; g++)
        sum[g] = sq[g] = 0.0;
    for (int i = 0; i < eng->n_src; i++) {
        const fct_fm_src *s = &eng->src[i];
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            int32_t g = eng->group[sl];
            double d = theta[sl] - mu[g * gstride];
            sq[g] += d * d;
        }
    }
    for (int32_t g = 0; g < G; g++) {
        if (!eng->group_size[g])
            continue; /* no feature uses it: no draw (so the stream does not depend on empty groups) */
        double p = (double)eng->group_size[g];
        double m = mu[g * gstride];
        double shape = 0.5 * (FACTO_FM_HYPER_A0 + p + 1.0);
        double rate = 0.5 * (FACTO_FM_HYPER_B0 + FACTO_FM_HYPER_G0 * m * m + sq[g]);
        lambda[g * gstride] = fct_rng_gamma(&eng->rng, shape) / rate;
    }
    for (int i = 0; i < eng->n_src; i++) {
        const fct_fm_src *s = &eng->src[i];
        for (int64_t c = 0; c < s->n_cols; c++) {
            uint32_t sl = s->col_slot[c];
            sum[eng->group[sl]] += theta[sl];
        }
    }
    for (int32_t g = 0; g < G; g++) {
        if (!eng->group_size[g])
            continue;
        double p = (double)eng->group_size[g];
        double prec = (p + FACTO_FM_HYPER_G0) * lambda[g * gstride];
        double mean = sum[g] / (p + FACTO_FM_HYPER_G0);
        mu[g * gstride] = mean + fct_rng_normal(&eng->rng) / sqrt(prec);
    }
}

double fct_fm_probit(double t)
{
    return 1.0 / (1.0 + exp(-FACTO_FM_PROBIT_SCALE * t));
}
